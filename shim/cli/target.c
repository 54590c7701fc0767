/* What the wrapper is about to run: found as execvp() would find it, and
 * looked at for what makes LD_PRELOAD useless -- no dynamic linker
 * (a static executable: most Go programs) or a set-user/group-ID or
 * file-capability executable, for which the dynamic linker ignores
 * LD_PRELOAD.  Only a warning: the command still runs, as asked. */
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "cli.h"

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

/* Static, dynamic or not ELF at all (a script: its interpreter counts,
 * and it is almost always dynamic). */
static enum target_kind elf_kind(const char *path)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	unsigned char ident[EI_NIDENT];
	enum target_kind kind = TARGET_OTHER;
	uint64_t phoff;
	unsigned phnum, phentsize;

	if (fd < 0)
		return TARGET_OTHER;
	if (pread(fd, ident, sizeof(ident), 0) != (ssize_t)sizeof(ident) ||
	    memcmp(ident, ELFMAG, SELFMAG) != 0)
		goto out;
	if (ident[EI_CLASS] == ELFCLASS64) {
		Elf64_Ehdr eh;
		if (pread(fd, &eh, sizeof(eh), 0) != (ssize_t)sizeof(eh))
			goto out;
		if (eh.e_type != ET_EXEC && eh.e_type != ET_DYN)
			goto out;
		phoff = eh.e_phoff, phnum = eh.e_phnum, phentsize = eh.e_phentsize;
	} else if (ident[EI_CLASS] == ELFCLASS32) {
		Elf32_Ehdr eh;
		if (pread(fd, &eh, sizeof(eh), 0) != (ssize_t)sizeof(eh))
			goto out;
		if (eh.e_type != ET_EXEC && eh.e_type != ET_DYN)
			goto out;
		phoff = eh.e_phoff, phnum = eh.e_phnum, phentsize = eh.e_phentsize;
	} else {
		goto out;
	}
	/* p_type is the first word of both program header layouts. */
	kind = TARGET_STATIC;
	for (unsigned i = 0; i < phnum && kind == TARGET_STATIC; i++) {
		uint32_t type;
		if (pread(fd, &type, sizeof(type), (off_t)(phoff + (uint64_t)i * phentsize)) !=
		    (ssize_t)sizeof(type)) {
			kind = TARGET_OTHER;
			break;
		}
		if (type == PT_INTERP)
			kind = TARGET_DYNAMIC;
	}
	/* The dynamic linker itself has no PT_INTERP, yet honours LD_PRELOAD
	 * for the program it is asked to run. */
	const char *base = strrchr(path, '/') ? strrchr(path, '/') + 1 : path;
	if (kind == TARGET_STATIC && (strncmp(base, "ld-linux", 8) == 0 || strncmp(base, "ld.so", 5) == 0 ||
				      strncmp(base, "ld64.so", 7) == 0))
		kind = TARGET_DYNAMIC;
out:
	close(fd);
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

void target_inspect(const char *name, struct target *t)
{
	memset(t, 0, sizeof(*t));
	t->error = find(name, t->path, sizeof(t->path));
	if (t->error) {
		t->kind = TARGET_MISSING;
		return;
	}
	t->kind = elf_kind(t->path);
	t->set_id = secure_exec(t->path);
}

const char *target_warning(const struct target *t, char *buf, unsigned size)
{
	if (t->kind == TARGET_STATIC)
		snprintf(buf, size, "warning: %s is a static executable: the shim cannot reach it "
			 "(LD_PRELOAD needs the dynamic linker), so its ports are the kernel's", t->path);
	else if (t->set_id)
		snprintf(buf, size, "warning: %s is setuid, setgid or has file capabilities: the "
			 "dynamic linker ignores LD_PRELOAD for it, so its ports are the kernel's", t->path);
	else
		return NULL;
	return buf;
}
