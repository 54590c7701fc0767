/* The notifications of the filter (filter.c): one per trapped call.  Each
 * worker thread takes one, reads the call's address from the program's
 * memory, takes the program's socket, lets answer.c apply the core's port, logs
 * the decision under the program's pid, tid and fd, and answers.  Calls
 * that need no port (another family, a bound socket, a send without an
 * address, a bind to a given port) are let go on unchanged. */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <linux/seccomp.h>
#include <poll.h>
#include <pthread.h>
#include <seccomp.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "supervisor.h"

/* One call at a time per socket.  A call interrupted by a signal and
 * restarted (SA_RESTART) comes back as a new notification while the
 * supervisor may still be applying a port for the first: the second waits
 * here, then finds the socket bound (or connecting) and lets the kernel
 * answer, with the socket's flags and range as the program left them.
 * Striped by the program's descriptor number, which costs no system call
 * and is the same for a restarted call, for every thread of a process and
 * for the processes fork() made; two threads connecting one socket at the
 * same moment through two numbers (dup()) are not kept apart (README.md,
 * "Known limits").  Held only across calls that do not wait. */
#define SOCKET_LOCKS 64
static pthread_mutex_t socket_locks[SOCKET_LOCKS] = {
	[0 ... SOCKET_LOCKS - 1] = PTHREAD_MUTEX_INITIALIZER
};

struct call {
	int listener;
	const struct seccomp_notif *req;
	struct program_task task;
};

/* The thread that made the call is still waiting for this answer (it was
 * not interrupted, and it, not a new process with its pid, is the one). */
static bool still_waiting(void *arg)
{
	const struct call *c = arg;
	__u64 id = c->req->id;

	return ioctl(c->listener, SECCOMP_IOCTL_NOTIF_ID_VALID, &id) == 0;
}

/* The address an inet socket call names, copied and checked: false when
 * there is none, or it is not one the shim reads (the kernel answers). */
static bool read_addr(struct call *c, uint64_t ptr, uint64_t len, struct sockaddr_storage *ss,
		      socklen_t *sslen)
{
	if (ptr == 0 || len > sizeof(*ss) || len < sizeof(sa_family_t))
		return false;
	memset(ss, 0, sizeof(*ss));
	if (!program_read(&c->task, ptr, ss, (size_t)len) ||
	    !inetaddr_complete((struct sockaddr *)ss, (socklen_t)len))
		return false;
	*sslen = (socklen_t)len;
	return true;
}

/* sendmsg(), sendmmsg(): the destination of the (first) message header. */
static bool read_msg_addr(struct call *c, uint64_t msg, struct sockaddr_storage *ss,
			  socklen_t *sslen)
{
	struct msghdr h;

	return program_read(&c->task, msg, &h, sizeof(h)) &&
	       read_addr(c, (uint64_t)(uintptr_t)h.msg_name, h.msg_namelen, ss, sslen);
}

static bool asks_for_any_port(const struct sockaddr_storage *ss)
{
	return sockaddr_port(ss) == 0;
}

/* IP_BIND_ADDRESS_NO_PORT: the port is chosen at connect(), by the
 * connect policy. */
static bool defers_port(int fd)
{
	int on = 0;
	socklen_t len = sizeof(on);

	return getsockopt(fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &on, &len) == 0 && on;
}

/* The program's name, as the library logs its own (PR_GET_NAME). */
static void task_comm(pid_t tid, char comm[16])
{
	char path[32];
	ssize_t n = -1;

	snprintf(path, sizeof(path), "/proc/%d/comm", (int)tid);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd >= 0) {
		n = read(fd, comm, 15);
		close(fd);
	}
	if (n > 0 && comm[n - 1] == '\n')
		n--;
	comm[n > 0 ? n : 0] = '\0';
}

/* getsockopt()/setsockopt() of SOL_SOCKET/SO_REUSEADDR on a socket that
 * strategy reuse bound (sockmemo.c): the program's own value, read and
 * written as the kernel's sock_getsockopt()/sock_setsockopt() would, with
 * their errors.  Any other socket is the kernel's. */
