/* connect() under the connect policy: core/apply.h applies the port with
 * the configured strategy on the program's descriptor (libops.h). */
#ifndef PORTSHIM_AUTOCONNECT_H
#define PORTSHIM_AUTOCONNECT_H

#include "core/decision.h"
#include "core/runtime.h"
#include "sock.h"

/* Returns what connect() returns, with errno as the kernel set it, and
 * completes the decision d. */
int autoconnect(struct runtime *rt, struct plan *plan, const struct sock *s,
		const struct sockaddr *addr, socklen_t len, struct decision *d);

#endif
