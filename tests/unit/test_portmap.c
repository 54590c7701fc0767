/* The port bitmap, case by case: portmap_find()/claim() around word
 * boundaries, windows and the wrap-around, the held and refused flags, and
 * forgiving a set's refusals.  test_portset.c checks the sets it scans,
 * test_portmap_random.c the same functions against a reference model and
 * under threads. */
#include "check.h"
#include "portmap.h"

/* Big structures live in static storage: a portset is 8 KiB, a portmap 16. */
static struct portset set, other;
static struct portmap map;

static const struct portwindow ALL = { 0, 65535 };

static void map_reset(struct portmap *m)
{
	for (unsigned w = 0; w < PORTMAP_WORDS; w++) {
		atomic_store(&m->held[w], 0);
		atomic_store(&m->refused[w], 0);
	}
}

static void test_find_basic_and_wrap(void)
{
	portset_clear(&set);
	portset_add_range(&set, 100, 299); /* words 1..4 */
	map_reset(&map);
	const unsigned F = PORTMAP_SKIP_HELD;

	CHECK_INT(portmap_find(&map, &set, ALL, 150, F), 150);
	CHECK_INT(portmap_find(&map, &set, ALL, 99, F), 100);  /* before the set */
	CHECK_INT(portmap_find(&map, &set, ALL, 300, F), 100); /* after it: wraps */
	CHECK_INT(portmap_find(&map, &set, ALL, 65535, F), 100);

	/* Free only 128 (first bit of word 2) and start just above it, in the
	 * same word: found only by the wrap's second half. */
	for (unsigned p = 100; p <= 299; p++)
		if (p != 128)
			portmap_hold(&map, p);
	CHECK_INT(portmap_find(&map, &set, ALL, 129, F), 128);
	CHECK_INT(portmap_find(&map, &set, ALL, 299, F), 128);
	CHECK_INT(portmap_find(&map, &set, ALL, 128, F), 128); /* start is the only one */
	CHECK_INT(portmap_find(&map, &set, ALL, 127, F), 128);
	CHECK_INT(portmap_find(&map, &set, ALL, 200, 0), 200); /* flags 0: held ignored */
	portmap_hold(&map, 128);
	CHECK_INT(portmap_find(&map, &set, ALL, 200, F), -1);

	/* Free 100 and 299, the two ends. */
	portmap_release(&map, 100);
	portmap_release(&map, 299);
	CHECK_INT(portmap_find(&map, &set, ALL, 101, F), 299);
	CHECK_INT(portmap_find(&map, &set, ALL, 299, F), 299);
	CHECK_INT(portmap_find(&map, &set, ALL, 0, F), 100);

	/* Across the whole map: the set {0, 65535}. */
	portset_clear(&set);
	portset_add_range(&set, 0, 0);
	portset_add_range(&set, 65535, 65535);
	map_reset(&map);
	portmap_hold(&map, 65535);
	CHECK_INT(portmap_find(&map, &set, ALL, 65535, F), 0);
	CHECK_INT(portmap_find(&map, &set, ALL, 1, F), 0);
	CHECK_INT(portmap_find(&map, &set, ALL, 1, 0), 65535);
}

static void test_find_windows(void)
{
	portset_clear(&set);
	portset_add_range(&set, 100, 299);
	map_reset(&map);
	const unsigned F = PORTMAP_SKIP_HELD;
	struct portwindow win = { 150, 160 };

	CHECK_INT(portmap_find(&map, &set, win, 100, F), 150); /* start below the window */
	CHECK_INT(portmap_find(&map, &set, win, 200, F), 150); /* start above it */
	CHECK_INT(portmap_find(&map, &set, win, 155, F), 155);
	for (unsigned p = 150; p <= 155; p++)
		portmap_hold(&map, p);
	CHECK_INT(portmap_find(&map, &set, win, 157, F), 157);
	for (unsigned p = 157; p <= 160; p++)
		portmap_hold(&map, p);
	/* 156 is the last free port inside; 149 and 161 are free but outside. */
	CHECK_INT(portmap_find(&map, &set, win, 157, F), 156);
	portmap_hold(&map, 156);
	CHECK_INT(portmap_find(&map, &set, win, 157, F), -1);
	CHECK_INT(portmap_find(&map, &set, ALL, 157, F), 161);

	map_reset(&map);
	CHECK_INT(portmap_find(&map, &set, (struct portwindow){ 1000, 2000 }, 1500, 0), -1);
	CHECK_INT(portmap_find(&map, &set, (struct portwindow){ 300, 400 }, 300, 0), -1);
	CHECK_INT(portmap_find(&map, &set, (struct portwindow){ 0, 99 }, 50, 0), -1);
	CHECK_INT(portmap_find(&map, &set, (struct portwindow){ 200, 150 }, 170, 0), -1);
	CHECK_INT(portmap_find(&map, &set, (struct portwindow){ 299, 299 }, 0, 0), 299);
	CHECK_INT(portmap_find(&map, &set, (struct portwindow){ 0, 100 }, 0, 0), 100);

	/* Window bounds need not be members. */
	portset_keep_residue(&set, 2, 1);
	CHECK_INT(portmap_find(&map, &set, (struct portwindow){ 150, 150 }, 150, 0), -1);
	CHECK_INT(portmap_find(&map, &set, (struct portwindow){ 150, 151 }, 150, 0), 151);
	CHECK_INT(portmap_find(&map, &set, (struct portwindow){ 150, 160 }, 160, 0), 151);

	struct portwindow w = portset_window(&set);
	CHECK(w.lo == 101 && w.hi == 299, "window %u-%u", w.lo, w.hi);

	portset_clear(&set); /* the empty set finds nothing */
	CHECK_INT(portmap_find(&map, &set, ALL, 0, 0), -1);
	CHECK_INT(portmap_find(&map, &set, ALL, 100, 0), -1);
}

