/* notify_floor [-s] -- PROG ARGS...: runs PROG under a seccomp filter
 * that traps connect() to a listener in this process, which answers every
 * call SECCOMP_USER_NOTIF_FLAG_CONTINUE at once.  Nothing is read, decided
 * or applied: what this costs a connect is the floor of any supervisor
 * built on user notification (two context switches and the listener's
 * round trip), the baseline section (g) sets the seccomp backend against.
 * -s: with SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP (Linux 6.6), as the
 * supervisor sets it.  Exits with PROG's status. */
#include <errno.h>
#include <linux/seccomp.h>
#include <poll.h>
#include <pthread.h>
#include <seccomp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "uapi.h" /* shim/seccomp/: the supervisor's own definitions */

static void send_fd(int channel, int fd)
{
	char byte = 0, space[CMSG_SPACE(sizeof(int))];
	struct iovec iov = { &byte, 1 };
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1,
			      .msg_control = space, .msg_controllen = sizeof(space) };
	struct cmsghdr *c = CMSG_FIRSTHDR(&msg);

	c->cmsg_level = SOL_SOCKET;
	c->cmsg_type = SCM_RIGHTS;
	c->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(c), &fd, sizeof(int));
	if (sendmsg(channel, &msg, 0) != 1)
		_exit(126);
}

static int receive_fd(int channel)
{
	char byte, space[CMSG_SPACE(sizeof(int))];
	struct iovec iov = { &byte, 1 };
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1,
			      .msg_control = space, .msg_controllen = sizeof(space) };
	int fd = -1;

	if (recvmsg(channel, &msg, 0) == 1 && CMSG_FIRSTHDR(&msg))
		memcpy(&fd, CMSG_DATA(CMSG_FIRSTHDR(&msg)), sizeof(int));
	return fd;
}

static void *answer(void *arg)
{
	int listener = (int)(intptr_t)arg;
	struct seccomp_notif *req;
	struct seccomp_notif_resp *resp;

	if (seccomp_notify_alloc(&req, &resp) != 0)
		return NULL;
	for (;;) {
		memset(req, 0, sizeof(*req));
		if (seccomp_notify_receive(listener, req) != 0) {
			/* The caller went away (ENOENT), or the program ended:
			 * the listener has then hung up. */
			struct pollfd p = { listener, POLLIN, 0 };
			if (poll(&p, 1, -1) < 0 || (p.revents & POLLHUP))
				return NULL;
			continue;
		}
		memset(resp, 0, sizeof(*resp));
		resp->id = req->id;
		resp->flags = SECCOMP_USER_NOTIF_FLAG_CONTINUE;
		ioctl(listener, SECCOMP_IOCTL_NOTIF_SEND, resp);
	}
}

int main(int argc, char **argv)
{
	int pair[2], status, sync_wake = argc > 1 && strcmp(argv[1], "-s") == 0;

	argv += sync_wake;
	argc -= sync_wake;
	if (argc < 3 || strcmp(argv[1], "--") != 0) {
		fprintf(stderr, "usage: notify_floor [-s] -- PROG [ARGS...]\n");
		return 2;
	}
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pair) != 0)
		return 126;
	pid_t pid = fork();
	if (pid == 0) {
		scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_ALLOW);
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (!ctx || prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0 ||
		    seccomp_rule_add(ctx, SCMP_ACT_NOTIFY, SCMP_SYS(connect), 0) != 0 ||
		    seccomp_load(ctx) != 0)
			_exit(126);
		int listener = seccomp_notify_fd(ctx);
		send_fd(pair[1], listener);
		close(listener);
		execvp(argv[2], argv + 2);
		_exit(127);
	}
	close(pair[1]);
	int listener = receive_fd(pair[0]);
	pthread_t t;
	if (sync_wake && listener >= 0)
		ioctl(listener, SECCOMP_IOCTL_NOTIF_SET_FLAGS, SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP);
	if (listener < 0 || pthread_create(&t, NULL, answer, (void *)(intptr_t)listener) != 0) {
		kill(pid, SIGKILL);
		return 126;
	}
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return 126;
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}
