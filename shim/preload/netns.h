/* The network namespace of the sockets a program makes, known without a
 * system call per connect.
 *
 * Strategies reuse and exclusive key what a route probe found by the
 * namespace of the socket (its SO_NETNS_COOKIE): one getsockopt() per
 * connect, where the floor of those strategies is the bind itself.  But
 * every socket a process makes lives in the namespace of the thread that
 * made it, and the threads of a process share the one it started in until
 * one of them moves (setns(), unshare()).  So the socket() hook marks the
 * sockets it makes while no thread has moved (FDTABLE_HOME), and the
 * namespace of those is read once per process.
 *
 * The state lives in the page every child finds zeroed (core/forkwipe.h):
 * a child, however made, settles afresh, and first drops the marks it
 * inherited, which speak of its parent's namespace.  A move through the
 * raw system call (no hook sees it), or a CLONE_VM child that enters
 * another namespace by clone() and makes sockets there before exec, is
 * not seen: such a socket is then keyed by the namespace the process
 * started in. */
#ifndef PORTSHIM_NETNS_H
#define PORTSHIM_NETNS_H

#include <stdbool.h>
#include <stdint.h>

/* A socket made now lives in the process's home namespace. */
bool netns_home(void);

/* setns() and unshare() hooks, before the call: from now on the threads
 * may live in different namespaces. */
void netns_moving(void);

/* The namespace cookie of socket fd (0 where the kernel has none), if fd
 * is a socket made at home: read once per process.  False otherwise: the
 * caller asks the kernel. */
bool netns_home_cookie(int fd, uint64_t *cookie);

#endif
