/* Ports applied to a socket of the supervised program, on the supervisor's
 * duplicate of it, with the core's candidates (the same order, walk, rules
 * and bitmap hints as the library's strategies in shim/preload/).
 *
 * A connect() is made by the supervisor itself, and the program gets its
 * result: the chosen port is tried for real, a 4-tuple clash moves on to
 * the next candidate without the program seeing it, and the program's own
 * IP_LOCAL_PORT_RANGE is put back before it runs again (the supervisor
 * cannot run code after letting the program's own call go on).  The
 * supervisor's connect never waits: on a blocking socket O_NONBLOCK is set
 * around it, and a connect still in progress is then handed back to the
 * kernel (SECCOMP_USER_NOTIF_FLAG_CONTINUE): the program's own blocking
 * connect() on a connecting socket waits for it in the program's thread,
 * and returns what the kernel's would (0, ECONNREFUSED, EINTR on a
 * signal, ETIMEDOUT), with the program's SO_SNDTIMEO.  So no notification
 * ever waits for the network, and one slow connect stalls nothing. */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "core/candidates.h"
#include "core/early.h"
#include "supervisor.h"

static int get_int(int fd, int level, int name)
{
	int value = 0;
	socklen_t len = sizeof(value);

	return getsockopt(fd, level, name, &value, &len) == 0 ? value : 0;
}

static void set_int(int fd, int level, int name, int value)
{
	setsockopt(fd, level, name, &value, sizeof(value));
}

/* The socket's IP_LOCAL_PORT_RANGE; false before Linux 6.3. */
static bool port_range(const struct program_sock *s, uint32_t *range)
{
	socklen_t len = sizeof(*range);

	*range = 0;
	return getsockopt(s->fd, IPPROTO_IP, IP_LOCAL_PORT_RANGE, range, &len) == 0;
}

static int set_port_range(const struct program_sock *s, uint32_t range)
{
	return setsockopt(s->fd, IPPROTO_IP, IP_LOCAL_PORT_RANGE, &range, sizeof(range));
}

static unsigned local_port(const struct program_sock *s)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);

	return getsockname(s->fd, (struct sockaddr *)&ss, &len) == 0 ? sockaddr_port(&ss) : 0;
}

/* connect() that does not wait: 0 or the errno. */
static int connect_now(const struct program_sock *s, const struct sockaddr *dst, socklen_t len)
{
	/* The flags were read under the socket's lock (notify.c): no other
	 * call of the supervisor changes them meanwhile. */
	bool wait_off = s->type == SOCK_STREAM && !s->nonblocking && s->flags >= 0;
	int result, error;

	if (wait_off)
		fcntl(s->fd, F_SETFL, s->flags | O_NONBLOCK);
	result = connect(s->fd, dst, len);
	error = result == 0 ? 0 : errno;
	if (wait_off)
		fcntl(s->fd, F_SETFL, s->flags);
	return error;
}

/* The program's answer to a connect the supervisor made (error: 0 or its
 * errno).  A blocking socket still connecting goes back to the kernel; the
 * log then says EINPROGRESS unless the handshake is already over (a poll
 * that does not wait, when something logs; SO_ERROR is not read, the
 * program's connect needs it). */
static void connect_answer(const struct runtime *rt, const struct program_sock *s, int error,
			   struct decision *d, struct answer *a)
{
	d->error = error;
	if (error == EINPROGRESS && !s->nonblocking) {
		struct pollfd p = { s->fd, POLLOUT, 0 };
		a->carry_on = true;
		if (runtime_observing(rt) && poll(&p, 1, 0) == 1 &&
		    !(p.revents & (POLLERR | POLLHUP)))
			d->error = 0;
	} else if (error) {
		a->val = -1;
		a->error = error;
	}
}

/* The connect of the kernel's own choice (policy off, on-exhaust=kernel,
 * a strategy that cannot apply). */
static void connect_kernel(const struct runtime *rt, const struct program_sock *s,
			   const struct sockaddr *dst, socklen_t len, enum decision_result kind,
			   struct decision *d, struct answer *a)
{
	int error = connect_now(s, dst, len);

