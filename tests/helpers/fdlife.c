/* fdlife: a socket descriptor's life under the shim, for hostile.bats.
 *
 *   fdlife highfd PORT N      N cycles of socket, dup2 to a descriptor
 *                             above 65,536 (or the highest one the hard
 *                             RLIMIT_NOFILE allows), connect to
 *                             127.0.0.1:PORT, close; then bind(0) on such a
 *                             descriptor; one line "highfd=FD ports=P,..."
 *   fdlife sockopt PORT none|reuse|range
 *                             connect to 127.0.0.1:PORT after setting
 *                             nothing, SO_REUSEADDR=1 or
 *                             IP_LOCAL_PORT_RANGE=40000-40999; then prints
 *                             "reuseaddr=V range=LO-HI port=N"
 *   fdlife leftrange PORT DEAD
 *                             what the application finds of its own
 *                             IP_LOCAL_PORT_RANGE (0, unset) after a
 *                             connect to 127.0.0.1:PORT, through the
 *                             descriptor, dup(), dup2(), fcntl(F_DUPFD), a
 *                             short read, and across execve() (the program
 *                             run again without LD_PRELOAD: "fdlife
 *                             readrange FD"); and the parity of the port
 *                             bind(0) gets after a connect to DEAD (nobody
 *                             listens) was refused.  One line each, port
 *                             numbers left out
 *   fdlife closerange PORT N  two connections held, close_range(3, ~0U, 0),
 *                             then N connect/close cycles; prints each port
 *                             or the errno name.  The server resets each
 *                             connection once it has our byte (portlog.py
 *                             tcp-reset) and every release is abortive
 *                             (SO_LINGER 0): nothing of a 4-tuple outlives
 *                             its cycle (a LAST_ACK, or a late ACK of a
 *                             FIN, would meet the next one on a 2-port
 *                             range)
 *   fdlife longhaul PORT N    N cycles: connect, read until EOF (the server
 *                             closes first), close; prints
 *                             "cycles=N failed=N fd10=N fdend=N rss10=KB
 *                             rssend=KB firsterr=NAME"; exit 1 on a failure
 *   fdlife daemon PORT        a child closes fds 0-2 as a daemon does, gets
 *                             /dev/null as 0 and 1 and one end of a
 *                             socketpair as 2, connects to 127.0.0.1:PORT
 *                             and exits; the parent prints "child=ERRNO
 *                             bytes=N", N the bytes its end of the pair
 *                             received (what PORTSHIM_LOG=stderr and
 *                             PORTSHIM_STATS=stderr would have sent)
 *   fdlife server PORT        accepts on 127.0.0.1:PORT and closes each
 *                             connection at once; prints READY; runs until
 *                             killed
 */
#include <sys/wait.h>

#include "sockutil.h"

static int highfd_mode(int port, int n)
{
	int hfd = high_fd();
	struct sockaddr_in a = v4(port), any = v4(0);
	printf("highfd_above_65536=%s ports=", hfd > 65536 ? "yes" : "no");
	for (int i = 0; i < n + 1; i++) {
		int s = tcp4();
		if (dup2(s, hfd) != hfd) { printf("dup2:%s\n", ename(errno)); return 1; }
		close(s);
		int r = i < n ? connect(hfd, (struct sockaddr *)&a, sizeof(a))
			      : bind(hfd, (struct sockaddr *)&any, sizeof(any));
		if (r < 0) { printf("%s:%s\n", i < n ? "connect" : "bind", ename(errno)); return 1; }
		printf("%s%d", i ? "," : "", local_port(hfd));
		if (close(hfd) < 0) { printf("close:%s\n", ename(errno)); return 1; }
	}
	printf("\n");
	fprintf(stderr, "fdlife: highfd=%d\n", hfd);
	return 0;
}

static int sockopt_mode(int port, const char *what)
{
	int s = tcp4(), one = 1;
	struct sockaddr_in a = v4(port);
	if (!strcmp(what, "reuse"))
		setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (!strcmp(what, "range")) {
		unsigned v = 40000u | 40999u << 16;
		if (setsockopt(s, IPPROTO_IP, IP_LOCAL_PORT_RANGE, &v, sizeof(v)) < 0) {
			printf("setsockopt IP_LOCAL_PORT_RANGE: %s\n", ename(errno));
			return 1;
		}
	}
	if (connect(s, (struct sockaddr *)&a, sizeof(a)) < 0) {
		printf("connect: %s\n", ename(errno));
		return 1;
	}
	int ra = -1;
	unsigned rg = 0xffffffffu;
	socklen_t l1 = sizeof(ra), l2 = sizeof(rg);
	errno = EDOM;
	int r1 = getsockopt(s, SOL_SOCKET, SO_REUSEADDR, &ra, &l1);
	int e1 = errno;
	errno = EDOM;
	int r2 = getsockopt(s, IPPROTO_IP, IP_LOCAL_PORT_RANGE, &rg, &l2);
	int e2 = errno;
	printf("reuseaddr=%d range=%u-%u port=%d ret=%d,%d errno=%s,%s len=%u,%u\n", ra,
	       rg & 0xffff, rg >> 16, local_port(s), r1, r2, ename(e1), ename(e2),
	       (unsigned)l1, (unsigned)l2);
	return 0;
}

