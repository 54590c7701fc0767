/* See emulate_scan.h. */
#include "emulate_scan.h"

#include <stdatomic.h>

static uint32_t count_in(const struct portset *set, struct portwindow win)
{
	if (win.lo <= set->first && win.hi >= set->last)
		return set->count;
	uint32_t n = 0;
	for (unsigned p = win.lo; p <= win.hi && p <= set->last; p++)
		n += portset_has(set, p);
	return n;
}

/* inet_csk_find_open_port(): with SO_REUSEADDR, the lower half of the range
 * first, then the upper half, each scanned like the whole range. */
static void set_half(struct candidates *c, int half)
{
	struct runtime *rt = c->rt;
	unsigned lo = rt->range_lo, high = rt->range_hi + 1u;
	unsigned mid = lo + (((high - lo) >> 2) << 1);

	c->half = half;
	if (half == 1)
		c->win.hi = c->win.hi < mid - 1 ? c->win.hi : (uint16_t)(mid - 1);
	else if (half == 2)
		c->win.lo = c->win.lo > mid ? c->win.lo : (uint16_t)mid;
	unsigned span = half == 1 ? mid - lo : half == 2 ? high - mid : c->plan->rem;
	unsigned rem = span > 1 ? span & ~1u : span;
	c->offset = (half == 2 ? mid - lo : 0) +
		    (rem ? rng_below(&rt->rng, rem) : 0);
}

void emulate_scan_begin(struct candidates *c, const struct flow *flow)
{
	struct runtime *rt = c->rt;

	switch (c->order) {
	case SCAN_KERNEL_CONNECT: {
		uint64_t po = flow ? emulate_port_offset(&rt->emu, flow, emulate_epoch(&rt->emu)) : 0;
		c->slot = (uint32_t)(po & (EMULATE_TABLE_SIZE - 1));
		c->offset = (atomic_load_explicit(&rt->emu.perturb[c->slot], memory_order_relaxed) +
			     (uint32_t)(po >> 32)) % c->plan->rem;
		break;
	}
	case SCAN_KERNEL_BIND:
		if (flow && flow->reuseaddr && rt->range_hi + 1u - rt->range_lo >= 4)
			set_half(c, 1);
		else
			c->offset = rng_below(&rt->rng, c->plan->rem);
		break;
	case SCAN_LINUX42:
	case SCAN_LEGACY: {
		uint64_t po = flow ? emulate_port_offset(&rt->emu, flow, 0) : 0;
		uint32_t hint = atomic_load_explicit(&rt->emu.hint, memory_order_relaxed);
		unsigned rem = rt->range_hi - rt->range_lo + 1u;
		c->offset = c->order == SCAN_LINUX42 ? ((hint + (uint32_t)po) & ~1u) % rem
						     : (hint + (uint32_t)po + 1u) % rem;
		c->npasses = 1;
		c->sets[0] = c->plan->every;
		break;
	}
	case SCAN_UNIFORM:
		c->offset = rng_below(&rt->rng, rt->range_hi - rt->range_lo + 1u);
		c->npasses = 1;
		c->sets[0] = c->plan->every;
		break;
	case SCAN_CLASSES:
		break;
	}
}

void emulate_scan_pass(struct candidates *c)
{
	struct runtime *rt = c->rt;
	unsigned lo = rt->range_lo, rem = c->plan->rem;

	c->phase = 0;
	switch (c->order) {
	case SCAN_KERNEL_CONNECT:
		/* First pass from the even offset, second from the odd one. */
		c->start = lo + (unsigned)((c->offset & ~UINT64_C(1)) + (unsigned)c->pass) % rem;
		break;
	case SCAN_KERNEL_BIND:
		/* offset = rand % rem | 1, then offset - 1 for the second pass. */
		c->start = lo + (unsigned)((c->offset | 1u) - (unsigned)c->pass) % rem;
		break;
	default:
		c->start = lo + (unsigned)(c->offset % (rt->range_hi - lo + 1u));
		break;
	}
	c->pass_start = c->start;
	/* A range of an odd count: the kernel scans an even count of ports
	 * (rem), and its wrap takes rem off a port past the top, so a pass of
	 * the low end's parity covers all of it but one end: the top when it
	 * starts at the bottom, else the bottom. */
	unsigned count = rt->range_hi - lo + 1u;
	bool step2 = c->order == SCAN_KERNEL_CONNECT || c->order == SCAN_KERNEL_BIND;
	if (step2 && c->half == 0 && count > 1 && (count & 1u) && (c->start - lo) % 2u == 0) {
		if (c->start == lo)
			c->win.hi = c->win.hi < rt->range_hi - 1u ? c->win.hi
								  : (uint16_t)(rt->range_hi - 1u);
		else
			c->win.lo = c->win.lo > lo + 1u ? c->win.lo : (uint16_t)(lo + 1u);
	}
	c->remaining = count_in(c->sets[c->pass], c->win);
}

/* The kernel's scans: each port of the pass once, in order from the start;
 * the bitmap is not consulted. */
int emulate_scan_next(struct candidates *c)
{
	for (;;) {
		while (c->pass < c->npasses) {
			int port = c->remaining ? portmap_find(&c->rt->map, c->sets[c->pass], c->win,
							       c->start, 0)
						: -1;
			if (port >= 0) {
				c->remaining--;
				c->claimed = false;
				return port;
			}
			if (++c->pass < c->npasses)
				emulate_scan_pass(c);
		}
		if (c->half != 1)
			return -1;
		c->win = (struct portwindow){ 1, 65535 };
		set_half(c, 2);
		c->pass = 0;
		emulate_scan_pass(c);
	}
}

void emulate_scan_taken(struct candidates *c, unsigned port)
{
	struct runtime *rt = c->rt;
	unsigned lo = rt->range_lo;

	switch (c->order) {
	case SCAN_KERNEL_CONNECT: {
		/* 5.18+: i = max(i, random(0..7) * 2); table_perturb[index] += i + 2 */
		unsigned rem = c->plan->rem;
		unsigned i = (port + rem - c->pass_start) % rem;
		unsigned jitter = 2u * rng_below(&rt->rng, 8);
		atomic_fetch_add_explicit(&rt->emu.perturb[c->slot], (i > jitter ? i : jitter) + 2u,
					  memory_order_relaxed);
		break;
	}
	case SCAN_LINUX42:
	case SCAN_LEGACY: {
		unsigned rem = rt->range_hi - lo + 1u;
		unsigned i = (port + rem - c->pass_start) % rem;
		/* 4.2: hint += (i + 2) & ~1; before: hint += i, i counted from 1. */
		atomic_fetch_add_explicit(&rt->emu.hint,
					  c->order == SCAN_LINUX42 ? (i + 2u) & ~1u : i + 1u,
					  memory_order_relaxed);
		break;
	}
	default:
		break;
	}
}
