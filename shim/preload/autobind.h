/* Binding a socket exclusively to a port of a plan, before the kernel would
 * pick one itself (bind(0), a first send), and giving it back on close. */
#ifndef PORTSHIM_AUTOBIND_H
#define PORTSHIM_AUTOBIND_H

#include "core/apply.h"
#include "sock.h"

/* apply_bind() on the program's descriptor (libops.h): s bound to a port
 * of `plan` at `addr` (whose port is ignored), recorded against its fd. */
enum apply_outcome autobind(struct runtime *rt, struct plan *plan, const struct sock *s,
			    const struct sockaddr *addr, socklen_t len, const struct flow *flow,
			    bool explicit_bind, struct decision *d);
/* Gives back the port recorded for fd, if any (fd is being closed). */
void autobind_forget(struct runtime *rt, int fd);

#endif
