/* This process's id and the calling thread's, without a system call each
 * time: glibc caches neither (getpid() since 2.25, gettid()), and a log
 * line names both.
 *
 * The process id lives in the fork-wiped page (forkwipe.h), so every child,
 * however made, reads it afresh once.  The thread id lives in thread-local
 * storage beside the process id it was read under: a new thread starts with
 * zeroes, and the thread that forked finds its child's process id differs.
 * Without the page (before Linux 4.14) both are asked each time.  A thread
 * made by a raw clone() that shares its creator's thread-local storage (no
 * CLONE_SETTLS) reads its creator's thread id.  Async-signal-safe. */
#ifndef PORTSHIM_PROCID_H
#define PORTSHIM_PROCID_H

#include "forkwipe.h"

long procid_pid(struct forkwipe *wipe);
long procid_tid(struct forkwipe *wipe);

#endif
