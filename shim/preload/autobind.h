/* Giving a socket a local port chosen by a policy, before the kernel would
 * pick one itself.  This is the layer under the hooks: it inspects sockets
 * and applies ports, using the pure modules for every decision. */
#ifndef PORTSHIM_AUTOBIND_H
#define PORTSHIM_AUTOBIND_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

#include "core/decision.h"
#include "core/portmap.h"
#include "core/runtime.h"
#include "fdtable.h"

/* What the kernel says about a socket the shim may act on. */
struct sock {
	int fd;
	bool known;                     /* made by socket(), untouched since */
	uint32_t app;                   /* FDTABLE_APP_SET_* noted for it */
	int type;                       /* SOCK_STREAM (TCP) or SOCK_DGRAM (UDP) */
	struct sockaddr_storage local;  /* getsockname(): the address to keep */
	socklen_t local_len;
};

/* The port of an AF_INET or AF_INET6 address. */
unsigned sockaddr_port(const struct sockaddr_storage *ss);
void sockaddr_set_port(struct sockaddr_storage *ss, unsigned port);

/* sockstate.c: what the hooks note about a socket, and inspecting it.
 * socket() made fd; bind() was called on fd; setsockopt() of one of the
 * options the strategies touch. */
void sock_note_socket(int fd, int domain, int type, int protocol);
/* fd was bound, or got a second descriptor (dup, dup2, dup3, fcntl
 * F_DUPFD): what socket() noted no longer holds, and the socket is
 * inspected with system calls from now on, through any of its names. */
void sock_note_not_fresh(int fd);
void sock_note_setsockopt(int fd, int level, int name);

/* True when fd is an AF_INET/AF_INET6 TCP or UDP socket without a local
 * port (it may have a local address, from IP_BIND_ADDRESS_NO_PORT). */
bool sock_inspect(int fd, struct sock *s);

/* Is `addr` a destination the socket can take, long enough for its family? */
bool sock_addr_fits(const struct sock *s, const struct sockaddr *addr, socklen_t len);

/* May the application have set this option (FDTABLE_APP_SET_*) on s?
 * Always true for a socket the hooks did not see made. */
bool sock_app_set(const struct sock *s, uint32_t what);

/* The socket's IP_LOCAL_PORT_RANGE (hi << 16 | lo, 0 when unset); false
 * when the kernel does not know the option (before 6.3). */
bool sock_port_range(const struct sock *s, uint32_t *range);

/* The kernel's connect() and bind(0) never choose a port that a socket
 * with SO_REUSEPORT is bound to, but an explicit bind() of a socket with
 * SO_REUSEPORT joins it: the application's SO_REUSEPORT is off while the
 * shim binds a chosen port.  pause: true when it was on and is now off. */
bool sock_reuseport_pause(const struct sock *s);
void sock_reuseport_resume(const struct sock *s, bool paused);

/* The socket's SO_REUSEADDR as the application set it. */
int sock_reuseaddr(const struct sock *s);

/* The application asked for SO_REUSEADDR on fd: true if the shim answered
 * (fd is managed by strategy reuse), with *value the application's own. */
bool sock_reuse_get(int fd, int *value);
bool sock_reuse_set(int fd, int value);

/* The ports an IP_LOCAL_PORT_RANGE value allows: all when it is 0. */
struct portwindow port_range_window(uint32_t range);

enum pick_result {
	PICK_BOUND,     /* the socket is bound to pick->port */
	PICK_EXHAUSTED, /* no port of the plan could be had */
	PICK_GAVE_UP,   /* bind failed for another reason: pick->error */
};

struct pick {
	unsigned port;
	unsigned attempts; /* ports tried */
	int error;
};

/* Binds s exclusively to a port of `plan` at address `addr` (whose port is
 * ignored), trying candidates in the plan's order; a port the kernel says is
 * busy is skipped and remembered.  Records the port against the fd. */
enum pick_result autobind_exclusive(struct runtime *rt, struct plan *plan, const struct sock *s,
				    const struct sockaddr *addr, socklen_t len,
				    const struct flow *flow, struct pick *pick);

/* The flow of a call on s towards dst (NULL for bind). */
struct flow sock_flow(const struct sock *s, const struct sockaddr *dst, socklen_t len);

/* The errno the kernel gives when it cannot find a port itself. */
int autobind_exhausted_errno(const struct sock *s, bool explicit_bind);

/* The local port of fd as the kernel reports it; 0 if none. */
unsigned sock_local_port(int fd);

/* A decision about a call on s, to be completed by whoever applies it. */
void decision_begin(struct decision *d, enum shim_call call, const struct sock *s,
		    const struct sockaddr *addr, socklen_t len, const struct plan *plan);
/* Completes d for a call the kernel handled alone (policy off, fallback):
 * `result` is the call's return value, errno still its errno. */
void decision_kernel(struct decision *d, enum decision_result result_kind, int result);

/* Gives back the port recorded for fd, if any (fd is being closed). */
void autobind_forget(struct runtime *rt, int fd);

#endif
