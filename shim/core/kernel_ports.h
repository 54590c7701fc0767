/* The running network namespace's port settings, read from /proc/sys. */
#ifndef PORTSHIM_KERNEL_PORTS_H
#define PORTSHIM_KERNEL_PORTS_H

#include "portmap.h"

/* The kernel's built-in default, used when /proc cannot be read. */
#define KERNEL_DEFAULT_RANGE_LO 32768u
#define KERNEL_DEFAULT_RANGE_HI 60999u

/* ip_local_port_range; 0 on success, -1 (and the defaults) otherwise. */
int kernel_port_range(unsigned *lo, unsigned *hi);
/* ip_local_reserved_ports added to `set`; 0 on success, -1 otherwise. */
int kernel_reserved_ports(struct portset *set);
/* tcp_fastopen (bit 1: the client side), or -1. */
int kernel_fastopen(void);

#endif
