/* The BPF backend, as the portshim command uses it (backend.h has its
 * parts).  Built where clang, bpftool and libbpf are present; elsewhere
 * absent.c says so. */
#ifndef PORTSHIM_BPFCMD_H
#define PORTSHIM_BPFCMD_H

#include <stdbool.h>
#include <stddef.h>

#include "core/runtime.h"

/* NULL when the backend works here with rt's settings (its program is
 * loaded and unloaded to find out); else what it needs, in buf. */
const char *bpf_missing(struct runtime *rt, char *buf, size_t size);

/* portshim --backend bpf -- argv: the exit status. */
int bpf_run(struct runtime *rt, const char *cgroup_parent, char **argv);

#endif
