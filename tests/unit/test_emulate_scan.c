/* The kernel emulation's scans since 4.6 (emulate_scan.h): for a known
 * seed, the ports `kernel` offers one call, in order, are those the
 * kernel's own algorithm gives for the same secret, which the test computes
 * as the kernel writes it: __inet_hash_connect() with 5.12's perturbation
 * table and 5.18's re-salting, its bind(0) (inet_csk_find_open_port(),
 * SO_REUSEADDR's halves), and a range of an odd count.  Each port of a scan
 * is refused (in use), so a scan shows all it would offer.  The eras before
 * 4.6, and UDP's in every era, are test_emulate_eras.c's. */
#include "emulate_fixture.h"

/* ports[0..n) is one pass of a step-2 scan over [lo, lo + span): all of
 * one parity, each 2 above the one before except once, where it wraps from
 * the top of the span to its bottom, and none twice. */
static bool step2_pass(const char *what, const unsigned *ports, int n, unsigned lo, unsigned span,
		       unsigned parity)
{
	int wraps = 0;

	for (int i = 0; i < n; i++) {
		if (!CHECK(ports[i] % 2 == parity && ports[i] >= lo && ports[i] < lo + span,
			   "%s: port %d is %u", what, i, ports[i]))
			return false;
		if (i == 0)
			continue;
		if (ports[i] == ports[i - 1] + 2)
			continue;
		wraps++;
		if (!CHECK(ports[i - 1] + 2 >= lo + span && ports[i] == ports[i - 1] + 2 - span,
			   "%s: %u after %u is neither a step of 2 nor the wrap", what, ports[i],
			   ports[i - 1]))
			return false;
	}
	/* A pass that starts at its lowest port never wraps. */
	return CHECK(wraps == (ports[0] - lo >= 2), "%s: %d wraps from %u", what, wraps, ports[0]);
}

/* __inet_hash_connect() since 4.6, as the kernel writes it: the ports it
 * tries for the perturbation table's entry and the flow's port offset,
 * first those of the range's low end's parity, each step 2, wrapping at
 * the end of the range; a reserved port (0: none) is skipped. */
static int kernel_connect(unsigned lo, unsigned hi, uint32_t perturb, uint64_t port_offset,
			  unsigned reserved, unsigned *out)
{
	unsigned high = hi + 1, remaining = high - lo;
	int n = 0;

	if (remaining > 1)
		remaining &= ~1u;
	uint32_t offset = perturb + (uint32_t)(port_offset >> 32);
	offset %= remaining;
	offset &= ~1u;
other_parity_scan:;
	unsigned port = lo + offset;
	for (unsigned i = 0; i < remaining; i += 2, port += 2) {
		if (port >= high)
			port -= remaining;
		if (port == reserved)
			continue;
		out[n++] = port;
	}
	offset++;
	if ((offset & 1) && remaining > 1)
		goto other_parity_scan;
	return n;
}

static uint64_t offset_now(const struct flow *flow)
{
	return emulate_port_offset(&rt.emu, flow, emulate_epoch(&rt.emu));
}

static uint32_t perturb_of(const struct flow *flow)
{
	return rt.emu.perturb[offset_now(flow) & (EMULATE_TABLE_SIZE - 1)];
}

static void test_kernel_connect_sequence(void)
{
	unsigned got[64], want[64];
	int n, m;

	if (!setup_policy("kernel", "off", ""))
		return;
	CHECK_INT(rt.connect.rem, COUNT);
	struct flow a = flow_to(&dst_a, sizeof(dst_a), SOCK_STREAM);
	n = scan_all(&rt.connect, &a, got, 64);
	m = kernel_connect(RANGE_LO, RANGE_HI, perturb_of(&a), offset_now(&a), 0, want);
	same_ports("kernel, 192.0.2.10:443", got, n, want, m);
	/* What that means: the range's low parity first, step 2, wrapping at
	 * the end of the range; then the other parity the same way. */
	if (CHECK_INT(n, COUNT)) {
		step2_pass("first pass", got, COUNT / 2, RANGE_LO, COUNT, RANGE_LO % 2);
		step2_pass("second pass", got + COUNT / 2, COUNT / 2, RANGE_LO, COUNT,
			   (RANGE_LO + 1) % 2);
		/* The second pass starts one above where the first did. */
		CHECK_INT(got[COUNT / 2], got[0] + 1);
	}
	/* A scan ends once every port was offered. */
	struct flow six = flow_to(&dst6, sizeof(dst6), SOCK_STREAM);
	n = scan_all(&rt.connect, &six, got, 64);
	m = kernel_connect(RANGE_LO, RANGE_HI, perturb_of(&six), offset_now(&six), 0, want);
	same_ports("kernel, [2001:db8::10]:443", got, n, want, m);

	/* The kernel has no bitmap: ports this process holds or had refused
	 * are offered all the same, in the same order. */
	for (unsigned p = RANGE_LO; p <= RANGE_HI; p += 3)
		portmap_hold(&rt.map, p);
	portmap_refuse(&rt.map, RANGE_LO + 1);
	n = scan_all(&rt.connect, &a, got, 64);
	m = kernel_connect(RANGE_LO, RANGE_HI, perturb_of(&a), offset_now(&a), 0, want);
	same_ports("kernel, with ports held and refused", got, n, want, m);
}

