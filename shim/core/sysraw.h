/* System calls whose glibc wrappers are newer than the oldest glibc the
 * library loads on (2.17, README.md "Building"): fstat() and fstatat() became
 * functions of their own in glibc 2.33, gettid() came in 2.30, getrandom()
 * in 2.25.  Where the kernel's struct stat is the C library's (64-bit x86
 * and Arm) they are made as raw system calls; elsewhere, and under musl,
 * the C library's functions are used. */
#ifndef PORTSHIM_SYSRAW_H
#define PORTSHIM_SYSRAW_H

#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <unistd.h>

#if defined(__GLIBC__) && (defined(__x86_64__) || defined(__aarch64__))
static inline int sys_fstat(int fd, struct stat *st)
{
	return (int)syscall(SYS_fstat, fd, st);
}
static inline int sys_fstatat(int dirfd, const char *path, struct stat *st, int flags)
{
	return (int)syscall(SYS_newfstatat, dirfd, path, st, flags);
}
#else
#define sys_fstat fstat
#define sys_fstatat fstatat
#endif

static inline long sys_gettid(void)
{
	return syscall(SYS_gettid);
}

static inline long sys_getrandom(void *buf, size_t len, unsigned flags)
{
	return syscall(SYS_getrandom, buf, len, flags);
}

#endif
