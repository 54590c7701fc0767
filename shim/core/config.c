/* See config.h. */
#include "config.h"

#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "zerofill.h"

_Static_assert(offsetof(struct config, log) < offsetof(struct config, reserved) +
						   sizeof(struct portset) + 8,
	       "config_init() zeroes all but the reserved set: the paths follow it");

const char *const config_strategy_names[] = { "auto", "range", "reuse", "exclusive", NULL };
const char *const config_backend_names[] = { "auto", "preload", "seccomp", "bpf", NULL };

const char *config_strategy_name(enum strategy strategy)
{
	return config_strategy_names[strategy];
}

const char *config_backend_name(enum backend backend)
{
	return config_backend_names[backend];
}

void config_env_name(const char *key, char *buf, size_t size)
{
	size_t n = strlen(CONFIG_ENV_PREFIX);

	snprintf(buf, size, "%s", CONFIG_ENV_PREFIX);
	for (const char *k = key; *k && n + 1 < size; k++, n++)
		buf[n] = *k == '-' ? '_' : (char)(*k >= 'a' && *k <= 'z' ? *k - 'a' + 'A' : *k);
	buf[n < size ? n : size - 1] = '\0';
}

void config_init(struct config *cfg, bool secure)
{
	/* Not even read the first time: some kernels back a read fault of
	 * static storage with a private page (tests/bench/README.md, (d)).
	 * The reserved set is cleared where it is filled (set_reserved(), the
	 * kernel's list in runtime.c). */
	if (cfg->used) {
		zerofill_sparing(cfg, offsetof(struct config, reserved));
		zerofill_sparing(cfg->log, sizeof(*cfg) - offsetof(struct config, log));
	}
	cfg->used = true;
	cfg->secure = secure;
	cfg->connect.kind = POLICY_ANY;
	cfg->bind.kind = POLICY_OFF;
	cfg->order = ORDER_RANDOM;
	cfg->on_exhaust = ON_EXHAUST_FAIL;
	cfg->strategy = STRATEGY_AUTO;
}

/* The specific setting beats parity. */
void config_finish(struct config *cfg)
{
	if (!cfg->connect_set && cfg->parity_set)
		cfg->connect = cfg->parity;
	if (!cfg->bind_set && cfg->parity_set)
		cfg->bind = cfg->parity;
}
