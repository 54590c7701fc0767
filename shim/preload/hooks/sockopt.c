/* getsockopt() and setsockopt() of the options the strategies leave set:
 * SO_REUSEADDR after `reuse` (the kernel's stays 1: the port is shared,
 * and its TIME_WAIT must stay re-bindable) and IP_LOCAL_PORT_RANGE after
 * `range` (the kernel's stays [p, p]); the application reads and writes
 * its own.  setsockopt() also notes the options the strategies read
 * (sockstate.c).  Every other call goes straight through. */
#include <errno.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>

#include "../autobind.h"
#include "../pending.h"
#include "../real.h"
#include "../userptr.h"
#include "export.h"

/* SO_REUSEADDR: the kernel answers first - it reads *len, writes value and
 * *len, and fails (EFAULT, EINVAL) before the shim touches either - and
 * then the application's own value replaces the kernel's 1 in what it
 * wrote: the first *len bytes of an int, as the kernel writes one. */
PORTSHIM_EXPORT int getsockopt(int fd, int level, int name, void *value, socklen_t *len)
{
	int app;

	if (level == IPPROTO_IP && name == IP_LOCAL_PORT_RANGE && sock_range_left(fd))
		return sock_range_getsockopt(fd, value, len);
	int result = real_getsockopt(fd, level, name, value, len);
	if (result == 0 && level == SOL_SOCKET && name == SO_REUSEADDR && *len > 0 &&
	    *len <= sizeof(app) && sock_reuse_get(fd, &app))
		memcpy(value, &app, *len);
	/* How a connect in progress ended (pending.c). */
	if (result == 0 && level == SOL_SOCKET && name == SO_ERROR && *len == sizeof(app)) {
		memcpy(&app, value, sizeof(app));
		pending_so_error(&portshim_runtime, fd, app);
	}
	return result;
}

PORTSHIM_EXPORT int setsockopt(int fd, int level, int name, const void *value, socklen_t len)
{
	int on;

	sock_note_setsockopt(fd, level, name);
	/* An unreadable value is the kernel's to refuse (EFAULT). */
	if (level == SOL_SOCKET && name == SO_REUSEADDR && len >= (socklen_t)sizeof(on) &&
	    userptr_copy(&on, value, sizeof(on)) &&
	    sock_reuse_set(fd, on != 0))
		return 0;
	int result = real_setsockopt(fd, level, name, value, len);
	if (result == 0 && level == IPPROTO_IP && name == IP_LOCAL_PORT_RANGE)
		sock_range_set_by_app(fd);
	return result;
}
