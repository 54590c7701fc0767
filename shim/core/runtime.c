/* See runtime.h. */
#include "runtime.h"

#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "configure.h"
#include "kernel_ports.h"

struct runtime portshim_runtime;

static const struct portset *class_set(struct runtime *rt, struct class_key key)
{
	if (key.modulus == 1)
		return &rt->base;
	for (int i = 0; i < rt->nclasses; i++)
		if (memcmp(&rt->class_id[i], &key, sizeof(key)) == 0)
			return &rt->class_set[i];
	if (rt->nclasses == RUNTIME_MAX_CLASSES)
		return NULL;

	int i = rt->nclasses++;
	rt->class_id[i] = key;
	portset_copy(&rt->class_set[i], &rt->base);
	portset_keep_residue(&rt->class_set[i], key.modulus, key.residue);
	portset_index(&rt->class_set[i]);
	return &rt->class_set[i];
}

/* The passes of an emulation: the range's low parity, then the other;
 * bind() takes them the other way round.  The kernel's step-2 scan cycles
 * over an even count of ports (rem); which end of an odd-count range a
 * pass leaves out depends on where it starts (emulate_scan.c). */
static void emulation_passes(struct runtime *rt, struct plan *plan, struct class_key passes[2])
{
	unsigned lo = rt->range_lo, count = rt->range_hi - lo + 1u;

	plan->rem = count > 1 ? count & ~1u : count;
	struct class_key low = { 2, (uint16_t)(lo % 2) };
	struct class_key other = { 2, (uint16_t)((lo + 1) % 2) };
	passes[0] = plan->for_bind ? other : low;
	passes[1] = plan->for_bind ? low : other;
}

enum plan_error { PLAN_OK, PLAN_EMPTY, PLAN_TOO_MANY_CLASSES };

static enum plan_error build_plan(struct runtime *rt, struct plan *plan,
				  const struct policy *policy, bool for_bind)
{
	struct class_key keys[2];
	struct port_class classes[2];
	uint32_t usable = 0;

	memset(plan, 0, sizeof(*plan));
	plan->policy = *policy;
	plan->for_bind = for_bind;
	policy_format(policy, plan->name, sizeof(plan->name));
	if (POLICY_EMULATES(policy->kind)) {
		emulation_passes(rt, plan, keys);
		plan->npasses = 2;
		plan->every = &rt->base;
	} else {
		plan->npasses = policy_passes(policy, classes);
		for (int i = 0; i < plan->npasses; i++)
			keys[i] = (struct class_key){ classes[i].modulus, classes[i].residue };
	}
	for (int i = 0; i < plan->npasses; i++) {
		plan->pass[i] = class_set(rt, keys[i]);
		if (!plan->pass[i])
			return PLAN_TOO_MANY_CLASSES;
		plan->cursor[i] = plan->pass[i]->first;
		usable += plan->pass[i]->count;
	}
	return plan->npasses > 0 && usable == 0 ? PLAN_EMPTY : PLAN_OK;
}

/* The error of a plan that cannot work; `what` names the setting. */
static int plan_failed(const struct runtime *rt, enum plan_error error, const char *what,
		       char *err, size_t errlen)
{
	if (error == PLAN_TOO_MANY_CLASSES)
		snprintf(err, errlen, "%s: more than %d different port classes in all", what,
			 RUNTIME_MAX_CLASSES);
	else
		snprintf(err, errlen, "%s: no port in the range %u-%u (less reserved ports) "
				      "satisfies it", what, rt->range_lo, rt->range_hi);
	return -1;
}

/* "PORTSHIM_CONNECT='odd'": the setting that chose a plan's policy. */
static const char *policy_setting(const struct config *cfg, const struct plan *plan,
				  char *buf, size_t size)
{
	const char *name = plan->for_bind ? "PORTSHIM_BIND" : "PORTSHIM_CONNECT";

	if (!(plan->for_bind ? cfg->bind_set : cfg->connect_set) && cfg->parity_set)
		name = "PORTSHIM_PARITY";
	snprintf(buf, size, "%s='%s'%s", name, plan->name,
		 (plan->for_bind ? cfg->bind_set : cfg->connect_set) || cfg->parity_set
			 ? "" : " (the default)");
	return buf;
}

