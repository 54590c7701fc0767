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
#include "core/settings.h"
#include "cli.h"

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

void cli_help(void)
{
	printf("usage: portshim [OPTION...] [--] COMMAND [ARG...]\n"
	       "       portshim --check [OPTION...] [[--] COMMAND [ARG...]]\n"
	       "       portshim report [--json] FILE...\n"
	       "\n"
	       "Runs COMMAND with libportshim.so preloaded, so that the source ports of its\n"
	       "TCP and UDP sockets follow a policy.  Each option sets the PORTSHIM_ variable\n"
	       "of the same name; options win over the environment, which wins over a\n"
	       "config file.\n"
	       "\n");
	for (size_t i = 0; i < settings_count; i++) {
		char left[64];
		snprintf(left, sizeof(left), "--%s %s", setting_flag(&settings[i]), settings[i].arg);
		printf("  %-24s %s\n", left, settings[i].help);
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

const struct setting *options_flag_of(const struct options *opt, const struct setting *s)
{
	if (opt->value[setting_index(s)])
		return s;
	const struct setting *from = s->fallback ? setting_find(s->fallback) : NULL;
	return from && opt->value[setting_index(from)] ? from : NULL;
}

/* A repeatable flag's values, joined as its setting reads them. */
static const char *join(const char *old, const char *value, const char *sep)
{
	if (!old)
		return value;
	char *joined = malloc(strlen(old) + strlen(sep) + strlen(value) + 1);
	if (!joined)
		cli_die("out of memory");
	sprintf(joined, "%s%s%s", old, sep, value);
	return joined;
}

/* One value through the library's parser, labelled by its flag.  The
 * config file is read as the library will read it. */
static void validate(const struct setting *s, const char *value)
{
	static struct config cfg;
	char err[1024], label[64];

	config_init(&cfg, false);
	snprintf(label, sizeof(label), "--%s", setting_flag(s));
	if (!s->set) {
		if (config_from_file(&cfg, value, label, err, sizeof(err)) != 0)
			cli_die("%s", err);
	} else if (config_set(&cfg, s->key, value, label, err, sizeof(err)) != 0) {
		cli_die("%s", err);
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
		const struct setting *s = NULL;
		bool library = name_len == 9 && strncmp(arg, "--library", 9) == 0;
		for (size_t f = 0; f < settings_count && !library && !s; f++)
			if (strncmp(arg, "--", 2) == 0 && name_len == strlen(setting_flag(&settings[f])) + 2 &&
			    strncmp(arg + 2, setting_flag(&settings[f]), name_len - 2) == 0)
				s = &settings[f];
		if (!s && !library)
			cli_die("unknown option '%.*s' (see portshim --help)", (int)name_len, arg);
		if (eq)
			value = eq + 1;
		else if (i + 1 < argc)
			value = argv[++i];
		else
			cli_die("%.*s: missing value", (int)name_len, arg);
		if (library) {
			opt->library = value;
			continue;
		}
		validate(s, value);
		size_t k = setting_index(s);
		/* A repeated flag: the last one wins, unless it repeats. */
		opt->value[k] = s->repeat ? join(opt->value[k], value, s->repeat) : value;
	}
	for (size_t i = 0; i < settings_count; i++)
		if (opt->value[i] && (settings[i].attr & SETTING_PATH))
			opt->value[i] = absolute(opt->value[i]);
}
