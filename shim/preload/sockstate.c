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
#include <fcntl.h>
#include <netinet/in.h>
#include <string.h>

#include "sock.h"
#include "fdtable.h"
#include "netns.h"
#include "core/inetaddr.h"
#include "core/tcpclosed.h"
#include "real.h"
#include "userptr.h"

struct fdtable portshim_fds;

void sock_note_socket(int fd, int domain, int type, int protocol)
{
	uint32_t entry = 0;

	type &= ~(SOCK_NONBLOCK | SOCK_CLOEXEC);
	if ((domain == AF_INET || domain == AF_INET6) &&
	    ((type == SOCK_STREAM && (protocol == 0 || protocol == IPPROTO_TCP)) ||
	     (type == SOCK_DGRAM && (protocol == 0 || protocol == IPPROTO_UDP))))
		entry = FDTABLE_FRESH | (type == SOCK_DGRAM ? FDTABLE_FRESH_UDP : 0) |
			(domain == AF_INET6 ? FDTABLE_FRESH_INET6 : 0) |
			(netns_home() ? FDTABLE_HOME : 0);
	/* Also clears whatever a close the hooks did not see left behind. */
	fdtable_record(&portshim_fds, fd, entry);
}

void sock_note_not_fresh(int fd)
{
	fdtable_take_fresh(&portshim_fds, fd);
}

void sock_note_duplicate(int oldfd, int newfd)
{
	uint32_t entry = fdtable_get(&portshim_fds, oldfd);

	if (newfd >= 0 && newfd != oldfd && (entry & (FDTABLE_REUSE | FDTABLE_RANGE)))
		fdtable_record(&portshim_fds, newfd, entry & ~(FDTABLE_FRESH_BITS | FDTABLE_PENDING));
}

void sock_note_setsockopt(int fd, int level, int name)
{
	if (level == SOL_SOCKET && name == SO_REUSEADDR)
		fdtable_or(&portshim_fds, fd, FDTABLE_APP_SET_REUSEADDR);
	else if (level == SOL_SOCKET && name == SO_REUSEPORT)
		fdtable_or(&portshim_fds, fd, FDTABLE_APP_SET_REUSEPORT);
	else if (level == IPPROTO_IP && name == IP_LOCAL_PORT_RANGE)
		/* The value is the application's from now on, not ours. */
		fdtable_or(&portshim_fds, fd, FDTABLE_APP_SET_RANGE);
}

static bool range_is_ours(int fd, uint32_t entry);

/* A TCP socket that strategy range connected and that lost its port since
 * (core/tcpclosed.h) still shows the port in getsockname(), but it is
 * unbound, and a connect of it gets a port afresh.  Not while a connect in
 * progress is still to report its end (pending.c).  System calls on a
 * socket connected again only. */
static bool port_lost(int fd, uint32_t entry)
{
	unsigned char info[TCP_INFO_ASK];
	socklen_t len = sizeof(info);

	return (entry & FDTABLE_RANGE) && !(entry & FDTABLE_PENDING) &&
	       real_getsockopt(fd, IPPROTO_TCP, TCP_INFO, info, &len) == 0 &&
	       tcp_port_released(info, len) && range_is_ours(fd, entry);
}

bool sock_inspect(int fd, struct sock *s)
{
	int protocol;
	socklen_t len;
	uint32_t entry = fdtable_take_fresh(&portshim_fds, fd);

	s->fd = fd;
	s->lost = 0;
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
	unsigned port = sockaddr_port(&s->local);
	if (port == 0)
		sock_range_release(fd);
	else if (port_lost(fd, entry))
		/* Its [p, p] and its note stay until a call the kernel may
		 * give a port to comes (guard.c). */
		s->lost = port;
	else
		return false;
	sockaddr_set_port(&s->local, 0);
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

/* Is `range` one strategy range left on fd: [q, q] with q the port of the
 * descriptor's entry, or the port the socket shows (another descriptor of
 * the socket, a dup() or a parent's after fork(), may have connected it
 * again since)?  A range of the application's is neither, but for a
 * program that gives a socket its own port as its range. */
static bool range_left_here(int fd, uint32_t entry, uint32_t range)
{
	unsigned q = range & 0xffffu;

	if (!(entry & FDTABLE_RANGE) || q == 0 || range >> 16 != q)
		return false;
	return q == FDTABLE_PORT(entry) || q == sock_local_port(fd);
}

/* The kernel's IP_LOCAL_PORT_RANGE is what strategy range left on fd, not
 * a range of the application's: checked with the kernel, since an entry
 * left behind by a close the hooks did not see must not speak for another
 * socket.  Only on rare calls. */
static bool range_is_ours(int fd, uint32_t entry)
{
	uint32_t range = 0;
	socklen_t len = sizeof(range);

	return (entry & FDTABLE_RANGE) &&
	       real_getsockopt(fd, IPPROTO_IP, IP_LOCAL_PORT_RANGE, &range, &len) == 0 &&
	       range_left_here(fd, entry, range);
}

void sock_range_release(int fd)
{
	uint32_t entry = fdtable_get(&portshim_fds, fd), none = 0;
	int saved = errno;

	if (!(entry & FDTABLE_RANGE))
		return;
	if (range_is_ours(fd, entry))
		real_setsockopt(fd, IPPROTO_IP, IP_LOCAL_PORT_RANGE, &none, sizeof(none));
	fdtable_update(&portshim_fds, fd, entry, entry & ~FDTABLE_RANGE);
	errno = saved;
}

bool sock_range_left(int fd)
{
	return fdtable_get(&portshim_fds, fd) & FDTABLE_RANGE;
}

int sock_range_getsockopt(int fd, void *value, socklen_t *len)
{
	uint32_t entry = fdtable_get(&portshim_fds, fd);
	unsigned char before[sizeof(uint32_t)];
	socklen_t asked = 0;

	/* Asked for less than an int, the kernel writes a value under 256 (the
	 * application's 0) as one byte, but ours as `asked` bytes: what it
	 * wrote past the first is put back.  Unreadable memory is the
	 * kernel's to refuse. */
	if (!len || !userptr_copy(&asked, len, sizeof(asked)) || asked >= sizeof(uint32_t) ||
	    (asked > 0 && !userptr_copy(before, value, asked)))
		asked = 0;
	int result = real_getsockopt(fd, IPPROTO_IP, IP_LOCAL_PORT_RANGE, value, len);
	if (result != 0 || *len == 0)
		return result;
	socklen_t n = *len < sizeof(uint32_t) ? *len : (socklen_t)sizeof(uint32_t);
	/* Ours or not, judged on the whole value (the program may have
	 * asked for less). */
	int saved = errno;
	bool left_here = range_is_ours(fd, entry);
	errno = saved;
	if (!left_here)
		return result; /* an entry left by a close the hooks missed */
	memset(value, 0, 1);
	if (n < sizeof(uint32_t)) {
		if (asked > 1)
			memcpy((unsigned char *)value + 1, before + 1, asked - 1);
		*len = 1;
	} else {
		memset(value, 0, n);
	}
	return result;
}

void sock_range_set_by_app(int fd)
{
	fdtable_change(&portshim_fds, fd, 0, FDTABLE_RANGE);
}

/* The kernel's SO_REUSEADDR of fd (0 if it cannot be read). */
static int reuseaddr_of(int fd)
{
	int on = 0;
	socklen_t len = sizeof(on);

	real_getsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, &len);
	return on;
}

