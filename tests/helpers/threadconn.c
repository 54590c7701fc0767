/* threadconn: threads that connect, so that many threads of one process
 * (and, run several times at once, many processes) log decisions into one
 * event log at the same time.
 *
 *   threadconn [-t THREADS] [-n CONNECTS] HOST PORT
 *
 * Each of THREADS threads (default 4) makes CONNECTS (default 25) TCP
 * connections to HOST:PORT one after the other, each on a fresh socket,
 * closed after the connect.  The threads start together (a barrier), so
 * their connect() calls, and the log lines, overlap.  Prints one line per
 * thread, "TID OK FAILED"; exit status 0 when every connect worked. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static struct sockaddr_in dst;
static int connects = 25;
static pthread_barrier_t start;

struct result {
	long tid;
	int ok, failed;
};

static void *run(void *arg)
{
	struct result *r = arg;

	r->tid = (long)gettid();
	pthread_barrier_wait(&start);
	for (int i = 0; i < connects; i++) {
		int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (fd >= 0 && connect(fd, (struct sockaddr *)&dst, sizeof(dst)) == 0)
			r->ok++;
		else
			r->failed++;
		if (fd >= 0)
			close(fd);
	}
	return NULL;
}

int main(int argc, char **argv)
{
	int threads = 4, opt, failed = 0;

	while ((opt = getopt(argc, argv, "t:n:")) != -1) {
		if (opt == 't')
			threads = atoi(optarg);
		else if (opt == 'n')
			connects = atoi(optarg);
		else
			goto usage;
	}
	if (argc - optind != 2 || threads < 1 || threads > 256 || connects < 0)
		goto usage;
	dst.sin_family = AF_INET;
	dst.sin_port = htons((uint16_t)atoi(argv[optind + 1]));
	if (inet_pton(AF_INET, argv[optind], &dst.sin_addr) != 1)
		goto usage;

	pthread_t tid[256];
	struct result res[256];
	memset(res, 0, sizeof(res));
	pthread_barrier_init(&start, NULL, (unsigned)threads);
	for (int i = 0; i < threads; i++)
		if (pthread_create(&tid[i], NULL, run, &res[i]) != 0) {
			perror("pthread_create");
			return 1;
		}
	for (int i = 0; i < threads; i++) {
		pthread_join(tid[i], NULL);
		printf("%ld %d %d\n", res[i].tid, res[i].ok, res[i].failed);
		failed += res[i].failed;
	}
	return failed ? 1 : 0;
usage:
	fprintf(stderr, "usage: threadconn [-t THREADS] [-n CONNECTS] HOST PORT\n");
	return 2;
}
