/* See apply.h. */
#include "apply.h"

#include <errno.h>
#include <netinet/in.h>
#include <stdatomic.h>
#include <string.h>

#include "candidates.h"
#include "inetaddr.h"

/* Whether the kernel honours strategy range: 0 unknown, 1 yes, -1 no.
 * Learnt from the first connect that relies on it without being told to
 * (`auto`, UDP): a kernel could accept the option and ignore it. */
static _Atomic int range_honoured;

/* What trying one port did. */
enum tried {
	TRIED_TAKEN,   /* the socket has the port (whatever else happened) */
	TRIED_REFUSED, /* the port is taken: remember it, try the next */
	TRIED_CLASHED, /* its 4-tuple towards this destination is taken: try the next */
	TRIED_FAILED,  /* something unrelated to the port failed: stop */
};

enum picked { PICKED_TAKEN, PICKED_EXHAUSTED, PICKED_GAVE_UP };

/* How a strategy's run ended. */
enum ran {
	RAN_CONNECTED,   /* the connect ran on a chosen port: its result stands */
	RAN_CLASHED,     /* reuse: bound to a port whose 4-tuple is taken */
	RAN_IGNORED,     /* it ran, but the kernel ignored the chosen port */
	RAN_EXHAUSTED,   /* no candidate left */
	RAN_UNSUPPORTED, /* the strategy cannot work here: another may */
	RAN_GAVE_UP,     /* an unexpected error: leave the socket to the kernel */
};

/* One call being given a port. */
struct attempt {
	struct runtime *rt;
	const struct apply_ops *ops;
	void *ctx;
	const struct apply_socket *s;
	const struct sockaddr *dst;    /* connect: the destination */
	socklen_t dst_len;
	const struct flow *flow;
	struct sockaddr_storage local; /* reuse and exclusive: the address bound (set by them) */
	socklen_t local_len;
	int app_reuse, kernel_reuse;   /* reuse: the program's SO_REUSEADDR, the socket's now */
	int connected, error;          /* the connect ran: its errno, 0 if it worked */
	unsigned port, attempts;
	int failure;                   /* TRIED_FAILED: the errno */
};

typedef enum tried (*try_port)(struct attempt *a, unsigned port);

static enum picked pick(struct attempt *a, struct plan *plan, struct portwindow win,
			try_port try)
{
	struct candidates c;
	int port;

	candidates_begin(&c, a->rt, plan, win, a->flow);
	while ((port = candidates_next(&c)) >= 0) {
		a->attempts = c.attempts;
		switch (try(a, (unsigned)port)) {
		case TRIED_TAKEN:
			candidates_taken(&c, (unsigned)port);
			a->port = (unsigned)port;
			return PICKED_TAKEN;
		case TRIED_REFUSED:
			candidates_refused(&c, (unsigned)port);
			break;
		case TRIED_CLASHED:
			candidates_clashed(&c, (unsigned)port);
			break;
		case TRIED_FAILED:
			candidates_unused(&c, (unsigned)port);
			return PICKED_GAVE_UP;
		}
	}
	return PICKED_EXHAUSTED;
}

static void run_connect(struct attempt *a)
{
	a->connected = 1;
	a->error = a->ops->connect(a->ctx, a->dst, a->dst_len) == 0 ? 0 : errno;
}

static enum tried try_range(struct attempt *a, unsigned port)
{
	if (a->ops->set_range(a->ctx, (uint32_t)port << 16 | port) != 0) {
		a->failure = errno;
		return TRIED_FAILED;
	}
	run_connect(a);
	/* TCP: that 4-tuple is taken, or the port is bound by someone who
	 * does not share.  UDP: the port is taken (the autobind fails with
	 * EAGAIN).  Either way the socket is still unbound. */
	if (a->error == (a->s->type == SOCK_DGRAM ? EAGAIN : EADDRNOTAVAIL))
		return a->s->type == SOCK_STREAM ? TRIED_CLASHED : TRIED_REFUSED;
	a->ops->taken(a->ctx, STRATEGY_RANGE, port);
	return TRIED_TAKEN;
}

