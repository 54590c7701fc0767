/* The BPF backend, as the portshim command uses it (backend.h has its
 * parts).  Built where clang, bpftool and libbpf are present; elsewhere
 * absent.c says so. */
#ifndef PORTSHIM_BPFCMD_H
#define PORTSHIM_BPFCMD_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>

#include "core/runtime.h"

/* cgroup.c.  The cgroup v2 hierarchy's mount point, or -1 with why. */
int cgroup_root(char out[PATH_MAX], char *why, size_t len);

/* NULL when the backend works here with rt's settings (its program is
 * loaded and unloaded to find out), and in *kernel_netns whether it reads
 * a network namespace made after it from the kernel; else what it needs,
 * in buf. */
const char *bpf_missing(struct runtime *rt, bool *kernel_netns, char *buf, size_t size);

/* portshim --backend bpf -- argv, run with the environment envp: the exit
 * status. */
int bpf_run(struct runtime *rt, const char *cgroup_parent, char **argv, char **envp);

/* portshim attach: the program attached to the cgroup (a path) with
 * pinned links, which outlive this process; `settings` describes them for
 * status.  The range and addresses are the current network namespace's.
 * A cgroup already attached takes the new settings instead (*switched).
 * 0, or -1 with what is missing in why. */
int bpf_attach_pinned(struct runtime *rt, const char *cgroup, const char *settings, bool *switched,
		      char *why, size_t len);
/* portshim detach: takes the attachment off the cgroup. */
int bpf_detach_pinned(const char *cgroup, char *why, size_t len);
/* portshim status: every attachment, with its settings and counters;
 * returns how many. */
int bpf_status_print(void);

#endif
