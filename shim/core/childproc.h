/* The command a backend of the portshim command runs as its child
 * (seccomp/run.c, bpf/run.c): the signals it passes on, and the status it
 * exits with. */
#ifndef PORTSHIM_CHILDPROC_H
#define PORTSHIM_CHILDPROC_H

#include <signal.h>
#include <stdbool.h>
#include <sys/types.h>

/* Blocks, before the fork, every signal passed on to the child and
 * SIGCHLD, so that none is lost before a signalfd of mask reads them; the
 * child restores `old` before it execs.  Passed on: every signal that can
 * be caught but SIGCHLD, the job-control signals (SIGTSTP, SIGTTIN,
 * SIGTTOU, SIGCONT: this process stops and goes on with its child, as a
 * shell's job) and the faults a process raises on itself (SIGSEGV,
 * SIGBUS, SIGFPE, SIGILL, SIGTRAP, SIGSYS). */
void childproc_block_signals(sigset_t *mask, sigset_t *old);

/* Whether a signal read from the mask's signalfd goes on to the child:
 * not SIGCHLD, not one this process raised itself (a SIGPIPE or SIGXFSZ
 * of its own writes), and not one the terminal sent, which reached the
 * child too (it is in this process's group) and would arrive twice. */
bool childproc_passes_on(int signo, int code, pid_t sender, pid_t self);

/* The child's status as a shell reports it: its exit status, or 128 + the
 * signal that killed it. */
int childproc_exit_status(int status);

#endif
