/* See walkslots.h. */
#include "walkslots.h"

#include <stdbool.h>

static uint32_t tag_of(uint64_t held)
{
	return (uint32_t)(held >> 32);
}

uint32_t walkslots_step(_Atomic uint64_t *table, uint64_t h, uint32_t tag, struct rng *rng,
			uint32_t *slot)
{
	uint32_t first = (uint32_t)(h % WALK_SLOTS), second = (uint32_t)((h >> 20) % WALK_SLOTS);
	uint64_t a = atomic_load_explicit(&table[first], memory_order_relaxed);
	uint64_t b = atomic_load_explicit(&table[second], memory_order_relaxed);
	bool a_ours = tag_of(a) == tag, b_ours = tag_of(b) == tag;

	/* Ours, else an empty one, else the first. */
	*slot = (!a_ours && (b_ours || (a != 0 && b == 0))) ? second : first;
	_Atomic uint64_t *at = &table[*slot];
	uint64_t held = atomic_load_explicit(at, memory_order_relaxed), next;
	uint32_t counter;
	do {
		bool ours = tag_of(held) == tag || held == 0;
		counter = ours ? (uint32_t)held : (uint32_t)rng_next(rng);
		next = (uint64_t)tag << 32 | (uint32_t)(counter + 1u);
	} while (!atomic_compare_exchange_weak_explicit(at, &held, next, memory_order_relaxed,
							 memory_order_relaxed));
	return counter;
}

void walkslots_advance(_Atomic uint64_t *table, uint32_t slot, uint32_t tag, uint32_t by)
{
	_Atomic uint64_t *at = &table[slot];
	uint64_t held = atomic_load_explicit(at, memory_order_relaxed), next;

	do {
		if (tag_of(held) != tag)
			return;
		next = (held & ~(uint64_t)UINT32_MAX) | (uint32_t)((uint32_t)held + by);
	} while (!atomic_compare_exchange_weak_explicit(at, &held, next, memory_order_relaxed,
							 memory_order_relaxed));
}
