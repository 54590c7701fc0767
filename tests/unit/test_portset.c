/* Port sets, case by case: exact membership, counts and bounds after
 * ranges are added (within a word, across word boundaries, clipped),
 * removed and kept to a residue, each compared port by port with a plain
 * array.  test_portmap.c checks the bitmap's scans over such sets. */
#include "check.h"
#include "portmap.h"

/* Big structures live in static storage: a portset is 8 KiB. */
static struct portset set, other;
static bool ref[PORTMAP_PORTS];

static void ref_range(bool *r, unsigned lo, unsigned hi)
{
	for (unsigned p = lo; p <= hi && p < PORTMAP_PORTS; p++)
		r[p] = true;
}

/* Compares a set with a plain array port by port, plus count/first/last. */
static bool same_as_ref(const struct portset *s, const bool *r, const char *what)
{
	unsigned count = 0, first = 0, last = 0;

	for (unsigned p = 0; p < PORTMAP_PORTS; p++) {
		if (!CHECK(portset_has(s, p) == r[p], "%s: port %u: has=%d, expected %d", what, p,
			   portset_has(s, p), r[p]))
			return false;
		if (r[p]) {
			if (!count)
				first = p;
			last = p;
			count++;
		}
	}
	bool ok = CHECK(s->count == count, "%s: count %u, expected %u", what, s->count, count);
	if (count) {
		ok &= CHECK(s->first == first, "%s: first %u, expected %u", what, s->first, first);
		ok &= CHECK(s->last == last, "%s: last %u, expected %u", what, s->last, last);
	}
	return ok;
}

static void reset_both(void)
{
	portset_clear(&set);
	memset(ref, 0, sizeof(ref));
}

static void add_both(unsigned lo, unsigned hi)
{
	portset_add_range(&set, lo, hi);
	ref_range(ref, lo, hi);
}

static void test_add_range_within_one_word(void)
{
	reset_both();
	portset_add_range(&set, 10, 20);
	/* The exact word, not only has(): stray bits would be members too. */
	CHECK_U64(set.bits[0], ((UINT64_C(1) << 21) - 1) & ~((UINT64_C(1) << 10) - 1));
	CHECK_INT(set.count, 11);
	CHECK_INT(set.first, 10);
	CHECK_INT(set.last, 20);
	CHECK(!portset_has(&set, 9) && portset_has(&set, 10) && portset_has(&set, 20) &&
	      !portset_has(&set, 21));
	for (unsigned w = 1; w < PORTMAP_WORDS; w++)
		if (!CHECK(set.bits[w] == 0, "word %u is %#llx", w, (unsigned long long)set.bits[w]))
			break;
}

static void test_add_range_word_boundaries(void)
{
	static const unsigned cases[][2] = {
		{ 63, 64 }, { 0, 63 }, { 64, 127 }, { 127, 128 }, { 0, 0 }, { 63, 63 },
		{ 64, 64 }, { 65535, 65535 }, { 65472, 65535 }, { 100, 1000 }, { 0, 65535 },
		{ 1, 65534 }, { 32768, 60999 },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char what[32];
		reset_both();
		add_both(cases[i][0], cases[i][1]);
		snprintf(what, sizeof(what), "%u-%u", cases[i][0], cases[i][1]);
		if (!same_as_ref(&set, ref, what))
			return;
	}
	CHECK_INT(set.count, 28232); /* the kernel's default range */
}

static void test_add_range_incremental(void)
{
	reset_both();
	add_both(40000, 40010);
	same_as_ref(&set, ref, "first range");
	add_both(30000, 30005); /* below: first moves down */
	same_as_ref(&set, ref, "lower range");
	add_both(50000, 50000); /* above: last moves up */
	same_as_ref(&set, ref, "single port");
	add_both(40005, 40020); /* overlap: counted once */
	same_as_ref(&set, ref, "overlap");
	CHECK_INT(set.count, 6 + 21 + 1);
	add_both(40001, 40002); /* inside: first and last stay */
	same_as_ref(&set, ref, "inside");

	portset_add_range(&set, 45000, 44000); /* lo > hi: nothing */
	same_as_ref(&set, ref, "lo > hi");
	portset_add_range(&set, 70000, 80000); /* entirely above 65535: nothing */
	same_as_ref(&set, ref, "above 65535");
	portset_add_range(&set, 65530, 70000); /* clipped to 65535 */
	ref_range(ref, 65530, 65535);
	same_as_ref(&set, ref, "clipped");
	CHECK_INT(set.last, 65535);

	/* Many random ranges, as a long reserved-port list adds them. */
	unsigned long long rs = check_seed(0x5eed0001);
	reset_both();
	for (int i = 0; i < 300; i++) {
		unsigned lo = check_rand_in(&rs, 0, 65535);
		unsigned hi = lo + check_rand_in(&rs, 0, i % 3 ? 70 : 3000);
		add_both(lo, hi);
		if (i % 10 == 9 && !same_as_ref(&set, ref, "random ranges"))
			return;
	}
	same_as_ref(&set, ref, "random ranges");
}

