/* Reading through the application's pointers.  The kernel answers EFAULT
 * for an address, a msghdr or an option value it cannot read; the shim,
 * reading the same memory first, must not take a SIGSEGV instead.  So the
 * hooks read the application's memory only through a copy made here, and a
 * call whose memory cannot be read goes to the kernel untouched: it gets
 * the kernel's EFAULT, nothing is bound and nothing is logged. */
#ifndef PORTSHIM_USERPTR_H
#define PORTSHIM_USERPTR_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/socket.h>

/* Notes, once at set-up, the memory that is known to be readable without a
 * check: the program's loaded segments, the main thread's stack. */
void userptr_init(void);

/* Copies len bytes (len > 0) from the application's src into dst; false,
 * dst untouched, when any of them cannot be read (or the check itself is
 * refused, by a seccomp filter say).  errno is kept. */
bool userptr_copy(void *dst, const void *src, size_t len);

/* The destination or local address of a call, copied into *copy (zeroed
 * beyond len) when it is an inet address the shim may act on: readable,
 * AF_INET or AF_INET6, no longer than the kernel takes.  NULL otherwise:
 * the call is for the kernel alone.  errno is kept. */
const struct sockaddr *userptr_inet_addr(struct sockaddr_storage *copy,
					 const struct sockaddr *addr, socklen_t len);

#endif
