/* See procid.h. */
#include "procid.h"

#include <stdint.h>

#include "sysraw.h"

/* pid << 32 | tid: one store, so a signal handler that interrupts the
 * update reads a whole pair or none. */
static __thread _Atomic uint64_t thread_ids __attribute__((tls_model("initial-exec")));

long procid_pid(struct forkwipe *wipe)
{
	if (!wipe)
		return (long)getpid();
	int pid = atomic_load_explicit(&wipe->pid, memory_order_relaxed);
	if (pid == 0) {
		pid = (int)getpid();
		atomic_store_explicit(&wipe->pid, pid, memory_order_relaxed);
	}
	return pid;
}

long procid_tid(struct forkwipe *wipe)
{
	if (!wipe)
		return sys_gettid();
	uint32_t pid = (uint32_t)procid_pid(wipe);
	uint64_t ids = atomic_load_explicit(&thread_ids, memory_order_relaxed);
	if ((uint32_t)(ids >> 32) == pid)
		return (long)(uint32_t)ids;
	uint32_t tid = (uint32_t)sys_gettid();
	atomic_store_explicit(&thread_ids, (uint64_t)pid << 32 | tid, memory_order_relaxed);
	return (long)tid;
}
