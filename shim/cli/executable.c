/* What the wrapper is about to run: found as execvp() would find it, and
 * looked at for what makes LD_PRELOAD useless -- no dynamic linker
 * (a static executable: most Go programs) or a set-user/group-ID or
 * file-capability executable, for which the dynamic linker ignores
 * LD_PRELOAD (a warning, or with --strict an error) -- and
 * which C library its dynamic linker belongs to, which decides the
 * library to preload. */
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "cli.h"
#include "core/elfkind.h"

/* Is there a runnable regular file at path?  0, or the errno execve()
 * would most likely give. */
static int runnable(const char *path)
{
	struct stat st;

	if (stat(path, &st) != 0)
		return errno;
	if (!S_ISREG(st.st_mode) || access(path, X_OK) != 0)
		return EACCES;
	return 0;
}

/* The PATH search of execvp(): the first runnable match; a match that is
 * not runnable only counts (EACCES) if no later one is. */
static int find(const char *name, char *out, size_t size)
{
	const char *path = getenv("PATH");
	int error = ENOENT;

	if (strchr(name, '/')) {
		snprintf(out, size, "%s", name);
		return runnable(name);
	}
	if (!path)
		path = "/usr/local/bin:/bin:/usr/bin";
	for (const char *dir = path;; dir++) {
		size_t len = strcspn(dir, ":");
		/* An empty entry is the current directory. */
		snprintf(out, size, "%.*s%s%s", (int)len, len ? dir : ".", "/", name);
		int e = runnable(out);
		if (e == 0)
			return 0;
		if (e == EACCES)
			error = EACCES;
		dir += len;
		if (!*dir)
			break;
	}
	snprintf(out, size, "%s", name);
	return error;
}

/* The command's kind, from its ELF headers (core/elfkind.c). */
static enum executable_kind elf_kind(int fd, struct executable *t)
{
	static const enum executable_libc libc[] = { LIBC_UNKNOWN, LIBC_GLIBC, LIBC_MUSL };

	switch (elf_kind_of(fd, t->interp, sizeof(t->interp))) {
	case ELF_STATIC:
		return EXECUTABLE_STATIC;
	case ELF_DYNAMIC:
		t->libc = libc[elf_loader_libc(t->interp)];
		return EXECUTABLE_DYNAMIC;
	default:
		return EXECUTABLE_OTHER;
	}
}

/* An executable file: ELF, or a "#!" script, whose interpreter decides
 * (one level: the interpreter of an interpreter is not followed; the
 * kernel allows a few more, which nobody uses). */
static enum executable_kind file_kind(const char *path, struct executable *t, bool follow)
{
	char line[256];
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return EXECUTABLE_OTHER;
	enum executable_kind kind = elf_kind(fd, t);
	ssize_t n = kind == EXECUTABLE_OTHER ? pread(fd, line, sizeof(line) - 1, 0) : 0;
	close(fd);
	if (follow && n > 2 && line[0] == '#' && line[1] == '!') {
		line[n] = '\0';
		char *interp = line + 2 + strspn(line + 2, " \t");
		interp[strcspn(interp, " \t\n")] = '\0';
		snprintf(t->script_interp, sizeof(t->script_interp), "%s", interp);
		kind = *interp ? file_kind(interp, t, false) : EXECUTABLE_OTHER;
	}
	/* The dynamic linker itself has no PT_INTERP, yet honours LD_PRELOAD
	 * for the program it is asked to run. */
	if (kind == EXECUTABLE_STATIC && !elf_unreachable(ELF_STATIC, path)) {
		t->libc = elf_loader_libc(path) == ELF_LIBC_MUSL ? LIBC_MUSL : LIBC_GLIBC;
		snprintf(t->interp, sizeof(t->interp), "%s", path);
		kind = EXECUTABLE_DYNAMIC;
	}
	return kind;
}

/* Does exec give this program "secure execution" (AT_SECURE), in which the
 * dynamic linker ignores LD_PRELOAD? */
static bool secure_exec(const char *path)
{
	struct stat st;

	if (stat(path, &st) != 0)
		return false;
	if ((st.st_mode & S_ISUID) && st.st_uid != geteuid())
		return true;
	if ((st.st_mode & S_ISGID) && st.st_gid != getegid())
		return true;
	/* File capabilities raise a non-root user's privileges the same way. */
	return geteuid() != 0 && getxattr(path, "security.capability", NULL, 0) > 0;
}

void executable_inspect(const char *name, struct executable *t)
{
	memset(t, 0, sizeof(*t));
	t->error = find(name, t->path, sizeof(t->path));
	if (t->error) {
		t->kind = EXECUTABLE_MISSING;
		return;
	}
	t->kind = file_kind(t->path, t, true);
	t->set_id = secure_exec(t->path);
}

const char *executable_unreachable(const struct executable *t, char *buf, unsigned size)
{
	if (t->kind == EXECUTABLE_STATIC)
		snprintf(buf, size, "%s is a static executable%s%s: the shim cannot reach it "
			 "(LD_PRELOAD needs the dynamic linker), so its ports are the kernel's",
			 t->path, t->script_interp[0] ? " run by " : "", t->script_interp);
	else if (t->set_id)
		snprintf(buf, size, "%s is setuid, setgid or has file capabilities: the "
			 "dynamic linker ignores LD_PRELOAD for it, so its ports are the kernel's", t->path);
	else
		return NULL;
	return buf;
}

enum backend executable_backend(enum backend asked, const struct executable *t)
{
	if (asked != BACKEND_AUTO)
		return asked;
	return t->kind == EXECUTABLE_STATIC && !t->set_id ? BACKEND_SECCOMP : BACKEND_PRELOAD;
}
