/* leftover: what a socket shows after the shim applied a port to it -
 * nothing the shim set may outlive the call that needed it.
 *
 *   leftover udp PORT     a UDP socket connects to 127.0.0.1:PORT, and is
 *                         disconnected (AF_UNSPEC); another socket binds its
 *                         old port; then sendto() on the first, and on a
 *                         second socket treated the same, bind(0)
 *   leftover early PORT   TCP and UDP IPv6 sockets connect where the kernel
 *                         refuses before it needs a port (a v4-mapped
 *                         address with IPV6_V6ONLY, a link-local address
 *                         without a scope id), then bind port 0
 *   leftover dup PORT     what a program does to a socket through a second
 *                         descriptor (dup(), fcntl(F_DUPFD_CLOEXEC)) holds
 *                         for a connect through the first: a bind to
 *                         127.0.0.2 with IP_BIND_ADDRESS_NO_PORT, and an
 *                         IP_LOCAL_PORT_RANGE of 40500-40899 (20 sockets)
 *   leftover exec PORT    a TCP socket connects to 127.0.0.1:PORT, is read
 *                         through a dup(), then inherited across exec by
 *                         `leftover show FD`, which reads it
 *
 * One line each, compared by the test with the same run without the shim:
 *   udp: sendto=RESULT bind0=RESULT
 *   early: TYPE CASE connect=RESULT bind0=RESULT
 *   dup: range=LO-HI
 *   second: HOW addr=ADDR inside=N/20
 *   exec: reuseaddr=N range=LO-HI
 * (RESULT: ok or an errno name). */
#include <stdint.h>

#include "sockutil.h"

static const char *result(int rc)
{
	return rc < 0 ? ename(errno) : "ok";
}

/* A UDP socket connected to `to` and disconnected again; the port it had. */
static int connected_then_not(const struct sockaddr_in *to, int *port)
{
	int fd = socket(AF_INET, SOCK_DGRAM, 0);
	struct sockaddr unspec = { .sa_family = AF_UNSPEC };

	if (fd < 0 || connect(fd, (const struct sockaddr *)to, sizeof(*to)) != 0)
		return -1;
	*port = local_port(fd);
	if (connect(fd, &unspec, sizeof(unspec)) != 0)
		return -1;
	return fd;
}

/* Another socket takes `port` (on the wildcard address, as a server would). */
static int take(int port)
{
	int fd = socket(AF_INET, SOCK_DGRAM, 0);
	struct sockaddr_in any = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };

	return fd >= 0 && bind(fd, (struct sockaddr *)&any, sizeof(any)) == 0 ? fd : -1;
}

static int udp(int port)
{
	struct sockaddr_in to = v4(port);
	int p1, p2, a = connected_then_not(&to, &p1), b = connected_then_not(&to, &p2);

	if (a < 0 || b < 0 || take(p1) < 0 || take(p2) < 0) {
		printf("udp: setup failed: %s\n", ename(errno));
		return 1;
	}
	int sent = (int)sendto(a, "x", 1, 0, (struct sockaddr *)&to, sizeof(to));
	const char *sent_result = result(sent);
	struct sockaddr_in any = { .sin_family = AF_INET };
	printf("udp: sendto=%s bind0=%s\n", sent_result,
	       result(bind(b, (struct sockaddr *)&any, sizeof(any))));
	return 0;
}

static void early(int type, const char *what, const struct sockaddr_in6 *to, int v6only)
{
	int fd = socket(AF_INET6, type, 0);
	struct sockaddr_in6 any = { .sin6_family = AF_INET6 };

	setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &v6only, sizeof(v6only));
	const char *connected = result(connect(fd, (const struct sockaddr *)to, sizeof(*to)));
	printf("early: %s %s connect=%s bind0=%s\n", type == SOCK_STREAM ? "tcp" : "udp", what,
	       connected, result(bind(fd, (struct sockaddr *)&any, sizeof(any))));
	close(fd);
}

