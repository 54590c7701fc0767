/* See autobind.h. */
#include "autobind.h"

#include <errno.h>
#include <string.h>

#include "real.h"

struct bind_try {
	const struct sock *s;
	struct sockaddr_storage local;
	socklen_t len;
};

static enum tried try_bind(void *ctx, unsigned port, int *error)
{
	struct bind_try *t = ctx;

	sockaddr_set_port(&t->local, port);
	bool paused = sock_reuseport_pause(t->s);
	int bound = real_bind(t->s->fd, (struct sockaddr *)&t->local, t->len);
	sock_reuseport_resume(t->s, paused);
	if (bound == 0) {
		fdtable_record(&portshim_fds, t->s->fd, (uint32_t)port);
		return TRIED_TAKEN;
	}
	if (errno == EADDRINUSE || errno == EACCES)
		return TRIED_REFUSED;
	*error = errno;
	return TRIED_FAILED;
}

enum pick_result autobind_exclusive(struct runtime *rt, struct plan *plan, const struct sock *s,
				    const struct sockaddr *addr, socklen_t len,
				    const struct flow *flow, struct pick *pick)
{
	struct bind_try t = { .s = s, .len = len };
	uint32_t range;

	memcpy(&t.local, addr, len < sizeof(t.local) ? len : sizeof(t.local));
	sock_port_range(s, &range);
	return pick_port(rt, plan, port_range_window(range), flow, try_bind, &t, pick);
}

void autobind_forget(struct runtime *rt, int fd)
{
	uint16_t port = FDTABLE_PORT(fdtable_take(&portshim_fds, fd));

	if (port)
		portmap_release(&rt->map, port);
}
