/* A counter-based generator: value n is a pure function of (seed, n), so a
 * seeded run is reproducible, and drawing is one atomic add - safe from any
 * thread, in a signal handler and after fork().
 *
 * Every child of fork() gets a stream of its own.  A copy of the parent's
 * would hand siblings forked one after another the same ports, call by call
 * (a pre-forked server's worker i then needs i + 1 attempts per connect).
 * Two ways in:
 *   - fork() runs the library's atfork handlers (init.c): the parent numbers
 *     its children (rng_count_fork), the child reseeds (rng_child) from the
 *     parent's seed, position and its number under PORTSHIM_SEED, else from
 *     fresh entropy;
 *   - a child that ran no handler (raw clone(), glibc's _Fork()) finds its
 *     wipe-on-fork byte zeroed at its next draw and takes fresh entropy.
 * A vfork() or CLONE_VM child shares the parent's memory, counter included:
 * its draws are the parent's next ones, never the same. */
#ifndef PORTSHIM_RNG_H
#define PORTSHIM_RNG_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "forkwipe.h"
#include "mix.h"
#include "sysraw.h"

struct rng {
	uint64_t seed;
	_Atomic uint64_t counter;
	/* Set by rng_track_forks() in the library; zero elsewhere. */
	bool fixed;                    /* PORTSHIM_SEED: children derive their seed */
	_Atomic uint64_t forks;        /* children this process has numbered */
	struct forkwipe *wipe;         /* its `armed` is 0 in an unseen child */
};

/* A seed nobody chose: getrandom(), or the clock and the pid where it has
 * nothing to give yet.  Async-signal-safe (system calls only). */
static inline uint64_t rng_fresh_seed(void)
{
	uint64_t seed;
	struct timespec ts;

	if (sys_getrandom(&seed, sizeof(seed), GRND_NONBLOCK) == (ssize_t)sizeof(seed))
		return seed;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return rng_mix((uint64_t)ts.tv_nsec ^ ((uint64_t)ts.tv_sec << 32) ^ (uint64_t)getpid());
}

/* A new stream on its own: no fork tracking. */
static inline void rng_seed(struct rng *rng, uint64_t seed)
{
	*rng = (struct rng){ .seed = seed };
}

/* Restarts the stream at `seed`, keeping the fork tracking; the process has
 * numbered no children of its own yet. */
static inline void rng_restart(struct rng *rng, uint64_t seed)
{
	rng->seed = seed;
	atomic_store_explicit(&rng->counter, 0, memory_order_relaxed);
	atomic_store_explicit(&rng->forks, 0, memory_order_relaxed);
	if (rng->wipe)
		atomic_store_explicit(&rng->wipe->armed, 1, memory_order_relaxed);
}

/* A child nobody told us about: fresh entropy, seeded or not (its parent
 * never numbered it, so siblings cannot be told apart otherwise).  The
 * compare-and-swap keeps a signal handler in the child from reseeding
 * twice; it draws from whichever seed is there meanwhile. */
static __attribute__((noinline, cold)) void rng_unseen_child(struct rng *rng)
{
	unsigned char zero = 0;

	if (atomic_compare_exchange_strong(&rng->wipe->armed, &zero, 2))
		rng_restart(rng, rng_fresh_seed());
}

/* True once, in a child nobody told us about, after reseeding it. */
static inline bool rng_unseen(struct rng *rng)
{
	if (!rng->wipe || atomic_load_explicit(&rng->wipe->armed, memory_order_relaxed))
		return false;
	rng_unseen_child(rng);
	return true;
}

static inline uint64_t rng_next(struct rng *rng)
{
	rng_unseen(rng);
	uint64_t n = atomic_fetch_add_explicit(&rng->counter, 1, memory_order_relaxed);
	return rng_mix(rng->seed ^ rng_mix(n));
}

/* Uniform in [0, bound), bound > 0 (Lemire's multiply-shift; the bias is
 * below 2^-32 for the bounds used here, all under 2^16). */
static inline uint32_t rng_below(struct rng *rng, uint32_t bound)
{
	return (uint32_t)(((rng_next(rng) >> 32) * (uint64_t)bound) >> 32);
}

/* Once, in the library's set-up: `fixed` when the seed was given; `wipe`
 * the fork-wiped page (NULL before Linux 4.14, where only fork()s that run
 * the atfork handlers are seen). */
static inline void rng_track_forks(struct rng *rng, bool fixed, struct forkwipe *wipe)
{
	rng->fixed = fixed;
	rng->wipe = wipe;
	if (wipe)
		atomic_store_explicit(&wipe->armed, 1, memory_order_relaxed);
}

/* In the parent, just before fork(): the number of the child to come. */
static inline uint64_t rng_count_fork(struct rng *rng)
{
	return atomic_fetch_add_explicit(&rng->forks, 1, memory_order_relaxed) + 1u;
}

/* In the child of fork(), child number `child` of its parent: with a seed,
 * seed + position + which child, so the same program with the same seed
 * gets the same ports in every process; without one, fresh entropy. */
static inline void rng_child(struct rng *rng, uint64_t child)
{
	uint64_t n = atomic_load_explicit(&rng->counter, memory_order_relaxed);
	uint64_t seed = rng->fixed ? rng_mix(rng_mix(rng->seed ^ rng_mix(n ^ UINT64_C(0x636869c44))) ^
					    rng_mix(child ^ UINT64_C(0x736962)))
				   : rng_fresh_seed();
	rng_restart(rng, seed);
}

#endif
