/* connhold: many concurrent TCP connections from one process, kept open,
 * spread over several destinations; what each one really got.
 *
 *   connhold [-t THREADS] [-n PER_THREAD] [-k] [-w] HOST PORT...
 *
 * Each of THREADS threads (default 1) makes PER_THREAD (default 100)
 * blocking connect()s, the i-th to PORT[(thread + i) % nports], and keeps
 * every connection that succeeded.  A thread stops at its first failure
 * unless -k (keep going: count every failure).  Then one line:
 *
 *   connhold: attempted=N connected=N failed=N odd=N even=N dup=N wrong=N
 *             lo=PORT hi=PORT ms=N tuples=HEX errors=NAME:N,...|none
 *
 * odd/even: parity of the local port (getsockname) of each connection;
 * dup: connections whose 4-tuple (local address and port, peer address and
 * port) another one of them already had; wrong: connections whose
 * getsockname/getpeername disagree with what was asked (not 127.0.0.1 as
 * the peer asked, wrong peer port, or no local port); lo/hi: the lowest
 * and highest local port; tuples: the sum of mix(local port << 16 | peer
 * port), as the sink prints it.  With -w the connections then stay open
 * until SIGTERM or SIGINT (so that the test can ask the server what it
 * holds meanwhile).  Exit status 0 when every attempt connected, also
 * after -w's signal.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "errnames.h"
#include "sockutil.h"

#define MAX_PORTS 16

static struct in_addr host;
static uint16_t ports[MAX_PORTS];
static int nports, per_thread = 100;
static int keep_going;

struct conn {
	uint16_t local, peer;
	struct in_addr local_addr;
};

struct worker {
	pthread_t thread;
	int index;
	int attempted, connected;
	struct conn *conns;
	int wrong;
	unsigned errors[ERRNO_SLOTS];
};


static void *work(void *arg)
{
	struct worker *w = arg;

	for (int i = 0; i < per_thread; i++) {
		uint16_t port = ports[(w->index + i) % nports];
		struct sockaddr_in to = { .sin_family = AF_INET, .sin_port = htons(port),
					  .sin_addr = host };
		struct sockaddr_in local, peer;
		socklen_t len;
		int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

		w->attempted++;
		if (fd < 0 || connect(fd, (struct sockaddr *)&to, sizeof(to)) != 0) {
			errno_count(w->errors, errno);
			if (fd >= 0)
				close(fd);
			if (!keep_going)
				break;
			continue;
		}
		len = sizeof(local);
		if (getsockname(fd, (struct sockaddr *)&local, &len) != 0)
			memset(&local, 0, sizeof(local));
		len = sizeof(peer);
		if (getpeername(fd, (struct sockaddr *)&peer, &len) != 0)
			memset(&peer, 0, sizeof(peer));
		if (local.sin_port == 0 || peer.sin_port != to.sin_port ||
		    peer.sin_addr.s_addr != host.s_addr)
			w->wrong++;
		w->conns[w->connected++] = (struct conn){ ntohs(local.sin_port), ntohs(peer.sin_port),
							  local.sin_addr };
	}
	return NULL;
}

static int port_index(uint16_t port)
{
	for (int i = 0; i < nports; i++)
		if (ports[i] == port)
			return i;
	return -1;
}

int main(int argc, char **argv)
{
	int opt, threads = 1, hold = 0;

	while ((opt = getopt(argc, argv, "t:n:kw")) != -1) {
		switch (opt) {
		case 't': threads = atoi(optarg); break;
		case 'n': per_thread = atoi(optarg); break;
		case 'k': keep_going = 1; break;
		case 'w': hold = 1; break;
		default: goto usage;
		}
	}
	if (threads < 1 || per_thread < 1 || argc - optind < 2 || argc - optind - 1 > MAX_PORTS ||
	    inet_pton(AF_INET, argv[optind], &host) != 1)
		goto usage;
	for (int i = optind + 1; i < argc; i++)
		ports[nports++] = (uint16_t)atoi(argv[i]);

	struct worker *w = calloc((size_t)threads, sizeof(*w));
	struct timespec t0, t1;
	sigset_t stop;

	if (!w)
		return 1;
	/* Blocked in every thread, so that only sigwait() below takes them. */
	sigemptyset(&stop);
	sigaddset(&stop, SIGTERM);
	sigaddset(&stop, SIGINT);
	if (hold && pthread_sigmask(SIG_BLOCK, &stop, NULL) != 0)
		return 1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (int i = 0; i < threads; i++) {
		w[i].index = i;
		w[i].conns = calloc((size_t)per_thread, sizeof(struct conn));
		if (!w[i].conns || pthread_create(&w[i].thread, NULL, work, &w[i]) != 0) {
			fprintf(stderr, "connhold: cannot start thread %d\n", i);
			return 1;
		}
	}
	for (int i = 0; i < threads; i++)
		pthread_join(w[i].thread, NULL);
	clock_gettime(CLOCK_MONOTONIC, &t1);

	/* One bit per (peer port index, local port): all local addresses are
	 * checked to be 127.0.0.1 below, so that is the whole 4-tuple. */
	static uint64_t seen[MAX_PORTS][65536 / 64];
	long attempted = 0, connected = 0, odd = 0, even = 0, dups = 0, wrong = 0;
	unsigned lo = 65535, hi = 0, errors[ERRNO_SLOTS] = { 0 };
	uint64_t tuples = 0;

	for (int i = 0; i < threads; i++) {
		attempted += w[i].attempted;
		connected += w[i].connected;
		wrong += w[i].wrong;
		for (int e = 0; e < ERRNO_SLOTS; e++)
			errors[e] += w[i].errors[e];
		for (int j = 0; j < w[i].connected; j++) {
			struct conn *c = &w[i].conns[j];
			int pi = port_index(c->peer);

			if (c->local % 2)
				odd++;
			else
				even++;
			if (c->local < lo)
				lo = c->local;
			if (c->local > hi)
				hi = c->local;
			tuples += mix((uint64_t)c->local << 16 | c->peer);
			if (pi < 0 || c->local_addr.s_addr != htonl(INADDR_LOOPBACK)) {
				wrong++;
				continue;
			}
			uint64_t bit = UINT64_C(1) << (c->local % 64);
			if (seen[pi][c->local / 64] & bit)
				dups++;
			seen[pi][c->local / 64] |= bit;
		}
	}

	long ms = (t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000;
	char errtext[512];
	errno_summary(errors, errtext, sizeof(errtext));
	printf("connhold: attempted=%ld connected=%ld failed=%ld odd=%ld even=%ld dup=%ld wrong=%ld "
	       "lo=%u hi=%u ms=%ld tuples=%016llx errors=%s\n",
	       attempted, connected, attempted - connected, odd, even, dups, wrong, lo, hi, ms,
	       (unsigned long long)tuples, errtext);
	fflush(stdout);
	if (hold) {
		int sig;
		sigwait(&stop, &sig);
	}
	return connected == (long)threads * per_thread ? 0 : 1;

usage:
	fprintf(stderr, "usage: connhold [-t THREADS] [-n PER_THREAD] [-k] [-w] HOST PORT...\n");
	return 2;
}
