/* The filter the supervised program runs under, and how its listener
 * reaches the supervisor.  The child sets NO_NEW_PRIVS (which lets an
 * unprivileged process install a filter, and keeps a setuid program it
 * execs from gaining privileges), installs the filter with libseccomp,
 * which knows the architecture's system call numbers, and hands the
 * listener to the parent (send_result() says how) before exec. */
#include <errno.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <seccomp.h>
#include <stdio.h>
#include <string.h>
#include <sys/types.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "supervisor.h"

/* The calls that may need a port.  sendto() without an address (what
 * send() is) never does, and is left to the kernel inside the filter: no
 * notification for most sends of a connected socket. */
static int add_rules(scmp_filter_ctx ctx)
{
	static const char *const always[] = { "connect", "bind", "sendmsg", "sendmmsg" };

	for (unsigned i = 0; i < sizeof(always) / sizeof(always[0]); i++) {
		int rc = seccomp_rule_add(ctx, SCMP_ACT_NOTIFY, seccomp_syscall_resolve_name(always[i]), 0);
		if (rc != 0)
			return rc;
	}
	/* Spelled out: SCMP_A4() leaves datum_b to the initializer's zero,
	 * which clang's -Wmissing-field-initializers refuses. */
	struct scmp_arg_cmp has_address = { .arg = 4, .op = SCMP_CMP_NE, .datum_a = 0,
					    .datum_b = 0 };
	int rc = seccomp_rule_add_array(ctx, SCMP_ACT_NOTIFY, SCMP_SYS(sendto), 1, &has_address);
	/* SOL_SOCKET/SO_REUSEADDR, which the kernel reads as ints: what the
	 * program sees of a socket strategy reuse bound (sockmemo.c). */
	struct scmp_arg_cmp reuseaddr[] = {
		{ .arg = 1, .op = SCMP_CMP_MASKED_EQ, .datum_a = 0xffffffff, .datum_b = SOL_SOCKET },
		{ .arg = 2, .op = SCMP_CMP_MASKED_EQ, .datum_a = 0xffffffff, .datum_b = SO_REUSEADDR },
	};
	if (rc == 0)
		rc = seccomp_rule_add_array(ctx, SCMP_ACT_NOTIFY, SCMP_SYS(getsockopt), 2, reuseaddr);
	if (rc == 0)
		rc = seccomp_rule_add_array(ctx, SCMP_ACT_NOTIFY, SCMP_SYS(setsockopt), 2, reuseaddr);
	/* IPPROTO_IP/IP_LOCAL_PORT_RANGE: the program's own range (portrange.c). */
	struct scmp_arg_cmp range[] = {
		{ .arg = 1, .op = SCMP_CMP_MASKED_EQ, .datum_a = 0xffffffff, .datum_b = IPPROTO_IP },
		{ .arg = 2, .op = SCMP_CMP_MASKED_EQ, .datum_a = 0xffffffff,
		  .datum_b = IP_LOCAL_PORT_RANGE },
	};
	if (rc == 0)
		rc = seccomp_rule_add_array(ctx, SCMP_ACT_NOTIFY, SCMP_SYS(getsockopt), 2, range);
	if (rc == 0)
		rc = seccomp_rule_add_array(ctx, SCMP_ACT_NOTIFY, SCMP_SYS(setsockopt), 2, range);
	return rc;
}

/* The filter traps sendmsg(), so the listener cannot travel as SCM_RIGHTS
 * once it exists: the child writes its number and whether the wait is
 * killable ("ok N K"), the parent takes it with pidfd_getfd() and
 * acknowledges with one byte, and only then does the child close its copy.
 * Before that, a reason ("why"). */
static void send_result(int channel, const char *text)
{
	size_t len = strlen(text) + 1;

	while (write(channel, text, len) < 0 && errno == EINTR)
		;
}

/* The filter loaded with SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV (Linux
 * 5.19) where the kernel has it: once the supervisor has taken a call, a
 * signal no longer interrupts the program's wait for the answer (only a
 * fatal one does).  Without it, a signal arriving while the supervisor
 * applies a port would make connect() return EINTR, or restart it, before
 * the connect has begun (natively EINTR means the handshake goes on).
 * libseccomp 2.5 cannot set that flag: its BPF is exported and loaded
 * here, and through seccomp_load() where the kernel refuses the flag.
 * The listener, or -1 with why. */
