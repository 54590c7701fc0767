/* runtime_configure(): settings resolved into the port sets of each plan,
 * and where the scans of those plans start.  PORTSHIM_RANGE and
 * PORTSHIM_RESERVED are always given, so /proc is never consulted and the
 * expected sets are exact. */
#include "candidates.h"
#include "fixture.h"

/* A second runtime, to compare two configured alike (fixture.h's rt is the
 * first). */
static struct runtime rt2;

/* The set holds exactly the listed ports (0-terminated list), with the
 * right count and bounds. */
static bool set_is(const struct portset *s, const char *what, const unsigned *ports)
{
	bool want[PORTMAP_PORTS] = { false };
	unsigned n = 0;

	if (!CHECK(s != NULL, "%s: no set", what))
		return false;
	for (; ports[n]; n++)
		want[ports[n]] = true;
	for (unsigned p = 0; p < PORTMAP_PORTS; p++)
		if (!CHECK(portset_has(s, p) == want[p], "%s: port %u member=%d, expected %d", what, p,
			   portset_has(s, p), want[p]))
			return false;
	bool ok = CHECK(s->count == n, "%s: count %u, expected %u", what, s->count, n);
	if (n)
		ok &= CHECK(s->first == ports[0] && s->last == ports[n - 1],
			    "%s: first %u last %u, expected %u %u", what, s->first, s->last,
			    ports[0], ports[n - 1]);
	return ok;
}

#define SET_IS(s, ...) set_is((s), #s, (const unsigned[]){ __VA_ARGS__, 0 })

static void test_odd_with_reserved(void)
{
	if (!CHECK_INT(configure(&rt, ENV("PATH=/bin", "PORTSHIM_RANGE=40000-40009",
					  "PORTSHIM_RESERVED=40002", "PORTSHIM_PARITY=odd")), 0))
		return;
	CHECK(rt.range_lo == 40000 && rt.range_hi == 40009, "range %u-%u", rt.range_lo,
	      rt.range_hi);
	/* Reserving an even port takes nothing from the odd class... */
	SET_IS(&rt.base, 40000, 40001, 40003, 40004, 40005, 40006, 40007, 40008, 40009);
	CHECK_INT(rt.connect.npasses, 1);
	SET_IS(rt.connect.pass[0], 40001, 40003, 40005, 40007, 40009);
	CHECK_INT(rt.bind.npasses, 1);
	SET_IS(rt.bind.pass[0], 40001, 40003, 40005, 40007, 40009);

	/* ...reserving odd ones does. */
	if (!CHECK_INT(configure(&rt, ENV("PORTSHIM_RANGE=40000-40009",
					  "PORTSHIM_RESERVED=40003,40007-40009",
					  "PORTSHIM_PARITY=odd")), 0))
		return;
	SET_IS(rt.connect.pass[0], 40001, 40005);
}

