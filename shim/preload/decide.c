/* See decide.h. */
#include "decide.h"

#include <errno.h>

void decision_begin(struct decision *d, enum shim_call call, const struct sock *s,
		    const struct sockaddr *addr, socklen_t len, const struct plan *plan)
{
	*d = (struct decision){
		.call = call,
		.fd = s->fd,
		.type = s->type,
		.family = s->local.ss_family,
		.addr = addr,
		.addr_len = len,
		.policy = plan->name,
		.strategy = STRATEGY_EXCLUSIVE,
	};
}

void decision_kernel(struct decision *d, enum decision_result result_kind, int result)
{
	int error = errno;

	d->result = result_kind;
	d->error = result == 0 ? 0 : error;
	/* A connect in progress (or interrupted) already has its port. */
	if (result == 0 || error == EINPROGRESS || error == EINTR || error == EALREADY)
		d->port = sock_local_port(d->fd);
	errno = error;
}