static void reuseaddr_call(struct call *c, struct answer *a)
{
	const __u64 *arg = c->req->data.args;
	struct program_sock s;
	int value, len;

	if (!program_socket(&c->task, (int)arg[0], &s, still_waiting, c))
		return;
	uint64_t ino = program_socket_ino(&s);
	close(s.fd);
	if (!ino || !sockmemo_get(SOCKMEMO_REUSEADDR, ino, &value))
		return;
	a->carry_on = false;
	a->error = 0;
	if (c->req->data.nr == SYS_setsockopt) {
		if ((int)arg[4] < (int)sizeof(int))
			a->error = EINVAL;
		else if (!program_read(&c->task, arg[3], &value, sizeof(value)))
			a->error = EFAULT;
		else
			sockmemo_set(SOCKMEMO_REUSEADDR, ino, value != 0);
	} else if (!program_read(&c->task, arg[4], &len, sizeof(len))) {
		a->error = EFAULT;
	} else if (len < 0) {
		a->error = EINVAL;
	} else {
		len = len < (int)sizeof(value) ? len : (int)sizeof(value);
		if (!program_write(&c->task, arg[3], &value, (size_t)len) ||
		    !program_write(&c->task, arg[4], &len, sizeof(len)))
			a->error = EFAULT;
	}
	a->val = a->error ? -1 : 0;
}

/* The 0 a socket with no range of its own reads, written as the kernel
 * writes an int option under 256: one byte for a buffer shorter than an
 * int. */
static void answer_no_range(struct call *c, struct answer *a)
{
	const __u64 *arg = c->req->data.args;
	int len, zero = 0;

	a->carry_on = false;
	a->error = 0;
	if (!program_read(&c->task, arg[4], &len, sizeof(len))) {
		a->error = EFAULT;
	} else if (len < 0) {
		a->error = EINVAL;
	} else {
		if (len > (int)sizeof(zero))
			len = sizeof(zero);
		else if (len > 0 && len < (int)sizeof(zero))
			len = 1;
		if (!program_write(&c->task, arg[4], &len, sizeof(len)) ||
		    !program_write(&c->task, arg[3], &zero, (size_t)len))
			a->error = EFAULT;
	}
	a->val = a->error ? -1 : 0;
}

/* getsockopt()/setsockopt() of IPPROTO_IP/IP_LOCAL_PORT_RANGE: the
 * kernel answers, after portrange.c has seen it; a socket that lost its
 * port (portrange_lost()) keeps its [p, p] for its next connect, and the
 * supervisor answers the program's read. */
static void range_call(struct call *c, struct answer *a)
{
	struct program_sock s;

	if (!program_socket(&c->task, (int)c->req->data.args[0], &s, still_waiting, c))
		return;
	if (c->req->data.nr == SYS_setsockopt)
		portrange_program_sets(&s);
	else if (!program_socket_unbound(&s) && portrange_lost(&s))
		answer_no_range(c, a);
	else
		portrange_program_reads(&s);
	close(s.fd);
}

