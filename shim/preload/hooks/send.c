/* sendto(), sendmsg(), sendmmsg() with a destination: a UDP socket with no
 * local port is bound by the kernel on first send, and a TCP socket sending
 * with MSG_FASTOPEN is connecting; both get the connect policy's port,
 * through an exclusive bind. */
#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/socket.h>

#include "../autobind.h"
#include "../decide.h"
#include "../real.h"
#include "../guard.h"
#include "../userptr.h"
#include "../init.h"
#include "export.h"

struct send_state {
	bool observe; /* policy off, but decisions are recorded: after the send */
	struct decision d;
};

/* 0 to go on with the real call, -1 (errno set) to fail it as the kernel
 * would when it has no port.  *dest is the address the real call is to be
 * given: the shim's copy in *copy once it has read one (the same bytes it
 * decided on), else the application's own. */
static int prepare(struct send_state *st, enum shim_call call, int fd, const struct sockaddr **dest,
		   socklen_t len, int flags, struct sockaddr_storage *copy)
{
	int saved = errno;
	struct runtime *rt = &portshim_runtime;
	struct guarded_call t;

	st->observe = false;
	bool ours = guard_call(rt, fd, *dest, len, flags & MSG_FASTOPEN, true, copy, &t);
	if (t.dst)
		*dest = t.dst;
	if (!ours)
		return 0;
	const struct sockaddr *dst = t.dst;
	struct plan *plan = t.plan;
	struct sock s = t.s;
	decide_begin(&st->d, call, &s, dst, len, plan);
	if (plan->npasses == 0) {
		st->observe = true;
		errno = saved;
		return 0;
	}

	/* A send with MSG_FASTOPEN connects: bound first, a socket the kernel
	 * refuses would keep the port. */
	struct flow flow = sock_flow(&s, dst, len);
	if ((s.type == SOCK_STREAM && early_fastopen_refused(&real_early_calls, s.fd)) ||
	    early_refusal(rt, &real_early_calls, s.fd, &flow)) {
		st->observe = true;
		errno = saved;
		return 0;
	}
	int status = 0;
	switch (autobind(rt, plan, &s, (struct sockaddr *)&s.local, s.local_len, &flow, false,
			 &st->d)) {
	case APPLY_DONE:
		break;
	case APPLY_FAILED:
		status = -1;
		break;
	case APPLY_KERNEL:
		/* The kernel binds on the send itself. */
		st->d.result = RESULT_FALLBACK;
		st->observe = true;
		break;
	}
	if (!st->observe)
		eventlog_record(&rt->log, &st->d);
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
	decide_kernel(&st->d, kind, sent < 0 ? -1 : 0);
	eventlog_record(&portshim_runtime.log, &st->d);
}

PORTSHIM_EXPORT ssize_t sendto(int fd, const void *buf, size_t n, int flags,
			       const struct sockaddr *addr, socklen_t len)
{
	struct send_state st;
	struct sockaddr_storage copy;

	if (prepare(&st, CALL_SENDTO, fd, &addr, len, flags, &copy) != 0)
		return -1;
	ssize_t sent = real_sendto(fd, buf, n, flags, addr, len);
	finish(&st, sent);
	return sent;
}

/* The msghdr is read through a copy as well: a bad one is the kernel's. */
PORTSHIM_EXPORT ssize_t sendmsg(int fd, const struct msghdr *msg, int flags)
{
	struct send_state st = { .observe = false };
	struct sockaddr_storage copy;
	struct msghdr mh;

	if (!msg || !userptr_copy(&mh, msg, sizeof(mh)))
		return real_sendmsg(fd, msg, flags);
	const struct sockaddr *dest = mh.msg_name;
	if (prepare(&st, CALL_SENDMSG, fd, &dest, mh.msg_namelen, flags, &copy) != 0)
		return -1;
	mh.msg_name = (void *)dest;
	ssize_t sent = real_sendmsg(fd, &mh, flags);
	finish(&st, sent);
	return sent;
}

/* Only the first message's address is looked at (it is the one that binds
 * the socket); the kernel gets the application's own vector. */
PORTSHIM_EXPORT int sendmmsg(int fd, struct mmsghdr *vec, unsigned int vlen, SENDMMSG_FLAGS flags)
{
	struct send_state st = { .observe = false };
	struct sockaddr_storage copy;
	struct msghdr first;

	/* Address arithmetic only: vec may point anywhere, misaligned too. */
	if (vec && vlen > 0 &&
	    userptr_copy(&first, (const char *)vec + offsetof(struct mmsghdr, msg_hdr), sizeof(first))) {
		const struct sockaddr *dest = first.msg_name;
		if (prepare(&st, CALL_SENDMMSG, fd, &dest, first.msg_namelen, flags, &copy) != 0)
			return -1;
	}
	int sent = real_sendmmsg(fd, vec, vlen, flags);
	finish(&st, sent);
	return sent;
}
