/* The supervised program's memory and sockets, from the supervisor: its
 * memory through process_vm_readv(), its sockets through pidfd_getfd()
 * (Linux 5.6), which duplicates a descriptor of another process the way
 * dup() does: one open file, so what the supervisor sets on it is set on
 * the program's socket. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include "supervisor.h"

bool target_read(const struct target_task *t, uint64_t addr, void *buf, size_t len)
{
	struct iovec local = { buf, len };
	struct iovec remote = { (void *)(uintptr_t)addr, len };

	return addr != 0 && process_vm_readv(t->tid, &local, 1, &remote, 1, 0) == (ssize_t)len;
}

pid_t target_tgid(struct target_task *t)
{
	char path[64], buf[512];

	if (t->tgid)
		return t->tgid;
	snprintf(path, sizeof(path), "/proc/%d/status", (int)t->tid);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n = fd >= 0 ? read(fd, buf, sizeof(buf) - 1) : -1;
	if (fd >= 0)
		close(fd);
	if (n > 0) {
		buf[n] = '\0';
		const char *line = strstr(buf, "\nTgid:");
		if (line)
			t->tgid = (pid_t)strtol(line + 6, NULL, 10);
	}
	if (!t->tgid)
		t->tgid = t->tid;
	return t->tgid;
}

/* A pidfd of the thread's process: the thread itself when it leads its
 * group (most calls: no /proc read), else its group's leader. */
static int process_pidfd(struct target_task *t)
{
	int pidfd = (int)syscall(SYS_pidfd_open, t->tid, 0);

	if (pidfd >= 0) {
		t->tgid = t->tid;
		return pidfd;
	}
	/* Not a leader: EINVAL, or ENOENT from kernels that look the pid up
	 * as a process (6.9+, without PIDFD_THREAD). */
	if ((errno != EINVAL && errno != ENOENT) || target_tgid(t) == t->tid)
		return -1;
	return (int)syscall(SYS_pidfd_open, t->tgid, 0);
}

bool target_socket(struct target_task *t, int fd, struct target_sock *s,
		   bool (*still_valid)(void *), void *arg)
{
	int pidfd = process_pidfd(t), domain = 0, type = 0, protocol = 0;
	socklen_t len = sizeof(int);

	if (pidfd < 0)
		return false;
	/* The pid named the thread that is waiting for us only while its
	 * notification is valid; checked after the pidfd pins the process. */
	s->fd = still_valid(arg) ? (int)syscall(SYS_pidfd_getfd, pidfd, fd, 0) : -1;
	close(pidfd);
	if (s->fd < 0)
		return false;
	s->app_fd = fd;
	if (getsockopt(s->fd, SOL_SOCKET, SO_DOMAIN, &domain, &len) != 0 ||
	    (domain != AF_INET && domain != AF_INET6) ||
	    getsockopt(s->fd, SOL_SOCKET, SO_TYPE, &type, &len) != 0 ||
	    getsockopt(s->fd, SOL_SOCKET, SO_PROTOCOL, &protocol, &len) != 0 ||
	    !((type == SOCK_STREAM && protocol == IPPROTO_TCP) ||
	      (type == SOCK_DGRAM && protocol == IPPROTO_UDP)))
		goto other;
	s->type = type;
	struct stat st;
	if (fstat(s->fd, &st) != 0)
		goto other;
	s->ino = (uint64_t)st.st_ino;
	return true;
other:
	close(s->fd);
	return false;
}

bool target_socket_unbound(struct target_sock *s)
{
	s->local_len = sizeof(s->local);
	if (getsockname(s->fd, (struct sockaddr *)&s->local, &s->local_len) != 0 ||
	    sockaddr_port(&s->local) != 0)
		return false;
	int flags = fcntl(s->fd, F_GETFL);
	s->nonblocking = flags >= 0 && (flags & O_NONBLOCK);
	return true;
}
