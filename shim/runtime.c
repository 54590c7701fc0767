/* See runtime.h. */
#include "runtime.h"

#include <stdio.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "kernel_ports.h"

struct runtime portshim_runtime;

static const struct portset *class_set(struct runtime *rt, struct port_class id)
{
	for (int i = 0; i < rt->nclasses; i++)
		if (rt->class_id[i].modulus == id.modulus && rt->class_id[i].residue == id.residue)
			return &rt->class_set[i];
	if (id.modulus == 1)
		return &rt->base;

	/* Two policies of at most two passes each: never more than four. */
	int i = rt->nclasses++;
	rt->class_id[i] = id;
	rt->class_set[i] = rt->base;
	portset_keep_residue(&rt->class_set[i], id.modulus, id.residue);
	return &rt->class_set[i];
}

static int build_plan(struct runtime *rt, struct plan *plan, const struct policy *policy,
		      const char *key, char *err, size_t errlen)
{
	struct port_class passes[2];
	uint32_t usable = 0;

	memset(plan, 0, sizeof(*plan));
	plan->policy = *policy;
	policy_format(policy, plan->name, sizeof(plan->name));
	plan->npasses = policy_passes(policy, passes);
	for (int i = 0; i < plan->npasses; i++) {
		plan->pass[i] = class_set(rt, passes[i]);
		plan->cursor[i] = plan->pass[i]->first;
		usable += plan->pass[i]->count;
	}
	if (plan->npasses > 0 && usable == 0) {
		char name[64], text[32];
		config_env_name(key, name, sizeof(name));
		policy_format(policy, text, sizeof(text));
		snprintf(err, errlen, "%s='%s': no port in the range %u-%u (less reserved ports) satisfies it",
			 name, text, rt->range_lo, rt->range_hi);
		return -1;
	}
	return 0;
}

static uint64_t fresh_seed(void)
{
	uint64_t seed;
	struct timespec ts;

	if (getrandom(&seed, sizeof(seed), GRND_NONBLOCK) == (ssize_t)sizeof(seed))
		return seed;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return rng_mix((uint64_t)ts.tv_nsec ^ ((uint64_t)ts.tv_sec << 32) ^ (uint64_t)getpid());
}

int runtime_configure(struct runtime *rt, char *const *envp, char *err, size_t errlen)
{
	struct config *cfg = &rt->cfg;

	config_init(cfg);
	if (config_from_environ(cfg, envp, err, errlen) != 0)
		return -1;
	config_finish(cfg);

	if (cfg->range_set) {
		rt->range_lo = cfg->range_lo;
		rt->range_hi = cfg->range_hi;
	} else {
		kernel_port_range(&rt->range_lo, &rt->range_hi);
	}
	portset_clear(&rt->base);
	portset_add_range(&rt->base, rt->range_lo, rt->range_hi);
	if (cfg->reserved_set) {
		portset_remove_set(&rt->base, &cfg->reserved);
	} else {
		/* The reserved set is only needed here: borrow the config's. */
		portset_clear(&cfg->reserved);
		if (kernel_reserved_ports(&cfg->reserved) == 0)
			portset_remove_set(&rt->base, &cfg->reserved);
	}

	rt->nclasses = 0;
	if (build_plan(rt, &rt->connect, &cfg->connect, cfg->connect_set ? "connect" : "parity",
		       err, errlen) != 0 ||
	    build_plan(rt, &rt->bind, &cfg->bind, cfg->bind_set ? "bind" : "parity",
		       err, errlen) != 0)
		return -1;

	rng_seed(&rt->rng, cfg->seed_set ? cfg->seed : fresh_seed());
	rt->strategy = cfg->strategy;
	return 0;
}

unsigned plan_start(struct runtime *rt, struct plan *plan, int pass)
{
	const struct portset *set = plan->pass[pass];

	if (rt->cfg.order == ORDER_SEQUENTIAL)
		return atomic_load_explicit(&plan->cursor[pass], memory_order_relaxed);
	return set->first + rng_below(&rt->rng, (uint32_t)(set->last - set->first) + 1u);
}

void plan_taken(struct runtime *rt, struct plan *plan, int pass, unsigned port)
{
	if (rt->cfg.order == ORDER_SEQUENTIAL)
		atomic_store_explicit(&plan->cursor[pass], port + 1u, memory_order_relaxed);
}
