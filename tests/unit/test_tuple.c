/* tuple_state() (tuple.h) against real sockets on loopback: an established
 * connection's 4-tuple, the TIME_WAIT it leaves, a 4-tuple nobody holds.
 * (IPv6, which the host may not have, is checked in namespaces: the
 * integration tests of strategy reuse.) */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "check.h"
#include "tuple.h"

static void run_family(int family, const char *loopback)
{
	struct sockaddr_storage a = { .ss_family = (sa_family_t)family }, server, client;
	socklen_t len = family == AF_INET ? sizeof(struct sockaddr_in) : sizeof(struct sockaddr_in6);
	socklen_t slen = sizeof(server), clen = sizeof(client);

	if (family == AF_INET)
		inet_pton(AF_INET, loopback, &((struct sockaddr_in *)&a)->sin_addr);
	else
		inet_pton(AF_INET6, loopback, &((struct sockaddr_in6 *)&a)->sin6_addr);
	int l = socket(family, SOCK_STREAM, 0), c = socket(family, SOCK_STREAM, 0);
	if (!CHECK(l >= 0 && c >= 0 && bind(l, (struct sockaddr *)&a, len) == 0 && listen(l, 4) == 0,
		   "no %s listener", loopback))
		return;
	getsockname(l, (struct sockaddr *)&server, &slen);
	CHECK(connect(c, (struct sockaddr *)&server, slen) == 0);
	getsockname(c, (struct sockaddr *)&client, &clen);
	unsigned port = ntohs(family == AF_INET ? ((struct sockaddr_in *)&client)->sin_port
						: ((struct sockaddr_in6 *)&client)->sin6_port);
	int got = tuple_state(&client, port, (struct sockaddr *)&server);
	CHECK(got == TCP_ESTABLISHED, "%s: state %d", loopback, got);
	/* The same port towards another port of the server: nobody. */
	struct sockaddr_storage other = server;
	if (family == AF_INET)
		((struct sockaddr_in *)&other)->sin_port ^= htons(1);
	else
		((struct sockaddr_in6 *)&other)->sin6_port ^= htons(1);
	got = tuple_state(&client, port, (struct sockaddr *)&other);
	CHECK(got == 0, "%s: an unused 4-tuple in state %d", loopback, got);
	int a_fd = accept(l, NULL, NULL);
	close(c); /* the client closes first: its end goes to TIME_WAIT */
	char byte;
	CHECK(read(a_fd, &byte, 1) == 0);
	close(a_fd);
	for (int i = 0; i < 1000 && (got = tuple_state(&client, port, (struct sockaddr *)&server)) != TCP_TIME_WAIT; i++)
		usleep(1000);
	CHECK(got == TCP_TIME_WAIT, "%s: after the close, state %d", loopback, got);
	close(l);
}

static void test_ipv4(void)
{
	run_family(AF_INET, "127.0.0.1");
}

int main(void)
{
	RUN(test_ipv4);
	return check_done();
}