static void handle(struct runtime *rt, struct call *c, struct answer *a)
{
	const struct seccomp_notif *req = c->req;
	const __u64 *arg = req->data.args;
	struct sockaddr_storage addr;
	socklen_t len = 0;
	enum shim_call call;
	bool found = false;
	uint64_t flags = 0; /* of a send */

	a->carry_on = true;
	/* The filter notifies only the native architecture's calls. */
	switch (req->data.nr) {
	case SYS_connect:
		call = CALL_CONNECT;
		found = read_addr(c, arg[1], arg[2], &addr, &len);
		break;
	case SYS_bind:
		call = CALL_BIND;
		found = read_addr(c, arg[1], arg[2], &addr, &len) && asks_for_any_port(&addr);
		break;
	case SYS_sendto:
		call = CALL_SENDTO;
		flags = arg[3];
		found = read_addr(c, arg[4], arg[5], &addr, &len);
		break;
	case SYS_sendmsg:
		call = CALL_SENDMSG;
		flags = arg[2];
		found = read_msg_addr(c, arg[1], &addr, &len);
		break;
	case SYS_sendmmsg:
		call = CALL_SENDMMSG;
		flags = arg[3];
		/* The first header's; a struct mmsghdr starts with its msghdr. */
		found = arg[2] > 0 && read_msg_addr(c, arg[1], &addr, &len);
		break;
	case SYS_getsockopt:
	case SYS_setsockopt:
		if ((int)arg[1] == IPPROTO_IP)
			range_call(c, a);
		else
			reuseaddr_call(c, a);
		return;
	default:
		return;
	}
	struct program_sock s;
	if (!found || !program_socket(&c->task, (int)arg[0], &s, still_waiting, c))
		return;
	pthread_mutex_t *lock = &socket_locks[(unsigned)s.app_fd % SOCKET_LOCKS];
	pthread_mutex_lock(lock);
	bool lost = false;
	if (!program_socket_unbound(&s) && !(lost = portrange_lost(&s))) {
		/* A connect that failed leaves its old port in getsockname() on
		 * an unbound socket: the kernel's bind(0) must not meet the
		 * [p, p] the supervisor left there. */
		if (call == CALL_BIND)
			portrange_release(&s);
		pthread_mutex_unlock(lock);
		close(s.fd);
		return;
	}
	bool is_send = call != CALL_CONNECT && call != CALL_BIND;
	/* A family the socket does not take is the kernel's to refuse.  A TCP
	 * send connects only with MSG_FASTOPEN (TCP Fast Open); without it the
	 * kernel refuses it on an unconnected socket. */
	if ((s.type == SOCK_STREAM && is_send && !(flags & MSG_FASTOPEN)) ||
	    addr.ss_family != s.local.ss_family ||
	    (call == CALL_BIND && defers_port(s.fd))) {
		pthread_mutex_unlock(lock);
		close(s.fd);
		return;
	}
	/* Whoever chooses its port now, it is not [p, p]. */
	if (lost)
		portrange_take_off(&s);
	struct decision d;
	decision_begin(&d, call, s.app_fd, s.type, s.local.ss_family, (struct sockaddr *)&addr, len,
		       NULL);
	/* From here the supervisor answers, unless apply_*() hands the call
	 * back to the kernel. */
	a->carry_on = false;
	if (call == CALL_CONNECT)
		answer_connect(rt, &s, (struct sockaddr *)&addr, len, &d, a);
	else if (call == CALL_BIND)
		answer_bind(rt, &s, (struct sockaddr *)&addr, len, &d, a);
	else
		answer_send(rt, &s, (struct sockaddr *)&addr, len, &d, a);
	pthread_mutex_unlock(lock);
	close(s.fd);
	if (runtime_observing(rt)) {
		char comm[16];
		task_comm(c->task.tid, comm);
		eventlog_record_for(&rt->log, &d, program_tgid(&c->task), c->task.tid, comm);
	}
}

/* SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP (Linux 6.6, uapi.h): the kernel wakes
 * the supervisor thread on the CPU of the program's thread that trapped,
 * and the program's thread on the CPU of the supervisor thread that
 * answered, instead of wherever the scheduler would put each: the call and
 * its answer are one synchronous exchange, and a trapped connect costs
 * much less (make bench, section g). */
void listener_sync_wake(int listener)
{
	ioctl(listener, SECCOMP_IOCTL_NOTIF_SET_FLAGS, SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP);
}

void *notify_serve(void *arg)
{
	struct runtime *rt = &portshim_runtime;
	int listener = (int)(intptr_t)arg;
	struct seccomp_notif *req;
	struct seccomp_notif_resp *resp;
	struct seccomp_notif_sizes sizes;

	/* The kernel's own sizes: its structures may have grown. */
	if (seccomp_notify_alloc(&req, &resp) != 0 ||
	    syscall(SYS_seccomp, SECCOMP_GET_NOTIF_SIZES, 0, &sizes) != 0)
		return NULL;
	for (;;) {
		memset(req, 0, sizes.seccomp_notif);
		if (ioctl(listener, SECCOMP_IOCTL_NOTIF_RECV, req) != 0) {
			/* ENOENT: the caller went away before we took its call,
			 * or no process is left under the filter: then the
			 * listener has hung up, and this thread is done. */
			struct pollfd p = { listener, POLLIN, 0 };
			if (errno == EINTR ||
			    (errno == ENOENT && poll(&p, 1, -1) >= 0 && !(p.revents & POLLHUP)))
				continue;
			return NULL;
		}
		struct call c = { listener, req, { (pid_t)req->pid, 0 } };
		struct answer a = { 0 };
		handle(rt, &c, &a);
		memset(resp, 0, sizes.seccomp_notif_resp);
		resp->id = req->id;
		if (a.carry_on) {
			resp->flags = SECCOMP_USER_NOTIF_FLAG_CONTINUE;
		} else {
			resp->val = a.val;
			resp->error = -a.error;
		}
		/* ENOENT: the thread stopped waiting (a signal, or it died);
		 * its call was interrupted and sees nothing of this. */
		ioctl(listener, SECCOMP_IOCTL_NOTIF_SEND, resp);
	}
}
