/* The counters of the per-destination walk (candidates.h): a table of
 * WALK_SLOTS slots, each holding one destination's counter (low half) under
 * that destination's tag (high half), never shared.  Two destinations
 * taking turns on one counter would each get every other port of the walk:
 * all of one parity where the set is every port.  Each destination hashes to
 * two slots and keeps its count in one no other destination holds; only
 * when both are held does it take the first over, from a random count.
 * Lock-free, so any thread, a signal handler or a forked sibling sharing
 * the table may step at once. */
#ifndef PORTSHIM_WALKSLOTS_H
#define PORTSHIM_WALKSLOTS_H

#include <stdatomic.h>
#include <stdint.h>

#include "rng.h"

#define WALK_SLOTS 4096u

/* The destination's counter before this step, which the caller takes; the
 * slot used goes to *slot.  h: the destination's hash; tag: its tag. */
uint32_t walkslots_step(_Atomic uint64_t *table, uint64_t h, uint32_t tag, struct rng *rng,
			uint32_t *slot);
/* Moves the counter in `slot` on by `by`, unless another destination has
 * taken the slot over meanwhile. */
void walkslots_advance(_Atomic uint64_t *table, uint32_t slot, uint32_t tag, uint32_t by);

#endif
