/* See decide.h. */
#include "decide.h"

#include <errno.h>

void decide_begin(struct decision *d, enum shim_call call, const struct sock *s,
		  const struct sockaddr *addr, socklen_t len, const struct plan *plan)
{
	decision_begin(d, call, s->fd, s->type, s->local.ss_family, addr, len, plan->name);
}

void decide_kernel(struct decision *d, enum decision_result result_kind, int result)
{
	int error = errno;

	d->result = result_kind;
	d->error = result == 0 ? 0 : error;
	/* A connect in progress (or interrupted) already has its port. */
	if (result == 0 || error == EINPROGRESS || error == EINTR || error == EALREADY)
		d->port = sock_local_port(d->fd);
	errno = error;
}
