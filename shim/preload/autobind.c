/* See autobind.h. */
#include "autobind.h"

#include "fdtable.h"
#include "libops.h"

enum apply_outcome autobind(struct runtime *rt, struct plan *plan, const struct sock *s,
			    const struct sockaddr *addr, socklen_t len, const struct flow *flow,
			    bool explicit_bind, struct decision *d)
{
	struct libops_socket ls;
	struct apply_socket as;

	libops_describe(s, &ls, &as);
	return apply_bind(rt, plan, &libops, &ls, &as, addr, len, flow, explicit_bind, d);
}

void autobind_forget(struct runtime *rt, int fd)
{
	uint16_t port = FDTABLE_PORT(fdtable_take(&portshim_fds, fd));

	if (port)
		portmap_release(&rt->map, port);
}
