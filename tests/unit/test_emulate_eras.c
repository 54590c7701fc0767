/* The kernel emulations' scans before 4.6 (emulate_scan.h): for a known
 * seed, the ports `linux-4.2` (4.2-4.5) and `legacy` (up to 4.1, a global
 * hint) offer one call, in order, are those the kernel's own algorithm of
 * that era gives for the same secret, computed as the kernel writes it;
 * and UDP's in every era, with bind(0) before 4.6: a random start, step 1.
 * Each port of a scan is refused (in use), so a scan shows all it would
 * offer.  Since 4.6: test_emulate_scan.c. */
#include "emulate_fixture.h"

/* Ports [0..n) each once, one step of 1 after the other but for one wrap
 * from hi to lo, covering [lo, hi]. */
static bool step1_cycle(const char *what, const unsigned *ports, int n, unsigned lo, unsigned hi)
{
	if (!CHECK(n == (int)(hi - lo + 1), "%s: %d ports", what, n))
		return false;
	for (int i = 1; i < n; i++) {
		unsigned next = ports[i - 1] == hi ? lo : ports[i - 1] + 1;
		if (!CHECK(ports[i] == next, "%s: %u after %u", what, ports[i], ports[i - 1]))
			return false;
	}
	return true;
}

/* Linux 4.2-4.5: an even offset from the hint and the flow, step 1. */
static int linux42_connect(unsigned lo, unsigned hi, uint32_t hint, uint32_t port_offset,
			   unsigned *out)
{
	unsigned remaining = hi - lo + 1;
	uint32_t offset = (hint + port_offset) & ~1u;
	int n = 0;

	for (unsigned i = 0; i < remaining; i++)
		out[n++] = lo + (i + offset) % remaining;
	return n;
}

/* Up to 4.1: the hint plus the flow, step 1, i counted from 1. */
static int legacy_connect(unsigned lo, unsigned hi, uint32_t hint, uint32_t port_offset,
			  unsigned *out)
{
	unsigned remaining = hi - lo + 1;
	uint32_t offset = hint + port_offset;
	int n = 0;

	for (unsigned i = 1; i <= remaining; i++)
		out[n++] = lo + (i + offset) % remaining;
	return n;
}

/* Linux 4.2-4.5 connect: an even offset, step 1 over both parities; the
 * global hint moves by (i + 2) & ~1, so every destination's next start
 * moves. */
static void test_linux42(void)
{
	unsigned got[64], want[64];

	if (!setup_policy("linux-4.2", "off", ""))
		return;
	struct flow a = flow_to(&dst_a, sizeof(dst_a), SOCK_STREAM);
	struct flow b = flow_to(&dst_b, sizeof(dst_b), SOCK_STREAM);
	uint32_t po_a = (uint32_t)emulate_port_offset(&rt.emu, &a, 0);
	int n = scan_all(&rt.connect, &a, got, 64);
	int m = linux42_connect(RANGE_LO, RANGE_HI, rt.emu.hint, po_a, want);
	if (same_ports("linux-4.2", got, n, want, m))
		step1_cycle("linux-4.2", got, n, RANGE_LO, RANGE_HI);
	CHECK_INT((got[0] - RANGE_LO) % 2, 0); /* an even offset */

	for (int d = 0; d < 6; d++) {
		uint32_t hint = rt.emu.hint;
		unsigned start_b = 0;
		scan_all(&rt.connect, &b, &start_b, 1);
		CHECK(take_at(&rt.connect, &a, d) >= 0);
		CHECK_INT(rt.emu.hint - hint, (d + 2) & ~1);
		n = scan_all(&rt.connect, &a, got, 64);
		m = linux42_connect(RANGE_LO, RANGE_HI, rt.emu.hint, po_a, want);
		same_ports("linux-4.2 after a connect", got, n, want, m);
		/* The hint is global: the other destination moved as far. */
		unsigned start_b2 = 0;
		scan_all(&rt.connect, &b, &start_b2, 1);
		uint32_t po_b = (uint32_t)emulate_port_offset(&rt.emu, &b, 0);
		CHECK_INT(start_b, RANGE_LO + ((hint + po_b) & ~1u) % COUNT);
		CHECK_INT(start_b2, RANGE_LO + ((rt.emu.hint + po_b) & ~1u) % COUNT);
	}
}

/* Up to 4.1: offset hint + flow + 1, step 1; the hint moves by i, counted
 * from 1. */
static void test_legacy(void)
{
	unsigned got[64], want[64];

	if (!setup_policy("legacy", "off", ""))
		return;
	struct flow a = flow_to(&dst_a, sizeof(dst_a), SOCK_STREAM);
	struct flow b = flow_to(&dst_b, sizeof(dst_b), SOCK_STREAM);
	uint32_t po_a = (uint32_t)emulate_port_offset(&rt.emu, &a, 0);
	int n = scan_all(&rt.connect, &a, got, 64);
	int m = legacy_connect(RANGE_LO, RANGE_HI, rt.emu.hint, po_a, want);
	if (same_ports("legacy", got, n, want, m))
		step1_cycle("legacy", got, n, RANGE_LO, RANGE_HI);

	for (int d = 0; d < 5; d++) {
		uint32_t hint = rt.emu.hint;
		unsigned start_b = 0, start_b2 = 0;
		scan_all(&rt.connect, &b, &start_b, 1);
		CHECK(take_at(&rt.connect, &a, d) >= 0);
		CHECK_INT(rt.emu.hint - hint, d + 1);
		/* Every destination's next start is d + 1 further on. */
		scan_all(&rt.connect, &b, &start_b2, 1);
		CHECK_INT(start_b2, RANGE_LO + (start_b - RANGE_LO + d + 1) % COUNT);
		n = scan_all(&rt.connect, &a, got, 64);
		m = legacy_connect(RANGE_LO, RANGE_HI, rt.emu.hint, po_a, want);
		same_ports("legacy after a connect", got, n, want, m);
	}
}

/* UDP in every era, and bind(0) before 4.6: a random start, step 1, both
 * parities. */
static void test_uniform(void)
{
	static const char *const eras[] = { "kernel", "linux-4.2", "legacy" };
	unsigned got[64];

	for (size_t e = 0; e < sizeof(eras) / sizeof(eras[0]); e++) {
		if (!setup_policy(eras[e], eras[e], ""))
			return;
		struct flow udp = flow_to(&dst_a, sizeof(dst_a), SOCK_DGRAM);
		unsigned hits[COUNT] = { 0 };
		for (int k = 0; k < 300; k++) {
			int n = scan_all(&rt.connect, &udp, got, 64);
			if (!step1_cycle(eras[e], got, n, RANGE_LO, RANGE_HI))
				return;
			hits[got[0] - RANGE_LO]++;
		}
		for (unsigned p = 0; p < COUNT; p++)
			CHECK(hits[p] > 0, "%s: UDP never started at %u", eras[e], RANGE_LO + p);
		if (e == 0)
			continue;
		struct flow bind = { .local = &wildcard, .type = SOCK_STREAM };
		int n = scan_all(&rt.bind, &bind, got, 64);
		step1_cycle(eras[e], got, n, RANGE_LO, RANGE_HI);
	}
}

int main(void)
{
	RUN(test_linux42);
	RUN(test_legacy);
	RUN(test_uniform);
	return check_done();
}
