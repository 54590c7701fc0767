/* A decision (core/decision.h) about a call on a socket the program's
 * descriptor names: begun by the hook that sees the call, completed by
 * whoever applies the port, or by the kernel's own answer. */
#ifndef PORTSHIM_DECIDE_H
#define PORTSHIM_DECIDE_H

#include "core/decision.h"
#include "core/runtime.h"
#include "sock.h"

/* decision_begin() for socket s. */
void decide_begin(struct decision *d, enum shim_call call, const struct sock *s,
		  const struct sockaddr *addr, socklen_t len, const struct plan *plan);
/* Completes d for a call the kernel handled alone (policy off, fallback):
 * `result` is the call's return value, errno still its errno. */
void decide_kernel(struct decision *d, enum decision_result result_kind, int result);

#endif
