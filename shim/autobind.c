/* See autobind.h. */
#include "autobind.h"

#include <errno.h>
#include <netinet/in.h>
#include <string.h>

#include "real.h"

#ifndef IP_LOCAL_PORT_RANGE
#define IP_LOCAL_PORT_RANGE 51
#endif

static unsigned sockaddr_port(const struct sockaddr_storage *ss)
{
	if (ss->ss_family == AF_INET)
		return ntohs(((const struct sockaddr_in *)ss)->sin_port);
	return ntohs(((const struct sockaddr_in6 *)ss)->sin6_port);
}

static void sockaddr_set_port(struct sockaddr_storage *ss, unsigned port)
{
	if (ss->ss_family == AF_INET)
		((struct sockaddr_in *)ss)->sin_port = htons((uint16_t)port);
	else
		((struct sockaddr_in6 *)ss)->sin6_port = htons((uint16_t)port);
}

bool sock_inspect(int fd, struct sock *s)
{
	int type, protocol;
	socklen_t len;

	s->fd = fd;
	s->local_len = sizeof(s->local);
	if (getsockname(fd, (struct sockaddr *)&s->local, &s->local_len) != 0)
		return false;
	if (s->local.ss_family != AF_INET && s->local.ss_family != AF_INET6)
		return false;
	if (sockaddr_port(&s->local) != 0)
		return false;
	len = sizeof(type);
	if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &len) != 0)
		return false;
	len = sizeof(protocol);
	if (getsockopt(fd, SOL_SOCKET, SO_PROTOCOL, &protocol, &len) != 0)
		return false;
	s->type = type;
	return (type == SOCK_STREAM && protocol == IPPROTO_TCP) ||
	       (type == SOCK_DGRAM && protocol == IPPROTO_UDP);
}

bool sock_addr_fits(const struct sock *s, const struct sockaddr *addr, socklen_t len)
{
	if (!addr || addr->sa_family != s->local.ss_family)
		return false;
	return len >= (addr->sa_family == AF_INET ? sizeof(struct sockaddr_in)
						  : sizeof(struct sockaddr_in6));
}

struct portwindow sock_port_window(const struct sock *s)
{
	struct portwindow win = { 1, 65535 };
	uint32_t range = 0;
	socklen_t len = sizeof(range);

	/* Kernels before 6.3 answer ENOPROTOOPT: no window. */
	if (getsockopt(s->fd, IPPROTO_IP, IP_LOCAL_PORT_RANGE, &range, &len) == 0) {
		if (range & 0xffff)
			win.lo = (uint16_t)(range & 0xffff);
		if (range >> 16)
			win.hi = (uint16_t)(range >> 16);
	}
	return win;
}

/* Scan phases, each over what the last one left: ports neither held nor
 * refused; the same after forgiving old refusals; finally the ports the
 * bitmap says we hold, in case the bitmap is stale (a descriptor closed
 * where the hooks could not see it).  The kernel stays the judge. */
static const unsigned phase_flags[] = {
	PORTMAP_SKIP_HELD | PORTMAP_SKIP_REFUSED,
	PORTMAP_SKIP_HELD | PORTMAP_SKIP_REFUSED,
	PORTMAP_SKIP_REFUSED,
};

enum pick_result autobind_exclusive(struct runtime *rt, struct plan *plan, const struct sock *s,
				    const struct sockaddr *addr, socklen_t len, struct pick *pick)
{
	struct sockaddr_storage local;
	struct portwindow win = sock_port_window(s);

	memset(pick, 0, sizeof(*pick));
	memcpy(&local, addr, len < sizeof(local) ? len : sizeof(local));

	for (int pass = 0; pass < plan->npasses; pass++) {
		const struct portset *set = plan->pass[pass];
		unsigned start = plan_start(rt, plan, pass);

		for (unsigned phase = 0; phase < sizeof(phase_flags) / sizeof(phase_flags[0]); phase++) {
			bool claiming = phase_flags[phase] & PORTMAP_SKIP_HELD;

			if (phase == 1)
				portmap_forgive(&rt->map, set);
			for (;;) {
				int port = claiming ? portmap_claim(&rt->map, set, win, start)
						    : portmap_find(&rt->map, set, win, start, phase_flags[phase]);
				if (port < 0)
					break;
				sockaddr_set_port(&local, (unsigned)port);
				pick->attempts++;
				if (real_bind(s->fd, (struct sockaddr *)&local, len) == 0) {
					if (!claiming)
						portmap_hold(&rt->map, (unsigned)port);
					plan_taken(rt, plan, pass, (unsigned)port);
					fdtable_record(&rt->fds, s->fd, (uint16_t)port);
					pick->port = (unsigned)port;
					return PICK_BOUND;
				}
				int error = errno;
				if (claiming)
					portmap_release(&rt->map, (unsigned)port);
				if (error != EADDRINUSE && error != EACCES) {
					pick->error = error;
					return PICK_GAVE_UP;
				}
				portmap_refuse(&rt->map, (unsigned)port);
				start = (unsigned)port + 1u;
			}
		}
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

void autobind_forget(struct runtime *rt, int fd)
{
	uint16_t port = fdtable_take(&rt->fds, fd);

	if (port)
		portmap_release(&rt->map, port);
}
