/* See tuple.h. */
#include "tuple.h"

#include <errno.h>
#include <netinet/in.h>
#include <stdint.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "inetaddr.h"

/* The kernel's sock_diag ABI (<linux/netlink.h>, <linux/sock_diag.h>,
 * <linux/inet_diag.h>), spelled out: the musl build has no kernel
 * headers. */
#define NETLINK_SOCK_DIAG 4
#define SOCK_DIAG_BY_FAMILY 20
#define NLM_F_REQUEST 1
#define NLMSG_ERROR 2

struct nl_header {
	uint32_t len;
	uint16_t type, flags;
	uint32_t seq, pid;
};

struct nl_address {
	sa_family_t family;
	uint16_t pad;
	uint32_t pid, groups;
};

struct diag_sockid {
	uint16_t sport, dport; /* network order */
	uint32_t src[4], dst[4];
	uint32_t ifindex;
	uint32_t cookie[2]; /* ~0, ~0: none given */
};

struct diag_request {
	uint8_t family, protocol, ext, pad;
	uint32_t states;
	struct diag_sockid id;
};

struct diag_message {
	uint8_t family, state, timer, retrans;
	struct diag_sockid id;
	uint32_t expires, rqueue, wqueue, uid, inode;
};

struct nl_error {
	int32_t error;
	struct nl_header request;
};

static void put_addr(uint32_t out[4], const struct sockaddr *sa)
{
	if (sa->sa_family == AF_INET)
		memcpy(out, &((const struct sockaddr_in *)sa)->sin_addr, 4);
	else
		memcpy(out, &((const struct sockaddr_in6 *)sa)->sin6_addr, 16);
}

int tuple_state(const struct sockaddr_storage *src, unsigned sport, const struct sockaddr *dst)
{
	struct {
		struct nl_header nlh;
		struct diag_request req;
	} ask;
	union {
		struct nl_header nlh;
		char bytes[512];
	} reply;
	struct nl_address kernel = { .family = AF_NETLINK };
	int saved = errno, state = -1;

	memset(&ask, 0, sizeof(ask));
	ask.nlh.len = sizeof(ask);
	ask.nlh.type = SOCK_DIAG_BY_FAMILY;
	ask.nlh.flags = NLM_F_REQUEST;
	ask.req.family = (uint8_t)dst->sa_family;
	ask.req.protocol = IPPROTO_TCP;
	ask.req.states = ~0u;
	ask.req.id.sport = htons((uint16_t)sport);
	ask.req.id.dport = htons((uint16_t)sockaddr_port((const struct sockaddr_storage *)dst));
	put_addr(ask.req.id.src, (const struct sockaddr *)src);
	put_addr(ask.req.id.dst, dst);
	ask.req.id.cookie[0] = ask.req.id.cookie[1] = ~0u;

	int nl = (int)syscall(SYS_socket, AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC, NETLINK_SOCK_DIAG);
	if (nl < 0)
		goto out;
	if (syscall(SYS_sendto, nl, &ask, sizeof(ask), 0, &kernel, sizeof(kernel)) ==
	    (long)sizeof(ask)) {
		long n = syscall(SYS_recvfrom, nl, &reply, sizeof(reply), 0, NULL, NULL);
		const void *body = reply.bytes + sizeof(struct nl_header);
		if (n >= (long)sizeof(struct nl_header) && reply.nlh.len <= (unsigned long)n) {
			if (reply.nlh.type == SOCK_DIAG_BY_FAMILY &&
			    reply.nlh.len >= sizeof(struct nl_header) + sizeof(struct diag_message))
				state = ((const struct diag_message *)body)->state;
			else if (reply.nlh.type == NLMSG_ERROR &&
				 reply.nlh.len >= sizeof(struct nl_header) + sizeof(struct nl_error) &&
				 ((const struct nl_error *)body)->error == -ENOENT)
				state = 0;
		}
	}
	syscall(SYS_close, nl);
out:
	errno = saved;
	return state;
}
