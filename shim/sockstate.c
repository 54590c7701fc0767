/* What the shim knows about a socket, and how it finds out.
 *
 * Asking the kernel costs a system call each time (getsockname(),
 * getsockopt()); on a VM that is more than a microsecond, several per
 * connect().  So the hooks keep notes in the descriptor table: socket()
 * notes a fresh inet TCP/UDP socket, setsockopt() notes that the
 * application set SO_REUSEADDR or IP_LOCAL_PORT_RANGE itself, bind() and
 * the first inspection end the freshness.  A socket without notes
 * (accepted, inherited across exec, bound since) is asked about as before.
 * A note can only be wrong after a close the hooks did not see and the
 * number's reuse by a socket not made by socket() - then the kernel still
 * refuses what does not fit, and the call's result stays the kernel's. */
#include <errno.h>
#include <netinet/in.h>
#include <string.h>

#include "autobind.h"
#include "inetaddr.h"
#include "real.h"

#ifndef IP_LOCAL_PORT_RANGE
#define IP_LOCAL_PORT_RANGE 51
#endif

void sock_note_socket(struct runtime *rt, int fd, int domain, int type, int protocol)
{
	uint32_t entry = 0;

	type &= ~(SOCK_NONBLOCK | SOCK_CLOEXEC);
	if ((domain == AF_INET || domain == AF_INET6) &&
	    ((type == SOCK_STREAM && (protocol == 0 || protocol == IPPROTO_TCP)) ||
	     (type == SOCK_DGRAM && (protocol == 0 || protocol == IPPROTO_UDP))))
		entry = FDTABLE_FRESH | (type == SOCK_DGRAM ? FDTABLE_FRESH_UDP : 0) |
			(domain == AF_INET6 ? FDTABLE_FRESH_INET6 : 0);
	/* Also clears whatever a close the hooks did not see left behind. */
	fdtable_record(&rt->fds, fd, entry);
}

void sock_note_not_fresh(struct runtime *rt, int fd)
{
	fdtable_take_fresh(&rt->fds, fd);
}

void sock_note_setsockopt(struct runtime *rt, int fd, int level, int name)
{
	if (level == SOL_SOCKET && name == SO_REUSEADDR)
		fdtable_or(&rt->fds, fd, FDTABLE_APP_SET_REUSEADDR);
	else if (level == SOL_SOCKET && name == SO_REUSEPORT)
		fdtable_or(&rt->fds, fd, FDTABLE_APP_SET_REUSEPORT);
	else if (level == IPPROTO_IP && name == IP_LOCAL_PORT_RANGE)
		/* The value is the application's from now on, not ours. */
		fdtable_change(&rt->fds, fd, FDTABLE_APP_SET_RANGE, FDTABLE_RANGE);
}

bool sock_inspect(int fd, struct sock *s)
{
	int protocol;
	socklen_t len;
	uint32_t entry = fdtable_take_fresh(&portshim_runtime.fds, fd);

	s->fd = fd;
	s->known = entry & FDTABLE_FRESH;
	s->app = entry & (FDTABLE_APP_SET_REUSEADDR | FDTABLE_APP_SET_RANGE |
			  FDTABLE_APP_SET_REUSEPORT);
	if (s->known) {
		/* Unbound, so its address is the family's wildcard. */
		memset(&s->local, 0, sizeof(s->local));
		s->type = (entry & FDTABLE_FRESH_UDP) ? SOCK_DGRAM : SOCK_STREAM;
		s->local.ss_family = (entry & FDTABLE_FRESH_INET6) ? AF_INET6 : AF_INET;
		s->local_len = (entry & FDTABLE_FRESH_INET6) ? sizeof(struct sockaddr_in6)
							     : sizeof(struct sockaddr_in);
		return true;
	}
	s->local_len = sizeof(s->local);
	if (getsockname(fd, (struct sockaddr *)&s->local, &s->local_len) != 0)
		return false;
	if (s->local.ss_family != AF_INET && s->local.ss_family != AF_INET6)
		return false;
	if (sockaddr_port(&s->local) != 0)
		return false;
	/* The protocol alone tells the type: a raw socket of protocol TCP or
	 * UDP would show that protocol number as its port, never 0. */
	len = sizeof(protocol);
	if (real_getsockopt(fd, SOL_SOCKET, SO_PROTOCOL, &protocol, &len) != 0)
		return false;
	s->type = protocol == IPPROTO_TCP ? SOCK_STREAM : SOCK_DGRAM;
	return protocol == IPPROTO_TCP || protocol == IPPROTO_UDP;
}

bool sock_addr_fits(const struct sock *s, const struct sockaddr *addr, socklen_t len)
{
	if (!inetaddr_complete(addr, len))
		return false;
	if (addr->sa_family == AF_INET6)
		return s->local.ss_family == AF_INET6;
	/* An IPv6 UDP socket also sends to and connects to plain IPv4
	 * addresses (unless IPV6_V6ONLY); an IPv6 TCP socket does not. */
	return s->local.ss_family == AF_INET || s->type == SOCK_DGRAM;
}

bool sock_app_set(const struct sock *s, uint32_t what)
{
	return !s->known || (s->app & what);
}

bool sock_port_range(const struct sock *s, uint32_t *range)
{
	socklen_t len = sizeof(*range);

	*range = 0;
	if (!sock_app_set(s, FDTABLE_APP_SET_RANGE))
		return true;
	return real_getsockopt(s->fd, IPPROTO_IP, IP_LOCAL_PORT_RANGE, range, &len) == 0;
}

int sock_reuseaddr(const struct sock *s)
{
	int on = 0;
	socklen_t len = sizeof(on);

	if (sock_app_set(s, FDTABLE_APP_SET_REUSEADDR))
		real_getsockopt(s->fd, SOL_SOCKET, SO_REUSEADDR, &on, &len);
	return on;
}

bool sock_reuseport_pause(const struct sock *s)
{
	int on = 0, off = 0;
	socklen_t len = sizeof(on);

	if (!sock_app_set(s, FDTABLE_APP_SET_REUSEPORT) ||
	    real_getsockopt(s->fd, SOL_SOCKET, SO_REUSEPORT, &on, &len) != 0 || !on)
		return false;
	return real_setsockopt(s->fd, SOL_SOCKET, SO_REUSEPORT, &off, sizeof(off)) == 0;
}

void sock_reuseport_resume(const struct sock *s, bool paused)
{
	int on = 1, saved = errno;

	if (paused)
		real_setsockopt(s->fd, SOL_SOCKET, SO_REUSEPORT, &on, sizeof(on));
	errno = saved;
}
