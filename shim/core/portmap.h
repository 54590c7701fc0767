/* Port sets and the process-wide port bitmap.
 *
 * A portset is an immutable set of ports (the allowed ports of one policy
 * class: range, minus reserved ports, restricted to a residue class).  A
 * portmap is the mutable, lock-free state of this process: which ports it
 * holds and which ones the kernel recently refused.  Nothing here makes a
 * system call, allocates or locks, so it is safe in signal handlers, after
 * fork() and on the connect() path.
 */
#ifndef PORTSHIM_PORTMAP_H
#define PORTSHIM_PORTMAP_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#define PORTMAP_PORTS 65536u
#define PORTMAP_WORDS (PORTMAP_PORTS / 64u)

/* The counts come first and the bitmap last: a set built once touches only
 * its header and the words of its ports, so the pages of an idle process's
 * sets stay few (tests/bench/README.md, (d)). */
struct portset {
	uint32_t count;     /* number of ports in the set */
	uint16_t first;     /* lowest member (valid when count > 0) */
	uint16_t last;      /* highest member (valid when count > 0) */
	/* Members below word w, for the words between first and last; set
	 * by portset_index() once the set is complete. */
	uint16_t rank[PORTMAP_WORDS];
	uint64_t bits[PORTMAP_WORDS];
};

/* A set must start zeroed (static storage is) or from portset_clear();
 * after that these keep it consistent. */
void portset_clear(struct portset *set);
void portset_copy(struct portset *dst, const struct portset *src);
void portset_add_range(struct portset *set, unsigned lo, unsigned hi);
void portset_remove_set(struct portset *set, const struct portset *minus);
/* Keep only the ports with port % modulus == residue. */
void portset_keep_residue(struct portset *set, unsigned modulus, unsigned residue);
bool portset_has(const struct portset *set, unsigned port);

/* Makes portset_rank() and portset_select() work on a finished set (call
 * again after changing it). */
void portset_index(struct portset *set);
/* How many members are below `port`. */
uint32_t portset_rank(const struct portset *set, unsigned port);
/* The member with `k` members below it (k < count). */
unsigned portset_select(const struct portset *set, uint32_t k);

struct portmap {
	_Atomic uint64_t held[PORTMAP_WORDS];    /* ports this process holds */
	_Atomic uint64_t refused[PORTMAP_WORDS]; /* ports the kernel said were busy */
};

/* Search flags for portmap_find(). */
#define PORTMAP_SKIP_HELD    1u
#define PORTMAP_SKIP_REFUSED 2u

/* Where a search may look: ports lo..hi (an application's own
 * IP_LOCAL_PORT_RANGE narrows the allowed set this way). */
struct portwindow {
	uint16_t lo, hi;
};

/* The ports a socket's IP_LOCAL_PORT_RANGE value (hi << 16 | lo) allows,
 * as the kernel reads it: 0 in either half leaves that bound open. */
static inline struct portwindow port_range_window(uint32_t range)
{
	struct portwindow win = { 1, 65535 };

	if (range & 0xffffu)
		win.lo = (uint16_t)(range & 0xffffu);
	if (range >> 16)
		win.hi = (uint16_t)(range >> 16);
	return win;
}

/* The window that covers every member of `allowed`. */
struct portwindow portset_window(const struct portset *allowed);

/* First member of `allowed` inside `win` at or after `start`, wrapping
 * around once, that the flags do not exclude; -1 if there is none. */
int portmap_find(const struct portmap *map, const struct portset *allowed,
		 struct portwindow win, unsigned start, unsigned flags);

/* Like portmap_find(SKIP_HELD | SKIP_REFUSED), and atomically marks the port
 * held; two concurrent callers never claim the same port. */
int portmap_claim(struct portmap *map, const struct portset *allowed,
		  struct portwindow win, unsigned start);

/* Mark a port held without searching (a port applied by another path). */
bool portmap_hold(struct portmap *map, unsigned port);
void portmap_release(struct portmap *map, unsigned port);
bool portmap_is_held(const struct portmap *map, unsigned port);

/* The kernel refused `port` (in use by someone else): skip it until the
 * allowed set runs dry, then portmap_forgive() makes it a candidate again. */
void portmap_refuse(struct portmap *map, unsigned port);
void portmap_forgive(struct portmap *map, const struct portset *allowed);

#endif
