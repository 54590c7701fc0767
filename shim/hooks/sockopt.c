/* getsockopt() and setsockopt() of what the strategies leave on a socket:
 *   SO_REUSEADDR after `reuse`: the kernel's value stays 1 (the port is
 *     shared, and its TIME_WAIT must stay re-bindable); the application
 *     reads and writes its own;
 *   IP_LOCAL_PORT_RANGE after `range`, when the application never set one:
 *     the [p, p] stays (putting 0 back would cost a system call per
 *     connect) until the application reads or sets the option.
 * Every other call goes straight through. */
#include <errno.h>
#include <netinet/in.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>

#include "../autoconnect.h"
#include "../real.h"
#include "../userptr.h"
#include "export.h"

#ifndef IP_LOCAL_PORT_RANGE
#define IP_LOCAL_PORT_RANGE 51
#endif

/* The [p, p] IP_LOCAL_PORT_RANGE that strategy range left on fd, if any,
 * replaced by the application's 0 before the application reads or writes
 * the option: it has done its work (the socket has its port), and the
 * kernel then answers alone - lengths, EFAULT, a failed write leaving 0 -
 * as it would natively.  One system call, on this rare call only. */
static void range_give_back(struct runtime *rt, int fd)
{
	int saved = errno;
	uint32_t none = 0;

	if (fdtable_change(&rt->fds, fd, 0, FDTABLE_RANGE) & FDTABLE_RANGE)
		real_setsockopt(fd, IPPROTO_IP, IP_LOCAL_PORT_RANGE, &none, sizeof(none));
	errno = saved;
}

/* SO_REUSEADDR: the kernel answers first - it reads *len, writes value and
 * *len, and fails (EFAULT, EINVAL) before the shim touches either - and
 * then the application's own value replaces the kernel's 1 in what it
 * wrote: the first *len bytes of an int, as the kernel writes one. */
PORTSHIM_EXPORT int getsockopt(int fd, int level, int name, void *value, socklen_t *len)
{
	struct runtime *rt = &portshim_runtime;
	int result, app;

	if (level == IPPROTO_IP && name == IP_LOCAL_PORT_RANGE)
		range_give_back(rt, fd);
	result = real_getsockopt(fd, level, name, value, len);
	if (result == 0 && level == SOL_SOCKET && name == SO_REUSEADDR && *len > 0 &&
	    *len <= sizeof(app) && autoconnect_reuse_get(rt, fd, &app))
		memcpy(value, &app, *len);
	return result;
}

PORTSHIM_EXPORT int setsockopt(int fd, int level, int name, const void *value, socklen_t len)
{
	int on;

	if (level == IPPROTO_IP && name == IP_LOCAL_PORT_RANGE)
		range_give_back(&portshim_runtime, fd);
	sock_note_setsockopt(&portshim_runtime, fd, level, name);
	/* An unreadable value is the kernel's to refuse (EFAULT). */
	if (level == SOL_SOCKET && name == SO_REUSEADDR && len >= (socklen_t)sizeof(on) &&
	    userptr_copy(&on, value, sizeof(on)) &&
	    autoconnect_reuse_set(&portshim_runtime, fd, on != 0))
		return 0;
	return real_setsockopt(fd, level, name, value, len);
}
