/* getsockopt() and setsockopt() of SO_REUSEADDR on a socket connected by
 * strategy `reuse`: the kernel's value stays 1 (the port is shared, and its
 * TIME_WAIT must stay re-bindable), the application reads and writes its
 * own.  Every other call goes straight through. */
#include <sys/socket.h>

#include "../autoconnect.h"
#include "../real.h"
#include "export.h"

PORTSHIM_EXPORT int getsockopt(int fd, int level, int name, void *value, socklen_t *len)
{
	int app;

	if (level == SOL_SOCKET && name == SO_REUSEADDR && value && len &&
	    *len >= (socklen_t)sizeof(int) &&
	    autoconnect_reuse_get(&portshim_runtime, fd, &app)) {
		*(int *)value = app;
		*len = sizeof(int);
		return 0;
	}
	return real_getsockopt(fd, level, name, value, len);
}

PORTSHIM_EXPORT int setsockopt(int fd, int level, int name, const void *value, socklen_t len)
{
	if (level == SOL_SOCKET && name == SO_REUSEADDR && value && len >= (socklen_t)sizeof(int) &&
	    autoconnect_reuse_set(&portshim_runtime, fd, *(const int *)value != 0))
		return 0;
	return real_setsockopt(fd, level, name, value, len);
}