static void print_range(const char *what, int fd)
{
	unsigned range = 0xffffffffu;
	socklen_t len = sizeof(range);
	int r = getsockopt(fd, IPPROTO_IP, IP_LOCAL_PORT_RANGE, &range, &len);

	printf("%s: ret=%d range=%u-%u len=%u\n", what, r, range & 0xffff, range >> 16,
	       (unsigned)len);
}

/* bind(0) after a connect to DEAD was refused: the kernel chooses the
 * socket's port again. */
static void bind_after_refusal(int dead)
{
	struct sockaddr_in to = v4(dead), any = v4(0);
	int s = tcp4();
	int r = connect(s, (struct sockaddr *)&to, sizeof(to));
	int e = errno;

	errno = EDOM;
	int r2 = bind(s, (struct sockaddr *)&any, sizeof(any));
	int e2 = errno, got = local_port(s);

	printf("refused, then bind(0): connect=%d,%s bind=%d,%s parity=%s\n", r, ename(e), r2,
	       ename(e2), got <= 0 ? "none" : got % 2 ? "odd" : "even");
	print_range("after bind(0)", s);
	close(s);
}

static int leftrange_mode(const char *self, int port, int dead)
{
	struct sockaddr_in a = v4(port);
	int s = tcp4();
	unsigned short half = 0xffff;
	socklen_t len = sizeof(half);
	char fd[16], *argv[] = { (char *)self, "readrange", fd, NULL };

	if (connect(s, (struct sockaddr *)&a, sizeof(a)) < 0) {
		printf("connect: %s\n", ename(errno));
		return 1;
	}
	print_range("fd", s);
	int d = dup(s);
	print_range("dup", d);
	close(d);
	if (dup2(s, 100) == 100)
		print_range("dup2", 100);
	close(100);
	d = fcntl(s, F_DUPFD, 200);
	print_range("F_DUPFD", d);
	close(d);
	int r = getsockopt(s, IPPROTO_IP, IP_LOCAL_PORT_RANGE, &half, &len);
	printf("short: ret=%d value=%u len=%u\n", r, half, (unsigned)len);
	bind_after_refusal(dead);
	fflush(stdout);
	snprintf(fd, sizeof(fd), "%d", s);
	unsetenv("LD_PRELOAD");
	execv("/proc/self/exe", argv);
	printf("execv: %s\n", ename(errno));
	return 1;
}

/* A socket whose close() sends a reset: its 4-tuple is gone at once. */
static int abortive_tcp4(void)
{
	struct linger now = { 1, 0 };
	int s = tcp4();

	setsockopt(s, SOL_SOCKET, SO_LINGER, &now, sizeof(now));
	return s;
}

/* Until the server has logged the port and reset the connection. */
static void until_reset(int s)
{
	char b[16];

	if (send(s, "x", 1, MSG_NOSIGNAL) == 1)
		while (read(s, b, sizeof(b)) > 0)
			;
}

static int closerange_mode(int port, int n)
{
	struct sockaddr_in a = v4(port);

	for (int i = 0; i < 2; i++) {
		int s = abortive_tcp4();
		if (connect(s, (struct sockaddr *)&a, sizeof(a)) < 0) {
			printf("held%d:%s\n", i, ename(errno));
			return 1;
		}
		printf("held %d\n", local_port(s));
		until_reset(s);
	}
	errno = EDOM;
	int r = close_range(3, ~0U, 0);
	printf("close_range ret=%d errno=%s\n", r, ename(errno));
	int bad = 0;
	for (int i = 0; i < n; i++) {
		int s = abortive_tcp4();
		if (connect(s, (struct sockaddr *)&a, sizeof(a)) < 0) {
			printf("%s\n", ename(errno));
			bad = 1;
		} else {
			printf("%d\n", local_port(s));
			until_reset(s);
		}
		close(s);
	}
	return bad;
}

static long fd_count(void)
{
	long n = 0;
	DIR *d = opendir("/proc/self/fd");
	struct dirent *e;
	while (d && (e = readdir(d)))
		if (e->d_name[0] != '.')
			n++;
	if (d)
		closedir(d);
	return n - 1; /* the directory's own descriptor */
}

