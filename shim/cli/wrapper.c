/* portshim [options] [--] command [args...]: sets PORTSHIM_* from the
 * flags, puts the library first in LD_PRELOAD, checks the whole resulting
 * configuration with the library's own code (runtime_configure(), exactly
 * what the library will run in the command), and execs the command in
 * place: no fork, so its pid, signals and exit status are its own. */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/config.h"
#include "core/runtime.h"
#include "core/settings.h"
#include "cli.h"
#include "bpf/bpfcmd.h"
#include "seccomp/seccomp.h"

extern char **environ;

static bool usable_library(const char *path, char *out)
{
	struct stat st;

	return realpath(path, out) && stat(out, &st) == 0 && S_ISREG(st.st_mode) &&
	       access(out, R_OK) == 0;
}

/* The library for the command's C library: libportshim.so for glibc (and
 * for anything not dynamically linked: a script's interpreter, a static
 * program that gets a warning), libportshim-musl.so for musl.  A loader of
 * another libc cannot take either: one line and exit 125, nothing runs. */
static const char *library_for(const struct executable *t)
{
	if (t->kind != EXECUTABLE_DYNAMIC || t->libc == LIBC_GLIBC)
		return "libportshim.so";
	if (t->libc == LIBC_MUSL)
		return "libportshim-musl.so";
	cli_die("%s: its dynamic linker %s%s%s is neither glibc's nor musl's: the shim has no "
		"library for it; nothing was run", t->path, t->interp,
		t->script_interp[0] ? ", through " : "", t->script_interp);
}

/* The library beside the executable (the build tree: build/portshim and
 * build/libportshim.so, build/musl/libportshim-musl.so), or in ../lib
 * (after make install: PREFIX/bin and PREFIX/lib), unless --library names
 * one. */
static void find_library(const char *given, const char *name, char out[PATH_MAX])
{
	char exe[PATH_MAX], try[PATH_MAX + 32];
	ssize_t n;

	if (given) {
		if (!usable_library(given, out))
			cli_die("--library='%s': not a readable file", given);
	} else {
		n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
		if (n <= 0)
			cli_die("cannot find my own executable (/proc/self/exe): %s; use --library PATH",
				strerror(errno));
		exe[n] = '\0';
		*strrchr(exe, '/') = '\0';
		const char *const dirs[] = { "", "/musl", "/../lib" };
		bool found = false;
		for (unsigned i = 0; i < sizeof(dirs) / sizeof(dirs[0]) && !found; i++) {
			snprintf(try, sizeof(try), "%s%s/%s", exe, dirs[i], name);
			found = usable_library(try, out);
		}
		if (!found)
			cli_die("cannot find %s in %s or %s/../lib%s; use --library PATH", name, exe,
				exe, strcmp(name, "libportshim.so") ? " (made by make when musl-gcc is "
				"installed)" : "");
	}
	/* The dynamic linker splits LD_PRELOAD at spaces and colons. */
	if (strpbrk(out, " :\t"))
		cli_die("%s: LD_PRELOAD cannot hold a path with a space or a colon; use --library "
			"with a path (or a symlink) without them", out);
}

/* A sanitizer's runtime must stay first in the initial library list. */
static bool sanitizer_runtime(const char *entry)
{
	const char *base = strrchr(entry, '/') ? strrchr(entry, '/') + 1 : entry;

	return strncmp(base, "libclang_rt.", 12) == 0 || strncmp(base, "libasan.", 8) == 0 ||
	       strncmp(base, "libtsan.", 8) == 0 || strncmp(base, "libhwasan.", 10) == 0;
}

/* LD_PRELOAD with the library in front of what was there (which stays, in
 * its order; only an earlier copy of the library itself is dropped). */
static char *preload_value(const char *library)
{
	const char *old = getenv("LD_PRELOAD");
	char *copy = strdup(old ? old : ""), *out = malloc(strlen(library) + (old ? strlen(old) : 0) + 3);
	char resolved[PATH_MAX], *entry, *save = NULL;
	bool placed = false;

	if (!copy || !out)
		cli_die("out of memory");
	out[0] = '\0';
	for (entry = strtok_r(copy, " :\t", &save); entry; entry = strtok_r(NULL, " :\t", &save)) {
		if (realpath(entry, resolved) && strcmp(resolved, library) == 0)
			continue;
		if (!placed && !sanitizer_runtime(entry)) {
			strcat(strcat(out, *out ? " " : ""), library);
			placed = true;
		}
		strcat(strcat(out, *out ? " " : ""), entry);
	}
	if (!placed)
		strcat(strcat(out, *out ? " " : ""), library);
	free(copy);
	return out;
}

/* What the flags changed in the environment: a command the library does
 * not run in (the seccomp and bpf backends) gets the environment it was
 * given, while portshim keeps reading the flags' values from its own. */
static struct flagged {
	char name[64];
	char *before; /* "NAME=value" as it was, or NULL: not set */
} flagged[64];
static size_t flagged_count;

static void set(const struct setting *s, const char *value)
{
	char name[64];

	setting_env_name(s, name, sizeof(name));
	if (flagged_count == sizeof(flagged) / sizeof(flagged[0]))
		cli_die("more settings flagged than portshim keeps (%zu)", flagged_count);
	struct flagged *f = &flagged[flagged_count++];
	const char *before = getenv(name);
	memcpy(f->name, name, sizeof(f->name));
	f->before = NULL;
	if (before && asprintf(&f->before, "%s=%s", name, before) < 0)
		cli_die("out of memory");
	if (setenv(name, value, 1) != 0)
		cli_die("cannot set %s: %s", name, strerror(errno));
}

