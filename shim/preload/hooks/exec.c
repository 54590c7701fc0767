/* The exec family: a program that inherits a socket the shim connected
 * must find on it only its own options (sockstate.c), and a static program
 * about to replace this one, which the library cannot follow, is named on
 * stderr.  posix_spawn() and system() exec from inside the C library,
 * where no hook reaches. */
#include <fcntl.h>
#include <stdbool.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/elfkind.h"
#include "core/jsonwrite.h"
#include "core/runtime.h"
#include "../init.h"
#include "../real.h"
#include "../sock.h"
#include "export.h"

/* One line on stderr (while fd 2 is what it was) when `path` is a static
 * executable: its connections would have the kernel's ports.  With
 * exec-static = refuse the process ends there instead, status 125, as the
 * command's --strict ends before running one. */
static void warn_if_static(const char *path)
{
	if (!init_ready())
		return;
	bool refuse = portshim_runtime.cfg.exec_static == EXEC_STATIC_REFUSE;
	char interp[256], text[4400];
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return;
	enum elf_kind kind = elf_kind_of(fd, interp, sizeof(interp));
	real_close(fd);
	if (!elf_unreachable(kind, path))
		return;
	struct line l = { text, sizeof(text) - 1, 0 };
	line_raw(&l, refuse ? "portshim: " : "portshim: warning: ");
	line_raw(&l, path);
	line_raw(&l, " is a static executable: the shim cannot follow it there (LD_PRELOAD "
		     "needs the dynamic linker), so its ports would be the kernel's; portshim "
		     "--backend seccomp reaches it");
	line_raw(&l, refuse ? "; exec-static = refuse: it was not run\n" : "\n");
	eventlog_stderr(&portshim_runtime.log, text, l.len);
	if (refuse)
		_exit(PORTSHIM_EXIT_CONFIG);
}

/* execvp()'s search: the first executable `file` along PATH. */
static void warn_if_static_on_path(const char *file)
{
	const char *path = getenv("PATH");
	char full[4096];

	if (strchr(file, '/')) {
		warn_if_static(file);
		return;
	}
	for (const char *dir = path ? path : "/bin:/usr/bin"; dir; ) {
		const char *end = strchr(dir, ':');
		size_t n = end ? (size_t)(end - dir) : strlen(dir);
		if (n + strlen(file) + 2 < sizeof(full)) {
			memcpy(full, n ? dir : ".", n ? n : 1);
			size_t at = n ? n : 1;
			full[at++] = '/';
			strcpy(full + at, file);
			if (access(full, X_OK) == 0) {
				warn_if_static(full);
				return;
			}
		}
		dir = end ? end + 1 : NULL;
	}
}

/* exec() returns only when it failed. */
static int failed(int result)
{
	sock_after_exec_failed();
	return result;
}

PORTSHIM_EXPORT int execve(const char *path, char *const argv[], char *const envp[])
{
	warn_if_static(path);
	sock_before_exec();
	return failed(real_execve(path, argv, envp));
}

PORTSHIM_EXPORT int execv(const char *path, char *const argv[])
{
	warn_if_static(path);
	sock_before_exec();
	return failed(real_execve(path, argv, environ));
}

PORTSHIM_EXPORT int execvp(const char *file, char *const argv[])
{
	warn_if_static_on_path(file);
	sock_before_exec();
	return failed(real_execvp(file, argv));
}

PORTSHIM_EXPORT int execvpe(const char *file, char *const argv[], char *const envp[])
{
	warn_if_static_on_path(file);
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
