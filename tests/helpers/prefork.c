/* prefork: the client side of a pre-forking server - workers forked one
 * after another with nothing in between, each connecting on its own.
 *
 *   prefork [-w WORKERS] [-n N] [-p PRE] [-s] [-r] HOST PORT...
 *
 * The parent makes PRE connections (default 0), then forks WORKERS workers
 * (default 4) back to back: fork(), or with -r a raw clone() that runs no
 * atfork handler.  Once all exist, each worker makes N connections (default
 * 20), the k-th to PORT number k (cycling), keeping them all open, and
 * sends its local ports to the parent.  The workers connect all at once, or
 * with -s one after another (worker i starts when worker i-1 has reported),
 * which makes a seeded run reproducible even where two workers draw the
 * same port.  The parent prints one line per worker and a summary:
 *
 *   worker I: PORT PORT ...          (a failed connect shows as its errno name)
 *   prefork: workers=W connected=N failed=N near=N pairs=N odd=N even=N
 *            tuples=HEX
 *
 * connected/failed: the workers' connects; near: pairs (i < j, k) where the
 * k-th ports of workers i and j lie within WORKERS of each other (workers
 * sharing one random stream make that every pair; independent streams
 * about 2 * WORKERS / range of them), out of `pairs`; odd/even: the
 * workers' ports; tuples: the sum over every connection (PRE included) that the sink
 * prints as well.  Exit status 0 when every connect worked. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "sockutil.h"

#define MAX_PORTS 16
#define MAX_WORKERS 64
#define MAX_N 1000

static struct sockaddr_in dest[MAX_PORTS];
static int nports;
/* Per worker and connection: the local port, or -errno. */
static int got[MAX_WORKERS][MAX_N];


/* The k-th connection: its local port, or -errno.  The socket stays open. */
static int connect_kth(int k)
{
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return -errno;
	if (connect(fd, (const struct sockaddr *)&dest[k % nports], sizeof(dest[0])) != 0)
		return -errno;
	int port = local_port(fd);
	return port > 0 ? port : -EPROTO;
}

static pid_t spawn(int raw)
{
	return raw ? (pid_t)syscall(SYS_clone, SIGCHLD, 0, 0, 0, 0) : fork();
}

int main(int argc, char **argv)
{
	int opt, workers = 4, n = 20, pre = 0, one_by_one = 0, raw = 0;
	uint64_t tuples = 0;

	while ((opt = getopt(argc, argv, "w:n:p:sr")) != -1) {
		switch (opt) {
		case 'w': workers = atoi(optarg); break;
		case 'n': n = atoi(optarg); break;
		case 'p': pre = atoi(optarg); break;
		case 's': one_by_one = 1; break;
		case 'r': raw = 1; break;
		default: goto usage;
		}
	}
	struct in_addr host;
	if (argc - optind < 2 || argc - optind - 1 > MAX_PORTS || workers < 1 ||
	    workers > MAX_WORKERS || n < 1 || n > MAX_N || pre < 0 ||
	    inet_pton(AF_INET, argv[optind], &host) != 1)
		goto usage;
	for (int i = optind + 1; i < argc; i++)
		dest[nports++] = (struct sockaddr_in){ .sin_family = AF_INET,
						       .sin_port = htons((uint16_t)atoi(argv[i])),
						       .sin_addr = host };
	alarm(120); /* a test that hangs must not hang the suite */

	for (int k = 0; k < pre; k++) {
		int port = connect_kth(k);
		if (port < 0) {
			fprintf(stderr, "prefork: parent connect %d: %s\n", k, ename(-port));
			return 1;
		}
		tuples += mix((uint64_t)port << 16 | ntohs(dest[k % nports].sin_port));
	}

	/* go[i]: the parent's word to start; report[i]: the worker's ports;
	 * the workers hold their connections until `hold` reaches EOF. */
	int go[MAX_WORKERS][2], report[MAX_WORKERS][2], hold[2];
	pid_t pid[MAX_WORKERS];
	if (pipe(hold) != 0)
		return 1;
	for (int i = 0; i < workers; i++)
		if (pipe(go[i]) != 0 || pipe(report[i]) != 0)
			return 1;
	for (int i = 0; i < workers; i++) {
		pid[i] = spawn(raw);
		if (pid[i] < 0)
			return 1;
		if (pid[i] == 0) {
			char c;
			close(hold[1]);
			if (full_read(go[i][0], &c, 1) != 1)
				_exit(3);
			for (int k = 0; k < n; k++)
				got[i][k] = connect_kth(k);
			if (write(report[i][1], got[i], (size_t)n * sizeof(int)) !=
			    (ssize_t)((size_t)n * sizeof(int)))
				_exit(3);
			if (read(hold[0], &c, 1) < 0)
				_exit(3);
			_exit(0);
		}
	}
	close(hold[0]);
	size_t want = (size_t)n * sizeof(int);
	for (int i = 0; i < workers; i++) {
		if (write(go[i][1], "g", 1) != 1)
			return 1;
		if (one_by_one && full_read(report[i][0], got[i], want) != want)
			return 1;
	}
	for (int i = 0; i < workers && !one_by_one; i++)
		if (full_read(report[i][0], got[i], want) != want)
			return 1;

	long connected = 0, failed = 0, near = 0, pairs = 0, odd = 0, even = 0;
	for (int i = 0; i < workers; i++) {
		printf("worker %d:", i);
		for (int k = 0; k < n; k++) {
			int p = got[i][k];
			if (p < 0) {
				printf(" %s", ename(-p));
				failed++;
				continue;
			}
			printf(" %d", p);
			connected++;
			*(p % 2 ? &odd : &even) += 1;
			tuples += mix((uint64_t)p << 16 | ntohs(dest[k % nports].sin_port));
			for (int j = 0; j < i; j++) {
				if (got[j][k] < 0)
					continue;
				pairs++;
				near += abs(got[j][k] - p) <= workers;
			}
		}
		printf("\n");
	}
	printf("prefork: workers=%d connected=%ld failed=%ld near=%ld pairs=%ld odd=%ld even=%ld tuples=%016llx\n",
	       workers, connected, failed, near, pairs, odd, even,
	       (unsigned long long)tuples);
	fflush(stdout);
	close(hold[1]);
	int bad = 0;
	for (int i = 0; i < workers; i++) {
		int status = 0;
		if (waitpid(pid[i], &status, 0) != pid[i] || !WIFEXITED(status) ||
		    WEXITSTATUS(status) != 0)
			bad++;
	}
	return failed == 0 && bad == 0 ? 0 : 1;
usage:
	fprintf(stderr, "usage: prefork [-w WORKERS] [-n N] [-p PRE] [-s] [-r] HOST PORT...\n");
	return 2;
}
