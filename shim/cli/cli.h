/* The portshim command: shared definitions of its parts (options.c,
 * wrapper.c, check.c, target.c, settings.c; report*.c). */
#ifndef PORTSHIM_CLI_H
#define PORTSHIM_CLI_H

#include <stdbool.h>

#include "core/config.h"

#define PORTSHIM_VERSION "0.1.0"

/* Exit statuses, as env(1), timeout(1) and the library itself use them. */
#define CLI_EXIT_USAGE 125     /* bad usage or configuration (the library's too) */
#define CLI_EXIT_CANNOT_RUN 126
#define CLI_EXIT_NOT_FOUND 127

/* One flag per setting of the library: --KEY VALUE sets PORTSHIM_<KEY>. */
struct flag_def {
	const char *flag;    /* without the dashes: "on-exhaust" */
	const char *key;     /* the library's setting: "on-exhaust"; "rules" for --rule */
	const char *arg;     /* the value's name in --help */
	const char *help;
};

extern const struct flag_def cli_flags[];
extern const int cli_nflags;

struct options {
	const char *value[16];   /* per cli_flags entry; NULL when not given */
	char *rules;             /* the --rule values joined with "; " */
	const char *library;           /* NULL under the seccomp backend */
	enum backend backend;     /* --library */
	bool check, help, version;
	char **command;          /* NULL-terminated; NULL when none */
};

/* Parses argv (argv[0] is the program); exits 125 with one line on a bad
 * flag or value.  Values are checked with the library's own parser. */
void options_parse(struct options *opt, int argc, char **argv);
void cli_help(void);
/* Prints "portshim: " + the message + "\n" to stderr and exits 125. */
_Noreturn void cli_die(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* The library's setting keys, in its own order; NULL-terminated. */
const char *const *cli_setting_keys(void);
/* Index of a setting key in cli_flags, or -1. */
int cli_flag_of_key(const char *key);

/* What the command to run is, as far as the shim is concerned. */
enum target_kind { TARGET_MISSING, TARGET_DYNAMIC, TARGET_STATIC, TARGET_OTHER };
/* TARGET_DYNAMIC: whose dynamic linker (LIBC_NONE otherwise). */
enum target_libc { LIBC_NONE, LIBC_GLIBC, LIBC_MUSL, LIBC_UNKNOWN };
struct target {
	enum target_kind kind;
	enum target_libc libc;
	int error;             /* TARGET_MISSING: ENOENT or EACCES */
	bool set_id;           /* setuid/setgid/file capabilities: LD_PRELOAD is dropped */
	char path[4096];
	char script_interp[256]; /* a "#!" script's interpreter, else empty */
	char interp[256];        /* PT_INTERP (of the interpreter, for a script) */
};
void target_inspect(const char *name, struct target *t);
/* One line on why the shim cannot reach it, or NULL. */
const char *target_warning(const struct target *t, char *buf, unsigned size);
/* The backend a command gets: the one asked for, or under `auto` the
 * library for a dynamically linked program and the seccomp supervisor for
 * a static one (a setuid program keeps the library's warning: under
 * NO_NEW_PRIVS it would run without its privileges). */
enum backend target_backend(enum backend asked, const struct target *t);

/* --check: prints the effective configuration of the environment the
 * command would get.  `env_before` holds each flag's variable as it was
 * in the environment before the flags applied. */
struct check_input {
	const struct options *opt;
	const char *library;           /* NULL under the seccomp backend */
	enum backend backend;
	const char *const *env_before; /* per cli_setting_keys() entry, NULL if unset */
	const struct target *target;   /* the command's, when there is one */
};
int check_print(const struct check_input *in);

int wrapper_main(int argc, char **argv);

#endif
