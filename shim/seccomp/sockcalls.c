/* The socket calls shim/core/early.c makes, as the supervisor makes them:
 * its own, on its duplicates of the program's sockets, except that the
 * route probe is made, net.ipv4.tcp_fastopen read and a 4-tuple looked up
 * in the network namespace of the program's socket.
 * The supervisor stays in the namespace it started in; a program may have
 * moved to another (`unshare -n`, `ip netns exec`), where other routes
 * hold.  The worker thread enters the socket's namespace just to make the
 * probe (setns() moves only the calling thread), which needs CAP_NET_ADMIN
 * and CAP_SYS_ADMIN over it: a supervisor running as the user who made the
 * namespace, or as root, has them.  Without them the probe stays in the
 * supervisor's namespace, and early.c, seeing another namespace, lets the
 * kernel judge. */
#include <fcntl.h>
#include <linux/sockios.h>
#include <pthread.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/kernel_ports.h"
#include "core/tuple.h"
#include "supervisor.h"

static int own_netns = -1;
static bool can_return; /* may a thread setns() back into own_netns? */
static uint64_t own_cookie; /* its SO_NETNS_COOKIE; 0 before Linux 5.14 */
static pthread_once_t own_netns_once = PTHREAD_ONCE_INIT;

/* The process's namespace, through its leader thread, which never moves.
 * Entering it is a no-op that asks for the same rights as coming back to
 * it: a thread that could not come back never leaves. */
static void open_own_netns(void)
{
	int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	socklen_t len = sizeof(own_cookie);

	if (s >= 0 && getsockopt(s, SOL_SOCKET, SO_NETNS_COOKIE, &own_cookie, &len) != 0)
		own_cookie = 0;
	if (s >= 0)
		close(s);
	own_netns = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
	can_return = own_netns >= 0 && setns(own_netns, CLONE_NEWNET) == 0;
}

/* Does socket fd live in the supervisor's namespace?  The cookie needs no
 * privilege; without it (before 5.14) the namespace's inode, which needs
 * CAP_NET_ADMIN over it; without either, taken as yes, as early.c does. */
static bool in_own_netns(int fd)
{
	uint64_t cookie;
	socklen_t len = sizeof(cookie);
	struct stat theirs_st, own_st;

	if (own_cookie && getsockopt(fd, SOL_SOCKET, SO_NETNS_COOKIE, &cookie, &len) == 0)
		return cookie == own_cookie;
	int theirs = ioctl(fd, SIOCGSKNS);
	if (theirs < 0)
		return true;
	bool same = fstat(theirs, &theirs_st) != 0 || fstat(own_netns, &own_st) != 0 ||
		    theirs_st.st_ino == own_st.st_ino;
	close(theirs);
	return same;
}

enum netns_move {
	NETNS_HOME,    /* the socket lives in the supervisor's namespace */
	NETNS_ENTERED, /* this thread moved into the socket's */
	NETNS_AWAY,    /* another one, which this thread may not enter */
};

/* Moves this thread into the network namespace of socket fd, when it is
 * not the supervisor's and the supervisor may. */
static enum netns_move enter_netns_of(int fd)
{
	pthread_once(&own_netns_once, open_own_netns);
	if (in_own_netns(fd))
		return NETNS_HOME;
	if (!can_return)
		return NETNS_AWAY;
	int theirs = ioctl(fd, SIOCGSKNS);
	if (theirs < 0)
		return NETNS_AWAY;
	enum netns_move move = setns(theirs, CLONE_NEWNET) == 0 ? NETNS_ENTERED : NETNS_AWAY;
	close(theirs);
	return move;
}

/* Back home.  Should that fail, this thread's next probes are made in the
 * program's namespace, and told apart the same way. */
static void leave_netns(void)
{
	setns(own_netns, CLONE_NEWNET);
}

static int probe_socket(int fd, int family)
{
	int probe = socket(family, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	if (probe < 0 || early_same_netns(&supervisor_early_calls, probe, fd) ||
	    enter_netns_of(fd) != NETNS_ENTERED)
		return probe; /* where it stays another namespace, early.c sees it */
	close(probe);
	probe = socket(family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	leave_netns();
	return probe;
}

/* /proc/sys shows the namespace of the thread that reads it. */
static int fastopen_sysctl(int fd)
{
	enum netns_move move = enter_netns_of(fd);

	if (move == NETNS_AWAY)
		return -1; /* unknown: the kernel judges */
	int value = kernel_fastopen();
	if (move == NETNS_ENTERED)
		leave_netns();
	return value;
}

/* sock_diag answers for the namespace its socket was made in. */
static int tuple_state_of(int fd, const struct sockaddr_storage *src, unsigned sport,
			  const struct sockaddr *dst)
{
	enum netns_move move = enter_netns_of(fd);

	if (move == NETNS_AWAY)
		return -1;
	int state = tuple_state(src, sport, dst);
	if (move == NETNS_ENTERED)
		leave_netns();
	return state;
}

/* glibc declares connect() and bind() with a transparent union argument. */
static int sys_connect(int fd, const struct sockaddr *addr, socklen_t len)
{
	return connect(fd, addr, len);
}

static int sys_bind(int fd, const struct sockaddr *addr, socklen_t len)
{
	return bind(fd, addr, len);
}

static int sys_getsockopt(int fd, int level, int name, void *value, socklen_t *len)
{
	return getsockopt(fd, level, name, value, len);
}

static int sys_setsockopt(int fd, int level, int name, const void *value, socklen_t len)
{
	return setsockopt(fd, level, name, value, len);
}

const struct early_calls supervisor_early_calls = {
	.getsockopt = sys_getsockopt,
	.setsockopt = sys_setsockopt,
	.probe_socket = probe_socket,
	.connect = sys_connect,
	.bind = sys_bind,
	.close = close,
	.fastopen_sysctl = fastopen_sysctl,
	.tuple_state = tuple_state_of,
};
