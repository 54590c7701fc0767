/* See real.h.  Binding happens under pthread_once; a thread that re-enters
 * a hook from inside dlsym() (an allocator or another preload calling the
 * socket API while we resolve) is detected with a thread-local flag and
 * served by the raw system call, so it neither recurses nor deadlocks. */
#include "real.h"
#include "symver.h"

#include <dlfcn.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "core/kernel_ports.h"
#include "core/tuple.h"
#include "netns.h"

static struct {
	int (*socket)(int, int, int);
	int (*connect)(int, const struct sockaddr *, socklen_t);
	int (*bind)(int, const struct sockaddr *, socklen_t);
	ssize_t (*sendto)(int, const void *, size_t, int, const struct sockaddr *, socklen_t);
	ssize_t (*sendmsg)(int, const struct msghdr *, int);
	int (*sendmmsg)(int, struct mmsghdr *, unsigned int, int);
	int (*getsockopt)(int, int, int, void *, socklen_t *);
	int (*setsockopt)(int, int, int, const void *, socklen_t);
	int (*close)(int);
	int (*dup)(int);
	int (*dup2)(int, int);
	int (*dup3)(int, int, int);
	int (*close_range)(unsigned int, unsigned int, int);
	int (*fcntl)(int, int, ...);
	int (*fcntl64)(int, int, ...);
	int (*execve)(const char *, char *const[], char *const[]);
	int (*execvp)(const char *, char *const[]);
	int (*execvpe)(const char *, char *const[], char *const[]);
	int (*fexecve)(int, char *const[], char *const[]);
	int (*setns)(int, int);
	int (*unshare)(int);
} libc;

static pthread_once_t bound = PTHREAD_ONCE_INIT;
/* volatile: the compiler must not drop the store as dead - the only reader
 * is this same thread re-entering from a signal handler or from dlsym(). */
static __thread volatile sig_atomic_t binding __attribute__((tls_model("initial-exec")));

static void *lookup(const char *name)
{
	void *sym = dlsym(RTLD_NEXT, name);
	Dl_info mine, found;

	/* A broken link order could hand back our own hook: never call it. */
	if (sym && dladdr(sym, &found) && dladdr((void *)lookup, &mine) &&
	    found.dli_fbase == mine.dli_fbase)
		return NULL;
	return sym;
}

static void bind_all(void)
{
	binding = 1;
	*(void **)&libc.socket = lookup("socket");
	*(void **)&libc.connect = lookup("connect");
	*(void **)&libc.bind = lookup("bind");
	*(void **)&libc.sendto = lookup("sendto");
	*(void **)&libc.sendmsg = lookup("sendmsg");
	*(void **)&libc.sendmmsg = lookup("sendmmsg");
	*(void **)&libc.getsockopt = lookup("getsockopt");
	*(void **)&libc.setsockopt = lookup("setsockopt");
	*(void **)&libc.close = lookup("close");
	*(void **)&libc.dup = lookup("dup");
	*(void **)&libc.dup2 = lookup("dup2");
	*(void **)&libc.dup3 = lookup("dup3");
	*(void **)&libc.close_range = lookup("close_range");
	*(void **)&libc.fcntl = lookup("fcntl");
	/* glibc 2.28+; elsewhere fcntl() is the same call. */
	*(void **)&libc.fcntl64 = lookup("fcntl64");
	if (!libc.fcntl64)
		libc.fcntl64 = libc.fcntl;
	*(void **)&libc.execve = lookup("execve");
	*(void **)&libc.execvp = lookup("execvp");
	*(void **)&libc.execvpe = lookup("execvpe");
	*(void **)&libc.fexecve = lookup("fexecve");
	*(void **)&libc.setns = lookup("setns");
	*(void **)&libc.unshare = lookup("unshare");
	binding = 0;
}

void real_bind_symbols(void)
{
	if (!binding)
		pthread_once(&bound, bind_all);
}

/* True when the libc table may be used from this thread. */
static inline int ready(void)
{
	if (binding)
		return 0;
	pthread_once(&bound, bind_all);
	return 1;
}

#define CALL(name, fallback, ...) \
	((ready() && libc.name) ? libc.name(__VA_ARGS__) : (fallback))

int real_socket(int domain, int type, int protocol)
{
	return CALL(socket, (int)syscall(SYS_socket, domain, type, protocol), domain, type, protocol);
}

int real_connect(int fd, const struct sockaddr *addr, socklen_t len)
{
	return CALL(connect, (int)syscall(SYS_connect, fd, addr, len), fd, addr, len);
}

int real_bind(int fd, const struct sockaddr *addr, socklen_t len)
{
	return CALL(bind, (int)syscall(SYS_bind, fd, addr, len), fd, addr, len);
}

ssize_t real_sendto(int fd, const void *buf, size_t n, int flags,
		    const struct sockaddr *addr, socklen_t len)
{
	return CALL(sendto, syscall(SYS_sendto, fd, buf, n, flags, addr, len),
		    fd, buf, n, flags, addr, len);
}

