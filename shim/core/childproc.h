/* The command a backend of the portshim command runs as its child
 * (seccomp/run.c, bpf/run.c): the signals it passes on, and the status it
 * exits with. */
#ifndef PORTSHIM_CHILDPROC_H
#define PORTSHIM_CHILDPROC_H

#include <signal.h>

/* Blocks SIGINT, SIGTERM, SIGHUP and SIGQUIT (passed on to the child) and
 * SIGCHLD before the fork, so that none is lost before a signalfd of mask
 * reads them; the child restores `old` before it execs. */
void childproc_block_signals(sigset_t *mask, sigset_t *old);

/* The child's status as a shell reports it: its exit status, or 128 + the
 * signal that killed it. */
int childproc_exit_status(int status);

#endif