static void test_kernel_connect_reserved(void)
{
	unsigned got[64], want[64];

	if (!setup_policy("kernel", "off", "40006"))
		return;
	struct flow a = flow_to(&dst_a, sizeof(dst_a), SOCK_STREAM);
	int n = scan_all(&rt.connect, &a, got, 64);
	int m = kernel_connect(RANGE_LO, RANGE_HI, perturb_of(&a), offset_now(&a), 40006, want);
	same_ports("kernel, 40006 reserved", got, n, want, m);
	CHECK_INT(n, COUNT - 1);
}

/* table_perturb[index] += max(i, random(0..7) * 2) + 2, i the taken port's
 * distance from where its pass began; the next call to the destination
 * starts from the new value. */
static void test_kernel_perturb_update(void)
{
	unsigned got[64], want[64];
	bool seen[8] = { false };

	if (!setup_policy("kernel", "off", ""))
		return;
	struct flow a = flow_to(&dst_a, sizeof(dst_a), SOCK_STREAM);
	struct flow b = flow_to(&dst_b, sizeof(dst_b), SOCK_STREAM);
	uint32_t index_a = (uint32_t)(offset_now(&a) & (EMULATE_TABLE_SIZE - 1));
	uint32_t index_b = (uint32_t)(offset_now(&b) & (EMULATE_TABLE_SIZE - 1));
	if (!CHECK(index_a != index_b, "both destinations share entry %u", index_a))
		return;

	/* A port far into its pass: i = 16 beats any jitter (at most 14). */
	uint32_t before = perturb_of(&a), other = perturb_of(&b);
	int port = take_at(&rt.connect, &a, 8);
	CHECK(port >= 0);
	CHECK_INT(perturb_of(&a) - before, 18);
	CHECK_INT(perturb_of(&b), other); /* another destination's entry */
	/* i counts within the second pass from its own start. */
	before = perturb_of(&a);
	port = take_at(&rt.connect, &a, COUNT / 2 + 8);
	CHECK(port >= 0 && (unsigned)port % 2 == (RANGE_LO + 1) % 2, "port %d", port);
	CHECK_INT(perturb_of(&a) - before, 18);

	/* The first port of a pass: the jitter, 2 * random(0..7), decides. */
	for (int k = 0; k < 400; k++) {
		before = perturb_of(&a);
		take_at(&rt.connect, &a, 0);
		uint32_t step = perturb_of(&a) - before;
		if (!CHECK(step >= 2 && step <= 16 && step % 2 == 0, "step %u", step))
			return;
		seen[step / 2 - 1] = true;
	}
	for (int j = 0; j < 8; j++)
		CHECK(seen[j], "a step of %d never came", 2 * j + 2);

	/* Wherever the table now stands, a call follows the kernel. */
	int n = scan_all(&rt.connect, &a, got, 64);
	int m = kernel_connect(RANGE_LO, RANGE_HI, perturb_of(&a), offset_now(&a), 0, want);
	same_ports("kernel, after 402 connects", got, n, want, m);
}

/* Ten seconds later the same destination hashes elsewhere (5.18+). */
static void test_kernel_resalted(void)
{
	unsigned got[64], want[64];

	if (!setup_policy("kernel", "off", ""))
		return;
	struct flow a = flow_to(&dst_a, sizeof(dst_a), SOCK_STREAM);
	uint64_t now = offset_now(&a);
	rt.emu.epoch_origin -= 10;
	CHECK_U64(emulate_epoch(&rt.emu), 1);
	CHECK(offset_now(&a) != now, "the offset did not change with the epoch");
	int n = scan_all(&rt.connect, &a, got, 64);
	int m = kernel_connect(RANGE_LO, RANGE_HI, perturb_of(&a), offset_now(&a), 0, want);
	same_ports("kernel, epoch 1", got, n, want, m);
}

