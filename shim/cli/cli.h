/* The portshim command: shared definitions of its parts (options.c,
 * wrapper.c, check.c, executable.c; report*.c).  The settings, their flags,
 * --help lines and --check rows come from the core's table (settings.h). */
#ifndef PORTSHIM_CLI_H
#define PORTSHIM_CLI_H

#include <stdbool.h>

#include "core/config.h"

#define PORTSHIM_VERSION "0.1.0"

/* Exit statuses, as env(1), timeout(1) and the library itself use them. */
#define CLI_EXIT_USAGE 125     /* bad usage or configuration (the library's too) */
#define CLI_EXIT_CANNOT_RUN 126
#define CLI_EXIT_NOT_FOUND 127

struct options {
	/* Per row of the settings table (settings[i]); NULL when not given.
	 * A repeatable flag's values are joined into one. */
	const char *value[CONFIG_SETTINGS_MAX];
	const char *library;     /* --library */
	const char *cgroup_parent; /* --cgroup-parent (the bpf backend) */
	const char *cgroup, *unit, *container; /* what attach and detach act on */
	bool check, help, version, quiet, strict, print_env;
	const char *format;      /* --format of --print-env */
	char **command;          /* NULL-terminated; NULL when none */
};

/* Parses argv (argv[0] is the program); exits 125 with one line on a bad
 * flag or value.  Values are checked with the library's own parser. */
void options_parse(struct options *opt, int argc, char **argv);
/* The settings of the flags, the environment and the config file, into
 * portshim_runtime with the library's own code; exits 125 with one line
 * naming a bad one. */
void options_configure(const struct options *opt);
/* portshim attach|detach ...: argv[0] is "attach" or "detach". */
int attach_main(int argc, char **argv, bool detach);
void cli_help(void);
struct setting;
/* The flag that gave setting s its value: its own, or that of the setting
 * it falls back to (--parity for connect and bind); NULL if neither. */
const struct setting *options_flag_of(const struct options *opt, const struct setting *s);
/* Prints "portshim: " + the message + "\n" to stderr and exits 125. */
_Noreturn void cli_die(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* What the command to run is, as far as the shim is concerned. */
enum executable_kind { EXECUTABLE_MISSING, EXECUTABLE_DYNAMIC, EXECUTABLE_STATIC, EXECUTABLE_OTHER };
/* EXECUTABLE_DYNAMIC: whose dynamic linker (LIBC_NONE otherwise). */
enum executable_libc { LIBC_NONE, LIBC_GLIBC, LIBC_MUSL, LIBC_UNKNOWN };
struct executable {
	enum executable_kind kind;
	enum executable_libc libc;
	int error;             /* EXECUTABLE_MISSING: ENOENT or EACCES */
	bool set_id;           /* setuid/setgid/file capabilities: LD_PRELOAD is dropped */
	char path[4096];
	char script_interp[256]; /* a "#!" script's interpreter, else empty */
	char interp[256];        /* PT_INTERP (of the interpreter, for a script) */
};
void executable_inspect(const char *name, struct executable *t);
/* One line on why the shim cannot reach it (static, or a script whose
 * interpreter is; setuid, setgid or file capabilities), or NULL. */
const char *executable_unreachable(const struct executable *t, char *buf, unsigned size);

/* Does the dynamic linker `loader` load `library` into `program` (its list
 * mode, libcheck.c)?  0, or -1 with the loader's reason in why. */
int libcheck(const char *loader, const char *program, const char *library, char *why,
	     size_t size);
/* The backend a command gets: the one asked for, or under `auto` the
 * library for a dynamically linked program and the seccomp supervisor for
 * a static one (a setuid program keeps the library's warning: under
 * NO_NEW_PRIVS it would run without its privileges). */
enum backend executable_backend(enum backend asked, const struct executable *t);

/* --check: prints the effective configuration of the environment the
 * command would get. */
struct check_input {
	const struct options *opt;
	const char *library;           /* NULL under the seccomp backend */
	enum backend backend;
	const struct executable *target;   /* the command's, when there is one */
};
int check_print(const struct check_input *in);

struct setting;
struct config;
/* showsetting.c: a setting's value as --check shows it, into buf. */
void show_setting(const struct setting *s, const struct config *cfg, unsigned range_lo,
		  unsigned range_hi, char *buf, size_t size);

/* --print-env: the PORTSHIM_* settings in force (validated) and
 * LD_PRELOAD=library, as `format` writes variables: shell, systemd or
 * docker.  The exit status. */
int print_env(const char *format, const char *library);

/* portshim status PID (status.c). */
int status_main(int argc, char **argv);

int wrapper_main(int argc, char **argv);

#endif
