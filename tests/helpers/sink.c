/* sink: the accepting side of the port-sharing and lifecycle tests, in a
 * process of its own (a process here may hold at most 20,000 files, so the
 * two ends of 18,000 connections cannot live in one).
 *
 *   sink [-a ADDR] PORT...
 *
 * Listens on ADDR (IPv4, default 127.0.0.1) at each PORT with the largest
 * backlog the namespace allows, accepts with epoll and holds every
 * connection until its peer closes it, then closes its own end (so a
 * client that closes first goes through TIME_WAIT).  Prints "READY" once
 * it listens.  On SIGTERM, SIGINT or EOF on stdin (only when stdin is a
 * pipe or FIFO): accepts whatever is still queued, prints one line and
 * exits 0:
 *
 *   sink: accepted=N open=N max_open=N odd=N even=N dup=N errors=N resets=N tuples=HEX
 *
 * odd/even: parity of the peer (client) ports of every accepted connection;
 * open: connections still open at the end; dup: accepted connections whose
 * (client port, server port) was already held open here, which only two
 * live connections sharing a 4-tuple could cause; errors: failed accepts;
 * resets: connections that ended with a reset (ECONNRESET) instead of the
 * peer's orderly close;
 * tuples: the sum of mix(client port << 16 | server port) over every
 * accepted connection, which the client programs print as well, so a test
 * can check that both ends saw the same connections.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sockutil.h"

#define MAX_LISTENERS 16
#define MAX_FDS 65536

enum kind { CONN = 0, LISTENER = 1, SIGNALS = 2, STDIN = 3 };

static int listeners[MAX_LISTENERS], nlisteners;
static uint16_t listen_port[MAX_LISTENERS];
/* Per listener, the client ports of its open connections. */
static uint64_t live[MAX_LISTENERS][65536 / 64];
/* Per descriptor: listener index + 1 and client port, to clear on close. */
static struct {
	uint8_t listener;
	uint16_t port;
} conn[MAX_FDS];

static unsigned long accepted, open_now, max_open, odd, even, dups, errors, resets;
static uint64_t tuples;


static _Noreturn void die(const char *what)
{
	fprintf(stderr, "sink: %s: %s\n", what, strerror(errno));
	exit(1);
}

static void watch(int epfd, int fd, enum kind kind, unsigned index)
{
	struct epoll_event ev = { .events = EPOLLIN };

	ev.data.u64 = (uint64_t)(unsigned)fd | (uint64_t)kind << 32 | (uint64_t)index << 40;
	if (epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &ev) != 0)
		die("epoll_ctl");
}

static void accept_all(int epfd, unsigned index)
{
	for (;;) {
		struct sockaddr_in peer;
		socklen_t len = sizeof(peer);
		int fd = accept4(listeners[index], (struct sockaddr *)&peer, &len,
				 SOCK_NONBLOCK | SOCK_CLOEXEC);

		if (fd < 0) {
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				return;
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			fprintf(stderr, "sink: accept: %s\n", strerror(errno));
			errors++;
			return;
		}
		if (fd >= MAX_FDS) {
			fprintf(stderr, "sink: descriptor %d out of range\n", fd);
			exit(1);
		}
		unsigned port = ntohs(peer.sin_port);
		uint64_t bit = UINT64_C(1) << (port % 64);

		accepted++;
		if (port % 2)
			odd++;
		else
			even++;
		tuples += mix((uint64_t)port << 16 | listen_port[index]);
		if (live[index][port / 64] & bit)
			dups++;
		live[index][port / 64] |= bit;
		conn[fd].listener = (uint8_t)(index + 1);
		conn[fd].port = (uint16_t)port;
		if (++open_now > max_open)
			max_open = open_now;
		watch(epfd, fd, CONN, 0);
	}
}

static void drop(int fd)
{
	if (conn[fd].listener) {
		unsigned index = conn[fd].listener - 1u, port = conn[fd].port;
		live[index][port / 64] &= ~(UINT64_C(1) << (port % 64));
		conn[fd].listener = 0;
		open_now--;
	}
	close(fd);
}

