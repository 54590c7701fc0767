/* The kernel emulations' keyed hash of (saddr, daddr, dport) and its
 * re-salting (emulate.h); their scans are test_emulate_scan.c's and
 * test_emulate_eras.c's. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <time.h>

#include "emulate.h"
#include "fixture.h"

static struct sockaddr_in dst_a, dst_b;
static struct sockaddr_in6 dst6;
static struct sockaddr_storage wildcard = { .ss_family = AF_INET };

static void destinations(void)
{
	dst_a = (struct sockaddr_in){ .sin_family = AF_INET, .sin_port = htons(443) };
	inet_pton(AF_INET, "192.0.2.10", &dst_a.sin_addr);
	dst_b = dst_a;
	dst_b.sin_port = htons(8443);
	dst6 = (struct sockaddr_in6){ .sin6_family = AF_INET6, .sin6_port = htons(443) };
	inet_pton(AF_INET6, "2001:db8::10", &dst6.sin6_addr);
}

static struct flow flow_to(const void *dst, socklen_t len, int type)
{
	return (struct flow){ .dst = dst, .dst_len = len, .local = &wildcard, .type = type };
}

static bool setup_policy(const char *connect, const char *bind, const char *reserved)
{
	char c[64], b[64], r[64];

	destinations();
	snprintf(c, sizeof(c), "PORTSHIM_CONNECT=%s", connect);
	snprintf(b, sizeof(b), "PORTSHIM_BIND=%s", bind);
	snprintf(r, sizeof(r), "PORTSHIM_RESERVED=%s", reserved);
	return setup(ENV("PORTSHIM_RANGE=40000-40019", r, c, b, "PORTSHIM_SEED=12345"));
}

/* The hash of (saddr, daddr, dport), keyed and re-salted: what changes it
 * and what does not. */
static void test_port_offset(void)
{
	static struct emulator em, other;
	struct sockaddr_storage local = { .ss_family = AF_INET }, local_port;

	destinations();
	emulator_init(&em, 0x1234, 0);
	emulator_init(&other, 0x1235, 0);
	struct flow a = flow_to(&dst_a, sizeof(dst_a), SOCK_STREAM);
	struct flow b = flow_to(&dst_b, sizeof(dst_b), SOCK_STREAM);
	struct flow six = flow_to(&dst6, sizeof(dst6), SOCK_STREAM);
	uint64_t h = emulate_port_offset(&em, &a, 0);

	CHECK_U64(emulate_port_offset(&em, &a, 0), h);           /* a function of its inputs */
	CHECK(emulate_port_offset(&other, &a, 0) != h, "the secret is not used");
	CHECK(emulate_port_offset(&em, &a, 1) != h, "the epoch is not used");
	CHECK(emulate_port_offset(&em, &b, 0) != h, "the destination port is not used");
	CHECK(emulate_port_offset(&em, &six, 0) != h);
	struct sockaddr_in elsewhere = dst_a;
	elsewhere.sin_addr.s_addr ^= htonl(1);
	struct flow e = flow_to(&elsewhere, sizeof(elsewhere), SOCK_STREAM);
	CHECK(emulate_port_offset(&em, &e, 0) != h, "the destination address is not used");
	/* The source address counts; the source port does not (it is what
	 * is being chosen). */
	((struct sockaddr_in *)&local)->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	a.local = &local;
	uint64_t from_lo = emulate_port_offset(&em, &a, 0);
	CHECK(from_lo != h, "the source address is not used");
	local_port = local;
	((struct sockaddr_in *)&local_port)->sin_port = htons(40001);
	a.local = &local_port;
	CHECK_U64(emulate_port_offset(&em, &a, 0), from_lo);
	/* Nor what lies past the address: the kernel hashes addresses, not
	 * the bytes of a sockaddr. */
	struct sockaddr_in padded = dst_a;
	memset(padded.sin_zero, 0xa5, sizeof(padded.sin_zero));
	struct flow p = flow_to(&padded, sizeof(padded), SOCK_STREAM);
	CHECK_U64(emulate_port_offset(&em, &p, 0), h);
}

/* 5.18: the offset is re-salted every 10 seconds, counted from the
 * process's start when seeded. */
static void test_epoch(void)
{
	static struct emulator em;
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	emulator_init(&em, 1, now.tv_sec);
	CHECK_U64(emulate_epoch(&em), 0);
	emulator_init(&em, 1, now.tv_sec - 25);
	CHECK_U64(emulate_epoch(&em), 2);
	emulator_init(&em, 1, now.tv_sec - 9);
	uint64_t e = emulate_epoch(&em);
	CHECK(e == 0 || e == 1, "epoch %llu", (unsigned long long)e); /* 0, unless a second passed */
	/* Seeded: the runtime's epochs start now. */
	if (!setup_policy("kernel", "off", ""))
		return;
	CHECK_U64(emulate_epoch(&rt.emu), 0);
}

int main(void)
{
	RUN(test_port_offset);
	RUN(test_epoch);
	return check_done();
}