static long rss_kb(void)
{
	char line[256];
	long kb = -1;
	FILE *f = fopen("/proc/self/status", "r");
	while (f && fgets(line, sizeof(line), f))
		if (!strncmp(line, "VmRSS:", 6))
			kb = atol(line + 6);
	if (f)
		fclose(f);
	return kb;
}

static int longhaul_mode(int port, long n)
{
	struct sockaddr_in a = v4(port);
	long failed = 0, fd10 = -1, rss10 = -1;
	int firsterr = 0;
	char buf[64];
	for (long i = 0; i < n; i++) {
		if (i == n / 10) {
			fd10 = fd_count();
			rss10 = rss_kb();
		}
		int s = tcp4();
		if (s < 0) {
			failed++;
			if (!firsterr) firsterr = errno;
			continue;
		}
		if (connect(s, (struct sockaddr *)&a, sizeof(a)) < 0) {
			failed++;
			if (!firsterr) firsterr = errno;
		} else {
			ssize_t r;
			while ((r = read(s, buf, sizeof(buf))) > 0)
				;
			if (r < 0) {
				failed++;
				if (!firsterr) firsterr = errno;
			}
		}
		if (close(s) < 0) {
			failed++;
			if (!firsterr) firsterr = errno;
		}
	}
	printf("cycles=%ld failed=%ld fd10=%ld fdend=%ld rss10=%ld rssend=%ld firsterr=%s\n", n,
	       failed, fd10, fd_count(), rss10, rss_kb(), ename(firsterr));
	return failed ? 1 : 0;
}

static int server_mode(int port)
{
	int s = tcp4(), one = 1;
	struct sockaddr_in a = v4(port);
	setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(s, (struct sockaddr *)&a, sizeof(a)) < 0 || listen(s, 4096) < 0) {
		perror("server");
		return 1;
	}
	printf("READY\n");
	fflush(stdout);
	for (;;) {
		int c = accept(s, NULL, NULL);
		if (c >= 0)
			close(c);
	}
}

static int daemon_mode(int port)
{
	int pair[2], status;
	char buf[4096];
	long total = 0;
	ssize_t n;

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pair) < 0) {
		printf("socketpair: %s\n", ename(errno));
		return 1;
	}
	pid_t pid = fork();
	if (pid == 0) {
		struct sockaddr_in a = v4(port);
		close(0);
		close(1);
		close(2);
		if (open("/dev/null", O_RDONLY) != 0 || open("/dev/null", O_WRONLY) != 1 ||
		    dup2(pair[1], 2) != 2)
			_exit(100);
		int s = tcp4();
		int r = connect(s, (struct sockaddr *)&a, sizeof(a));
		/* The exit status says how the connect went: 0 or its errno. */
		exit(r == 0 ? 0 : errno); /* exit(): the summary is written too */
	}
	close(pair[1]);
	while ((n = read(pair[0], buf, sizeof(buf))) > 0)
		total += n;
	waitpid(pid, &status, 0);
	printf("child=%s bytes=%ld\n", WIFEXITED(status) && WEXITSTATUS(status) == 0 ? "ok"
					: WIFEXITED(status) ? ename(WEXITSTATUS(status)) : "signal",
	       total);
	return 0;
}

int main(int argc, char **argv)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc >= 4 && !strcmp(argv[1], "highfd"))
		return highfd_mode(atoi(argv[2]), atoi(argv[3]));
	if (argc >= 4 && !strcmp(argv[1], "sockopt"))
		return sockopt_mode(atoi(argv[2]), argv[3]);
	if (argc >= 4 && !strcmp(argv[1], "leftrange"))
		return leftrange_mode(argv[0], atoi(argv[2]), atoi(argv[3]));
	if (argc >= 3 && !strcmp(argv[1], "readrange")) {
		print_range("after exec", atoi(argv[2]));
		return 0;
	}
	if (argc >= 4 && !strcmp(argv[1], "closerange"))
		return closerange_mode(atoi(argv[2]), atoi(argv[3]));
	if (argc >= 4 && !strcmp(argv[1], "longhaul"))
		return longhaul_mode(atoi(argv[2]), atol(argv[3]));
	if (argc >= 3 && !strcmp(argv[1], "daemon"))
		return daemon_mode(atoi(argv[2]));
	if (argc >= 3 && !strcmp(argv[1], "server"))
		return server_mode(atoi(argv[2]));
	fprintf(stderr, "usage: fdlife highfd|sockopt|leftrange|readrange|closerange|longhaul|daemon|server ...\n");
	return 2;
}
