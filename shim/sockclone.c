/* See sockclone.h.  Options are compared with a fresh socket's and copied
 * only where they differ, so nothing needs privileges it did not need
 * before (SO_MARK, SO_BINDTODEVICE).  Not carried over: socket filters,
 * TCP_MD5SIG, TCP_ULP and other state that cannot be read back. */
#include "sockclone.h"

#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "real.h"

#ifndef IP_LOCAL_PORT_RANGE
#define IP_LOCAL_PORT_RANGE 51
#endif

struct option {
	int level, name;
	socklen_t size;
	int family;       /* 0: any socket; else only sockets of this family */
	bool kernel_doubles; /* SO_SNDBUF/SO_RCVBUF read back twice what was set */
};

#define SOCKOPT(level, name, type) { level, name, sizeof(type), 0, false }

static const struct option options[] = {
	SOCKOPT(SOL_SOCKET, SO_REUSEADDR, int),
	SOCKOPT(SOL_SOCKET, SO_REUSEPORT, int),
	SOCKOPT(SOL_SOCKET, SO_KEEPALIVE, int),
	SOCKOPT(SOL_SOCKET, SO_OOBINLINE, int),
	SOCKOPT(SOL_SOCKET, SO_PRIORITY, int),
	SOCKOPT(SOL_SOCKET, SO_RCVLOWAT, int),
	SOCKOPT(SOL_SOCKET, SO_MARK, int),
	SOCKOPT(SOL_SOCKET, SO_LINGER, struct linger),
	SOCKOPT(SOL_SOCKET, SO_RCVTIMEO, struct timeval),
	SOCKOPT(SOL_SOCKET, SO_SNDTIMEO, struct timeval),
	SOCKOPT(SOL_SOCKET, SO_BINDTODEVICE, char[IFNAMSIZ]),
	SOCKOPT(SOL_SOCKET, SO_TIMESTAMP, int),
	SOCKOPT(SOL_SOCKET, SO_TIMESTAMPNS, int),
	{ SOL_SOCKET, SO_SNDBUF, sizeof(int), 0, true },
	{ SOL_SOCKET, SO_RCVBUF, sizeof(int), 0, true },
	SOCKOPT(IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, int),
	SOCKOPT(IPPROTO_IP, IP_LOCAL_PORT_RANGE, uint32_t),
	SOCKOPT(IPPROTO_IP, IP_FREEBIND, int),
	SOCKOPT(IPPROTO_IP, IP_TRANSPARENT, int),
	SOCKOPT(IPPROTO_IP, IP_MTU_DISCOVER, int),
	SOCKOPT(IPPROTO_IP, IP_RECVERR, int),
	{ IPPROTO_IP, IP_TOS, sizeof(int), AF_INET, false },
	{ IPPROTO_IP, IP_TTL, sizeof(int), AF_INET, false },
	{ IPPROTO_IPV6, IPV6_V6ONLY, sizeof(int), AF_INET6, false },
	{ IPPROTO_IPV6, IPV6_TCLASS, sizeof(int), AF_INET6, false },
	{ IPPROTO_IPV6, IPV6_UNICAST_HOPS, sizeof(int), AF_INET6, false },
	{ IPPROTO_IPV6, IPV6_MTU_DISCOVER, sizeof(int), AF_INET6, false },
	{ IPPROTO_IPV6, IPV6_RECVERR, sizeof(int), AF_INET6, false },
	SOCKOPT(IPPROTO_TCP, TCP_NODELAY, int),
	SOCKOPT(IPPROTO_TCP, TCP_MAXSEG, int),
	SOCKOPT(IPPROTO_TCP, TCP_CORK, int),
	SOCKOPT(IPPROTO_TCP, TCP_KEEPIDLE, int),
	SOCKOPT(IPPROTO_TCP, TCP_KEEPINTVL, int),
	SOCKOPT(IPPROTO_TCP, TCP_KEEPCNT, int),
	SOCKOPT(IPPROTO_TCP, TCP_SYNCNT, int),
	SOCKOPT(IPPROTO_TCP, TCP_LINGER2, int),
	SOCKOPT(IPPROTO_TCP, TCP_WINDOW_CLAMP, int),
	SOCKOPT(IPPROTO_TCP, TCP_QUICKACK, int),
	SOCKOPT(IPPROTO_TCP, TCP_USER_TIMEOUT, int),
	SOCKOPT(IPPROTO_TCP, TCP_NOTSENT_LOWAT, int),
	SOCKOPT(IPPROTO_TCP, TCP_FASTOPEN_CONNECT, int),
	SOCKOPT(IPPROTO_TCP, TCP_CONGESTION, char[16]),
};