static void test_passes_of_each_policy(void)
{
	if (!CHECK_INT(configure(&rt, ENV("PORTSHIM_RANGE=40000-40009", "PORTSHIM_RESERVED=40000",
					  "PORTSHIM_CONNECT=prefer-even")), 0))
		return;
	CHECK_INT(rt.connect.npasses, 2);
	SET_IS(rt.connect.pass[0], 40002, 40004, 40006, 40008);
	SET_IS(rt.connect.pass[1], 40001, 40003, 40005, 40007, 40009);
	CHECK_INT(rt.bind.npasses, 0); /* bind defaults to off */

	CHECK_INT(configure(&rt, ENV("PORTSHIM_RANGE=40000-40009", "PORTSHIM_RESERVED=40000",
				     "PORTSHIM_BIND=prefer-odd")), 0);
	CHECK_INT(rt.bind.npasses, 2);
	SET_IS(rt.bind.pass[0], 40001, 40003, 40005, 40007, 40009);
	SET_IS(rt.bind.pass[1], 40002, 40004, 40006, 40008);
	/* connect defaults to any: the whole range less reserved ports. */
	CHECK_INT(rt.connect.npasses, 1);
	SET_IS(rt.connect.pass[0], 40001, 40002, 40003, 40004, 40005, 40006, 40007, 40008, 40009);

	/* N:K classes: 40001 % 4 == 1; 40001 % 7 == 40008 % 7 == 3. */
	CHECK_INT(configure(&rt, ENV("PORTSHIM_RANGE=40000-40009", "PORTSHIM_RESERVED=",
				     "PORTSHIM_CONNECT=4:1", "PORTSHIM_BIND=7:3")), 0);
	SET_IS(rt.connect.pass[0], 40001, 40005, 40009);
	SET_IS(rt.bind.pass[0], 40001, 40008);

	/* The most classes two policies can need at once. */
	CHECK_INT(configure(&rt, ENV("PORTSHIM_RANGE=40000-40009", "PORTSHIM_RESERVED=",
				     "PORTSHIM_CONNECT=prefer-odd", "PORTSHIM_BIND=3:2")), 0);
	SET_IS(rt.connect.pass[0], 40001, 40003, 40005, 40007, 40009);
	SET_IS(rt.connect.pass[1], 40000, 40002, 40004, 40006, 40008);
	SET_IS(rt.bind.pass[0], 40001, 40004, 40007); /* 40001 = 3 * 13333 + 2 */

	/* Reconfiguring the same struct starts from scratch. */
	CHECK_INT(configure(&rt, ENV("PORTSHIM_RANGE=50000-50003", "PORTSHIM_RESERVED=50001",
				     "PORTSHIM_PARITY=even")), 0);
	SET_IS(rt.connect.pass[0], 50000, 50002);
	SET_IS(rt.bind.pass[0], 50000, 50002);
}

static void test_empty_class_is_an_error(void)
{
	/* 40002..40007 % 7 is 4 5 6 0 1 2: no port satisfies 7:3. */
	CHECK_INT(configure(&rt, ENV("PORTSHIM_RANGE=40002-40007", "PORTSHIM_RESERVED=",
				     "PORTSHIM_CONNECT=7:3")), -1);
	CHECK_PREFIX(err, "PORTSHIM_CONNECT='7:3': ");
	CHECK_CONTAINS(err, "40002-40007");

	/* Via PORTSHIM_PARITY, the message names what the user set. */
	CHECK_INT(configure(&rt, ENV("PORTSHIM_RANGE=40000-40000", "PORTSHIM_RESERVED=",
				     "PORTSHIM_PARITY=odd")), -1);
	CHECK_PREFIX(err, "PORTSHIM_PARITY='odd': ");
	CHECK_CONTAINS(err, "40000-40000");
	CHECK_INT(configure(&rt, ENV("PORTSHIM_RANGE=40000-40001", "PORTSHIM_RESERVED=40001",
				     "PORTSHIM_BIND=odd")), -1);
	CHECK_PREFIX(err, "PORTSHIM_BIND='odd': ");

	/* Reserved ports count: the range has an odd port, but it is reserved. */
	CHECK_INT(configure(&rt, ENV("PORTSHIM_RANGE=40000-40003", "PORTSHIM_RESERVED=40001,40003",
				     "PORTSHIM_CONNECT=odd")), -1);
	CHECK_PREFIX(err, "PORTSHIM_CONNECT='odd': ");

	/* One usable pass is enough for a preference. */
	CHECK_INT(configure(&rt, ENV("PORTSHIM_RANGE=40001-40001", "PORTSHIM_RESERVED=",
				     "PORTSHIM_CONNECT=prefer-even")), 0);
	CHECK_INT(rt.connect.pass[0]->count, 0);
	SET_IS(rt.connect.pass[1], 40001);

	/* off needs no port at all. */
	CHECK_INT(configure(&rt, ENV("PORTSHIM_RANGE=40000-40000", "PORTSHIM_RESERVED=",
				     "PORTSHIM_CONNECT=off", "PORTSHIM_BIND=odd")), -1);
	CHECK_PREFIX(err, "PORTSHIM_BIND='odd': ");

	/* A bad setting comes through as the config's own message. */
	CHECK_INT(configure(&rt, ENV("PORTSHIM_RANGE=40000-40009", "PORTSHIM_ORDER=bogus")), -1);
	CHECK_PREFIX(err, "PORTSHIM_ORDER='bogus': expected ");
}

