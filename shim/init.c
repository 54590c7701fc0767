/* Setting the runtime up: once per process, from the library constructor or
 * from whichever hook runs first (another library's constructor may call
 * connect() before ours has run).  Bad settings end the process here,
 * before main(): an experiment that silently ran without the shim would be
 * worse than one that never started. */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <sys/auxv.h>
#include <unistd.h>

#include "runtime.h"

static void after_fork_in_child(void)
{
	rng_fork_child(&portshim_runtime.rng);
}

static pthread_once_t set_up = PTHREAD_ONCE_INIT;

static void set_up_once(void)
{
	char err[512];
	int saved = errno;

	if (runtime_configure(&portshim_runtime, environ, getauxval(AT_SECURE) != 0, err,
			      sizeof(err)) != 0) {
		char line[600];
		int n = snprintf(line, sizeof(line), "portshim: %s\n", err);
		if (write(STDERR_FILENO, line, (size_t)n) < 0)
			_exit(PORTSHIM_EXIT_CONFIG);
		_exit(PORTSHIM_EXIT_CONFIG);
	}
	pthread_atfork(NULL, NULL, after_fork_in_child);
	errno = saved;
}

void runtime_ensure(void)
{
	pthread_once(&set_up, set_up_once);
}

__attribute__((constructor)) static void portshim_load(void)
{
	runtime_ensure();
}

__attribute__((destructor)) static void portshim_unload(void)
{
	stats_write(&portshim_runtime);
}
