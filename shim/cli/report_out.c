/* The report's two outputs: tables for people, one JSON object for
 * scripts.  Both show the same numbers; the tables cut the destination
 * list short, the JSON never does. */
#include "report.h"

#include <stdbool.h>
#include <string.h>

#define BAR_WIDTH 40      /* the parity bars: 100% of the decisions */
#define SPLIT_WIDTH 20    /* the even/odd split of one row */
#define DESTS_SHOWN 20

static double percent(uint64_t part, uint64_t whole)
{
	return whole ? 100.0 * (double)part / (double)whole : 0.0;
}

static void bar(FILE *out, char c, uint64_t part, uint64_t whole, int width)
{
	int n = whole ? (int)((part * (uint64_t)width + whole / 2) / whole) : 0;

	if (part && n == 0)
		n = 1; /* a non-zero count never looks like zero */
	for (int i = 0; i < n; i++)
		fputc(c, out);
}

/* "eeeeeeeooooooo.." : the row's even share, odd share and no-port share. */
static void split(FILE *out, const struct tally_entry *e)
{
	int even = e->total ? (int)((e->even * SPLIT_WIDTH + e->total / 2) / e->total) : 0;
	int odd = e->total ? (int)((e->odd * SPLIT_WIDTH + e->total / 2) / e->total) : 0;

	if (even + odd > SPLIT_WIDTH)
		odd = SPLIT_WIDTH - even;
	for (int i = 0; i < SPLIT_WIDTH; i++)
		fputc(i < even ? 'e' : i < even + odd ? 'o' : '.', out);
}

static void count_line(FILE *out, const char *name, uint64_t n, uint64_t whole, bool with_bar)
{
	fprintf(out, "  %-14s %10llu %6.1f%%", name, (unsigned long long)n, percent(n, whole));
	if (with_bar) {
		fputs("  ", out);
		bar(out, '#', n, whole, BAR_WIDTH);
	}
	fputc('\n', out);
}

static const char *dst_name(const char *name)
{
	return strcmp(name, REPORT_NO_DST) == 0 ? "(none: bind)" : name;
}

static void split_table(FILE *out, const char *title, struct tally *t, size_t limit, bool dsts)
{
	fprintf(out, "\n%-30s %10s %8s %8s %8s  %s\n", title, "total", "even", "odd", "none",
		"split (e even, o odd, . none)");
	tally_sort(t);
	for (size_t i = 0; i < t->count && i < limit; i++) {
		const struct tally_entry *e = &t->entry[i];
		fprintf(out, "  %-28s %10llu %8llu %8llu %8llu  ",
			dsts ? dst_name(e->name) : e->name, (unsigned long long)e->total,
			(unsigned long long)e->even, (unsigned long long)e->odd,
			(unsigned long long)e->none);
		split(out, e);
		fputc('\n', out);
	}
	if (t->count > limit)
		fprintf(out, "  ... and %zu more (--json lists them all)\n", t->count - limit);
}

/* A counts table; `known` names come first, in order, even when zero. */
static void count_table(FILE *out, const char *title, struct tally *t, const char *const *known,
			uint64_t whole)
{
	fprintf(out, "\n%-16s %10s %7s\n", title, "count", "%");
	for (const char *const *k = known; k && *k; k++) {
		const struct tally_entry *e = tally_find(t, *k);
		count_line(out, *k, e ? e->total : 0, whole, false);
	}
	tally_sort(t);
	for (size_t i = 0; i < t->count; i++) {
		bool listed = false;
		for (const char *const *k = known; k && *k && !listed; k++)
			listed = strcmp(*k, t->entry[i].name) == 0;
		if (!listed)
			count_line(out, t->entry[i].name, t->entry[i].total, whole, false);
	}
}


/* Every result's name, in order, then NULL. */
static const char *const *result_names(const char *names[RESULT_COUNT + 1])
{
	for (int i = 0; i < RESULT_COUNT; i++)
		names[i] = decision_result_name((enum decision_result)i);
	names[RESULT_COUNT] = NULL;
	return names;
}

