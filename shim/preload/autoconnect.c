/* See autoconnect.h. */
#include "autoconnect.h"

#include <errno.h>
#include <netinet/in.h>
#include <string.h>

#include "autobind.h"
#include "pick.h"
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

/* One connect() being given a port, and what the real connect() said. */
struct connect_try {
	const struct sock *s;
	const struct sockaddr *addr;
	socklen_t len;
	int result, error;             /* the real connect()'s, once it ran */
	struct sockaddr_storage local; /* reuse: the address to bind */
	int app_reuse;                 /* reuse: the application's SO_REUSEADDR */
	int kernel_reuse;              /* reuse: what the socket has now */
	uint32_t app_range;            /* range: the application's IP_LOCAL_PORT_RANGE */
	struct runtime *rt;
};

static int set_port_range(int fd, uint32_t range)
{
	return real_setsockopt(fd, IPPROTO_IP, IP_LOCAL_PORT_RANGE, &range, sizeof(range));
}

static int set_reuseaddr(int fd, int on)
{
	return real_setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on));
}

static void real_connect_once(struct connect_try *t)
{
	t->result = real_connect(t->s->fd, t->addr, t->len);
	t->error = errno;
}

static enum tried try_range(void *ctx, unsigned port, int *error)
{
	struct connect_try *t = ctx;

	if (set_port_range(t->s->fd, (uint32_t)port << 16 | port) != 0) {
		*error = errno;
		return TRIED_FAILED;
	}
	real_connect_once(t);
	/* TCP: that 4-tuple is taken, or the port is bound by someone who
	 * does not share.  UDP: the port is taken (the autobind fails with
	 * EAGAIN).  Either way the socket is still unbound. */
	if (t->result != 0 && t->error == (t->s->type == SOCK_DGRAM ? EAGAIN : EADDRNOTAVAIL))
		return t->s->type == SOCK_STREAM ? TRIED_CLASHED : TRIED_REFUSED;
	fdtable_record(&portshim_fds, t->s->fd,
		       (uint32_t)port | (t->app_range == 0 ? FDTABLE_RANGE : 0));
	return TRIED_TAKEN;
}

static enum outcome connect_range(struct runtime *rt, struct plan *plan, struct connect_try *t,
				  struct pick *pick)
{
	struct flow flow = sock_flow(t->s, t->addr, t->len);

	flow.shares = t->s->type == SOCK_STREAM;
	if (!sock_port_range(t->s, &t->app_range))
		return UNSUPPORTED;
	enum pick_result picked = pick_port(rt, plan, runtime_range_window(rt, t->app_range),
					    &flow, try_range, t, pick);
	/* The socket keeps [p, p] where the application set no range of its
	 * own: it reads 0 through the getsockopt() hook, and the hooks put 0
	 * back before the kernel could pick its port again (a bind() or send
	 * after a failed connect or a disconnect) and before exec
	 * (sockstate.c).  A range of its own is put back at once. */
	if (picked != PICK_TAKEN || t->app_range != 0)
		set_port_range(t->s->fd, t->app_range);
	return picked == PICK_TAKEN ? CONNECTED : picked == PICK_EXHAUSTED ? EXHAUSTED : UNSUPPORTED;
}

/* Under `auto`, the first connect() that got a port through `range` checks
 * that the kernel really used it (a kernel could accept the option and
 * ignore it); one getsockname(), once per process. */
static bool range_was_honoured(const struct connect_try *t, unsigned port)
{
	struct sockaddr_storage got;
	socklen_t len = sizeof(got);
	int expected = atomic_load(&range_honoured);

	if (expected != 0 || (t->result != 0 && t->error != EINPROGRESS))
		return expected >= 0;
	bool ok = getsockname(t->s->fd, (struct sockaddr *)&got, &len) == 0 &&
		  sockaddr_port(&got) == port;
	atomic_store(&range_honoured, ok ? 1 : -1);
	return ok;
}

/* The socket's SO_REUSEADDR as reuse needs it now; false on failure. */
static bool reuse_set(struct connect_try *t, int on)
{
	if (t->kernel_reuse == on)
		return true;
	if (set_reuseaddr(t->s->fd, on) != 0)
		return false;
	t->kernel_reuse = on;
	return true;
}

/* A port nobody uses takes a bind without SO_REUSEADDR, and none of its
 * 4-tuples can then be taken.  One in use is shared (SO_REUSEADDR), unless
 * a live socket holds its 4-tuple towards this destination: the bind would
 * work, the connect fail, and a bound socket cannot be unbound.  Either
 * way the kernel's SO_REUSEADDR is then 1, so that later binds may share
 * the port and its TIME_WAIT. */
static enum tried try_reuse(void *ctx, unsigned port, int *error)
{
	struct connect_try *t = ctx;
	int fd = t->s->fd;

	if (!reuse_set(t, 0)) {
		*error = errno;
		return TRIED_FAILED;
	}
	sockaddr_set_port(&t->local, port);
	bool paused = sock_reuseport_pause(t->s);
	int bound = real_bind(fd, (struct sockaddr *)&t->local, t->s->local_len);
	if (bound != 0 && errno == EADDRINUSE) {
		struct flow flow = sock_flow(t->s, t->addr, t->len);
		if (early_tuple_taken(t->rt, &real_early_calls, fd, &flow, port)) {
			sock_reuseport_resume(t->s, paused);
			return TRIED_CLASHED;
		}
		bound = reuse_set(t, 1) ? real_bind(fd, (struct sockaddr *)&t->local, t->s->local_len)
					: -1;
	}
	sock_reuseport_resume(t->s, paused);
	if (bound != 0) {
		if (errno == EADDRINUSE || errno == EACCES)
			return TRIED_REFUSED;
		*error = errno;
		return TRIED_FAILED;
	}
	reuse_set(t, 1);
	real_connect_once(t);
	/* The kernel's SO_REUSEADDR stays 1: later binds share this port, and
	 * its TIME_WAIT stays re-bindable. */
	fdtable_record(&portshim_fds, t->s->fd,
		       (uint32_t)port | FDTABLE_REUSE | (t->app_reuse ? FDTABLE_APP_REUSE : 0));
	return TRIED_TAKEN;
}

