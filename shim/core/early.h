/* Connects the kernel refuses before it needs a port.  TCP's connect()
 * (and a send with MSG_FASTOPEN) looks the route up before it binds, so a
 * socket it refuses stays unbound; a port bound first (strategies reuse
 * and exclusive, in the library and in the supervisor alike) would outlive
 * the failure.  Both front ends ask here, and pass such a call straight to
 * the kernel.  Strategy range never binds first.  (UDP autobinds before it
 * looks, with or without the shim.) */
#ifndef PORTSHIM_EARLY_H
#define PORTSHIM_EARLY_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

#include "emulate.h"
#include "runtime.h"

/* Linux 5.14, <asm-generic/socket.h>: the cookie of a socket's network
 * namespace, which tells whether a probe was made where the socket lives. */
#ifndef SO_NETNS_COOKIE
#define SO_NETNS_COOKIE 71
#endif

/* The socket calls the check makes, given by the front end: the core makes
 * no call the library interposes (the library passes its real symbols, the
 * supervisor libc's). */
struct early_calls {
	int (*getsockopt)(int fd, int level, int name, void *value, socklen_t *len);
	int (*setsockopt)(int fd, int level, int name, const void *value, socklen_t len);
	/* A UDP socket of `family` (close-on-exec) for the route probe, made
	 * in the network namespace of the program's socket fd where the
	 * front end can (the supervisor lives in a namespace of its own);
	 * early.c checks which namespace it got. */
	int (*probe_socket)(int fd, int family);
	int (*connect)(int fd, const struct sockaddr *addr, socklen_t len);
	int (*bind)(int fd, const struct sockaddr *addr, socklen_t len);
	int (*close)(int fd);
	/* net.ipv4.tcp_fastopen as the network namespace of socket fd has
	 * it, or -1 when it cannot be read there. */
	int (*fastopen_sysctl)(int fd);
	/* tuple_state() (tuple.h) asked of the network namespace of socket
	 * fd, or -1 when it cannot be asked there. */
	int (*tuple_state)(int fd, const struct sockaddr_storage *src, unsigned sport,
			   const struct sockaddr *dst);
	/* Optional: the SO_NETNS_COOKIE of socket fd where the front end
	 * knows it without a system call (true), else false and early.c asks
	 * with getsockopt above. */
	bool (*known_netns)(int fd, uint64_t *cookie);
};

/* Do sockets a and b live in one network namespace?  Taken as yes before
 * Linux 5.14, which has no SO_NETNS_COOKIE. */
bool early_same_netns(const struct early_calls *io, int a, int b);

/* Without a system call: a v4-mapped address on an IPV6_V6ONLY socket, a
 * link-local IPv6 address without a scope id on a socket bound to no
 * device.  With one, once per destination and network namespace: no route
 * (a probe's connect() fails, the probe made in the socket's namespace,
 * with its mark, from its source address, the socket bound to no device;
 * else the kernel judges).  True when the kernel would refuse the connect of fd (a TCP
 * socket: flow->type, its address flow->local) to flow->dst.  errno is
 * left as it was. */
bool early_refusal(struct runtime *rt, const struct early_calls *io, int fd,
		   const struct flow *flow);

/* Strategy reuse found `port` in use (a bind without SO_REUSEADDR was
 * refused): does a live socket hold its 4-tuple towards flow->dst, from the
 * source address this connect would take?  Then bind(port) would work and
 * the connect fail, and a bound socket cannot be unbound.  False when it is
 * free, held by a TIME_WAIT (recycled), or unknown.  errno is kept. */
bool early_tuple_taken(struct runtime *rt, const struct early_calls *io, int fd,
		       const struct flow *flow, unsigned port);

/* A TCP send with MSG_FASTOPEN on socket fd fails with EOPNOTSUPP before
 * the kernel needs a port when the namespace's net.ipv4.tcp_fastopen has
 * the client side (bit 1) off.  errno is left as it was. */
bool early_fastopen_refused(const struct early_calls *io, int fd);

#endif