	d->result = kind;
	if (error == 0 || error == EINPROGRESS)
		d->port = local_port(s);
	connect_answer(rt, s, error, d, a);
}

enum outcome { CONNECTED, CLASHED, EXHAUSTED, UNSUPPORTED };

/* Strategy range: [p, p] for one attempt, the program's range (app_range)
 * after it. */
static enum outcome connect_range(struct runtime *rt, struct plan *plan, struct program_sock *s,
				  uint32_t app_range, const struct sockaddr *dst, socklen_t len,
				  struct decision *d, int *error)
{
	struct flow flow = { dst, len, &s->local, s->type, 0, s->type == SOCK_STREAM };
	struct candidates c;
	int port;

	candidates_begin(&c, rt, plan, runtime_range_window(rt, app_range), &flow);
	while ((port = candidates_next(&c)) >= 0) {
		d->attempts = c.attempts;
		if (set_port_range(s, (uint32_t)port << 16 | (uint32_t)port) != 0) {
			candidates_unused(&c, (unsigned)port);
			set_port_range(s, app_range);
			return UNSUPPORTED;
		}
		*error = connect_now(s, dst, len);
		if (*error == (s->type == SOCK_DGRAM ? EAGAIN : EADDRNOTAVAIL)) {
			if (flow.shares)
				candidates_clashed(&c, (unsigned)port);
			else
				candidates_refused(&c, (unsigned)port);
			continue;
		}
		set_port_range(s, app_range);
		candidates_taken(&c, (unsigned)port);
		d->port = (unsigned)port;
		return CONNECTED;
	}
	set_port_range(s, app_range);
	return EXHAUSTED;
}

/* The socket's SO_REUSEADDR as strategy reuse needs it now. */
static void reuse_set(const struct program_sock *s, int *now, int on)
{
	if (*now != on) {
		set_int(s->fd, SOL_SOCKET, SO_REUSEADDR, on);
		*now = on;
	}
}

/* Strategies exclusive and reuse: the socket bound to a candidate first,
 * then connected.  Reuse binds a port nobody uses without SO_REUSEADDR
 * (none of its 4-tuples can then be taken) and one in use with it, unless
 * a live socket holds its 4-tuple towards dst (core/early.c): the connect
 * would fail on a socket that cannot be unbound.  It leaves SO_REUSEADDR
 * on, as the kernel's own connect leaves its ports shareable; the
 * program's value is kept aside for its getsockopt() (reuseaddr.c). */
static enum outcome connect_bound(struct runtime *rt, struct plan *plan, struct program_sock *s,
				  uint32_t app_range, const struct sockaddr *dst, socklen_t len,
				  bool reuse, struct decision *d, int *error)
{
	struct flow flow = { dst, len, &s->local, s->type, 0, reuse };
	struct sockaddr_storage local = s->local;
	struct candidates c;
	int port, app_reuse = get_int(s->fd, SOL_SOCKET, SO_REUSEADDR), now = app_reuse;

	candidates_begin(&c, rt, plan, port_range_window(app_range), &flow);
	while ((port = candidates_next(&c)) >= 0) {
		d->attempts = c.attempts;
		sockaddr_set_port(&local, (unsigned)port);
		if (reuse)
			reuse_set(s, &now, 0);
		int bound = bind(s->fd, (struct sockaddr *)&local, s->local_len);
		if (bound != 0 && errno == EADDRINUSE && reuse) {
			if (early_tuple_taken(rt, &supervisor_early_calls, s->fd, &flow, (unsigned)port)) {
				candidates_clashed(&c, (unsigned)port);
				continue;
			}
			reuse_set(s, &now, 1);
			bound = bind(s->fd, (struct sockaddr *)&local, s->local_len);
		}
		if (bound != 0) {
			int why = errno;
			if (reuse)
				reuse_set(s, &now, app_reuse);
			if (why != EADDRINUSE && why != EACCES) {
				candidates_unused(&c, (unsigned)port);
				return UNSUPPORTED;
			}
			candidates_refused(&c, (unsigned)port);
			continue;
		}
		if (reuse) {
			reuse_set(s, &now, 1);
			if (!app_reuse)
				reuseaddr_keep(program_socket_ino(s), app_reuse);
		}
		*error = connect_now(s, dst, len);
		candidates_taken(&c, (unsigned)port);
		d->port = (unsigned)port;
		/* The kernel cannot unbind the socket: a taken 4-tuple fails
		 * the connect, as under the library's reuse strategy. */
		return reuse && *error == EADDRNOTAVAIL ? CLASHED : CONNECTED;
	}
	if (reuse)
		reuse_set(s, &now, app_reuse);
	return EXHAUSTED;
}

