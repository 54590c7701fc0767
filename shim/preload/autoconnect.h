/* connect() under the connect policy, with the strategy that applies the
 * chosen port (README.md, "Strategies"):
 *   range     per attempt IP_LOCAL_PORT_RANGE = [p, p], then the real
 *             connect(); the kernel shares the port among 4-tuples and a
 *             clash leaves the socket unbound (kernels >= 6.3); the
 *             application's own range is put back afterwards;
 *   reuse     SO_REUSEADDR + bind(p) + connect(); a clash fails the
 *             connect (EADDRNOTAVAIL), the socket being bound;
 *   exclusive bind(p) + connect(): one connection per port;
 *   auto      range where the kernel honours it (found out on the first
 *             connect), else reuse.
 * UDP never shares a port (two UDP sockets with SO_REUSEADDR can share a
 * 4-tuple): range where the kernel has it, else an exclusive bind. */
#ifndef PORTSHIM_AUTOCONNECT_H
#define PORTSHIM_AUTOCONNECT_H

#include "autobind.h"

/* Returns what connect() returns, with errno as the kernel set it, and
 * completes the decision d. */
int autoconnect(struct runtime *rt, struct plan *plan, const struct sock *s,
		const struct sockaddr *addr, socklen_t len, struct decision *d);

#endif
