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

static void test_block_signals(void)
{
	sigset_t mask, old, now;

	childproc_block_signals(&mask, &old);
	sigprocmask(SIG_SETMASK, NULL, &now);
	const int expected[] = { SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGCHLD };
	for (unsigned i = 0; i < sizeof(expected) / sizeof(expected[0]); i++)
		CHECK(sigismember(&mask, expected[i]) && sigismember(&now, expected[i]),
		      "signal %d blocked", expected[i]);
	CHECK(!sigismember(&mask, SIGUSR1), "SIGUSR1 left alone");
	sigprocmask(SIG_SETMASK, &old, NULL);
	sigprocmask(SIG_SETMASK, NULL, &now);
	CHECK(!sigismember(&now, SIGTERM), "the old mask back");
}

int main(void)
{
	RUN(test_exit_status);
	RUN(test_block_signals);
	return check_done();
}
