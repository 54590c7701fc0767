/* The settings table; see settings.h.  Each row's setter parses a value
 * into struct config (pure: no I/O); how --check shows it is the
 * command's (cli/showsetting.c). */
#include "settings.h"

#include <stdio.h>
#include <string.h>

#include "parse.h"

#define FIELD(in, type) ((type *)((char *)(in)->cfg + (in)->s->at))

static const char *const order_names[] = { "random", "sequential", NULL };
static const char *const on_exhaust_names[] = { "fail", "kernel", NULL };
static const char *const exec_static_names[] = { "warn", "refuse", NULL };

_Static_assert(sizeof(enum port_order) == sizeof(int) && sizeof(enum on_exhaust) == sizeof(int) &&
		       sizeof(enum strategy) == sizeof(int) && sizeof(enum backend) == sizeof(int) &&
		       sizeof(enum exec_static) == sizeof(int),
	       "a choice is stored as an int");

/* One of the row's names, stored as its index (the enum's value). */
static int set_choice(const struct setting_input *in)
{
	for (int i = 0; in->s->choices[i]; i++) {
		if (strcmp(in->value, in->s->choices[i]) == 0) {
			memcpy(FIELD(in, int), &i, sizeof(i));
			return 0;
		}
	}
	return -1;
}


/* The *_set flag that follows each policy in struct config. */
static int set_policy(const struct setting_input *in)
{
	struct policy *policy = FIELD(in, struct policy);
	bool *is_set = (bool *)(policy + 1);

	if (policy_parse(in->value, policy) != 0)
		return -1;
	*is_set = true;
	return 0;
}
#define FOLLOWS(field) (offsetof(struct config, field##_set) == \
			offsetof(struct config, field) + sizeof(struct policy))
_Static_assert(FOLLOWS(parity) && FOLLOWS(connect) && FOLLOWS(bind), "X_set follows X");



static int set_range(const struct setting_input *in)
{
	if (parse_port_range(in->value, &in->cfg->range_lo, &in->cfg->range_hi) != 0)
		return -1;
	in->cfg->range_set = true;
	return 0;
}


static int set_reserved(const struct setting_input *in)
{
	portset_clear(&in->cfg->reserved);
	if (parse_port_list(in->value, &in->cfg->reserved) != 0)
		return -1;
	in->cfg->reserved_set = true;
	return 0;
}


static int set_seed(const struct setting_input *in)
{
	const char *rest = parse_u64(in->value, &in->cfg->seed);

	if (!rest || *rest)
		return -1;
	in->cfg->seed_set = true;
	return 0;
}


/* A file the shim writes to.  In a setuid or setgid program the
 * environment belongs to someone else: no path from it is taken. */
static int set_path(const struct setting_input *in)
{
	size_t len = strlen(in->value);

	if (len == 0 || len >= CONFIG_PATH_MAX)
		return -1;
	if (in->cfg->secure && strcmp(in->value, "stderr") != 0) {
		snprintf(in->why, in->whylen, "a setuid or setgid program takes no file path "
					      "from the environment; expected stderr");
		return -1;
	}
	memcpy(FIELD(in, char), in->value, len + 1);
	return 0;
}


/* Precedence is per setting: the environment's rules replace the file's,
 * and each `rule =` line of a file adds one. */
static int set_rules(const struct setting_input *in)
{
	if (!in->append)
		in->cfg->rules.count = 0;
	return rules_parse(&in->cfg->rules, in->value, in->why, in->whylen);
}


#define AT(field) .at = offsetof(struct config, field)
#define POLICY(field) AT(field), .set = set_policy, .accepted = POLICY_ACCEPTED, .arg = "POLICY"
#define CHOICE(field, names) AT(field), .set = set_choice, .shown = SHOWN_CHOICE, .choices = names
#define PATH(field) AT(field), .set = set_path, .shown = SHOWN_PATH, .attr = SETTING_PATH, \
	.accepted = "stderr or a file path (shorter than 1024 bytes)"

