/* See autobind.h. */
#include "autobind.h"

#include <errno.h>
#include <netinet/in.h>
#include <string.h>

#include "candidates.h"
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

void sock_note_bind(struct runtime *rt, int fd)
{
	fdtable_take_fresh(&rt->fds, fd);
}

/* A socket known fresh from socket(): unbound, the family's wildcard. */
static bool fresh_sock(uint32_t entry, struct sock *s)
{
	memset(&s->local, 0, sizeof(s->local));
	s->type = (entry & FDTABLE_FRESH_UDP) ? SOCK_DGRAM : SOCK_STREAM;
	s->local.ss_family = (entry & FDTABLE_FRESH_INET6) ? AF_INET6 : AF_INET;
	s->local_len = (entry & FDTABLE_FRESH_INET6) ? sizeof(struct sockaddr_in6)
						     : sizeof(struct sockaddr_in);
	return true;
}

bool sock_inspect(int fd, struct sock *s)
{
	int protocol;
	socklen_t len;
	uint32_t fresh = fdtable_take_fresh(&portshim_runtime.fds, fd);

	s->fd = fd;
	if (fresh)
		return fresh_sock(fresh, s);
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
	if (!addr)
		return false;
	if (addr->sa_family == AF_INET6)
		return s->local.ss_family == AF_INET6 && len >= sizeof(struct sockaddr_in6);
	/* An IPv6 UDP socket also sends to and connects to plain IPv4
	 * addresses (unless IPV6_V6ONLY); an IPv6 TCP socket does not. */
	return addr->sa_family == AF_INET && len >= sizeof(struct sockaddr_in) &&
	       (s->local.ss_family == AF_INET || s->type == SOCK_DGRAM);
}

/* Set once the application sets IP_LOCAL_PORT_RANGE on any socket: until
 * then every socket's value is known to be 0, and reading or restoring it
 * would cost two system calls per connect() for nothing. */
static _Atomic bool app_sets_port_range;

void sock_note_port_range_set(struct runtime *rt, int fd)
{
	uint32_t entry = fdtable_get(&rt->fds, fd);

	atomic_store_explicit(&app_sets_port_range, true, memory_order_release);
	if (entry & FDTABLE_RANGE)
		fdtable_update(&rt->fds, fd, entry, entry & ~FDTABLE_RANGE);
}

bool sock_port_range(const struct sock *s, uint32_t *range)
{
	socklen_t len = sizeof(*range);

	*range = 0;
	if (!sock_app_port_ranges())
		return true;
	return real_getsockopt(s->fd, IPPROTO_IP, IP_LOCAL_PORT_RANGE, range, &len) == 0;
}

/* The same for SO_REUSEADDR, which strategy reuse must give back. */
static _Atomic bool app_sets_reuseaddr;

void sock_note_reuseaddr_set(void)
{
	atomic_store_explicit(&app_sets_reuseaddr, true, memory_order_release);
}

bool sock_app_reuseaddr(void)
{
	return atomic_load_explicit(&app_sets_reuseaddr, memory_order_acquire);
}

bool sock_app_port_ranges(void)
{
	return atomic_load_explicit(&app_sets_port_range, memory_order_acquire);
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
		if (real_bind(s->fd, (struct sockaddr *)&local, len) == 0) {
			candidates_taken(&c, (unsigned)port);
			fdtable_record(&rt->fds, s->fd, (uint32_t)port);
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
	uint16_t port = FDTABLE_PORT(fdtable_take(&rt->fds, fd));

	if (port)
		portmap_release(&rt->map, port);
}
