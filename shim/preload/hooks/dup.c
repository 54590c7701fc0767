/* dup() and fcntl(F_DUPFD*): a socket that gets a second descriptor can be
 * bound or given options through either, so the notes kept under one
 * number no longer speak for it (sockstate.c); every other call goes
 * straight through. */
#include <fcntl.h>
#include <stdarg.h>
#include <unistd.h>

#include "../autobind.h"
#include "../real.h"
#include "export.h"

PORTSHIM_EXPORT int dup(int fd)
{
	sock_note_not_fresh(fd);
	return real_dup(fd);
}

static void *fcntl_arg(int fd, int cmd, va_list ap)
{
	if (cmd == F_DUPFD || cmd == F_DUPFD_CLOEXEC)
		sock_note_not_fresh(fd);
	return va_arg(ap, void *);
}

PORTSHIM_EXPORT int fcntl(int fd, int cmd, ...)
{
	va_list ap;

	va_start(ap, cmd);
	void *arg = fcntl_arg(fd, cmd, ap);
	va_end(ap);
	return real_fcntl(fd, cmd, arg);
}

PORTSHIM_EXPORT int fcntl64(int fd, int cmd, ...)
{
	va_list ap;

	va_start(ap, cmd);
	void *arg = fcntl_arg(fd, cmd, ap);
	va_end(ap);
	return real_fcntl64(fd, cmd, arg);
}
