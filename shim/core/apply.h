/* Applying a port of a plan to a socket, written once for every front end:
 * the strategy a connect takes, the loop over the plan's candidates, what
 * each attempt teaches the bitmap, the outcome, and the errno of a plan
 * with no port left.  The front ends decode the call, hand the socket's
 * operations in (the library: the real libc functions on the program's
 * descriptor; the supervisor: system calls on its duplicate of it), and
 * turn the outcome into the call's answer.
 *
 * The strategies (README.md, "Strategies"; portshim(7), STRATEGIES):
 *   range     per attempt IP_LOCAL_PORT_RANGE = [p, p], then the connect;
 *             the kernel shares the port among 4-tuples and a clash leaves
 *             the socket unbound (kernels >= 6.3);
 *   reuse     SO_REUSEADDR + bind(p) + connect; a port in use is shared
 *             unless a live socket holds the 4-tuple (early.h);
 *   exclusive bind(p) + connect: one connection per port;
 *   auto      range where the kernel honours it, else reuse.
 * UDP never shares a port: range where the kernel has it, else exclusive. */
#ifndef PORTSHIM_APPLY_H
#define PORTSHIM_APPLY_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

#include "decision.h"
#include "early.h"
#include "runtime.h"

/* What a front end does to the socket: 0, or -1 with errno, as the
 * system calls.  ctx is the front end's. */
struct apply_ops {
	int (*set_range)(void *ctx, uint32_t range);
	int (*set_reuseaddr)(void *ctx, int on);
	int (*bind)(void *ctx, const struct sockaddr *addr, socklen_t len);
	/* The connect itself (the supervisor's never waits). */
	int (*connect)(void *ctx, const struct sockaddr *dst, socklen_t len);
	/* The socket's local port now, 0 if none. */
	unsigned (*local_port)(void *ctx);
	/* The program's own SO_REUSEADDR (asked by strategy reuse only). */
	int (*app_reuseaddr)(void *ctx);
	/* The socket got `port` through `strategy`: what the front end keeps
	 * of it (the library: its descriptor table; the supervisor: the
	 * program's SO_REUSEADDR). */
	void (*taken)(void *ctx, enum strategy strategy, unsigned port);
	/* The early checks' calls, on `fd` below. */
	const struct early_calls *early;
	/* The front end answers the program's getsockopt(IP_LOCAL_PORT_RANGE):
	 * a connected socket may keep [p, p] where the program set no range. */
	bool answers_range;
};

/* The socket, as the front end knows it. */
struct apply_socket {
	int fd;                               /* for the early checks */
	int type;                             /* SOCK_STREAM or SOCK_DGRAM */
	const struct sockaddr_storage *local; /* its address (a wildcard, or the
					       * IP_BIND_ADDRESS_NO_PORT one) */
	socklen_t local_len;
	bool has_range_option;                /* the kernel has IP_LOCAL_PORT_RANGE */
	uint32_t app_range;                   /* the program's own range, or 0 */
};

enum apply_outcome {
	APPLY_DONE,   /* the connect ran on a port of ours (or, for a bind, the
		       * socket has one): d->error is its errno, 0 when it worked */
	APPLY_FAILED, /* the call fails with d->error, nothing ran */
	APPLY_KERNEL, /* the kernel chooses: run the call unchanged; d->result
		       * says PASSTHROUGH or FALLBACK */
};

/* A connect of s to dst under plan (which has ports: npasses > 0).
 * Completes d's strategy, port, attempts, result and error. */
enum apply_outcome apply_connect(struct runtime *rt, struct plan *plan,
				 const struct apply_ops *ops, void *ctx,
				 const struct apply_socket *s, const struct sockaddr *dst,
				 socklen_t len, struct decision *d);

/* An exclusive bind of s to a port of plan at addr (its port ignored):
 * bind(0), a first send, strategy exclusive.  `flow` as candidates.h has
 * it.  APPLY_DONE (bound), APPLY_FAILED (the address itself was refused,
 * d->error; or the plan exhausted with on-exhaust=fail: the kernel's
 * errno for an explicit bind, `explicit_bind`, or for an autobind), or
 * APPLY_KERNEL (no port left: the kernel chooses). */
enum apply_outcome apply_bind(struct runtime *rt, struct plan *plan, const struct apply_ops *ops,
			      void *ctx, const struct apply_socket *s, const struct sockaddr *addr,
			      socklen_t len, const struct flow *flow, bool explicit_bind,
			      struct decision *d);

/* The errno the kernel gives a socket of `type` when it has no port left:
 * for an explicit bind(), or for a port it chooses itself (a connect, a
 * first send, bind(0)).  Every backend fails with it under
 * on-exhaust=fail. */
int apply_exhausted_errno(int type, bool explicit_bind);

#endif
