/* Connects the kernel refuses before it needs a port.  TCP's connect()
 * (and a send with MSG_FASTOPEN) looks the route up before it binds, so a
 * socket it refuses stays unbound; a port the shim bound first would
 * outlive the failure.  Strategy range never binds first; reuse and
 * exclusive ask here, and pass such a call straight to the kernel.  (UDP
 * autobinds before it looks, with or without the shim.) */
#ifndef PORTSHIM_EARLY_H
#define PORTSHIM_EARLY_H

#include <stdbool.h>

#include "autobind.h"

/* Without a system call: a v4-mapped address on an IPV6_V6ONLY socket, a
 * link-local IPv6 address without a scope id on a socket bound to no
 * device.  With one, once per destination: no route (a probe's connect()
 * fails).  True when the kernel would refuse the call; a TCP socket only. */
bool early_refusal(struct runtime *rt, const struct sock *s, const struct sockaddr *addr,
		   socklen_t len);

#endif
