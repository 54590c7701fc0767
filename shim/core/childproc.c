#include "childproc.h"

#include <sys/wait.h>

void childproc_block_signals(sigset_t *mask, sigset_t *old)
{
	static const int forwarded[] = { SIGINT, SIGTERM, SIGHUP, SIGQUIT };

	sigemptyset(mask);
	for (unsigned i = 0; i < sizeof(forwarded) / sizeof(forwarded[0]); i++)
		sigaddset(mask, forwarded[i]);
	sigaddset(mask, SIGCHLD);
	sigprocmask(SIG_BLOCK, mask, old);
}

int childproc_exit_status(int status)
{
	return WIFSIGNALED(status) ? 128 + WTERMSIG(status) : WEXITSTATUS(status);
}
