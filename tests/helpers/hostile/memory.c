/* hostile cases: pointers the kernel cannot read or write - (void *)1,
 * unmapped memory, and a structure whose first bytes are readable but
 * whose last ones lie in a PROT_NONE page - for every call the shim reads
 * through: connect, bind, sendto, sendmsg (the msghdr and its msg_name),
 * sendmmsg (the vector and its msg_name), getsockopt/setsockopt of
 * SO_REUSEADDR and IP_LOCAL_PORT_RANGE.  The kernel answers EFAULT; under
 * the shim the program must get the same, not a SIGSEGV, with nothing
 * bound and the options as they were. */
#include <sys/mman.h>

#include "hostile.h"

#define BAD1 ((void *)1)

/* A page nothing can read: kept mapped PROT_NONE rather than unmapped, so
 * that no later mapping (a sanitizer's, another thread's) can land there
 * between the cases - the kernel's answer is EFAULT either way. */
static char *unmapped;
static char *fence;    /* a PROT_NONE page right after a readable one */

static void map_pages(void)
{
	size_t page = (size_t)sysconf(_SC_PAGESIZE);
	char *two = mmap(NULL, 2 * page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	unmapped = mmap(NULL, page, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (unmapped == MAP_FAILED || two == MAP_FAILED || mprotect(two + page, page, PROT_NONE) != 0)
		exit(2);
	fence = two + page;
}

/* A copy of the first `readable` bytes of src, right before the fence: the
 * rest of the structure is unreadable. */
static void *straddling(const void *src, size_t readable)
{
	memcpy(fence - readable, src, readable);
	return fence - readable;
}

/* call_addr1, call_unmapped, call_edge: each on a fresh socket of `type`. */
#define EACH(call, family, type, expr) do { \
		s = socket(family, type, 0); CALL(call "_addr1", s, expr(BAD1)); close(s); \
		s = socket(family, type, 0); CALL(call "_unmapped", s, expr(unmapped)); close(s); \
		s = socket(family, type, 0); CALL(call "_edge", s, expr(edge)); close(s); \
	} while (0)

static void addresses(int lport)
{
	struct sockaddr_in a = v4(lport), any = v4(0);
	struct sockaddr_in6 a6 = v6(lport), any6 = v6(0);
	struct iovec iov = {.iov_base = "x", .iov_len = 1};
	struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1, .msg_namelen = sizeof(a)};
	struct mmsghdr mm = {.msg_hdr = mh};
	void *edge = straddling(&a, 8);
	int s;

	any6.sin6_addr = in6addr_any;
#define CONNECT(p) connect(s, (struct sockaddr *)(p), sizeof(a))
#define SENDTO(p) (int)sendto(s, "x", 1, 0, (struct sockaddr *)(p), sizeof(a))
#define FASTOPEN(p) (int)sendto(s, "x", 1, MSG_FASTOPEN, (struct sockaddr *)(p), sizeof(a))
#define SENDMSG_NAME(p) (mh.msg_name = (p), (int)sendmsg(s, &mh, 0))
#define SENDMMSG_NAME(p) (mm.msg_hdr.msg_name = (p), sendmmsg(s, &mm, 1, 0))
	EACH("connect_tcp", AF_INET, SOCK_STREAM, CONNECT);
	EACH("sendto_fastopen", AF_INET, SOCK_STREAM, FASTOPEN);
	EACH("connect_udp", AF_INET, SOCK_DGRAM, CONNECT);
	EACH("sendto_udp", AF_INET, SOCK_DGRAM, SENDTO);
	EACH("sendmsg_udp_name", AF_INET, SOCK_DGRAM, SENDMSG_NAME);
	EACH("sendmmsg_udp_name", AF_INET, SOCK_DGRAM, SENDMMSG_NAME);

	/* An IPv6 address readable up to its port and flow label only. */
	edge = straddling(&a6, 8);
#define CONNECT6(p) connect(s, (struct sockaddr *)(p), sizeof(a6))
	EACH("connect_tcp6", AF_INET6, SOCK_STREAM, CONNECT6);

	/* The msghdr and the vector themselves: glibc hands them to the kernel
	 * as they are; musl's sendmsg() and sendmmsg() copy them first, so a
	 * bad one crashes there with or without the shim. */
#ifdef __GLIBC__
	mh.msg_name = &a;
	mm.msg_hdr = mh;
	edge = straddling(&mh, 8);
#define SENDMSG_HDR(p) (int)sendmsg(s, (struct msghdr *)(p), 0)
	EACH("sendmsg_udp_msghdr", AF_INET, SOCK_DGRAM, SENDMSG_HDR);
	edge = straddling(&mm, 8);
#define SENDMMSG_VEC(p) sendmmsg(s, (struct mmsghdr *)(p), 1, 0)
	EACH("sendmmsg_udp_vec", AF_INET, SOCK_DGRAM, SENDMMSG_VEC);
#endif

	/* bind(): the readable first bytes ask for port 0. */
	edge = straddling(&any, 8);
#define BIND(p) bind(s, (struct sockaddr *)(p), sizeof(any))
	EACH("bind0_tcp", AF_INET, SOCK_STREAM, BIND);
	EACH("bind0_udp", AF_INET, SOCK_DGRAM, BIND);
	edge = straddling(&any6, 20);
#define BIND6(p) bind(s, (struct sockaddr *)(p), sizeof(any6))
	EACH("bind0_tcp6", AF_INET6, SOCK_STREAM, BIND6);
}

