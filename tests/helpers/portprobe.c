/* portprobe: a client whose source ports the integration tests check.
 *
 *   portprobe [options] connect|sendto|sendmsg|sendmmsg HOST PORT
 *   portprobe [options] bind0
 *   portprobe -t FILE noop
 *
 * Each attempt makes a fresh socket and prints one line: the local port it
 * got (getsockname) or, when the call failed, the errno's name (ECONNREFUSED).
 * Exit status 0 when every attempt worked, 1 otherwise, 2 on usage errors.
 *
 *   connect  TCP: connect(), then read until the server closes (the server
 *            closes first, so the client's port is free again at once and no
 *            TIME_WAIT blocks it); UDP: connect(), send, wait for the reply.
 *   sendto   UDP: the first sendto() on an unconnected socket binds it.
 *   sendmsg  the same with sendmsg() and msg_name; sendmmsg with sendmmsg().
 *   bind0    bind(ADDR, 0) (-B gives ADDR, default the wildcard); with -L a
 *            TCP socket also listen()s and accepts a connection to itself.
 *
 * Options:
 *   -u         UDP (default TCP)
 *   -6         an AF_INET6 socket (HOST may then be ::1 or ::ffff:127.0.0.1)
 *   -n N       N attempts (default 1)
 *   -k N       keep the first N sockets open until exit (-1: all); the others
 *              are released right after their attempt
 *   -r HOW     release with close (default), dup2, dup3 or close_range; the
 *              descriptor left by dup2/dup3 stays open, so only the hook under
 *              test can have given the port back
 *   -F         the sends pass MSG_FASTOPEN: on TCP, sendto/sendmsg/sendmmsg
 *              connect with their data (TCP Fast Open), then read until the
 *              server closes, as connect does
 *   -P         a failed attempt prints its errno's name and the port its
 *              socket was left with ("EOPNOTSUPP 0": unbound, as natively)
 *   -R         TCP connect against a server that resets (portlog.py
 *              tcp-reset): once connected, send one byte, and take the
 *              server's reset for its close; releases are abortive too
 *              (SO_LINGER 0).  No FIN is sent either way, so nothing of the
 *              4-tuple outlives the attempt: no LAST_ACK, no server
 *              FIN_WAIT2, no late ACK of a FIN.  With a server that closes
 *              first and an immediate reuse of the 4-tuple, a late ACK of
 *              the last connection's FIN can meet the next handshake, and
 *              about 1 connect in 10,000 is refused (natively too).
 *   -B ADDR    bind the socket to ADDR first (port from -b, default 0)
 *   -b PORT    the port for -B
 *   -N         set IP_BIND_ADDRESS_NO_PORT before the -B bind
 *   -L         bind0 on TCP: listen and accept a connection to itself
 *   -s SECS    sleep SECS seconds before exiting, holding the sockets kept
 *              open (a background holder of ports)
 *   -t FILE    create FILE first thing in main(): under a bad configuration
 *              the shim must end the process before main() runs
 *
 * The hooked call runs with errno preset to EDOM: if it succeeds but errno
 * changed, the attempt prints ERRNO_CHANGED and fails (libc leaves errno
 * alone on success; so must the shim). */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "errnames.h"
#include "sockutil.h"

#ifndef __GLIBC__
/* musl has no close_range() (and a musl program never reaches the hook). */
#include <sys/syscall.h>
#define close_range(first, last, flags) syscall(SYS_close_range, first, last, flags)
#endif

#ifndef IP_BIND_ADDRESS_NO_PORT
#define IP_BIND_ADDRESS_NO_PORT 24
#endif

enum mode { M_CONNECT, M_SENDTO, M_SENDMSG, M_SENDMMSG, M_BIND0 };
enum release { R_CLOSE, R_DUP2, R_DUP3, R_CLOSE_RANGE };

static int family = AF_INET, type = SOCK_STREAM, listen_too, no_port;
static const char *bind_addr;
static int bind_port;
static enum release release_how = R_CLOSE;
static int abortive;
static int show_failed_port, failed_port; /* -P */
static int got_port; /* read once the call worked: a reset takes it back */
static int send_flags;
static int null_fd = -1;

