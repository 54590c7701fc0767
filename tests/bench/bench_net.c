/* bench_net: the network side of the benchmarks; portbench runs it, with
 * or without the shim preloaded, each time in a fresh network namespace.
 *
 *   bench_net loop  -t THREADS -n N -w WARMUP [-S SEGMENT] [-s] [-R|-B] [-O]
 *       Each thread has its own listener (127.0.0.1:7100+i) and repeats
 *       socket, connect, accept, close(client), close(accepted) (-s: the
 *       accepted end first; -R / -B: each connect() pinned to a random port
 *       with IP_LOCAL_PORT_RANGE / SO_REUSEADDR + bind, as strategies range
 *       and reuse do, without the shim; -O: after each connect() the socket
 *       options a client commonly touches, as Go's net.Dial does on every
 *       connection: getsockopt(SO_ERROR), setsockopt(TCP_NODELAY) and
 *       setsockopt(SO_KEEPALIVE));
 *       WARMUP rounds untimed, then N timed, all
 *       threads started together.  Prints
 *       threads=T n=N ns_per_conn=X cps=Y cpu_ns_per_conn=Z
 *       (ns_per_conn: wall time / connections, per thread; cps: all
 *       threads' connections per second of wall time; cpu_ns_per_conn: the
 *       process's CPU time / all connections) and with one thread
 *       seg_wall_ns= seg_cpu_ns=: the median over segments of SEGMENT
 *       (default 100) connections of wall and thread CPU time per
 *       connection.
 *
 *   bench_net serve -p PORT [-a ACCEPTORS] [-c CAP]
 *       Listens on 127.0.0.1:PORT; ACCEPTORS processes (default 1) accept
 *       from it and hold every connection, each at most CAP (default
 *       19000: a process here may hold 20,000 files).  Prints "ready".
 *       Runs until killed.
 *
 *   bench_net hold -p PORT -n N [-W]
 *       One connect to 127.0.0.1:PORT, then N more, timed, all kept open;
 *       resident memory before and after the N.  Prints
 *       n=N ok=K ns_total=T p50_ns= p99_ns= max_ns= rss0= rss1= lib_rss0=
 *       lib_rss1= lib_anon0= lib_anon1=
 *       (lib_*: the shim's own mappings, 0 without it).  -W: then wait to
 *       be killed, holding the connections.
 *
 *   bench_net idle
 *       A process that does nothing: its smaps_rollup (rss= pss= anon=
 *       private_dirty=) and the shim's own mappings (lib_rss= lib_anon=).
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>

#include "bench.h"

#define SHIM_NAME "libportshim"

static struct sockaddr_in loopback(unsigned port)
{
	return (struct sockaddr_in){ .sin_family = AF_INET, .sin_port = htons((uint16_t)port),
				     .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
}

/* No SO_REUSEADDR (a fresh namespace needs none): under the shim, a
 * process that sets it on any socket makes strategy reuse read every
 * socket's own value, and the loop's client should look like a client. */
static int listen_on(unsigned port, int backlog)
{
	struct sockaddr_in a = loopback(port);
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof(a)) != 0 || listen(fd, backlog) != 0)
		die("listen on 127.0.0.1:%u", port);
	return fd;
}

/* ---- loop ---- */

struct worker {
	pthread_t thread;
	int index, lfd;
	struct sockaddr_in to;
	uint64_t rng;
};

static int n_timed = 2000, n_warm = 200, server_first, segment = 100, sockopts;
static pthread_barrier_t start_line;

