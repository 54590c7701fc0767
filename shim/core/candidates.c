/* See candidates.h. */
#include "candidates.h"

#include <sys/socket.h>

#include "emulate_scan.h"
#include "walkslots.h"

/* The phases of a scan by port classes; portmap_forgive() runs before the
 * second.  A port that serves several destinations is not skipped for being
 * held: the walk already keeps a destination off its own 4-tuples for a
 * whole lap, and skipping other destinations' ports would only speed the
 * walk round to its own. */
static const unsigned exclusive_phases[] = {
	PORTMAP_SKIP_HELD | PORTMAP_SKIP_REFUSED,
	PORTMAP_SKIP_HELD | PORTMAP_SKIP_REFUSED,
	PORTMAP_SKIP_REFUSED,
};
static const unsigned shared_phases[] = {
	PORTMAP_SKIP_REFUSED,
	PORTMAP_SKIP_REFUSED,
};
#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

/* A walk's jumps per call (candidates.h).  Enough that a jump lands in a
 * run of taken ports every time only when nearly every port is taken
 * (0.6^64 ~ 1e-14 when 60% are); then each jump was one attempt more
 * before the walk from the last one covers the set. */
#define WALK_JUMPS 64u

static enum scan_order scan_order(const struct plan *plan, const struct flow *flow)
{
	if (!POLICY_EMULATES(plan->policy.kind))
		return SCAN_CLASSES;
	/* udp_lib_get_port(): a random start and no parity, in every era. */
	if (flow && flow->type == SOCK_DGRAM)
		return SCAN_UNIFORM;
	if (plan->policy.kind == POLICY_KERNEL)
		return plan->for_bind ? SCAN_KERNEL_BIND : SCAN_KERNEL_CONNECT;
	if (plan->for_bind)
		return SCAN_UNIFORM; /* inet_csk_get_port() before 4.6 */
	return plan->policy.kind == POLICY_LINUX42 ? SCAN_LINUX42 : SCAN_LEGACY;
}

unsigned plan_start(struct runtime *rt, struct plan *plan, int pass, struct portwindow win)
{
	const struct portset *set = plan->pass[pass];
	unsigned lo = win.lo > set->first ? win.lo : set->first;
	unsigned hi = win.hi < set->last ? win.hi : set->last;

	if (rt->cfg.order == ORDER_SEQUENTIAL)
		return atomic_load_explicit(&plan->cursor[pass], memory_order_relaxed);
	if (lo > hi)
		return set->first; /* nothing inside the window: the search says so */
	return lo + rng_below(&rt->rng, (uint32_t)(hi - lo) + 1u);
}

void plan_taken(struct runtime *rt, struct plan *plan, int pass, unsigned port)
{
	if (rt->cfg.order == ORDER_SEQUENTIAL)
		atomic_store_explicit(&plan->cursor[pass], port + 1u, memory_order_relaxed);
}

/* The members of the current pass inside the window, counted once a pass:
 * every step of the walk measures against them. */
static void count_window(struct candidates *c)
{
	const struct portset *set = c->sets[c->pass];

	c->win_first = portset_rank(set, c->win.lo);
	c->win_members = portset_rank(set, c->win.hi + 1u) - c->win_first;
}

static unsigned walk_start(struct candidates *c)
{
	uint32_t n = c->win_members;

	c->start_rank = 0;
	if (!n)
		return c->win.lo;
	uint32_t phase = (uint32_t)(((uint64_t)c->walk_phase * n) >> 32);
	c->start_rank = c->win_first + (uint32_t)((c->walk_offset % n + phase) % n);
	return portset_select(c->sets[c->pass], c->start_rank);
}

/* How far the walk has gone from the pass's start to `port`. */
static uint32_t walk_distance(const struct candidates *c, unsigned port)
{
	uint32_t n = c->win_members, to = portset_rank(c->sets[c->pass], port);

	return n ? (to + n - c->start_rank) % n : 0;
}

static void begin_pass(struct candidates *c)
{
	if (c->order != SCAN_CLASSES) {
		emulate_scan_pass(c);
		return;
	}
	c->phase = 0;
	if (c->walk)
		count_window(c);
	c->start = c->walk ? walk_start(c) : plan_start(c->rt, c->plan, c->pass, c->win);
	c->pass_start = c->start;
	c->walked = 0;
	c->jumped = 0;
}

void candidates_begin(struct candidates *c, struct runtime *rt, struct plan *plan,
		      struct portwindow win, const struct flow *flow)
{
	*c = (struct candidates){ .rt = rt, .plan = plan, .win = win, .npasses = plan->npasses };
	c->order = scan_order(plan, flow);
	c->sets[0] = plan->pass[0];
	c->sets[1] = plan->pass[1];

