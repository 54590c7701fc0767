/* Word-at-a-time search over port bitmaps; see portmap.h. */
#include "portmap.h"

#include <string.h>

#define WORD(port) ((port) / 64u)
#define BIT(port)  (UINT64_C(1) << ((port) % 64u))

#define ONES  UINT64_C(0x0101010101010101)
#define HIGHS UINT64_C(0x8080808080808080)

/* The members of each byte of w, in that byte.  Without -mpopcnt, which
 * the library cannot assume, __builtin_popcountll() is a libgcc call; this
 * is a dozen instructions inline. */
static inline uint64_t byte_counts(uint64_t w)
{
	w -= (w >> 1) & UINT64_C(0x5555555555555555);
	w = (w & UINT64_C(0x3333333333333333)) + ((w >> 2) & UINT64_C(0x3333333333333333));
	return (w + (w >> 4)) & UINT64_C(0x0f0f0f0f0f0f0f0f);
}

static inline uint32_t popcount64(uint64_t w)
{
	return (uint32_t)((byte_counts(w) * ONES) >> 56);
}

/* The position of member k (from 0) of w, which has more than k members:
 * the byte that holds it from the running counts of the bytes below
 * (compared all at once, each in its own byte), then its bits. */
static inline unsigned select_in_word(uint64_t w, uint32_t k)
{
	uint64_t below = byte_counts(w) * ONES;	/* byte i: members in bytes 0..i */
	/* Byte i's high bit set where its running count is <= k. */
	uint64_t le = ((k * ONES | HIGHS) - below) & HIGHS;
	unsigned byte = (unsigned)popcount64(le);
	unsigned skip = k - (byte ? (unsigned)(below >> (8u * byte - 8u)) & 0xffu : 0u);
	unsigned bits = (unsigned)(w >> (8u * byte)) & 0xffu;

	while (skip--)
		bits &= bits - 1u;
	return 8u * byte + (unsigned)__builtin_ctz(bits);
}

/* After bits were removed: every member is still within [first, last], so
 * only those words are read. */
static void portset_recount(struct portset *set)
{
	uint32_t count = 0;
	int first = -1, last = -1;

	if (set->count == 0)
		return;
	for (unsigned w = WORD(set->first); w <= WORD(set->last); w++) {
		uint64_t word = set->bits[w];
		if (!word)
			continue;
		count += popcount64(word);
		if (first < 0)
			first = (int)(w * 64u + (unsigned)__builtin_ctzll(word));
		last = (int)(w * 64u + 63u - (unsigned)__builtin_clzll(word));
	}
	set->count = count;
	set->first = first < 0 ? 0 : (uint16_t)first;
	set->last = last < 0 ? 0 : (uint16_t)last;
}

/* Only the words between the lowest and the highest member can hold bits:
 * clearing and copying just those keeps a process's untouched pages
 * untouched (a set spans 8 KiB; a default range, 3.5 KiB of it). */
void portset_clear(struct portset *set)
{
	if (set->count)
		memset(&set->bits[WORD(set->first)], 0,
		       (WORD(set->last) - WORD(set->first) + 1u) * sizeof(set->bits[0]));
	set->count = 0;
	set->first = set->last = 0;
}

void portset_copy(struct portset *dst, const struct portset *src)
{
	portset_clear(dst);
	if (src->count)
		memcpy(&dst->bits[WORD(src->first)], &src->bits[WORD(src->first)],
		       (WORD(src->last) - WORD(src->first) + 1u) * sizeof(src->bits[0]));
	dst->count = src->count;
	dst->first = src->first;
	dst->last = src->last;
}