int sock_reuseaddr(const struct sock *s)
{
	return sock_app_set(s, FDTABLE_APP_SET_REUSEADDR) ? reuseaddr_of(s->fd) : 0;
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

/* The entry of a socket that strategy reuse connected, or 0.  An entry
 * left behind by a close the hooks did not see (fclose() of an fdopen()ed
 * socket) must not speak for a new socket on the same number: the socket
 * must still be bound to the entry's port with the kernel's SO_REUSEADDR
 * on.  Two system calls, on this rare call only. */
static uint32_t reuse_entry(int fd)
{
	uint32_t entry = fdtable_get(&portshim_fds, fd);
	struct sockaddr_storage local;
	socklen_t len = sizeof(local);
	int saved = errno;

	if (!(entry & FDTABLE_REUSE))
		return 0;
	if (getsockname(fd, (struct sockaddr *)&local, &len) != 0 ||
	    (local.ss_family != AF_INET && local.ss_family != AF_INET6) ||
	    sockaddr_port(&local) != FDTABLE_PORT(entry) || !reuseaddr_of(fd))
		entry = 0;
	errno = saved;
	return entry;
}

bool sock_reuse_get(int fd, int *value)
{
	uint32_t entry = reuse_entry(fd);

	if (!entry)
		return false;
	*value = (entry & FDTABLE_APP_REUSE) ? 1 : 0;
	return true;
}

bool sock_reuse_set(int fd, int value)
{
	uint32_t entry = reuse_entry(fd);

	if (!entry)
		return false;
	fdtable_update(&portshim_fds, fd, entry,
		       value ? entry | FDTABLE_APP_REUSE : entry & ~FDTABLE_APP_REUSE);
	return true;
}

struct flow sock_flow(const struct sock *s, const struct sockaddr *dst, socklen_t len)
{
	return (struct flow){ .dst = dst, .dst_len = len, .local = &s->local, .type = s->type };
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

/* The strategies leave options of their own on the sockets they connected
 * (reuse: SO_REUSEADDR 1; range: IP_LOCAL_PORT_RANGE [p, p]), which the
 * hooks answer for; a program that inherits one across exec, where no hook
 * of this process answers, must find its own values.  Every such
 * descriptor that exec keeps gets them `before`; if exec failed, reuse's 1
 * is back `after` (range's stays put back: nothing needs it any more). */
static void options_across_exec(bool before)
{
	int high = fdtable_high(&portshim_fds);

	for (int fd = 0; fd < high; fd++) {
		uint32_t entry = fdtable_get(&portshim_fds, fd);
		bool reuse = (entry & FDTABLE_REUSE) && !(entry & FDTABLE_APP_REUSE);
		bool range = before && (entry & FDTABLE_RANGE);
		if (!reuse && !range)
			continue;
		int flags = real_fcntl(fd, F_GETFD, NULL);
		int on = before ? 0 : 1;
		if (flags < 0 || (flags & FD_CLOEXEC))
			continue;
		if (reuse)
			real_setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on));
		if (range)
			sock_range_release(fd);
	}
}

void sock_before_exec(void)
{
	int saved = errno;

	options_across_exec(true);
	errno = saved;
}

void sock_after_exec_failed(void)
{
	int saved = errno;

	options_across_exec(false);
	errno = saved;
}