	switch (c->order) {
	case SCAN_CLASSES: {
		bool shares = flow && flow->shares;
		c->phases = shares ? shared_phases : exclusive_phases;
		c->nphases = shares ? COUNT(shared_phases) : COUNT(exclusive_phases);
		if (!flow || !flow->dst || rt->cfg.order != ORDER_RANDOM)
			break;
		/* A port that serves several destinations is walked per
		 * destination; an exclusive one by the whole process, since no
		 * destination can have it while another does.  Forked siblings
		 * share the key and, without a seed, the counters (runtime.h);
		 * with one, each walks from its own phase. */
		uint64_t h = rng_mix(shares ? emulate_port_offset(&rt->emu, flow, 0) : rt->emu.secret);
		c->walk = true;
		c->walk_phase = rt->cfg.seed_set ? runtime_walk_phase(rt) : 0;
		c->walk_tag = (uint32_t)(h >> 12);
		/* Taking a step now keeps two concurrent calls towards one
		 * destination off each other's port. */
		c->walk_offset = (h >> 32) + walkslots_step(rt->walk, h, c->walk_tag, &rt->rng,
							    &c->walk_slot);
		break;
	}
	default:
		emulate_scan_begin(c, flow);
		break;
	}
	if (c->npasses > 0)
		begin_pass(c);
}

static int next_classes(struct candidates *c)
{
	struct portmap *map = &c->rt->map;

	while (c->pass < c->npasses) {
		const struct portset *set = c->sets[c->pass];
		unsigned flags = c->phases[c->phase];
		int port;

		c->claimed = flags & PORTMAP_SKIP_HELD;
		port = c->claimed ? portmap_claim(map, set, c->win, c->start)
				  : portmap_find(map, set, c->win, c->start, flags);
		if (port >= 0 && c->walk) {
			/* A walk ends a phase where it began: nothing remembers
			 * the 4-tuples that clashed along the way. */
			uint32_t d = walk_distance(c, (unsigned)port);
			if (d >= c->walked) {
				c->walked = d + 1u;
				return port;
			}
			candidates_unused(c, (unsigned)port);
		} else if (port >= 0) {
			return port;
		}
		if (++c->phase == c->nphases) {
			if (++c->pass < c->npasses)
				begin_pass(c);
		} else {
			if (c->phase == 1)
				portmap_forgive(map, set);
			if (c->walk) {
				c->start = c->pass_start;
				c->walked = 0;
			}
		}
	}
	return -1;
}

int candidates_next(struct candidates *c)
{
	int port = c->order == SCAN_CLASSES ? next_classes(c) : emulate_scan_next(c);

	if (port >= 0)
		c->attempts++;
	return port;
}

void candidates_unused(struct candidates *c, unsigned port)
{
	if (c->claimed)
		portmap_release(&c->rt->map, port);
}

/* The walk goes on from a random member of the window, as if it had begun
 * there; false when there is nowhere else to go. */
static bool jump(struct candidates *c)
{
	uint32_t n = c->win_members;

	if (n < 2 || c->jumps >= WALK_JUMPS)
		return false;
	uint32_t rank = c->win_first + rng_below(&c->rt->rng, n);
	unsigned to = portset_select(c->sets[c->pass], rank);
	c->jumped = (c->jumped + walk_distance(c, to)) % n;
	c->start = c->pass_start = to;
	c->start_rank = rank;
	c->walked = 0;
	c->jumps++;
	return true;
}

void candidates_clashed(struct candidates *c, unsigned port)
{
	candidates_unused(c, port);
	if (!c->walk || !jump(c))
		c->start = port + 1u;
}

void candidates_refused(struct candidates *c, unsigned port)
{
	if (c->order == SCAN_CLASSES)
		portmap_refuse(&c->rt->map, port);
	candidates_clashed(c, port);
}

void candidates_taken(struct candidates *c, unsigned port)
{
	struct runtime *rt = c->rt;

	if (!c->claimed)
		portmap_hold(&rt->map, port);
	switch (c->order) {
	case SCAN_CLASSES:
		plan_taken(rt, c->plan, c->pass, port);
		/* Past the ports this call stepped over or jumped (one step
		 * was taken when it began). */
		if (c->walk) {
			uint32_t n = c->win_members;
			uint32_t advance = n ? (c->jumped + c->walked - 1u) % n : 0;
			if (advance)
				walkslots_advance(rt->walk, c->walk_slot, c->walk_tag, advance);
		}
		break;
	default:
		emulate_scan_taken(c, port);
		break;
	}
}
