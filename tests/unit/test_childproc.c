/* childproc.h: the status a backend exits with is the one a shell reports
 * for its child, and the signals it passes on are blocked, with SIGCHLD,
 * from the moment it calls childproc_block_signals(). */
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check.h"
#include "childproc.h"

/* The status of a child that exits with `code`, or kills itself with
 * signal `sig` (code < 0). */
static int status_of(int code, int sig)
{
	int status = 0;
	pid_t pid = fork();

	if (pid == 0) {
		if (code < 0) {
			signal(sig, SIG_DFL);
			raise(sig);
		}
		_exit(code < 0 ? 99 : code);
	}
	waitpid(pid, &status, 0);
	return status;
}

static void test_exit_status(void)
{
	CHECK(childproc_exit_status(status_of(0, 0)) == 0, "exit 0");
	CHECK(childproc_exit_status(status_of(7, 0)) == 7, "exit 7");
	CHECK(childproc_exit_status(status_of(-1, SIGTERM)) == 128 + SIGTERM, "SIGTERM");
	CHECK(childproc_exit_status(status_of(-1, SIGKILL)) == 128 + SIGKILL, "SIGKILL");
}

static void test_passes_on(void)
{
	CHECK(childproc_passes_on(SIGUSR1, SI_USER, 42, 7), "kill(2) from another process");
	CHECK(childproc_passes_on(SIGTERM, SI_QUEUE, 7, 7), "sigqueue(3), even its own");
	CHECK(!childproc_passes_on(SIGPIPE, SI_USER, 7, 7), "its own write's SIGPIPE");
	CHECK(!childproc_passes_on(SIGINT, SI_KERNEL, 0, 7), "the terminal's ^C");
	CHECK(!childproc_passes_on(SIGCHLD, CLD_EXITED, 42, 7), "SIGCHLD");
}

static void test_block_signals(void)
{
	sigset_t mask, old, now;

	childproc_block_signals(&mask, &old);
	sigprocmask(SIG_SETMASK, NULL, &now);
	const int expected[] = { SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2, SIGALRM,
				 SIGWINCH, SIGPIPE, SIGABRT, SIGRTMIN, SIGRTMAX, SIGCHLD };
	for (unsigned i = 0; i < sizeof(expected) / sizeof(expected[0]); i++)
		CHECK(sigismember(&mask, expected[i]) && sigismember(&now, expected[i]),
		      "signal %d blocked", expected[i]);
	const int kept[] = { SIGTSTP, SIGTTIN, SIGTTOU, SIGCONT, SIGSEGV, SIGBUS, SIGFPE, SIGILL };
	for (unsigned i = 0; i < sizeof(kept) / sizeof(kept[0]); i++)
		CHECK(!sigismember(&mask, kept[i]) && !sigismember(&now, kept[i]),
		      "signal %d left alone", kept[i]);
	sigprocmask(SIG_SETMASK, &old, NULL);
	sigprocmask(SIG_SETMASK, NULL, &now);
	CHECK(!sigismember(&now, SIGTERM), "the old mask back");
}

int main(void)
{
	RUN(test_exit_status);
	RUN(test_passes_on);
	RUN(test_block_signals);
	return check_done();
}
