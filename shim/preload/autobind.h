/* Binding a socket exclusively to a port of a plan, before the kernel would
 * pick one itself: bind(0), a first UDP send, strategy exclusive. */
#ifndef PORTSHIM_AUTOBIND_H
#define PORTSHIM_AUTOBIND_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

#include "core/runtime.h"
#include "decide.h"
#include "sock.h"

enum pick_result {
	PICK_BOUND,     /* the socket is bound to pick->port */
	PICK_EXHAUSTED, /* no port of the plan could be had */
	PICK_GAVE_UP,   /* bind failed for another reason: pick->error */
};

struct pick {
	unsigned port;
	unsigned attempts; /* ports tried */
	int error;
};

/* Binds s exclusively to a port of `plan` at address `addr` (whose port is
 * ignored), trying candidates in the plan's order; a port the kernel says is
 * busy is skipped and remembered.  Records the port against the fd. */
enum pick_result autobind_exclusive(struct runtime *rt, struct plan *plan, const struct sock *s,
				    const struct sockaddr *addr, socklen_t len,
				    const struct flow *flow, struct pick *pick);

/* The errno the kernel gives when it cannot find a port itself. */
int autobind_exhausted_errno(const struct sock *s, bool explicit_bind);

/* Gives back the port recorded for fd, if any (fd is being closed). */
void autobind_forget(struct runtime *rt, int fd);

#endif