/* inet_csk_find_open_port(): a random odd offset, so the other parity than
 * connect's first, step 2; with SO_REUSEADDR the lower half of the range,
 * then the upper. */
static void test_kernel_bind(void)
{
	unsigned got[64], firsts[COUNT] = { 0 };
	struct flow bind = { .local = &wildcard, .type = SOCK_STREAM };
	int distinct = 0;

	if (!setup_policy("off", "kernel", ""))
		return;
	for (int k = 0; k < 200; k++) {
		int n = scan_all(&rt.bind, &bind, got, 64);
		if (!CHECK_INT(n, COUNT) ||
		    !step2_pass("bind, first pass", got, COUNT / 2, RANGE_LO, COUNT,
				(RANGE_LO + 1) % 2) ||
		    !step2_pass("bind, second pass", got + COUNT / 2, COUNT / 2, RANGE_LO, COUNT,
				RANGE_LO % 2) ||
		    !CHECK_INT(got[COUNT / 2], got[0] - 1))
			return;
		distinct += !firsts[got[0] - RANGE_LO]++;
	}
	/* The offset is random: every odd start comes. */
	CHECK_INT(distinct, COUNT / 2);

	/* SO_REUSEADDR: [40000, 40010) then [40010, 40020), each as a range
	 * of its own, odd ports first. */
	const unsigned mid = RANGE_LO + (((COUNT) >> 2) << 1);
	CHECK_INT(mid, 40010);
	bind.reuseaddr = 1;
	for (int k = 0; k < 50; k++) {
		int n = scan_all(&rt.bind, &bind, got, 64);
		if (!CHECK_INT(n, COUNT) ||
		    !step2_pass("lower half, odd", got, 5, RANGE_LO, mid - RANGE_LO, 1) ||
		    !step2_pass("lower half, even", got + 5, 5, RANGE_LO, mid - RANGE_LO, 0) ||
		    !step2_pass("upper half, odd", got + 10, 5, mid, RANGE_HI + 1 - mid, 1) ||
		    !step2_pass("upper half, even", got + 15, 5, mid, RANGE_HI + 1 - mid, 0))
			return;
	}
}

/* A range of an odd count: the kernel's step-2 scan cycles over an even
 * count of ports, so its pass of the low end's parity leaves one end out,
 * the top when it starts at the bottom, else the bottom.  The emulation
 * offers what the kernel tries, destination after destination, for
 * connect() and for bind(0). */
static void test_odd_range(void)
{
	const unsigned lo = 40000, hi = 40020, half = (hi - lo) / 2;
	unsigned got[64], want[64];
	int from_bottom = 0, elsewhere = 0;

	destinations();
	if (!setup(ENV("PORTSHIM_RANGE=40000-40020", "PORTSHIM_RESERVED=", "PORTSHIM_CONNECT=kernel",
		       "PORTSHIM_BIND=kernel", "PORTSHIM_SEED=12345")))
		return;
	for (unsigned k = 0; k < 300; k++) {
		struct sockaddr_in d = dst_a;
		d.sin_port = htons((uint16_t)(1000 + k));
		struct flow f = flow_to(&d, sizeof(d), SOCK_STREAM);
		int n = scan_all(&rt.connect, &f, got, 64);
		int m = kernel_connect(lo, hi, perturb_of(&f), offset_now(&f), 0, want);
		if (!same_ports("kernel, 40000-40020", got, n, want, m))
			return;
		if (got[0] == lo)
			from_bottom++;
		else
			elsewhere++;
	}
	/* Both cases came: the test saw each end left out. */
	CHECK(from_bottom > 0 && elsewhere > 0, "%d scans from the bottom, %d elsewhere",
	      from_bottom, elsewhere);

	/* bind(0): the other parity first, whole; then the low end's, one end
	 * left out as above. */
	struct flow bind = { .local = &wildcard, .type = SOCK_STREAM };
	for (int k = 0; k < 100; k++) {
		int n = scan_all(&rt.bind, &bind, got, 64);
		if (!CHECK_INT(n, (int)(2 * half)))
			return;
		bool bottom = false, top = false;
		for (unsigned i = half; i < 2 * half; i++) {
			bottom |= got[i] == lo;
			top |= got[i] == hi;
		}
		if (!CHECK(bottom != top && bottom == (got[half] == lo),
			   "second pass from %u: bottom %d, top %d", got[half], bottom, top))
			return;
	}
}

int main(void)
{
	RUN(test_kernel_connect_sequence);
	RUN(test_kernel_connect_reserved);
	RUN(test_kernel_perturb_update);
	RUN(test_kernel_resalted);
	RUN(test_kernel_bind);
	RUN(test_odd_range);
	return check_done();
}
