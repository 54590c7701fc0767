/* The settings table and its parsers; see config.h. */
#include "config.h"

#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "parse.h"

/* A setter returns 0, or -1 for a bad value; it may explain in `why`. */
typedef int (*setter_fn)(struct config *cfg, const char *value, char *why, size_t whylen);

struct setting {
	const char *key;
	setter_fn set;
	const char *accepted;
};

static int set_policy(struct policy *policy, bool *is_set, const char *value)
{
	if (policy_parse(value, policy) != 0)
		return -1;
	*is_set = true;
	return 0;
}

static int set_parity(struct config *cfg, const char *value, char *why, size_t whylen)
{
	(void)why;
	(void)whylen;
	return set_policy(&cfg->parity, &cfg->parity_set, value);
}

static int set_connect(struct config *cfg, const char *value, char *why, size_t whylen)
{
	(void)why;
	(void)whylen;
	return set_policy(&cfg->connect, &cfg->connect_set, value);
}

static int set_bind(struct config *cfg, const char *value, char *why, size_t whylen)
{
	(void)why;
	(void)whylen;
	return set_policy(&cfg->bind, &cfg->bind_set, value);
}

static int set_range(struct config *cfg, const char *value, char *why, size_t whylen)
{
	(void)why;
	(void)whylen;
	if (parse_port_range(value, &cfg->range_lo, &cfg->range_hi) != 0)
		return -1;
	cfg->range_set = true;
	return 0;
}

static int set_reserved(struct config *cfg, const char *value, char *why, size_t whylen)
{
	(void)why;
	(void)whylen;
	portset_clear(&cfg->reserved);
	if (parse_port_list(value, &cfg->reserved) != 0)
		return -1;
	cfg->reserved_set = true;
	return 0;
}

/* Index of `value` in a NULL-terminated list of names, or -1. */
static int pick(const char *value, const char *const *names)
{
	for (int i = 0; names[i]; i++)
		if (strcmp(value, names[i]) == 0)
			return i;
	return -1;
}

static int set_order(struct config *cfg, const char *value, char *why, size_t whylen)
{
	(void)why;
	(void)whylen;
	static const char *const names[] = { "random", "sequential", NULL };
	int i = pick(value, names);

	if (i < 0)
		return -1;
	cfg->order = i == 0 ? ORDER_RANDOM : ORDER_SEQUENTIAL;
	return 0;
}

static int set_seed(struct config *cfg, const char *value, char *why, size_t whylen)
{
	(void)why;
	(void)whylen;
	const char *rest = parse_u64(value, &cfg->seed);

	if (!rest || *rest)
		return -1;
	cfg->seed_set = true;
	return 0;
}

static int set_on_exhaust(struct config *cfg, const char *value, char *why, size_t whylen)
{
	(void)why;
	(void)whylen;
	static const char *const names[] = { "fail", "kernel", NULL };
	int i = pick(value, names);

	if (i < 0)
		return -1;
	cfg->on_exhaust = i == 0 ? ON_EXHAUST_FAIL : ON_EXHAUST_KERNEL;
	return 0;
}

static const char *const strategy_names[] = { "auto", "range", "reuse", "exclusive", NULL };

static int set_strategy(struct config *cfg, const char *value, char *why, size_t whylen)
{
	(void)why;
	(void)whylen;
	int i = pick(value, strategy_names);

	if (i < 0)
		return -1;
	cfg->strategy = (enum strategy)i;
	return 0;
}

const char *config_strategy_name(enum strategy strategy)
{
	return strategy_names[strategy];
}

static const char *const backend_names[] = { "auto", "preload", "seccomp", NULL };

static int set_backend(struct config *cfg, const char *value, char *why, size_t whylen)
{
	(void)why;
	(void)whylen;
	int i = pick(value, backend_names);

	if (i < 0)
		return -1;
	cfg->backend = (enum backend)i;
	return 0;
}

const char *config_backend_name(enum backend backend)
{
	return backend_names[backend];
}

/* A file the shim writes to.  In a setuid or setgid program the
 * environment belongs to someone else: no path from it is taken. */
static int set_path(const struct config *cfg, char *dest, const char *value, char *why,
		    size_t whylen)
{
	size_t len = strlen(value);

	if (len == 0 || len >= CONFIG_PATH_MAX)
		return -1;
	if (cfg->secure && strcmp(value, "stderr") != 0) {
		snprintf(why, whylen, "a setuid or setgid program takes no file path from "
				      "the environment; expected stderr");
		return -1;
	}
	memcpy(dest, value, len + 1);
	return 0;
}

static int set_log(struct config *cfg, const char *value, char *why, size_t whylen)
{
	return set_path(cfg, cfg->log, value, why, whylen);
}

static int set_stats(struct config *cfg, const char *value, char *why, size_t whylen)
{
	return set_path(cfg, cfg->stats, value, why, whylen);
}

static int set_rules(struct config *cfg, const char *value, char *why, size_t whylen)
{
	/* The environment's rules replace the file's: precedence is per setting. */
	cfg->rules.count = 0;
	return rules_parse(&cfg->rules, value, why, whylen);
}

