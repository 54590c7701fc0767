/* See filecheck.h.  Opens and closes go through raw system calls: this runs
 * while the shim sets itself up and on the connect() path, where its own
 * close() hook must not be re-entered. */
#include "errnames.h"
#include "filecheck.h"
#include "sysraw.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

static const char *kind(mode_t mode)
{
	switch (mode & S_IFMT) {
	case S_IFDIR: return "a directory";
	case S_IFIFO: return "a FIFO or pipe";
	case S_IFCHR: return "a character device";
	case S_IFBLK: return "a block device";
	case S_IFSOCK: return "a socket";
	case S_IFLNK: return "a symbolic link";
	default: return "not a regular file";
	}
}

static void sink_verdict_of(const struct stat *st, struct sink_check *why)
{
	if (!S_ISREG(st->st_mode)) {
		why->verdict = SINK_NOT_REGULAR;
		why->mode = st->st_mode;
	} else if (st->st_uid != why->euid && st->st_uid != 0) {
		why->verdict = SINK_FOREIGN;
		why->owner = st->st_uid;
	} else {
		why->verdict = SINK_OK;
	}
}

int sink_open(const char *path, struct sink_check *why)
{
	struct stat st;
	/* O_NONBLOCK: a FIFO put in the file's place must not block the
	 * program (it is refused below); O_NOCTTY: nor become its terminal. */
	int fd = (int)syscall(SYS_openat, AT_FDCWD, path,
			      O_WRONLY | O_APPEND | O_CREAT | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY |
				      O_CLOEXEC, 0600);

	why->euid = geteuid();
	if (fd < 0) {
		why->verdict = errno == ELOOP ? SINK_SYMLINK : SINK_OPEN_FAILED;
		why->error = errno;
		return -1;
	}
	if (sys_fstat(fd, &st) != 0) {
		why->verdict = SINK_OPEN_FAILED;
		why->error = errno;
	} else {
		sink_verdict_of(&st, why);
	}
	if (why->verdict == SINK_OK)
		return fd;
	syscall(SYS_close, fd);
	return -1;
}

/* "/etc/portshim/x.conf" -> "/etc/portshim"; "/x" -> "/"; "x" -> ".". */
static void dir_of(const char *path, char *dir, size_t size)
{
	const char *slash = strrchr(path, '/');

	if (!slash)
		snprintf(dir, size, ".");
	else
		snprintf(dir, size, "%.*s", (int)(slash - path) + (slash == path), path);
}

void sink_probe(const char *path, struct sink_check *why)
{
	struct stat st;

	why->euid = geteuid();
	why->verdict = SINK_OK;
	if (sys_fstatat(AT_FDCWD, path, &st, AT_SYMLINK_NOFOLLOW) != 0) {
		char dir[PATH_MAX];
		/* Not there yet: sink_open() would create it, if its directory
		 * lets this process (its effective ids) add a file. */
		if (errno == ENOENT) {
			dir_of(path, dir, sizeof(dir));
			if (faccessat(AT_FDCWD, dir, W_OK | X_OK, AT_EACCESS) == 0)
				return;
		}
		why->verdict = SINK_OPEN_FAILED;
		why->error = errno;
		return;
	}
	if (S_ISLNK(st.st_mode))
		why->verdict = SINK_SYMLINK;
	else
		sink_verdict_of(&st, why);
}

void sink_warning(struct line *l, const char *label, const char *path,
		  const struct sink_check *why)
{
	line_raw(l, "portshim: ");
	line_raw(l, label);
	line_raw(l, "='");
	line_raw(l, path);
	line_raw(l, "': not written: ");
	switch (why->verdict) {
	case SINK_OK:
		break;
	case SINK_SYMLINK:
		line_raw(l, "a symbolic link (never followed)");
		break;
	case SINK_NOT_REGULAR:
		line_raw(l, kind(why->mode));
		line_raw(l, ", not a regular file");
		break;
	case SINK_FOREIGN:
		line_raw(l, "owned by uid ");
		line_uint(l, why->owner);
		line_raw(l, ", neither this process's effective uid ");
		line_uint(l, why->euid);
		line_raw(l, " nor root");
		break;
	case SINK_OPEN_FAILED: {
		const char *name = errno_name(why->error);
		line_raw(l, "cannot open: ");
		line_raw(l, name ? name : "unknown error");
		break;
	}
	}
	line_raw(l, "; the program runs on without it\n");
}

bool filecheck_privileged(bool secure)
{
	return secure || geteuid() == 0;
}

