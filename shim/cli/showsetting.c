/* The value column of `portshim --check`: each setting as the library
 * resolved it, by the kind its row of the settings table names. */
#include <stdio.h>
#include <string.h>

#include "core/policy.h"
#include "core/rules.h"
#include "core/settings.h"
#include "cli.h"

/* What a show function is given and fills. */
struct setting_output {
	const struct setting *s;
	const struct config *cfg;
	unsigned range_lo, range_hi; /* the range in force */
	char *buf;
	size_t size;
};

#define SHOWN(out, type) ((const type *)((const char *)(out)->cfg + (out)->s->at))

static void show_choice(const struct setting_output *out)
{
	int i;

	memcpy(&i, SHOWN(out, int), sizeof(i));
	snprintf(out->buf, out->size, "%s", out->s->choices[i]);
}

static void show_policy(const struct setting_output *out)
{
	policy_format(SHOWN(out, struct policy), out->buf, out->size);
}

/* parity has no value of its own unless given. */
static void show_parity(const struct setting_output *out)
{
	if (out->cfg->parity_set)
		show_policy(out);
	else
		snprintf(out->buf, out->size, "-");
}

static void show_range(const struct setting_output *out)
{
	snprintf(out->buf, out->size, "%u-%u", out->range_lo, out->range_hi);
}

/* "80,443,8000-8099", cut short after a few hundred bytes. */
static void show_reserved(const struct setting_output *out)
{
	const struct portset *set = &out->cfg->reserved;
	char *buf = out->buf;
	size_t n = 0, size = out->size;

	buf[0] = '\0';
	for (unsigned p = 1; p < PORTMAP_PORTS && n + 32 < size; p++) {
		if (!portset_has(set, p))
			continue;
		unsigned hi = p;
		while (hi + 1 < PORTMAP_PORTS && portset_has(set, hi + 1))
			hi++;
		n += (size_t)snprintf(buf + n, size - n, n ? ",%u" : "%u", p);
		if (hi > p)
			n += (size_t)snprintf(buf + n, size - n, "-%u", hi);
		p = hi;
	}
	if (n + 32 >= size)
		snprintf(buf + n, size - n, ",...");
	if (!buf[0])
		snprintf(buf, size, "none");
}

static void show_seed(const struct setting_output *out)
{
	if (out->cfg->seed_set)
		snprintf(out->buf, out->size, "%llu", (unsigned long long)out->cfg->seed);
	else
		snprintf(out->buf, out->size, "- (each process draws one)");
}

static void show_path(const struct setting_output *out)
{
	const char *path = SHOWN(out, char);

	snprintf(out->buf, out->size, "%s", path[0] ? path : "-");
}

static void show_rules(const struct setting_output *out)
{
	const struct rules *rules = &out->cfg->rules;
	size_t n = 0;

	snprintf(out->buf, out->size, "-");
	for (int i = 0; i < rules->count && n + 1 < out->size; i++) {
		char one[160];
		rules_format_one(&rules->rule[i], one, sizeof(one));
		n += (size_t)snprintf(out->buf + n, out->size - n, "%s%s", i ? "; " : "", one);
	}
}

void show_setting(const struct setting *s, const struct config *cfg, unsigned range_lo,
		  unsigned range_hi, char *buf, size_t size)
{
	static void (*const show[])(const struct setting_output *) = {
		[SHOWN_CHOICE] = show_choice,	[SHOWN_POLICY] = show_policy,
		[SHOWN_PARITY] = show_parity,	[SHOWN_RANGE] = show_range,
		[SHOWN_RESERVED] = show_reserved, [SHOWN_SEED] = show_seed,
		[SHOWN_PATH] = show_path,	[SHOWN_RULES] = show_rules,
	};
	struct setting_output out = { s, cfg, range_lo, range_hi, buf, size };

	show[s->shown](&out);
}
