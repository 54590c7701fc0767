/* Setting the runtime up: once per process, from the library constructor or
 * from whichever hook runs first (another library's constructor may call
 * connect() before ours has run).  Bad settings end the process here,
 * before main(): an experiment that silently ran without the shim would be
 * worse than one that never started. */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <sys/auxv.h>
#include <unistd.h>

#include "init.h"
#include "real.h"
#include "userptr.h"
#include "symver.h"
#include "core/runtime.h"

/* The number the parent gave the child it is forking, per thread: two
 * threads forking at once must not hand both children the same one. */
static __thread uint64_t fork_number __attribute__((tls_model("initial-exec")));

/* Both run inside fork(), possibly called from a signal handler: atomics
 * and system calls only (rng.h). */
static void before_fork(void)
{
	fork_number = rng_count_fork(&portshim_runtime.rng);
}

static void after_fork_in_child(void)
{
	rng_child(&portshim_runtime.rng, fork_number);
	runtime_forked(&portshim_runtime, fork_number);
}

static pthread_once_t set_up = PTHREAD_ONCE_INIT;
/* This thread is setting the runtime up: a hook it re-enters (from a signal
 * handler, or from inside the set-up) must not wait for itself. */
static __thread volatile sig_atomic_t setting_up __attribute__((tls_model("initial-exec")));

static void set_up_once(void)
{
	char err[512];
	int saved = errno;

	setting_up = 1;
	real_bind_symbols();
	userptr_init();
	eventlog_init(&portshim_runtime.log.out);

	if (runtime_configure(&portshim_runtime, environ, getauxval(AT_SECURE) != 0, err,
			      sizeof(err)) != 0) {
		char line[600];
		int n = snprintf(line, sizeof(line), "portshim: %s\n", err);
		if (write(STDERR_FILENO, line, (size_t)n) < 0)
			_exit(PORTSHIM_EXIT_CONFIG);
		_exit(PORTSHIM_EXIT_CONFIG);
	}
	portshim_runtime.log.wipe = forkwipe_map();
	rng_track_forks(&portshim_runtime.rng, portshim_runtime.cfg.seed_set, portshim_runtime.log.wipe);
	pthread_atfork(before_fork, NULL, after_fork_in_child);
	setting_up = 0;
	errno = saved;
}

bool init_ready(void)
{
	if (setting_up)
		return false;
	pthread_once(&set_up, set_up_once);
	return true;
}

__attribute__((constructor)) static void portshim_load(void)
{
	init_ready();
}

__attribute__((destructor)) static void portshim_unload(void)
{
	stats_write(&portshim_runtime.log);
}