static enum ran connect_range(struct attempt *a, struct plan *plan)
{
	uint32_t app_range = a->s->app_range;

	if (!a->s->has_range_option)
		return RAN_UNSUPPORTED;
	enum picked picked = pick(a, plan, runtime_range_window(a->rt, app_range), try_range);
	/* Where the front end answers the program's getsockopt, a connected
	 * socket keeps [p, p] unless the program set a range of its own. */
	if (picked != PICKED_TAKEN || app_range != 0 || !a->ops->answers_range)
		a->ops->set_range(a->ctx, app_range);
	return picked == PICKED_TAKEN	  ? RAN_CONNECTED
	       : picked == PICKED_EXHAUSTED ? RAN_EXHAUSTED
					    : RAN_UNSUPPORTED;
}

/* The socket's SO_REUSEADDR as reuse needs it now; false on failure. */
static bool reuse_set(struct attempt *a, int on)
{
	if (a->kernel_reuse == on)
		return true;
	if (a->ops->set_reuseaddr(a->ctx, on) != 0)
		return false;
	a->kernel_reuse = on;
	return true;
}

/* A port nobody uses takes a bind without SO_REUSEADDR, and none of its
 * 4-tuples can then be taken.  One in use is shared (SO_REUSEADDR), unless
 * a live socket holds its 4-tuple towards this destination: the bind would
 * work, the connect fail, and a bound socket cannot be unbound.  Either
 * way the kernel's SO_REUSEADDR is then 1, so that later binds may share
 * the port and its TIME_WAIT. */
static enum tried try_reuse(struct attempt *a, unsigned port)
{
	if (!reuse_set(a, 0)) {
		a->failure = errno;
		return TRIED_FAILED;
	}
	sockaddr_set_port(&a->local, port);
	int bound = a->ops->bind(a->ctx, (struct sockaddr *)&a->local, a->local_len);
	if (bound != 0 && errno == EADDRINUSE) {
		if (early_tuple_taken(a->rt, a->ops->early, a->s->fd, a->flow, port))
			return TRIED_CLASHED;
		bound = reuse_set(a, 1) ? a->ops->bind(a->ctx, (struct sockaddr *)&a->local,
						       a->local_len)
					: -1;
	}
	if (bound != 0) {
		if (errno == EADDRINUSE || errno == EACCES)
			return TRIED_REFUSED;
		a->failure = errno;
		return TRIED_FAILED;
	}
	reuse_set(a, 1);
	run_connect(a);
	a->ops->taken(a->ctx, STRATEGY_REUSE, port);
	return TRIED_TAKEN;
}

static enum ran connect_reuse(struct attempt *a, struct plan *plan)
{
	a->local = *a->s->local;
	a->app_reuse = a->kernel_reuse = a->ops->app_reuseaddr(a->ctx);
	switch (pick(a, plan, port_range_window(a->s->app_range), try_reuse)) {
	case PICKED_TAKEN:
		/* The 4-tuple is taken, and the kernel cannot unbind the
		 * socket.  Another socket in its place would lose what the
		 * program knows of this one (epoll registrations, duplicates,
		 * its owner), so the connect fails as one with no port left
		 * does.  The per-destination walk keeps this rare. */
		return a->error == EADDRNOTAVAIL ? RAN_CLASHED : RAN_CONNECTED;
	case PICKED_EXHAUSTED:
		a->ops->set_reuseaddr(a->ctx, a->app_reuse);
		return RAN_EXHAUSTED;
	default:
		a->ops->set_reuseaddr(a->ctx, a->app_reuse);
		return RAN_GAVE_UP;
	}
}

static enum tried try_bind(struct attempt *a, unsigned port)
{
	sockaddr_set_port(&a->local, port);
	if (a->ops->bind(a->ctx, (struct sockaddr *)&a->local, a->local_len) == 0) {
		a->ops->taken(a->ctx, STRATEGY_EXCLUSIVE, port);
		return TRIED_TAKEN;
	}
	if (errno == EADDRINUSE || errno == EACCES)
		return TRIED_REFUSED;
	a->failure = errno;
	return TRIED_FAILED;
}