int runtime_configure(struct runtime *rt, char *const *envp, bool secure, char *err,
		      size_t errlen)
{
	struct config *cfg = &rt->cfg;

	config_init(cfg, secure);
	if (configure_load(cfg, envp, err, errlen) != 0)
		return -1;
	config_finish(cfg);
	rt->log.log = cfg->log;
	rt->log.summary = cfg->stats;

	kernel_port_range(&rt->kernel_lo, &rt->kernel_hi);
	rt->range_lo = cfg->range_set ? cfg->range_lo : rt->kernel_lo;
	rt->range_hi = cfg->range_set ? cfg->range_hi : rt->kernel_hi;
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
	portset_index(&rt->base);

	rt->nclasses = 0;
	enum plan_error error;
	char what[200];
	if ((error = build_plan(rt, &rt->connect, &cfg->connect, false)) != PLAN_OK)
		return plan_failed(rt, error, policy_setting(cfg, &rt->connect, what, sizeof(what)),
				   err, errlen);
	if ((error = build_plan(rt, &rt->bind, &cfg->bind, true)) != PLAN_OK)
		return plan_failed(rt, error, policy_setting(cfg, &rt->bind, what, sizeof(what)),
				   err, errlen);
	for (int i = 0; i < cfg->rules.count; i++) {
		if ((error = build_plan(rt, &rt->rule_plan[i], &cfg->rules.rule[i].policy,
					false)) != PLAN_OK) {
			char rule[160];
			rules_format_one(&cfg->rules.rule[i], rule, sizeof(rule));
			snprintf(what, sizeof(what), "PORTSHIM_RULES rule '%s'", rule);
			return plan_failed(rt, error, what, err, errlen);
		}
	}

	uint64_t seed = cfg->seed_set ? cfg->seed : rng_fresh_seed();
	struct timespec now;
	clock_gettime(CLOCK_MONOTONIC, &now);
	rng_seed(&rt->rng, seed);
	emulator_init(&rt->emu, rng_mix(seed ^ UINT64_C(0x6b65726e656c)),
		      cfg->seed_set ? now.tv_sec : 0);
	rt->strategy = cfg->strategy;
	rt->walk = cfg->seed_set ? MAP_FAILED
				 : mmap(NULL, sizeof(rt->walk_private), PROT_READ | PROT_WRITE,
					MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (rt->walk == MAP_FAILED)
		rt->walk = rt->walk_private;
	return 0;
}

void runtime_release(struct runtime *rt)
{
	if (rt->walk && rt->walk != rt->walk_private)
		munmap((void *)rt->walk, sizeof(rt->walk_private));
	rt->walk = rt->walk_private;
}

/* Only the thread that holds control.busy comes here: the pool and the
 * class sets grow, and nothing published is ever written again. */
struct plan *runtime_pool_plan(struct runtime *rt, const struct policy *policy, bool for_bind,
			       char *err, size_t errlen)
{
	struct plan *own = for_bind ? &rt->bind : &rt->connect;
	char name[sizeof(own->name)];

	policy_format(policy, name, sizeof(name));
	if (strcmp(own->name, name) == 0)
		return own;
	for (int i = 0; i < rt->npool; i++)
		if (rt->pool[i].for_bind == for_bind && strcmp(rt->pool[i].name, name) == 0)
			return &rt->pool[i];
	if (rt->npool == CONTROL_PLANS) {
		snprintf(err, errlen, "more than %d different policies switched to", CONTROL_PLANS);
		return NULL;
	}
	struct plan *plan = &rt->pool[rt->npool];
	enum plan_error error = build_plan(rt, plan, policy, for_bind);
	if (error != PLAN_OK) {
		plan_failed(rt, error, name, err, errlen);
		return NULL;
	}
	rt->npool++;
	return plan;
}

/* Bits reversed: children 1, 2, 3, 4... land at 1/2, 1/4, 3/4, 1/8... of
 * the circle, as far from each other as their number allows. */
static uint32_t reversed(uint32_t x)
{
	x = (x >> 1 & 0x55555555u) | (x & 0x55555555u) << 1;
	x = (x >> 2 & 0x33333333u) | (x & 0x33333333u) << 2;
	x = (x >> 4 & 0x0f0f0f0fu) | (x & 0x0f0f0f0fu) << 4;
	x = (x >> 8 & 0x00ff00ffu) | (x & 0x00ff00ffu) << 8;
	return x >> 16 | x << 16;
}

void runtime_forked(struct runtime *rt, uint64_t child)
{
	/* A thread of the parent that was checking the control file is not in
	 * the child: its claim must not outlive it. */
	atomic_flag_clear_explicit(&rt->control.busy, memory_order_relaxed);
	if (rt->cfg.seed_set)
		atomic_fetch_add_explicit(&rt->walk_phase, reversed((uint32_t)child),
					  memory_order_relaxed);
}

uint32_t runtime_walk_phase(struct runtime *rt)
{
	if (rng_unseen(&rt->rng))
		atomic_store_explicit(&rt->walk_phase, (uint32_t)rng_next(&rt->rng),
				      memory_order_relaxed);
	return atomic_load_explicit(&rt->walk_phase, memory_order_relaxed);
}