const char *filecheck_strict(const struct stat *st, uid_t euid, const char *name, bool file,
			     bool parent, char *buf, size_t size)
{
	if (file && !S_ISREG(st->st_mode))
		snprintf(buf, size, "%s is %s, not a regular file", name, kind(st->st_mode));
	else if (st->st_uid != 0 && st->st_uid != euid)
		snprintf(buf, size, "%s is owned by uid %u", name, (unsigned)st->st_uid);
	else if ((st->st_mode & (S_IWGRP | S_IWOTH)) &&
		 (file || parent || !(st->st_mode & S_ISVTX)))
		snprintf(buf, size, "%s is writable by group or others (mode %04o)", name,
			 (unsigned)(st->st_mode & 07777));
	else
		return NULL;
	return buf;
}

/* StrictModes on a resolved directory and each one above it up to /, as
 * OpenSSH's safe_path().  0, or -1 with what is wrong in buf. */
static int strict_dirs(const char *resolved_dir, uid_t euid, char *buf, size_t size)
{
	char dir[PATH_MAX], name[PATH_MAX + 40];
	struct stat st;

	snprintf(dir, sizeof(dir), "%s", resolved_dir);
	for (bool parent = true;; parent = false) {
		if (sys_fstatat(AT_FDCWD, dir, &st, 0) != 0) {
			snprintf(buf, size, "cannot inspect %s: %s", dir, strerror(errno));
			return -1;
		}
		snprintf(name, sizeof(name), parent ? "its directory %s" : "%s, a directory above it",
			 dir);
		if (filecheck_strict(&st, euid, name, false, parent, buf, size))
			return -1;
		if (strcmp(dir, "/") == 0)
			return 0;
		char up[PATH_MAX];
		dir_of(dir, up, sizeof(up));
		snprintf(dir, sizeof(dir), "%s", up);
	}
}

/* StrictModes on the file opened (`st`, found at `resolved`) and on every
 * directory that leads to it: the file's own chain, and, when `path` is a
 * symbolic link, the chain of the directory the link is in (whoever can
 * write there can point the link elsewhere). */
static int strict_path(const char *path, const char *resolved, const struct stat *st,
		       uid_t euid, char *buf, size_t size)
{
	char dir[PATH_MAX], real_dir[PATH_MAX];
	struct stat link;

	if (filecheck_strict(st, euid, "it", true, false, buf, size))
		return -1;
	dir_of(resolved, dir, sizeof(dir));
	if (strict_dirs(dir, euid, buf, size) != 0)
		return -1;
	if (sys_fstatat(AT_FDCWD, path, &link, AT_SYMLINK_NOFOLLOW) != 0 || !S_ISLNK(link.st_mode))
		return 0;
	dir_of(path, dir, sizeof(dir));
	if (!realpath(dir, real_dir)) {
		snprintf(buf, size, "cannot resolve %s: %s", dir, strerror(errno));
		return -1;
	}
	return strict_dirs(real_dir, euid, buf, size);
}

int filecheck_open(const char *path, const char *label, bool strict, char *err, size_t errlen)
{
	char resolved[PATH_MAX], why[PATH_MAX + 200];
	struct stat st, at_path;
	uid_t euid = geteuid();
	int fd = (int)syscall(SYS_openat, AT_FDCWD, path,
			      O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);

	if (fd < 0) {
		snprintf(err, errlen, "%s='%s': cannot open: %s", label, path, strerror(errno));
		return -1;
	}
	if (sys_fstat(fd, &st) != 0) {
		snprintf(err, errlen, "%s='%s': cannot inspect: %s", label, path, strerror(errno));
	} else if (!S_ISREG(st.st_mode)) {
		snprintf(err, errlen, "%s='%s': %s; expected a regular file", label, path,
			 kind(st.st_mode));
	} else if (strict && (!realpath(path, resolved) ||
			      sys_fstatat(AT_FDCWD, resolved, &at_path, AT_SYMLINK_NOFOLLOW) != 0 ||
			      at_path.st_dev != st.st_dev || at_path.st_ino != st.st_ino)) {
		/* The directories checked must be the ones the file opened is
		 * really in: every symbolic link resolved, the same inode. */
		snprintf(err, errlen, "%s='%s': cannot resolve the path to the file opened", label,
			 path);
	} else if (strict && strict_path(path, resolved, &st, euid, why, sizeof(why)) != 0) {
		snprintf(err, errlen, "%s='%s': %s; a privileged process (euid %u) reads only a "
				      "regular file owned by root or uid %u, not writable by group or "
				      "others, in directories only they can write to",
			 label, path, why, (unsigned)euid, (unsigned)euid);
	} else {
		return fd;
	}
	syscall(SYS_close, fd);
	return -1;
}
