/* sendto(), sendmsg(), sendmmsg() with a destination: a UDP socket with no
 * local port is bound by the kernel on first send, and a TCP socket sending
 * with MSG_FASTOPEN is connecting; both get the connect policy's port. */
#include <errno.h>
#include <sys/socket.h>

#include "../autobind.h"
#include "../real.h"
#include "export.h"

/* 0 to go on with the real call, -1 (errno set) to fail it as the kernel
 * would when it has no port. */
static int prepare(int fd, const struct sockaddr *dest, socklen_t len, int flags)
{
	int saved = errno;
	struct runtime *rt = &portshim_runtime;
	struct sock s;
	struct pick pick;

	if (!dest || len < sizeof(sa_family_t) ||
	    (dest->sa_family != AF_INET && dest->sa_family != AF_INET6))
		return 0;
	runtime_ensure();
	if (rt->connect.npasses == 0 || !sock_inspect(fd, &s) || !sock_addr_fits(&s, dest, len) ||
	    (s.type == SOCK_STREAM && !(flags & MSG_FASTOPEN))) {
		errno = saved;
		return 0;
	}
	if (autobind_exclusive(rt, &rt->connect, &s, (struct sockaddr *)&s.local, s.local_len,
			       &pick) == PICK_EXHAUSTED &&
	    rt->cfg.on_exhaust == ON_EXHAUST_FAIL) {
		errno = autobind_exhausted_errno(&s, false);
		return -1;
	}
	errno = saved;
	return 0;
}

PORTSHIM_EXPORT ssize_t sendto(int fd, const void *buf, size_t n, int flags,
			       const struct sockaddr *addr, socklen_t len)
{
	if (prepare(fd, addr, len, flags) != 0)
		return -1;
	return real_sendto(fd, buf, n, flags, addr, len);
}

PORTSHIM_EXPORT ssize_t sendmsg(int fd, const struct msghdr *msg, int flags)
{
	if (msg && prepare(fd, msg->msg_name, msg->msg_namelen, flags) != 0)
		return -1;
	return real_sendmsg(fd, msg, flags);
}

PORTSHIM_EXPORT int sendmmsg(int fd, struct mmsghdr *vec, unsigned int vlen, int flags)
{
	if (vec && vlen > 0 &&
	    prepare(fd, vec[0].msg_hdr.msg_name, vec[0].msg_hdr.msg_namelen, flags) != 0)
		return -1;
	return real_sendmmsg(fd, vec, vlen, flags);
}
