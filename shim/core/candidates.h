/* The ports a plan offers one call, in order, as the bitmap sees them.
 *
 * Policies built from port classes (even, odd, any, N:K, prefer-*) scan each
 * pass of the plan (prefer-even: even, then odd).  With a destination and
 * the random order, each destination walks the allowed set from its own
 * secret offset, and a counter per destination slot moves past the ports it
 * used, so a 4-tuple comes back only after that destination has walked the
 * whole set (the per-destination "double-hash" selection of RFC 6056,
 * algorithm 4).  A counter is never shared between destinations
 * (walkslots.h); a destination that finds no slot of its own takes one over
 * from a random place, and its ports are then random, not walked.  Across destinations the start is uniform over the allowed
 * set; without the seed it cannot be predicted; with it a run repeats.
 * Without a destination (bind), or in sequential order, the start is a
 * fresh random port, or the plan's cursor.
 *
 * A port that can serve several destinations (TCP connect through the range
 * and reuse strategies) is tried even when this process holds it; a refusal
 * of that port's 4-tuple says nothing about other destinations and is not
 * remembered.  A walk that meets a port the kernel refuses has usually run
 * into another process's walk towards the same destination, whose recent
 * ports lie in a run ahead: it jumps to a random place (up to WALK_JUMPS
 * times a call) rather than step through that run port by port, and the
 * destination's counter follows it.  Exclusive binds scan in three phases: ports neither held nor
 * refused; the same after forgiving old refusals; then the ports this
 * process holds (the bitmap may be stale: a descriptor closed where the
 * hooks could not see it).
 *
 * The kernel emulations walk the range exactly as the kernel of their era
 * does (emulate.h; their scans in emulate_scan.c): every port once per pass from the kernel's own offset,
 * without the bitmap's hints, since the kernel has none.
 *
 * Either way the kernel is the judge: every candidate is tried for real. */
#ifndef PORTSHIM_CANDIDATES_H
#define PORTSHIM_CANDIDATES_H

#include <stdbool.h>
#include <stdint.h>

#include "emulate.h"
#include "portmap.h"
#include "runtime.h"
#include "scan.h"

/* Where a scan of pass `pass` of a classes plan starts without a walk,
 * inside `win`: a random port, or in sequential order the plan's cursor. */
unsigned plan_start(struct runtime *rt, struct plan *plan, int pass, struct portwindow win);
/* A port of that pass was taken: a sequential scan continues after it. */
void plan_taken(struct runtime *rt, struct plan *plan, int pass, unsigned port);

/* flow may be NULL when nothing is known about the call (tests). */
void candidates_begin(struct candidates *c, struct runtime *rt, struct plan *plan,
		      struct portwindow win, const struct flow *flow);
/* The next port to try, or -1 when the plan has none left. */
int candidates_next(struct candidates *c);
/* The kernel refused the port just handed out: skip it from now on (until
 * a scan runs dry and forgives). */
void candidates_refused(struct candidates *c, unsigned port);
/* The port's 4-tuple towards this destination is taken: go on with the
 * next port, remembering nothing about this one. */
void candidates_clashed(struct candidates *c, unsigned port);
/* The port just handed out was not used, for a reason unrelated to it. */
void candidates_unused(struct candidates *c, unsigned port);
/* The port just handed out is now the socket's. */
void candidates_taken(struct candidates *c, unsigned port);

#endif
