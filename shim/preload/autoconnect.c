/* See autoconnect.h. */
#include "autoconnect.h"

#include <errno.h>

#include "decide.h"
#include "libops.h"
#include "real.h"

int autoconnect(struct runtime *rt, struct plan *plan, const struct sock *s,
		const struct sockaddr *addr, socklen_t len, struct decision *d)
{
	int saved = errno, result;
	struct libops_socket ls;
	struct apply_socket as;

	libops_describe(s, &ls, &as);
	switch (apply_connect(rt, plan, &libops, &ls, &as, addr, len, d)) {
	case APPLY_DONE:
		errno = d->error ? d->error : saved;
		return d->error ? -1 : 0;
	case APPLY_FAILED:
		errno = d->error;
		return -1;
	case APPLY_KERNEL:
		break;
	}
	result = real_connect(s->fd, addr, len);
	decide_kernel(d, d->result, result);
	if (result == 0)
		errno = saved;
	return result;
}
