/* Settings applied by name, through the table of settings.c; see
 * config.h. */
#include "config.h"

#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "settings.h"

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

/* "LABEL: unknown setting; known: a, b, ..." with each row's name as
 * `name` spells it (the key, or the environment variable). */
static void unknown(const char *label, size_t label_len, bool env, char *err, size_t errlen)
{
	int n = snprintf(err, errlen, "%.*s: unknown setting; known:", (int)label_len, label);

	for (size_t i = 0; i < settings_count && n >= 0 && (size_t)n < errlen; i++) {
		char name[64];
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

int config_set_from(struct config *cfg, const char *key, const char *value, const char *label,
		    enum config_origin origin, char *err, size_t errlen)
{
	const struct setting *s = setting_find(key);

	if (!s) {
		unknown(label, strlen(label), false, err, errlen);
		return -1;
	}
	return apply(cfg, s, value, label, origin, err, errlen);
}

int config_set(struct config *cfg, const char *key, const char *value,
	       const char *label, char *err, size_t errlen)
{
	return config_set_from(cfg, key, value, label, CONFIG_ENV, err, errlen);
}

void config_env_name(const char *key, char *buf, size_t size)
{
	size_t n = strlen(CONFIG_ENV_PREFIX);

	snprintf(buf, size, "%s", CONFIG_ENV_PREFIX);
	for (const char *k = key; *k && n + 1 < size; k++, n++)
		buf[n] = *k == '-' ? '_' : (char)(*k >= 'a' && *k <= 'z' ? *k - 'a' + 'A' : *k);
	buf[n < size ? n : size - 1] = '\0';
}

int config_from_environ(struct config *cfg, char *const *envp, char *err, size_t errlen)
{
	size_t prefix = strlen(CONFIG_ENV_PREFIX);

	for (char *const *e = envp; e && *e; e++) {
		if (strncmp(*e, CONFIG_ENV_PREFIX, prefix) != 0)
			continue;
		const char *eq = strchr(*e, '=');
		const struct setting *s = eq ? setting_by_env(*e, (size_t)(eq - *e)) : NULL;
		char name[64];

		if (!s) {
			unknown(*e, strcspn(*e, "="), true, err, errlen);
			return -1;
		}
		if (!s->set)
			continue; /* PORTSHIM_CONFIG: read by config_load() */
		setting_env_name(s, name, sizeof(name));
		if (apply(cfg, s, eq + 1, name, CONFIG_ENV, err, errlen) != 0)
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
