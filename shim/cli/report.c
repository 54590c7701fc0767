/* portshim report FILE... [--json]: reads event logs line by line, checks
 * each line against the log's format, and adds it up.  A bad line (a
 * truncated write, another program's output in the same file) is counted
 * and shown, never fatal: a report over a long experiment must not be lost
 * to one torn line. */
#include "report.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "jsonread.h"

#define BAD_LINES_SHOWN 10


/* The reason a field is unusable goes here; one line is checked at a time. */
static char why_buf[128];

static const char *missing(const char *key, const char *what)
{
	snprintf(why_buf, sizeof(why_buf), "field \"%s\": expected %s", key, what);
	return why_buf;
}

/* A string field (or null, if allowed: then *out is NULL). */
static const char *get_string(const struct jsonread_object *o, const char *key, bool nullable,
			      const char **out)
{
	const struct jsonread_field *f = jsonread_get(o, key);

	if (f && f->type == JSONREAD_STRING && f->str[0]) {
		*out = f->str;
		return NULL;
	}
	if (f && nullable && f->type == JSONREAD_NULL) {
		*out = NULL;
		return NULL;
	}
	return missing(key, nullable ? "a non-empty string or null" : "a non-empty string");
}

/* An integer field in [lo, hi] (or null, if allowed: then *out is -1). */
static const char *get_int(const struct jsonread_object *o, const char *key, int64_t lo, int64_t hi,
			   bool nullable, int64_t *out)
{
	const struct jsonread_field *f = jsonread_get(o, key);
	static char what[64];

	if (f && f->type == JSONREAD_INT && f->i >= lo && f->i <= hi) {
		*out = f->i;
		return NULL;
	}
	if (f && nullable && f->type == JSONREAD_NULL) {
		*out = -1;
		return NULL;
	}
	snprintf(what, sizeof(what), "an integer from %lld to %lld%s", (long long)lo,
		 (long long)hi, nullable ? " or null" : "");
	return missing(key, what);
}

/* How a connect in progress ended ("call":"connect-result"): counted, its
 * error among the errors, never as a decision. */
static const char *add_connect_result(struct report *r, const struct jsonread_object *o)
{
	const char *result, *error = NULL, *why;

	if ((why = get_string(o, "result", false, &result)) ||
	    (why = get_string(o, "error", true, &error)))
		return why;
	if (strcmp(result, "connected") == 0 && !error) {
		r->connected++;
		return NULL;
	}
	if (strcmp(result, "failed") != 0 || !error)
		return "field \"result\": expected connected (error null) or failed (with an error)";
	r->failed++;
	tally_count(&r->errors, error, -1);
	return NULL;
}

/* Checks one decision and, only if all of it is good, counts it. */
static const char *add_decision(struct report *r, const struct jsonread_object *o)
{
	const char *call, *proto, *result, *policy, *dst, *parity, *error = NULL, *why;
	int64_t pid, port, attempts;

	if ((why = get_string(o, "call", false, &call)))
		return why;
	if (strcmp(call, REPORT_CONNECT_RESULT) == 0)
		return add_connect_result(r, o);
	if (strcmp(call, REPORT_CONTROL) == 0) {
		r->switches++;
		return NULL;
	}
	if ((why = get_int(o, "pid", 0, INT64_MAX, false, &pid)) ||
	    (why = get_string(o, "proto", false, &proto)) ||
	    (why = get_string(o, "dst", true, &dst)) ||
	    (why = get_string(o, "policy", false, &policy)) ||
	    (why = get_int(o, "port", 1, 65535, true, &port)) ||
	    (why = get_string(o, "parity", true, &parity)) ||
	    (why = get_int(o, "attempts", 0, INT64_MAX, false, &attempts)) ||
	    (why = get_string(o, "result", false, &result)))
		return why;
	if (jsonread_get(o, "error") && (why = get_string(o, "error", true, &error)))
		return why;
	int p = port < 0 ? -1 : (int)(port % 2);
	const char *expect = p < 0 ? NULL : p ? "odd" : "even";
	if ((parity == NULL) != (expect == NULL) || (parity && strcmp(parity, expect) != 0))
		return "field \"parity\" does not match \"port\"";

	char key[2 * JSONREAD_STR_MAX + 2];
	r->decisions++;
	*(p < 0 ? &r->none : p ? &r->odd : &r->even) += 1;
	r->attempts[attempt_bucket((uint64_t)attempts)]++;
	tally_count(&r->results, result, p);
	snprintf(key, sizeof(key), "%s/%s", call, proto);
	tally_count(&r->calls, key, p);
	tally_count(&r->policies, policy, p);
	tally_count(&r->dests, dst ? dst : REPORT_NO_DST, p);
	/* A connect in progress is no error: its end comes in a line of its own. */
	if (error && strcmp(error, "EINPROGRESS") == 0)
		r->in_progress++;
	else if (error)
		tally_count(&r->errors, error, p);
	snprintf(key, sizeof(key), "%lld", (long long)pid);
	tally_count(&r->pids, key, p);
	return NULL;
}