static uint64_t cpu_ns(clockid_t clock)
{
	struct timespec ts;

	clock_gettime(clock, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* -R / -B: what strategy `range` / `reuse` cost at least, without the
 * shim: a random port of 32768-60999 applied before each connect() with
 * setsockopt(IP_LOCAL_PORT_RANGE, [p,p]) (-R), or with SO_REUSEADDR and
 * bind(p) (-B); the next port when the kernel refuses one. */
static int pin_port;

static int connect_pinned(struct worker *w, int *c)
{
	w->rng ^= w->rng << 13;
	w->rng ^= w->rng >> 7;
	w->rng ^= w->rng << 17;
	unsigned port = 32768u + (unsigned)(w->rng % (60999u - 32768u + 1u));

	for (int tries = 0; tries < 28232; tries++, port = port == 60999u ? 32768u : port + 1u) {
		if (pin_port == 1) {
			uint32_t range = (uint32_t)port << 16 | port;
			if (setsockopt(*c, IPPROTO_IP, 51 /* IP_LOCAL_PORT_RANGE */, &range,
				       sizeof(range)) != 0)
				return -1;
		} else {
			struct sockaddr_in local = { .sin_family = AF_INET,
						     .sin_port = htons((uint16_t)port) };
			int one = 1;
			if (setsockopt(*c, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) != 0)
				return -1;
			if (bind(*c, (struct sockaddr *)&local, sizeof(local)) != 0) {
				if (errno == EADDRINUSE)
					continue;
				return -1;
			}
		}
		if (connect(*c, (struct sockaddr *)&w->to, sizeof(w->to)) == 0)
			return 0;
		if (errno != EADDRNOTAVAIL)
			return -1;
		if (pin_port == 2) { /* bound for good: a new socket */
			close(*c);
			if ((*c = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0)
				return -1;
		}
	}
	return -1;
}

static void one_conn(struct worker *w)
{
	int c = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (c < 0)
		die("socket");
	if ((pin_port ? connect_pinned(w, &c) : connect(c, (struct sockaddr *)&w->to, sizeof(w->to))) != 0)
		die("thread %d: connect", w->index);
	if (sockopts) {
		int err = -1, one = 1;
		socklen_t len = sizeof(err);
		if (getsockopt(c, SOL_SOCKET, SO_ERROR, &err, &len) != 0 || err != 0 ||
		    setsockopt(c, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one)) != 0 ||
		    setsockopt(c, SOL_SOCKET, SO_KEEPALIVE, &one, sizeof(one)) != 0)
			die("thread %d: socket options", w->index);
	}
	int a = accept4(w->lfd, NULL, NULL, SOCK_CLOEXEC);
	if (a < 0)
		die("accept");
	if (server_first) {
		close(a);
		close(c);
	} else {
		close(c);
		close(a);
	}
}

/* Per segment of `segment` connections: wall and thread CPU time per
 * connection (one thread only; the median segment shrugs off the moments
 * when other programs took the CPU). */
static double *seg_wall, *seg_cpu;
static int nseg;

static void *loop_thread(void *arg)
{
	struct worker *w = arg;

	for (int i = 0; i < n_warm; i++)
		one_conn(w);
	pthread_barrier_wait(&start_line);
	if (!seg_wall) {
		for (int i = 0; i < n_timed; i++)
			one_conn(w);
		return NULL;
	}
	for (int done = 0; done < n_timed;) {
		int n = n_timed - done < segment ? n_timed - done : segment;
		uint64_t w0 = now_ns(), c0 = cpu_ns(CLOCK_THREAD_CPUTIME_ID);
		for (int i = 0; i < n; i++)
			one_conn(w);
		seg_cpu[nseg] = (double)(cpu_ns(CLOCK_THREAD_CPUTIME_ID) - c0) / n;
		seg_wall[nseg++] = (double)(now_ns() - w0) / n;
		done += n;
	}
	return NULL;
}

static int cmd_loop(int argc, char **argv)
{
	int threads = 1, opt;

	while ((opt = getopt(argc, argv, "t:n:w:S:sRBO")) != -1) {
		switch (opt) {
		case 't': threads = atoi(optarg); break;
		case 'n': n_timed = atoi(optarg); break;
		case 'w': n_warm = atoi(optarg); break;
		case 'S': segment = atoi(optarg); break;
		case 's': server_first = 1; break;
		case 'R': pin_port = 1; break;
		case 'B': pin_port = 2; break;
		case 'O': sockopts = 1; break;
		default: return 2;
		}
	}
	if (threads < 1 || threads > 64 || n_timed < 1 || segment < 1)
		die("bad arguments");
	if (threads == 1) {
		seg_wall = calloc((size_t)n_timed / (size_t)segment + 1, sizeof(double));
		seg_cpu = calloc((size_t)n_timed / (size_t)segment + 1, sizeof(double));
	}
	struct worker w[64];
	pthread_barrier_init(&start_line, NULL, (unsigned)threads + 1);
	for (int i = 0; i < threads; i++) {
		w[i].index = i;
		w[i].rng = (now_ns() | 1u) * 0x9e3779b97f4a7c15u + (uint64_t)i;
		w[i].lfd = listen_on(7100u + (unsigned)i, 1024);
		w[i].to = loopback(7100u + (unsigned)i);
		if (pthread_create(&w[i].thread, NULL, loop_thread, &w[i]) != 0)
			die("pthread_create");
	}
	pthread_barrier_wait(&start_line);
	uint64_t t0 = now_ns(), c0 = cpu_ns(CLOCK_PROCESS_CPUTIME_ID);
	for (int i = 0; i < threads; i++)
		pthread_join(w[i].thread, NULL);
	uint64_t t1 = now_ns(), c1 = cpu_ns(CLOCK_PROCESS_CPUTIME_ID);
	double wall = (double)(t1 - t0), total = (double)threads * n_timed;
	printf("threads=%d n=%d ns_per_conn=%.1f cps=%.1f cpu_ns_per_conn=%.1f", threads, n_timed,
	       wall / n_timed, total / (wall / 1e9), (double)(c1 - c0) / total);
	if (seg_wall)
		printf(" seg_wall_ns=%.1f seg_cpu_ns=%.1f", median(seg_wall, nseg),
		       median(seg_cpu, nseg));
	printf("\n");
	return 0;
}

/* ---- serve ---- */

static void acceptor(int lfd, int cap)
{
	int held = 0;

	prctl(PR_SET_PDEATHSIG, SIGKILL);
	for (;;) {
		if (held >= cap) {
			pause();
			continue;
		}
		int a = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
		if (a >= 0)
			held++;
		else if (errno != EINTR && errno != ECONNABORTED && errno != EMFILE)
			die("accept");
	}
}

static int cmd_serve(int argc, char **argv)
{
	int port = 0, acceptors = 1, cap = 19000, opt;

	while ((opt = getopt(argc, argv, "p:a:c:")) != -1) {
		switch (opt) {
		case 'p': port = atoi(optarg); break;
		case 'a': acceptors = atoi(optarg); break;
		case 'c': cap = atoi(optarg); break;
		default: return 2;
		}
	}
	int lfd = listen_on((unsigned)port, 65535);
	for (int i = 1; i < acceptors; i++) {
		pid_t pid = fork();
		if (pid < 0)
			die("fork");
		if (pid == 0)
			acceptor(lfd, cap);
	}
	printf("ready\n");
	fflush(stdout);
	acceptor(lfd, cap);
	return 0;
}

/* ---- hold ---- */

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

static int cmd_hold(int argc, char **argv)
{
	int port = 0, n = 1000, wait_after = 0, opt;

	while ((opt = getopt(argc, argv, "p:n:W")) != -1) {
		switch (opt) {
		case 'p': port = atoi(optarg); break;
		case 'n': n = atoi(optarg); break;
		case 'W': wait_after = 1; break;
		default: return 2;
		}
	}
	int *fds = calloc((size_t)n, sizeof(int));
	uint64_t *lat = calloc((size_t)n, sizeof(uint64_t));
	if (!fds || !lat)
		die("calloc");
	memset(fds, 0xff, (size_t)n * sizeof(int));
	memset(lat, 0, (size_t)n * sizeof(uint64_t));
	struct sockaddr_in to = loopback((unsigned)port);
	long long rss0, rss1, lib0, lib1, anon0, anon1;

	/* One connection first, not counted, so that the code connect() runs
	 * (libc's and the shim's) is resident before the first reading; and
	 * a first reading, to fault in what the reading itself touches. */
	int warm = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	uint64_t warm_t0 = now_ns();
	if (warm < 0 || connect(warm, (struct sockaddr *)&to, sizeof(to)) != 0)
		die("first connect");
	lat[0] = now_ns() - warm_t0;
	object_rss(SHIM_NAME, &lib0, &anon0);
	rss0 = rss_bytes();
	object_rss(SHIM_NAME, &lib0, &anon0);
	rss0 = rss_bytes();

	int ok = 0, err = 0;
	uint64_t total = 0;
	for (int i = 0; i < n; i++) {
		int c = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (c < 0)
			die("socket (%d held)", ok);
		uint64_t t0 = now_ns();
		int r = connect(c, (struct sockaddr *)&to, sizeof(to));
		uint64_t dt = now_ns() - t0;
		total += dt;
		if (r != 0) {
			if (!err)
				err = errno;
			close(c);
			continue;
		}
		lat[ok] = dt;
		fds[ok++] = c;
	}
	rss1 = rss_bytes();
	object_rss(SHIM_NAME, &lib1, &anon1);
	qsort(lat, (size_t)ok, sizeof(*lat), cmp_u64);
	printf("n=%d ok=%d error=%s ns_total=%llu p50_ns=%llu p99_ns=%llu max_ns=%llu "
	       "rss0=%lld rss1=%lld lib_rss0=%lld lib_rss1=%lld lib_anon0=%lld lib_anon1=%lld\n",
	       n, ok, err ? strerrorname_np(err) : "none", (unsigned long long)total,
	       (unsigned long long)(ok ? lat[ok / 2] : 0),
	       (unsigned long long)(ok ? lat[(size_t)ok * 99 / 100] : 0),
	       (unsigned long long)(ok ? lat[ok - 1] : 0), rss0, rss1, lib0, lib1, anon0, anon1);
	fflush(stdout);
	if (wait_after)
		for (;;)
			pause();
	return ok == n ? 0 : 1;
}

/* ---- idle ---- */

static int cmd_idle(void)
{
	static const char *const keys[] = { "Rss", "Pss", "Anonymous", "Private_Dirty" };
	long long v[4], lib, anon;

	proc_kb("/proc/self/smaps_rollup", 4, keys, v);
	object_rss(SHIM_NAME, &lib, &anon);
	printf("rss=%lld pss=%lld anon=%lld private_dirty=%lld lib_rss=%lld lib_anon=%lld\n", v[0],
	       v[1], v[2], v[3], lib, anon);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc < 2)
		die("usage: bench_net loop|serve|hold|idle ...");
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (strcmp(argv[1], "loop") == 0)
		return cmd_loop(argc - 1, argv + 1);
	if (strcmp(argv[1], "serve") == 0)
		return cmd_serve(argc - 1, argv + 1);
	if (strcmp(argv[1], "hold") == 0)
		return cmd_hold(argc - 1, argv + 1);
	if (strcmp(argv[1], "idle") == 0)
		return cmd_idle();
	die("unknown command %s", argv[1]);
}
