/* sigconn: connect() from a signal handler that interrupts connect().
 *
 *   sigconn [-n N] [-i USEC] [-S SIGNALS] [-r] [-W] HOST PORT...
 *
 * The main thread makes N (default 2000) blocking connect()s to the PORTs
 * in turn and keeps them open, while SIGALRM arrives every USEC
 * microseconds (setitimer, default 300).  With -S it goes on past N (up to
 * 4 N) until SIGNALS signals have arrived, half of them inside connect():
 * how many arrive in N connects depends on the machine's speed and load
 * (signals pending together merge).  The handler makes a connect() of
 * its own (socket, connect, getsockname, close: all async-signal-safe) and
 * notes whether the main thread was inside connect() at the time.  The
 * handler is installed without SA_RESTART unless -r: an interrupted
 * connect() then returns EINTR while the handshake goes on, and the main
 * thread does what a careful program does: poll() for POLLOUT and read
 * SO_ERROR.  With -W, before the timer starts, one setsockopt() on a
 * throw-away socket: a preloaded library that sets itself up on its first
 * call has done so before any signal can interrupt it.  One line:
 *
 *   sigconn: connected=N failed=N eintr=N odd=N even=N dup=N
 *            signals=N during_connect=N handler_connected=N
 *            handler_failed=N handler_odd=N handler_even=N tuples=HEX
 *            errors=NAME:N,...|none
 *
 * connected/failed: the main thread's connect()s (N, or more with -S);
 * odd/even: local ports of the main thread's connections; dup: 4-tuples
 * among them seen twice; eintr: connect()s that returned EINTR;
 * during_connect: signals handled while the main thread was inside
 * connect(); handler_*: the handler's connections.  tuples covers the main
 * thread's connections and the handler's.  Exit status 0 when every
 * connect() of both connected. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "errnames.h"
#include "sockutil.h"

#define MAX_PORTS 16

static struct sockaddr_in dest[MAX_PORTS];
static int nports;

static volatile sig_atomic_t in_connect;
static volatile long signals, during_connect, h_connected, h_failed, h_odd, h_even;
static volatile uint64_t h_tuples;


static void on_alarm(int sig)
{
	int saved = errno;
	struct sockaddr_in local;
	socklen_t len = sizeof(local);
	const struct sockaddr_in *to = &dest[signals % nports];
	int fd;

	(void)sig;
	signals++;
	if (in_connect)
		during_connect++;
	fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd >= 0 && connect(fd, (const struct sockaddr *)to, sizeof(*to)) == 0 &&
	    getsockname(fd, (struct sockaddr *)&local, &len) == 0) {
		unsigned port = ntohs(local.sin_port);
		h_connected++;
		if (port % 2)
			h_odd++;
		else
			h_even++;
		h_tuples += mix((uint64_t)port << 16 | ntohs(to->sin_port));
	} else {
		h_failed++;
	}
	if (fd >= 0)
		close(fd);
	errno = saved;
}

/* After EINTR the handshake goes on: wait for it like a real program. */
static int finish_connect(int fd)
{
	struct pollfd pfd = { .fd = fd, .events = POLLOUT };
	int error = 0;
	socklen_t len = sizeof(error);

	for (;;) {
		int n = poll(&pfd, 1, 5000);
		if (n > 0)
			break;
		if (n == 0) {
			errno = ETIMEDOUT;
			return -1;
		}
		if (errno != EINTR)
			return -1;
	}
	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &len) != 0)
		return -1;
	if (error) {
		errno = error;
		return -1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	struct in_addr host;
	long n = 2000, interval = 300, want_signals = 0, made = 0, connected = 0, eintr = 0, odd = 0,
	     even = 0, dups = 0;
	unsigned errors[ERRNO_SLOTS] = { 0 };
	uint64_t tuples = 0;
	int opt, restart = 0, warm = 0;

	while ((opt = getopt(argc, argv, "n:i:S:rW")) != -1) {
		switch (opt) {
		case 'W': warm = 1; break;
		case 'n': n = atol(optarg); break;
		case 'i': interval = atol(optarg); break;
		case 'S': want_signals = atol(optarg); break;
		case 'r': restart = 1; break;
		default: goto usage;
		}
	}
	if (n < 1 || interval < 1 || want_signals < 0 || argc - optind < 2 || argc - optind - 1 > MAX_PORTS ||
	    inet_pton(AF_INET, argv[optind], &host) != 1)
		goto usage;
	for (int i = optind + 1; i < argc; i++)
		dest[nports++] = (struct sockaddr_in){ .sin_family = AF_INET,
						       .sin_port = htons((uint16_t)atoi(argv[i])),
						       .sin_addr = host };

	static uint64_t seen[MAX_PORTS][65536 / 64];
	struct sigaction sa = { .sa_handler = on_alarm, .sa_flags = restart ? SA_RESTART : 0 };
	struct itimerval timer = { { 0, interval }, { 0, interval } };

	if (warm) {
		int on = 1, fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &on, sizeof(on)) != 0) {
			perror("sigconn: warm-up");
			return 1;
		}
		close(fd);
	}
	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGALRM, &sa, NULL) != 0 || setitimer(ITIMER_REAL, &timer, NULL) != 0) {
		perror("sigconn: timer");
		return 1;
	}
	for (long i = 0; i < n || (i < 4 * n && (signals < want_signals ||
						       during_connect < want_signals / 2));
	     i++) {
		const struct sockaddr_in *to = &dest[i % nports];
		struct sockaddr_in local;
		socklen_t len = sizeof(local);
		int fd, rc;

		made++;
		do
			fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
		while (fd < 0 && errno == EINTR);
		if (fd < 0) {
			errno_count(errors, errno);
			continue;
		}
		in_connect = 1;
		rc = connect(fd, (const struct sockaddr *)to, sizeof(*to));
		in_connect = 0;
		if (rc != 0 && errno == EINTR) {
			eintr++;
			rc = finish_connect(fd);
		}
		if (rc != 0 || getsockname(fd, (struct sockaddr *)&local, &len) != 0) {
			errno_count(errors, errno);
			close(fd);
			continue;
		}
		unsigned port = ntohs(local.sin_port);
		uint64_t bit = UINT64_C(1) << (port % 64);
		connected++;
		if (port % 2)
			odd++;
		else
			even++;
		if (seen[i % nports][port / 64] & bit)
			dups++;
		seen[i % nports][port / 64] |= bit;
		tuples += mix((uint64_t)port << 16 | ntohs(to->sin_port));
	}
	struct itimerval off = { { 0, 0 }, { 0, 0 } };
	setitimer(ITIMER_REAL, &off, NULL);

	char errtext[512];
	errno_summary(errors, errtext, sizeof(errtext));
	printf("sigconn: connected=%ld failed=%ld eintr=%ld odd=%ld even=%ld dup=%ld signals=%ld "
	       "during_connect=%ld handler_connected=%ld handler_failed=%ld handler_odd=%ld "
	       "handler_even=%ld tuples=%016llx errors=%s\n",
	       connected, made - connected, eintr, odd, even, dups, signals, during_connect,
	       h_connected, h_failed, h_odd, h_even, (unsigned long long)(tuples + h_tuples),
	       errtext);
	return connected == made && h_failed == 0 ? 0 : 1;

usage:
	fprintf(stderr, "usage: sigconn [-n N] [-i USEC] [-S SIGNALS] [-r] [-W] HOST PORT...\n");
	return 2;
}