static void test_strategy_and_seed_pass_through(void)
{
	CHECK_INT(configure(&rt, ENV("PORTSHIM_RANGE=40000-40009", "PORTSHIM_RESERVED=",
				     "PORTSHIM_STRATEGY=reuse", "PORTSHIM_SEED=99")), 0);
	CHECK_INT(rt.strategy, STRATEGY_REUSE);
	CHECK(rt.cfg.seed_set && rt.cfg.seed == 99);
	CHECK_U64(rt.rng.seed, 99);
}

static void test_sequential_order(void)
{
	if (!CHECK_INT(configure(&rt, ENV("PORTSHIM_RANGE=40000-40009", "PORTSHIM_RESERVED=",
					  "PORTSHIM_CONNECT=odd", "PORTSHIM_ORDER=sequential")), 0))
		return;
	struct plan *plan = &rt.connect;
	const struct portset *set = plan->pass[0];
	struct portwindow win = portset_window(set);

	CHECK_INT(plan_start(&rt, plan, 0, ALL), 40001); /* the set's first member */
	CHECK_INT(plan_start(&rt, plan, 0, ALL), 40001); /* asking does not advance */
	CHECK(portmap_hold(&rt.map, 40001));
	plan_taken(&rt, plan, 0, 40001);
	CHECK_INT(plan_start(&rt, plan, 0, ALL), 40002); /* just after the port taken */

	/* The way the hooks use it: claim from the start, then mark taken. */
	static const int want[] = { 40003, 40005, 40007, 40009, -1 };
	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		int port = portmap_claim(&rt.map, set, win, plan_start(&rt, plan, 0, ALL));
		CHECK(port == want[i], "claim %zu: got %d, expected %d", i, port, want[i]);
		if (port >= 0)
			plan_taken(&rt, plan, 0, (unsigned)port);
	}
	/* Past the end: the next scan wraps to a port given back. */
	portmap_release(&rt.map, 40005);
	portmap_release(&rt.map, 40009);
	CHECK_INT(portmap_claim(&rt.map, set, win, plan_start(&rt, plan, 0, ALL)), 40005);

	/* Each pass of a preference keeps its own cursor. */
	CHECK_INT(configure(&rt, ENV("PORTSHIM_RANGE=40000-40009", "PORTSHIM_RESERVED=40000",
				     "PORTSHIM_CONNECT=prefer-even", "PORTSHIM_ORDER=sequential")), 0);
	CHECK_INT(plan_start(&rt, &rt.connect, 0, ALL), 40002);
	CHECK_INT(plan_start(&rt, &rt.connect, 1, ALL), 40001);
	plan_taken(&rt, &rt.connect, 1, 40005);
	CHECK_INT(plan_start(&rt, &rt.connect, 0, ALL), 40002);
	CHECK_INT(plan_start(&rt, &rt.connect, 1, ALL), 40006);
}

/* Draws n starts of pass 0 of the connect plan. */
static void starts(struct runtime *r, unsigned *out, int n)
{
	for (int i = 0; i < n; i++)
		out[i] = plan_start(r, &r->connect, 0, ALL);
}

