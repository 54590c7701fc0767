/* The shim's process-wide state: settings, the port sets they allow, the
 * bitmap, the descriptor table and the random stream.  Set up once (in the
 * constructor, or by the first hook that runs earlier); read-only after
 * that except for the atomics inside. */
#ifndef PORTSHIM_RUNTIME_H
#define PORTSHIM_RUNTIME_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "config.h"
#include "emulate.h"
#include "eventlog.h"
#include "policy.h"
#include "portmap.h"
#include "rng.h"
#include "walkslots.h"

/* Plans a switch of the control file (control.h) may publish: append-only,
 * never freed or rewritten (a thread may still be choosing ports from one
 * it loaded before a switch). */
#define CONTROL_PLANS 16

/* What control.c keeps of the control file between its checks. */
struct control_state {
	_Atomic int64_t checked;   /* CLOCK_MONOTONIC_COARSE second of the last check */
	atomic_flag busy;          /* a thread is checking: the others do not wait */
	/* The file as last seen (a change of any of these is a change). */
	dev_t dev;
	ino_t ino;
	off_t size;
	int64_t mtime_sec, mtime_nsec, ctime_sec, ctime_nsec;
	bool seen, missing;
};

/* Exit status of a program whose PORTSHIM_* settings are invalid. */
#define PORTSHIM_EXIT_CONFIG 125

/* One policy for one kind of call, resolved into port sets. */
struct plan {
	struct policy policy;
	char name[24];              /* the policy as the log spells it */
	bool for_bind;              /* bind(0) rather than connect() */
	int npasses;
	const struct portset *pass[2];
	_Atomic unsigned cursor[2]; /* ORDER_SEQUENTIAL: where the next scan starts */
	/* The emulations: every port of the range (step-1 eras, UDP), and how
	 * many ports the kernel's step-2 scan cycles over. */
	const struct portset *every;
	unsigned rem;
};

/* A residue class of the range: the ports p with p % modulus == residue. */
struct class_key {
	uint16_t modulus, residue;
};

#define RUNTIME_MAX_CLASSES 24

/* The fields every process writes at set-up or reads on each call come
 * first, the config's own small fields right after them (config.h): they
 * share a page or two.  The large tables follow, each touched only where a
 * process uses it (tests/bench/README.md, (d)). */
struct runtime {
	unsigned range_lo, range_hi;   /* the shim's range */
	unsigned kernel_lo, kernel_hi; /* the namespace's ip_local_port_range */
	enum strategy strategy;
	int nclasses;
	struct class_key class_id[RUNTIME_MAX_CLASSES];
	struct plan connect, bind;
	struct rng rng;
	struct eventlog log;
	/* The per-destination walk counters (walkslots.h).  Without a seed
	 * the table is a mapping shared with the processes fork()ed from this
	 * one, so that the workers of a pre-forking server walk one sequence
	 * per destination, as the kernel's own table serves every process;
	 * with a seed each process walks on its own (walk_private), from its
	 * own stream, so that every process's ports repeat run after run. */
	_Atomic uint64_t *walk;
	/* With a seed: where this process's walks stand on the circle of the
	 * allowed set (a fraction, 32-bit fixed point), apart from its
	 * parent's and its siblings'. */
	_Atomic uint32_t walk_phase;
	/* PORTSHIM_CONTROL (control.c): the plans in force when a control file
	 * switched them (NULL: connect and bind above), from the pool. */
	_Atomic(struct plan *) connect_now, bind_now;
	int npool;
	struct control_state control;
	struct config cfg;
	struct portset base; /* range minus reserved ports */
	struct emulator emu; /* its header shares base's last page */
	struct plan rule_plan[RULES_MAX]; /* one per PORTSHIM_RULES entry */
	struct plan pool[CONTROL_PLANS];
	struct portset class_set[RUNTIME_MAX_CLASSES];
	struct portmap map;
	_Atomic uint64_t walk_private[WALK_SLOTS];
};

extern struct runtime portshim_runtime;

/* Builds a runtime from an environment array.  Pure apart from reading the
 * kernel's port files (and PORTSHIM_CONFIG) when the settings ask for them.
 * `secure`: a setuid/setgid process (see config_init()).  0, or -1 with a
 * one-line message in err. */
int runtime_configure(struct runtime *rt, char *const *envp, bool secure, char *err,
		      size_t errlen);
/* Gives back what runtime_configure() mapped (the shared walk table), for
 * a program that configures many runtimes (tests, fuzzers); the library and
 * the command keep theirs for the life of the process. */
void runtime_release(struct runtime *rt);

/* The plan of `policy` for connect() or bind() in the pool (control.c):
 * one already there, or a new one.  NULL with a message in err. */
struct plan *runtime_pool_plan(struct runtime *rt, const struct policy *policy, bool for_bind,
			       char *err, size_t errlen);

/* The ports strategy `range` can apply to a socket whose own
 * IP_LOCAL_PORT_RANGE is `app_range`: a per-socket range only narrows the
 * namespace's (the kernel ignores a bound outside it). */
static inline struct portwindow runtime_range_window(const struct runtime *rt, uint32_t app_range)
{
	struct portwindow win = port_range_window(app_range);

	if (win.lo < rt->kernel_lo)
		win.lo = (uint16_t)rt->kernel_lo;
	if (win.hi > rt->kernel_hi)
		win.hi = (uint16_t)rt->kernel_hi;
	return win;
}

/* Is anything recording decisions (PORTSHIM_LOG or PORTSHIM_STATS)? */
static inline bool runtime_observing(const struct runtime *rt)
{
	return rt->cfg.log[0] || rt->cfg.stats[0];
}

/* In the child of fork() number `child` of its parent (init.c). */
void runtime_forked(struct runtime *rt, uint64_t child);
/* The walk's phase (see struct runtime); a child made without the fork
 * handlers (a raw clone()) takes a random one at its first call. */
uint32_t runtime_walk_phase(struct runtime *rt);

/* No connect() plan can act (no rules; the default policy is off) and
 * nothing is recorded: a send or connect needs no look at its address. */
static inline bool runtime_connect_idle(const struct runtime *rt)
{
	return rt->cfg.rules.count == 0 && rt->connect.npasses == 0 && !runtime_observing(rt) &&
	       !rt->cfg.control[0];
}


#endif
