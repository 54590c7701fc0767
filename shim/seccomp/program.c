/* The supervised program's memory and sockets, from the supervisor: its
 * memory through process_vm_readv(), its sockets through pidfd_getfd()
 * (Linux 5.6), which duplicates a descriptor of another process the way
 * dup() does: one open file, so what the supervisor sets on it is set on
 * the program's socket. */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include "supervisor.h"

bool program_read(const struct program_task *t, uint64_t addr, void *buf, size_t len)
{
	struct iovec local = { buf, len };
	struct iovec remote = { (void *)(uintptr_t)addr, len };

	return addr != 0 && process_vm_readv(t->tid, &local, 1, &remote, 1, 0) == (ssize_t)len;
}

/* The pidfds each supervisor thread keeps for the threads that call (or,
 * before Linux 6.9, for processes whose leader calls), so that a connect
 * costs no pidfd_open().  A pidfd names one task for good: once the task
 * has gone, pidfd_getfd() on it fails with ESRCH and the entry is opened
 * again, so a pid that was recycled never reaches another task's files.
 * Per thread, so no entry is closed while another thread uses it. */
#define KEPT_PIDFDS 32
static __thread struct kept_pidfd {
	pid_t tid;   /* 0: empty */
	pid_t tgid;  /* 0 until known */
	int pidfd;
} kept[KEPT_PIDFDS];

static struct kept_pidfd *kept_slot(pid_t tid)
{
	return &kept[(unsigned)tid % KEPT_PIDFDS];
}

static void forget(struct kept_pidfd *k)
{
	if (k->tid)
		close(k->pidfd);
	k->tid = 0;
}

bool program_write(const struct program_task *t, uint64_t addr, const void *buf, size_t len)
{
	struct iovec local = { (void *)buf, len };
	struct iovec remote = { (void *)(uintptr_t)addr, len };

	return len == 0 || (addr != 0 &&
			    process_vm_writev(t->tid, &local, 1, &remote, 1, 0) == (ssize_t)len);
}

pid_t program_tgid(struct program_task *t)
{
	char path[64], buf[512];

	if (t->tgid)
		return t->tgid;
	if (kept_slot(t->tid)->tid == t->tid && kept_slot(t->tid)->tgid)
		return t->tgid = kept_slot(t->tid)->tgid;
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
	struct kept_pidfd *k = kept_slot(t->tid);
	if (k->tid == t->tid)
		k->tgid = t->tgid; /* for the thread's next calls */
	return t->tgid;
}

/* Does the kernel make pidfds of threads?  Asked once, of the supervisor's
 * own thread: a call's EINVAL can also mean its task is already gone. */
static bool has_thread_pidfds;
static pthread_once_t thread_pidfds_once = PTHREAD_ONCE_INIT;

static void probe_thread_pidfds(void)
{
	int pidfd = (int)syscall(SYS_pidfd_open, (pid_t)syscall(SYS_gettid), PIDFD_THREAD);

	has_thread_pidfds = pidfd >= 0;
	if (pidfd >= 0)
		close(pidfd);
}

/* A pidfd of the thread's process, opened now: the thread itself when the
 * kernel has thread pidfds, else its process (the thread when it leads its
 * group, else the group's leader, its pid read from /proc). */
static int open_pidfd(struct program_task *t, bool *per_thread)
{
	int pidfd;

	pthread_once(&thread_pidfds_once, probe_thread_pidfds);
	*per_thread = has_thread_pidfds;
	if (has_thread_pidfds)
		return (int)syscall(SYS_pidfd_open, t->tid, PIDFD_THREAD);
	pidfd = (int)syscall(SYS_pidfd_open, t->tid, 0);
	if (pidfd >= 0) {
		t->tgid = t->tid;
		return pidfd;
	}
	/* Not a leader: EINVAL, or ENOENT from kernels that look the pid up
	 * as a process (6.9+, without PIDFD_THREAD). */
	if ((errno != EINVAL && errno != ENOENT) || program_tgid(t) == t->tid)
		return -1;
	return (int)syscall(SYS_pidfd_open, t->tgid, 0);
}

/* The program's descriptor fd, duplicated with the thread's pidfd (kept,
 * or opened now), once still_valid() says the thread is still the one
 * waiting.  -1 on failure. */
static int take_fd(struct program_task *t, int fd, bool (*still_valid)(void *), void *arg)
{
	struct kept_pidfd *k = kept_slot(t->tid);
	bool per_thread;

	if (k->tid == t->tid) {
		/* This pidfd was opened for a task with the caller's pid, before
		 * the call; while that task lives no other has its pid, so if
		 * getfd works, the task is the caller.  Whether the call is
		 * still waiting needs asking only where a signal can still end
		 * the wait once we have taken it (filter.c). */
		if (!filter_wait_killable && !still_valid(arg))
			return -1;
		int dup = (int)syscall(SYS_pidfd_getfd, k->pidfd, fd, 0);
		if (dup >= 0) {
			t->tgid = k->tgid;
			return dup;
		}
		if (errno != ESRCH)
			return -1;
		forget(k); /* the task this pidfd named has gone */
	}
	int pidfd = open_pidfd(t, &per_thread);
	if (pidfd < 0)
		return -1;
	/* The pid named the thread that is waiting for us only while its
	 * notification is valid; checked after the pidfd pins the task. */
	int dup = still_valid(arg) ? (int)syscall(SYS_pidfd_getfd, pidfd, fd, 0) : -1;
	if (dup >= 0 && (per_thread || t->tgid == t->tid)) {
		forget(k);
		*k = (struct kept_pidfd){ t->tid, t->tgid, pidfd };
	} else {
		close(pidfd);
	}
	return dup;
}

bool program_socket(struct program_task *t, int fd, struct program_sock *s,
		   bool (*still_valid)(void *), void *arg)
{
	int protocol = 0;
	socklen_t len = sizeof(protocol);

	s->fd = take_fd(t, fd, still_valid, arg);
	if (s->fd < 0)
		return false;
	s->app_fd = fd;
	s->ino = 0;
	s->flags = -1;
	s->nonblocking = false;
	/* TCP or UDP, from the protocol alone: the other sockets that carry
	 * one of those numbers are raw ones, which always show a port (the
	 * protocol's number: program_socket_unbound() leaves them alone), and
	 * packet ones, of another family.  The family comes with
	 * getsockname(), in program_socket_unbound(). */
	if (getsockopt(s->fd, SOL_SOCKET, SO_PROTOCOL, &protocol, &len) != 0 ||
	    (protocol != IPPROTO_TCP && protocol != IPPROTO_UDP)) {
		close(s->fd);
		return false;
	}
	s->type = protocol == IPPROTO_TCP ? SOCK_STREAM : SOCK_DGRAM;
	return true;
}

uint64_t program_socket_ino(struct program_sock *s)
{
	struct stat st;

	if (s->ino == 0 && fstat(s->fd, &st) == 0)
		s->ino = (uint64_t)st.st_ino;
	return s->ino;
}

void program_socket_flags(struct program_sock *s)
{
	s->flags = fcntl(s->fd, F_GETFL);
	s->nonblocking = s->flags >= 0 && (s->flags & O_NONBLOCK);
}

bool program_socket_unbound(struct program_sock *s)
{
	s->local_len = sizeof(s->local);
	if (getsockname(s->fd, (struct sockaddr *)&s->local, &s->local_len) != 0 ||
	    (s->local.ss_family != AF_INET && s->local.ss_family != AF_INET6) ||
	    sockaddr_port(&s->local) != 0)
		return false;
	return true;
}
