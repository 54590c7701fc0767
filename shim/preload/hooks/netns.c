/* setns(), unshare(): a thread that moves to another network namespace
 * makes its sockets there, so the shim stops taking a new socket's
 * namespace for the process's (see netns.h). */
#include <sched.h>

#include "../netns.h"
#include "../real.h"
#include "export.h"

PORTSHIM_EXPORT int setns(int fd, int nstype)
{
	/* 0 takes whatever namespace fd is; a pidfd names several. */
	if (nstype == 0 || (nstype & CLONE_NEWNET))
		netns_moving();
	return real_setns(fd, nstype);
}

PORTSHIM_EXPORT int unshare(int flags)
{
	if (flags & CLONE_NEWNET)
		netns_moving();
	return real_unshare(flags);
}