static const struct flagged *flagged_entry(const char *entry)
{
	for (size_t i = 0; i < flagged_count; i++) {
		size_t len = strlen(flagged[i].name);
		if (strncmp(entry, flagged[i].name, len) == 0 && entry[len] == '=')
			return &flagged[i];
	}
	return NULL;
}

/* environ with what the flags changed undone. */
static char **command_environment(void)
{
	size_t n = 0;

	while (environ[n])
		n++;
	char **env = calloc(n + 1, sizeof(*env));
	if (!env)
		cli_die("out of memory");
	size_t k = 0;
	for (size_t i = 0; i < n; i++) {
		const struct flagged *f = flagged_entry(environ[i]);
		if (!f)
			env[k++] = environ[i];
		else if (f->before)
			env[k++] = f->before;
	}
	return env;
}

/* The library's message names the variable; a flag's value reads better
 * under the flag's name ("--connect='7:3': no port in the range ..."). */
static void die_config(const struct options *opt, const char *err)
{
	for (size_t i = 0; i < settings_count; i++) {
		char name[64];
		setting_env_name(&settings[i], name, sizeof(name));
		size_t len = strlen(name);
		if (strncmp(err, name, len) != 0 || err[len] != '=')
			continue;
		const struct setting *flag = options_flag_of(opt, &settings[i]);
		if (flag)
			cli_die("--%s%s", setting_flag(flag), err + len);
	}
	cli_die("%s", err);
}

void options_configure(const struct options *opt)
{
	static char err[2048];

	/* Flags win over the environment and the file: --parity must beat a
	 * PORTSHIM_CONNECT from either, which in the library would beat
	 * PORTSHIM_PARITY, so a flag is spelled out for the settings that
	 * fall back to it and were not given flags of their own. */
	for (size_t i = 0; i < settings_count; i++) {
		const struct setting *flag = options_flag_of(opt, &settings[i]);
		if (flag)
			set(&settings[i], opt->value[setting_index(flag)]);
	}
	/* --strict reaches past the command: a program under the library that
	 * execs a static one is refused there too. */
	if (opt->strict && !opt->value[setting_index(setting_find("exec-static"))])
		set(setting_find("exec-static"), "refuse");
	if (runtime_configure(&portshim_runtime, environ, getauxval(AT_SECURE) != 0, err, sizeof(err)) != 0)
		die_config(opt, err);
}

int wrapper_main(int argc, char **argv)
{
	static char library[PATH_MAX], err[2048];
	struct options opt;
	struct executable target;

	options_parse(&opt, argc, argv);
	if (opt.help) {
		cli_help();
		return 0;
	}
	if (opt.version) {
		printf("portshim %s\n", PORTSHIM_VERSION);
		return 0;
	}
	if (!opt.command && !opt.check && !opt.print_env)
		cli_die("no command given (see portshim --help)");
	if (opt.cgroup || opt.unit || opt.container)
		cli_die("--cgroup, --unit and --container name what portshim attach and detach act on");
	memset(&target, 0, sizeof(target));
	if (opt.command)
		executable_inspect(opt.command[0], &target);
	options_configure(&opt);
	/* The seccomp backend preloads nothing (the supervisor decides). */
	enum backend backend = executable_backend(portshim_runtime.cfg.backend, &target);
	if (backend == BACKEND_PRELOAD) {
		find_library(opt.library, opt.library ? NULL : library_for(&target), library);
		char *preload = preload_value(library);
		if (setenv("LD_PRELOAD", preload, 1) != 0)
			cli_die("cannot set LD_PRELOAD: %s", strerror(errno));
	}

	/* A seed only orders the random walk. */
	if (portshim_runtime.cfg.seed_set && portshim_runtime.cfg.order == ORDER_SEQUENTIAL &&
	    !opt.quiet)
		fprintf(stderr, "portshim: warning: a seed does nothing with order = sequential, "
				"which walks upwards from the lowest allowed port\n");
	if (opt.print_env)
		return print_env(opt.format, library);
	if (opt.check) {
		struct check_input in = { &opt, backend == BACKEND_PRELOAD ? library : NULL,
					  backend, &target };
		return check_print(&in);
	}

	if (target.kind == EXECUTABLE_MISSING) {
		fprintf(stderr, "portshim: %s: %s\n", opt.command[0],
			target.error == ENOENT ? "command not found" : strerror(target.error));
		return target.error == ENOENT ? CLI_EXIT_NOT_FOUND : CLI_EXIT_CANNOT_RUN;
	}
	if (backend == BACKEND_SECCOMP) {
		if (target.set_id && !opt.quiet)
			fprintf(stderr, "portshim: warning: %s is setuid, setgid or has file "
				"capabilities: under the seccomp backend (NO_NEW_PRIVS) it runs "
				"without them\n", target.path);
		return seccomp_run(&portshim_runtime, opt.command, command_environment());
	}
	if (backend == BACKEND_BPF)
		return bpf_run(&portshim_runtime, opt.cgroup_parent, opt.command, command_environment());
	if (executable_unreachable(&target, err, sizeof(err))) {
		if (opt.strict)
			cli_die("%s; --strict: nothing was run", err);
		if (!opt.quiet)
			fprintf(stderr, "portshim: warning: %s\n", err);
	}
	fflush(stdout);
	execvp(opt.command[0], opt.command);
	int e = errno;
	fprintf(stderr, "portshim: cannot run %s: %s\n", opt.command[0], strerror(e));
	return e == ENOENT ? CLI_EXIT_NOT_FOUND : CLI_EXIT_CANNOT_RUN;
}
