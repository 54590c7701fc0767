/* Files the shim opens by a path it was given: the log and
 * summary it appends to, and the files it reads settings from (the config
 * file; a control file would use the same check).  The library runs inside
 * services, often as root, and these paths may lie in directories other
 * users can write to. */
#ifndef PORTSHIM_FILECHECK_H
#define PORTSHIM_FILECHECK_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/stat.h>
#include <sys/types.h>

#include "jsonwrite.h"

/* Why a file the shim would append to is refused. */
enum sink_verdict {
	SINK_OK,
	SINK_SYMLINK,      /* the last component is a symbolic link */
	SINK_NOT_REGULAR,  /* a directory, FIFO, device, socket */
	SINK_FOREIGN,      /* owned by neither the effective user nor root */
	SINK_OPEN_FAILED,  /* open() failed otherwise (error) */
};

struct sink_check {
	enum sink_verdict verdict;
	mode_t mode;  /* SINK_NOT_REGULAR */
	uid_t owner;  /* SINK_FOREIGN */
	uid_t euid;
	int error;    /* SINK_OPEN_FAILED */
};

/* Opens a log or summary file for one append: never through a symbolic
 * link (O_NOFOLLOW), created 0600 (under the umask), and kept only if it
 * is a regular file owned by the effective user or root.  Raw system calls,
 * no stdio, no allocation: this runs on the connect() path.  The
 * descriptor, or -1 with the reason in *why. */
int sink_open(const char *path, struct sink_check *why);

/* The same verdict without opening or creating anything (portshim
 * --check): SINK_OK when the file does not exist yet and its directory
 * lets the effective user create it; else SINK_OPEN_FAILED with the
 * errno that stood in the way (ENOENT, EACCES, ENOTDIR...). */
void sink_probe(const char *path, struct sink_check *why);

/* "portshim: LABEL='PATH': not written: WHY; the program runs on without
 * it\n", made without stdio. */
void sink_warning(struct line *l, const char *label, const char *path,
		  const struct sink_check *why);

/* A process that must not trust files other users control: effective uid
 * 0, or setuid/setgid/file capabilities (`secure`, AT_SECURE). */
bool filecheck_privileged(bool secure);

/* Opens a file to read settings from (PORTSHIM_CONFIG, --config; a
 * control file later).  It must be a regular file; it is opened with
 * O_NONBLOCK, so a FIFO with no writer cannot hang the program.  When
 * `strict` (a privileged process), OpenSSH's StrictModes checks too, see
 * filecheck_strict().  The descriptor, or -1 with
 * "LABEL='PATH': why; what is accepted" in err. */
int filecheck_open(const char *path, const char *label, bool strict, char *err, size_t errlen);

/* The StrictModes verdict on one file or directory, pure so that the unit
 * tests can give it any owner and mode.  `file`: the settings file itself;
 * else `parent` says whether it is the file's own directory (which nobody
 * else may write to, sticky or not) or one further up (which may be
 * writable by others if sticky: they then cannot rename or remove what
 * root or euid owns in it, and the next directory down is checked too).
 * NULL if acceptable, else "NAME is ..." written into buf. */
const char *filecheck_strict(const struct stat *st, uid_t euid, const char *name, bool file,
			     bool parent, char *buf, size_t size);

#endif