static void test_remove_set(void)
{
	reset_both();
	add_both(40000, 40099);
	portset_clear(&other);
	portset_add_range(&other, 40000, 40000);
	portset_add_range(&other, 40050, 40060);
	portset_add_range(&other, 40099, 40099);
	portset_add_range(&other, 10, 10); /* not a member: no effect */
	portset_remove_set(&set, &other);
	ref[40000] = ref[40099] = false;
	for (unsigned p = 40050; p <= 40060; p++)
		ref[p] = false;
	same_as_ref(&set, ref, "after remove");
	CHECK_INT(set.count, 100 - 1 - 11 - 1);
	CHECK_INT(set.first, 40001);
	CHECK_INT(set.last, 40098);

	portset_add_range(&other, 39000, 41000);
	portset_remove_set(&set, &other);
	CHECK_INT(set.count, 0);
	CHECK(!portset_has(&set, 40001));
	/* An emptied set accepts new ranges with fresh bounds. */
	portset_add_range(&set, 7, 9);
	CHECK(set.count == 3 && set.first == 7 && set.last == 9, "count %u first %u last %u",
	      set.count, set.first, set.last);
}

static void residue_case(unsigned lo, unsigned hi, unsigned mod, unsigned res)
{
	char what[64];

	reset_both();
	portset_add_range(&set, lo, hi);
	portset_keep_residue(&set, mod, res);
	for (unsigned p = lo; p <= hi; p++)
		ref[p] = mod <= 1 || p % mod == res;
	snprintf(what, sizeof(what), "%u-%u keep %u:%u", lo, hi, mod, res);
	same_as_ref(&set, ref, what);
}

static void test_keep_residue(void)
{
	reset_both();
	portset_add_range(&set, 40000, 40009);
	portset_keep_residue(&set, 2, 0);
	CHECK(set.count == 5 && set.first == 40000 && set.last == 40008,
	      "even: count %u first %u last %u", set.count, set.first, set.last);
	portset_clear(&set);
	portset_add_range(&set, 40000, 40009);
	portset_keep_residue(&set, 2, 1);
	CHECK(set.count == 5 && set.first == 40001 && set.last == 40009,
	      "odd: count %u first %u last %u", set.count, set.first, set.last);
	portset_clear(&set);
	portset_add_range(&set, 40000, 40009);
	portset_keep_residue(&set, 4, 1); /* 40001, 40005, 40009 */
	CHECK(set.count == 3 && set.first == 40001 && set.last == 40009 &&
	      portset_has(&set, 40005) && !portset_has(&set, 40003),
	      "4:1: count %u first %u last %u", set.count, set.first, set.last);

	residue_case(40000, 40009, 7, 3); /* 40001, 40008 */
	CHECK(set.count == 2 && portset_has(&set, 40001) && portset_has(&set, 40008));
	residue_case(1, 65535, 2, 0);
	residue_case(1, 65535, 2, 1);
	residue_case(1, 65535, 7, 3);
	residue_case(1, 65535, 64, 63);
	residue_case(1, 65535, 65535, 0); /* only 65535 */
	CHECK(set.count == 1 && set.first == 65535);
	residue_case(100, 300, 1, 0); /* modulus 1: every port */
	CHECK_INT(set.count, 201);
	residue_case(40002, 40007, 7, 3); /* no member: empty */
	CHECK_INT(set.count, 0);
}

static void test_has_bounds(void)
{
	reset_both();
	portset_add_range(&set, 0, 65535);
	CHECK(portset_has(&set, 0) && portset_has(&set, 65535));
	CHECK(!portset_has(&set, 65536), "a port above 65535 is never a member");
	CHECK(!portset_has(&set, 100000));
}

int main(void)
{
	RUN(test_add_range_within_one_word);
	RUN(test_add_range_word_boundaries);
	RUN(test_add_range_incremental);
	RUN(test_remove_set);
	RUN(test_keep_residue);
	RUN(test_has_bounds);
	return check_done();
}
