#include "childproc.h"

#include <sys/wait.h>

void childproc_block_signals(sigset_t *mask, sigset_t *old)
{
	static const int kept[] = { SIGTSTP, SIGTTIN, SIGTTOU, SIGCONT, SIGSEGV,
				    SIGBUS,  SIGFPE,  SIGILL,  SIGTRAP, SIGSYS };

	sigfillset(mask);
	for (unsigned i = 0; i < sizeof(kept) / sizeof(kept[0]); i++)
		sigdelset(mask, kept[i]);
	sigprocmask(SIG_BLOCK, mask, old);
}

bool childproc_passes_on(int signo, int code, pid_t sender, pid_t self)
{
	if (signo == SIGCHLD || code == SI_KERNEL)
		return false;
	return !(code == SI_USER && sender == self);
}

int childproc_exit_status(int status)
{
	return WIFSIGNALED(status) ? 128 + WTERMSIG(status) : WEXITSTATUS(status);
}