ssize_t real_sendmsg(int fd, const struct msghdr *msg, int flags)
{
	return CALL(sendmsg, syscall(SYS_sendmsg, fd, msg, flags), fd, msg, flags);
}

int real_sendmmsg(int fd, struct mmsghdr *vec, unsigned int vlen, int flags)
{
	return CALL(sendmmsg, (int)syscall(SYS_sendmmsg, fd, vec, vlen, flags), fd, vec, vlen, flags);
}

int real_getsockopt(int fd, int level, int name, void *value, socklen_t *len)
{
	return CALL(getsockopt, (int)syscall(SYS_getsockopt, fd, level, name, value, len),
		    fd, level, name, value, len);
}

int real_setsockopt(int fd, int level, int name, const void *value, socklen_t len)
{
	return CALL(setsockopt, (int)syscall(SYS_setsockopt, fd, level, name, value, len),
		    fd, level, name, value, len);
}

int real_close(int fd)
{
	return CALL(close, (int)syscall(SYS_close, fd), fd);
}

/* Not every architecture has SYS_dup2; dup3 differs from it only when
 * the two descriptors are equal. */
static int raw_dup2(int oldfd, int newfd)
{
	if (oldfd == newfd)
		return syscall(SYS_fcntl, oldfd, F_GETFD) < 0 ? -1 : newfd;
	return (int)syscall(SYS_dup3, oldfd, newfd, 0);
}

int real_dup2(int oldfd, int newfd)
{
	return CALL(dup2, raw_dup2(oldfd, newfd), oldfd, newfd);
}

int real_dup3(int oldfd, int newfd, int flags)
{
	return CALL(dup3, (int)syscall(SYS_dup3, oldfd, newfd, flags), oldfd, newfd, flags);
}

int real_close_range(unsigned int first, unsigned int last, int flags)
{
	return CALL(close_range, (int)syscall(SYS_close_range, first, last, flags),
		    first, last, flags);
}

int real_setns(int fd, int nstype)
{
	return CALL(setns, (int)syscall(SYS_setns, fd, nstype), fd, nstype);
}

int real_unshare(int flags)
{
	return CALL(unshare, (int)syscall(SYS_unshare, flags), flags);
}

int real_dup(int fd)
{
	return CALL(dup, (int)syscall(SYS_dup, fd), fd);
}

int real_fcntl(int fd, int cmd, void *arg)
{
	return CALL(fcntl, (int)syscall(SYS_fcntl, fd, cmd, arg), fd, cmd, arg);
}

int real_fcntl64(int fd, int cmd, void *arg)
{
	return CALL(fcntl64, (int)syscall(SYS_fcntl, fd, cmd, arg), fd, cmd, arg);
}

/* Without the libc's own (a hook re-entered while binding): the program
 * named as it is, no PATH search. */
int real_execve(const char *path, char *const argv[], char *const envp[])
{
	return CALL(execve, (int)syscall(SYS_execve, path, argv, envp), path, argv, envp);
}

int real_execvpe(const char *file, char *const argv[], char *const envp[])
{
	return CALL(execvpe, (int)syscall(SYS_execve, file, argv, envp), file, argv, envp);
}

int real_execvp(const char *file, char *const argv[])
{
	return CALL(execvp, (int)syscall(SYS_execve, file, argv, environ), file, argv);
}

int real_fexecve(int fd, char *const argv[], char *const envp[])
{
	return CALL(fexecve, (int)syscall(SYS_execveat, fd, "", argv, envp, AT_EMPTY_PATH), fd,
		    argv, envp);
}

/* The probe is made in the thread's network namespace, the program's own:
 * a socket it made before switching namespaces is told apart by early.c. */
static int probe_socket(int fd, int family)
{
	(void)fd;
	return real_socket(family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
}

/* /proc/sys shows the thread's namespace: the socket's, unless the
 * program moved after making it (then unknown). */
static int fastopen_sysctl(int fd)
{
	int here = real_socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	bool same = here >= 0 && early_same_netns(&real_early_calls, here, fd);

	if (here >= 0)
		real_close(here);
	return same ? kernel_fastopen() : -1;
}

/* Asked in the thread's network namespace, where the program makes its
 * sockets; a socket it made before moving to another is looked up where
 * the thread is now (and seen free). */
static int tuple_state_here(int fd, const struct sockaddr_storage *src, unsigned sport,
			    const struct sockaddr *dst)
{
	(void)fd;
	return tuple_state(src, sport, dst);
}

const struct early_calls real_early_calls = {
	.getsockopt = real_getsockopt,
	.setsockopt = real_setsockopt,
	.probe_socket = probe_socket,
	.connect = real_connect,
	.bind = real_bind,
	.close = real_close,
	.fastopen_sysctl = fastopen_sysctl,
	.tuple_state = tuple_state_here,
	.known_netns = netns_home_cookie,
};
