/* getsockopt() and setsockopt() of what the strategies leave on a socket:
 *   SO_REUSEADDR after `reuse`: the kernel's value stays 1 (the port is
 *     shared, and its TIME_WAIT must stay re-bindable); the application
 *     reads and writes its own;
 *   IP_LOCAL_PORT_RANGE after `range`, when the application never set one:
 *     the [p, p] stays (putting 0 back would cost a system call per
 *     connect); the application reads 0.
 * Every other call goes straight through. */
#include <netinet/in.h>
#include <stdint.h>
#include <sys/socket.h>

#include "../autoconnect.h"
#include "../real.h"
#include "export.h"

#ifndef IP_LOCAL_PORT_RANGE
#define IP_LOCAL_PORT_RANGE 51
#endif

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
	if (level == IPPROTO_IP && name == IP_LOCAL_PORT_RANGE && value && len &&
	    *len >= (socklen_t)sizeof(uint32_t) &&
	    (fdtable_get(&portshim_runtime.fds, fd) & FDTABLE_RANGE)) {
		*(uint32_t *)value = 0;
		*len = sizeof(uint32_t);
		return 0;
	}
	return real_getsockopt(fd, level, name, value, len);
}

PORTSHIM_EXPORT int setsockopt(int fd, int level, int name, const void *value, socklen_t len)
{
	sock_note_setsockopt(&portshim_runtime, fd, level, name);
	if (level == SOL_SOCKET && name == SO_REUSEADDR && value && len >= (socklen_t)sizeof(int) &&
	    autoconnect_reuse_set(&portshim_runtime, fd, *(const int *)value != 0))
		return 0;
	return real_setsockopt(fd, level, name, value, len);
}
