/* forkconn: connect() across fork().
 *
 *   forkconn both [-p PRE] [-n N] HOST PORT...
 *     Makes PRE connections (default 100), forks, then parent and child
 *     each make N more (default 500) at the same time, keeping them all
 *     open; the child sends the 4-tuples it got to the parent, which checks
 *     that no live connection of one is a live connection of the other.
 *     One line:
 *       forkconn: parent=N parent_failed=N child=N child_failed=N odd=N
 *                 even=N shared=N dup=N tuples=HEX errors=NAME:N,...|none
 *     parent/child: connections each made after the fork (the parent's
 *     count includes PRE); odd/even: local ports of all of them; shared:
 *     4-tuples both had; dup: 4-tuples one process had twice; tuples: as
 *     the sink prints it.
 *
 *   forkconn threads [-f FORKS] [-t THREADS] -s STALL_PORT HOST PORT...
 *     THREADS threads (default 3) connect and close in a loop, and one more
 *     sits in blocking connect()s that cannot complete (to STALL_PORT on
 *     HOST, a listener of this process whose accept queue is kept full;
 *     SO_SNDTIMEO ends each after 20 ms with EINPROGRESS).  Meanwhile the
 *     main thread forks FORKS times (default 100); each child connects to
 *     every PORT once, checks the local port is odd and exits.  A child
 *     that has not exited after 10 s is deadlocked: it is killed and the
 *     run stops.  One line:
 *       forkconn: forks=N children_ok=N deadlocked=N inside_connect=N
 *                 child_bad=N loop=N loop_failed=N stalled=N odd=N even=N
 *     children_ok: children that connected everywhere with odd ports;
 *     inside_connect: forks made while the stalled thread was inside
 *     connect(); child_bad: children that failed or got an even port
 *     (their exit status tells which); loop/stalled: connect()s of the
 *     threads; odd/even: their local ports.
 *
 * Exit status 0 when everything connected as asked, 1 otherwise. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "errnames.h"
#include "sockutil.h"

#define MAX_PORTS 16

static struct in_addr host;
static struct sockaddr_in dest[MAX_PORTS];
static int nports;
static unsigned errors[ERRNO_SLOTS];


/* A blocking connect() to dest[i % nports]: the socket, with its local
 * port in *port, or -1 with errno set. */
static int connect_to(int i, unsigned *port)
{
	struct sockaddr_in local;
	socklen_t len = sizeof(local);
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return -1;
	if (connect(fd, (const struct sockaddr *)&dest[i % nports], sizeof(dest[0])) != 0 ||
	    getsockname(fd, (struct sockaddr *)&local, &len) != 0) {
		int saved = errno;
		close(fd);
		errno = saved;
		return -1;
	}
	*port = ntohs(local.sin_port);
	return fd;
}