static void usage(void)
{
	fprintf(stderr, "usage: portprobe [-u6NL] [-n N] [-k N] [-r HOW] [-B ADDR] [-b PORT] [-s SECS] [-t FILE] "
			"connect|sendto|sendmsg|sendmmsg HOST PORT | bind0 | noop\n");
	exit(2);
}

static void make_addr(const char *host, int port, struct sockaddr_storage *ss, socklen_t *len)
{
	memset(ss, 0, sizeof(*ss));
	if (family == AF_INET) {
		struct sockaddr_in *in = (struct sockaddr_in *)ss;
		in->sin_family = AF_INET;
		in->sin_port = htons((uint16_t)port);
		if (inet_pton(AF_INET, host ? host : "0.0.0.0", &in->sin_addr) != 1)
			usage();
		*len = sizeof(*in);
	} else {
		struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)ss;
		in6->sin6_family = AF_INET6;
		in6->sin6_port = htons((uint16_t)port);
		if (inet_pton(AF_INET6, host ? host : "::", &in6->sin6_addr) != 1)
			usage();
		*len = sizeof(*in6);
	}
}

static void release(int fd)
{
	if (abortive) {
		struct linger now = { 1, 0 };

		setsockopt(fd, SOL_SOCKET, SO_LINGER, &now, sizeof(now));
	}
	switch (release_how) {
	case R_CLOSE:
		close(fd);
		break;
	case R_DUP2:
		dup2(null_fd, fd);
		break;
	case R_DUP3:
		dup3(null_fd, fd, O_CLOEXEC);
		break;
	case R_CLOSE_RANGE:
		close_range((unsigned)fd, (unsigned)fd, 0);
		break;
	}
}

/* After a successful connect/send: wait for the server, so that when we
 * exit it has logged our port.  0, or -1 with errno set. */
static int finish(int fd, enum mode mode)
{
	char buf[64];
	struct timeval tv = { 10, 0 };

	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	if (type == SOCK_DGRAM) {
		if (mode == M_CONNECT && send(fd, "x", 1, 0) != 1)
			return -1;
		return recv(fd, buf, sizeof(buf), 0) < 0 ? -1 : 0;
	}
	if (abortive && send(fd, "x", 1, MSG_NOSIGNAL) != 1)
		return -1;
	for (;;) {
		ssize_t n = recv(fd, buf, sizeof(buf), 0);
		if (n == 0)
			return 0;
		/* -F: the server closes with our byte unread, which resets
		 * the connection; -R: the server resets.  Either way it has
		 * logged us. */
		if (n < 0)
			return (send_flags || abortive) && errno == ECONNRESET ? 0 : -1;
	}
}

/* bind0 -L: the socket really listens on the port it got. */
static int listen_check(int fd)
{
	struct sockaddr_storage ss;
	socklen_t len;
	int c, a, ok;

	if (listen(fd, 8) != 0)
		return -1;
	make_addr(family == AF_INET ? "127.0.0.1" : "::1", local_port(fd), &ss, &len);
	c = socket(family, SOCK_STREAM, 0);
	if (c < 0 || connect(c, (struct sockaddr *)&ss, len) != 0)
		return -1;
	a = accept(fd, NULL, NULL);
	ok = a >= 0;
	if (a >= 0)
		close(a);
	close(c);
	return ok ? 0 : -1;
}

