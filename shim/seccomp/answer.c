/* The supervisor's answers to a trapped connect, bind or send: the port
 * applied by the core (core/apply.h) on the supervisor's duplicate of the
 * program's socket, with the same strategies, candidates, walk, rules and
 * bitmap as the library's hooks.
 *
 * A connect() is made by the supervisor itself, and the program gets its
 * result: the chosen port is tried for real, and a 4-tuple clash moves on
 * to the next candidate without the program seeing it (the supervisor
 * cannot run code after letting the program's own call go on).  The
 * program's own IP_LOCAL_PORT_RANGE is portrange.c's.  The
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

#include "core/apply.h"
#include "core/control.h"
#include "core/early.h"
#include "supervisor.h"

static int get_int(int fd, int level, int name)
{
	int value = 0;
	socklen_t len = sizeof(value);

	return getsockopt(fd, level, name, &value, &len) == 0 ? value : 0;
}

static int set_int(int fd, int level, int name, int value)
{
	return setsockopt(fd, level, name, &value, sizeof(value));
}

static unsigned local_port_of(const struct program_sock *s)
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

/* The core's operations on the supervisor's duplicate. */
struct duplicate {
	struct program_sock *s;
	int app_reuse;
};

static int op_set_range(void *ctx, uint32_t range)
{
	const struct duplicate *dup = ctx;

	return setsockopt(dup->s->fd, IPPROTO_IP, IP_LOCAL_PORT_RANGE, &range, sizeof(range));
}

static int op_set_reuseaddr(void *ctx, int on)
{
	const struct duplicate *dup = ctx;

	return set_int(dup->s->fd, SOL_SOCKET, SO_REUSEADDR, on);
}

static int op_bind(void *ctx, const struct sockaddr *addr, socklen_t len)
{
	const struct duplicate *dup = ctx;

	return bind(dup->s->fd, addr, len);
}

static int op_connect(void *ctx, const struct sockaddr *dst, socklen_t len)
{
	const struct duplicate *dup = ctx;
	int error = connect_now(dup->s, dst, len);

	errno = error;
	return error ? -1 : 0;
}

static unsigned op_local_port(void *ctx)
{
	const struct duplicate *dup = ctx;

	return local_port_of(dup->s);
}

static int op_app_reuseaddr(void *ctx)
{
	struct duplicate *dup = ctx;

	return dup->app_reuse = get_int(dup->s->fd, SOL_SOCKET, SO_REUSEADDR);
}

/* Strategy reuse leaves SO_REUSEADDR on, as the kernel's own connect
 * leaves its ports shareable; the program's value is kept aside for its
 * getsockopt() (sockmemo.c). */
static void op_taken(void *ctx, enum strategy strategy, unsigned port)
{
	struct duplicate *dup = ctx;

	(void)port;
	if (strategy == STRATEGY_REUSE && !dup->app_reuse)
		sockmemo_keep(SOCKMEMO_REUSEADDR, program_socket_ino(dup->s), dup->app_reuse != 0);
}

#define SUPERVISOR_OPS(answers)                                                     \
	{                                                                           \
		.set_range = op_set_range, .set_reuseaddr = op_set_reuseaddr,       \
		.bind = op_bind, .connect = op_connect, .local_port = op_local_port, \
		.app_reuseaddr = op_app_reuseaddr, .taken = op_taken,               \
		.early = &supervisor_early_calls, .answers_range = (answers),       \
	}

/* A connected socket keeps [p, p] while the program's range is 0 (the
 * answering ops), or gets the program's range back (portrange.c). */
static const struct apply_ops answering_ops = SUPERVISOR_OPS(true), exact_ops = SUPERVISOR_OPS(false);

/* The socket as the core sees it (its range false before Linux 6.3, which
 * has no IP_LOCAL_PORT_RANGE), and the ops for it. */
