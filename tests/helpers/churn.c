/* churn: connect/close cycles, the client closing first (so every port it
 * used goes through TIME_WAIT), and how fast they went.
 *
 *   churn [-n CYCLES] [-a stack|static|heap|thread|main] HOST PORT...
 *
 * Cycle i: a blocking TCP socket, connect() to PORT[i % nports],
 * getsockname(), close().  -a: where the address given to connect() lies:
 * in the frame of the function that runs the cycles (the default), in
 * static data, in memory from malloc(), in the frame of a second thread
 * that runs the cycles, or in main()'s frame while a second thread runs
 * them.  A failed cycle is counted and the next one runs.  Then one line:
 *
 *   churn: cycles=N connected=N failed=N odd=N even=N  us=N cpu_us=N rate=N
 *          max_us=N slow=N fds_before=N fds_after=N tuples=HEX errors=NAME:N,...|none
 *
 * odd/even: parity of each connection's local port; us: microseconds for
 * all the cycles; cpu_us: the process's CPU time (user + system) for them
 * (less sensitive to other load than us); rate: cycles per second; max_us: the longest connect();
 * slow: connect()s that took 100 ms or more (a SYN retransmission, say);
 * fds_before/fds_after: the process's open descriptors before the first
 * cycle and after the last;
 * tuples: the sum of
 * mix(local port << 16 | peer port), as the sink prints it.  Exit status 0
 * when every cycle connected.
 */
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "errnames.h"
#include "sockutil.h"

#define MAX_PORTS 16


static long open_fds(void)
{
	DIR *dir = opendir("/proc/self/fd");
	long n = -1; /* the directory's own descriptor */

	if (!dir)
		return -1;
	while (readdir(dir))
		n++;
	closedir(dir);
	return n - 2; /* . and .. */
}

static struct sockaddr_in static_to[MAX_PORTS];

struct run {
	const struct sockaddr_in *to; /* NULL: copied into the running frame */
	struct sockaddr_in from[MAX_PORTS];
	int nports;
	long cycles;
};

static void *cycle_all(void *arg);

int main(int argc, char **argv)
{
	struct run run = { .cycles = 1000 };
	const char *where = "stack";
	struct in_addr host;
	int opt;

	while ((opt = getopt(argc, argv, "n:a:")) != -1) {
		if (opt == 'n')
			run.cycles = atol(optarg);
		else if (opt == 'a')
			where = optarg;
		else
			goto usage;
	}
	if (run.cycles < 1 || argc - optind < 2 || argc - optind - 1 > MAX_PORTS ||
	    inet_pton(AF_INET, argv[optind], &host) != 1)
		goto usage;
	for (int i = optind + 1; i < argc; i++)
		run.from[run.nports++] = (struct sockaddr_in){ .sin_family = AF_INET,
							       .sin_port = htons((uint16_t)atoi(argv[i])),
							       .sin_addr = host };
	if (strcmp(where, "static") == 0) {
		memcpy(static_to, run.from, sizeof(static_to));
		run.to = static_to;
	} else if (strcmp(where, "heap") == 0) {
		struct sockaddr_in *heap = malloc(sizeof(run.from));
		if (!heap)
			return 2;
		memcpy(heap, run.from, sizeof(run.from));
		run.to = heap;
	} else if (strcmp(where, "thread") == 0 || strcmp(where, "main") == 0) {
		pthread_t t;
		void *status;
		if (strcmp(where, "main") == 0)
			run.to = run.from;
		if (pthread_create(&t, NULL, cycle_all, &run) != 0 || pthread_join(t, &status) != 0)
			return 2;
		return (int)(intptr_t)status;
	} else if (strcmp(where, "stack") != 0) {
		goto usage;
	}
	return (int)(intptr_t)cycle_all(&run);

usage:
	fprintf(stderr, "usage: churn [-n CYCLES] [-a stack|static|heap|thread|main] HOST PORT...\n");
	return 2;
}

static void *cycle_all(void *arg)
{
	struct run *run = arg;
	struct sockaddr_in frame[MAX_PORTS];
	const struct sockaddr_in *to = run->to;
	unsigned errors[ERRNO_SLOTS] = { 0 };
	long cycles = run->cycles, connected = 0, odd = 0, even = 0, max_us = 0, slow = 0;
	uint64_t tuples = 0;
	int nports = run->nports;

	if (!to) {
		memcpy(frame, run->from, sizeof(frame));
		to = frame;
	}
	struct timespec t0, t1;
	struct rusage r0, r1;
	long fds_before = open_fds();
	getrusage(RUSAGE_SELF, &r0);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (long i = 0; i < cycles; i++) {
		const struct sockaddr_in *dest = &to[i % nports];
		struct sockaddr_in local;
		socklen_t len = sizeof(local);
		struct timespec c0, c1;
		int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), rc = -1;

		clock_gettime(CLOCK_MONOTONIC, &c0);
		if (fd >= 0)
			rc = connect(fd, (const struct sockaddr *)dest, sizeof(*dest));
		clock_gettime(CLOCK_MONOTONIC, &c1);
		long took = (c1.tv_sec - c0.tv_sec) * 1000000 + (c1.tv_nsec - c0.tv_nsec) / 1000;
		if (took > max_us)
			max_us = took;
		if (took >= 100000)
			slow++;
		if (rc != 0 || getsockname(fd, (struct sockaddr *)&local, &len) != 0) {
			errno_count(errors, errno);
			if (fd >= 0)
				close(fd);
			continue;
		}
		connected++;
		unsigned port = ntohs(local.sin_port);
		if (port % 2)
			odd++;
		else
			even++;
		tuples += mix((uint64_t)port << 16 | ntohs(dest->sin_port));
		close(fd);
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	getrusage(RUSAGE_SELF, &r1);

	long cpu_us = (r1.ru_utime.tv_sec - r0.ru_utime.tv_sec + r1.ru_stime.tv_sec - r0.ru_stime.tv_sec) * 1000000 +
		      (r1.ru_utime.tv_usec - r0.ru_utime.tv_usec + r1.ru_stime.tv_usec - r0.ru_stime.tv_usec);
	long us = (t1.tv_sec - t0.tv_sec) * 1000000 + (t1.tv_nsec - t0.tv_nsec) / 1000;
	char errtext[512];
	errno_summary(errors, errtext, sizeof(errtext));
	printf("churn: cycles=%ld connected=%ld failed=%ld odd=%ld even=%ld us=%ld cpu_us=%ld rate=%ld "
	       "max_us=%ld slow=%ld fds_before=%ld fds_after=%ld tuples=%016llx errors=%s\n",
	       cycles, connected, cycles - connected, odd, even, us, cpu_us,
	       us > 0 ? (long)(cycles * 1000000.0 / (double)us) : 0L, max_us, slow, fds_before,
	       open_fds(), (unsigned long long)tuples, errtext);
	return (void *)(intptr_t)(connected == cycles ? 0 : 1);
}
