/* See candidates.h. */
#include "candidates.h"

static const unsigned phase_flags[] = {
	PORTMAP_SKIP_HELD | PORTMAP_SKIP_REFUSED,
	PORTMAP_SKIP_HELD | PORTMAP_SKIP_REFUSED, /* after portmap_forgive() */
	PORTMAP_SKIP_REFUSED,
};
#define N_PHASES (sizeof(phase_flags) / sizeof(phase_flags[0]))

void candidates_begin(struct candidates *c, struct runtime *rt, struct plan *plan,
		      struct portwindow win)
{
	*c = (struct candidates){ .rt = rt, .plan = plan, .win = win };
	if (plan->npasses > 0)
		c->start = plan_start(rt, plan, 0);
}

int candidates_next(struct candidates *c)
{
	struct portmap *map = &c->rt->map;

	while (c->pass < c->plan->npasses) {
		const struct portset *set = c->plan->pass[c->pass];
		unsigned flags = phase_flags[c->phase];
		int port;

		c->claimed = flags & PORTMAP_SKIP_HELD;
		port = c->claimed ? portmap_claim(map, set, c->win, c->start)
				  : portmap_find(map, set, c->win, c->start, flags);
		if (port >= 0) {
			c->attempts++;
			return port;
		}
		if (++c->phase == N_PHASES) {
			c->phase = 0;
			if (++c->pass < c->plan->npasses)
				c->start = plan_start(c->rt, c->plan, c->pass);
		} else if (c->phase == 1) {
			portmap_forgive(map, set);
		}
	}
	return -1;
}

void candidates_unused(struct candidates *c, unsigned port)
{
	if (c->claimed)
		portmap_release(&c->rt->map, port);
}

void candidates_refused(struct candidates *c, unsigned port)
{
	candidates_unused(c, port);
	portmap_refuse(&c->rt->map, port);
	c->start = port + 1u;
}

void candidates_taken(struct candidates *c, unsigned port)
{
	if (!c->claimed)
		portmap_hold(&c->rt->map, port);
	plan_taken(c->rt, c->plan, c->pass, port);
}
