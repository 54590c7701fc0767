/* Connects the kernel refuses before it needs a port (early.h), with socket
 * calls played by the test: what each answer of getsockopt() and of the
 * route probe makes of a destination, that a routed destination is probed
 * once, that a probe that cannot stand for the socket (another network
 * namespace, a mark, a source address it cannot bind) never says no, and
 * which states of a 4-tuple the front end's lookup finds make it taken. */
#include <arpa/inet.h>
#include <errno.h>
#include <net/if.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <string.h>
#include <unistd.h>

#include "early.h"
#include "fixture.h"

/* rt (fixture.h) is used as it starts, zeroed: nothing here configures
 * it. */

/* What the fake socket calls answer, and how often they were made. */
static struct {
	int v6only, ifindex;
	bool ifindex_unknown; /* SO_BINDTOIFINDEX refused: a kernel before 5.0 */
	const char *device;   /* SO_BINDTODEVICE's answer then */
	bool routed;          /* the probe's connect() succeeds */
	int mark;
	uint64_t netns[2];    /* SO_NETNS_COOKIE of the socket (fd 3), of the probe */
	bool bind_fails;      /* the probe's bind() to the socket's source address */
	int fastopen;         /* net.ipv4.tcp_fastopen, -1 unreadable */
	bool setopt_fails;    /* setsockopt() on the probe: no privilege */
	bool real_probe;      /* the probe is a real UDP socket (for its source) */
	int tuple_state;      /* the 4-tuple lookup's answer */
	int probes, open_probes, binds, setopts, lookups;
	int lookup_fd;        /* what the lookup was asked */
	unsigned lookup_port;
	struct sockaddr_storage lookup_src;
} fake;

#define PROBE_FD 100

static int fake_getsockopt(int fd, int level, int name, void *value, socklen_t *len)
{
	if (level == SOL_SOCKET && name == SO_NETNS_COOKIE) {
		*(uint64_t *)value = fake.netns[fd == PROBE_FD];
		return 0;
	}
	if (level == SOL_SOCKET && name == SO_MARK) {
		*(int *)value = fake.mark;
		return 0;
	}
	if (level == IPPROTO_IPV6 && name == IPV6_V6ONLY) {
		*(int *)value = fake.v6only;
		return 0;
	}
	if (level == SOL_SOCKET && name == SO_BINDTOIFINDEX && !fake.ifindex_unknown) {
		*(int *)value = fake.ifindex;
		return 0;
	}
	if (level == SOL_SOCKET && name == SO_BINDTODEVICE && fake.device) {
		size_t n = strlen(fake.device);
		memcpy(value, fake.device, n);
		*len = (socklen_t)n;
		return 0;
	}
	errno = ENOPROTOOPT;
	return -1;
}

static int fake_socket(int fd, int family)
{
	(void)fd;
	fake.open_probes++;
	return fake.real_probe ? socket(family, SOCK_DGRAM | SOCK_CLOEXEC, 0) : PROBE_FD;
}

static int fake_connect(int fd, const struct sockaddr *addr, socklen_t len)
{
	fake.probes++;
	if (fake.real_probe)
		return connect(fd, addr, len);
	if (fake.routed)
		return 0;
	errno = ENETUNREACH;
	return -1;
}

static int fake_bind(int fd, const struct sockaddr *addr, socklen_t len)
{
	(void)fd, (void)addr, (void)len;
	fake.binds++;
	if (!fake.bind_fails)
		return 0;
	errno = EADDRNOTAVAIL;
	return -1;
}

static int fake_close(int fd)
{
	fake.open_probes--;
	return fd == PROBE_FD ? 0 : close(fd);
}

static int fake_setsockopt(int fd, int level, int name, const void *value, socklen_t len)
{
	(void)fd, (void)level, (void)name, (void)value, (void)len;
	fake.setopts++;
	if (!fake.setopt_fails)
		return 0;
	errno = EPERM;
	return -1;
}

static int fake_fastopen(int fd)
{
	(void)fd;
	return fake.fastopen;
}

static int fake_tuple_state(int fd, const struct sockaddr_storage *src, unsigned sport,
			    const struct sockaddr *dst)
{
	(void)dst;
	fake.lookups++;
	fake.lookup_fd = fd;
	fake.lookup_port = sport;
	fake.lookup_src = *src;
	return fake.tuple_state;
}

static const struct early_calls calls = {
	.getsockopt = fake_getsockopt,
	.setsockopt = fake_setsockopt,
	.probe_socket = fake_socket,
	.connect = fake_connect,
	.bind = fake_bind,
	.close = fake_close,
	.fastopen_sysctl = fake_fastopen,
	.tuple_state = fake_tuple_state,
};

static struct sockaddr_storage local = { .ss_family = AF_INET6 }; /* [::]:0 */