static enum ran connect_exclusive(struct attempt *a, struct plan *plan)
{
	a->local = *a->s->local;
	switch (pick(a, plan, port_range_window(a->s->app_range), try_bind)) {
	case PICKED_TAKEN:
		run_connect(a);
		return RAN_CONNECTED;
	case PICKED_EXHAUSTED:
		return RAN_EXHAUSTED;
	default:
		return RAN_GAVE_UP;
	}
}

/* `range` reaches the shim's range only inside the namespace's own. */
static bool range_reaches(const struct runtime *rt, const struct apply_socket *s)
{
	return s->has_range_option && rt->range_lo >= rt->kernel_lo &&
	       rt->range_hi <= rt->kernel_hi &&
	       atomic_load_explicit(&range_honoured, memory_order_relaxed) >= 0;
}

/* UDP never shares a bound port (two SO_REUSEADDR sockets could end up on
 * one 4-tuple), and a port it binds explicitly would outlive an AF_UNSPEC
 * disconnect: the kernel autobinds it to the chosen port through `range`,
 * whatever the TCP strategy, and only where it cannot, an exclusive bind. */
static enum strategy strategy_for(const struct runtime *rt, const struct apply_socket *s)
{
	if (s->type == SOCK_DGRAM)
		return range_reaches(rt, s) ? STRATEGY_RANGE : STRATEGY_EXCLUSIVE;
	if (rt->strategy != STRATEGY_AUTO)
		return rt->strategy;
	return range_reaches(rt, s) ? STRATEGY_RANGE : STRATEGY_REUSE;
}

/* The first connect that got a port through a `range` nobody asked for
 * checks that the kernel really used it: one getsockname(), once. */
static bool range_was_honoured(struct attempt *a)
{
	int expected = atomic_load(&range_honoured);

	if (expected != 0 || (a->error != 0 && a->error != EINPROGRESS))
		return expected >= 0;
	bool ok = a->ops->local_port(a->ctx) == a->port;
	atomic_store(&range_honoured, ok ? 1 : -1);
	return ok;
}

/* Runs the strategy; `range` where nobody asked for it learns whether the
 * kernel has it, and hands over to the next best (*strategy says which
 * ran). */
static enum ran run(struct attempt *a, struct plan *plan, enum strategy *strategy)
{
	bool learn = a->rt->strategy == STRATEGY_AUTO || a->s->type == SOCK_DGRAM;
	enum ran ran;

	switch (*strategy) {
	case STRATEGY_RANGE:
		ran = connect_range(a, plan);
		if (learn && ran == RAN_UNSUPPORTED && a->s->has_range_option) {
			atomic_store(&range_honoured, -1);
			*strategy = a->s->type == SOCK_DGRAM ? STRATEGY_EXCLUSIVE : STRATEGY_REUSE;
			return run(a, plan, strategy);
		}
		if (learn && ran == RAN_CONNECTED && !range_was_honoured(a))
			ran = RAN_IGNORED;
		return ran;
	case STRATEGY_REUSE:
		return connect_reuse(a, plan);
	default:
		return connect_exclusive(a, plan);
	}
}

int apply_exhausted_errno(int type, bool explicit_bind)
{
	if (explicit_bind)
		return EADDRINUSE; /* inet_csk_get_port() */
	return type == SOCK_DGRAM ? EAGAIN          /* udp_lib_get_port() */
				  : EADDRNOTAVAIL; /* __inet_hash_connect() */
}

/* No port of the plan was free: with on-exhaust=fail, the errno the kernel
 * gives when it has none itself. */
