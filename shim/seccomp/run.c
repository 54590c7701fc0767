/* portshim --backend seccomp: the command runs in a child under the filter
 * (filter.c); this process stays its parent and serves the notifications
 * with worker threads (notify.c) until every process of the supervised
 * tree has exited.  The signals sent to it go on to the child
 * (core/childproc.h), and it exits with the child's status, or 128 + the
 * signal that killed it, as a shell reports it.
 *
 * If the supervisor dies, the kernel answers every trapped call of the
 * program with ENOSYS from then on (seccomp_unotify(2)): the program's
 * connects fail instead of going on without the policy. */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/childproc.h"
#include "seccomp.h"
#include "supervisor.h"

#define EXIT_CANNOT_RUN 125

/* The child: the filter, then the command.  A command that cannot be run
 * fails as execvpe() says, with the statuses of the preload wrapper. */
static _Noreturn void child(int channel, char **argv, char **envp, const sigset_t *old)
{
	char why[256];

	if (filter_install(channel, why, sizeof(why)) != 0)
		_exit(EXIT_CANNOT_RUN);
	close(channel);
	sigprocmask(SIG_SETMASK, old, NULL);
	execvpe(argv[0], argv, envp);
	int e = errno;
	fprintf(stderr, "portshim: cannot run %s: %s\n", argv[0], strerror(e));
	_exit(e == ENOENT ? 127 : 126);
}

/* Worker threads: the supervisor's calls never wait for the network
 * (answer.c), so more threads only serve more of the program's threads at
 * once. */
static int start_workers(int listener)
{
	long cpus = sysconf(_SC_NPROCESSORS_ONLN);
	int n = cpus < 2 ? 2 : cpus > 16 ? 16 : (int)cpus, started = 0;
	pthread_attr_t attr;

	pthread_attr_init(&attr);
	pthread_attr_setstacksize(&attr, 256 * 1024);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	for (int i = 0; i < n; i++) {
		pthread_t t;
		if (pthread_create(&t, &attr, notify_serve, (void *)(intptr_t)listener) == 0)
			started++;
	}
	pthread_attr_destroy(&attr);
	return started;
}

int seccomp_run(struct runtime *rt, char **argv, char **envp)
{
	char why[512];
	sigset_t mask, old;
	int sv[2];

	if (seccomp_missing(false, why, sizeof(why))) {
		fprintf(stderr, "portshim: the seccomp backend needs %s; nothing was run\n", why);
		return EXIT_CANNOT_RUN;
	}
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) != 0) {
		fprintf(stderr, "portshim: socketpair(): %s; nothing was run\n", strerror(errno));
		return EXIT_CANNOT_RUN;
	}
	childproc_block_signals(&mask, &old);
	fflush(NULL);
	pid_t pid = fork();
	if (pid == 0) {
		close(sv[0]);
		child(sv[1], argv, envp, &old);
	}
	close(sv[1]);
	int listener = pid > 0 ? filter_receive(sv[0], pid, why, sizeof(why)) : -1;
	close(sv[0]);
	if (listener < 0) {
		if (pid < 0)
			snprintf(why, sizeof(why), "fork(): %s", strerror(errno));
		fprintf(stderr, "portshim: the seccomp backend needs %s; nothing was run\n", why);
		while (pid > 0 && waitpid(pid, NULL, 0) < 0 && errno == EINTR)
			;
		return EXIT_CANNOT_RUN;
	}
	eventlog_init(&rt->log.out);
	listener_sync_wake(listener);
	if (start_workers(listener) == 0) {
		/* The child is past the filter: it must not run unserved. */
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
		fprintf(stderr, "portshim: cannot start the supervisor's threads; nothing was run\n");
		return EXIT_CANNOT_RUN;
	}

	int sfd = signalfd(-1, &mask, SFD_CLOEXEC);
	pid_t self = getpid();
	int status = 0;
	bool reaped = false, hung_up = false;
	while (!(reaped && hung_up)) {
		/* The listener hangs up when no process is left under the filter
		 * (events 0: only POLLHUP is of interest here). */
		struct pollfd p[2] = { { sfd, POLLIN, 0 }, { listener, 0, 0 } };
		if (poll(p, 2, -1) < 0 && errno != EINTR)
			break;
		if (p[1].revents & (POLLHUP | POLLERR))
			hung_up = true;
		if (!(p[0].revents & POLLIN))
			continue;
		struct signalfd_siginfo si;
		if (read(sfd, &si, sizeof(si)) != (ssize_t)sizeof(si))
			continue;
		if (si.ssi_signo != SIGCHLD) {
			if (!reaped &&
			    childproc_passes_on((int)si.ssi_signo, si.ssi_code, (pid_t)si.ssi_pid, self))
				kill(pid, (int)si.ssi_signo);
			continue;
		}
		if (!reaped && waitpid(pid, &status, WNOHANG) == pid)
			reaped = true;
	}
	stats_write_for(&rt->log, pid);
	return childproc_exit_status(status);
}
