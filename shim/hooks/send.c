/* sendto(), sendmsg(), sendmmsg() with a destination: a UDP socket with no
 * local port is bound by the kernel on first send, and a TCP socket sending
 * with MSG_FASTOPEN is connecting; both get the connect policy's port,
 * through an exclusive bind. */
#include <errno.h>
#include <stdbool.h>
#include <sys/socket.h>

#include "../autobind.h"
#include "../real.h"
#include "export.h"

struct send_state {
	bool observe; /* policy off, but decisions are recorded: after the send */
	struct decision d;
};

/* 0 to go on with the real call, -1 (errno set) to fail it as the kernel
 * would when it has no port. */
static int prepare(struct send_state *st, enum shim_call call, int fd,
		   const struct sockaddr *dest, socklen_t len, int flags)
{
	int saved = errno;
	struct runtime *rt = &portshim_runtime;
	struct sock s;
	struct pick pick;

	st->observe = false;
	if (!dest || len < sizeof(sa_family_t) || len > sizeof(struct sockaddr_storage) ||
	    (dest->sa_family != AF_INET && dest->sa_family != AF_INET6))
		return 0;
	if (!runtime_ensure())
		return 0;
	struct plan *plan = runtime_connect_plan(rt, dest, len);
	if ((plan->npasses == 0 && !runtime_observing(rt)) || !sock_inspect(fd, &s) ||
	    !sock_addr_fits(&s, dest, len) || (s.type == SOCK_STREAM && !(flags & MSG_FASTOPEN))) {
		errno = saved;
		return 0;
	}
	decision_begin(&st->d, call, &s, dest, len, plan);
	if (plan->npasses == 0) {
		st->observe = true;
		errno = saved;
		return 0;
	}

	int status = 0;
	struct flow flow = sock_flow(&s, dest, len);
	switch (autobind_exclusive(rt, plan, &s, (struct sockaddr *)&s.local, s.local_len, &flow,
				   &pick)) {
	case PICK_BOUND:
		st->d.result = RESULT_OK;
		st->d.port = pick.port;
		break;
	case PICK_EXHAUSTED:
		if (rt->cfg.on_exhaust == ON_EXHAUST_FAIL) {
			st->d.result = RESULT_EXHAUSTED;
			st->d.error = autobind_exhausted_errno(&s, false);
			status = -1;
			break;
		}
		/* The kernel binds on the send itself. */
		__attribute__((fallthrough));
	case PICK_GAVE_UP:
		st->d.result = RESULT_FALLBACK;
		st->observe = true;
		break;
	}
	st->d.attempts = pick.attempts;
	if (!st->observe)
		eventlog_record(rt, &st->d);
	errno = status ? st->d.error : saved;
	return status;
}

/* After the real send: record what the kernel did when we did not act. */
static void finish(struct send_state *st, ssize_t sent)
{
	if (!st->observe)
		return;
	enum decision_result kind = st->d.result == RESULT_FALLBACK ? RESULT_FALLBACK
								   : RESULT_PASSTHROUGH;
	decision_kernel(&st->d, kind, sent < 0 ? -1 : 0);
	eventlog_record(&portshim_runtime, &st->d);
}

PORTSHIM_EXPORT ssize_t sendto(int fd, const void *buf, size_t n, int flags,
			       const struct sockaddr *addr, socklen_t len)
{
	struct send_state st;

	if (prepare(&st, CALL_SENDTO, fd, addr, len, flags) != 0)
		return -1;
	ssize_t sent = real_sendto(fd, buf, n, flags, addr, len);
	finish(&st, sent);
	return sent;
}

PORTSHIM_EXPORT ssize_t sendmsg(int fd, const struct msghdr *msg, int flags)
{
	struct send_state st = { .observe = false };

	if (msg && prepare(&st, CALL_SENDMSG, fd, msg->msg_name, msg->msg_namelen, flags) != 0)
		return -1;
	ssize_t sent = real_sendmsg(fd, msg, flags);
	finish(&st, sent);
	return sent;
}

PORTSHIM_EXPORT int sendmmsg(int fd, struct mmsghdr *vec, unsigned int vlen, SENDMMSG_FLAGS flags)
{
	struct send_state st = { .observe = false };

	if (vec && vlen > 0 &&
	    prepare(&st, CALL_SENDMMSG, fd, vec[0].msg_hdr.msg_name, vec[0].msg_hdr.msg_namelen,
		    flags) != 0)
		return -1;
	int sent = real_sendmmsg(fd, vec, vlen, flags);
	finish(&st, sent);
	return sent;
}