static int early_cases(int port)
{
	struct sockaddr_in6 mapped = { .sin6_family = AF_INET6, .sin6_port = htons((uint16_t)port) };
	struct sockaddr_in6 link = mapped;

	inet_pton(AF_INET6, "::ffff:127.0.0.1", &mapped.sin6_addr);
	inet_pton(AF_INET6, "fe80::1", &link.sin6_addr);
	for (int type = SOCK_STREAM; type <= SOCK_DGRAM; type++) {
		early(type, "v4-mapped-v6only", &mapped, 1);
		early(type, "link-local-no-scope", &link, 0);
	}
	return 0;
}

static int second_name(int fd, const char *how)
{
	return how[0] == 'd' ? dup(fd) : fcntl(fd, F_DUPFD_CLOEXEC, 100);
}

static int dup_cases(int port)
{
	static const char *const hows[] = { "dup", "fcntl" };
	struct sockaddr_in to = v4(port);

	for (int h = 0; h < 2; h++) {
		struct sockaddr_in local = { .sin_family = AF_INET };
		int fd = tcp4(), on = 1, inside = 0;
		int other = second_name(fd, hows[h]);
		inet_pton(AF_INET, "127.0.0.2", &local.sin_addr);
		setsockopt(other, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &on, sizeof(on));
		if (bind(other, (struct sockaddr *)&local, sizeof(local)) != 0 ||
		    connect(fd, (struct sockaddr *)&to, sizeof(to)) != 0) {
			printf("second: %s failed: %s\n", hows[h], ename(errno));
			return 1;
		}
		struct sockaddr_in got;
		socklen_t len = sizeof(got);
		getsockname(fd, (struct sockaddr *)&got, &len);
		close(fd);
		close(other);
		for (int i = 0; i < 20; i++) {
			uint32_t range = 40899u << 16 | 40500u;
			fd = tcp4();
			other = second_name(fd, hows[h]);
			setsockopt(other, IPPROTO_IP, IP_LOCAL_PORT_RANGE, &range, sizeof(range));
			int port_got = connect(fd, (struct sockaddr *)&to, sizeof(to)) == 0
					       ? local_port(fd) : -1;
			inside += port_got >= 40500 && port_got <= 40899;
			close(fd);
			close(other);
		}
		char addr[INET_ADDRSTRLEN] = "?";
		inet_ntop(AF_INET, &got.sin_addr, addr, sizeof(addr));
		printf("second: %s addr=%s inside=%d/20\n", hows[h], addr, inside);
	}
	return 0;
}

static void print_range(const char *what, int fd)
{
	uint32_t range = 0;
	socklen_t len = sizeof(range);

	if (getsockopt(fd, IPPROTO_IP, IP_LOCAL_PORT_RANGE, &range, &len) != 0)
		printf("%srange=%s", what, ename(errno));
	else
		printf("%srange=%u-%u", what, range & 0xffffu, range >> 16);
}

static int show(int fd)
{
	int on = -1;
	socklen_t len = sizeof(on);

	getsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, &len);
	printf("exec: reuseaddr=%d ", on);
	print_range("", fd);
	printf("\n");
	return 0;
}

static int exec_case(const char *self, int port)
{
	struct sockaddr_in to = v4(port);
	int fd = tcp4();

	if (fd < 0 || connect(fd, (struct sockaddr *)&to, sizeof(to)) != 0) {
		printf("exec: connect failed: %s\n", ename(errno));
		return 1;
	}
	print_range("dup: ", dup(fd));
	printf("\n");
	fflush(stdout);
	char arg[16];
	snprintf(arg, sizeof(arg), "%d", fd);
	execl(self, self, "show", arg, (char *)NULL);
	printf("exec: %s\n", ename(errno));
	return 1;
}

int main(int argc, char **argv)
{
	if (argc == 3 && strcmp(argv[1], "udp") == 0)
		return udp(atoi(argv[2]));
	if (argc == 3 && strcmp(argv[1], "early") == 0)
		return early_cases(atoi(argv[2]));
	if (argc == 3 && strcmp(argv[1], "dup") == 0)
		return dup_cases(atoi(argv[2]));
	if (argc == 3 && strcmp(argv[1], "exec") == 0)
		return exec_case("/proc/self/exe", atoi(argv[2]));
	if (argc == 3 && strcmp(argv[1], "show") == 0)
		return show(atoi(argv[2]));
	fprintf(stderr, "usage: leftover udp|early|dup|exec PORT\n");
	return 2;
}