void portset_add_range(struct portset *set, unsigned lo, unsigned hi)
{
	if (hi >= PORTMAP_PORTS)
		hi = PORTMAP_PORTS - 1;
	if (lo > hi)
		return;
	bool was_empty = set->count == 0;
	for (unsigned port = lo; port <= hi; ) {
		unsigned w = WORD(port);
		unsigned from = port % 64u;
		unsigned to = (WORD(hi) == w) ? hi % 64u : 63u;
		uint64_t mask = (~UINT64_C(0) >> (63u - to)) & (~UINT64_C(0) << from);
		set->count += popcount64(mask & ~set->bits[w]);
		set->bits[w] |= mask;
		port = (w + 1u) * 64u;
	}
	/* Kept incrementally: a long reserved-port list adds thousands of
	 * ranges, and a full recount each time would be quadratic. */
	if (was_empty || lo < set->first)
		set->first = (uint16_t)lo;
	if (was_empty || hi > set->last)
		set->last = (uint16_t)hi;
}

void portset_remove_set(struct portset *set, const struct portset *minus)
{
	/* The words both sets span: the others of minus are zero, and are not
	 * even read (tests/bench/README.md, (d)). */
	if (set->count == 0 || minus->count == 0)
		return;
	unsigned lo = WORD(set->first > minus->first ? set->first : minus->first);
	unsigned hi = WORD(set->last < minus->last ? set->last : minus->last);
	for (unsigned w = lo; w <= hi; w++)
		set->bits[w] &= ~minus->bits[w];
	portset_recount(set);
}

void portset_keep_residue(struct portset *set, unsigned modulus, unsigned residue)
{
	if (modulus <= 1 || set->count == 0)
		return;
	for (unsigned w = WORD(set->first); w <= WORD(set->last); w++) {
		uint64_t word = set->bits[w];
		while (word) {
			unsigned bit = (unsigned)__builtin_ctzll(word);
			unsigned port = w * 64u + bit;
			word &= word - 1;
			if (port % modulus != residue)
				set->bits[w] &= ~(UINT64_C(1) << bit);
		}
	}
	portset_recount(set);
}

bool portset_has(const struct portset *set, unsigned port)
{
	return port < PORTMAP_PORTS && (set->bits[WORD(port)] & BIT(port));
}

void portset_index(struct portset *set)
{
	uint32_t below = 0;

	if (set->count == 0)
		return;
	for (unsigned w = WORD(set->first); w <= WORD(set->last); w++) {
		set->rank[w] = (uint16_t)below;
		below += popcount64(set->bits[w]);
	}
}

uint32_t portset_rank(const struct portset *set, unsigned port)
{
	if (set->count == 0 || port <= set->first)
		return 0;
	if (port > set->last)
		return set->count;
	unsigned w = WORD(port);
	return set->rank[w] + popcount64(set->bits[w] & (BIT(port) - 1u));
}

unsigned portset_select(const struct portset *set, uint32_t k)
{
	unsigned lo = WORD(set->first), hi = WORD(set->last);

	/* The last word with no more than k members below it holds member k.
	 * Members spread evenly over the words (a range, a residue class)
	 * put it where k falls in proportion; else a binary search, on the
	 * side the guess leaves. */
	unsigned guess = lo + (unsigned)((uint64_t)k * (hi - lo + 1u) / set->count);
	if (guess > hi)
		guess = hi;
	/* Off by a word or two at most, for such sets. */
	for (int step = 0; step < 2 && guess > lo && set->rank[guess] > k; step++)
		guess--;
	for (int step = 0; step < 2 && guess < hi && set->rank[guess + 1u] <= k; step++)
		guess++;
	if (set->rank[guess] > k)
		hi = guess - 1u;
	else if (guess == hi || set->rank[guess + 1u] > k)
		lo = hi = guess;
	else
		lo = guess + 1u;
	while (lo < hi) {
		unsigned mid = lo + (hi - lo + 1u) / 2u;
		if (set->rank[mid] <= k)
			lo = mid;
		else
			hi = mid - 1u;
	}
	return lo * 64u + select_in_word(set->bits[lo], k - set->rank[lo]);
}