static const struct apply_ops *describe(struct program_sock *s, struct duplicate *dup,
					struct apply_socket *as)
{
	uint32_t range;
	bool has_option = portrange_of_program(s->fd, &range);

	*dup = (struct duplicate){ s, 0 };
	*as = (struct apply_socket){ s->fd, s->type, &s->local, s->local_len, has_option, range };
	return portrange_exact() ? &exact_ops : &answering_ops;
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
 * a strategy that cannot apply): d->result says which. */
static void connect_kernel(const struct runtime *rt, const struct program_sock *s,
			   const struct sockaddr *dst, socklen_t len, struct decision *d,
			   struct answer *a)
{
	int error = connect_now(s, dst, len);

	if (error == 0 || error == EINPROGRESS)
		d->port = local_port_of(s);
	connect_answer(rt, s, error, d, a);
}

static void fail(struct decision *d, struct answer *a)
{
	a->val = -1;
	a->error = d->error;
	a->carry_on = false;
}

void answer_connect(struct runtime *rt, struct program_sock *s, const struct sockaddr *dst,
		    socklen_t len, struct decision *d, struct answer *a)
{
	struct plan *plan = control_connect_plan(rt, dst, len);
	struct duplicate dup;
	struct apply_socket as;

	d->policy = plan->name;
	/* Only a TCP connect can wait (connect_now()). */
	if (s->type == SOCK_STREAM)
		program_socket_flags(s);
	if (plan->npasses == 0) {
		d->result = RESULT_PASSTHROUGH;
		portrange_release(s);
		connect_kernel(rt, s, dst, len, d, a);
		return;
	}
	const struct apply_ops *ops = describe(s, &dup, &as);
	switch (apply_connect(rt, plan, ops, &dup, &as, dst, len, d)) {
	case APPLY_DONE:
		connect_answer(rt, s, d->error, d, a);
		return;
	case APPLY_FAILED:
		fail(d, a);
		return;
	case APPLY_KERNEL:
		connect_kernel(rt, s, dst, len, d, a);
		return;
	}
}

void answer_bind(struct runtime *rt, struct program_sock *s, const struct sockaddr *local,
		 socklen_t len, struct decision *d, struct answer *a)
{
	struct flow flow = { NULL, 0, &s->local, s->type, 0, false };
	struct duplicate dup;
	struct apply_socket as;

	d->policy = rt->bind.name;
	d->strategy = STRATEGY_EXCLUSIVE;
	d->result = RESULT_PASSTHROUGH;
	if (rt->bind.npasses > 0) {
		/* The kernel's bind(0) scans the lower half first for SO_REUSEADDR. */
		if (rt->bind.policy.kind == POLICY_KERNEL)
			flow.reuseaddr = get_int(s->fd, SOL_SOCKET, SO_REUSEADDR);
		const struct apply_ops *ops = describe(s, &dup, &as);
		switch (apply_bind(rt, &rt->bind, ops, &dup, &as, local, len, &flow, true, d)) {
		case APPLY_DONE:
			return;
		case APPLY_FAILED:
			fail(d, a);
			return;
		case APPLY_KERNEL:
			break;
		}
	}
	portrange_release(s);
	if (bind(s->fd, local, len) != 0) {
		d->error = a->error = errno;
		a->val = -1;
	} else {
		d->port = local_port_of(s);
	}
}

void answer_send(struct runtime *rt, struct program_sock *s, const struct sockaddr *dst,
		 socklen_t len, struct decision *d, struct answer *a)
{
	struct plan *plan = control_connect_plan(rt, dst, len);
	struct flow flow = { dst, len, &s->local, s->type, 0, false };
	struct duplicate dup;
	struct apply_socket as;

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
		portrange_release(s);
		return;
	}
	const struct apply_ops *ops = describe(s, &dup, &as);
	if (apply_bind(rt, plan, ops, &dup, &as, (const struct sockaddr *)&s->local, s->local_len,
		       &flow, false, d) == APPLY_FAILED)
		fail(d, a);
}