const struct setting settings[] = {
	{ "parity", POLICY(parity), .shown = SHOWN_PARITY,
	  .help = "policy for connect() and bind(0) both" },
	{ "connect", POLICY(connect), .shown = SHOWN_POLICY, .fallback = "parity",
	  .help = "policy for connect(), sendto(), sendmsg() (default any)" },
	{ "bind", POLICY(bind), .shown = SHOWN_POLICY, .fallback = "parity",
	  .help = "policy for bind() to port 0 (default off)" },
	{ "range", .set = set_range, .shown = SHOWN_RANGE, .arg = "LO-HI",
	  .accepted = "LO-HI with 1 <= LO <= HI <= 65535",
	  .help = "local port range (default: ip_local_port_range)",
	  .default_from = "default: the kernel's ip_local_port_range" },
	{ "reserved", .set = set_reserved, .shown = SHOWN_RESERVED, .arg = "LIST",
	  .accepted = "a list of ports and LO-HI ranges separated by commas, e.g. 40000,40100-40199",
	  .help = "ports never used, e.g. 80,8000-8099 (default: ip_local_reserved_ports)",
	  .default_from = "default: the kernel's ip_local_reserved_ports" },
	{ "order", CHOICE(order, order_names), .arg = "ORDER",
	  .help = "random (default) or sequential" },
	{ "seed", .set = set_seed, .shown = SHOWN_SEED, .arg = "N",
	  .accepted = "an unsigned 64-bit integer (decimal or 0x hex)",
	  .help = "seed of the random order, for reproducible runs" },
	{ "exec-static", CHOICE(exec_static, exec_static_names), .arg = "WHAT",
	  .help = "warn (default) or refuse (exit 125): a program that execs a static one" },
	{ "on-exhaust", CHOICE(on_exhaust, on_exhaust_names), .arg = "WHAT",
	  .help = "fail (default) or kernel: what to do when no port is left" },
	{ "strategy", CHOICE(strategy, config_strategy_names), .arg = "STRATEGY",
	  .help = "auto (default), range, reuse or exclusive" },
	{ "backend", CHOICE(backend, config_backend_names), .arg = "BACKEND",
	  .help = "auto (default), preload, seccomp or bpf: how COMMAND is reached" },
	{ "log", PATH(log), .arg = "FILE",
	  .help = "event log: one JSON line per decision (FILE or stderr)" },
	{ "stats", PATH(stats), .arg = "FILE", .help = "summary line at exit (FILE or stderr)" },
	{ "rules", .flag = "rule", .repeat = "; ", .set = set_rules, .shown = SHOWN_RULES,
	  .arg = "DEST=POLICY", .accepted = RULES_ACCEPTED,
	  .help = "per-destination connect policy; repeatable" },
	{ "config", AT(file), .shown = SHOWN_PATH, .attr = SETTING_PATH, .arg = "FILE",
	  .accepted = "a config file path", .help = "config file (key = value lines)" },
	{ "control", AT(control), .set = set_path, .shown = SHOWN_PATH, .attr = SETTING_PATH,
	  .arg = "FILE", .accepted = "a control file path (shorter than 1024 bytes)",
	  .help = "re-read when it changes: connect, bind, parity above the environment's" },
};
const size_t settings_count = sizeof(settings) / sizeof(settings[0]);
_Static_assert(sizeof(settings) / sizeof(settings[0]) <= CONFIG_SETTINGS_MAX,
	       "struct config has an origin for each setting");

const struct setting *setting_find(const char *key)
{
	for (size_t i = 0; i < settings_count; i++)
		if (strcmp(key, settings[i].key) == 0)
			return &settings[i];
	return NULL;
}

void setting_env_name(const struct setting *s, char *buf, size_t size)
{
	config_env_name(s->key, buf, size);
}

const struct setting *setting_by_env(const char *name, size_t len)
{
	for (size_t i = 0; i < settings_count; i++) {
		char env[64];
		setting_env_name(&settings[i], env, sizeof(env));
		if (strlen(env) == len && strncmp(env, name, len) == 0)
			return &settings[i];
	}
	return NULL;
}

void setting_accepted(const struct setting *s, char *buf, size_t size)
{
	size_t n = 0;

	if (s->accepted || !s->choices) {
		snprintf(buf, size, "%s", s->accepted ? s->accepted : "");
		return;
	}
	buf[0] = '\0';
	for (int i = 0; s->choices[i] && n < size; i++)
		n += (size_t)snprintf(buf + n, size - n, "%s%s", !i ? "" : s->choices[i + 1] ? ", " : " or ",
				      s->choices[i]);
}
