/* A 64-bit mixing function, shared by the core and the BPF program
 * (shim/bpf/): no includes, so that both targets compile it as it is. */
#ifndef PORTSHIM_MIX_H
#define PORTSHIM_MIX_H

static inline unsigned long long rng_mix(unsigned long long x)
{
	/* splitmix64's finalizer: a bijection with good avalanche. */
	x += 0x9e3779b97f4a7c15ULL;
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
	return x ^ (x >> 31);
}

#endif
