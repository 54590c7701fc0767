/* The port bitmap against a reference model, and under threads.
 *
 * The model is what the header promises, written the slow obvious way:
 * plain bool arrays and a linear cyclic scan of the window.  Every result of
 * many thousands of random operations must agree.  The seed is printed;
 * UNIT_SEED=... replays a failure. */
#include <pthread.h>

#include "check.h"
#include "portmap.h"

#define NSETS 3

static struct portmap map;
static struct portset sets[NSETS];
static bool member[NSETS][PORTMAP_PORTS];
static bool held[PORTMAP_PORTS], refused[PORTMAP_PORTS];

static void map_reset(struct portmap *m)
{
	for (unsigned w = 0; w < PORTMAP_WORDS; w++) {
		atomic_store(&m->held[w], 0);
		atomic_store(&m->refused[w], 0);
	}
}

/* Members only ever lie in [reg_lo, reg_hi] (the round's region), so the
 * model's scans skip the rest of the port space; that only saves time. */
static unsigned reg_lo, reg_hi;

static int model_scan(const bool *in, unsigned from, unsigned to, unsigned flags)
{
	if (from < reg_lo)
		from = reg_lo;
	if (to > reg_hi)
		to = reg_hi;
	for (unsigned p = from; p <= to; p++)
		if (in[p] && !((flags & PORTMAP_SKIP_HELD) && held[p]) &&
		    !((flags & PORTMAP_SKIP_REFUSED) && refused[p]))
			return (int)p;
	return -1;
}

/* First member at or after start inside the window, then wrapping to the
 * window's low end; a start outside the window starts at its low end. */
static int model_find(const bool *in, struct portwindow win, unsigned start, unsigned flags)
{
	if (win.lo > win.hi)
		return -1;
	if (start < win.lo || start > win.hi)
		start = win.lo;
	int p = model_scan(in, start, win.hi, flags);
	if (p < 0 && start > win.lo)
		p = model_scan(in, win.lo, start - 1, flags);
	return p;
}

/* Sets in a region around `base`, overlapping one another as the classes
 * of one runtime do: a range, minus a few ports, maybe a residue class. */
static void build_sets(unsigned long long *rs, unsigned base, unsigned span)
{
	for (int s = 0; s < NSETS; s++) {
		unsigned lo = base + check_rand_in(rs, 0, span / 4);
		unsigned hi = lo + check_rand_in(rs, 0, span - (lo - base));
		unsigned mod = check_rand_in(rs, 1, 5), res = check_rand_in(rs, 0, mod - 1);

		if (hi > 65535)
			hi = 65535;
		portset_clear(&sets[s]);
		memset(member[s], 0, sizeof(member[s]));
		portset_add_range(&sets[s], lo, hi);
		for (unsigned p = lo; p <= hi; p++)
			member[s][p] = true;
		static struct portset minus;
		portset_clear(&minus);
		for (int k = check_rand_in(rs, 0, 8); k > 0; k--) {
			unsigned p = check_rand_in(rs, lo, hi);
			portset_add_range(&minus, p, p);
			member[s][p] = false;
		}
		portset_remove_set(&sets[s], &minus);
		portset_keep_residue(&sets[s], mod, res);
		for (unsigned p = lo; p <= hi; p++)
			if (p % mod != res)
				member[s][p] = false;
	}
}

static unsigned near(unsigned long long *rs, unsigned base, unsigned span)
{
	unsigned lo = base > 70 ? base - 70 : 0, hi = base + span + 70;
	return check_rand_in(rs, lo, hi > 65535 ? 65535 : hi);
}

static struct portwindow random_window(unsigned long long *rs, int s, unsigned base,
				       unsigned span)
{
	switch (check_rand_in(rs, 0, 3)) {
	case 0:
		return (struct portwindow){ 0, 65535 };
	case 1:
		return portset_window(&sets[s]);
	default: /* anywhere near the region, sometimes lo > hi */
		return (struct portwindow){ (uint16_t)near(rs, base, span),
					    (uint16_t)near(rs, base, span) };
	}
}

static void test_against_model(void)
{
	/* Regions at both ends of the port space and in the middle. */
	static const unsigned bases[] = { 0, 30000, 32700, 65535 - 1200 };
	unsigned long long rs = check_seed(0x9a7e5eedULL);
	unsigned ops = 0, found = 0;

	for (int round = 0; round < 24; round++) {
		unsigned base = bases[round % 4], span = round % 3 ? 1200 : 150;
		map_reset(&map);
		memset(held, 0, sizeof(held));
		memset(refused, 0, sizeof(refused));
		build_sets(&rs, base, span);
		reg_lo = base;
		reg_hi = base + span > 65535 ? 65535 : base + span;

		for (int i = 0; i < 2500; i++, ops++) {
			int s = (int)check_rand_in(&rs, 0, NSETS - 1);
			unsigned op = check_rand_in(&rs, 0, 99);
			unsigned port = near(&rs, base, span);
			struct portwindow win = random_window(&rs, s, base, span);
			unsigned start = check_rand_in(&rs, 0, 9) ? near(&rs, base, span)
								  : check_rand_in(&rs, 0, 65535);
			int got, want;

			if (op < 35) { /* claim */
				want = model_find(member[s], win, start,
						  PORTMAP_SKIP_HELD | PORTMAP_SKIP_REFUSED);
				got = portmap_claim(&map, &sets[s], win, start);
				if (want >= 0)
					held[want] = true;
			} else if (op < 55) { /* find with random flags */
				unsigned flags = check_rand_in(&rs, 0, 3);
				want = model_find(member[s], win, start, flags);
				got = portmap_find(&map, &sets[s], win, start, flags);
			} else if (op < 75) {
				portmap_release(&map, port);
				held[port] = false;
				continue;
			} else if (op < 88) {
				portmap_refuse(&map, port);
				refused[port] = true;
				continue;
			} else if (op < 92) {
				portmap_forgive(&map, &sets[s]);
				for (unsigned p = reg_lo; p <= reg_hi; p++)
					if (member[s][p])
						refused[p] = false;
				continue;
			} else if (op < 97) {
				want = !held[port];
				got = portmap_hold(&map, port);
				held[port] = true;
			} else {
				want = held[port];
				got = portmap_is_held(&map, port);
			}
			found += want >= 0;
			if (!CHECK(got == want, "round %d op %d (kind %u): set %d window %u-%u start %u "
				   "port %u: got %d, model says %d", round, i, op, s, win.lo, win.hi,
				   start, port, got, want))
				return;
		}
		/* The whole held bitmap agrees too, not only what was asked. */
		for (unsigned p = 0; p < PORTMAP_PORTS; p++)
			if (!CHECK(portmap_is_held(&map, p) == held[p], "round %d: port %u held=%d, model %d",
				   round, p, portmap_is_held(&map, p), held[p]))
				return;
	}
	check_diag("%u operations, %u with a port found", ops, found);
	/* A model that never finds anything would agree trivially. */
	CHECK(found > ops / 4, "only %u of %u operations found a port", found, ops);
}

