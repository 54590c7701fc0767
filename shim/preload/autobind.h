/* Binding a socket exclusively to a port of a plan, before the kernel would
 * pick one itself: bind(0), a first UDP send, strategy exclusive. */
#ifndef PORTSHIM_AUTOBIND_H
#define PORTSHIM_AUTOBIND_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

#include "core/runtime.h"
#include "decide.h"
#include "pick.h"
#include "sock.h"

/* Binds s exclusively to a port of `plan` at address `addr` (whose port is
 * ignored), trying candidates in the plan's order; a port the kernel says is
 * busy is skipped and remembered.  Records the port against the fd. */
enum pick_result autobind_exclusive(struct runtime *rt, struct plan *plan, const struct sock *s,
				    const struct sockaddr *addr, socklen_t len,
				    const struct flow *flow, struct pick *pick);

/* Gives back the port recorded for fd, if any (fd is being closed). */
void autobind_forget(struct runtime *rt, int fd);

#endif
