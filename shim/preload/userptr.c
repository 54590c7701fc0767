/* See userptr.h.
 *
 * How memory is checked: a futex(FUTEX_CMP_REQUEUE_PRIVATE) with no waiter
 * to wake and none to requeue reads the 32-bit word at an address and has
 * no other effect: EFAULT if the word cannot be read, else EAGAIN or 0.
 * Readability is per page, and an address, msghdr or option value spans
 * at most two pages, so one word in the first page and one in the last
 * check it all; then memcpy() reads it.  One system call on the connect()
 * path (two when the bytes cross a page), about 0.3 us here, where
 * process_vm_readv() on ourselves, which copies and checks at once, takes
 * about 1.1 us (it pins the pages) and is refused by seccomp profiles that
 * allow every futex.  What is left: a thread that unmaps the memory between
 * the check and the copy, while another passes it to connect(), still
 * crashes - that program races against itself. */
#include "userptr.h"

#include <errno.h>
#include <stdint.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "core/inetaddr.h"

/* <linux/futex.h>'s value; musl-gcc does not see the kernel's headers. */
#ifndef FUTEX_CMP_REQUEUE_PRIVATE
#define FUTEX_CMP_REQUEUE_PRIVATE (4 | 128)
#endif

/* 0 if the word holding *p can be read, else an errno. */
static int probe(const void *p)
{
	uint32_t *word = (uint32_t *)((uintptr_t)p & ~(uintptr_t)3);
	/* nr_wake 0, nr_requeue 0 (passed as the timeout argument), cmpval 0. */
	long r = syscall(SYS_futex, word, FUTEX_CMP_REQUEUE_PRIVATE, 0, (void *)0, word, 0);

	return r >= 0 || errno == EAGAIN ? 0 : errno;
}

bool userptr_copy(void *dst, const void *src, size_t len)
{
	int saved = errno;
	/* Integer arithmetic: src may point anywhere. */
	uintptr_t first = (uintptr_t)src, last = first + len - 1;
	/* At most 4 KiB, the smallest page there is: two pages at most, and
	 * within one 4 KiB block, one probe. */
	bool ok = len <= 4096 && last >= first && probe(src) == 0 &&
		  ((first ^ last) < 4096 || probe((const void *)last) == 0);

	if (ok)
		memcpy(dst, src, len);
	errno = saved;
	return ok;
}

const struct sockaddr *userptr_inet_addr(struct sockaddr_storage *copy,
					 const struct sockaddr *addr, socklen_t len)
{
	/* NULL, a length the kernel refuses before reading (more than any
	 * address; too short for a family), or memory it would fault on. */
	if (!addr || len < sizeof(sa_family_t) || len > sizeof(*copy))
		return NULL;
	memset(copy, 0, sizeof(*copy));
	if (!userptr_copy(copy, addr, len) || !inetaddr_complete((struct sockaddr *)copy, len))
		return NULL;
	return (const struct sockaddr *)copy;
}