static int load(scmp_filter_ctx ctx, bool *killable, char *why, size_t whylen)
{
	struct sock_filter insns[512];
	int mem = memfd_create("portshim-filter", MFD_CLOEXEC), rc;
	ssize_t n = -1;

	if (mem >= 0 && seccomp_export_bpf(ctx, mem) == 0 && lseek(mem, 0, SEEK_SET) == 0)
		n = read(mem, insns, sizeof(insns));
	if (mem >= 0)
		close(mem);
	if (n > 0 && n < (ssize_t)sizeof(insns) && n % (ssize_t)sizeof(insns[0]) == 0) {
		struct sock_fprog prog = { (unsigned short)(n / (ssize_t)sizeof(insns[0])), insns };
		long fd = syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER,
				  SECCOMP_FILTER_FLAG_NEW_LISTENER | SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV,
				  &prog);
		if (fd >= 0) {
			*killable = true;
			return (int)fd;
		}
	}
	*killable = false;
	if ((rc = seccomp_load(ctx)) != 0) {
		snprintf(why, whylen, "seccomp(SECCOMP_SET_MODE_FILTER, "
			 "SECCOMP_FILTER_FLAG_NEW_LISTENER): %s", strerror(-rc));
		return -1;
	}
	int fd = seccomp_notify_fd(ctx);
	if (fd < 0)
		snprintf(why, whylen, "seccomp user notification: no listener");
	return fd;
}

int filter_install(int channel, char *why, size_t whylen)
{
	scmp_filter_ctx ctx = NULL;
	int rc, listener = -1;

	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) {
		snprintf(why, whylen, "prctl(PR_SET_NO_NEW_PRIVS): %s", strerror(errno));
		goto fail;
	}
	if (seccomp_api_get() < 5) {
		snprintf(why, whylen, "seccomp user notification (Linux 5.0; libseccomp API "
			 "level 5, this kernel or its profile gives %u)", seccomp_api_get());
		goto fail;
	}
	ctx = seccomp_init(SCMP_ACT_ALLOW);
	if (!ctx) {
		snprintf(why, whylen, "seccomp_init() failed");
		goto fail;
	}
	if ((rc = add_rules(ctx)) != 0) {
		snprintf(why, whylen, "seccomp_rule_add(): %s", strerror(-rc));
		goto fail;
	}
	bool killable;
	listener = load(ctx, &killable, why, whylen);
	if (listener < 0)
		goto fail;
	char ok[32], ack;
	snprintf(ok, sizeof(ok), "ok %d %d", listener, killable);
	send_result(channel, ok);
	ssize_t n;
	while ((n = read(channel, &ack, 1)) < 0 && errno == EINTR)
		;
	/* The filter stays with the task; its context and the child's copy of
	 * the listener go before exec (the program must not answer its own
	 * notifications). */
	seccomp_release(ctx);
	close(listener);
	if (n != 1) {
		snprintf(why, whylen, "the supervisor did not take the listener");
		return -1;
	}
	return 0;
fail:
	if (ctx)
		seccomp_release(ctx);
	send_result(channel, why);
	return -1;
}

bool filter_wait_killable;

int filter_receive(int channel, pid_t child, char *why, size_t whylen)
{
	char text[256] = "";
	ssize_t n;
	int fd;

	while ((n = read(channel, text, sizeof(text) - 1)) < 0 && errno == EINTR)
		;
	if (n <= 0) {
		snprintf(why, whylen, "the child that installs the filter ended without a word");
		return -1;
	}
	text[n] = '\0';
	int killable = 0;
	if (sscanf(text, "ok %d %d", &fd, &killable) != 2) {
		snprintf(why, whylen, "%s", text);
		return -1;
	}
	int pidfd = (int)syscall(SYS_pidfd_open, child, 0);
	int listener = pidfd >= 0 ? (int)syscall(SYS_pidfd_getfd, pidfd, fd, 0) : -1;
	if (listener < 0)
		snprintf(why, whylen, "pidfd_getfd() of the listener: %s", strerror(errno));
	if (pidfd >= 0)
		close(pidfd);
	filter_wait_killable = killable == 1;
	if (listener >= 0 && write(channel, "", 1) != 1) {
		close(listener);
		snprintf(why, whylen, "the child that installs the filter went away");
		return -1;
	}
	return listener;
}
