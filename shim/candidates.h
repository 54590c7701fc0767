/* The ports a plan offers one call, in order, as the bitmap sees them.
 *
 * Each pass of the plan (prefer-even: even, then odd) is scanned in three
 * phases: ports neither held nor refused; the same after forgiving old
 * refusals; then the ports this process already holds, which either share
 * (TCP towards another destination) or turn out to be free because the
 * bitmap is stale (a descriptor closed where the hooks could not see it).
 * The kernel is always the judge: every candidate is tried for real. */
#ifndef PORTSHIM_CANDIDATES_H
#define PORTSHIM_CANDIDATES_H

#include <stdbool.h>

#include "portmap.h"
#include "runtime.h"

struct candidates {
	struct runtime *rt;
	struct plan *plan;
	struct portwindow win;
	int pass;
	unsigned phase;
	unsigned start;
	bool claimed;       /* the current port was claimed in the bitmap */
	unsigned attempts;  /* candidates handed out so far */
};

void candidates_begin(struct candidates *c, struct runtime *rt, struct plan *plan,
		      struct portwindow win);
/* The next port to try, or -1 when the plan has none left. */
int candidates_next(struct candidates *c);
/* The kernel refused the port just handed out: skip it from now on (until
 * a scan runs dry and forgives). */
void candidates_refused(struct candidates *c, unsigned port);
/* The port just handed out was not used, for a reason unrelated to it. */
void candidates_unused(struct candidates *c, unsigned port);
/* The port just handed out is now the socket's. */
void candidates_taken(struct candidates *c, unsigned port);

#endif
