/* Trying a plan's ports on a socket, one after another, until one is the
 * socket's: the loop that connect (every strategy), bind(0) and a first
 * send share.  What trying one port means is the caller's (a bind, a
 * range and a connect, ...); the order, and what a refusal teaches the
 * bitmap, are the candidate order's (core/candidates.h). */
#ifndef PORTSHIM_PICK_H
#define PORTSHIM_PICK_H

#include <stdbool.h>

#include "core/candidates.h"
#include "core/decision.h"
#include "sock.h"

/* What trying one port did. */
enum tried {
	TRIED_TAKEN,   /* the socket has the port (whatever else happened) */
	TRIED_REFUSED, /* the port is taken: remember it, try the next */
	TRIED_CLASHED, /* its 4-tuple towards this destination is taken: try the next */
	TRIED_FAILED,  /* something unrelated to the port failed: stop */
};

/* Tries `port`; on TRIED_FAILED sets *error. */
typedef enum tried (*try_port)(void *ctx, unsigned port, int *error);

enum pick_result {
	PICK_TAKEN,     /* the socket has pick->port */
	PICK_EXHAUSTED, /* no port of the plan could be had */
	PICK_GAVE_UP,   /* a try failed for another reason: pick->error */
};

struct pick {
	unsigned port;
	unsigned attempts; /* ports tried */
	int error;
};

enum pick_result pick_port(struct runtime *rt, struct plan *plan, struct portwindow win,
			   const struct flow *flow, try_port try, void *ctx, struct pick *pick);

/* No port of the plan was free.  With on-exhaust=fail, d records the
 * failure and errno is what the kernel gives when it has no port itself
 * (EADDRINUSE for an explicit bind(), EAGAIN for UDP, EADDRNOTAVAIL for a
 * TCP connect): true, and the call returns -1.  Else false: the kernel
 * chooses. */
bool pick_exhausted_fails(const struct runtime *rt, const struct sock *s, bool explicit_bind,
			  struct decision *d);

#endif
