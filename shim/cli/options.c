/* The wrapper's command line.  Every setting flag is checked with the
 * library's own configure_set(), under the flag's name, so that a value the
 * wrapper accepts is one the library accepts, and the error reads
 * "portshim: --parity='evn': expected even, odd, ...". */
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/config.h"
#include "core/configure.h"
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
	       "       portshim --print-env [--format shell|systemd|docker] [OPTION...]\n"
	       "       portshim report [--json] FILE...\n"
	       "       portshim status PID\n"
	       "\n"
	       "Runs COMMAND with libportshim.so preloaded, so that the source ports of its\n"
	       "TCP and UDP sockets follow a policy.  Each option sets the PORTSHIM_ variable\n"
	       "of the same name; options win over the environment, which wins over a\n"
	       "config file.  A static COMMAND (no dynamic linker: Go, gcc -static) runs\n"
	       "under the seccomp backend instead: portshim stays its parent and applies the\n"
	       "same policies through seccomp user notification (--backend; Linux 5.6+).\n"
	       "--backend bpf runs COMMAND in a cgroup of its own where a BPF program applies\n"
	       "them to every connect() of every process (root; Linux 5.18+).\n"
	       "\n");
	for (size_t i = 0; i < settings_count; i++) {
		char left[64];
		snprintf(left, sizeof(left), "--%s %s", setting_flag(&settings[i]), settings[i].arg);
		printf("  %-24s %s\n", left, settings[i].help);
	}
	printf("  %-24s %s\n", "--library PATH", "the libportshim.so to preload (default: beside portshim, or ../lib)");
	printf("  %-24s %s\n", "--cgroup-parent PATH", "--backend bpf: make COMMAND's cgroup under PATH (default: portshim's own cgroup)");
	printf("  %-24s %s\n", "--check", "validate and print the effective configuration, check that the library loads and reaches COMMAND; run nothing");
	printf("  %-24s %s\n", "--strict", "a COMMAND the shim cannot reach is an error (exit 125), not a warning");
	printf("  %-24s %s\n", "--print-env", "print the validated settings as variables; run nothing");
	printf("  %-24s %s\n", "--format FORMAT", "for --print-env: shell (default), systemd or docker");
	printf("  %-24s %s\n", "-q, --quiet", "no warnings");
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
		if (configure_from_file(&cfg, value, label, err, sizeof(err)) != 0)
			cli_die("%s", err);
	} else if (configure_set(&cfg, s->key, value, label, err, sizeof(err)) != 0) {
		cli_die("%s", err);
	}
}

/* The command's own options, after the settings' flags in --help. */
enum { OPT_LIBRARY = 1000, OPT_CGROUP_PARENT, OPT_CGROUP, OPT_UNIT, OPT_CONTAINER, OPT_CHECK, OPT_STRICT, OPT_PRINT_ENV, OPT_FORMAT };
static const struct option own_options[] = {
	{ "library", required_argument, NULL, OPT_LIBRARY },
	{ "cgroup-parent", required_argument, NULL, OPT_CGROUP_PARENT },
	{ "cgroup", required_argument, NULL, OPT_CGROUP },
	{ "unit", required_argument, NULL, OPT_UNIT },
	{ "container", required_argument, NULL, OPT_CONTAINER },
	{ "check", no_argument, NULL, OPT_CHECK },
	{ "strict", no_argument, NULL, OPT_STRICT },
	{ "print-env", no_argument, NULL, OPT_PRINT_ENV },
	{ "format", required_argument, NULL, OPT_FORMAT },
	{ "quiet", no_argument, NULL, 'q' },
	{ "help", no_argument, NULL, 'h' },
	{ "version", no_argument, NULL, 'V' },
};
#define N_OWN (sizeof(own_options) / sizeof(own_options[0]))

/* The long options getopt_long() takes: one per row of the settings table
 * (val: the row's index), then the command's own. */
static const struct option *long_options(void)
{
	static struct option all[CONFIG_SETTINGS_MAX + N_OWN + 1];

	for (size_t i = 0; i < settings_count; i++)
		all[i] = (struct option){ setting_flag(&settings[i]), required_argument, NULL, (int)i };
	memcpy(all + settings_count, own_options, sizeof(own_options));
	return all;
}

/* getopt_long() said '?': an unknown or ambiguous long option, or an
 * unknown short one.  Ambiguous prefixes name their candidates. */
static _Noreturn void bad_option(const char *arg, const struct option *all)
{
	char names[512] = "";
	size_t len = strcspn(arg, "="), n = 0, hits = 0;

	if (strncmp(arg, "--", 2) != 0)
		cli_die("unknown option '%s' (see portshim --help)", arg);
	for (const struct option *o = all; o->name; o++) {
		if (strncmp(o->name, arg + 2, len - 2) != 0 || n >= sizeof(names))
			continue;
		n += (size_t)snprintf(names + n, sizeof(names) - n, "%s--%s", hits++ ? ", " : "", o->name);
	}
	if (hits > 1)
		cli_die("ambiguous option '%.*s': %s (see portshim --help)", (int)len, arg, names);
	cli_die("unknown option '%.*s' (see portshim --help)", (int)len, arg);
}

void options_parse(struct options *opt, int argc, char **argv)
{
	const struct option *all = long_options();
	int c;

	memset(opt, 0, sizeof(*opt));
	opt->format = "shell";
	opterr = 0;
	optind = 1;
	/* '+': options end at the first argument that is not one (the
	 * command's own flags are its own); ':': a missing value is told
	 * apart from an unknown option. */
	while ((c = getopt_long(argc, argv, "+:hVq", all, NULL)) != -1) {
		if (c >= 0 && (size_t)c < settings_count) {
			const struct setting *s = &settings[c];
			validate(s, optarg);
			/* A repeated flag: the last one wins, unless it repeats. */
			opt->value[c] = s->repeat ? join(opt->value[c], optarg, s->repeat) : optarg;
			continue;
		}
		switch (c) {
		case OPT_LIBRARY: opt->library = optarg; break;
		case OPT_CGROUP_PARENT: opt->cgroup_parent = optarg; break;
		case OPT_CGROUP: opt->cgroup = optarg; break;
		case OPT_UNIT: opt->unit = optarg; break;
		case OPT_CONTAINER: opt->container = optarg; break;
		case OPT_CHECK: opt->check = true; break;
		case OPT_STRICT: opt->strict = true; break;
		case OPT_PRINT_ENV: opt->print_env = true; break;
		case OPT_FORMAT: opt->format = optarg; break;
		case 'q': opt->quiet = true; break;
		case 'h': opt->help = true; break;
		case 'V': opt->version = true; break;
		case ':':
			cli_die("%.*s: missing value", (int)strcspn(argv[optind - 1], "="),
				argv[optind - 1]);
		default:
			if (optopt && optopt < 256 && argv[optind - 1][1] != '-')
				cli_die("unknown option '-%c' (see portshim --help)", optopt);
			bad_option(argv[optind - 1], all);
		}
	}
	if (optind < argc)
		opt->command = argv + optind;
	for (size_t i = 0; i < settings_count; i++)
		if (opt->value[i] && (settings[i].attr & SETTING_PATH))
			opt->value[i] = absolute(opt->value[i]);
}
