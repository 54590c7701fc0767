/* portshim --check: the configuration the command would run with, as the
 * library resolves it (portshim_runtime, filled by runtime_configure() in
 * wrapper.c), each setting with where it came from: a flag, the
 * environment, the config file, or the built-in default. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/config.h"
#include "core/filecheck.h"
#include "core/runtime.h"
#include "cli.h"
#include "seccomp/seccomp.h"

#define MAX_KEYS 40

/* Which keys the config file sets, read the way configfile.c reads it
 * (the library has already checked the file; only the names matter).
 * Opened with the same checks again: it may have been swapped since. */
static void file_keys(const char *path, const char *const *keys, bool *has)
{
	char line[2048], err[2048];
	int fd = path ? settings_open(path, "PORTSHIM_CONFIG",
				      filecheck_privileged(portshim_runtime.cfg.secure), err,
				      sizeof(err))
		      : -1;
	FILE *f = fd >= 0 ? fdopen(fd, "r") : NULL;

	while (f && fgets(line, sizeof(line), f)) {
		char *hash = strchr(line, '#'), *eq = strchr(line, '='), *key = line;
		if (hash)
			*hash = '\0';
		if (!eq || (hash && hash < eq))
			continue;
		*eq = '\0';
		key += strspn(key, " \t");
		for (char *end = eq; end > key && strchr(" \t", end[-1]); )
			*--end = '\0';
		for (char *c = key; *c; c++)
			if (*c == '_')
				*c = '-';
		if (strcmp(key, "rule") == 0)
			key = "rules";
		for (int k = 0; keys[k]; k++)
			if (strcmp(keys[k], key) == 0)
				has[k] = true;
	}
	if (f)
		fclose(f);
}

static int key_index(const char *const *keys, const char *key)
{
	for (int k = 0; keys[k]; k++)
		if (strcmp(keys[k], key) == 0)
			return k;
	return -1;
}

static void source(const struct check_input *in, const char *const *keys, const bool *in_file,
		   int k, char *buf, size_t size)
{
	const char *key = keys[k], *file = getenv("PORTSHIM_CONFIG");
	int flag = cli_flag_of_key(key), parity = cli_flag_of_key("parity");
	bool policy = strcmp(key, "connect") == 0 || strcmp(key, "bind") == 0;
	char name[64];

	config_env_name(key, name, sizeof(name));
	if (flag >= 0 && in->opt->value[flag])
		snprintf(buf, size, "flag --%s", cli_flags[flag].flag);
	else if (policy && in->opt->value[parity])
		snprintf(buf, size, "flag --parity");
	else if (in->env_before[k])
		snprintf(buf, size, "env %s", name);
	else if (in_file[k])
		snprintf(buf, size, "file %s", file);
	else if (policy && strcmp(keys[k], "parity") != 0 &&
		 portshim_runtime.cfg.parity_set) {
		char from[1200];
		source(in, keys, in_file, key_index(keys, "parity"), from, sizeof(from));
		snprintf(buf, size, "%.1100s (parity)", from);
	} else if (strcmp(key, "range") == 0)
		snprintf(buf, size, "default: the kernel's ip_local_port_range");
	else if (strcmp(key, "reserved") == 0)
		snprintf(buf, size, "default: the kernel's ip_local_reserved_ports");
	else
		snprintf(buf, size, "default");
}

