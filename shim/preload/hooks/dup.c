/* dup() and fcntl(F_DUPFD*): a socket that gets a second descriptor can be
 * bound or given options through either, so the notes kept under one
 * number no longer speak for it, and the options the hooks answer for are
 * answered through the new one too (sockstate.c); every other call goes
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
	int newfd = real_dup(fd);
	sock_note_duplicate(fd, newfd);
	return newfd;
}

static bool duplicates(int cmd)
{
	return cmd == F_DUPFD || cmd == F_DUPFD_CLOEXEC;
}

static void *fcntl_arg(int fd, int cmd, va_list ap)
{
	if (duplicates(cmd))
		sock_note_not_fresh(fd);
	return va_arg(ap, void *);
}

static int fcntl_done(int fd, int cmd, int result)
{
	if (duplicates(cmd))
		sock_note_duplicate(fd, result);
	return result;
}

PORTSHIM_EXPORT int fcntl(int fd, int cmd, ...)
{
	va_list ap;

	va_start(ap, cmd);
	void *arg = fcntl_arg(fd, cmd, ap);
	va_end(ap);
	return fcntl_done(fd, cmd, real_fcntl(fd, cmd, arg));
}

PORTSHIM_EXPORT int fcntl64(int fd, int cmd, ...)
{
	va_list ap;

	va_start(ap, cmd);
	void *arg = fcntl_arg(fd, cmd, ap);
	va_end(ap);
	return fcntl_done(fd, cmd, real_fcntl64(fd, cmd, arg));
}