static void test_random_order(void)
{
	char *const *env = ENV("PORTSHIM_RANGE=40000-40999", "PORTSHIM_RESERVED=",
			       "PORTSHIM_CONNECT=odd", "PORTSHIM_SEED=12345");
	static unsigned a[2000], b[2000];
	static bool seen[PORTMAP_PORTS];

	if (!CHECK_INT(configure(&rt, env), 0))
		return;
	const struct portset *set = rt.connect.pass[0];
	CHECK(set->first == 40001 && set->last == 40999);
	starts(&rt, a, 2000);
	unsigned distinct = 0, lo = 65535, hi = 0;
	for (int i = 0; i < 2000; i++) {
		if (!CHECK(a[i] >= set->first && a[i] <= set->last, "start %d: %u", i, a[i]))
			return;
		distinct += !seen[a[i]];
		seen[a[i]] = true;
		lo = a[i] < lo ? a[i] : lo;
		hi = a[i] > hi ? a[i] : hi;
	}
	/* 2000 draws over 999 values: about 860 distinct; spread to both ends. */
	CHECK(distinct > 700, "only %u distinct starts", distinct);
	CHECK(lo < 40011 && hi > 40989, "starts span only %u-%u", lo, hi);

	/* Same seed, fresh runtime: the same sequence. */
	if (!CHECK_INT(configure(&rt2, env), 0))
		return;
	starts(&rt2, b, 2000);
	CHECK(memcmp(a, b, sizeof(a)) == 0, "same seed, different starts");
	/* Reconfiguring restarts the stream too. */
	CHECK_INT(configure(&rt, env), 0);
	starts(&rt, b, 2000);
	CHECK(memcmp(a, b, sizeof(a)) == 0, "reconfigured: different starts");

	/* Another seed: another sequence. */
	CHECK_INT(configure(&rt2, ENV("PORTSHIM_RANGE=40000-40999", "PORTSHIM_RESERVED=",
				      "PORTSHIM_CONNECT=odd", "PORTSHIM_SEED=12346")), 0);
	starts(&rt2, b, 2000);
	int same = 0;
	for (int i = 0; i < 2000; i++)
		same += a[i] == b[i];
	CHECK(same < 50, "seeds 12345 and 12346 agree on %d of 2000 starts", same);

	/* No seed: one from getrandom(), so two runs differ. */
	CHECK_INT(configure(&rt, ENV("PORTSHIM_RANGE=40000-40999", "PORTSHIM_RESERVED=")), 0);
	CHECK_INT(configure(&rt2, ENV("PORTSHIM_RANGE=40000-40999", "PORTSHIM_RESERVED=")), 0);
	CHECK(!rt.cfg.seed_set);
	starts(&rt, a, 64);
	starts(&rt2, b, 64);
	CHECK(memcmp(a, b, 64 * sizeof(a[0])) != 0, "unseeded runs drew the same starts");
}

/* Every start of a small range is reachable, and a single-port class
 * always starts at that port. */
static void test_random_bounds_edge_cases(void)
{
	CHECK_INT(configure(&rt, ENV("PORTSHIM_RANGE=65533-65535", "PORTSHIM_RESERVED=",
				     "PORTSHIM_CONNECT=any", "PORTSHIM_BIND=even", "PORTSHIM_SEED=1")),
		  0);
	unsigned hits[3] = { 0, 0, 0 };
	for (int i = 0; i < 3000; i++) {
		unsigned s = plan_start(&rt, &rt.connect, 0, ALL);
		if (!CHECK(s >= 65533 && s <= 65535, "start %u", s))
			return;
		hits[s - 65533]++;
	}
	CHECK(hits[0] > 800 && hits[1] > 800 && hits[2] > 800, "hits %u %u %u", hits[0], hits[1],
	      hits[2]);
	for (int i = 0; i < 100; i++)
		if (!CHECK_INT(plan_start(&rt, &rt.bind, 0, ALL), 65534))
			return;
}

int main(void)
{
	RUN(test_odd_with_reserved);
	RUN(test_passes_of_each_policy);
	RUN(test_empty_class_is_an_error);
	RUN(test_strategy_and_seed_pass_through);
	RUN(test_sequential_order);
	RUN(test_random_order);
	RUN(test_random_bounds_edge_cases);
	return check_done();
}
