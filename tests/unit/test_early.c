/* Connects the kernel refuses before it needs a port (early.h), with socket
 * calls played by the test: what each answer of getsockopt() and of the
 * route probe makes of a destination, and that a routed destination is
 * probed once. */
#include <arpa/inet.h>
#include <errno.h>
#include <net/if.h>
#include <netinet/in.h>
#include <string.h>

#include "check.h"
#include "early.h"

static struct runtime rt; /* big, and full of atomics: static */

/* What the fake socket calls answer, and how often they were made. */
static struct {
	int v6only, ifindex;
	bool ifindex_unknown; /* SO_BINDTOIFINDEX refused: a kernel before 5.0 */
	const char *device;   /* SO_BINDTODEVICE's answer then */
	bool routed;          /* the probe's connect() succeeds */
	int probes, open_probes;
} fake;

static int fake_getsockopt(int fd, int level, int name, void *value, socklen_t *len)
{
	(void)fd;
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

static int fake_socket(int domain, int type, int protocol)
{
	(void)domain, (void)type, (void)protocol;
	fake.open_probes++;
	return 100;
}

static int fake_connect(int fd, const struct sockaddr *addr, socklen_t len)
{
	(void)fd, (void)addr, (void)len;
	fake.probes++;
	if (fake.routed)
		return 0;
	errno = ENETUNREACH;
	return -1;
}

static int fake_close(int fd)
{
	(void)fd;
	fake.open_probes--;
	return 0;
}

static const struct early_calls calls = { fake_getsockopt, fake_socket, fake_connect, fake_close };

static void reset(void)
{
	memset(&fake, 0, sizeof(fake));
	fake.routed = true;
}

static bool refused6(const char *dst, uint32_t scope, socklen_t len, int type)
{
	static struct sockaddr_storage local = { .ss_family = AF_INET6 };
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
	RUN(test_errno_kept);
	return check_done();
}
