/* The program's own IP_LOCAL_PORT_RANGE under the supervisor.  Strategy
 * range connects a socket with [p, p]; as the library does, the
 * supervisor leaves that on a connected socket and gives the program its
 * own value where it asks: the filter traps getsockopt() and setsockopt()
 * of IPPROTO_IP/IP_LOCAL_PORT_RANGE, which programs seldom make, so that a
 * connect costs neither a reading of the program's range nor putting it
 * back (two of the supervisor's system calls).
 *
 * While no program under the supervisor has set a range, every socket's
 * own is 0 and a connect reads none.  Once one has, every connect reads
 * the socket's range and puts it back after, as the kernel alone would
 * leave it, and the sockets the program set a range on are listed
 * (sockmemo.c).  A trapped getsockopt() of any other socket that holds
 * [p, p] of its own port p gets 0, the range taken off before the kernel
 * answers.  Not seen: the option set or read through io_uring; a socket
 * given a range outside the supervisor's reach (inherited, or passed over
 * a UNIX socket) counts as having none until a program under the
 * supervisor sets one (README.md, "Known limits"). */
#include <netinet/in.h>
#include <stdatomic.h>

#include "core/tcpclosed.h"
#include "supervisor.h"

static atomic_bool any_set;
static atomic_int option; /* 0 unknown, 1 the kernel has IP_LOCAL_PORT_RANGE, -1 not */

bool portrange_exact(void)
{
	return atomic_load_explicit(&any_set, memory_order_acquire);
}

bool portrange_of_program(int fd, uint32_t *range)
{
	int known = atomic_load_explicit(&option, memory_order_relaxed);
	uint32_t value = 0;
	socklen_t len = sizeof(value);

	if (known != 0 && !portrange_exact()) {
		*range = 0;
		return known > 0;
	}
	bool has = getsockopt(fd, IPPROTO_IP, IP_LOCAL_PORT_RANGE, &value, &len) == 0;
	atomic_store_explicit(&option, has ? 1 : -1, memory_order_relaxed);
	*range = has ? value : 0;
	return has;
}

void portrange_release(struct program_sock *s)
{
	uint32_t range = 0;
	socklen_t len = sizeof(range);

	if (portrange_exact() || atomic_load_explicit(&option, memory_order_relaxed) <= 0)
		return;
	if (getsockopt(s->fd, IPPROTO_IP, IP_LOCAL_PORT_RANGE, &range, &len) == 0 && range != 0) {
		range = 0;
		setsockopt(s->fd, IPPROTO_IP, IP_LOCAL_PORT_RANGE, &range, sizeof(range));
	}
}

void portrange_program_sets(struct program_sock *s)
{
	atomic_store_explicit(&any_set, true, memory_order_release);
	uint64_t ino = program_socket_ino(s);
	if (ino)
		sockmemo_keep(SOCKMEMO_RANGE, ino, 1);
}

/* Does the socket hold the supervisor's [q, q], not a range of the
 * program's own?  Its own port's, q = port; or, while no program has set a
 * range, any: a lost socket (below) connected again shows its old port
 * until the kernel binds it. */
static bool holds_ours(struct program_sock *s, unsigned port)
{
	uint32_t range = 0;
	socklen_t len = sizeof(range);
	uint64_t ino = program_socket_ino(s);
	int listed;

	if (port == 0 || (ino && sockmemo_get(SOCKMEMO_RANGE, ino, &listed)) ||
	    getsockopt(s->fd, IPPROTO_IP, IP_LOCAL_PORT_RANGE, &range, &len) != 0 ||
	    range == 0 || (range >> 16) != (range & 0xffffu))
		return false;
	return range == (port << 16 | port) || !portrange_exact();
}

void portrange_take_off(struct program_sock *s)
{
	uint32_t none = 0;

	setsockopt(s->fd, IPPROTO_IP, IP_LOCAL_PORT_RANGE, &none, sizeof(none));
}

void portrange_program_reads(struct program_sock *s)
{
	struct sockaddr_storage local;
	socklen_t len = sizeof(local);

	if (getsockname(s->fd, (struct sockaddr *)&local, &len) == 0 &&
	    holds_ours(s, sockaddr_port(&local)))
		portrange_take_off(s);
}

bool portrange_lost(struct program_sock *s)
{
	unsigned char info[TCP_INFO_ASK];
	socklen_t len = sizeof(info);

	if (s->type != SOCK_STREAM ||
	    (s->local.ss_family != AF_INET && s->local.ss_family != AF_INET6) ||
	    getsockopt(s->fd, IPPROTO_TCP, TCP_INFO, info, &len) != 0 ||
	    !tcp_port_released(info, len) || !holds_ours(s, sockaddr_port(&s->local)))
		return false;
	sockaddr_set_port(&s->local, 0);
	return true;
}