#define N_OPTIONS (sizeof(options) / sizeof(options[0]))
_Static_assert(N_OPTIONS <= SOCK_OPTIONS_KNOWN, "struct sock_template holds every option");

/* Reads the options of `from` that differ from the fresh socket `to`'s into
 * the template, as setsockopt() takes them. */
static void learn_options(int from, int to, int family, struct sock_template *t)
{
	t->nset = 0;
	for (size_t i = 0; i < N_OPTIONS; i++) {
		const struct option *o = &options[i];
		unsigned char fresh[SOCK_OPTION_MAX];
		struct sock_option *want = &t->set[t->nset];
		socklen_t fresh_len = o->size;

		if (o->family && o->family != family)
			continue;
		want->len = o->size;
		memset(want->value, 0, sizeof(want->value));
		memset(fresh, 0, sizeof(fresh));
		/* An option this kernel does not know is one nobody set. */
		if (real_getsockopt(from, o->level, o->name, want->value, &want->len) != 0 ||
		    real_getsockopt(to, o->level, o->name, fresh, &fresh_len) != 0)
			continue;
		if (want->len == fresh_len && memcmp(want->value, fresh, want->len) == 0)
			continue;
		if (o->kernel_doubles) {
			int half = *(int *)want->value / 2;
			memcpy(want->value, &half, sizeof(half));
		}
		if (o->name == SO_BINDTODEVICE && o->level == SOL_SOCKET)
			want->len = (socklen_t)strnlen((char *)want->value, IFNAMSIZ);
		want->option = (uint16_t)i;
		t->nset++;
	}
}

static int apply_options(int to, const struct sock_template *t)
{
	for (int i = 0; i < t->nset; i++) {
		const struct option *o = &options[t->set[i].option];
		if (real_setsockopt(to, o->level, o->name, t->set[i].value, t->set[i].len) != 0)
			return -1;
	}
	return 0;
}

static bool has_address(const struct sock *s)
{
	static const struct in6_addr any6 = IN6ADDR_ANY_INIT;

	if (s->local.ss_family == AF_INET)
		return ((const struct sockaddr_in *)&s->local)->sin_addr.s_addr != htonl(INADDR_ANY);
	return memcmp(&((const struct sockaddr_in6 *)&s->local)->sin6_addr, &any6, sizeof(any6)) != 0;
}

int sock_replace(const struct sock *s, struct sock_template *t)
{
	if (!t->ready) {
		socklen_t len = sizeof(t->protocol);
		if (real_getsockopt(s->fd, SOL_SOCKET, SO_PROTOCOL, &t->protocol, &len) != 0 ||
		    (t->fl = fcntl(s->fd, F_GETFL)) < 0 || (t->fdflags = fcntl(s->fd, F_GETFD)) < 0)
			return -1;
	}

	int fresh = real_socket(s->local.ss_family, s->type | SOCK_CLOEXEC, t->protocol);
	if (fresh < 0)
		return -1;
	if (!t->ready) {
		learn_options(s->fd, fresh, s->local.ss_family, t);
		t->ready = true;
	}
	if (apply_options(fresh, t) != 0 || fcntl(fresh, F_SETFL, t->fl) != 0 ||
	    /* An address the application bound (with IP_BIND_ADDRESS_NO_PORT,
	     * among the options, so the port stays unchosen). */
	    (has_address(s) && real_bind(fresh, (const struct sockaddr *)&s->local, s->local_len) != 0) ||
	    real_dup3(fresh, s->fd, (t->fdflags & FD_CLOEXEC) ? O_CLOEXEC : 0) < 0) {
		int saved = errno;
		real_close(fresh);
		errno = saved;
		return -1;
	}
	real_close(fresh);
	return 0;
}
