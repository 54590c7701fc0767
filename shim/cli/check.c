/* portshim --check: the configuration the command would run with, as the
 * library resolves it (portshim_runtime, filled by runtime_configure() in
 * wrapper.c), one row per setting of the table (settings.h) with where it
 * came from: a flag, the environment, the config file, or the built-in
 * default. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/config.h"
#include "core/filecheck.h"
#include "core/runtime.h"
#include "core/settings.h"
#include "cli.h"
#include "bpf/bpfcmd.h"
#include "seccomp/seccomp.h"

/* Where a setting's value came from: a flag, the environment, the config
 * file, the setting it falls back to, or the built-in default. */
static void source(const struct options *opt, const struct setting *s, char *buf, size_t size)
{
	const struct config *cfg = &portshim_runtime.cfg;
	const struct setting *flag = options_flag_of(opt, s), *from;
	char name[64];

	setting_env_name(s, name, sizeof(name));
	if (flag) {
		snprintf(buf, size, "flag --%s", setting_flag(flag));
	} else if (cfg->origin[setting_index(s)] == CONFIG_ENV) {
		snprintf(buf, size, "env %s", name);
	} else if (cfg->origin[setting_index(s)] == CONFIG_FILE) {
		snprintf(buf, size, "file %s", cfg->file);
	} else if (s->fallback && (from = setting_find(s->fallback)) &&
		   cfg->origin[setting_index(from)] != CONFIG_DEFAULT) {
		char of[1200];
		source(opt, from, of, sizeof(of));
		snprintf(buf, size, "%.1100s (%s)", of, from->key);
	} else {
		snprintf(buf, size, "%s", s->default_from ? s->default_from : "default");
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

/* A log or summary file the library would refuse, or could not create:
 * its own warning line (nothing is created here), and --check fails. */
static bool sink_fails(const char *label, const char *path)
{
	struct sink_check why;
	char buf[CONFIG_PATH_MAX + 200];
	struct line l = { buf, sizeof(buf), 0 };

	if (!path[0] || strcmp(path, "stderr") == 0)
		return false;
	sink_probe(path, &why);
	if (why.verdict == SINK_OK)
		return false;
	sink_warning(&l, label, path, &why);
	fputs(buf, stderr);
	return true;
}

/* The library, as the loader that will run the command loads it (this
 * program's own loader when there is no dynamic command). */
static bool library_fails(const struct check_input *in)
{
	static struct executable self;
	const struct executable *t = in->target;
	char exe[4096], why[8192];

	/* The seccomp backend preloads nothing: no library to load. */
	if (!in->library)
		return false;
	if (!in->opt->command || t->kind != EXECUTABLE_DYNAMIC) {
		if (!realpath("/proc/self/exe", exe))
			return false; /* no loader to ask: the run will tell */
		executable_inspect(exe, &self);
		t = &self;
	}
	if (t->kind != EXECUTABLE_DYNAMIC)
		return false;
	if (libcheck(t->interp, t->script_interp[0] ? t->script_interp : t->path, in->library, why,
		     sizeof(why)) == 0)
		return false;
	fprintf(stderr, "portshim: %s: the dynamic linker would not load it: %s\n", in->library,
		why);
	return true;
}

#define VALUE_WIDTH 32

/* One row of the settings table.  A list wider than its column (several
 * rules) goes on over the next lines, cut after a "; ", so that "from"
 * stays in its column; a value that cannot be cut (a long path) is
 * followed by "from" on its line. */
static void row(const char *key, const char *val, const char *from)
{
	for (bool first = true; first || *val; first = false) {
		size_t len = strlen(val);
		if (len > VALUE_WIDTH) {
			const char *cut = NULL;
			for (const char *p = strstr(val, "; "); p && p + 1 - val <= VALUE_WIDTH;
			     p = strstr(p + 2, "; "))
				cut = p + 1;
			len = cut ? (size_t)(cut - val) : len;
		}
		if (first)
			printf("%-12s %-*.*s %s\n", key, VALUE_WIDTH, (int)len, val, from);
		else
			printf("%-12s %.*s\n", "", (int)len, val);
		val += len;
		val += strspn(val, " ");
	}
}

/* The seccomp backend: which program, why this backend, and whether the
 * supervisor works here (the filter is tried in a child). */
static int check_seccomp(const struct executable *t)
{
	char why[512];
	const char *missing = seccomp_missing(true, why, sizeof(why));

	printf("%s (%s): the seccomp backend%s supervises it\n", t->path,
	       t->kind == EXECUTABLE_STATIC ? "a static executable"
	       : t->kind == EXECUTABLE_DYNAMIC ? "dynamically linked" : "a script or other file",
	       portshim_runtime.cfg.backend != BACKEND_AUTO ? ""
							      : " (auto: no dynamic linker to preload into)");
	if (missing) {
		printf("%-12s seccomp: does not work here: needs %s\n", "backend", missing);
		return CLI_EXIT_USAGE;
	}
	printf("%-12s seccomp: works here\n", "backend");
	return 0;
}

/* The bpf backend: does it load here with these settings, and what does
 * it reach (portshim(1), BACKENDS). */
static int check_bpf(void)
{
	char why[512];
	bool kernel_netns;
	const char *missing = bpf_missing(&portshim_runtime, &kernel_netns, why, sizeof(why));

	if (missing) {
		printf("\n%-12s bpf: does not work here: needs %s\n", "backend", missing);
		return CLI_EXIT_USAGE;
	}
	printf("\n%-12s bpf: works here\n", "backend");
	printf("%-12s every connect() of every process of the command's cgroup, whatever its "
	       "binary (static, Go, io_uring), TCP and UDP, IPv4 and IPv6\n", "reaches");
	printf("%-12s bind(0); a UDP sendto() without connect()\n", "not");
	printf("%-12s %s\n", "namespaces", kernel_netns
	       ? "one made later: read from the kernel at its first connect (range, reserved "
		 "ports, addresses)"
	       : "one made later: the range of portshim's own until read (the kernel refuses "
		 "bpf_probe_read_kernel here: a lockdown)");
	return 0;
}

int check_print(const struct check_input *in)
{
	const struct runtime *rt = &portshim_runtime;
	char val[1200], from[1200];
	bool failed = sink_fails("PORTSHIM_LOG", rt->cfg.log);

	failed |= sink_fails("PORTSHIM_STATS", rt->cfg.stats);
	failed |= library_fails(in);
	if (failed)
		return CLI_EXIT_USAGE;
	printf("portshim: the configuration is valid\n\n");
	printf("%-12s %-*s %s\n", "setting", VALUE_WIDTH, "value", "from");
	for (size_t i = 0; i < settings_count; i++) {
		show_setting(&settings[i], &rt->cfg, rt->range_lo, rt->range_hi, val, sizeof(val));
		source(in->opt, &settings[i], from, sizeof(from));
		row(settings[i].key, val, from);
	}
	printf("%-12s %s\n", "library", in->library ? in->library
			: in->backend == BACKEND_BPF ? "- (the bpf backend preloads nothing)"
						       : "- (the seccomp backend preloads nothing)");
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

	if (in->backend == BACKEND_BPF)
		return check_bpf();
	if (!in->opt->command)
		return 0;
	const struct executable *t = in->target;
	char warning[4200], how[600] = "a script or other file";
	printf("\n%-12s ", "command");
	switch (t->kind) {
	case EXECUTABLE_MISSING:
		printf("%s: %s\n", t->path, t->error == ENOENT ? "command not found" : strerror(t->error));
		return t->error == ENOENT ? CLI_EXIT_NOT_FOUND : CLI_EXIT_CANNOT_RUN;
	case EXECUTABLE_STATIC:
	case EXECUTABLE_DYNAMIC:
	case EXECUTABLE_OTHER:
		if (in->backend == BACKEND_SECCOMP)
			return check_seccomp(t);
		/* A command the shim cannot reach fails the check. */
		if (executable_unreachable(t, warning, sizeof(warning))) {
			printf("warning: %s\n", warning);
			return CLI_EXIT_USAGE;
		}
		/* Which library, and why: the loader that will run it. */
		if (t->kind == EXECUTABLE_DYNAMIC)
			snprintf(how, sizeof(how), "%s%s%sdynamically linked, %s loader %s",
				 t->script_interp[0] ? "a script run by " : "", t->script_interp,
				 t->script_interp[0] ? ", " : "",
				 t->libc == LIBC_MUSL ? "musl's" : "glibc's", t->interp);
		printf("%s (%s): the shim reaches it with %s%s\n", t->path, how, in->library,
		       in->opt->library ? " (--library)" : "");
	}
	return 0;
}
