/* See autoconnect.h. */
#include "autoconnect.h"

#include <errno.h>
#include <netinet/in.h>
#include <string.h>

#include "core/candidates.h"
#include "early.h"
#include "real.h"

enum outcome {
	CONNECTED,   /* the real connect() ran on a chosen port: its result stands */
	CLASHED,     /* reuse: bound to a port whose 4-tuple is taken */
	IGNORED,     /* it ran, but the kernel ignored the chosen port */
	EXHAUSTED,   /* no candidate left */
	UNSUPPORTED, /* the strategy cannot work here: let another one try */
	GAVE_UP,     /* an unexpected error: leave the socket to the kernel */
};

/* Strategy `range`, and whether the kernel honours it: 0 unknown, 1 yes,
 * -1 no.  Learnt from the first connect() under `auto`. */
static _Atomic int range_honoured;

static int set_port_range(int fd, uint32_t range)
{
	return real_setsockopt(fd, IPPROTO_IP, IP_LOCAL_PORT_RANGE, &range, sizeof(range));
}

static enum outcome connect_range(struct runtime *rt, struct plan *plan, const struct sock *s,
				  const struct sockaddr *addr, socklen_t len, int *result,
				  struct pick *pick)
{
	struct flow flow = sock_flow(s, addr, len);
	struct candidates c;
	uint32_t app_range;
	int port;

	flow.shares = s->type == SOCK_STREAM;
	if (!sock_port_range(s, &app_range))
		return UNSUPPORTED;
	/* A per-socket range only narrows the namespace's: the kernel ignores
	 * a bound outside it, so only ports inside can be applied this way. */
	struct portwindow win = port_range_window(app_range);
	if (win.lo < rt->kernel_lo)
		win.lo = (uint16_t)rt->kernel_lo;
	if (win.hi > rt->kernel_hi)
		win.hi = (uint16_t)rt->kernel_hi;
	candidates_begin(&c, rt, plan, win, &flow);
	while ((port = candidates_next(&c)) >= 0) {
		pick->attempts = c.attempts;
		if (set_port_range(s->fd, (uint32_t)port << 16 | (uint32_t)port) != 0) {
			candidates_unused(&c, (unsigned)port);
			return UNSUPPORTED;
		}
		*result = real_connect(s->fd, addr, len);
		/* TCP: that 4-tuple is taken, or the port is bound by someone
		 * who does not share.  UDP: the port is taken (the autobind
		 * fails with EAGAIN).  Either way the socket is still unbound. */
		if (*result != 0 && errno == (s->type == SOCK_DGRAM ? EAGAIN : EADDRNOTAVAIL)) {
			if (flow.shares)
				candidates_clashed(&c, (unsigned)port);
			else
				candidates_refused(&c, (unsigned)port);
			continue;
		}
		/* Nothing of ours may outlive the call: a socket disconnected
		 * later, duplicated or inherited across exec must see the
		 * application's own range (one system call). */
		int error = errno;
		set_port_range(s->fd, app_range);
		candidates_taken(&c, (unsigned)port);
		fdtable_record(&portshim_fds, s->fd, (uint32_t)port);
		pick->port = (unsigned)port;
		errno = error;
		return CONNECTED;
	}
	/* Unbound and back to the application's own value (0 unless set). */
	set_port_range(s->fd, app_range);
	return EXHAUSTED;
}

/* Under `auto`, the first connect() that got a port through `range` checks
 * that the kernel really used it (a kernel could accept the option and
 * ignore it); one getsockname(), once per process. */
static bool range_was_honoured(const struct sock *s, int result)
{
	struct sockaddr_storage got;
	socklen_t len = sizeof(got);
	int expected = atomic_load(&range_honoured);
	int saved = errno;

	if (expected != 0 || (result != 0 && saved != EINPROGRESS))
		return expected >= 0;
	uint16_t port = FDTABLE_PORT(fdtable_get(&portshim_fds, s->fd));
	bool ok = getsockname(s->fd, (struct sockaddr *)&got, &len) == 0 &&
		  sockaddr_port(&got) == port;
	atomic_store(&range_honoured, ok ? 1 : -1);
	errno = saved;
	return ok;
}

static int set_reuseaddr(int fd, int on)
{
	return real_setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on));
}

static enum outcome connect_reuse(struct runtime *rt, struct plan *plan, const struct sock *s,
				  const struct sockaddr *addr, socklen_t len, int *result,
				  struct pick *pick)
{
	struct flow flow = sock_flow(s, addr, len);
	struct sockaddr_storage local = s->local;
	struct candidates c;
	uint32_t app_range;
	int app_reuse = sock_reuseaddr(s), port;

