/* portshim --backend bpf: the command runs in a cgroup made for it (under
 * this process's own, or --cgroup-parent) with the program attached by
 * bpf_links this process holds, so the attachment goes when it goes, even
 * by SIGKILL.  The child is moved in before it execs; this process drains
 * the events every 100 ms, passes signals on (core/childproc.h), and waits
 * until no process is left in the cgroup, then exits with the command's
 * status (or 128 + the signal that killed it). */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <unistd.h>

#include <bpf/libbpf.h>

#include "backend.h"
#include "core/childproc.h"
#include "bpfshared.h"
#include "portshim.skel.h"
#include "core/control.h"
#include "bpfcmd.h"

#define EXIT_CANNOT_RUN 125
#define DRAIN_MS 100

/* The child waits for the parent's byte (it is in the cgroup now), or for
 * the pipe to close (it failed: nothing runs). */
static _Noreturn void child(int go, char **argv, char **envp, const sigset_t *old)
{
	char byte;

	if (read(go, &byte, 1) != 1)
		_exit(EXIT_CANNOT_RUN);
	close(go);
	sigprocmask(SIG_SETMASK, old, NULL);
	execvpe(argv[0], argv, envp);
	int e = errno;
	fprintf(stderr, "portshim: cannot run %s: %s\n", argv[0], strerror(e));
	_exit(e == ENOENT ? 127 : 126);
}

static int refuse(const char *why)
{
	fprintf(stderr, "portshim: the bpf backend needs %s; nothing was run\n", why);
	return EXIT_CANNOT_RUN;
}

/* Every 100 ms: the events, and the control file's switch, if any. */
static void tick(void *arg)
{
	static const struct plan *in_force;
	struct bpf_backend *b = arg;
	char why[256];

	bpf_events_drain(b);
	if (!b->rt->cfg.control[0])
		return;
	const struct plan *now = control_default_connect_plan(b->rt);
	if (!in_force)
		in_force = &b->rt->connect;
	if (now == in_force)
		return;
	in_force = now;
	if (bpf_backend_switch(b, &now->policy, why, sizeof(why)) != 0)
		fprintf(stderr, "portshim: PORTSHIM_CONTROL: %s; the policy in force stays\n", why);
}

int bpf_run(struct runtime *rt, const char *cgroup_parent, char **argv, char **envp)
{
	static char root[PATH_MAX], parent[PATH_MAX], path[PATH_MAX];
	static struct bpf_backend b;
	char why[PATH_MAX + 512];
	sigset_t mask, old;
	int pipefd[2];

	if (cgroup_root(root, why, sizeof(why)) != 0)
		return refuse(why);
	if (cgroup_parent)
		snprintf(parent, sizeof(parent), "%s", cgroup_parent);
	else if (cgroup_own(root, parent, why, sizeof(why)) != 0)
		return refuse(why);
	/* Events on even without a log: they say which namespaces to read. */
	if (bpf_backend_load(&b, rt, true, why, sizeof(why)) != 0)
		return refuse(why);
	if (bpf_events_open(&b) != 0) {
		bpf_backend_close(&b);
		return refuse("a ring buffer for its events");
	}
	if (cgroup_make(parent, path, why, sizeof(why)) != 0) {
		bpf_backend_close(&b);
		return refuse(why);
	}
	int cg = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (cg < 0 || bpf_backend_attach(&b, cg, why, sizeof(why)) != 0) {
		if (cg < 0)
			snprintf(why, sizeof(why), "its cgroup %s (%s)", path, strerror(errno));
		bpf_backend_close(&b);
		cgroup_remove(path);
		return refuse(why);
	}
	close(cg);
	eventlog_init(&rt->log.out);

	if (pipe2(pipefd, O_CLOEXEC) != 0) {
		bpf_backend_close(&b);
		cgroup_remove(path);
		return refuse("a pipe");
	}
	childproc_block_signals(&mask, &old);
	fflush(NULL);
	pid_t pid = fork();
	if (pid == 0) {
		close(pipefd[1]);
		child(pipefd[0], argv, envp, &old);
	}
	close(pipefd[0]);
	if (pid < 0 || cgroup_enter(path, pid, why, sizeof(why)) != 0) {
		if (pid < 0)
			snprintf(why, sizeof(why), "fork() (%s)", strerror(errno));
		close(pipefd[1]); /* the child exits without running anything */
		while (pid > 0 && waitpid(pid, NULL, 0) < 0 && errno == EINTR)
			;
		bpf_backend_close(&b);
		cgroup_remove(path);
		return refuse(why);
	}
	tick(&b); /* the control file is read before the command's first connect */
	if (write(pipefd[1], "", 1) != 1) {
		close(pipefd[1]);
		bpf_backend_close(&b);
		cgroup_remove(path);
		return refuse("to start the command (a write to its pipe failed)");
	}
	close(pipefd[1]);

	int sfd = signalfd(-1, &mask, SFD_CLOEXEC);
	pid_t self = getpid();
	int status = 0;
	bool reaped = false;
	while (!reaped) {
		struct pollfd p = { sfd, POLLIN, 0 };
		int n = poll(&p, 1, DRAIN_MS);
		tick(&b);
		if (n <= 0 || !(p.revents & POLLIN))
			continue;
		struct signalfd_siginfo si;
		if (read(sfd, &si, sizeof(si)) != (ssize_t)sizeof(si))
			continue;
		if (si.ssi_signo != SIGCHLD) {
			if (childproc_passes_on((int)si.ssi_signo, si.ssi_code, (pid_t)si.ssi_pid, self))
				kill(pid, (int)si.ssi_signo);
			continue;
		}
		if (waitpid(pid, &status, WNOHANG) == pid)
			reaped = true;
	}
	/* What the command left running in its cgroup still gets the policy. */
	cgroup_wait_empty(path, DRAIN_MS, tick, &b);
	bpf_events_drain(&b);
	static uint64_t counts[BPF_PLANS][BPF_COUNT_N];
	uint64_t dropped = 0;
	bpf_backend_counters(bpf_map__fd(b.skel->maps.counters), counts);
	for (int i = 0; i < BPF_PLANS; i++)
		dropped += counts[i][BPF_COUNT_DROPPED];
	if (dropped && runtime_observing(rt))
		fprintf(stderr, "portshim: %llu decisions are missing from the log: the program's ring "
			"buffer was full\n", (unsigned long long)dropped);
	bpf_backend_close(&b);
	cgroup_remove(path);
	stats_write_for(&rt->log, pid);
	return childproc_exit_status(status);
}
