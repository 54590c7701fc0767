/* See guard.h. */
#include "guard.h"

#include <errno.h>

#include "core/control.h"
#include "autobind.h"
#include "init.h"
#include "userptr.h"

static bool socket_fits(struct runtime *rt, struct guarded_call *t, int fd, bool stream)
{
	if (!sock_inspect(fd, &t->s))
		return false;
	/* The kernel let its port go: so does the bitmap. */
	if (t->s.lost)
		autobind_forget(rt, fd);
	return stream || t->s.type != SOCK_STREAM;
}

bool guard_call(struct runtime *rt, int fd, const struct sockaddr *addr, socklen_t len,
	       bool stream, bool socket_first, struct sockaddr_storage *copy, struct guarded_call *t)
{
	int saved = errno;
	bool ok;

	t->dst = NULL;
	if (!addr || !init_ready() || runtime_connect_idle(rt))
		return false;
	if (socket_first)
		ok = socket_fits(rt, t, fd, stream) && (t->dst = userptr_inet_addr(copy, addr, len));
	else
		ok = (t->dst = userptr_inet_addr(copy, addr, len)) && socket_fits(rt, t, fd, stream);
	if (ok) {
		t->plan = control_connect_plan(rt, t->dst, len);
		ok = (t->plan->npasses > 0 || runtime_observing(rt)) &&
		     sock_addr_fits(&t->s, t->dst, len);
	}
	errno = saved;
	return ok;
}