static void full_write(int fd, const void *buf, size_t len)
{
	for (const char *p = buf; len > 0;) {
		ssize_t n = write(fd, p, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			_exit(3);
		p += n;
		len -= (size_t)n;
	}
}

/* Connects n times from index `from`, appending the 4-tuples (local port
 * << 16 | peer port) to `tuples`; returns how many connected. */
static int connect_many(int from, int n, uint32_t *tuples)
{
	int connected = 0;

	for (int i = from; i < from + n; i++) {
		unsigned port;
		if (connect_to(i, &port) < 0) {
			errno_count(errors, errno);
			continue;
		}
		tuples[connected++] = (uint32_t)port << 16 | ntohs(dest[i % nports].sin_port);
	}
	return connected;
}

static int both(int pre, int n)
{
	int ready[2], report[2], release[2];
	uint32_t *mine = calloc((size_t)(pre + n), sizeof(uint32_t));
	uint32_t *theirs = calloc((size_t)n, sizeof(uint32_t));
	int got_pre, got, child_got = 0, child_failed = 0;
	char c = 0;

	if (!mine || !theirs || pipe(ready) || pipe(report) || pipe(release))
		return 1;
	got_pre = connect_many(0, pre, mine);
	pid_t pid = fork();
	if (pid < 0)
		return 1;
	if (pid == 0) {
		/* Child: start when the parent does, report, hold until released. */
		close(ready[1]);
		close(report[0]);
		close(release[1]);
		if (full_read(ready[0], &c, 1) != 1)
			_exit(3);
		int k = connect_many(pre + 1, n, theirs);
		int header[2] = { k, n - k };
		full_write(report[1], header, sizeof(header));
		full_write(report[1], theirs, (size_t)k * sizeof(uint32_t));
		full_read(release[0], &c, 1);
		_exit(0);
	}
	/* A child that dies early shows as EOF on the report pipe. */
	close(ready[0]);
	close(report[1]);
	close(release[0]);
	full_write(ready[1], &c, 1);
	got = connect_many(pre, n, mine + got_pre);

	int header[2];
	if (full_read(report[0], header, sizeof(header)) == sizeof(header) && header[0] >= 0 &&
	    header[0] <= n) {
		child_got = header[0];
		child_failed = header[1];
		if (full_read(report[0], theirs, (size_t)child_got * sizeof(uint32_t)) !=
		    (size_t)child_got * sizeof(uint32_t))
			child_got = 0, child_failed = n;
	} else {
		child_failed = n;
	}

	/* The parent's live 4-tuples, then the child's against them. */
	long odd = 0, even = 0, shared = 0, dups = 0;
	uint64_t sum = 0;
	static uint64_t seen[2][MAX_PORTS][65536 / 64];
	for (int who = 0; who < 2; who++) {
		uint32_t *list = who ? theirs : mine;
		int count = who ? child_got : got_pre + got;
		for (int i = 0; i < count; i++) {
			unsigned local = list[i] >> 16, peer = list[i] & 0xffff;
			int pi = 0;
			while (pi < nports && ntohs(dest[pi].sin_port) != peer)
				pi++;
			if (pi == nports) {
				dups++; /* a peer we never asked for: count it as wrong */
				continue;
			}
			uint64_t bit = UINT64_C(1) << (local % 64);
			if (seen[who][pi][local / 64] & bit)
				dups++;
			if (who && (seen[0][pi][local / 64] & bit))
				shared++;
			seen[who][pi][local / 64] |= bit;
			if (local % 2)
				odd++;
			else
				even++;
			sum += mix((uint64_t)local << 16 | peer);
		}
	}
	close(release[1]);
	int status = 0;
	waitpid(pid, &status, 0);

	char errtext[512];
	errno_summary(errors, errtext, sizeof(errtext));
	printf("forkconn: parent=%d parent_failed=%d child=%d child_failed=%d odd=%ld even=%ld "
	       "shared=%ld dup=%ld tuples=%016llx errors=%s\n",
	       got_pre + got, pre + n - got_pre - got, child_got, child_failed, odd, even, shared,
	       dups, (unsigned long long)sum, errtext);
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
		printf("forkconn: child exited with status %d\n", status);
	return got_pre + got == pre + n && child_got == n && even == 0 && shared == 0 &&
			       dups == 0 && WIFEXITED(status) && WEXITSTATUS(status) == 0
		       ? 0
		       : 1;
}

static atomic_bool stop;
static atomic_long loop_ok, loop_failed, stalled, odd_ports, even_ports;
static atomic_int inside;
static struct sockaddr_in stall_addr;

static void count_port(unsigned port)
{
	if (port % 2)
		atomic_fetch_add(&odd_ports, 1);
	else
		atomic_fetch_add(&even_ports, 1);
}

/* Past this many connects the loop threads slow down to one a millisecond
 * each: the sink closes its end only after ours, and one that falls that
 * far behind on a loaded machine would run out of descriptors (20,000
 * here) before the forks are done. */
#define LOOP_FAST 10000

static void *loop_thread(void *arg)
{
	for (int i = (int)(intptr_t)arg; !atomic_load(&stop); i++) {
		unsigned port;
		if (atomic_load(&loop_ok) > LOOP_FAST)
			nanosleep(&(struct timespec){ 0, 1000000 }, NULL);
		int fd = connect_to(i, &port);
		if (fd < 0) {
			atomic_fetch_add(&loop_failed, 1);
			continue;
		}
		atomic_fetch_add(&loop_ok, 1);
		count_port(port);
		close(fd);
	}
	return NULL;
}

static void *stall_thread(void *arg)
{
	struct timeval timeout = { 0, 20000 };

	(void)arg;
	while (!atomic_load(&stop)) {
		struct sockaddr_in local;
		socklen_t len = sizeof(local);
		int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), rc;

		if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, sizeof(timeout)) != 0) {
			atomic_fetch_add(&loop_failed, 1);
			if (fd >= 0)
				close(fd);
			continue;
		}
		atomic_store(&inside, 1);
		rc = connect(fd, (struct sockaddr *)&stall_addr, sizeof(stall_addr));
		atomic_store(&inside, 0);
		if (rc == 0 || errno != EINPROGRESS ||
		    getsockname(fd, (struct sockaddr *)&local, &len) != 0) {
			atomic_fetch_add(&loop_failed, 1); /* it was meant to stall */
		} else {
			atomic_fetch_add(&stalled, 1);
			count_port(ntohs(local.sin_port));
		}
		close(fd);
	}
	return NULL;
}

/* Child of a multithreaded fork: only async-signal-safe calls. */
static void child_connects(void)
{
	for (int i = 0; i < nports; i++) {
		unsigned port;
		int fd = connect_to(i, &port);
		if (fd < 0)
			_exit(4);
		if (port % 2 == 0)
			_exit(5);
		close(fd);
	}
	_exit(0);
}

