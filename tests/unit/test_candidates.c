/* The order in which a plan offers ports to one call: the three phases
 * (free; free after forgiving refusals; held), the passes of a preference,
 * and where a random scan starts when the application narrowed the range
 * with IP_LOCAL_PORT_RANGE. */
#include "candidates.h"
#include "fixture.h"

static void test_phases(void)
{
	struct candidates c;

	if (!setup(ENV("PORTSHIM_RANGE=1000-1003", "PORTSHIM_RESERVED=",
		       "PORTSHIM_ORDER=sequential")))
		return;
	portmap_hold(&rt.map, 1000);   /* another socket of ours has it */
	portmap_refuse(&rt.map, 1001); /* the kernel said busy earlier */

	candidates_begin(&c, &rt, &rt.connect, ALL, NULL);
	/* Phase 1: neither held nor refused, claimed while tried. */
	CHECK_INT(candidates_next(&c), 1002);
	CHECK(portmap_is_held(&rt.map, 1002), "a candidate is claimed while it is tried");
	candidates_refused(&c, 1002);
	CHECK(!portmap_is_held(&rt.map, 1002), "a refused claim is given back");
	CHECK_INT(candidates_next(&c), 1003);
	candidates_refused(&c, 1003);
	/* Phase 2: refusals forgiven, the scan goes on (wrapping) from 1004. */
	CHECK_INT(candidates_next(&c), 1001);
	candidates_refused(&c, 1001);
	CHECK_INT(candidates_next(&c), 1002);
	candidates_refused(&c, 1002);
	CHECK_INT(candidates_next(&c), 1003);
	candidates_refused(&c, 1003);
	/* Phase 3: what we hold ourselves (may be shared, or stale). */
	CHECK_INT(candidates_next(&c), 1000);
	candidates_unused(&c, 1000);
	CHECK(portmap_is_held(&rt.map, 1000), "not claimed here, so not released here");
	candidates_refused(&c, 1000);
	CHECK_INT(candidates_next(&c), -1);
	CHECK_INT(c.attempts, 6);
	for (unsigned p = 1001; p <= 1003; p++)
		CHECK(!portmap_is_held(&rt.map, p), "port %u left held", p);
}

static void test_taken_advances(void)
{
	struct candidates c;

	if (!setup(ENV("PORTSHIM_RANGE=1000-1003", "PORTSHIM_RESERVED=",
		       "PORTSHIM_ORDER=sequential")))
		return;
	candidates_begin(&c, &rt, &rt.connect, ALL, NULL);
	CHECK_INT(candidates_next(&c), 1000);
	candidates_taken(&c, 1000);
	CHECK(portmap_is_held(&rt.map, 1000));
	candidates_begin(&c, &rt, &rt.connect, ALL, NULL);
	CHECK_INT(candidates_next(&c), 1001); /* the sequential cursor moved */
	candidates_unused(&c, 1001);
	CHECK(!portmap_is_held(&rt.map, 1001), "an unused claim is given back");

	/* A held port taken in the last phase is marked held (it already is)
	 * and still advances the cursor. */
	for (unsigned p = 1001; p <= 1003; p++)
		portmap_hold(&rt.map, p);
	candidates_begin(&c, &rt, &rt.connect, ALL, NULL);
	CHECK_INT(candidates_next(&c), 1001);
	candidates_taken(&c, 1001);
	CHECK(portmap_is_held(&rt.map, 1001));
	CHECK_INT(plan_start(&rt, &rt.connect, 0, ALL), 1002);
}

static void test_preference_passes(void)
{
	struct candidates c;

	if (!setup(ENV("PORTSHIM_RANGE=2000-2003", "PORTSHIM_RESERVED=",
		       "PORTSHIM_CONNECT=prefer-even", "PORTSHIM_ORDER=sequential")))
		return;
	portmap_hold(&rt.map, 2000);
	portmap_hold(&rt.map, 2002);
	candidates_begin(&c, &rt, &rt.connect, ALL, NULL);
	/* The preferred parity to the end (its held ports may share) ... */
	CHECK_INT(candidates_next(&c), 2000);
	candidates_refused(&c, 2000);
	CHECK_INT(candidates_next(&c), 2002);
	candidates_refused(&c, 2002);
	/* ... and only then the other one. */
	CHECK_INT(candidates_next(&c), 2001);
	candidates_taken(&c, 2001);
	CHECK_INT(c.pass, 1);
	CHECK_INT(plan_start(&rt, &rt.connect, 1, ALL), 2002); /* that pass's cursor */
	CHECK_INT(plan_start(&rt, &rt.connect, 0, ALL), 2000);

	/* A window that holds no port of either pass: nothing at all. */
	candidates_begin(&c, &rt, &rt.connect, (struct portwindow){ 3000, 4000 }, NULL);
	CHECK_INT(candidates_next(&c), -1);
	CHECK_INT(c.attempts, 0);
}

/* First candidates of `n` calls that each give their port back; returns
 * how often the commonest port came first, and how many ports did. */
static unsigned first_choices(struct portwindow win, unsigned n, unsigned *distinct)
{
	static unsigned hits[PORTMAP_PORTS];
	unsigned most = 0;

	memset(hits, 0, sizeof(hits));
	*distinct = 0;
	for (unsigned i = 0; i < n; i++) {
		struct candidates c;
		candidates_begin(&c, &rt, &rt.connect, win, NULL);
		int port = candidates_next(&c);
		if (!CHECK(port >= win.lo && port <= win.hi && port % 2 == 1, "port %d", port))
			return n;
		candidates_unused(&c, (unsigned)port);
		*distinct += hits[port]++ == 0;
		most = hits[port] > most ? hits[port] : most;
	}
	return most;
}

static void test_random_start_whole_range(void)
{
	unsigned distinct;

	if (!setup(ENV("PORTSHIM_RANGE=32768-60999", "PORTSHIM_RESERVED=",
		       "PORTSHIM_CONNECT=odd", "PORTSHIM_SEED=7")))
		return;
	unsigned most = first_choices(ALL, 4000, &distinct);
	/* 4000 draws over 14116 odd ports: nearly all distinct. */
	CHECK(most <= 4 && distinct > 3000, "commonest port %u times, %u distinct", most, distinct);
}

/* An application's IP_LOCAL_PORT_RANGE of 40000-40099 inside the range
 * 32768-60999: a random order should be random inside that window too
 * (50 odd ports, 2% each).  plan_start() draws the start over the whole
 * class, 32769..60999, and portmap_find() moves every start outside the
 * window to its low end, so about 99.6% of calls begin at 40001. */
static void test_random_start_inside_app_window(void)
{
	unsigned distinct;

	if (!setup(ENV("PORTSHIM_RANGE=32768-60999", "PORTSHIM_RESERVED=",
		       "PORTSHIM_CONNECT=odd", "PORTSHIM_SEED=7")))
		return;
	unsigned most = first_choices((struct portwindow){ 40000, 40099 }, 2000, &distinct);
	CHECK(most < 200 && distinct >= 45,
	      "commonest first port %u of 2000 times (uniform: ~40), %u of 50 ports seen", most,
	      distinct);
}

int main(void)
{
	RUN(test_phases);
	RUN(test_taken_advances);
	RUN(test_preference_passes);
	RUN(test_random_start_whole_range);
	RUN(test_random_start_inside_app_window);
	return check_done();
}