static void test_find_flags(void)
{
	portset_clear(&set);
	portset_add_range(&set, 1000, 1003);
	map_reset(&map);
	portmap_hold(&map, 1000);
	portmap_refuse(&map, 1001);
	portmap_hold(&map, 1002);
	portmap_refuse(&map, 1002);

	CHECK_INT(portmap_find(&map, &set, ALL, 1000, 0), 1000);
	CHECK_INT(portmap_find(&map, &set, ALL, 1000, PORTMAP_SKIP_HELD), 1001);
	CHECK_INT(portmap_find(&map, &set, ALL, 1000, PORTMAP_SKIP_REFUSED), 1000);
	CHECK_INT(portmap_find(&map, &set, ALL, 1001, PORTMAP_SKIP_REFUSED), 1003);
	CHECK_INT(portmap_find(&map, &set, ALL, 1000, PORTMAP_SKIP_HELD | PORTMAP_SKIP_REFUSED), 1003);
	portmap_refuse(&map, 1003);
	CHECK_INT(portmap_find(&map, &set, ALL, 1000, PORTMAP_SKIP_HELD | PORTMAP_SKIP_REFUSED), -1);
	/* A refusal does not make the port held, nor the reverse. */
	CHECK(!portmap_is_held(&map, 1001) && portmap_is_held(&map, 1000));
}

static void test_claim_hold_release(void)
{
	portset_clear(&set);
	portset_add_range(&set, 2000, 2003);
	map_reset(&map);

	CHECK_INT(portmap_claim(&map, &set, ALL, 2001), 2001);
	CHECK(portmap_is_held(&map, 2001));
	CHECK_INT(portmap_claim(&map, &set, ALL, 2001), 2002); /* held: moves on */
	CHECK_INT(portmap_claim(&map, &set, ALL, 2001), 2003);
	CHECK_INT(portmap_claim(&map, &set, ALL, 2001), 2000); /* wraps */
	CHECK_INT(portmap_claim(&map, &set, ALL, 2001), -1);   /* exhausted */

	portmap_release(&map, 2002);
	CHECK(!portmap_is_held(&map, 2002));
	CHECK(portmap_is_held(&map, 2001) && portmap_is_held(&map, 2003), "release is per port");
	CHECK_INT(portmap_claim(&map, &set, ALL, 2000), 2002);

	portmap_release(&map, 2000);
	CHECK(portmap_hold(&map, 2000), "hold of a free port succeeds");
	CHECK(!portmap_hold(&map, 2000), "hold of a held port reports it was held");
	CHECK(portmap_is_held(&map, 2000));
	portmap_release(&map, 2000);
	portmap_release(&map, 2000); /* twice: still just free */
	CHECK(!portmap_is_held(&map, 2000));

	/* A claim skips refused ports and honours the window. */
	portmap_refuse(&map, 2000);
	CHECK_INT(portmap_claim(&map, &set, ALL, 2000), -1);
	portmap_release(&map, 2001);
	CHECK_INT(portmap_claim(&map, &set, (struct portwindow){ 2000, 2000 }, 2000), -1);
	CHECK_INT(portmap_claim(&map, &set, (struct portwindow){ 2000, 2001 }, 2000), 2001);
	/* Held is not limited to the set: a port of another path. */
	CHECK(portmap_hold(&map, 65535) && portmap_is_held(&map, 65535));
}

static void test_refuse_forgive(void)
{
	map_reset(&map);
	portset_clear(&set);
	portset_add_range(&set, 3000, 3199);
	portset_keep_residue(&set, 2, 0);
	portset_clear(&other);
	portset_add_range(&other, 3000, 3199);

	for (unsigned p = 3000; p <= 3199; p++)
		portmap_refuse(&map, p);
	portmap_hold(&map, 3100);
	CHECK_INT(portmap_claim(&map, &set, ALL, 3000), -1);
	portmap_forgive(&map, &set);
	/* Only the set's own (even) refusals are forgiven; held stays held. */
	CHECK_INT(portmap_find(&map, &other, ALL, 3001, PORTMAP_SKIP_REFUSED), 3002);
	CHECK_INT(portmap_find(&map, &other, ALL, 3099, PORTMAP_SKIP_REFUSED), 3100);
	CHECK_INT(portmap_find(&map, &other, ALL, 3099, PORTMAP_SKIP_REFUSED | PORTMAP_SKIP_HELD),
		  3102);
	CHECK(portmap_is_held(&map, 3100));
	CHECK_INT(portmap_claim(&map, &set, ALL, 3198), 3198);

	portset_clear(&set); /* forgiving with an empty set changes nothing */
	portmap_forgive(&map, &set);
	CHECK_INT(portmap_find(&map, &other, ALL, 3001, PORTMAP_SKIP_REFUSED), 3002);
	CHECK_INT(portmap_find(&map, &other, ALL, 3199, PORTMAP_SKIP_REFUSED), 3000);
}

int main(void)
{
	RUN(test_find_basic_and_wrap);
	RUN(test_find_windows);
	RUN(test_find_flags);
	RUN(test_claim_hold_release);
	RUN(test_refuse_forgive);
	return check_done();
}
