/* portshim report: the summary of one or many event logs. */
#ifndef PORTSHIM_CLI_REPORT_H
#define PORTSHIM_CLI_REPORT_H

#include <stdint.h>
#include <stdio.h>

#include "core/decision.h"
#include "tally.h"

/* attempts: 0 (passthrough), 1, 2, 3-4, 5-8, 9-16, 17+ */

struct report {
	uint64_t files, lines, decisions, bad;
	uint64_t even, odd, none;
	uint64_t attempts[ATTEMPT_BUCKETS];
	/* Connects that returned EINPROGRESS, and how those that said so ended. */
	uint64_t in_progress, connected, failed;
	uint64_t switches; /* control-file lines (PORTSHIM_CONTROL) */
	struct tally results, calls, policies, dests, errors, pids;
};


/* The decisions of a destination-less call (bind) are filed under this
 * name among the destinations; no real destination is empty. */
#define REPORT_NO_DST ""

/* The "call" of the log's lines that are no decision. */
#define REPORT_CONNECT_RESULT "connect-result"
#define REPORT_CONTROL "control"

void report_print_text(struct report *r, FILE *out);
void report_print_json(struct report *r, FILE *out);

int report_main(int argc, char **argv);

#endif