static bool blank(const char *s)
{
	return s[strspn(s, " \t\r\n")] == '\0';
}

/* Where the object starts: lines may come with a prefix (`docker compose
 * logs` puts "app-1  | " before each). */
static size_t json_start(const char *line)
{
	const char *brace = strchr(line, '{');

	return brace ? (size_t)(brace - line) : 0;
}

/* 0, or -1 if the file cannot be read. */
static int read_log(struct report *r, const char *path)
{
	static struct jsonread_object obj;
	FILE *in = strcmp(path, "-") == 0 ? stdin : fopen(path, "r");
	char *line = NULL;
	size_t cap = 0, where, start;
	ssize_t len;
	unsigned long lineno = 0;
	const char *why;

	if (!in) {
		fprintf(stderr, "portshim report: %s: %s\n", path, strerror(errno));
		return -1;
	}
	r->files++;
	while ((len = getline(&line, &cap, in)) >= 0) {
		lineno++;
		if (blank(line))
			continue;
		r->lines++;
		start = json_start(line);
		if (strlen(line) != (size_t)len)
			why = "NUL byte in the line", where = strlen(line);
		else if (jsonread_parse(line + start, (size_t)len - start, &obj, &why, &where) == 0)
			why = add_decision(r, &obj), where = 0;
		else
			where += start;
		if (!why)
			continue;
		if (++r->bad > BAD_LINES_SHOWN)
			continue;
		/* Bytes are counted from 1, as editors count columns. */
		if (where)
			fprintf(stderr, "portshim report: %s:%lu: bad line (%s at byte %zu): skipped\n",
				path, lineno, why, where + 1);
		else
			fprintf(stderr, "portshim report: %s:%lu: bad line (%s): skipped\n", path,
				lineno, why);
	}
	free(line);
	bool failed = ferror(in);
	if (failed)
		fprintf(stderr, "portshim report: %s: %s\n", path, strerror(errno));
	if (in != stdin)
		fclose(in);
	return failed ? -1 : 0;
}

static void report_usage(FILE *out)
{
	fputs("usage: portshim report [--json] FILE...\n"
	      "Summarizes portshim event logs (PORTSHIM_LOG, --log): decisions by parity,\n"
	      "policy, destination, result, attempts and call; '-' reads standard input.\n"
	      "Text before a line's '{' (docker compose logs' \"app-1  | \") is skipped.\n"
	      "Exits 1 when it read no decision at all.\n"
	      "  --json   one JSON object instead of the tables\n", out);
}

int report_main(int argc, char **argv)
{
	struct report r;
	bool json = false, options = true;
	int nfiles = 0, status = 0;

	memset(&r, 0, sizeof(r));
	for (int i = 1; i < argc; i++) {
		if (options && strcmp(argv[i], "--") == 0) {
			options = false;
		} else if (options && strcmp(argv[i], "--json") == 0) {
			json = true;
		} else if (options && (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0)) {
			report_usage(stdout);
			return 0;
		} else if (options && argv[i][0] == '-' && argv[i][1]) {
			fprintf(stderr, "portshim report: unknown option '%s'; usage: portshim report [--json] FILE...\n",
				argv[i]);
			return CLI_EXIT_USAGE;
		} else {
			nfiles++;
		}
	}
	if (nfiles == 0) {
		fputs("portshim report: no log file given; usage: portshim report [--json] FILE...\n", stderr);
		return CLI_EXIT_USAGE;
	}
	options = true;
	for (int i = 1; i < argc; i++) {
		if (options && strcmp(argv[i], "--") == 0) {
			options = false;
			continue;
		}
		if (options && argv[i][0] == '-' && argv[i][1])
			continue;
		if (read_log(&r, argv[i]) != 0)
			status = 1;
	}
	if (r.bad > BAD_LINES_SHOWN)
		fprintf(stderr, "portshim report: %llu more bad lines not shown\n",
			(unsigned long long)(r.bad - BAD_LINES_SHOWN));
	if (r.decisions == 0 && status == 0) {
		fprintf(stderr, "portshim report: no decision in %llu line%s read: is this a portshim log "
				"(PORTSHIM_LOG, --log)?\n", (unsigned long long)r.lines,
			r.lines == 1 ? "" : "s");
	}
	if (r.decisions == 0)
		status = 1;
	if (json)
		report_print_json(&r, stdout);
	else
		report_print_text(&r, stdout);
	tally_free(&r.results);
	tally_free(&r.calls);
	tally_free(&r.policies);
	tally_free(&r.dests);
	tally_free(&r.errors);
	tally_free(&r.pids);
	if (fflush(stdout) != 0)
		status = 1;
	return status;
}
