/* The one table of the shim's settings (settings.c).  A row says
 * everything the library and the command need of one setting: its key
 * (the config-file key and the command's flag; PORTSHIM_ + the key in
 * upper case with '_' for '-' is its environment variable), how its value
 * is parsed into struct config, what kind of value `portshim --check`
 * shows, and its --help line.  A new setting is one row (and
 * the field of struct config it fills). */
#ifndef PORTSHIM_SETTINGS_H
#define PORTSHIM_SETTINGS_H

#include <stdbool.h>
#include <stddef.h>

#include "config.h"

struct setting;

/* What a setter is given: one value for one setting.  `append`: the value
 * adds to what the same source gave before (a repeatable setting: a
 * second `rule =` line of a config file); otherwise it replaces it. */
struct setting_input {
	const struct setting *s;
	struct config *cfg;
	const char *value;
	bool append;
	char *why;     /* a setter may say what is wrong, and what it accepts */
	size_t whylen;
};

/* How `portshim --check` shows a setting's value (cli/showsetting.c). */
enum setting_shown {
	SHOWN_CHOICE,   /* one of `choices` */
	SHOWN_POLICY,   /* a policy */
	SHOWN_PARITY,   /* a policy, or "-" when not given */
	SHOWN_RANGE,    /* the range in force (the kernel's when not given) */
	SHOWN_RESERVED, /* a port list */
	SHOWN_SEED,     /* a number, or "-" */
	SHOWN_PATH,     /* a path, or "-" */
	SHOWN_RULES,    /* the rules, "; " between them */
};

/* Attributes of a row. */
#define SETTING_PATH 1u /* a file path: the command makes it absolute */

struct setting {
	const char *key;    /* "on-exhaust": file key, flag --on-exhaust, PORTSHIM_ON_EXHAUST */
	const char *flag;   /* the flag and file key of one item, if not the key ("rule") */
	const char *repeat; /* the flag repeats, its values joined with this ("; ") */
	const char *arg;    /* --help: the value's name ("POLICY") */
	const char *help;   /* --help: what it does */
	const char *accepted;        /* "expected ..." in errors; NULL: made from `choices` */
	const char *const *choices;  /* a value that is one of these names (NULL-terminated) */
	size_t at;                   /* the field of struct config it fills */
	/* 0, or -1 for a bad value.  NULL: PORTSHIM_CONFIG, which
	 * configure_load() reads before everything else. */
	int (*set)(const struct setting_input *in);
	enum setting_shown shown;
	const char *fallback;        /* the key this one takes its value from when unset */
	const char *default_from;    /* --check's "from" for the built-in default */
	unsigned attr;               /* SETTING_* */
};

extern const struct setting settings[];
extern const size_t settings_count;

/* The row of a key, or NULL. */
const struct setting *setting_find(const char *key);
/* The row whose environment name is name[0..len), or NULL. */
const struct setting *setting_by_env(const char *name, size_t len);
/* A row's place in the table: the index of struct config's origin[]. */
static inline size_t setting_index(const struct setting *s)
{
	return (size_t)(s - settings);
}
/* The flag without its dashes: "rule" for rules, else the key. */
static inline const char *setting_flag(const struct setting *s)
{
	return s->flag ? s->flag : s->key;
}
/* "PORTSHIM_ON_EXHAUST" for "on-exhaust". */
void setting_env_name(const struct setting *s, char *buf, size_t size);
/* The accepted values, as errors name them ("random or sequential"). */
void setting_accepted(const struct setting *s, char *buf, size_t size);

#endif
