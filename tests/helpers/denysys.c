/* denysys: runs a command where one system call fails, as a kernel without
 * it (ENOSYS) or a container's seccomp profile (EPERM) would have it: what
 * the seccomp backend must refuse to run under.
 *
 *   denysys SYSCALL ENOSYS|EPERM COMMAND [ARG...]
 *
 * Installs a seccomp filter (libseccomp) that fails SYSCALL with that errno,
 * then execs COMMAND.  Exit status 2 on usage errors, 1 if the filter
 * cannot be installed. */
#include <errno.h>
#include <seccomp.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	if (argc < 4)
		return 2;
	int nr = seccomp_syscall_resolve_name(argv[1]);
	int error = strcmp(argv[2], "EPERM") == 0 ? EPERM : ENOSYS;
	scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_ALLOW);

	if (nr == __NR_SCMP_ERROR || !ctx)
		return 2;
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0 ||
	    seccomp_rule_add(ctx, SCMP_ACT_ERRNO((unsigned)error), nr, 0) != 0 ||
	    seccomp_load(ctx) != 0) {
		fprintf(stderr, "denysys: cannot install the filter\n");
		return 1;
	}
	execvp(argv[3], argv + 3);
	perror(argv[3]);
	return 127;
}
