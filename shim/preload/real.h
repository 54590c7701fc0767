/* The libc functions the hooks stand in front of, bound once.
 *
 * Every call the shim makes to a hooked function goes through here, never
 * through the hooked name (which would recurse into the shim).  While the
 * table is being bound, and for any symbol the dynamic linker cannot find,
 * the raw system call is used instead. */
#ifndef PORTSHIM_REAL_H
#define PORTSHIM_REAL_H

#include <sys/socket.h>
#include <sys/types.h>

#include "core/early.h"

/* Binds the table now (the library constructor does), so that no hook has
 * to do it lazily, possibly interrupted by a signal handler that calls
 * another hook. */
void real_bind_symbols(void);

int real_socket(int domain, int type, int protocol);
int real_connect(int fd, const struct sockaddr *addr, socklen_t len);
int real_bind(int fd, const struct sockaddr *addr, socklen_t len);
ssize_t real_sendto(int fd, const void *buf, size_t n, int flags,
		    const struct sockaddr *addr, socklen_t len);
ssize_t real_sendmsg(int fd, const struct msghdr *msg, int flags);
int real_sendmmsg(int fd, struct mmsghdr *vec, unsigned int vlen, int flags);
int real_getsockopt(int fd, int level, int name, void *value, socklen_t *len);
int real_setsockopt(int fd, int level, int name, const void *value, socklen_t len);
int real_close(int fd);
int real_dup(int fd);
int real_dup2(int oldfd, int newfd);
int real_dup3(int oldfd, int newfd, int flags);
int real_close_range(unsigned int first, unsigned int last, int flags);
/* The argument is passed on as it came: an int or a pointer, in the same
 * register either way on the ABIs Linux has. */
int real_fcntl(int fd, int cmd, void *arg);
int real_fcntl64(int fd, int cmd, void *arg);
int real_execve(const char *path, char *const argv[], char *const envp[]);
int real_execvp(const char *file, char *const argv[]);
int real_execvpe(const char *file, char *const argv[], char *const envp[]);
int real_fexecve(int fd, char *const argv[], char *const envp[]);
int real_setns(int fd, int nstype);
int real_unshare(int flags);

/* The calls core/early.c makes, as these. */
extern const struct early_calls real_early_calls;

#endif