static inline uint64_t candidates(const struct portmap *map, const struct portset *allowed,
				  unsigned w, unsigned flags)
{
	uint64_t word = allowed->bits[w];

	if (word && (flags & PORTMAP_SKIP_HELD))
		word &= ~atomic_load_explicit(&map->held[w], memory_order_relaxed);
	if (word && (flags & PORTMAP_SKIP_REFUSED))
		word &= ~atomic_load_explicit(&map->refused[w], memory_order_relaxed);
	return word;
}

struct portwindow portset_window(const struct portset *allowed)
{
	return (struct portwindow){ allowed->first, allowed->last };
}

/* Bits of word w that lie inside [lo, hi]. */
static inline uint64_t window_mask(unsigned w, unsigned lo, unsigned hi)
{
	uint64_t mask = ~UINT64_C(0);

	if (w == WORD(lo))
		mask &= ~UINT64_C(0) << (lo % 64u);
	if (w == WORD(hi))
		mask &= ~UINT64_C(0) >> (63u - hi % 64u);
	return mask;
}

int portmap_find(const struct portmap *map, const struct portset *allowed,
		 struct portwindow win, unsigned start, unsigned flags)
{
	unsigned lo = win.lo > allowed->first ? win.lo : allowed->first;
	unsigned hi = win.hi < allowed->last ? win.hi : allowed->last;

	if (allowed->count == 0 || lo > hi)
		return -1;
	if (start < lo || start > hi)
		start = lo;

	unsigned w_start = WORD(start);
	uint64_t at_or_above = ~UINT64_C(0) << (start % 64u);

	/* From start up to hi... */
	for (unsigned w = w_start; w <= WORD(hi); w++) {
		uint64_t word = candidates(map, allowed, w, flags) & window_mask(w, lo, hi);
		if (w == w_start)
			word &= at_or_above;
		if (word)
			return (int)(w * 64u + (unsigned)__builtin_ctzll(word));
	}
	/* ...then wrap to lo and stop just below start. */
	for (unsigned w = WORD(lo); w <= w_start; w++) {
		uint64_t word = candidates(map, allowed, w, flags) & window_mask(w, lo, hi);
		if (w == w_start)
			word &= ~at_or_above;
		if (word)
			return (int)(w * 64u + (unsigned)__builtin_ctzll(word));
	}
	return -1;
}

int portmap_claim(struct portmap *map, const struct portset *allowed,
		  struct portwindow win, unsigned start)
{
	for (;;) {
		int port = portmap_find(map, allowed, win, start,
					PORTMAP_SKIP_HELD | PORTMAP_SKIP_REFUSED);
		if (port < 0)
			return -1;
		if (portmap_hold(map, (unsigned)port))
			return port;
		/* Another thread took it between the search and the claim:
		 * the bit is now set, so the next search moves past it. */
		start = (unsigned)port;
	}
}

bool portmap_hold(struct portmap *map, unsigned port)
{
	uint64_t old = atomic_fetch_or_explicit(&map->held[WORD(port)], BIT(port),
						memory_order_acq_rel);
	return !(old & BIT(port));
}

void portmap_release(struct portmap *map, unsigned port)
{
	atomic_fetch_and_explicit(&map->held[WORD(port)], ~BIT(port), memory_order_release);
}

bool portmap_is_held(const struct portmap *map, unsigned port)
{
	return atomic_load_explicit(&map->held[WORD(port)], memory_order_relaxed) & BIT(port);
}

void portmap_refuse(struct portmap *map, unsigned port)
{
	atomic_fetch_or_explicit(&map->refused[WORD(port)], BIT(port), memory_order_relaxed);
}

void portmap_forgive(struct portmap *map, const struct portset *allowed)
{
	if (allowed->count == 0)
		return;
	for (unsigned w = WORD(allowed->first); w <= WORD(allowed->last); w++)
		if (allowed->bits[w])
			atomic_fetch_and_explicit(&map->refused[w], ~allowed->bits[w],
						  memory_order_relaxed);
}
