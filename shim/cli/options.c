/* The wrapper's command line.  Every setting flag is checked with the
 * library's own config_set(), under the flag's name, so that a value the
 * wrapper accepts is one the library accepts, and the error reads
 * "portshim: --parity='evn': expected even, odd, ...". */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/config.h"
#include "core/policy.h"
#include "cli.h"

const struct flag_def cli_flags[] = {
	{ "parity", "parity", "POLICY", "policy for connect() and bind(0) both" },
	{ "connect", "connect", "POLICY", "policy for connect(), sendto(), sendmsg() (default any)" },
	{ "bind", "bind", "POLICY", "policy for bind() to port 0 (default off)" },
	{ "range", "range", "LO-HI", "local port range (default: ip_local_port_range)" },
	{ "reserved", "reserved", "LIST", "ports never used, e.g. 80,8000-8099 (default: ip_local_reserved_ports)" },
	{ "order", "order", "ORDER", "random (default) or sequential" },
	{ "seed", "seed", "N", "seed of the random order, for reproducible runs" },
	{ "rule", "rules", "DEST=POLICY", "per-destination connect policy; repeatable" },
	{ "strategy", "strategy", "STRATEGY", "auto (default), range, reuse or exclusive" },
	{ "backend", "backend", "BACKEND", "auto (default), preload or seccomp: who applies the policy" },
	{ "on-exhaust", "on-exhaust", "WHAT", "fail (default) or kernel: what to do when no port is left" },
	{ "log", "log", "FILE", "event log: one JSON line per decision (FILE or stderr)" },
	{ "stats", "stats", "FILE", "summary line at exit (FILE or stderr)" },
	{ "config", "config", "FILE", "config file (key = value lines)" },
};
const int cli_nflags = sizeof(cli_flags) / sizeof(cli_flags[0]);
_Static_assert(sizeof(cli_flags) / sizeof(cli_flags[0]) <= sizeof(((struct options *)0)->value) /
		       sizeof(const char *),
	       "struct options has a value for each flag");

