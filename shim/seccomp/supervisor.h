/* The parts of the seccomp supervisor (shim/seccomp/): the filter the
 * program runs under (filter.c), the notifications it raises (notify.c),
 * the program's memory and sockets (program.c), ports applied to a socket
 * of the program (answer.c), the process that runs it all (run.c). */
#ifndef PORTSHIM_SECCOMP_SUPERVISOR_H
#define PORTSHIM_SECCOMP_SUPERVISOR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/types.h>

#include "core/decision.h"
#include "core/early.h"
#include "core/inetaddr.h"
#include "core/runtime.h"
#include "uapi.h"


/* filter.c: in the child, before exec: NO_NEW_PRIVS, the filter, and its
 * listener sent to the parent over `channel`.  0, or -1 with a phrase in
 * why. */
int filter_install(int channel, char *why, size_t whylen);
/* In the parent: the listener, taken from the child, or -1 with the
 * child's phrase in why.  Sets filter_wait_killable. */
int filter_receive(int channel, pid_t child, char *why, size_t whylen);
/* The filter was loaded with SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV: once
 * a supervisor thread has taken a call, only a fatal signal ends the
 * program's wait, so the call stays valid while its task lives. */
extern bool filter_wait_killable;

/* A socket of the program, duplicated into the supervisor. */
struct program_sock {
	int fd;        /* the supervisor's duplicate */
	int app_fd;    /* the program's number for it */
	int type;      /* SOCK_STREAM or SOCK_DGRAM */
	uint64_t ino;  /* the socket's inode, or 0 until program_socket_ino() */
	bool nonblocking;
	int flags;     /* F_GETFL, or -1 until program_socket_flags() */
	struct sockaddr_storage local; /* getsockname() */
	socklen_t local_len;
};

/* The program's thread that made the call. */
struct program_task {
	pid_t tid;
	pid_t tgid; /* 0 until known */
};

/* program.c.  Copies len bytes at the program's addr; false if unreadable. */
bool program_read(const struct program_task *t, uint64_t addr, void *buf, size_t len);
/* Copies len bytes to the program's addr; false if it cannot be written. */
bool program_write(const struct program_task *t, uint64_t addr, const void *buf, size_t len);
/* The program's pid (thread group id) for the thread. */
pid_t program_tgid(struct program_task *t);
/* Duplicates the program's fd: true for a TCP or UDP socket (the caller
 * closes s->fd); false otherwise (nothing to close).  `still_valid` is
 * checked once a newly opened pidfd pins the thread, so that a recycled pid
 * is never used. */
bool program_socket(struct program_task *t, int fd, struct program_sock *s,
		   bool (*still_valid)(void *), void *arg);
/* Is it an AF_INET or AF_INET6 socket with no local port yet?  Fills
 * local. */
bool program_socket_unbound(struct program_sock *s);
/* The socket's inode (fstat()): one per socket, whatever its fds. */
uint64_t program_socket_ino(struct program_sock *s);
/* Reads flags and nonblocking (F_GETFL). */
void program_socket_flags(struct program_sock *s);

/* What the program's call returns: its own run by the kernel (carry_on),
 * or the supervisor's result (-1 and error, or val). */
struct answer {
	bool carry_on;
	long val;
	int error;
};

/* sockmemo.c: what the supervisor keeps of a socket, by inode.  get:
 * false when the socket is not listed; set: false likewise. */
enum sockmemo {
	SOCKMEMO_REUSEADDR, /* the program's own SO_REUSEADDR of a socket reuse bound */
	SOCKMEMO_RANGE,     /* the program set IP_LOCAL_PORT_RANGE on it */
	SOCKMEMO_KINDS
};
void sockmemo_keep(enum sockmemo kind, uint64_t ino, int value);
bool sockmemo_get(enum sockmemo kind, uint64_t ino, int *value);
bool sockmemo_set(enum sockmemo kind, uint64_t ino, int value);

/* portrange.c: the program's own IP_LOCAL_PORT_RANGE.  A connected socket
 * keeps the supervisor's [p, p] while no program under it has set a range
 * (portrange_exact() false); the program's getsockopt of the option is
 * trapped and answered as the kernel alone would. */
bool portrange_exact(void);
/* The range the program gave the socket (0 where none), read from the
 * kernel only where some program under the supervisor set one; false where
 * the kernel has no IP_LOCAL_PORT_RANGE (before Linux 6.3). */
bool portrange_of_program(int fd, uint32_t *range);
/* Before the kernel picks a port for the socket itself (a bind(0) or a
 * send let through, a connect under no policy): the [p, p] of a connect
 * that failed or was undone taken off. */
void portrange_release(struct program_sock *s);
/* The program sets the option on the socket (its setsockopt trapped). */
void portrange_program_sets(struct program_sock *s);
/* The program reads it: the supervisor's [p, p] taken off first where the
 * program never set a range on the socket. */
void portrange_program_reads(struct program_sock *s);
/* A TCP socket connected through the supervisor's [p, p] whose port the
 * kernel has let go since (a refused connect, an AF_UNSPEC disconnect)
 * still shows it in getsockname(): true for such a socket (s->local as
 * program_socket_unbound() filled it), its port in s->local now 0, since
 * it is unbound again.  Its [p, p] stays until the call goes on to get a
 * port (portrange_take_off()). */
bool portrange_lost(struct program_sock *s);
void portrange_take_off(struct program_sock *s);

/* sockcalls.c: the calls core/early.c makes, the supervisor's way. */
extern const struct early_calls supervisor_early_calls;

/* answer.c: the calls, as the library's hooks make them (shim/preload/),
 * each filling the decision and the answer. */
void answer_connect(struct runtime *rt, struct program_sock *s, const struct sockaddr *dst,
		   socklen_t len, struct decision *d, struct answer *a);
void answer_bind(struct runtime *rt, struct program_sock *s, const struct sockaddr *local,
		socklen_t len, struct decision *d, struct answer *a);
/* A send to dst on a socket with no port (UDP, or TCP with MSG_FASTOPEN):
 * bound to a port of the connect plan, then the program's own send runs. */
void answer_send(struct runtime *rt, struct program_sock *s, const struct sockaddr *dst,
		socklen_t len, struct decision *d, struct answer *a);

/* notify.c: serves the listener until the process exits (a thread). */
void *notify_serve(void *listener);
/* Asks the kernel (6.6+) to switch straight between the program's thread
 * and the supervisor thread that answers it; nothing on older kernels. */
void listener_sync_wake(int listener);

#endif
