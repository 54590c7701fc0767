/* The exec family: a program that inherits a socket the shim connected
 * must find on it only its own options (sockstate.c).  posix_spawn() and
 * system() exec from inside the C library, where no hook reaches. */
#include <stdarg.h>
#include <stddef.h>
#include <unistd.h>

#include "../real.h"
#include "../sock.h"
#include "export.h"

/* exec() returns only when it failed. */
static int failed(int result)
{
	sock_after_exec_failed();
	return result;
}

PORTSHIM_EXPORT int execve(const char *path, char *const argv[], char *const envp[])
{
	sock_before_exec();
	return failed(real_execve(path, argv, envp));
}

PORTSHIM_EXPORT int execv(const char *path, char *const argv[])
{
	sock_before_exec();
	return failed(real_execve(path, argv, environ));
}

PORTSHIM_EXPORT int execvp(const char *file, char *const argv[])
{
	sock_before_exec();
	return failed(real_execvp(file, argv));
}

PORTSHIM_EXPORT int execvpe(const char *file, char *const argv[], char *const envp[])
{
	sock_before_exec();
	return failed(real_execvpe(file, argv, envp));
}

PORTSHIM_EXPORT int fexecve(int fd, char *const argv[], char *const envp[])
{
	sock_before_exec();
	return failed(real_fexecve(fd, argv, envp));
}

/* execl(), execlp(), execle(): the list as an argv on the stack; execle's
 * environment follows the NULL that ends it. */
/* How many arguments the list holds, `first` included (no nonnull promise
 * here: execl(path, NULL) passes none). */
static size_t count_args(const char *first, va_list ap)
{
	va_list count;
	size_t n;

	va_copy(count, ap);
	for (n = first != NULL; n && va_arg(count, const char *); n++)
		;
	va_end(count);
	return n;
}

static void fill_args(char **argv, size_t n, const char *arg, va_list ap)
{
	argv[0] = (char *)arg;
	for (size_t i = 1; i < n; i++)
		argv[i] = va_arg(ap, char *);
	argv[n] = NULL;
	if (n)
		(void)va_arg(ap, char *); /* the NULL that ends the list */
}

PORTSHIM_EXPORT int execl(const char *path, const char *arg, ...)
{
	size_t n;
	va_list ap;

	va_start(ap, arg);
	n = count_args(arg, ap);
	char *argv[n + 1];
	fill_args(argv, n, arg, ap);
	va_end(ap);
	return execv(path, argv);
}

PORTSHIM_EXPORT int execlp(const char *file, const char *arg, ...)
{
	size_t n;
	va_list ap;

	va_start(ap, arg);
	n = count_args(arg, ap);
	char *argv[n + 1];
	fill_args(argv, n, arg, ap);
	va_end(ap);
	return execvp(file, argv);
}

PORTSHIM_EXPORT int execle(const char *path, const char *arg, ...)
{
	size_t n;
	va_list ap;

	va_start(ap, arg);
	n = count_args(arg, ap);
	char *argv[n + 1];
	fill_args(argv, n, arg, ap);
	char *const *envp = va_arg(ap, char *const *);
	va_end(ap);
	return execve(path, argv, envp);
}
