/* The settings table; see settings.h.  Each row's setter parses a value
 * into struct config (pure: no I/O), and its show function prints the
 * value in force (the config, with the range as the kernel's files gave
 * it when none was set). */
#include "settings.h"

#include <stdio.h>
#include <string.h>

#include "parse.h"

#define FIELD(in, type) ((type *)((char *)(in)->cfg + (in)->s->at))
#define SHOWN(out, type) ((const type *)((const char *)(out)->cfg + (out)->s->at))

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

static void show_choice(const struct setting_output *out)
{
	int i;

	memcpy(&i, SHOWN(out, int), sizeof(i));
	snprintf(out->buf, out->size, "%s", out->s->choices[i]);
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

static int set_range(const struct setting_input *in)
{
	if (parse_port_range(in->value, &in->cfg->range_lo, &in->cfg->range_hi) != 0)
		return -1;
	in->cfg->range_set = true;
	return 0;
}

static void show_range(const struct setting_output *out)
{
	snprintf(out->buf, out->size, "%u-%u", out->range_lo, out->range_hi);
}

static int set_reserved(const struct setting_input *in)
{
	portset_clear(&in->cfg->reserved);
	if (parse_port_list(in->value, &in->cfg->reserved) != 0)
		return -1;
	in->cfg->reserved_set = true;
	return 0;
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

static int set_seed(const struct setting_input *in)
{
	const char *rest = parse_u64(in->value, &in->cfg->seed);

	if (!rest || *rest)
		return -1;
	in->cfg->seed_set = true;
	return 0;
}

static void show_seed(const struct setting_output *out)
{
	if (out->cfg->seed_set)
		snprintf(out->buf, out->size, "%llu", (unsigned long long)out->cfg->seed);
	else
		snprintf(out->buf, out->size, "- (each process draws one)");
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

static void show_path(const struct setting_output *out)
{
	const char *path = SHOWN(out, char);

	snprintf(out->buf, out->size, "%s", path[0] ? path : "-");
}

/* Precedence is per setting: the environment's rules replace the file's,
 * and each `rule =` line of a file adds one. */
static int set_rules(const struct setting_input *in)
{
	if (!in->append)
		in->cfg->rules.count = 0;
	return rules_parse(&in->cfg->rules, in->value, in->why, in->whylen);
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

#define AT(field) .at = offsetof(struct config, field)
#define POLICY(field) AT(field), .set = set_policy, .accepted = POLICY_ACCEPTED, .arg = "POLICY"
#define CHOICE(field, names) AT(field), .set = set_choice, .show = show_choice, .choices = names
#define PATH(field) AT(field), .set = set_path, .show = show_path, .attr = SETTING_PATH, \
	.accepted = "stderr or a file path (shorter than 1024 bytes)"

const struct setting settings[] = {
	{ "parity", POLICY(parity), .show = show_parity,
	  .help = "policy for connect() and bind(0) both" },
	{ "connect", POLICY(connect), .show = show_policy, .fallback = "parity",
	  .help = "policy for connect(), sendto(), sendmsg() (default any)" },
	{ "bind", POLICY(bind), .show = show_policy, .fallback = "parity",
	  .help = "policy for bind() to port 0 (default off)" },
	{ "range", .set = set_range, .show = show_range, .arg = "LO-HI",
	  .accepted = "LO-HI with 1 <= LO <= HI <= 65535",
	  .help = "local port range (default: ip_local_port_range)",
	  .default_from = "default: the kernel's ip_local_port_range" },
	{ "reserved", .set = set_reserved, .show = show_reserved, .arg = "LIST",
	  .accepted = "a list of ports and LO-HI ranges separated by commas, e.g. 40000,40100-40199",
	  .help = "ports never used, e.g. 80,8000-8099 (default: ip_local_reserved_ports)",
	  .default_from = "default: the kernel's ip_local_reserved_ports" },
	{ "order", CHOICE(order, order_names), .arg = "ORDER",
	  .help = "random (default) or sequential" },
	{ "seed", .set = set_seed, .show = show_seed, .arg = "N",
	  .accepted = "an unsigned 64-bit integer (decimal or 0x hex)",
	  .help = "seed of the random order, for reproducible runs" },
	{ "exec-static", CHOICE(exec_static, exec_static_names), .arg = "WHAT",
	  .help = "warn (default) or refuse (exit 125): a program that execs a static one" },
	{ "on-exhaust", CHOICE(on_exhaust, on_exhaust_names), .arg = "WHAT",
	  .help = "fail (default) or kernel: what to do when no port is left" },
	{ "strategy", CHOICE(strategy, config_strategy_names), .arg = "STRATEGY",
	  .help = "auto (default), range, reuse or exclusive" },
	{ "backend", CHOICE(backend, config_backend_names), .arg = "BACKEND",
	  .help = "auto (default), preload or seccomp: how COMMAND is reached" },
	{ "log", PATH(log), .arg = "FILE",
	  .help = "event log: one JSON line per decision (FILE or stderr)" },
	{ "stats", PATH(stats), .arg = "FILE", .help = "summary line at exit (FILE or stderr)" },
	{ "rules", .flag = "rule", .repeat = "; ", .set = set_rules, .show = show_rules,
	  .arg = "DEST=POLICY", .accepted = RULES_ACCEPTED,
	  .help = "per-destination connect policy; repeatable" },
	{ "config", AT(file), .show = show_path, .attr = SETTING_PATH, .arg = "FILE",
	  .accepted = "a config file path", .help = "config file (key = value lines)" },
	{ "control", AT(control), .set = set_path, .show = show_path, .attr = SETTING_PATH,
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