	flow.shares = true; /* TCP only: UDP binds exclusively */
	sock_port_range(s, &app_range);
	candidates_begin(&c, rt, plan, port_range_window(app_range), &flow);
	while ((port = candidates_next(&c)) >= 0) {
		pick->attempts = c.attempts;
		if (set_reuseaddr(s->fd, 1) != 0) {
			candidates_unused(&c, (unsigned)port);
			return GAVE_UP;
		}
		sockaddr_set_port(&local, (unsigned)port);
		bool paused = sock_reuseport_pause(s);
		int bound = real_bind(s->fd, (struct sockaddr *)&local, s->local_len);
		sock_reuseport_resume(s, paused);
		if (bound != 0) {
			if (errno != EADDRINUSE && errno != EACCES) {
				candidates_unused(&c, (unsigned)port);
				set_reuseaddr(s->fd, app_reuse);
				return GAVE_UP;
			}
			candidates_refused(&c, (unsigned)port);
			continue;
		}
		*result = real_connect(s->fd, addr, len);
		int error = errno;
		candidates_taken(&c, (unsigned)port);
		pick->port = (unsigned)port;
		/* The kernel's SO_REUSEADDR stays 1: later binds share this
		 * port, and its TIME_WAIT stays re-bindable. */
		fdtable_record(&portshim_fds, s->fd,
			       (uint32_t)port | FDTABLE_REUSE | (app_reuse ? FDTABLE_APP_REUSE : 0));
		errno = error;
		/* The 4-tuple is taken, and the kernel cannot unbind the socket.
		 * Another socket in its place would lose what the program knows
		 * of this one (epoll registrations, duplicates, its owner), so
		 * the connect fails as one with no port left does.  The
		 * per-destination walk keeps this rare. */
		return *result != 0 && error == EADDRNOTAVAIL ? CLASHED : CONNECTED;
	}
	set_reuseaddr(s->fd, app_reuse);
	return EXHAUSTED;
}

static enum outcome connect_exclusive(struct runtime *rt, struct plan *plan,
				      const struct sock *s, const struct sockaddr *addr, socklen_t len,
				      int *result, struct pick *pick)
{
	struct flow flow = sock_flow(s, addr, len);

	switch (autobind_exclusive(rt, plan, s, (const struct sockaddr *)&s->local, s->local_len,
				   &flow, pick)) {
	case PICK_BOUND:
		*result = real_connect(s->fd, addr, len);
		return CONNECTED;
	case PICK_EXHAUSTED:
		return EXHAUSTED;
	default:
		return GAVE_UP;
	}
}

/* `range` can only reach ports of the namespace's own range. */
static bool range_reaches(const struct runtime *rt)
{
	return rt->range_lo >= rt->kernel_lo && rt->range_hi <= rt->kernel_hi &&
	       atomic_load_explicit(&range_honoured, memory_order_relaxed) >= 0;
}

/* UDP never shares a bound port (two SO_REUSEADDR sockets could end up on
 * one 4-tuple), and a port it binds explicitly would outlive an AF_UNSPEC
 * disconnect: the kernel autobinds it to the chosen port through `range`,
 * whatever the TCP strategy, and only where it cannot, an exclusive bind. */
static enum strategy strategy_for(const struct runtime *rt, const struct sock *s)
{
	if (s->type == SOCK_DGRAM)
		return range_reaches(rt) ? STRATEGY_RANGE : STRATEGY_EXCLUSIVE;
	if (rt->strategy != STRATEGY_AUTO)
		return rt->strategy;
	return range_reaches(rt) ? STRATEGY_RANGE : STRATEGY_REUSE;
}

int autoconnect(struct runtime *rt, struct plan *plan, const struct sock *s,
		const struct sockaddr *addr, socklen_t len, struct decision *d)
{
	int saved = errno, result = -1;
	enum strategy strategy = strategy_for(rt, s);
	struct pick pick = { 0 };
	enum outcome outcome;

	/* Only `range` leaves the socket unbound when the connect fails. */
	if (strategy != STRATEGY_RANGE && early_refusal(rt, s, addr, len)) {
		d->strategy = strategy;
		result = real_connect(s->fd, addr, len);
		decision_kernel(d, RESULT_PASSTHROUGH, result);
		return result;
	}
	switch (strategy) {
	case STRATEGY_RANGE: {
		/* Learnt on the first connect() where nobody asked for range. */
		bool learn = rt->strategy == STRATEGY_AUTO || s->type == SOCK_DGRAM;
		outcome = connect_range(rt, plan, s, addr, len, &result, &pick);
		if (learn && outcome == UNSUPPORTED) {
			atomic_store(&range_honoured, -1);
			strategy = s->type == SOCK_DGRAM ? STRATEGY_EXCLUSIVE : STRATEGY_REUSE;
			outcome = strategy == STRATEGY_REUSE
					  ? connect_reuse(rt, plan, s, addr, len, &result, &pick)
					  : connect_exclusive(rt, plan, s, addr, len, &result, &pick);
		} else if (learn && outcome == CONNECTED && !range_was_honoured(s, result)) {
			outcome = IGNORED;
		}
		break;
	}
	case STRATEGY_REUSE:
		outcome = connect_reuse(rt, plan, s, addr, len, &result, &pick);
		break;
	default:
		outcome = connect_exclusive(rt, plan, s, addr, len, &result, &pick);
		break;
	}
	d->strategy = strategy;
	d->attempts = pick.attempts;

	switch (outcome) {
	case CONNECTED:
		d->result = RESULT_OK;
		d->port = pick.port;
		d->error = result == 0 ? 0 : errno;
		if (result == 0)
			errno = saved;
		return result;
	case EXHAUSTED:
		if (rt->cfg.on_exhaust == ON_EXHAUST_FAIL) {
			d->result = RESULT_EXHAUSTED;
			d->error = errno = autobind_exhausted_errno(s, false);
			return -1;
		}
		break;
	case CLASHED:
		d->result = RESULT_CLASH;
		d->port = pick.port;
		d->error = errno = EADDRNOTAVAIL;
		return -1;
	case IGNORED:
		decision_kernel(d, RESULT_FALLBACK, result);
		if (result == 0)
			errno = saved;
		return result;
	case UNSUPPORTED:
	case GAVE_UP:
		break;
	}
	errno = saved;
	result = real_connect(s->fd, addr, len);
	decision_kernel(d, RESULT_FALLBACK, result);
	if (result == 0)
		errno = saved;
	return result;
}
