/* The seccomp backend: the portshim command supervises the program it runs
 * through seccomp user notification, and decides its ports with the same
 * core as the library (portshim(1), BACKENDS).  What the command (shim/cli)
 * sees of it. */
#ifndef PORTSHIM_SECCOMP_H
#define PORTSHIM_SECCOMP_H

#include <stdbool.h>
#include <stddef.h>

#include "core/runtime.h"

/* What this kernel or container lacks for the supervisor, as one phrase
 * ("pidfd_getfd() (Linux 5.6): ENOSYS"), or NULL when nothing is missing.
 * `try_filter`: also install a notifying filter in a short-lived child
 * (what the run itself finds out when it starts the program). */
const char *seccomp_missing(bool try_filter, char *buf, size_t size);

/* Runs argv, with the environment envp, under the supervisor with the
 * decisions of rt; returns the exit status portshim exits with: the
 * program's own, 128 + the signal that killed it, or 125 (with one line
 * on stderr) when the backend cannot work here and nothing ran. */
int seccomp_run(struct runtime *rt, char **argv, char **envp);

#endif
