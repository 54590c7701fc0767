/* See tally.h. */
#include "tally.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void *xrealloc(void *p, size_t size)
{
	p = realloc(p, size);
	if (!p) {
		fputs("portshim: out of memory\n", stderr);
		exit(1);
	}
	return p;
}

static size_t hash(const char *s)
{
	size_t h = 1469598103934665603u; /* FNV-1a */

	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211u;
	return h;
}

static size_t *lookup(const struct tally *t, const char *name)
{
	size_t i = hash(name) & (t->nslots - 1);

	while (t->slot[i] && strcmp(t->entry[t->slot[i] - 1].name, name) != 0)
		i = (i + 1) & (t->nslots - 1);
	return &t->slot[i];
}

/* Keeps the table at most half full, so probes stay short. */
static void grow_slots(struct tally *t)
{
	t->nslots = t->nslots ? t->nslots * 2 : 64;
	free(t->slot);
	t->slot = xrealloc(NULL, t->nslots * sizeof(*t->slot));
	memset(t->slot, 0, t->nslots * sizeof(*t->slot));
	for (size_t i = 0; i < t->count; i++)
		*lookup(t, t->entry[i].name) = i + 1;
}

struct tally_entry *tally_get(struct tally *t, const char *name)
{
	if (!t->nslots)
		grow_slots(t);
	size_t *slot = lookup(t, name);
	if (*slot)
		return &t->entry[*slot - 1];
	if (t->count == t->cap) {
		t->cap = t->cap ? t->cap * 2 : 16;
		t->entry = xrealloc(t->entry, t->cap * sizeof(*t->entry));
	}
	struct tally_entry *e = &t->entry[t->count];
	memset(e, 0, sizeof(*e));
	e->name = xrealloc(NULL, strlen(name) + 1);
	strcpy(e->name, name);
	*slot = ++t->count;
	if (t->count * 2 > t->nslots)
		grow_slots(t);
	return e;
}

void tally_count(struct tally *t, const char *name, int parity)
{
	struct tally_entry *e = tally_get(t, name);

	e->total++;
	if (parity == 0)
		e->even++;
	else if (parity == 1)
		e->odd++;
	else
		e->none++;
}

const struct tally_entry *tally_find(const struct tally *t, const char *name)
{
	if (!t->nslots)
		return NULL;
	size_t *slot = lookup(t, name);
	return *slot ? &t->entry[*slot - 1] : NULL;
}

static int by_total(const void *a, const void *b)
{
	const struct tally_entry *x = a, *y = b;

	if (x->total != y->total)
		return x->total > y->total ? -1 : 1;
	return strcmp(x->name, y->name);
}

void tally_sort(struct tally *t)
{
	if (t->count)
		qsort(t->entry, t->count, sizeof(*t->entry), by_total);
	free(t->slot);
	t->slot = NULL;
	t->nslots = 0;
}

void tally_free(struct tally *t)
{
	for (size_t i = 0; i < t->count; i++)
		free(t->entry[i].name);
	free(t->entry);
	free(t->slot);
	memset(t, 0, sizeof(*t));
}
