/* The one guard in front of connect() and the sends: is this call to a
 * destination one the shim decides (or observes), and with which plan? */
#ifndef PORTSHIM_GUARD_H
#define PORTSHIM_GUARD_H

#include <stdbool.h>
#include <sys/socket.h>

#include "core/runtime.h"
#include "sock.h"

struct guarded_call {
	struct sock s;
	const struct sockaddr *dst; /* the shim's copy of the address, once read */
	struct plan *plan;
};

/* True when the call is the shim's: an unbound inet socket of a kind it
 * handles (TCP only with `stream`: a connect, or a send with
 * MSG_FASTOPEN), a readable inet address that fits the socket, a plan
 * that acts or a log that records.  False: the call goes straight through,
 * with t->dst when set (the same bytes the shim read), else the
 * application's own address - which the kernel may refuse (EFAULT).
 * `socket_first`: look at the socket before the address, for the sends,
 * most of which are on sockets with a port already; a connect looks at the
 * address first, so that AF_UNIX and friends cost nothing.  errno is left
 * as it was. */
bool guard_call(struct runtime *rt, int fd, const struct sockaddr *addr, socklen_t len,
	       bool stream, bool socket_first, struct sockaddr_storage *copy, struct guarded_call *t);

#endif
