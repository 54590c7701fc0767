/* Settings applied by name, through the table of settings.c; see
 * configure.h. */
#include "configure.h"

#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "settings.h"

/* Letters compared without case: "PORTSHIM_parity" is near its name. */
static bool same(char a, char b)
{
	return (a >= 'a' && a <= 'z' ? a - 'a' + 'A' : a) == (b >= 'a' && b <= 'z' ? b - 'a' + 'A' : b);
}

/* The optimal string alignment distance (Levenshtein's edits, and two
 * neighbours swapped as one) between a[0..na) and b, both shorter than 64
 * bytes; longer ones are far from everything. */
static unsigned distance(const char *a, size_t na, const char *b)
{
	unsigned d[64][64];
	size_t nb = strlen(b);

	if (na >= 64 || nb >= 64)
		return 64;
	for (size_t i = 0; i <= na; i++)
		d[i][0] = (unsigned)i;
	for (size_t j = 0; j <= nb; j++)
		d[0][j] = (unsigned)j;
	for (size_t i = 1; i <= na; i++) {
		for (size_t j = 1; j <= nb; j++) {
			unsigned cost = !same(a[i - 1], b[j - 1]), best = d[i - 1][j - 1] + cost;
			if (d[i - 1][j] + 1 < best)
				best = d[i - 1][j] + 1;
			if (d[i][j - 1] + 1 < best)
				best = d[i][j - 1] + 1;
			if (i > 1 && j > 1 && same(a[i - 1], b[j - 2]) && same(a[i - 2], b[j - 1]) &&
			    d[i - 2][j - 2] + 1 < best)
				best = d[i - 2][j - 2] + 1;
			d[i][j] = best;
		}
	}
	return d[na][nb];
}

/* "LABEL: unknown setting; did you mean NAME?" for a near miss of `given`
 * (at most two edits from a name, and one for every three letters of it
 * past the prefix: PORTSHIM_LIB, a helper's name, is not near
 * PORTSHIM_LOG), else "...; known: a, b, ..." with each row's name as
 * `given` spells it (the key, or the environment variable).  Unknown names
 * stay errors: a typo must not run without the shim. */
static void unknown(const char *label, const char *given, size_t given_len, bool env, char *err,
		    size_t errlen)
{
	char name[64], nearest[64] = "";
	unsigned best = 3;
	size_t prefix = env ? strlen(CONFIG_ENV_PREFIX) : 0;

	for (size_t i = 0; i < settings_count; i++) {
		if (env)
			setting_env_name(&settings[i], name, sizeof(name));
		else
			snprintf(name, sizeof(name), "%s", settings[i].key);
		unsigned d = distance(given, given_len, name);
		if (d < best && 3 * d <= strlen(name) - prefix) {
			best = d;
			memcpy(nearest, name, sizeof(name));
		}
	}
	if (nearest[0]) {
		snprintf(err, errlen, "%s: unknown setting; did you mean %s?", label, nearest);
		return;
	}
	int n = snprintf(err, errlen, "%s: unknown setting; known:", label);
	for (size_t i = 0; i < settings_count && n >= 0 && (size_t)n < errlen; i++) {
		if (env)
			setting_env_name(&settings[i], name, sizeof(name));
		else
			snprintf(name, sizeof(name), "%s", settings[i].key);
		n += snprintf(err + n, errlen - (size_t)n, "%s %s", i ? "," : "", name);
	}
}

static int apply(struct config *cfg, const struct setting *s, const char *value,
		 const char *label, enum config_origin origin, char *err, size_t errlen)
{
	size_t i = setting_index(s);
	char why[256] = "";
	struct setting_input in = { s, cfg, value, s->repeat && cfg->origin[i] == origin, why,
				    sizeof(why) };

	if (!s->set) {
		snprintf(err, errlen, "%s: only the environment and the command line name a config file", label);
		return -1;
	}
	if (s->set(&in) == 0) {
		cfg->origin[i] = (unsigned char)origin;
		return 0;
	}
	if (why[0]) { /* the setter said what is wrong and what it accepts */
		snprintf(err, errlen, "%s='%s': %s", label, value, why);
	} else {
		char accepted[512];
		setting_accepted(s, accepted, sizeof(accepted));
		snprintf(err, errlen, "%s='%s': expected %s", label, value, accepted);
	}
	return -1;
}

int configure_set_from(struct config *cfg, const char *key, const char *value, const char *label,
		    enum config_origin origin, char *err, size_t errlen)
{
	const struct setting *s = setting_find(key);

	if (!s) {
		unknown(label, key, strlen(key), false, err, errlen);
		return -1;
	}
	return apply(cfg, s, value, label, origin, err, errlen);
}

int configure_set(struct config *cfg, const char *key, const char *value,
	       const char *label, char *err, size_t errlen)
{
	return configure_set_from(cfg, key, value, label, CONFIG_ENV, err, errlen);
}

int configure_from_environ(struct config *cfg, char *const *envp, char *err, size_t errlen)
{
	size_t prefix = strlen(CONFIG_ENV_PREFIX);

	for (char *const *e = envp; e && *e; e++) {
		if (strncmp(*e, CONFIG_ENV_PREFIX, prefix) != 0)
			continue;
		const char *eq = strchr(*e, '=');
		const struct setting *s = eq ? setting_by_env(*e, (size_t)(eq - *e)) : NULL;
		char name[64];

		if (!s) {
			char name[64];
			snprintf(name, sizeof(name), "%.*s", (int)strcspn(*e, "="), *e);
			unknown(name, name, strlen(name), true, err, errlen);
			return -1;
		}
		if (!s->set)
			continue; /* PORTSHIM_CONFIG: read by configure_load() */
		setting_env_name(s, name, sizeof(name));
		if (apply(cfg, s, eq + 1, name, CONFIG_ENV, err, errlen) != 0)
			return -1;
	}
	return 0;
}
