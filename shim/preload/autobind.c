/* See autobind.h. */
#include "autobind.h"

#include <errno.h>
#include <netinet/in.h>
#include <string.h>

#include "core/candidates.h"
#include "real.h"

#ifndef IP_LOCAL_PORT_RANGE
#define IP_LOCAL_PORT_RANGE 51
#endif

unsigned sockaddr_port(const struct sockaddr_storage *ss)
{
	if (ss->ss_family == AF_INET)
		return ntohs(((const struct sockaddr_in *)ss)->sin_port);
	return ntohs(((const struct sockaddr_in6 *)ss)->sin6_port);
}

void sockaddr_set_port(struct sockaddr_storage *ss, unsigned port)
{
	if (ss->ss_family == AF_INET)
		((struct sockaddr_in *)ss)->sin_port = htons((uint16_t)port);
	else
		((struct sockaddr_in6 *)ss)->sin6_port = htons((uint16_t)port);
}

struct portwindow port_range_window(uint32_t range)
{
	struct portwindow win = { 1, 65535 };

	/* As the kernel reads it: 0 in either half leaves that bound open. */
	if (range & 0xffffu)
		win.lo = (uint16_t)(range & 0xffffu);
	if (range >> 16)
		win.hi = (uint16_t)(range >> 16);
	return win;
}

struct flow sock_flow(const struct sock *s, const struct sockaddr *dst, socklen_t len)
{
	return (struct flow){ .dst = dst, .dst_len = len, .local = &s->local, .type = s->type };
}

enum pick_result autobind_exclusive(struct runtime *rt, struct plan *plan, const struct sock *s,
				    const struct sockaddr *addr, socklen_t len,
				    const struct flow *flow, struct pick *pick)
{
	struct sockaddr_storage local;
	struct candidates c;
	uint32_t range;
	int port;

	memset(pick, 0, sizeof(*pick));
	memcpy(&local, addr, len < sizeof(local) ? len : sizeof(local));
	sock_port_range(s, &range);
	candidates_begin(&c, rt, plan, port_range_window(range), flow);

	while ((port = candidates_next(&c)) >= 0) {
		pick->attempts = c.attempts;
		sockaddr_set_port(&local, (unsigned)port);
		bool paused = sock_reuseport_pause(s);
		int bound = real_bind(s->fd, (struct sockaddr *)&local, len);
		sock_reuseport_resume(s, paused);
		if (bound == 0) {
			candidates_taken(&c, (unsigned)port);
			fdtable_record(&portshim_fds, s->fd, (uint32_t)port);
			pick->port = (unsigned)port;
			return PICK_BOUND;
		}
		if (errno != EADDRINUSE && errno != EACCES) {
			pick->error = errno;
			candidates_unused(&c, (unsigned)port);
			return PICK_GAVE_UP;
		}
		candidates_refused(&c, (unsigned)port);
	}
	return PICK_EXHAUSTED;
}

int autobind_exhausted_errno(const struct sock *s, bool explicit_bind)
{
	if (explicit_bind)
		return EADDRINUSE;  /* inet_csk_get_port() */
	return s->type == SOCK_DGRAM ? EAGAIN       /* udp_lib_get_port() */
				     : EADDRNOTAVAIL; /* __inet_hash_connect() */
}

unsigned sock_local_port(int fd)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);
	int saved = errno;
	unsigned port = 0;

	if (getsockname(fd, (struct sockaddr *)&ss, &len) == 0 &&
	    (ss.ss_family == AF_INET || ss.ss_family == AF_INET6))
		port = sockaddr_port(&ss);
	errno = saved;
	return port;
}

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

void autobind_forget(struct runtime *rt, int fd)
{
	uint16_t port = FDTABLE_PORT(fdtable_take(&portshim_fds, fd));

	if (port)
		portmap_release(&rt->map, port);
}