static int threads(int forks, int nthreads, int stall_port)
{
	pthread_t tids[64];
	int filler, listener, on = 1;

	stall_addr = (struct sockaddr_in){ .sin_family = AF_INET, .sin_port = htons((uint16_t)stall_port),
					   .sin_addr = host };
	/* Backlog 0 and one connection queued: every further SYN is dropped,
	 * so a connect() to it stays in progress. */
	listener = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (listener < 0 || setsockopt(listener, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on)) != 0 ||
	    bind(listener, (struct sockaddr *)&stall_addr, sizeof(stall_addr)) != 0 ||
	    listen(listener, 0) != 0 || (filler = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0 ||
	    connect(filler, (struct sockaddr *)&stall_addr, sizeof(stall_addr)) != 0) {
		perror("forkconn: stall listener");
		return 1;
	}
	if (nthreads > 63)
		nthreads = 63;
	for (int i = 0; i < nthreads; i++)
		if (pthread_create(&tids[i], NULL, loop_thread, (void *)(intptr_t)i) != 0)
			return 1;
	if (pthread_create(&tids[nthreads], NULL, stall_thread, NULL) != 0)
		return 1;

	int ok = 0, deadlocked = 0, inside_connect = 0, bad = 0, made = 0;
	unsigned bad_status = 0;
	for (int f = 0; f < forks && !deadlocked; f++) {
		struct timespec pause = { 0, 1000000 + (f % 7) * 300000 };
		nanosleep(&pause, NULL);
		inside_connect += atomic_load(&inside);
		pid_t pid = fork();
		if (pid < 0) {
			bad++;
			continue;
		}
		if (pid == 0)
			child_connects();
		made++;
		int status = 0, waited = 0;
		for (; waited < 10000; waited++) {
			pid_t r = waitpid(pid, &status, WNOHANG);
			if (r == pid)
				break;
			struct timespec ms = { 0, 1000000 };
			nanosleep(&ms, NULL);
		}
		if (waited == 10000) {
			deadlocked++;
			kill(pid, SIGKILL);
			waitpid(pid, &status, 0);
		} else if (WIFEXITED(status) && WEXITSTATUS(status) == 0) {
			ok++;
		} else {
			bad++;
			bad_status = (unsigned)status;
		}
	}
	atomic_store(&stop, true);
	for (int i = 0; i <= nthreads; i++)
		pthread_join(tids[i], NULL);

	printf("forkconn: forks=%d children_ok=%d deadlocked=%d inside_connect=%d child_bad=%d "
	       "loop=%ld loop_failed=%ld stalled=%ld odd=%ld even=%ld\n",
	       made, ok, deadlocked, inside_connect, bad, atomic_load(&loop_ok),
	       atomic_load(&loop_failed), atomic_load(&stalled), atomic_load(&odd_ports),
	       atomic_load(&even_ports));
	if (bad)
		printf("forkconn: last bad child status %#x\n", bad_status);
	close(filler);
	close(listener);
	return ok == forks && atomic_load(&loop_failed) == 0 && atomic_load(&even_ports) == 0 ? 0 : 1;
}

int main(int argc, char **argv)
{
	int opt, pre = 100, n = 500, forks = 100, nthreads = 3, stall_port = 0;
	const char *mode = argc > 1 ? argv[1] : "";

	optind = 2;
	while ((opt = getopt(argc, argv, "p:n:f:t:s:")) != -1) {
		switch (opt) {
		case 'p': pre = atoi(optarg); break;
		case 'n': n = atoi(optarg); break;
		case 'f': forks = atoi(optarg); break;
		case 't': nthreads = atoi(optarg); break;
		case 's': stall_port = atoi(optarg); break;
		default: goto usage;
		}
	}
	if (argc - optind < 2 || argc - optind - 1 > MAX_PORTS ||
	    inet_pton(AF_INET, argv[optind], &host) != 1)
		goto usage;
	for (int i = optind + 1; i < argc; i++)
		dest[nports++] = (struct sockaddr_in){ .sin_family = AF_INET,
						       .sin_port = htons((uint16_t)atoi(argv[i])),
						       .sin_addr = host };
	/* A test that hangs must not hang the suite. */
	alarm(120);
	if (strcmp(mode, "both") == 0 && pre >= 0 && n > 0)
		return both(pre, n);
	if (strcmp(mode, "threads") == 0 && forks > 0 && nthreads > 0 && stall_port > 0)
		return threads(forks, nthreads, stall_port);
usage:
	fprintf(stderr, "usage: forkconn both [-p PRE] [-n N] HOST PORT...\n"
			"       forkconn threads [-f FORKS] [-t THREADS] -s STALL_PORT HOST PORT...\n");
	return 2;
}