/* "80,443,8000-8099", cut short after a few hundred bytes. */
static void port_list(const struct portset *set, char *buf, size_t size)
{
	size_t n = 0;

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

static void value(const char *key, char *buf, size_t size)
{
	const struct runtime *rt = &portshim_runtime;
	const struct config *cfg = &rt->cfg;

	if (strcmp(key, "parity") == 0) {
		if (cfg->parity_set)
			policy_format(&cfg->parity, buf, size);
		else
			snprintf(buf, size, "-");
	} else if (strcmp(key, "connect") == 0) {
		policy_format(&cfg->connect, buf, size);
	} else if (strcmp(key, "bind") == 0) {
		policy_format(&cfg->bind, buf, size);
	} else if (strcmp(key, "range") == 0) {
		snprintf(buf, size, "%u-%u", rt->range_lo, rt->range_hi);
	} else if (strcmp(key, "reserved") == 0) {
		port_list(&cfg->reserved, buf, size);
	} else if (strcmp(key, "order") == 0) {
		snprintf(buf, size, "%s", cfg->order == ORDER_RANDOM ? "random" : "sequential");
	} else if (strcmp(key, "seed") == 0) {
		if (cfg->seed_set)
			snprintf(buf, size, "%llu", (unsigned long long)cfg->seed);
		else
			snprintf(buf, size, "- (each process draws one)");
	} else if (strcmp(key, "on-exhaust") == 0) {
		snprintf(buf, size, "%s", cfg->on_exhaust == ON_EXHAUST_FAIL ? "fail" : "kernel");
	} else if (strcmp(key, "strategy") == 0) {
		snprintf(buf, size, "%s", config_strategy_name(cfg->strategy));
	} else if (strcmp(key, "backend") == 0) {
		snprintf(buf, size, "%s", config_backend_name(cfg->backend));
	} else if (strcmp(key, "log") == 0 || strcmp(key, "stats") == 0) {
		const char *path = key[0] == 'l' ? cfg->log : cfg->stats;
		snprintf(buf, size, "%s", path[0] ? path : "-");
	} else if (strcmp(key, "config") == 0) {
		snprintf(buf, size, "%s", cfg->file[0] ? cfg->file : "-");
	} else if (strcmp(key, "rules") == 0) {
		size_t n = 0;
		snprintf(buf, size, "-");
		for (int i = 0; i < cfg->rules.count && n + 1 < size; i++) {
			char one[160];
			rules_format_one(&cfg->rules.rule[i], one, sizeof(one));
			n += (size_t)snprintf(buf + n, size - n, "%s%s", i ? "; " : "", one);
		}
	} else {
		snprintf(buf, size, "(not shown by this portshim; see its environment variable)");
	}
}

static void plan_line(const char *what, const char *name, const struct plan *plan)
{
	uint32_t usable = 0;

	for (int i = 0; i < plan->npasses; i++)
		usable += plan->pass[i]->count;
	if (plan->npasses == 0)
		printf("  %-10s %-24s the kernel chooses (observed only)\n", what, name);
	else
		printf("  %-10s %-24s %u%s\n", what, name, usable,
		       plan->npasses > 1 ? " (in two passes)" : "");
}

/* The warning the library would give for a log or summary file it would
 * refuse (nothing is created here). */
static void warn_sink(const char *label, const char *path)
{
	struct sink_check why;
	char buf[CONFIG_PATH_MAX + 200];
	struct line l = { buf, sizeof(buf), 0 };

	if (!path[0] || strcmp(path, "stderr") == 0)
		return;
	sink_probe(path, &why);
	if (why.verdict == SINK_OK)
		return;
	sink_warning(&l, label, path, &why);
	fputs(buf, stderr);
}

/* The seccomp backend: which program, why this backend, and whether the
 * supervisor works here (the filter is tried in a child). */
static int check_seccomp(const struct check_input *in, const struct target *t)
{
	char why[512];
	const char *missing = seccomp_missing(true, why, sizeof(why));

	printf("%s (%s): the seccomp backend%s supervises it\n", t->path,
	       t->kind == TARGET_STATIC ? "a static executable"
	       : t->kind == TARGET_DYNAMIC ? "dynamically linked" : "a script or other file",
	       in->opt->value[cli_flag_of_key("backend")] || portshim_runtime.cfg.backend != BACKEND_AUTO
		       ? "" : " (auto: no dynamic linker to preload into)");
	if (missing) {
		printf("%-12s seccomp: does not work here: needs %s\n", "backend", missing);
		return CLI_EXIT_USAGE;
	}
	printf("%-12s seccomp: works here\n", "backend");
	return 0;
}

int check_print(const struct check_input *in)
{
	const struct runtime *rt = &portshim_runtime;
	const char *const *keys = cli_setting_keys();
	bool in_file[MAX_KEYS] = { false };
	char val[1200], from[1200];

	file_keys(getenv("PORTSHIM_CONFIG"), keys, in_file);
	warn_sink("PORTSHIM_LOG", rt->cfg.log);
	warn_sink("PORTSHIM_STATS", rt->cfg.stats);
	printf("portshim: the configuration is valid\n\n");
	printf("%-12s %-32s %s\n", "setting", "value", "from");
	for (int k = 0; keys[k] && k < MAX_KEYS; k++) {
		value(keys[k], val, sizeof(val));
		source(in, keys, in_file, k, from, sizeof(from));
		printf("%-12s %-32s %s\n", keys[k], val, from);
	}
	printf("%-12s %s\n", "library", in->library ? in->library : "- (the seccomp backend preloads nothing)");
	printf("%-12s %s\n", "LD_PRELOAD", getenv("LD_PRELOAD") ? getenv("LD_PRELOAD") : "-");

	unsigned span = rt->range_hi - rt->range_lo + 1u;
	printf("\nusable ports in %u-%u (%u ports, %u of them reserved):\n", rt->range_lo,
	       rt->range_hi, span, span - rt->base.count);
	plan_line("connect", rt->connect.name, &rt->connect);
	plan_line("bind", rt->bind.name, &rt->bind);
	for (int i = 0; i < rt->cfg.rules.count; i++) {
		char what[16], rule[160];
		snprintf(what, sizeof(what), "rule %d", i + 1);
		rules_format_one(&rt->cfg.rules.rule[i], rule, sizeof(rule));
		plan_line(what, rule, &rt->rule_plan[i]);
	}

	if (!in->opt->command)
		return 0;
	const struct target *t = in->target;
	char warning[4200], how[600] = "a script or other file";
	printf("\n%-12s ", "command");
	switch (t->kind) {
	case TARGET_MISSING:
		printf("%s: %s\n", t->path, t->error == ENOENT ? "command not found" : strerror(t->error));
		return t->error == ENOENT ? CLI_EXIT_NOT_FOUND : CLI_EXIT_CANNOT_RUN;
	case TARGET_STATIC:
	case TARGET_DYNAMIC:
	case TARGET_OTHER:
		if (in->backend == BACKEND_SECCOMP)
			return check_seccomp(in, t);
		if (target_warning(t, warning, sizeof(warning))) {
			printf("%s\n", warning);
			break;
		}
		/* Which library, and why: the loader that will run it. */
		if (t->kind == TARGET_DYNAMIC)
			snprintf(how, sizeof(how), "%s%s%sdynamically linked, %s loader %s",
				 t->script_interp[0] ? "a script run by " : "", t->script_interp,
				 t->script_interp[0] ? ", " : "",
				 t->libc == LIBC_MUSL ? "musl's" : "glibc's", t->interp);
		printf("%s (%s): the shim reaches it with %s%s\n", t->path, how, in->library,
		       in->opt->library ? " (--library)" : "");
	}
	return 0;
}