static void reset(void)
{
	memset(&fake, 0, sizeof(fake));
	memset(&local, 0, sizeof(local));
	local.ss_family = AF_INET6;
	fake.routed = true;
}

static bool refused6(const char *dst, uint32_t scope, socklen_t len, int type)
{
	struct sockaddr_in6 a = { .sin6_family = AF_INET6, .sin6_port = htons(80),
				  .sin6_scope_id = scope };
	inet_pton(AF_INET6, dst, &a.sin6_addr);
	struct flow flow = { (struct sockaddr *)&a, len, &local, type, 0, false };

	return early_refusal(&rt, &calls, 3, &flow);
}

static void test_v4_mapped_on_v6only(void)
{
	reset();
	CHECK(!refused6("::ffff:127.0.0.1", 0, sizeof(struct sockaddr_in6), SOCK_STREAM));
	fake.v6only = 1;
	CHECK(refused6("::ffff:127.0.0.1", 0, sizeof(struct sockaddr_in6), SOCK_STREAM));
	/* UDP autobinds before the kernel looks: never early. */
	CHECK(!refused6("::ffff:127.0.0.1", 0, sizeof(struct sockaddr_in6), SOCK_DGRAM));
}

static void test_link_local_needs_a_scope(void)
{
	reset();
	CHECK(refused6("fe80::1", 0, sizeof(struct sockaddr_in6), SOCK_STREAM));
	CHECK(!refused6("fe80::1", 2, sizeof(struct sockaddr_in6), SOCK_STREAM));
	/* 24 bytes (RFC 2133): no scope id at all. */
	CHECK(refused6("fe80::1", 2, 24, SOCK_STREAM));
	fake.ifindex = 2; /* bound to a device: the device gives the scope */
	CHECK(!refused6("fe80::1", 0, sizeof(struct sockaddr_in6), SOCK_STREAM));
	/* Before Linux 5.0: the device's name says whether it is bound. */
	fake.ifindex_unknown = true;
	fake.device = "";
	CHECK(refused6("ff02::1", 0, sizeof(struct sockaddr_in6), SOCK_STREAM));
	fake.device = "eth0";
	CHECK(!refused6("ff02::1", 0, sizeof(struct sockaddr_in6), SOCK_STREAM));
}

static void test_route_probed_once(void)
{
	reset();
	fake.routed = false;
	CHECK(refused6("2001:db8::7", 0, sizeof(struct sockaddr_in6), SOCK_STREAM));
	CHECK(refused6("2001:db8::7", 0, sizeof(struct sockaddr_in6), SOCK_STREAM));
	CHECK(fake.probes == 2, "an unroutable destination is asked again: %d probes", fake.probes);
	fake.routed = true;
	CHECK(!refused6("2001:db8::7", 0, sizeof(struct sockaddr_in6), SOCK_STREAM));
	CHECK(!refused6("2001:db8::7", 0, sizeof(struct sockaddr_in6), SOCK_STREAM));
	CHECK(fake.probes == 3, "a routed destination probed %d times in all", fake.probes);
	CHECK(fake.open_probes == 0, "%d probe sockets left open", fake.open_probes);
	/* A socket bound to a device is the kernel's to judge: no probe. */
	fake.ifindex = 4;
	fake.routed = false;
	CHECK(!refused6("2001:db8::8", 0, sizeof(struct sockaddr_in6), SOCK_STREAM));
	CHECK(fake.probes == 3);
}

/* Each case with its own destination: the routed cache outlives a test. */
static void test_probe_that_cannot_stand_for_the_socket(void)
{
	reset();
	fake.routed = false;
	fake.netns[0] = 7, fake.netns[1] = 8; /* a supervisor's probe, say */
	CHECK(!refused6("2001:db8::a", 0, sizeof(struct sockaddr_in6), SOCK_STREAM),
	      "a probe in another namespace refused the connect");
	CHECK(fake.probes == 0, "%d probes", fake.probes);
	CHECK(fake.open_probes == 0);
	fake.netns[1] = 7; /* the same namespace: now it may say no, and was not cached */
	CHECK(refused6("2001:db8::a", 0, sizeof(struct sockaddr_in6), SOCK_STREAM));
	fake.mark = 42; /* policy routing: the probe takes the mark, if it may */
	CHECK(refused6("2001:db8::b", 0, sizeof(struct sockaddr_in6), SOCK_STREAM));
	CHECK(fake.setopts == 1, "%d setsockopt()s", fake.setopts);
	fake.setopt_fails = true;
	CHECK(!refused6("2001:db8::e", 0, sizeof(struct sockaddr_in6), SOCK_STREAM));
	fake.setopt_fails = false;
	fake.mark = 0;
	/* A source address: the probe binds it, and judges only if it could. */
	inet_pton(AF_INET6, "2001:db8::99", &((struct sockaddr_in6 *)&local)->sin6_addr);
	CHECK(refused6("2001:db8::c", 0, sizeof(struct sockaddr_in6), SOCK_STREAM));
	CHECK(fake.binds == 1, "%d binds", fake.binds);
	fake.bind_fails = true;
	CHECK(!refused6("2001:db8::d", 0, sizeof(struct sockaddr_in6), SOCK_STREAM));
	CHECK(fake.open_probes == 0, "%d probe sockets left open", fake.open_probes);
}