static void readable(int fd)
{
	char buf[4096];
	ssize_t n;

	while ((n = read(fd, buf, sizeof(buf))) > 0)
		;
	if (n < 0 && errno == ECONNRESET)
		resets++;
	if (n == 0 || (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR))
		drop(fd);
}

int main(int argc, char **argv)
{
	struct in_addr addr = { htonl(INADDR_LOOPBACK) };
	struct epoll_event events[256];
	struct stat st;
	sigset_t stop;
	int opt, epfd, sfd, on = 1;

	while ((opt = getopt(argc, argv, "a:")) != -1) {
		if (opt != 'a' || inet_pton(AF_INET, optarg, &addr) != 1) {
			fprintf(stderr, "usage: sink [-a ADDR] PORT...\n");
			return 2;
		}
	}
	if (optind >= argc || argc - optind > MAX_LISTENERS) {
		fprintf(stderr, "usage: sink [-a ADDR] PORT... (1 to %d ports)\n", MAX_LISTENERS);
		return 2;
	}

	sigemptyset(&stop);
	sigaddset(&stop, SIGTERM);
	sigaddset(&stop, SIGINT);
	if (sigprocmask(SIG_BLOCK, &stop, NULL) != 0 ||
	    (sfd = signalfd(-1, &stop, SFD_NONBLOCK | SFD_CLOEXEC)) < 0)
		die("signalfd");
	if ((epfd = epoll_create1(EPOLL_CLOEXEC)) < 0)
		die("epoll_create1");
	watch(epfd, sfd, SIGNALS, 0);
	if (fstat(STDIN_FILENO, &st) == 0 && S_ISFIFO(st.st_mode))
		watch(epfd, STDIN_FILENO, STDIN, 0);

	for (int i = optind; i < argc; i++) {
		struct sockaddr_in sin = { .sin_family = AF_INET, .sin_addr = addr };
		int port = atoi(argv[i]), fd;

		if (port <= 0 || port > 65535) {
			fprintf(stderr, "sink: bad port '%s'\n", argv[i]);
			return 2;
		}
		sin.sin_port = htons((uint16_t)port);
		fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
		if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on)) != 0 ||
		    bind(fd, (struct sockaddr *)&sin, sizeof(sin)) != 0 || listen(fd, 65535) != 0)
			die(argv[i]);
		listeners[nlisteners] = fd;
		listen_port[nlisteners] = (uint16_t)port;
		watch(epfd, fd, LISTENER, (unsigned)nlisteners);
		nlisteners++;
	}
	printf("READY\n");
	fflush(stdout);

	for (bool running = true; running;) {
		int n = epoll_wait(epfd, events, 256, -1);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			die("epoll_wait");
		}
		for (int i = 0; i < n; i++) {
			uint64_t data = events[i].data.u64;
			int fd = (int)(uint32_t)data;

			switch ((enum kind)((data >> 32) & 0xff)) {
			case LISTENER:
				accept_all(epfd, (unsigned)(data >> 40));
				break;
			case CONN:
				readable(fd);
				break;
			case STDIN: {
				char buf[256];
				if (read(STDIN_FILENO, buf, sizeof(buf)) <= 0)
					running = false; /* EOF */
				break;
			}
			case SIGNALS:
				running = false;
				break;
			}
		}
	}
	/* Whatever completed its handshake before the stop is counted. */
	for (int i = 0; i < nlisteners; i++)
		accept_all(epfd, (unsigned)i);
	printf("sink: accepted=%lu open=%lu max_open=%lu odd=%lu even=%lu dup=%lu errors=%lu resets=%lu "
	       "tuples=%016llx\n",
	       accepted, open_now, max_open, odd, even, dups, errors, resets,
	       (unsigned long long)tuples);
	fflush(stdout);
	return 0;
}
