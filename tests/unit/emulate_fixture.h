/* What the scans' tests share (test_emulate_scan.c, test_emulate_eras.c):
 * a range of 20 ports, destinations, and one call's scan played against
 * the runtime, every port offered refused or the k-th taken.
 *
 *   #include "emulate_fixture.h"
 *   if (!setup_policy("kernel", "off", ""))
 *           return;
 *   n = scan_all(&rt.connect, &flow, got, 64);
 *
 * Includes fixture.h. */
#ifndef PORTSHIM_EMULATE_FIXTURE_H
#define PORTSHIM_EMULATE_FIXTURE_H

#include <arpa/inet.h>
#include <netinet/in.h>

#include "candidates.h"
#include "emulate.h"
#include "fixture.h"

#define RANGE_LO 40000u
#define RANGE_HI 40019u /* 20 ports: the kernel's step-2 scan covers them all */
#define COUNT (RANGE_HI - RANGE_LO + 1u)

static struct sockaddr_in dst_a __attribute__((unused)), dst_b __attribute__((unused));
static struct sockaddr_in6 dst6 __attribute__((unused));
static struct sockaddr_storage wildcard __attribute__((unused)) = { .ss_family = AF_INET };

static void destinations(void) __attribute__((unused));
static void destinations(void)
{
	dst_a = (struct sockaddr_in){ .sin_family = AF_INET, .sin_port = htons(443) };
	inet_pton(AF_INET, "192.0.2.10", &dst_a.sin_addr);
	dst_b = dst_a;
	dst_b.sin_port = htons(8443);
	dst6 = (struct sockaddr_in6){ .sin6_family = AF_INET6, .sin6_port = htons(443) };
	inet_pton(AF_INET6, "2001:db8::10", &dst6.sin6_addr);
}

static struct flow flow_to(const void *dst, socklen_t len, int type) __attribute__((unused));
static struct flow flow_to(const void *dst, socklen_t len, int type)
{
	return (struct flow){ .dst = dst, .dst_len = len, .local = &wildcard, .type = type };
}

/* Every port one call's scan offers, each refused by the kernel. */
static int scan_all(struct plan *plan, const struct flow *flow, unsigned *out, int max)
	__attribute__((unused));
static int scan_all(struct plan *plan, const struct flow *flow, unsigned *out, int max)
{
	struct candidates c;
	int n = 0, port;

	candidates_begin(&c, &rt, plan, ALL, flow);
	while (n < max && (port = candidates_next(&c)) >= 0) {
		out[n++] = (unsigned)port;
		candidates_clashed(&c, (unsigned)port);
	}
	return n;
}

/* One call whose first k offers are refused and whose next is taken: that
 * port. */
static int take_at(struct plan *plan, const struct flow *flow, int k) __attribute__((unused));
static int take_at(struct plan *plan, const struct flow *flow, int k)
{
	struct candidates c;
	int port = -1;

	candidates_begin(&c, &rt, plan, ALL, flow);
	for (int j = 0; j <= k; j++) {
		if ((port = candidates_next(&c)) < 0)
			return -1;
		if (j < k)
			candidates_clashed(&c, (unsigned)port);
	}
	candidates_taken(&c, (unsigned)port);
	return port;
}

static bool same_ports(const char *what, const unsigned *got, int n, const unsigned *want, int m)
	__attribute__((unused));
static bool same_ports(const char *what, const unsigned *got, int n, const unsigned *want, int m)
{
	if (!CHECK(n == m, "%s: %d ports, the kernel's algorithm gives %d", what, n, m))
		return false;
	for (int i = 0; i < n; i++)
		if (!CHECK(got[i] == want[i], "%s: port %d is %u, the kernel's algorithm gives %u",
			   what, i, got[i], want[i]))
			return false;
	return true;
}

/* rt under one policy for connect() and one for bind(0), over the 20
 * ports with RESERVED held back, seed 12345. */
static bool setup_policy(const char *connect, const char *bind, const char *reserved)
	__attribute__((unused));
static bool setup_policy(const char *connect, const char *bind, const char *reserved)
{
	char c[64], b[64], r[64];

	destinations();
	snprintf(c, sizeof(c), "PORTSHIM_CONNECT=%s", connect);
	snprintf(b, sizeof(b), "PORTSHIM_BIND=%s", bind);
	snprintf(r, sizeof(r), "PORTSHIM_RESERVED=%s", reserved);
	return setup(ENV("PORTSHIM_RANGE=40000-40019", r, c, b, "PORTSHIM_SEED=12345"));
}

#endif