static enum outcome connect_reuse(struct runtime *rt, struct plan *plan, struct connect_try *t,
				  struct pick *pick)
{
	struct flow flow = sock_flow(t->s, t->addr, t->len);
	uint32_t app_range;

	flow.shares = true; /* TCP only: UDP binds exclusively */
	t->local = t->s->local;
	t->app_reuse = t->kernel_reuse = sock_reuseaddr(t->s);
	t->rt = rt;
	sock_port_range(t->s, &app_range);
	switch (pick_port(rt, plan, port_range_window(app_range), &flow, try_reuse, t, pick)) {
	case PICK_TAKEN:
		/* The 4-tuple is taken, and the kernel cannot unbind the
		 * socket.  Another socket in its place would lose what the
		 * program knows of this one (epoll registrations, duplicates,
		 * its owner), so the connect fails as one with no port left
		 * does.  The per-destination walk keeps this rare. */
		return t->result != 0 && t->error == EADDRNOTAVAIL ? CLASHED : CONNECTED;
	case PICK_EXHAUSTED:
		set_reuseaddr(t->s->fd, t->app_reuse);
		return EXHAUSTED;
	default:
		set_reuseaddr(t->s->fd, t->app_reuse);
		return GAVE_UP;
	}
}

static enum outcome connect_exclusive(struct runtime *rt, struct plan *plan,
				      struct connect_try *t, struct pick *pick)
{
	struct flow flow = sock_flow(t->s, t->addr, t->len);

	switch (autobind_exclusive(rt, plan, t->s, (const struct sockaddr *)&t->s->local,
				   t->s->local_len, &flow, pick)) {
	case PICK_TAKEN:
		real_connect_once(t);
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

/* Applies the strategy; `range` where nobody asked for it learns on the
 * first connect whether the kernel has it, and hands over to the next best
 * (*strategy says which ran). */
static enum outcome apply(struct runtime *rt, struct plan *plan, enum strategy *strategy,
			  struct connect_try *t, struct pick *pick)
{
	bool learn = rt->strategy == STRATEGY_AUTO || t->s->type == SOCK_DGRAM;
	enum outcome outcome;

	switch (*strategy) {
	case STRATEGY_RANGE:
		outcome = connect_range(rt, plan, t, pick);
		if (learn && outcome == UNSUPPORTED) {
			atomic_store(&range_honoured, -1);
			*strategy = t->s->type == SOCK_DGRAM ? STRATEGY_EXCLUSIVE : STRATEGY_REUSE;
			return apply(rt, plan, strategy, t, pick);
		}
		if (learn && outcome == CONNECTED && !range_was_honoured(t, pick->port))
			outcome = IGNORED;
		return outcome;
	case STRATEGY_REUSE:
		return connect_reuse(rt, plan, t, pick);
	default:
		return connect_exclusive(rt, plan, t, pick);
	}
}

/* The real connect() without a port of ours; completes d as `kind`. */
static int kernel_connect(const struct connect_try *t, struct decision *d,
			  enum decision_result kind, int saved)
{
	errno = saved;
	int result = real_connect(t->s->fd, t->addr, t->len);
	decision_kernel(d, kind, result);
	if (result == 0)
		errno = saved;
	return result;
}

int autoconnect(struct runtime *rt, struct plan *plan, const struct sock *s,
		const struct sockaddr *addr, socklen_t len, struct decision *d)
{
	int saved = errno;
	enum strategy strategy = strategy_for(rt, s);
	struct connect_try t = { .s = s, .addr = addr, .len = len, .result = -1 };
	struct pick pick = { 0 };

	d->strategy = strategy;
	/* Only `range` leaves the socket unbound when the connect fails. */
	struct flow flow = sock_flow(s, addr, len);
	if (strategy != STRATEGY_RANGE && early_refusal(rt, &real_early_calls, s->fd, &flow))
		return kernel_connect(&t, d, RESULT_PASSTHROUGH, saved);
	enum outcome outcome = apply(rt, plan, &strategy, &t, &pick);
	d->strategy = strategy;
	d->attempts = pick.attempts;
	switch (outcome) {
	case CONNECTED:
		d->result = RESULT_OK;
		d->port = pick.port;
		d->error = t.result == 0 ? 0 : t.error;
		errno = t.result == 0 ? saved : t.error;
		return t.result;
	case CLASHED:
		d->result = RESULT_CLASH;
		d->port = pick.port;
		d->error = errno = EADDRNOTAVAIL;
		return -1;
	case IGNORED:
		errno = t.error;
		decision_kernel(d, RESULT_FALLBACK, t.result);
		errno = t.result == 0 ? saved : t.error;
		return t.result;
	case EXHAUSTED:
		if (pick_exhausted_fails(rt, s, false, d))
			return -1;
		break;
	case UNSUPPORTED:
	case GAVE_UP:
		break;
	}
	return kernel_connect(&t, d, RESULT_FALLBACK, saved);
}