static enum apply_outcome exhausted(const struct runtime *rt, int type, bool explicit_bind,
				    struct decision *d)
{
	if (rt->cfg.on_exhaust != ON_EXHAUST_FAIL) {
		d->result = RESULT_FALLBACK;
		return APPLY_KERNEL;
	}
	d->result = RESULT_EXHAUSTED;
	d->error = apply_exhausted_errno(type, explicit_bind);
	return APPLY_FAILED;
}

enum apply_outcome apply_connect(struct runtime *rt, struct plan *plan,
				 const struct apply_ops *ops, void *ctx,
				 const struct apply_socket *s, const struct sockaddr *dst,
				 socklen_t len, struct decision *d)
{
	int saved = errno;
	enum strategy strategy = strategy_for(rt, s);
	struct flow flow = { dst, len, s->local, s->type, 0, false };
	struct attempt a = { .rt = rt, .ops = ops, .ctx = ctx, .s = s, .dst = dst,
			     .dst_len = len, .flow = &flow, .local_len = s->local_len };
	enum apply_outcome outcome = APPLY_KERNEL;

	d->strategy = strategy;
	/* Only `range` leaves the socket unbound when the connect fails. */
	if (strategy != STRATEGY_RANGE && early_refusal(rt, ops->early, s->fd, &flow)) {
		d->result = RESULT_PASSTHROUGH;
		errno = saved;
		return APPLY_KERNEL;
	}
	/* A port that serves several destinations is walked per destination. */
	flow.shares = s->type == SOCK_STREAM && strategy != STRATEGY_EXCLUSIVE;
	enum ran ran = run(&a, plan, &strategy);
	d->strategy = strategy;
	d->attempts = a.attempts;
	switch (ran) {
	case RAN_CONNECTED:
		d->result = RESULT_OK;
		d->port = a.port;
		d->error = a.error;
		outcome = APPLY_DONE;
		break;
	case RAN_CLASHED:
		d->result = RESULT_CLASH;
		d->port = a.port;
		d->error = EADDRNOTAVAIL;
		outcome = APPLY_FAILED;
		break;
	case RAN_IGNORED:
		/* It ran: the kernel's own port, as for a connect it chose. */
		d->result = RESULT_FALLBACK;
		d->error = a.error;
		if (a.error == 0 || a.error == EINPROGRESS || a.error == EINTR ||
		    a.error == EALREADY)
			d->port = ops->local_port(ctx);
		outcome = APPLY_DONE;
		break;
	case RAN_EXHAUSTED:
		outcome = exhausted(rt, s->type, false, d);
		break;
	case RAN_UNSUPPORTED:
	case RAN_GAVE_UP:
		d->result = RESULT_FALLBACK;
		break;
	}
	errno = saved;
	return outcome;
}

enum apply_outcome apply_bind(struct runtime *rt, struct plan *plan, const struct apply_ops *ops,
			      void *ctx, const struct apply_socket *s, const struct sockaddr *addr,
			      socklen_t len, const struct flow *flow, bool explicit_bind,
			      struct decision *d)
{
	int saved = errno;
	struct attempt a = { .rt = rt, .ops = ops, .ctx = ctx, .s = s, .flow = flow,
			     .local_len = len };
	enum apply_outcome outcome = APPLY_KERNEL;

	memcpy(&a.local, addr, len < sizeof(a.local) ? len : sizeof(a.local));
	d->strategy = STRATEGY_EXCLUSIVE;
	switch (pick(&a, plan, port_range_window(s->app_range), try_bind)) {
	case PICKED_TAKEN:
		d->result = RESULT_OK;
		d->port = a.port;
		outcome = APPLY_DONE;
		break;
	case PICKED_GAVE_UP:
		/* The address itself was refused (not local, say): for a bind
		 * the kernel gives the same answer for port 0; a send binds on
		 * its own. */
		d->result = RESULT_FALLBACK;
		if (explicit_bind) {
			d->error = a.failure;
			outcome = APPLY_FAILED;
		}
		break;
	case PICKED_EXHAUSTED:
		outcome = exhausted(rt, s->type, explicit_bind, d);
		break;
	}
	d->attempts = a.attempts;
	errno = saved;
	return outcome;
}
