/* Does the supervisor work here?  What it needs beyond the filter itself:
 * pidfd_open() (Linux 5.3) and pidfd_getfd() (5.6) to take the program's
 * sockets, process_vm_readv() to read its addresses, and ptrace access to
 * it (Yama's ptrace_scope 3 denies it to everyone).  Each is tried on this
 * process, so a container profile that forbids one is found too. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>

#include "seccomp.h"
#include "supervisor.h"

static const char *errno_phrase(int error)
{
	return error == ENOSYS ? "not in this kernel (ENOSYS)"
	       : error == EPERM ? "forbidden here (EPERM)" : strerror(error);
}

/* Installs the filter in a child that then exits: what the run would do. */
static bool filter_works(char *buf, size_t size)
{
	int sv[2];

	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) != 0) {
		snprintf(buf, size, "socketpair(): %s", strerror(errno));
		return false;
	}
	pid_t pid = fork();
	if (pid == 0) {
		char why[256];
		close(sv[0]);
		_exit(filter_install(sv[1], why, sizeof(why)) == 0 ? 0 : 1);
	}
	close(sv[1]);
	int listener = pid > 0 ? filter_receive(sv[0], pid, buf, size) : -1;
	if (pid < 0)
		snprintf(buf, size, "fork(): %s", strerror(errno));
	close(sv[0]);
	if (listener >= 0)
		close(listener);
	while (pid > 0 && waitpid(pid, NULL, 0) < 0 && errno == EINTR)
		;
	return listener >= 0;
}

const char *seccomp_missing(bool try_filter, char *buf, size_t size)
{
	int pidfd = (int)syscall(SYS_pidfd_open, getpid(), 0);

	if (pidfd < 0) {
		snprintf(buf, size, "pidfd_open() (Linux 5.3), which is %s", errno_phrase(errno));
		return buf;
	}
	int copy = (int)syscall(SYS_pidfd_getfd, pidfd, pidfd, 0);
	int error = errno;
	close(pidfd);
	if (copy < 0) {
		snprintf(buf, size, "pidfd_getfd() (Linux 5.6), which is %s", errno_phrase(error));
		return buf;
	}
	close(copy);

	char byte = 1, got = 0;
	struct iovec local = { &got, 1 }, remote = { &byte, 1 };
	if (process_vm_readv(getpid(), &local, 1, &remote, 1, 0) != 1) {
		snprintf(buf, size, "process_vm_readv(), which is %s", errno_phrase(errno));
		return buf;
	}

	char scope = 0;
	int fd = open("/proc/sys/kernel/yama/ptrace_scope", O_RDONLY | O_CLOEXEC);
	if (fd >= 0) {
		if (read(fd, &scope, 1) != 1)
			scope = 0;
		close(fd);
	}
	if (scope == '3') {
		snprintf(buf, size, "ptrace access to the program (Yama ptrace_scope is 3: no "
			 "process may read another's memory or take its descriptors)");
		return buf;
	}
	if (try_filter && !filter_works(buf, size))
		return buf;
	return NULL;
}
