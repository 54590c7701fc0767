/* See early.h. */
#include "early.h"

#include <errno.h>
#include <net/if.h>
#include <netinet/in.h>
#include <stddef.h>

static bool refused_by_address(const struct early_calls *io, int fd, const struct sockaddr *addr,
			       socklen_t len)
{
	const struct sockaddr_in6 *a6 = (const struct sockaddr_in6 *)addr;
	int on = 0;
	socklen_t optlen = sizeof(on);

	/* An address of 24 bytes (RFC 2133) has no scope id. */
	if (addr->sa_family != AF_INET6 || len < offsetof(struct sockaddr_in6, sin6_scope_id))
		return false;
	if (IN6_IS_ADDR_V4MAPPED(&a6->sin6_addr))
		return io->getsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &on, &optlen) == 0 && on;
	bool needs_scope = IN6_IS_ADDR_LINKLOCAL(&a6->sin6_addr) ||
			   IN6_IS_ADDR_MC_LINKLOCAL(&a6->sin6_addr) ||
			   IN6_IS_ADDR_MC_NODELOCAL(&a6->sin6_addr);
	if (!needs_scope || (len >= sizeof(*a6) && a6->sin6_scope_id))
		return false;
	if (io->getsockopt(fd, SOL_SOCKET, SO_BINDTOIFINDEX, &on, &optlen) == 0)
		return !on;
	char device[IFNAMSIZ]; /* before 5.0: the device's name, empty when none */
	optlen = sizeof(device);
	return io->getsockopt(fd, SOL_SOCKET, SO_BINDTODEVICE, device, &optlen) == 0 &&
	       optlen == 0;
}

/* Destinations a probe found a route to, by their keyed hash: checked once
 * each (direct-mapped; a destination that loses its slot is probed again). */
#define ROUTED_SLOTS 1024u
static _Atomic uint64_t routed[ROUTED_SLOTS];

/* Does the kernel have a route to the destination for this socket?  A UDP
 * socket's connect() looks the route up and sends nothing. */
static bool routable(struct runtime *rt, const struct early_calls *io, int fd,
		     const struct flow *flow)
{
	uint64_t h = emulate_port_offset(&rt->emu, flow, 0) | 1u;
	_Atomic uint64_t *slot = &routed[h % ROUTED_SLOTS];
	int bound = 0;
	socklen_t optlen = sizeof(bound);

	if (atomic_load_explicit(slot, memory_order_relaxed) == h)
		return true;
	/* A socket bound to a device routes through it: a probe without it
	 * would say nothing true.  Let the kernel decide. */
	if (io->getsockopt(fd, SOL_SOCKET, SO_BINDTOIFINDEX, &bound, &optlen) == 0 && bound)
		return true;
	int probe = io->socket(flow->local->ss_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (probe < 0)
		return true;
	int result = io->connect(probe, flow->dst, flow->dst_len);
	io->close(probe);
	if (result == 0)
		atomic_store_explicit(slot, h, memory_order_relaxed);
	return result == 0;
}

bool early_refusal(struct runtime *rt, const struct early_calls *io, int fd,
		   const struct flow *flow)
{
	int saved = errno;
	bool refused = flow->type == SOCK_STREAM &&
		       (refused_by_address(io, fd, flow->dst, flow->dst_len) ||
			!routable(rt, io, fd, flow));

	errno = saved;
	return refused;
}
