/* What the shim knows about a socket, and how it finds out (sockstate.c):
 * notes kept in the descriptor table by the hooks, else system calls. */
#ifndef PORTSHIM_SOCK_H
#define PORTSHIM_SOCK_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

#include "core/emulate.h"
#include "core/inetaddr.h"
#include "fdtable.h"

/* Linux 6.3's option (<linux/in.h>), for headers older than it. */
#ifndef IP_LOCAL_PORT_RANGE
#define IP_LOCAL_PORT_RANGE 51
#endif

/* What the kernel says about a socket the shim may act on. */
struct sock {
	int fd;
	bool known;                     /* made by socket(), untouched since */
	uint32_t app;                   /* FDTABLE_APP_SET_* noted for it */
	int type;                       /* SOCK_STREAM (TCP) or SOCK_DGRAM (UDP) */
	struct sockaddr_storage local;  /* getsockname(): the address to keep */
	socklen_t local_len;
	unsigned lost;                  /* a port range left it and the kernel let go since
					 * (its [p, p] still on it): unbound */
};

/* What the hooks note about a socket: socket() made fd; setsockopt() of
 * one of the options the strategies read. */
void sock_note_socket(int fd, int domain, int type, int protocol);
/* fd was bound, or got a second descriptor (dup, dup2, dup3, fcntl
 * F_DUPFD): what socket() noted no longer holds, and the socket is
 * inspected with system calls from now on, through any of its names. */
void sock_note_not_fresh(int fd);
/* newfd is a second name of oldfd's socket (dup and friends, after the
 * call): the options the hooks answer for are answered through it too. */
void sock_note_duplicate(int oldfd, int newfd);
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

/* The flow of a call on s towards dst (NULL for bind). */
struct flow sock_flow(const struct sock *s, const struct sockaddr *dst, socklen_t len);

/* Around exec (hooks/exec.c): what the new program inherits shows only
 * its own options; if exec fails, the shim's are back. */
void sock_before_exec(void);
void sock_after_exec_failed(void);

/* Strategy range left [p, p] on fd (FDTABLE_RANGE): the kernel may choose
 * fd's port next (a bind(), or a connect or send that is not the shim's,
 * after a failed connect or a disconnect; listen() refuses a socket that
 * was connected), so the application's 0 goes back now.  Keeps errno. */
void sock_range_release(int fd);
/* Did strategy range leave [p, p] on fd (FDTABLE_RANGE)? */
bool sock_range_left(int fd);
/* getsockopt(IP_LOCAL_PORT_RANGE) on such a fd: the kernel's answer, with
 * the application's 0 written as the kernel would have written it. */
int sock_range_getsockopt(int fd, void *value, socklen_t *len);
/* The application's own setsockopt(IP_LOCAL_PORT_RANGE) on fd worked. */
void sock_range_set_by_app(int fd);

/* The local port of fd as the kernel reports it; 0 if none. */
unsigned sock_local_port(int fd);

#endif