void report_print_text(struct report *r, FILE *out)
{
	uint64_t n = r->decisions;

	fprintf(out, "portshim report: %llu file%s, %llu decision%s from %zu process%s, %llu bad line%s\n",
		(unsigned long long)r->files, r->files == 1 ? "" : "s", (unsigned long long)n,
		n == 1 ? "" : "s", r->pids.count, r->pids.count == 1 ? "" : "es",
		(unsigned long long)r->bad, r->bad == 1 ? "" : "s");
	fprintf(out, "\n%-16s %10s %7s\n", "parity", "count", "%");
	count_line(out, "even", r->even, n, true);
	count_line(out, "odd", r->odd, n, true);
	count_line(out, "none (no port)", r->none, n, true);
	split_table(out, "policy", &r->policies, (size_t)-1, false);
	split_table(out, "destination", &r->dests, DESTS_SHOWN, true);
	const char *results[RESULT_COUNT + 1];
	count_table(out, "result", &r->results, result_names(results), n);
	fprintf(out, "\n%-16s %10s %7s\n", "attempts", "count", "%");
	for (int i = 0; i < ATTEMPT_BUCKETS; i++)
		count_line(out, attempt_bucket_name(i), r->attempts[i], n, false);
	count_table(out, "call/proto", &r->calls, NULL, n);
	if (r->in_progress)
		fprintf(out, "\nin progress %llu (connect() returned EINPROGRESS; no error): then "
			"connected %llu, failed %llu, not seen %llu\n",
			(unsigned long long)r->in_progress, (unsigned long long)r->connected,
			(unsigned long long)r->failed,
			(unsigned long long)(r->in_progress > r->connected + r->failed
						     ? r->in_progress - r->connected - r->failed : 0));
	if (r->errors.count)
		count_table(out, "error", &r->errors, NULL, n);
	if (r->switches)
		fprintf(out, "\ncontrol file: %llu line%s (switches and refusals)\n",
			(unsigned long long)r->switches, r->switches == 1 ? "" : "s");
}

static void json_string(FILE *out, const char *s)
{
	fputc('"', out);
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		if (c == '"' || c == '\\')
			fprintf(out, "\\%c", c);
		else if (c < 0x20)
			fprintf(out, "\\u%04x", c);
		else
			fputc(c, out); /* UTF-8 passes: the parser checked it */
	}
	fputc('"', out);
}

static void json_counts(FILE *out, const char *name, struct tally *t, const char *const *known)
{
	bool first = true;

	fprintf(out, ",\"%s\":{", name);
	for (const char *const *k = known; k && *k; k++) {
		const struct tally_entry *e = tally_find(t, *k);
		fprintf(out, "%s\"%s\":%llu", first ? "" : ",", *k,
			(unsigned long long)(e ? e->total : 0));
		first = false;
	}
	tally_sort(t);
	for (size_t i = 0; i < t->count; i++) {
		bool listed = false;
		for (const char *const *k = known; k && *k && !listed; k++)
			listed = strcmp(*k, t->entry[i].name) == 0;
		if (listed)
			continue;
		fputs(first ? "" : ",", out);
		json_string(out, t->entry[i].name);
		fprintf(out, ":%llu", (unsigned long long)t->entry[i].total);
		first = false;
	}
	fputc('}', out);
}

static void json_splits(FILE *out, const char *name, const char *field, struct tally *t)
{
	fprintf(out, ",\"%s\":[", name);
	tally_sort(t);
	for (size_t i = 0; i < t->count; i++) {
		const struct tally_entry *e = &t->entry[i];
		fprintf(out, "%s{\"%s\":", i ? "," : "", field);
		if (strcmp(field, "dst") == 0 && strcmp(e->name, REPORT_NO_DST) == 0)
			fputs("null", out);
		else
			json_string(out, e->name);
		fprintf(out, ",\"total\":%llu,\"even\":%llu,\"odd\":%llu,\"none\":%llu}",
			(unsigned long long)e->total, (unsigned long long)e->even,
			(unsigned long long)e->odd, (unsigned long long)e->none);
	}
	fputc(']', out);
}

void report_print_json(struct report *r, FILE *out)
{
	fprintf(out, "{\"files\":%llu,\"lines\":%llu,\"decisions\":%llu,\"bad_lines\":%llu,\"processes\":%zu",
		(unsigned long long)r->files, (unsigned long long)r->lines,
		(unsigned long long)r->decisions, (unsigned long long)r->bad, r->pids.count);
	fprintf(out, ",\"parity\":{\"even\":%llu,\"odd\":%llu,\"none\":%llu}",
		(unsigned long long)r->even, (unsigned long long)r->odd,
		(unsigned long long)r->none);
	const char *results[RESULT_COUNT + 1];
	json_counts(out, "result", &r->results, result_names(results));
	fputs(",\"attempts\":{", out);
	for (int i = 0; i < ATTEMPT_BUCKETS; i++)
		fprintf(out, "%s\"%s\":%llu", i ? "," : "", attempt_bucket_name(i),
			(unsigned long long)r->attempts[i]);
	fputc('}', out);
	json_counts(out, "calls", &r->calls, NULL);
	json_counts(out, "errors", &r->errors, NULL);
	fprintf(out, ",\"in_progress\":{\"count\":%llu,\"connected\":%llu,\"failed\":%llu}"
		",\"control_lines\":%llu",
		(unsigned long long)r->in_progress, (unsigned long long)r->connected,
		(unsigned long long)r->failed, (unsigned long long)r->switches);
	json_splits(out, "policies", "policy", &r->policies);
	json_splits(out, "destinations", "dst", &r->dests);
	fputs("}\n", out);
}
