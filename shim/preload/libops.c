/* See libops.h. */
#include "libops.h"

#include <errno.h>
#include <netinet/in.h>

#include "fdtable.h"
#include "real.h"

static int set_range(void *ctx, uint32_t range)
{
	const struct libops_socket *ls = ctx;

	return real_setsockopt(ls->s->fd, IPPROTO_IP, IP_LOCAL_PORT_RANGE, &range, sizeof(range));
}

static int set_reuseaddr(void *ctx, int on)
{
	const struct libops_socket *ls = ctx;

	return real_setsockopt(ls->s->fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on));
}

/* A program's SO_REUSEPORT would let the bind share a port that the
 * policy means to be this socket's alone: off around the bind. */
static int bind_port(void *ctx, const struct sockaddr *addr, socklen_t len)
{
	const struct libops_socket *ls = ctx;
	bool paused = sock_reuseport_pause(ls->s);
	int result = real_bind(ls->s->fd, addr, len);

	sock_reuseport_resume(ls->s, paused); /* keeps errno */
	return result;
}

static int connect_to(void *ctx, const struct sockaddr *dst, socklen_t len)
{
	const struct libops_socket *ls = ctx;

	return real_connect(ls->s->fd, dst, len);
}

static unsigned local_port(void *ctx)
{
	const struct libops_socket *ls = ctx;

	return sock_local_port(ls->s->fd);
}

static int app_reuseaddr(void *ctx)
{
	struct libops_socket *ls = ctx;

	return ls->app_reuse = sock_reuseaddr(ls->s);
}

/* The hooks answer the program's getsockopt() from these notes: a range
 * left on the socket, the program's SO_REUSEADDR under the kernel's 1. */
static void taken(void *ctx, enum strategy strategy, unsigned port)
{
	const struct libops_socket *ls = ctx;
	uint32_t entry = (uint32_t)port;

	if (strategy == STRATEGY_RANGE && ls->app_range == 0)
		entry |= FDTABLE_RANGE;
	else if (strategy == STRATEGY_REUSE)
		entry |= FDTABLE_REUSE | (ls->app_reuse ? FDTABLE_APP_REUSE : 0);
	fdtable_record(&portshim_fds, ls->s->fd, entry);
}

const struct apply_ops libops = {
	.set_range = set_range,
	.set_reuseaddr = set_reuseaddr,
	.bind = bind_port,
	.connect = connect_to,
	.local_port = local_port,
	.app_reuseaddr = app_reuseaddr,
	.taken = taken,
	.early = &real_early_calls,
	.answers_range = true,
};

void libops_describe(const struct sock *s, struct libops_socket *ls, struct apply_socket *as)
{
	ls->s = s;
	ls->app_reuse = 0;
	/* True without a system call unless the program set a range. */
	bool has_option = sock_port_range(s, &ls->app_range);
	*as = (struct apply_socket){ s->fd, s->type, &s->local, s->local_len, has_option,
				     ls->app_range };
}
