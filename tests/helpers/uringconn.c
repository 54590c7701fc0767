/* uringconn: TCP connects submitted through io_uring: the kernel makes
 * them on the program's behalf, with no connect() call for a libc hook or a
 * seccomp filter to see.
 *
 *   uringconn [-6] [-n N] [-s] HOST PORT
 *
 * Each of N attempts (default 1) makes a fresh socket and submits its
 * connect as IORING_OP_CONNECT, all through one ring, then prints one line:
 * the local port it got (getsockname) or, when the completion reported an
 * error, the errno's name (ECONNREFUSED).  Once connected it reads until the
 * server closes, as portprobe's connect does, so that TIME_WAIT stays on the
 * server's side and the port is free again at once.
 *
 *   -6    an AF_INET6 socket (HOST may then be ::1 or ::ffff:127.0.0.1)
 *   -n N  N attempts
 *   -s    create the socket through the ring too (IORING_OP_SOCKET, Linux
 *         5.19; an older kernel completes it with EINVAL)
 *
 * Exit status 0 when every attempt worked, 1 otherwise, 2 on usage errors,
 * 3 when io_uring_setup() fails ("io_uring_setup: ENOSYS" on stderr): a test
 * tells "no io_uring here" from a failed connect by it.
 *
 * No liburing: the raw system calls and rings keep the program buildable
 * wherever the kernel's headers are, with or without the library. */
#include <linux/io_uring.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/time.h>

#include "sockutil.h"

struct ring {
	int fd;
	unsigned *sq_head, *sq_tail, *sq_mask, *sq_array;
	unsigned *cq_head, *cq_tail, *cq_mask;
	struct io_uring_sqe *sqes;
	struct io_uring_cqe *cqes;
};

static void usage(void)
{
	fprintf(stderr, "usage: uringconn [-6] [-n N] [-s] HOST PORT\n");
	exit(2);
}

static void *map(int fd, size_t len, off_t what)
{
	void *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, fd, what);

	if (p == MAP_FAILED) {
		fprintf(stderr, "mmap: %s\n", ename(errno));
		exit(1);
	}
	return p;
}

/* The rings are mapped one by one even where the kernel offers a single
 * mapping (IORING_FEAT_SINGLE_MMAP): every kernel with io_uring takes that. */
static void ring_init(struct ring *r)
{
	struct io_uring_params p;
	char *sq, *cq;

	memset(&p, 0, sizeof(p));
	r->fd = (int)syscall(SYS_io_uring_setup, 4, &p);
	if (r->fd < 0) {
		fprintf(stderr, "io_uring_setup: %s\n", ename(errno));
		exit(3);
	}
	sq = map(r->fd, p.sq_off.array + p.sq_entries * sizeof(unsigned), IORING_OFF_SQ_RING);
	cq = map(r->fd, p.cq_off.cqes + p.cq_entries * sizeof(struct io_uring_cqe),
		 IORING_OFF_CQ_RING);
	r->sqes = map(r->fd, p.sq_entries * sizeof(struct io_uring_sqe), IORING_OFF_SQES);
	r->sq_head = (unsigned *)(sq + p.sq_off.head);
	r->sq_tail = (unsigned *)(sq + p.sq_off.tail);
	r->sq_mask = (unsigned *)(sq + p.sq_off.ring_mask);
	r->sq_array = (unsigned *)(sq + p.sq_off.array);
	r->cq_head = (unsigned *)(cq + p.cq_off.head);
	r->cq_tail = (unsigned *)(cq + p.cq_off.tail);
	r->cq_mask = (unsigned *)(cq + p.cq_off.ring_mask);
	r->cqes = (struct io_uring_cqe *)(cq + p.cq_off.cqes);
}

/* Submits *want and waits for its completion: its result (a negated errno
 * on failure).  One request in flight at a time, so the completion at the
 * head is ours. */
