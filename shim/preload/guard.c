/* See guard.h. */
#include "guard.h"

#include <errno.h>

#include "core/control.h"
#include "autobind.h"
#include "init.h"
#include "userptr.h"

static bool socket_fits(struct guarded_call *t, int fd, bool stream)
{
	return sock_inspect(fd, &t->s) && (stream || t->s.type != SOCK_STREAM);
}

/* A socket that lost its port (sock.h) is about to get one, the shim's or
 * the kernel's: the [p, p] left on it goes, and the bitmap lets p go as
 * the kernel did.  Not before: a call the kernel fails first leaves it as
 * it was, to be known as lost at the next. */
static void forget_lost(struct runtime *rt, const struct sock *s)
{
	if (!s->lost)
		return;
	sock_range_release(s->fd);
	autobind_forget(rt, s->fd);
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
		ok = socket_fits(t, fd, stream) && (t->dst = userptr_inet_addr(copy, addr, len));
	else
		ok = (t->dst = userptr_inet_addr(copy, addr, len)) && socket_fits(t, fd, stream);
	if (ok) {
		t->plan = control_connect_plan(rt, t->dst, len);
		ok = sock_addr_fits(&t->s, t->dst, len);
		if (ok)
			forget_lost(rt, &t->s);
		ok = ok && (t->plan->npasses > 0 || runtime_observing(rt));
	}
	errno = saved;
	return ok;
}
