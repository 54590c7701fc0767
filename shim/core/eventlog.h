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

#include "decision.h"


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
};

struct runtime;

/* Notes what fd 2 is (once, when the library starts). */
void eventlog_init(struct eventlog_state *out);

/* Records a decision in the log and the summary, as configured.  Keeps
 * errno. */
void eventlog_record(struct runtime *rt, const struct decision *d);
/* The same for a call made by another process (the seccomp supervisor
 * decides for the program it watches): its pid and tid in the log. */
void eventlog_record_for(struct runtime *rt, const struct decision *d, long pid, long tid);

/* Formats one decision as a JSON line (with the newline) into buf; returns
 * the length.  pid, tid and time are passed in so tests can pin them. */
size_t eventlog_format(char *buf, size_t size, const struct decision *d, long pid, long tid,
		       int64_t sec, long usec);

/* The summary line of `stats`, with the newline; returns the length. */
size_t stats_format(char *buf, size_t size, const struct stats *stats, long pid);

/* Writes the summary where PORTSHIM_STATS says (called at exit). */
void stats_write(struct runtime *rt);
/* The same under another process's pid (the supervised program's). */
void stats_write_for(struct runtime *rt, long pid);

#endif
