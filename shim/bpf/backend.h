/* The BPF backend (shim/bpf/): the program (portshim.bpf.c) loaded and
 * configured from the core (load.c), attached to a cgroup (cgroup.c), its
 * events turned into the log's lines (events.c), and the command that runs
 * a program in a cgroup of its own under it (run.c). */
#ifndef PORTSHIM_BPF_BACKEND_H
#define PORTSHIM_BPF_BACKEND_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bpfcmd.h"
#include "bpfshared.h"
#include "core/runtime.h"

struct portshim_bpf;
struct ring_buffer;
struct bpf_link;

#define BPF_HOOKS 4 /* connect4, connect6, getsockopt, setsockopt */

struct bpf_backend {
	struct portshim_bpf *skel;
	struct ring_buffer *events;
	struct bpf_link *link[BPF_HOOKS];
	struct runtime *rt;
	struct bpf_settings settings; /* the ones in force */
	struct policy connect;        /* their default policy (the log names it) */
	__u64 start_netns;            /* the cookie of the namespace it was loaded in */
	bool kernel_netns;            /* the program reads a namespace not given from the kernel */
};

/* The hooks' names, as pinned (pin.c) and as bpftool shows them. */
extern const char *const bpf_hook_names[BPF_HOOKS];

/* load.c.  Can the settings be applied by the program?  0, or -1 with a
 * line in why (a policy it cannot apply). */
int bpf_settings_check(const struct runtime *rt, char *why, size_t len);
/* The program's settings for rt's (checked by bpf_settings_check()). */
void bpf_settings_fill(const struct runtime *rt, bool events, struct bpf_settings *s);
/* Loads the program with the settings of rt, for the network namespace
 * this process is in; `events`: someone will drain them (bpf_events_*).
 * 0, or -1 with what is missing in why. */
int bpf_backend_load(struct bpf_backend *b, struct runtime *rt, bool events, char *why,
		     size_t len);
/* Reads the network namespace at ns_path (/proc/PID/ns/net; NULL: this
 * thread's) for the program: its range, reserved ports and addresses.
 * 0, or -1 with why. */
int bpf_backend_add_netns(struct bpf_backend *b, const char *ns_path, char *why, size_t len);
/* Attaches each hook to the cgroup with a bpf_link (gone with this
 * process unless pinned).  0, or -1 with why. */
int bpf_backend_attach(struct bpf_backend *b, int cgroup_fd, char *why, size_t len);
void bpf_backend_close(struct bpf_backend *b);
/* Puts `connect` in force as the default policy (the control file):
 * written to the copy not in force, which then is.  0, or -1 with why. */
int bpf_backend_switch(struct bpf_backend *b, const struct policy *connect, char *why, size_t len);
/* What status calls each plan: "connect=odd", "rule 1: 10.0.0.0/8=even". */
void bpf_plan_names(const struct runtime *rt, char names[BPF_PLANS][64]);
/* The counters, summed over the CPUs: per plan, enum bpf_counter. */
void bpf_backend_counters(int counters_fd, uint64_t out[BPF_PLANS][BPF_COUNT_N]);

/* events.c.  Writes the events waiting in the ring buffer as log lines. */
int bpf_events_open(struct bpf_backend *b);
void bpf_events_drain(struct bpf_backend *b);

/* cgroup.c (cgroup_root() in bpfcmd.h).  This process's cgroup (v2), as a path under the mount point. */
int cgroup_own(const char *root, char out[PATH_MAX], char *why, size_t len);
/* Creates a new cgroup under parent (a path): 0 with its path, or -1. */
int cgroup_make(const char *parent, char out[PATH_MAX], char *why, size_t len);
/* Moves pid into the cgroup at path. */
int cgroup_enter(const char *path, long pid, char *why, size_t len);
/* Waits until no process is left in the cgroup, running `tick` every
 * interval_ms meanwhile; stops early when *stop becomes true. */
void cgroup_wait_empty(const char *path, int interval_ms, void (*tick)(void *), void *arg);
/* Removes the cgroup (empty), retrying while the last process is freed. */
int cgroup_remove(const char *path);


#endif
