/* bind() to port 0: the bind policy's port instead of the kernel's.  A
 * non-zero port, or IP_BIND_ADDRESS_NO_PORT (the port is chosen at
 * connect(), by the connect policy), passes straight through. */
#include <errno.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include "../autobind.h"
#include "core/control.h"
#include "../decide.h"
#include "../real.h"
#include "../userptr.h"
#include "../init.h"
#include "export.h"

/* addr: the shim's copy, an inet address (userptr_inet_addr()). */
static bool asks_for_any_port(const struct sockaddr *addr)
{
	if (addr->sa_family == AF_INET)
		return ((const struct sockaddr_in *)addr)->sin_port == 0;
	return ((const struct sockaddr_in6 *)addr)->sin6_port == 0;
}

static bool defers_port(int fd)
{
	int on = 0;
	socklen_t len = sizeof(on);

	return real_getsockopt(fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &on, &len) == 0 && on;
}

/* The bind policy applied: returns what bind() returns, completes d. */
static int bind_by_policy(struct runtime *rt, struct plan *plan, const struct sock *s,
			  const struct sockaddr *addr, socklen_t len, struct decision *d)
{
	int saved = errno, result;
	struct flow flow = sock_flow(s, NULL, 0);

	/* The kernel's bind(0) scans the lower half first for SO_REUSEADDR. */
	if (plan->policy.kind == POLICY_KERNEL)
		flow.reuseaddr = sock_reuseaddr(s);
	switch (autobind(rt, plan, s, addr, len, &flow, true, d)) {
	case APPLY_DONE:
		errno = saved;
		return 0;
	case APPLY_FAILED:
		errno = d->error;
		return -1;
	case APPLY_KERNEL:
		break;
	}
	errno = saved;
	result = real_bind(s->fd, addr, len);
	decide_kernel(d, RESULT_FALLBACK, result);
	return result;
}

PORTSHIM_EXPORT int bind(int fd, const struct sockaddr *addr, socklen_t len)
{
	int saved = errno, result;
	struct runtime *rt = &portshim_runtime;
	struct sockaddr_storage copy;
	const struct sockaddr *local;
	struct decision d;
	struct plan *plan;
	struct sock s;

	/* Whatever happens next, the socket may be bound: not fresh any more,
	 * and if strategy range left its range on it, the kernel's bind(0)
	 * must not meet it. */
	sock_note_not_fresh(fd);
	sock_range_release(fd);
	/* An address the kernel refuses before anything else (unreadable:
	 * EFAULT; too long) is its alone; the shim reads only its copy. */
	if (!init_ready() || ((plan = control_bind_plan(rt))->npasses == 0 &&
				  !runtime_observing(rt)) ||
	    !(local = userptr_inet_addr(&copy, addr, len)) || !asks_for_any_port(local))
		return real_bind(fd, addr, len);
	if (!sock_inspect(fd, &s) || !sock_addr_fits(&s, local, len) || defers_port(fd)) {
		errno = saved;
		return real_bind(fd, local, len);
	}
	errno = saved;
	decide_begin(&d, CALL_BIND, &s, local, len, plan);
	if (plan->npasses == 0) {
		result = real_bind(fd, local, len);
		decide_kernel(&d, RESULT_PASSTHROUGH, result);
	} else {
		result = bind_by_policy(rt, plan, &s, local, len, &d);
	}
	eventlog_record(&rt->log, &d);
	return result;
}
