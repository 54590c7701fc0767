/* hostile: the socket calls a careless or hostile program makes, for
 * hostile.bats, which runs them with and without the shim and requires the
 * same output:
 *
 *   hostile cases       one line per case, "case=NAME ret=R errno=NAME ..."
 *   hostile memory      only the bad-pointer cases (hostile/memory.c)
 *   hostile rfc2133 N   N of each call with a 24-byte sockaddr_in6: "CALL PORT"
 *
 * The cases are grouped by what they try: here, misuse of descriptors and
 * calls; hostile/addresses.c, address lengths; hostile/memory.c, bad
 * pointers; hostile/early.c, connects that fail before any port matters.
 *
 * Every call is made with errno set to EDOM first, and errno is printed
 * whatever the result: after a successful call it must still be EDOM.
 * (The other scenarios of hostile.bats are in fdlife.c.)
 */
#include "hostile/hostile.h"

/* "port=0", "port!=0" or "port=none" (getsockname failed). */
static const char *port_state(int fd)
{
	int p = local_port(fd);
	return p < 0 ? "=none" : p == 0 ? "=0" : "!=0";
}

static int so_error(int fd)
{
	int err = -1;
	socklen_t len = sizeof(err);
	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0)
		return -1;
	return err;
}

void report(const char *name, int ret, int err, int fd)
{
	printf("case=%s ret=%d errno=%s", name, ret, ename(err));
	if (fd >= 0)
		printf(" port%s so_error=%s", port_state(fd), ename(so_error(fd)));
	printf("\n");
	fflush(stdout);
}

struct sockaddr_in6 v6(int port)
{
	struct sockaddr_in6 a = {.sin6_family = AF_INET6, .sin6_port = htons(port)};
	a.sin6_addr = in6addr_loopback;
	return a;
}

int listener(int family, int *port)
{
	int s = socket(family, SOCK_STREAM, 0), one = 1;
	setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (family == AF_INET) {
		struct sockaddr_in a = v4(0);
		if (bind(s, (struct sockaddr *)&a, sizeof(a)) < 0) exit(2);
	} else {
		struct sockaddr_in6 a = v6(0);
		if (bind(s, (struct sockaddr *)&a, sizeof(a)) < 0) exit(2);
	}
	if (listen(s, 128) < 0) exit(2);
	*port = local_port(s);
	return s;
}