/* Threads claim from one small set; an owner table catches a port handed
 * to two threads at once. */
#define NTHREADS 8
#define POOL_LO 5000u
#define POOL_HI 5199u

static struct portset pool;
static _Atomic int owner[PORTMAP_PORTS];   /* 0, or the thread's id + 1 */
static _Atomic unsigned double_claims, claims;
static pthread_barrier_t start_barrier, phase_barrier;

struct worker {
	int id;
	unsigned long long rs;
	bool mine[PORTMAP_PORTS];
	unsigned nmine;
};
static struct worker workers[NTHREADS];

static void take(struct worker *w, int port)
{
	int expected = 0;

	atomic_fetch_add(&claims, 1);
	if (!atomic_compare_exchange_strong(&owner[port], &expected, w->id + 1) || w->mine[port]) {
		atomic_fetch_add(&double_claims, 1);
		return; /* owned already (maybe by us): keep nmine exact */
	}
	w->mine[port] = true;
	w->nmine++;
}

static void give_back(struct worker *w, unsigned port)
{
	/* Forget ownership before the bitmap frees it, as close() does. */
	atomic_store(&owner[port], 0);
	w->mine[port] = false;
	w->nmine--;
	portmap_release(&map, port);
}

static void *worker_main(void *arg)
{
	struct worker *w = arg;
	const struct portwindow win = portset_window(&pool);

	/* Phase 1: churn, all threads at once.  Half of them always start at
	 * the same port, the most contended case. */
	pthread_barrier_wait(&start_barrier);
	for (int i = 0; i < 20000; i++) {
		unsigned start = w->id % 2 ? POOL_LO : check_rand_in(&w->rs, POOL_LO, POOL_HI);
		int port = portmap_claim(&map, &pool, win, start);
		if (port >= 0)
			take(w, port);
		/* Give back a random one of ours, most of the time. */
		if (w->nmine && check_rand_in(&w->rs, 0, 3)) {
			unsigned p = check_rand_in(&w->rs, POOL_LO, POOL_HI);
			while (!w->mine[p])
				p = p == POOL_HI ? POOL_LO : p + 1;
			give_back(w, p);
		}
	}
	pthread_barrier_wait(&phase_barrier);
	/* Phase 2: claim until the pool is dry; nobody releases now. */
	for (;;) {
		int port = portmap_claim(&map, &pool, win, check_rand_in(&w->rs, POOL_LO, POOL_HI));
		if (port < 0)
			break;
		take(w, port);
	}
	return NULL;
}

static void test_threads(void)
{
	pthread_t tids[NTHREADS];
	unsigned long long rs = check_seed(0x7417eadULL);

	map_reset(&map);
	portset_clear(&pool);
	portset_add_range(&pool, POOL_LO, POOL_HI);
	pthread_barrier_init(&start_barrier, NULL, NTHREADS);
	pthread_barrier_init(&phase_barrier, NULL, NTHREADS);
	for (int t = 0; t < NTHREADS; t++) {
		workers[t].id = t;
		workers[t].rs = check_rand(&rs);
		CHECK(pthread_create(&tids[t], NULL, worker_main, &workers[t]) == 0);
	}
	for (int t = 0; t < NTHREADS; t++)
		pthread_join(tids[t], NULL);
	pthread_barrier_destroy(&start_barrier);
	pthread_barrier_destroy(&phase_barrier);

	CHECK_INT(atomic_load(&double_claims), 0);
	check_diag("%u claims", atomic_load(&claims));
	/* Every pool port is held by exactly one thread, nothing else held. */
	unsigned total = 0;
	for (unsigned p = 0; p < PORTMAP_PORTS; p++) {
		int holders = 0;
		for (int t = 0; t < NTHREADS; t++)
			holders += workers[t].mine[p];
		bool in_pool = p >= POOL_LO && p <= POOL_HI;
		if (!CHECK(holders == (in_pool ? 1 : 0), "port %u has %d holders", p, holders) ||
		    !CHECK(portmap_is_held(&map, p) == in_pool, "port %u held bit", p))
			return;
	}
	for (int t = 0; t < NTHREADS; t++)
		total += workers[t].nmine;
	CHECK_INT(total, POOL_HI - POOL_LO + 1);
	CHECK(atomic_load(&claims) > 10000, "too little contention to mean anything");
}

int main(void)
{
	RUN(test_against_model);
	RUN(test_threads);
	return check_done();
}