/* Range where the kernel has it (the socket's own range, read into
 * app_range, says), else reuse for TCP and exclusive for UDP, as the
 * library's `auto`. */
static enum strategy strategy_for(const struct runtime *rt, const struct program_sock *s,
				  uint32_t *app_range)
{
	bool has_option = port_range(s, app_range);
	bool reaches = rt->range_lo >= rt->kernel_lo && rt->range_hi <= rt->kernel_hi && has_option;

	if (s->type == SOCK_DGRAM)
		return reaches ? STRATEGY_RANGE : STRATEGY_EXCLUSIVE;
	if (rt->strategy != STRATEGY_AUTO)
		return rt->strategy;
	return reaches ? STRATEGY_RANGE : STRATEGY_REUSE;
}

void apply_connect(struct runtime *rt, struct program_sock *s, const struct sockaddr *dst,
		   socklen_t len, struct decision *d, struct answer *a)
{
	struct plan *plan = runtime_connect_plan(rt, dst, len);
	enum outcome outcome;
	uint32_t app_range;
	int error = 0;

	d->policy = plan->name;
	/* Only a TCP connect can wait (connect_now()). */
	if (s->type == SOCK_STREAM)
		program_socket_flags(s);
	if (plan->npasses == 0) {
		connect_kernel(rt, s, dst, len, RESULT_PASSTHROUGH, d, a);
		return;
	}
	d->strategy = strategy_for(rt, s, &app_range);
	/* Only `range` leaves the socket unbound when the connect fails. */
	struct flow flow = { dst, len, &s->local, s->type, 0, false };
	if (d->strategy != STRATEGY_RANGE && early_refusal(rt, &supervisor_early_calls, s->fd, &flow)) {
		connect_kernel(rt, s, dst, len, RESULT_PASSTHROUGH, d, a);
		return;
	}
	if (d->strategy == STRATEGY_RANGE)
		outcome = connect_range(rt, plan, s, app_range, dst, len, d, &error);
	else
		outcome = connect_bound(rt, plan, s, app_range, dst, len,
					d->strategy == STRATEGY_REUSE, d, &error);
	switch (outcome) {
	case CONNECTED:
		d->result = RESULT_OK;
		connect_answer(rt, s, error, d, a);
		return;
	case CLASHED:
		d->result = RESULT_CLASH;
		d->error = a->error = EADDRNOTAVAIL;
		a->val = -1;
		return;
	case EXHAUSTED:
		if (rt->cfg.on_exhaust == ON_EXHAUST_FAIL) {
			d->result = RESULT_EXHAUSTED;
			/* What the kernel says when it has no port itself. */
			d->error = a->error = s->type == SOCK_DGRAM ? EAGAIN : EADDRNOTAVAIL;
			a->val = -1;
			return;
		}
		break;
	case UNSUPPORTED:
		break;
	}
	connect_kernel(rt, s, dst, len, RESULT_FALLBACK, d, a);
}

/* An exclusive bind of a candidate of plan: the port, 0 when none was
 * left, or -1 with *error when the address itself is refused. */
static int bind_exclusive(struct runtime *rt, struct plan *plan, struct program_sock *s,
			  const struct sockaddr *addr, socklen_t len, const struct flow *flow,
			  struct decision *d, int *error)
{
	struct sockaddr_storage local;
	struct candidates c;
	uint32_t range;
	int port;