static int cases(void)
{
	int lport, lport6;
	int ls = listener(AF_INET, &lport);
	int ls6 = listener(AF_INET6, &lport6);
	struct sockaddr_in a = v4(lport);
	struct sockaddr_in6 a6 = v6(lport6);
	int s;

	cases_addresses(lport, lport6);

	/* NULL addresses. */
	s = tcp4();
	CALL("connect_null_len0", s, connect(s, NULL, 0));
	CALL("connect_null_len16", s, connect(s, NULL, 16));
	CALL("bind_null_len16", s, bind(s, NULL, 16));
	close(s);
	s = socket(AF_INET, SOCK_DGRAM, 0);
	CALL("connect_udp_null_len16", s, connect(s, NULL, 16));
	close(s);

	/* AF_UNSPEC: disconnect a connected UDP socket; on an unconnected TCP one. */
	{
		struct sockaddr un = {.sa_family = AF_UNSPEC};
		s = socket(AF_INET, SOCK_DGRAM, 0);
		CALL("connect_udp", s, connect(s, (struct sockaddr *)&a, sizeof(a)));
		CALL("connect_udp_unspec", s, connect(s, &un, sizeof(un)));
		{
			struct sockaddr_storage peer;
			socklen_t pl = sizeof(peer);
			CALL("getpeername_after_unspec", -1,
			     getpeername(s, (struct sockaddr *)&peer, &pl));
		}
		CALL("connect_udp_again", s, connect(s, (struct sockaddr *)&a, sizeof(a)));
		close(s);
		s = tcp4();
		CALL("connect_tcp_unconnected_unspec", s, connect(s, &un, sizeof(un)));
		CALL("connect_tcp_after_unspec", s, connect(s, (struct sockaddr *)&a, sizeof(a)));
		close(s);
	}

	/* connect() on a listening socket. */
	{
		int p, l2 = listener(AF_INET, &p);
		CALL("connect_on_listener", l2, connect(l2, (struct sockaddr *)&a, sizeof(a)));
		close(l2);
	}

	/* Non-blocking connect, repeated. */
	{
		s = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
		errno = EDOM;
		int r = connect(s, (struct sockaddr *)&a, sizeof(a));
		int e = errno;
		/* Loopback may complete at once: 0 is a success like EINPROGRESS. */
		printf("case=nonblock_connect_1 %s\n",
		       (r == 0 && e == EDOM) || (r < 0 && e == EINPROGRESS) ? "started" : "unexpected");
		if (!((r == 0 && e == EDOM) || (r < 0 && e == EINPROGRESS)))
			report("nonblock_connect_1_detail", r, e, s);
		/* At once: still pending (EALREADY), or done: 0 the first time
		 * the completed connection is seen, EISCONN after. */
		errno = EDOM;
		r = connect(s, (struct sockaddr *)&a, sizeof(a));
		e = errno;
		printf("case=nonblock_connect_2 %s\n",
		       (r == 0 && e == EDOM) || (r < 0 && (e == EALREADY || e == EISCONN)) ?
		       "0|EALREADY|EISCONN" : ename(e));
		struct pollfd pfd = {.fd = s, .events = POLLOUT};
		int pr = poll(&pfd, 1, 5000);
		printf("case=nonblock_poll ret=%d revents=%#x\n", pr, (unsigned)pfd.revents);
		errno = EDOM;
		r = connect(s, (struct sockaddr *)&a, sizeof(a));
		e = errno;
		printf("case=nonblock_connect_3 %s port%s so_error=%s\n",
		       (r == 0 && e == EDOM) || (r < 0 && e == EISCONN) ? "0|EISCONN" : ename(e),
		       port_state(s), ename(so_error(s)));
		CALL("nonblock_connect_4", s, connect(s, (struct sockaddr *)&a, sizeof(a)));
		close(s);
	}

	/* Not a socket; a closed descriptor. */
	{
		int p[2];
		if (pipe(p) < 0) return 2;
		CALL("connect_pipe", -1, connect(p[0], (struct sockaddr *)&a, sizeof(a)));
		CALL("bind_pipe", -1, bind(p[1], (struct sockaddr *)&a, sizeof(a)));
		CALL("sendto_pipe", -1, (int)sendto(p[1], "x", 1, 0, (struct sockaddr *)&a, sizeof(a)));
		CALL("close_pipe0", -1, close(p[0]));
		CALL("close_pipe1", -1, close(p[1]));
		s = tcp4();
		close(s);
		CALL("connect_closed_fd", -1, connect(s, (struct sockaddr *)&a, sizeof(a)));
		CALL("bind_closed_fd", -1, bind(s, (struct sockaddr *)&a, sizeof(a)));
		CALL("close_closed_fd", -1, close(s));
		CALL("connect_fd_-1", -1, connect(-1, (struct sockaddr *)&a, sizeof(a)));
	}

	/* A descriptor above 65,536 (or the highest allowed). */
	{
		int hfd = high_fd();
		s = tcp4();
		CALL("dup2_high", -1, dup2(s, hfd) == hfd ? 0 : -1);
		close(s);
		CALL("connect_high", hfd, connect(hfd, (struct sockaddr *)&a, sizeof(a)));
		CALL("close_high", -1, close(hfd));
		s = tcp4();
		dup2(s, hfd);
		close(s);
		struct sockaddr_in any = v4(0);
		CALL("bind0_high", hfd, bind(hfd, (struct sockaddr *)&any, sizeof(any)));
		CALL("close_high_bound", -1, close(hfd));
	}

	/* Port in use. */
	{
		s = tcp4();
		CALL("bind_in_use", s, bind(s, (struct sockaddr *)&a, sizeof(a)));
		close(s);
	}

	/* Address family different from the socket's. */
	{
		char buf[sizeof(struct sockaddr_in6)];
		memset(buf, 0, sizeof(buf));
		memcpy(buf, &a, sizeof(a));
		s = tcp4();
		CALL("connect_inet_sock_inet6_addr", s, connect(s, (struct sockaddr *)&a6, sizeof(a6)));
		CALL("bind_inet_sock_inet6_addr", s, bind(s, (struct sockaddr *)&a6, sizeof(a6)));
		close(s);
		s = socket(AF_INET6, SOCK_STREAM, 0);
		CALL("connect_inet6_sock_inet_addr16", s, connect(s, (struct sockaddr *)&a, sizeof(a)));
		CALL("connect_inet6_sock_inet_addr28", s, connect(s, (struct sockaddr *)buf, sizeof(buf)));
		CALL("bind_inet6_sock_inet_addr16", s, bind(s, (struct sockaddr *)&a, sizeof(a)));
		close(s);
		s = socket(AF_INET, SOCK_DGRAM, 0);
		CALL("sendto_inet_udp_inet6_addr", s,
		     (int)sendto(s, "x", 1, 0, (struct sockaddr *)&a6, sizeof(a6)));
		close(s);
	}

	/* sendto() with a too-short address. */
	{
		s = socket(AF_INET, SOCK_DGRAM, 0);
		CALL("sendto_udp_len8", s, (int)sendto(s, "x", 1, 0, (struct sockaddr *)&a, 8));
		CALL("sendto_udp_len15", s, (int)sendto(s, "x", 1, 0, (struct sockaddr *)&a, 15));
		CALL("sendto_udp_ok", s, (int)sendto(s, "x", 1, 0, (struct sockaddr *)&a, sizeof(a)));
		close(s);
		s = socket(AF_INET6, SOCK_DGRAM, 0);
		CALL("sendto_udp6_len23", s, (int)sendto(s, "x", 1, 0, (struct sockaddr *)&a6, 23));
		close(s);
	}

	/* bind(0) twice; then connect of the bound socket. */
	{
		struct sockaddr_in any = v4(0);
		s = tcp4();
		CALL("bind0_first", s, bind(s, (struct sockaddr *)&any, sizeof(any)));
		CALL("bind0_second", s, bind(s, (struct sockaddr *)&any, sizeof(any)));
		CALL("connect_after_bind0", s, connect(s, (struct sockaddr *)&a, sizeof(a)));
		close(s);
		s = socket(AF_INET6, SOCK_DGRAM, 0);
		struct sockaddr_in6 any6 = v6(0);
		CALL("bind0_udp6_first", s, bind(s, (struct sockaddr *)&any6, sizeof(any6)));
		CALL("bind0_udp6_second", s, bind(s, (struct sockaddr *)&any6, sizeof(any6)));
		close(s);
	}

	/* Successful calls keep errno. */
	{
		s = tcp4();
		CALL("ok_connect_tcp", s, connect(s, (struct sockaddr *)&a, sizeof(a)));
		CALL("ok_close_tcp", -1, close(s));
		s = socket(AF_INET6, SOCK_STREAM, 0);
		CALL("ok_connect_tcp6", s, connect(s, (struct sockaddr *)&a6, sizeof(a6)));
		CALL("ok_close_tcp6", -1, close(s));
		s = socket(AF_INET, SOCK_DGRAM, 0);
		CALL("ok_sendto_udp", s, (int)sendto(s, "x", 1, 0, (struct sockaddr *)&a, sizeof(a)));
		CALL("ok_close_udp", -1, close(s));
		CALL("ok_socket", -1, (s = socket(AF_INET, SOCK_STREAM, 0)) >= 0 ? 0 : -1);
		struct sockaddr_in any = v4(0);
		CALL("ok_bind0", s, bind(s, (struct sockaddr *)&any, sizeof(any)));
		int one = 1;
		CALL("ok_setsockopt", -1, setsockopt(s, SOL_SOCKET, SO_KEEPALIVE, &one, sizeof(one)));
		int d = -1;
		CALL("ok_dup2", -1, dup2(s, 200) == 200 ? 0 : -1);
		CALL("ok_dup3", -1, (d = dup3(s, 201, O_CLOEXEC)) == 201 ? 0 : -1);
		CALL("ok_close_dup", -1, close(200));
		CALL("ok_close_dup3", -1, close(d));
		CALL("ok_close_bound", -1, close(s));
	}
	cases_memory(lport);
	cases_early(lport, lport6);
	cases_protocols(lport, lport6);
	close(ls);
	close(ls6);
	return 0;
}

int main(int argc, char **argv)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc >= 2 && !strcmp(argv[1], "cases"))
		return cases();
	if (argc >= 2 && !strcmp(argv[1], "memory")) {
		int lport, ls = listener(AF_INET, &lport);
		cases_memory(lport);
		close(ls);
		return 0;
	}
	if (argc >= 3 && !strcmp(argv[1], "rfc2133"))
		return rfc2133_ports(atoi(argv[2]));
	fprintf(stderr, "usage: hostile cases | memory | rfc2133 N\n");
	return 2;
}