static const struct setting settings[] = {
	{ "parity", set_parity, POLICY_ACCEPTED },
	{ "connect", set_connect, POLICY_ACCEPTED },
	{ "bind", set_bind, POLICY_ACCEPTED },
	{ "range", set_range, "LO-HI with 1 <= LO <= HI <= 65535" },
	{ "reserved", set_reserved, "a list of ports and LO-HI ranges separated by commas, e.g. 40000,40100-40199" },
	{ "order", set_order, "random or sequential" },
	{ "seed", set_seed, "an unsigned 64-bit integer (decimal or 0x hex)" },
	{ "on-exhaust", set_on_exhaust, "fail or kernel" },
	{ "strategy", set_strategy, "auto, range, reuse or exclusive" },
	{ "backend", set_backend, "auto, preload or seccomp" },
	{ "log", set_log, "stderr or a file path (shorter than 1024 bytes)" },
	{ "stats", set_stats, "stderr or a file path (shorter than 1024 bytes)" },
	{ "rules", set_rules, RULES_ACCEPTED },
	{ "config", NULL, "a config file path" },
};
#define N_SETTINGS (sizeof(settings) / sizeof(settings[0]))

const char *const *config_keys(void)
{
	static const char *keys[N_SETTINGS + 1];

	/* Filled on every call: a constant result, and no once-guard needed. */
	for (size_t i = 0; i < N_SETTINGS; i++)
		keys[i] = settings[i].key;
	keys[N_SETTINGS] = NULL;
	return keys;
}

void config_init(struct config *cfg, bool secure)
{
	/* The reserved set is cleared where it is filled (set_reserved(), the
	 * kernel's list in runtime.c): zeroing its 8 KiB here would only cost
	 * every process two pages. */
	memset(cfg, 0, offsetof(struct config, reserved));
	memset((char *)cfg + offsetof(struct config, reserved) + sizeof(cfg->reserved), 0,
	       sizeof(*cfg) - offsetof(struct config, reserved) - sizeof(cfg->reserved));
	cfg->secure = secure;
	cfg->connect.kind = POLICY_ANY;
	cfg->bind.kind = POLICY_OFF;
	cfg->order = ORDER_RANDOM;
	cfg->on_exhaust = ON_EXHAUST_FAIL;
	cfg->strategy = STRATEGY_AUTO;
}

int config_set(struct config *cfg, const char *key, const char *value,
	       const char *label, char *err, size_t errlen)
{
	for (size_t i = 0; i < N_SETTINGS; i++) {
		if (strcmp(key, settings[i].key) != 0)
			continue;
		char why[256] = "";
		if (!settings[i].set) {
			snprintf(err, errlen, "%s: only the environment and the command line name a config file", label);
			return -1;
		}
		if (settings[i].set(cfg, value, why, sizeof(why)) == 0)
			return 0;
		if (why[0]) /* the setter said what is wrong and what it accepts */
			snprintf(err, errlen, "%s='%s': %s", label, value, why);
		else
			snprintf(err, errlen, "%s='%s': expected %s", label, value, settings[i].accepted);
		return -1;
	}
	int n = snprintf(err, errlen, "%s: unknown setting; known:", label);
	for (size_t i = 0; i < N_SETTINGS && n >= 0 && (size_t)n < errlen; i++)
		n += snprintf(err + n, errlen - (size_t)n, "%s %s", i ? "," : "", settings[i].key);
	return -1;
}

void config_env_name(const char *key, char *buf, size_t size)
{
	size_t n = strlen(CONFIG_ENV_PREFIX);

	snprintf(buf, size, "%s", CONFIG_ENV_PREFIX);
	for (const char *k = key; *k && n + 1 < size; k++, n++)
		buf[n] = *k == '-' ? '_' : (char)(*k >= 'a' && *k <= 'z' ? *k - 'a' + 'A' : *k);
	buf[n < size ? n : size - 1] = '\0';
}

static void unknown_env(const char *entry, char *err, size_t errlen)
{
	size_t len = strcspn(entry, "=");
	int n = snprintf(err, errlen, "%.*s: unknown setting; known:", (int)len, entry);

	for (size_t i = 0; i < N_SETTINGS && n >= 0 && (size_t)n < errlen; i++) {
		char name[64];
		config_env_name(settings[i].key, name, sizeof(name));
		n += snprintf(err + n, errlen - (size_t)n, "%s %s", i ? "," : "", name);
	}
}

int config_from_environ(struct config *cfg, char *const *envp, char *err, size_t errlen)
{
	size_t prefix = strlen(CONFIG_ENV_PREFIX);

	for (char *const *e = envp; e && *e; e++) {
		if (strncmp(*e, CONFIG_ENV_PREFIX, prefix) != 0)
			continue;
		const char *eq = strchr(*e, '=');
		size_t i;
		char name[64];

		for (i = 0; eq && i < N_SETTINGS; i++) {
			config_env_name(settings[i].key, name, sizeof(name));
			if (strlen(name) == (size_t)(eq - *e) && strncmp(name, *e, (size_t)(eq - *e)) == 0)
				break;
		}
		if (!eq || i == N_SETTINGS) {
			unknown_env(*e, err, errlen);
			return -1;
		}
		if (!settings[i].set)
			continue; /* PORTSHIM_CONFIG: read above */
		if (config_set(cfg, settings[i].key, eq + 1, name, err, errlen) != 0)
			return -1;
	}
	return 0;
}

void config_finish(struct config *cfg)
{
	if (!cfg->connect_set && cfg->parity_set)
		cfg->connect = cfg->parity;
	if (!cfg->bind_set && cfg->parity_set)
		cfg->bind = cfg->parity;
}
