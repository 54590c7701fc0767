/* Counters keyed by name (a destination, a policy, a result...), each with
 * the parity split of the ports behind it.  Grows as needed: a report may
 * read millions of lines with thousands of destinations. */
#ifndef PORTSHIM_CLI_TALLY_H
#define PORTSHIM_CLI_TALLY_H

#include <stddef.h>
#include <stdint.h>

struct tally_entry {
	char *name;
	uint64_t total, even, odd, none;
};

struct tally {
	struct tally_entry *entry;
	size_t count, cap;
	size_t *slot;      /* open addressing: entry index + 1, 0 for empty */
	size_t nslots;
};

/* The entry for `name`, created with zero counts; exits on out of memory. */
struct tally_entry *tally_get(struct tally *t, const char *name);
/* Adds one decision: parity 0 even, 1 odd, -1 no port. */
void tally_count(struct tally *t, const char *name, int parity);
/* The entry for `name`, or NULL. */
const struct tally_entry *tally_find(const struct tally *t, const char *name);
/* Sorts by total, highest first, then by name; lookups are no longer
 * possible afterwards (call it once, before printing). */
void tally_sort(struct tally *t);
void tally_free(struct tally *t);

#endif