/* A route found in one network namespace says nothing of another. */
static void test_cache_per_namespace(void)
{
	reset();
	fake.netns[0] = fake.netns[1] = 5;
	CHECK(!refused6("2001:db8::f", 0, sizeof(struct sockaddr_in6), SOCK_STREAM));
	fake.routed = false;
	CHECK(!refused6("2001:db8::f", 0, sizeof(struct sockaddr_in6), SOCK_STREAM),
	      "the cached route was not used");
	fake.netns[0] = fake.netns[1] = 6;
	CHECK(refused6("2001:db8::f", 0, sizeof(struct sockaddr_in6), SOCK_STREAM),
	      "namespace 5's route was trusted in namespace 6");
	CHECK(fake.probes == 2, "%d probes", fake.probes);
}

static void test_fastopen_client_off(void)
{
	reset();
	fake.fastopen = 1; /* the kernel's default: client on */
	CHECK(!early_fastopen_refused(&calls, 3));
	fake.fastopen = 3;
	CHECK(!early_fastopen_refused(&calls, 3));
	fake.fastopen = 2; /* server only */
	CHECK(early_fastopen_refused(&calls, 3));
	fake.fastopen = 0;
	CHECK(early_fastopen_refused(&calls, 3));
	fake.fastopen = -1; /* unknown: the kernel judges */
	CHECK(!early_fastopen_refused(&calls, 3));
}

/* Strategy reuse asks before binding a port in use: the front end looks the
 * 4-tuple up (in the socket's namespace) from the route's source address;
 * only a live socket holding it makes the port taken. */
static void test_tuple_taken(void)
{
	static const struct { int state; bool taken; } cases[] = {
		{ TCP_ESTABLISHED, true }, { TCP_SYN_SENT, true }, { TCP_FIN_WAIT2, true },
		{ TCP_CLOSE_WAIT, true }, { TCP_LAST_ACK, true },
		{ TCP_TIME_WAIT, false }, /* recycled for an explicit bind */
		{ TCP_LISTEN, false }, { TCP_CLOSE, false },
		{ 0, false },  /* nobody */
		{ -1, false }, /* unknown: the kernel judges */
	};
	struct sockaddr_in dst = { .sin_family = AF_INET, .sin_port = htons(9),
				   .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	struct sockaddr_storage any4 = { .ss_family = AF_INET };
	struct flow flow = { (struct sockaddr *)&dst, sizeof(dst), &any4, SOCK_STREAM, 0, true };

	reset();
	fake.real_probe = true;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		fake.tuple_state = cases[i].state;
		errno = EDOM;
		CHECK(early_tuple_taken(&rt, &calls, 3, &flow, 40001) == cases[i].taken,
		      "state %d", cases[i].state);
		CHECK(errno == EDOM, "errno changed to %d", errno);
	}
	CHECK(fake.lookups == 10, "%d lookups", fake.lookups);
	CHECK(fake.lookup_fd == 3 && fake.lookup_port == 40001);
	const struct sockaddr_in *src = (const struct sockaddr_in *)&fake.lookup_src;
	CHECK(src->sin_family == AF_INET && src->sin_addr.s_addr == htonl(INADDR_LOOPBACK),
	      "the lookup was not asked from the route's source address");
	CHECK(fake.probes == 1, "the source address was probed %d times", fake.probes);
	CHECK(fake.open_probes == 0, "%d probe sockets left open", fake.open_probes);
}

static void test_errno_kept(void)
{
	reset();
	fake.routed = false;
	errno = EDOM;
	CHECK(refused6("2001:db8::9", 0, sizeof(struct sockaddr_in6), SOCK_STREAM));
	CHECK(errno == EDOM, "errno changed to %d", errno);
}

int main(void)
{
	RUN(test_v4_mapped_on_v6only);
	RUN(test_link_local_needs_a_scope);
	RUN(test_route_probed_once);
	RUN(test_probe_that_cannot_stand_for_the_socket);
	RUN(test_cache_per_namespace);
	RUN(test_fastopen_client_off);
	RUN(test_tuple_taken);
	RUN(test_errno_kept);
	return check_done();
}