_Noreturn void cli_die(const char *fmt, ...)
{
	va_list ap;

	fputs("portshim: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(CLI_EXIT_USAGE);
}

int cli_flag_of_key(const char *key)
{
	for (int i = 0; i < cli_nflags; i++)
		if (strcmp(cli_flags[i].key, key) == 0)
			return i;
	return -1;
}

void cli_help(void)
{
	printf("usage: portshim [OPTION...] [--] COMMAND [ARG...]\n"
	       "       portshim --check [OPTION...] [[--] COMMAND [ARG...]]\n"
	       "       portshim report [--json] FILE...\n"
	       "\n"
	       "Runs COMMAND with libportshim.so preloaded, so that the source ports of its\n"
	       "TCP and UDP sockets follow a policy.  Each option sets the PORTSHIM_ variable\n"
	       "of the same name; options win over the environment, which wins over a\n"
	       "config file.  A static COMMAND (no dynamic linker: Go, gcc -static) runs\n"
	       "under the seccomp backend instead: portshim stays its parent and applies the\n"
	       "same policies through seccomp user notification (--backend; Linux 5.6+).\n"
	       "\n");
	for (int i = 0; i < cli_nflags; i++) {
		char left[64];
		snprintf(left, sizeof(left), "--%s %s", cli_flags[i].flag, cli_flags[i].arg);
		printf("  %-24s %s\n", left, cli_flags[i].help);
	}
	printf("  %-24s %s\n", "--library PATH", "the libportshim.so to preload (default: beside portshim, or ../lib)");
	printf("  %-24s %s\n", "--check", "validate and print the effective configuration; run nothing");
	printf("  %-24s %s\n", "-h, --help", "show this help");
	printf("  %-24s %s\n", "-V, --version", "show the version");
	printf("\n"
	       "POLICY is %s.\n"
	       "DEST is %s.\n"
	       "\n"
	       "portshim report summarizes event logs: counts by parity, policy, destination,\n"
	       "result, attempts and call, as tables or, with --json, as one JSON object.\n"
	       "\n"
	       "Exit status: 125 bad usage or configuration, 126 COMMAND cannot be run,\n"
	       "127 COMMAND not found; otherwise COMMAND's own status.  See portshim(1).\n",
	       POLICY_ACCEPTED, RULES_DEST_ACCEPTED);
}

/* An absolute path, so that a command that changes directory still writes
 * where the user meant; "stderr" stays as it is. */
static const char *absolute(const char *path)
{
	char cwd[4096];

	if (path[0] == '/' || strcmp(path, "stderr") == 0 || !getcwd(cwd, sizeof(cwd)))
		return path;
	char *abs = malloc(strlen(cwd) + strlen(path) + 2);
	if (!abs)
		cli_die("out of memory");
	sprintf(abs, "%s/%s", cwd, path);
	return abs;
}

static void add_rule(struct options *opt, const char *rule)
{
	size_t old = opt->rules ? strlen(opt->rules) : 0;
	char *joined = realloc(opt->rules, old + strlen(rule) + 3);

	if (!joined)
		cli_die("out of memory");
	sprintf(joined + old, "%s%s", old ? "; " : "", rule);
	opt->rules = joined;
}

/* Each value through the library's parser, labelled by its flag. */
static void validate(struct options *opt)
{
	static struct config cfg;
	char err[1024], label[64];

	for (int i = 0; i < cli_nflags; i++) {
		const char *value = opt->value[i];
		if (!value)
			continue;
		config_init(&cfg, false);
		snprintf(label, sizeof(label), "--%s", cli_flags[i].flag);
		if (strcmp(cli_flags[i].key, "config") == 0) {
			if (config_from_file(&cfg, value, label, err, sizeof(err)) != 0)
				cli_die("%s", err);
		} else if (config_set(&cfg, cli_flags[i].key, value, label, err, sizeof(err)) != 0) {
			cli_die("%s", err);
		}
	}
}

void options_parse(struct options *opt, int argc, char **argv)
{
	memset(opt, 0, sizeof(*opt));
	for (int i = 1; i < argc; i++) {
		const char *arg = argv[i], *value = NULL;
		if (strcmp(arg, "--") == 0) {
			opt->command = argv + i + 1;
			break;
		}
		if (arg[0] != '-' || arg[1] == '\0') {
			opt->command = argv + i;
			break;
		}
		if (strcmp(arg, "-h") == 0 || strcmp(arg, "--help") == 0) {
			opt->help = true;
			continue;
		}
		if (strcmp(arg, "-V") == 0 || strcmp(arg, "--version") == 0) {
			opt->version = true;
			continue;
		}
		if (strcmp(arg, "--check") == 0) {
			opt->check = true;
			continue;
		}
		/* --flag VALUE or --flag=VALUE; no abbreviations, no short forms. */
		const char *eq = strchr(arg, '=');
		size_t name_len = eq ? (size_t)(eq - arg) : strlen(arg);
		int flag = -1;
		bool library = name_len == 9 && strncmp(arg, "--library", 9) == 0;
		for (int f = 0; f < cli_nflags && !library && flag < 0; f++)
			if (strncmp(arg, "--", 2) == 0 && name_len == strlen(cli_flags[f].flag) + 2 &&
			    strncmp(arg + 2, cli_flags[f].flag, name_len - 2) == 0)
				flag = f;
		if (flag < 0 && !library)
			cli_die("unknown option '%.*s' (see portshim --help)", (int)name_len, arg);
		if (eq)
			value = eq + 1;
		else if (i + 1 < argc)
			value = argv[++i];
		else
			cli_die("%.*s: missing value", (int)name_len, arg);
		if (library)
			opt->library = value;
		else if (strcmp(cli_flags[flag].key, "rules") == 0) {
			static struct config cfg;
			char err[1024];
			config_init(&cfg, false);
			if (config_set(&cfg, "rules", value, "--rule", err, sizeof(err)) != 0)
				cli_die("%s", err);
			add_rule(opt, value);
			opt->value[flag] = opt->rules;
		} else {
			opt->value[flag] = value; /* a repeated flag: the last one wins */
		}
	}
	validate(opt);
	for (int i = 0; i < cli_nflags; i++) {
		const char *key = cli_flags[i].key;
		if (opt->value[i] && (strcmp(key, "log") == 0 || strcmp(key, "stats") == 0 ||
				      strcmp(key, "config") == 0))
			opt->value[i] = absolute(opt->value[i]);
	}
}