/* One attempt: the socket, or -1 with errno set. */
static int attempt(enum mode mode, const struct sockaddr_storage *dest, socklen_t dlen)
{
	struct sockaddr_storage local;
	socklen_t llen;
	int fd, rc, error;

	fd = socket(family, type, 0);
	if (fd < 0)
		return -1;
	if (no_port) {
		int on = 1;
		if (setsockopt(fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &on, sizeof(on)) != 0)
			goto fail;
	}
	if (bind_addr && mode != M_BIND0) {
		make_addr(bind_addr, bind_port, &local, &llen);
		if (bind(fd, (struct sockaddr *)&local, llen) != 0)
			goto fail;
	}

	errno = EDOM;
	switch (mode) {
	case M_CONNECT:
		rc = connect(fd, (const struct sockaddr *)dest, dlen);
		break;
	case M_SENDTO:
		rc = (int)sendto(fd, "x", 1, send_flags, (const struct sockaddr *)dest, dlen);
		break;
	case M_SENDMSG: {
		struct iovec iov = { .iov_base = "x", .iov_len = 1 };
		struct msghdr msg = { .msg_name = (void *)dest, .msg_namelen = dlen,
				      .msg_iov = &iov, .msg_iovlen = 1 };
		rc = (int)sendmsg(fd, &msg, send_flags);
		break;
	}
	case M_SENDMMSG: {
		struct iovec iov = { .iov_base = "x", .iov_len = 1 };
		struct mmsghdr vec = { .msg_hdr = { .msg_name = (void *)dest, .msg_namelen = dlen,
						    .msg_iov = &iov, .msg_iovlen = 1 } };
		rc = sendmmsg(fd, &vec, 1, send_flags) == 1 ? 0 : -1;
		break;
	}
	default:
		make_addr(bind_addr, 0, &local, &llen);
		rc = bind(fd, (struct sockaddr *)&local, llen);
		break;
	}
	if (rc < 0)
		goto fail;
	if (errno != EDOM) {
		printf("ERRNO_CHANGED(%s) ", errno_name(errno));
		errno = EDOM;
		goto fail;
	}
	got_port = local_port(fd);
	if (mode != M_BIND0 && finish(fd, mode) != 0)
		goto fail;
	if (mode == M_BIND0 && listen_too && type == SOCK_STREAM && listen_check(fd) != 0)
		goto fail;
	return fd;
fail:
	error = errno;
	failed_port = local_port(fd);
	close(fd);
	errno = error;
	return -1;
}

int main(int argc, char **argv)
{
	int opt, count = 1, keep = 0, failed = 0, hold = 0;
	enum mode mode;
	struct sockaddr_storage dest;
	socklen_t dlen = 0;

	while ((opt = getopt(argc, argv, "u6n:k:r:RFPB:b:NLs:t:")) != -1) {
		switch (opt) {
		case 'u': type = SOCK_DGRAM; break;
		case '6': family = AF_INET6; break;
		case 'n': count = atoi(optarg); break;
		case 'k': keep = atoi(optarg); break;
		case 'B': bind_addr = optarg; break;
		case 'b': bind_port = atoi(optarg); break;
		case 'N': no_port = 1; break;
		case 'L': listen_too = 1; break;
		case 'R': abortive = 1; break;
		case 'F': send_flags = MSG_FASTOPEN; break;
		case 'P': show_failed_port = 1; break;
		case 's': hold = atoi(optarg); break;
		case 't':
			if (close(open(optarg, O_WRONLY | O_CREAT, 0644)) != 0)
				return 2;
			break;
		case 'r':
			if (strcmp(optarg, "close") == 0) release_how = R_CLOSE;
			else if (strcmp(optarg, "dup2") == 0) release_how = R_DUP2;
			else if (strcmp(optarg, "dup3") == 0) release_how = R_DUP3;
			else if (strcmp(optarg, "close_range") == 0) release_how = R_CLOSE_RANGE;
			else usage();
			break;
		default: usage();
		}
	}
	if (optind >= argc)
		usage();
	if (strcmp(argv[optind], "noop") == 0)
		return 0;
	if (strcmp(argv[optind], "bind0") == 0) {
		mode = M_BIND0;
	} else {
		if (strcmp(argv[optind], "connect") == 0) mode = M_CONNECT;
		else if (strcmp(argv[optind], "sendto") == 0) mode = M_SENDTO;
		else if (strcmp(argv[optind], "sendmsg") == 0) mode = M_SENDMSG;
		else if (strcmp(argv[optind], "sendmmsg") == 0) mode = M_SENDMMSG;
		else usage();
		if (optind + 3 != argc)
			usage();
		make_addr(argv[optind + 1], atoi(argv[optind + 2]), &dest, &dlen);
	}
	null_fd = open("/dev/null", O_RDONLY);
	setvbuf(stdout, NULL, _IOLBF, 0);

	for (int i = 0; i < count; i++) {
		int fd = attempt(mode, &dest, dlen);
		if (fd < 0) {
			if (show_failed_port)
				printf("%s %d\n", errno_name(errno), failed_port);
			else
				printf("%s\n", errno_name(errno));
			failed = 1;
			continue;
		}
		printf("%d\n", got_port);
		if (keep >= 0 && i >= keep)
			release(fd);
	}
	if (hold > 0)
		sleep((unsigned)hold);
	return failed;
}
