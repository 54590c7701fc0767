/* A counter-based generator: value n is a pure function of (seed, n), so a
 * seeded run is reproducible, and drawing is one atomic add - safe from any
 * thread, in a signal handler and after fork(). */
#ifndef PORTSHIM_RNG_H
#define PORTSHIM_RNG_H

#include <stdatomic.h>
#include <stdint.h>

struct rng {
	uint64_t seed;
	_Atomic uint64_t counter;
};

static inline uint64_t rng_mix(uint64_t x)
{
	/* splitmix64's finalizer: a bijection with good avalanche. */
	x += UINT64_C(0x9e3779b97f4a7c15);
	x = (x ^ (x >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
	x = (x ^ (x >> 27)) * UINT64_C(0x94d049bb133111eb);
	return x ^ (x >> 31);
}

static inline void rng_seed(struct rng *rng, uint64_t seed)
{
	rng->seed = seed;
	atomic_store_explicit(&rng->counter, 0, memory_order_relaxed);
}

static inline uint64_t rng_next(struct rng *rng)
{
	uint64_t n = atomic_fetch_add_explicit(&rng->counter, 1, memory_order_relaxed);
	return rng_mix(rng->seed ^ rng_mix(n));
}

/* Uniform in [0, bound), bound > 0 (Lemire's multiply-shift; the bias is
 * below 2^-32 for the bounds used here, all under 2^16). */
static inline uint32_t rng_below(struct rng *rng, uint32_t bound)
{
	return (uint32_t)(((rng_next(rng) >> 32) * (uint64_t)bound) >> 32);
}

/* A child of fork() gets its own deterministic stream, so parent and child
 * do not race for the same ports call by call. */
static inline void rng_fork_child(struct rng *rng)
{
	uint64_t n = atomic_load_explicit(&rng->counter, memory_order_relaxed);
	rng_seed(rng, rng_mix(rng->seed ^ rng_mix(n ^ UINT64_C(0x636869c44))));
}

#endif
