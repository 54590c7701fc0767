/* The shim's process-wide state: settings, the port sets they allow, the
 * bitmap, the descriptor table and the random stream.  Set up once (in the
 * constructor, or by the first hook that runs earlier); read-only after
 * that except for the atomics inside. */
#ifndef PORTSHIM_RUNTIME_H
#define PORTSHIM_RUNTIME_H

#include <stdatomic.h>
#include <stdbool.h>

#include "config.h"
#include "eventlog.h"
#include "fdtable.h"
#include "policy.h"
#include "portmap.h"
#include "rng.h"

/* Exit status of a program whose PORTSHIM_* settings are invalid. */
#define PORTSHIM_EXIT_CONFIG 125

/* One policy, resolved into the port sets of its passes. */
struct plan {
	struct policy policy;
	char name[24];              /* the policy as the log spells it */
	int npasses;
	const struct portset *pass[2];
	_Atomic unsigned cursor[2]; /* ORDER_SEQUENTIAL: where the next scan starts */
};

#define RUNTIME_MAX_CLASSES 4

struct runtime {
	struct config cfg;
	unsigned range_lo, range_hi;
	struct portset base; /* range minus reserved ports */
	int nclasses;
	struct port_class class_id[RUNTIME_MAX_CLASSES];
	struct portset class_set[RUNTIME_MAX_CLASSES];
	struct plan connect, bind;
	enum strategy strategy;
	struct portmap map;
	struct fdtable fds;
	struct rng rng;
	struct stats stats;
};

extern struct runtime portshim_runtime;

/* Sets the runtime up on first use; exits the process on bad settings. */
void runtime_ensure(void);

/* Builds a runtime from an environment array.  Pure apart from reading the
 * kernel's port files when the settings do not override them.  0, or -1
 * with a one-line message in err. */
int runtime_configure(struct runtime *rt, char *const *envp, char *err, size_t errlen);

/* Is anything recording decisions (PORTSHIM_LOG or PORTSHIM_STATS)? */
static inline bool runtime_observing(const struct runtime *rt)
{
	return rt->cfg.log[0] || rt->cfg.stats[0];
}

/* Where a scan of pass `pass` of `plan` starts. */
unsigned plan_start(struct runtime *rt, struct plan *plan, int pass);
/* A port of that pass was taken: a sequential scan continues after it. */
void plan_taken(struct runtime *rt, struct plan *plan, int pass, unsigned port);

#endif
