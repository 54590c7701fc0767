/* nbconnect: the life of a non-blocking TCP connect(), call by call, so the
 * tests can compare it with and without the shim.
 *
 *   nbconnect HOST PORT      (HOST: 127.0.0.1 or ::1)
 *
 * Listens on HOST:PORT with a backlog of 0 and fills the accept queue with
 * one blocking connection, so that the SYN of the non-blocking socket is
 * dropped and its connect() stays in progress deterministically; then:
 *   connect()                    EINPROGRESS
 *   connect() again at once      EALREADY (SYN_SENT)
 *   accept the filler, poll() until the SYN retransmission (~1 s) completes it
 *   getsockopt(SO_ERROR)         0
 *   connect() again              0 (first call after completion: connected)
 *   connect() again              EISCONN
 * Prints two lines:
 *   LOCAL_PORT PEER_PORT_SEEN_BY_ACCEPT
 *   R1 R2 SO_ERROR R3 R4        (errno names, 0 for success)
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "errnames.h"

static struct sockaddr_storage addr;
static socklen_t addr_len;

static void die(const char *what)
{
	fprintf(stderr, "nbconnect: %s: %s\n", what, strerror(errno));
	exit(1);
}

static int port_of(const struct sockaddr_storage *ss)
{
	if (ss->ss_family == AF_INET)
		return ntohs(((const struct sockaddr_in *)ss)->sin_port);
	return ntohs(((const struct sockaddr_in6 *)ss)->sin6_port);
}

static const char *result(int rc)
{
	return rc == 0 ? "0" : errno_name(errno);
}

int main(int argc, char **argv)
{
	struct sockaddr_storage local, peer;
	socklen_t len;
	int on = 1, l, filler, c, a, so_error = -1;
	const char *r1, *r2, *r3, *r4;
	struct pollfd pfd;

	if (argc != 3) {
		fprintf(stderr, "usage: nbconnect HOST PORT\n");
		return 2;
	}
	memset(&addr, 0, sizeof(addr));
	if (strchr(argv[1], ':')) {
		struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&addr;
		in6->sin6_family = AF_INET6;
		in6->sin6_port = htons((uint16_t)atoi(argv[2]));
		if (inet_pton(AF_INET6, argv[1], &in6->sin6_addr) != 1)
			die("address");
		addr_len = sizeof(*in6);
	} else {
		struct sockaddr_in *in = (struct sockaddr_in *)&addr;
		in->sin_family = AF_INET;
		in->sin_port = htons((uint16_t)atoi(argv[2]));
		if (inet_pton(AF_INET, argv[1], &in->sin_addr) != 1)
			die("address");
		addr_len = sizeof(*in);
	}

	l = socket(addr.ss_family, SOCK_STREAM, 0);
	if (l < 0 || setsockopt(l, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on)) != 0 ||
	    bind(l, (struct sockaddr *)&addr, addr_len) != 0 || listen(l, 0) != 0)
		die("listener");
	filler = socket(addr.ss_family, SOCK_STREAM, 0);
	if (filler < 0 || connect(filler, (struct sockaddr *)&addr, addr_len) != 0)
		die("filler");
	/* The filler is in the accept queue once the listener is readable. */
	pfd = (struct pollfd){ .fd = l, .events = POLLIN };
	if (poll(&pfd, 1, 5000) != 1)
		die("filler not queued");

	c = socket(addr.ss_family, SOCK_STREAM | SOCK_NONBLOCK, 0);
	if (c < 0)
		die("socket");
	r1 = result(connect(c, (struct sockaddr *)&addr, addr_len));
	r2 = result(connect(c, (struct sockaddr *)&addr, addr_len));

	a = accept(l, NULL, NULL);
	if (a < 0)
		die("accept filler");
	close(a);
	pfd = (struct pollfd){ .fd = c, .events = POLLOUT };
	if (poll(&pfd, 1, 5000) != 1)
		die("poll");
	len = sizeof(so_error);
	getsockopt(c, SOL_SOCKET, SO_ERROR, &so_error, &len);
	r3 = result(connect(c, (struct sockaddr *)&addr, addr_len));
	r4 = result(connect(c, (struct sockaddr *)&addr, addr_len));

	len = sizeof(peer);
	a = accept(l, (struct sockaddr *)&peer, &len);
	if (a < 0)
		die("accept");
	len = sizeof(local);
	if (getsockname(c, (struct sockaddr *)&local, &len) != 0)
		die("getsockname");
	printf("%d %d\n", port_of(&local), port_of(&peer));
	printf("%s %s %s %s %s\n", r1, r2, so_error == 0 ? "0" : errno_name(so_error), r3, r4);
	return 0;
}
