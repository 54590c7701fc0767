/* What the hostile-call and descriptor-life test programs share: errno
 * names (the library's own table, shim/errnames.c: musl has no
 * strerrorname_np), a socket's local port, loopback addresses. */
#ifndef TESTS_HELPERS_SOCKUTIL_H
#define TESTS_HELPERS_SOCKUTIL_H

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include "errnames.h"

#ifndef IP_LOCAL_PORT_RANGE
#define IP_LOCAL_PORT_RANGE 51
#endif

static inline const char *ename(int e)
{
	const char *n = e ? errno_name(e) : "0";
	return n ? n : "?";
}

/* How often each errno was seen: errors[e] for e in 1..ERRNO_SLOTS-1,
 * errors[0] for anything else. */
#define ERRNO_SLOTS 256

static inline void errno_count(unsigned errors[ERRNO_SLOTS], int e)
{
	errors[e > 0 && e < ERRNO_SLOTS ? e : 0]++;
}

/* "EADDRNOTAVAIL:3,ECONNREFUSED:1" (OTHER for errors[0]), or "none". */
static inline const char *errno_summary(const unsigned errors[ERRNO_SLOTS], char *buf, size_t size)
{
	size_t off = 0;

	snprintf(buf, size, "none");
	for (int e = 0; e < ERRNO_SLOTS; e++) {
		if (!errors[e])
			continue;
		const char *name = e ? errno_name(e) : "OTHER";
		int n = snprintf(buf + off, size - off, "%s%s:%u", off ? "," : "", name ? name : "?",
				 errors[e]);
		if (n > 0 && (size_t)n < size - off)
			off += (size_t)n;
	}
	return buf;
}

/* splitmix64's finalizer: the programs and the sink sum mix(local port <<
 * 16 | peer port) over their connections, so that a test can check both
 * ends saw the same 4-tuples. */
static inline uint64_t mix(uint64_t x)
{
	x += UINT64_C(0x9e3779b97f4a7c15);
	x = (x ^ (x >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
	x = (x ^ (x >> 27)) * UINT64_C(0x94d049bb133111eb);
	return x ^ (x >> 31);
}

/* Reads len bytes, through EINTR; how many it got (short at EOF). */
static inline size_t full_read(int fd, void *buf, size_t len)
{
	size_t got = 0;

	while (got < len) {
		ssize_t n = read(fd, (char *)buf + got, len - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		got += (size_t)n;
	}
	return got;
}

static inline int local_port(int fd)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);
	if (getsockname(fd, (struct sockaddr *)&ss, &len) < 0)
		return -1;
	if (ss.ss_family == AF_INET)
		return ntohs(((struct sockaddr_in *)&ss)->sin_port);
	if (ss.ss_family == AF_INET6)
		return ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
	return -1;
}

static inline struct sockaddr_in v4(int port)
{
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(port)};
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	return a;
}

static inline int tcp4(void) { return socket(AF_INET, SOCK_STREAM, 0); }

/* The highest descriptor we may use, above 65,536 if the limits allow. */
static inline int high_fd(void)
{
	struct rlimit rl;
	getrlimit(RLIMIT_NOFILE, &rl);
	struct rlimit want = {70000, 70000};
	if (rl.rlim_max < 70000 && setrlimit(RLIMIT_NOFILE, &want) == 0)
		return 65600;
	rl.rlim_cur = rl.rlim_max;
	setrlimit(RLIMIT_NOFILE, &rl);
	getrlimit(RLIMIT_NOFILE, &rl);
	if (rl.rlim_cur > 65600)
		return 65600;
	fprintf(stderr, "RLIMIT_NOFILE hard limit %lu: using fd %lu, not one above 65,536\n",
		(unsigned long)rl.rlim_max, (unsigned long)rl.rlim_cur - 1);
	return (int)rl.rlim_cur - 1;
}

#endif