static int ring_run(struct ring *r, const struct io_uring_sqe *want)
{
	unsigned tail = *r->sq_tail, idx = tail & *r->sq_mask, head;
	struct io_uring_cqe *cqe;
	int res;

	r->sqes[idx] = *want;
	r->sq_array[idx] = idx;
	__atomic_store_n(r->sq_tail, tail + 1, __ATOMIC_RELEASE);
	for (;;) {
		head = *r->cq_head;
		if (head != __atomic_load_n(r->cq_tail, __ATOMIC_ACQUIRE))
			break;
		/* A signal can end the wait after the submission or before
		 * it: what the kernel has not consumed yet is still ours to
		 * submit. */
		unsigned pending = tail + 1 - __atomic_load_n(r->sq_head, __ATOMIC_ACQUIRE);
		if (syscall(SYS_io_uring_enter, r->fd, pending, 1, IORING_ENTER_GETEVENTS, NULL, 0) < 0 &&
		    errno != EINTR) {
			fprintf(stderr, "io_uring_enter: %s\n", ename(errno));
			exit(1);
		}
	}
	cqe = &r->cqes[head & *r->cq_mask];
	res = cqe->res;
	__atomic_store_n(r->cq_head, head + 1, __ATOMIC_RELEASE);
	return res;
}

/* Waits for the server's close: 0, or -1 with errno set. */
static int read_to_eof(int fd)
{
	char buf[64];
	struct timeval tv = { 10, 0 };
	ssize_t n;

	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	while ((n = recv(fd, buf, sizeof(buf), 0)) > 0)
		;
	return n == 0 ? 0 : -1;
}

/* One attempt: prints its line; 0 when it worked. */
static int attempt(struct ring *r, int family, int via_ring, const struct sockaddr_storage *dest,
		   socklen_t dlen)
{
	struct io_uring_sqe sqe;
	int fd, res, port = -1;

	if (via_ring) {
		memset(&sqe, 0, sizeof(sqe));
		sqe.opcode = IORING_OP_SOCKET;
		sqe.fd = family;
		sqe.off = SOCK_STREAM;
		fd = ring_run(r, &sqe);
		if (fd < 0) {
			printf("%s\n", ename(-fd));
			return -1;
		}
	} else if ((fd = socket(family, SOCK_STREAM, 0)) < 0) {
		printf("%s\n", ename(errno));
		return -1;
	}
	memset(&sqe, 0, sizeof(sqe));
	sqe.opcode = IORING_OP_CONNECT;
	sqe.fd = fd;
	sqe.addr = (uintptr_t)dest;
	sqe.off = dlen; /* the address's length */
	res = ring_run(r, &sqe);
	if (res == 0) {
		port = local_port(fd);
		res = read_to_eof(fd) == 0 ? 0 : -errno;
	}
	if (res == 0)
		printf("%d\n", port);
	else
		printf("%s\n", ename(-res));
	close(fd);
	return res == 0 ? 0 : -1;
}

int main(int argc, char **argv)
{
	int opt, count = 1, family = AF_INET, via_ring = 0, failed = 0;
	struct sockaddr_storage dest;
	socklen_t dlen;
	struct ring r;
	char *end;

	while ((opt = getopt(argc, argv, "6n:s")) != -1) {
		switch (opt) {
		case '6': family = AF_INET6; break;
		case 'n':
			count = (int)strtol(optarg, &end, 10);
			if (*end || count < 0)
				usage();
			break;
		case 's': via_ring = 1; break;
		default: usage();
		}
	}
	if (optind + 2 != argc)
		usage();
	memset(&dest, 0, sizeof(dest));
	uint16_t port = htons((uint16_t)atoi(argv[optind + 1]));
	struct sockaddr_in *in = (struct sockaddr_in *)&dest;
	struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&dest;
	int ok;
	if (family == AF_INET) {
		*in = (struct sockaddr_in){ .sin_family = AF_INET, .sin_port = port };
		ok = inet_pton(AF_INET, argv[optind], &in->sin_addr);
		dlen = sizeof(*in);
	} else {
		*in6 = (struct sockaddr_in6){ .sin6_family = AF_INET6, .sin6_port = port };
		ok = inet_pton(AF_INET6, argv[optind], &in6->sin6_addr);
		dlen = sizeof(*in6);
	}
	if (ok != 1)
		usage();
	setvbuf(stdout, NULL, _IOLBF, 0);
	ring_init(&r);
	for (int i = 0; i < count; i++)
		if (attempt(&r, family, via_ring, &dest, dlen) != 0)
			failed = 1;
	close(r.fd);
	return failed;
}