	memset(&local, 0, sizeof(local));
	memcpy(&local, addr, len < sizeof(local) ? len : sizeof(local));
	port_range(s, &range);
	candidates_begin(&c, rt, plan, port_range_window(range), flow);
	while ((port = candidates_next(&c)) >= 0) {
		d->attempts = c.attempts;
		sockaddr_set_port(&local, (unsigned)port);
		if (bind(s->fd, (struct sockaddr *)&local, len) == 0) {
			candidates_taken(&c, (unsigned)port);
			d->port = (unsigned)port;
			return port;
		}
		if (errno != EADDRINUSE && errno != EACCES) {
			*error = errno;
			candidates_unused(&c, (unsigned)port);
			return -1;
		}
		candidates_refused(&c, (unsigned)port);
	}
	return 0;
}

void apply_bind(struct runtime *rt, struct program_sock *s, const struct sockaddr *local,
		socklen_t len, struct decision *d, struct answer *a)
{
	struct flow flow = { NULL, 0, &s->local, s->type, 0, false };
	int error = 0, port = 0;

	d->policy = rt->bind.name;
	d->strategy = STRATEGY_EXCLUSIVE;
	/* The kernel's bind(0) scans the lower half first for SO_REUSEADDR. */
	if (rt->bind.policy.kind == POLICY_KERNEL)
		flow.reuseaddr = get_int(s->fd, SOL_SOCKET, SO_REUSEADDR);
	if (rt->bind.npasses > 0)
		port = bind_exclusive(rt, &rt->bind, s, local, len, &flow, d, &error);
	if (port > 0) {
		d->result = RESULT_OK;
		return;
	}
	if (port < 0) {
		/* The address itself was refused: the kernel's answer for port 0 too. */
		d->result = RESULT_FALLBACK;
		d->error = a->error = error;
		a->val = -1;
		return;
	}
	if (rt->bind.npasses > 0 && rt->cfg.on_exhaust == ON_EXHAUST_FAIL) {
		d->result = RESULT_EXHAUSTED;
		d->error = a->error = EADDRINUSE;
		a->val = -1;
		return;
	}
	d->result = rt->bind.npasses ? RESULT_FALLBACK : RESULT_PASSTHROUGH;
	if (bind(s->fd, local, len) != 0) {
		d->error = a->error = errno;
		a->val = -1;
	} else {
		d->port = local_port(s);
	}
}

void apply_send(struct runtime *rt, struct program_sock *s, const struct sockaddr *dst,
		socklen_t len, struct decision *d, struct answer *a)
{
	struct plan *plan = runtime_connect_plan(rt, dst, len);
	struct flow flow = { dst, len, &s->local, s->type, 0, false };
	int error = 0;

	a->carry_on = true;
	d->policy = plan->name;
	d->strategy = STRATEGY_EXCLUSIVE;
	/* Observed only: the kernel binds at the send itself, after us.  A TCP
	 * send with MSG_FASTOPEN connects: a port bound first would outlive a
	 * refusal the kernel makes before it needs one. */
	if (plan->npasses == 0 ||
	    (s->type == SOCK_STREAM && early_fastopen_refused(&supervisor_early_calls, s->fd)) ||
	    early_refusal(rt, &supervisor_early_calls, s->fd, &flow)) {
		d->result = RESULT_PASSTHROUGH;
		return;
	}
	int port = bind_exclusive(rt, plan, s, (const struct sockaddr *)&s->local, s->local_len,
				  &flow, d, &error);
	if (port > 0) {
		d->result = RESULT_OK;
	} else if (port == 0 && rt->cfg.on_exhaust == ON_EXHAUST_FAIL) {
		d->result = RESULT_EXHAUSTED;
		d->error = a->error = s->type == SOCK_DGRAM ? EAGAIN : EADDRNOTAVAIL;
		a->val = -1;
		a->carry_on = false;
	} else {
		d->result = RESULT_FALLBACK;
	}
}
