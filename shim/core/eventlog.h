/* The event log (PORTSHIM_LOG: one JSON object per line per decision) and
 * the exit summary (PORTSHIM_STATS).  Each line is made in a stack buffer
 * and written with one write(2) to a file opened with O_APPEND, so lines
 * from many threads and processes never interleave.  A log file is opened
 * for each line: a descriptor kept open could be closed by the application
 * (daemons close everything) and its number reused for the application's
 * own socket, which must never receive a log line.  For the same reason
 * "stderr" means fd 2 only while it is the file it was at start.  Files are
 * opened as filecheck.h's sink_open() says (no symbolic link, a regular
 * file of this user or root, created 0600). */
#ifndef PORTSHIM_EVENTLOG_H
#define PORTSHIM_EVENTLOG_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>

#include "decision.h"
#include "forkwipe.h"

struct stats {
	_Atomic uint64_t result[RESULT_COUNT];
	_Atomic uint64_t even, odd;
	_Atomic uint64_t attempts[ATTEMPT_BUCKETS];
};

/* A log or summary file given up on (refused), and whether that was said. */
struct sink_state {
	atomic_bool refused, warned;
};

/* Where the lines go: fd 2's identity at start, and the two files. */
struct eventlog_state {
	bool stderr_known; /* fd 2 was open at start */
	dev_t stderr_dev;
	ino_t stderr_ino;
	struct sink_state log, stats;
	char comm[16]; /* the program's name (PR_GET_NAME) at start */
};

/* Who wrote a line, and when. */
struct log_origin {
	long pid, tid;
	int64_t sec;
	long usec;
	const char *comm;
};

/* One process's log and summary: where they go (the paths of struct
 * config), what they count, where the lines went last. */
struct eventlog {
	const char *log;     /* PORTSHIM_LOG: "stderr", a file path, or "" */
	const char *summary; /* PORTSHIM_STATS, or "" */
	struct stats stats;
	struct eventlog_state out;
	/* The fork-wiped page of the cached process id (procid.h); NULL
	 * outside the library, or before Linux 4.14. */
	struct forkwipe *wipe;
};

/* Now, this process and thread, its program's name. */
void log_origin_now(struct eventlog *log, struct log_origin *o);

/* Notes what fd 2 is and the program's name (once, when the library
 * starts). */
void eventlog_init(struct eventlog_state *out);

/* Records a decision in the log and the summary, as configured; a
 * CALL_CONNECT_RESULT (how a connect in progress ended) only in the log.
 * Keeps errno. */
void eventlog_record(struct eventlog *log, const struct decision *d);
/* The same for a call made by another process (the seccomp supervisor
 * decides for the program it watches): its pid, tid and name in the log
 * (pid 0 and comm NULL: this process's, this thread's). */
void eventlog_record_for(struct eventlog *log, const struct decision *d, long pid, long tid,
			 const char *comm);
/* The same, for a decision made at `when` (CLOCK_REALTIME), not now: the
 * BPF backend's, read from its ring buffer up to 100 ms later. */
void eventlog_record_at(struct eventlog *log, const struct decision *d, long pid, long tid,
			const char *comm, const struct timespec *when);

struct line;
/* '{' and the fields every line starts with (time, pid, tid, comm). */
void eventlog_line_head(struct line *l, const struct log_origin *o);
/* A whole line (with its newline) to the log, if there is one; text to fd 2
 * while it is the file it was at start. */
void eventlog_write(struct eventlog *log, const char *line, size_t len);
void eventlog_stderr(struct eventlog *log, const char *text, size_t len);

/* Formats one decision as a JSON line (with the newline) into buf; returns
 * the length.  The origin is passed in so tests can pin it. */
size_t eventlog_format(char *buf, size_t size, const struct decision *d,
		       const struct log_origin *o);

/* The summary line of `stats`, with the newline; returns the length. */
size_t stats_format(char *buf, size_t size, const struct stats *stats, long pid);

/* Writes the summary where PORTSHIM_STATS says (called at exit). */
void stats_write(struct eventlog *log);
/* The same under another process's pid (the supervised program's). */
void stats_write_for(struct eventlog *log, long pid);

#endif