/* getsockopt() into 8 bytes of 0xaa with *len = in, or with the value
 * ('v') or the length ('l') pointer bad; what came back. */
static void get(const char *what, const char *label, int s, int level, int opt, socklen_t in,
		int bad)
{
	unsigned char buf[8];
	socklen_t len = in;

	memset(buf, 0xaa, sizeof(buf));
	errno = EDOM;
	int r = getsockopt(s, level, opt, bad == 'v' ? BAD1 : buf, bad == 'l' ? BAD1 : &len);
	int e = errno;
	printf("case=%s_get_%s ret=%d errno=%s len=%u value=%02x%02x%02x%02x%02x\n", what, label,
	       r, ename(e), (unsigned)len, buf[0], buf[1], buf[2], buf[3], buf[4]);
}

static void set(const char *what, const char *label, int s, int level, int opt,
		const void *value)
{
	errno = EDOM;
	int r = setsockopt(s, level, opt, value, sizeof(int));
	int e = errno;
	printf("case=%s_set_%s ret=%d errno=%s\n", what, label, r, ename(e));
}

/* The options the shim answers for, on socket s (`what`). */
static void options(const char *what, int s)
{
	static const int one = 1;
	void *edge = straddling(&one, 2);

	get(what, "reuseaddr_len4", s, SOL_SOCKET, SO_REUSEADDR, 4, 0);
	get(what, "reuseaddr_len1", s, SOL_SOCKET, SO_REUSEADDR, 1, 0);
	get(what, "reuseaddr_len0", s, SOL_SOCKET, SO_REUSEADDR, 0, 0);
	get(what, "reuseaddr_value1", s, SOL_SOCKET, SO_REUSEADDR, 4, 'v');
	get(what, "reuseaddr_lenp1", s, SOL_SOCKET, SO_REUSEADDR, 4, 'l');
	set(what, "reuseaddr_value1", s, SOL_SOCKET, SO_REUSEADDR, BAD1);
	set(what, "reuseaddr_edge", s, SOL_SOCKET, SO_REUSEADDR, edge);
	get(what, "reuseaddr_after", s, SOL_SOCKET, SO_REUSEADDR, 4, 0);
	get(what, "range_len4", s, IPPROTO_IP, IP_LOCAL_PORT_RANGE, 4, 0);
	get(what, "range_len2", s, IPPROTO_IP, IP_LOCAL_PORT_RANGE, 2, 0);
	get(what, "range_value1", s, IPPROTO_IP, IP_LOCAL_PORT_RANGE, 4, 'v');
	get(what, "range_lenp1", s, IPPROTO_IP, IP_LOCAL_PORT_RANGE, 4, 'l');
	set(what, "range_value1", s, IPPROTO_IP, IP_LOCAL_PORT_RANGE, BAD1);
	get(what, "range_after", s, IPPROTO_IP, IP_LOCAL_PORT_RANGE, 4, 0);
}

static void socket_options(int lport)
{
	struct sockaddr_in a = v4(lport);
	int one = 1, s;

	s = tcp4();
	options("fresh_tcp", s);
	close(s);
	s = tcp4();
	CALL("connect_for_options", s, connect(s, (struct sockaddr *)&a, sizeof(a)));
	options("connected_tcp", s);
	close(s);
	/* The application's own SO_REUSEADDR, which the shim must answer with. */
	s = tcp4();
	setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	CALL("connect_reuseaddr_for_options", s, connect(s, (struct sockaddr *)&a, sizeof(a)));
	options("connected_tcp_reuseaddr", s);
	close(s);
	s = socket(AF_INET, SOCK_DGRAM, 0);
	CALL("connect_udp_for_options", s, connect(s, (struct sockaddr *)&a, sizeof(a)));
	options("connected_udp", s);
	close(s);
}

void cases_memory(int lport)
{
	map_pages();
	addresses(lport);
	socket_options(lport);
}
