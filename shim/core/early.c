/* See early.h. */
#include "early.h"

#include <errno.h>
#include <net/if.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stddef.h>
#include <string.h>

#include "inetaddr.h"
#include "rng.h"

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

static int get_int(const struct early_calls *io, int fd, int level, int name)
{
	int value = 0;
	socklen_t len = sizeof(value);

	return io->getsockopt(fd, level, name, &value, &len) == 0 ? value : 0;
}

/* The cookie of socket fd's network namespace, 0 before Linux 5.14. */
static uint64_t netns_of(const struct early_calls *io, int fd)
{
	uint64_t cookie = 0;
	socklen_t len = sizeof(cookie);

	if (io->known_netns && io->known_netns(fd, &cookie))
		return cookie;
	if (io->getsockopt(fd, SOL_SOCKET, SO_NETNS_COOKIE, &cookie, &len) != 0)
		cookie = 0;
	return cookie;
}

bool early_same_netns(const struct early_calls *io, int a, int b)
{
	uint64_t ca = 0, cb = 0;
	socklen_t la = sizeof(ca), lb = sizeof(cb);

	return io->getsockopt(a, SOL_SOCKET, SO_NETNS_COOKIE, &ca, &la) != 0 ||
	       io->getsockopt(b, SOL_SOCKET, SO_NETNS_COOKIE, &cb, &lb) != 0 || ca == cb;
}

/* The socket's option copied to the probe: false if it has one the probe
 * cannot take (SO_MARK and IP_TRANSPARENT need privileges). */
static bool copy_option(const struct early_calls *io, int fd, int probe, int level, int name)
{
	int value = get_int(io, fd, level, name);

	return !value || io->setsockopt(probe, level, name, &value, sizeof(value)) == 0;
}

/* Would the probe look the route up as the program's socket will?  Not
 * when it lives in another network namespace (a supervisor's probe is made
 * in its own where it cannot enter the program's; a library's in a program
 * that switched namespaces after making the socket), or routes by a mark
 * it cannot take.  A bound source address the probe takes too, with the
 * options that let a socket bind one that is not local. */
static bool probe_stands_for(const struct early_calls *io, int fd, int probe,
			     const struct flow *flow)
{
	if (!early_same_netns(io, probe, fd) || !copy_option(io, fd, probe, SOL_SOCKET, SO_MARK))
		return false;
	if (sockaddr_is_wildcard(flow->local))
		return true;
	if (!copy_option(io, fd, probe, IPPROTO_IP, IP_FREEBIND) ||
	    !copy_option(io, fd, probe, IPPROTO_IP, IP_TRANSPARENT))
		return false;
	struct sockaddr_storage source = *flow->local;
	sockaddr_set_port(&source, 0);
	return io->bind(probe, (struct sockaddr *)&source,
			source.ss_family == AF_INET ? sizeof(struct sockaddr_in)
						    : sizeof(struct sockaddr_in6)) == 0;
}

/* Does the kernel have a route to the destination for this socket?  A UDP
 * socket's connect() looks the route up and sends nothing.  Only a probe
 * that stands for the socket may say no; otherwise the kernel decides.
 * What a probe found holds in its network namespace: the cache is keyed by
 * the namespace's cookie too (0 before Linux 5.14). */
static bool routable(struct runtime *rt, const struct early_calls *io, int fd,
		     const struct flow *flow)
{
	uint64_t h = (emulate_port_offset(&rt->emu, flow, 0) ^ rng_mix(netns_of(io, fd))) | 1u;
	_Atomic uint64_t *slot = &routed[h % ROUTED_SLOTS];

	if (atomic_load_explicit(slot, memory_order_relaxed) == h)
		return true;
	/* A socket bound to a device routes through it: a probe without it
	 * would say nothing true (binding one needs privileges). */
	if (get_int(io, fd, SOL_SOCKET, SO_BINDTOIFINDEX))
		return true;
	int probe = io->probe_socket(fd, flow->local->ss_family);
	if (probe < 0)
		return true;
	bool stands_for = probe_stands_for(io, fd, probe, flow);
	int result = stands_for ? io->connect(probe, flow->dst, flow->dst_len) : 0;
	io->close(probe);
	if (stands_for && result == 0)
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

bool early_fastopen_refused(const struct early_calls *io, int fd)
{
	int saved = errno, value = io->fastopen_sysctl(fd);

	errno = saved;
	return value >= 0 && !(value & 1);
}

/* The source addresses routes gave, per destination and namespace (keys as
 * routed[]'s).  A slot is written under its flag; a reader that finds it
 * busy (another thread, or a signal handler of its own) probes instead. */
#define SOURCE_SLOTS 256u
static struct source_slot {
	atomic_flag busy;
	sa_family_t family;
	uint64_t key;
	uint8_t addr[16]; /* in_addr or in6_addr */
} sources[SOURCE_SLOTS];

static void *address_of(struct sockaddr_storage *ss)
{
	return ss->ss_family == AF_INET ? (void *)&((struct sockaddr_in *)ss)->sin_addr
					: (void *)&((struct sockaddr_in6 *)ss)->sin6_addr;
}

static size_t address_size(sa_family_t family)
{
	return family == AF_INET ? sizeof(struct in_addr) : sizeof(struct in6_addr);
}

/* The address a connect of fd to flow->dst takes as its source: the
 * socket's own, or the route's (a UDP probe's getsockname()). */
static bool route_source(struct runtime *rt, const struct early_calls *io, int fd,
			 const struct flow *flow, struct sockaddr_storage *src)
{
	if (!sockaddr_is_wildcard(flow->local)) {
		*src = *flow->local;
		return true;
	}
	uint64_t h = (emulate_port_offset(&rt->emu, flow, 0) ^ rng_mix(netns_of(io, fd))) | 1u;
	struct source_slot *slot = &sources[h % SOURCE_SLOTS];
	if (!atomic_flag_test_and_set_explicit(&slot->busy, memory_order_acquire)) {
		bool hit = slot->key == h;
		if (hit) {
			memset(src, 0, sizeof(*src));
			src->ss_family = slot->family;
			memcpy(address_of(src), slot->addr, address_size(slot->family));
		}
		atomic_flag_clear_explicit(&slot->busy, memory_order_release);
		if (hit)
			return true;
	}
	int probe = io->probe_socket(fd, flow->local->ss_family);
	if (probe < 0)
		return false;
	socklen_t len = sizeof(*src);
	bool found = early_same_netns(io, probe, fd) &&
		     io->connect(probe, flow->dst, flow->dst_len) == 0 &&
		     getsockname(probe, (struct sockaddr *)src, &len) == 0;
	io->close(probe);
	if (found && !atomic_flag_test_and_set_explicit(&slot->busy, memory_order_acquire)) {
		slot->key = h;
		slot->family = src->ss_family;
		memcpy(slot->addr, address_of(src), address_size(src->ss_family));
		atomic_flag_clear_explicit(&slot->busy, memory_order_release);
	}
	return found;
}

bool early_tuple_taken(struct runtime *rt, const struct early_calls *io, int fd,
		       const struct flow *flow, unsigned port)
{
	struct sockaddr_storage src;
	int saved = errno, state = -1;

	if (route_source(rt, io, fd, flow, &src))
		state = io->tuple_state(fd, &src, port, flow->dst);
	errno = saved;
	/* A TIME_WAIT the kernel recycles for an explicit bind; a listener
	 * (or a closed socket) holds no 4-tuple. */
	return state > 0 && state != TCP_TIME_WAIT && state != TCP_LISTEN && state != TCP_CLOSE;
}
