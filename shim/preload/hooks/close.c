/* close(), dup2(), dup3(), close_range(): a descriptor that goes away gives
 * its port back (dup() and fcntl() are in dup.c).  The port is released before the real call: released
 * after, a new socket given the same fd number in between by another
 * thread could lose its own record. */
#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

#include "../autobind.h"
#include "../real.h"
#include "export.h"

/* <linux/close_range.h>'s flag; musl's headers do not include the kernel's. */
#ifndef CLOSE_RANGE_CLOEXEC
#define CLOSE_RANGE_CLOEXEC (1U << 2)
#endif

PORTSHIM_EXPORT int close(int fd)
{
	autobind_forget(&portshim_runtime, fd);
	return real_close(fd);
}

/* dup2/dup3 close newfd only when oldfd is valid and differs from it; and
 * oldfd's socket now has two names (sockstate.c). */
static void forget_replaced(int oldfd, int newfd)
{
	int saved = errno;

	if (oldfd != newfd && real_fcntl(oldfd, F_GETFD, NULL) >= 0) {
		autobind_forget(&portshim_runtime, newfd);
		sock_note_not_fresh(oldfd);
	}
	errno = saved;
}

PORTSHIM_EXPORT int dup2(int oldfd, int newfd)
{
	forget_replaced(oldfd, newfd);
	int result = real_dup2(oldfd, newfd);
	sock_note_duplicate(oldfd, result);
	return result;
}

PORTSHIM_EXPORT int dup3(int oldfd, int newfd, int flags)
{
	forget_replaced(oldfd, newfd);
	int result = real_dup3(oldfd, newfd, flags);
	sock_note_duplicate(oldfd, result);
	return result;
}

PORTSHIM_EXPORT int close_range(unsigned int first, unsigned int last, int flags)
{
	struct runtime *rt = &portshim_runtime;

	if (!(flags & CLOSE_RANGE_CLOEXEC)) {
		unsigned int high = (unsigned int)fdtable_high(&portshim_fds);
		for (unsigned int fd = first; fd <= last && fd < high; fd++)
			autobind_forget(rt, (int)fd);
	}
	return real_close_range(first, last, flags);
}
