/* The shim's settings as parsed: struct config, filled from the
 * environment and a config file through the one table of settings
 * (settings.h).  configure_set() and configure_from_environ() are pure;
 * configure_from_file() and configure_load() read the file. */
#ifndef PORTSHIM_CONFIG_H
#define PORTSHIM_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "policy.h"
#include "portmap.h"
#include "rules.h"

enum port_order { ORDER_RANDOM, ORDER_SEQUENTIAL };
enum on_exhaust { ON_EXHAUST_FAIL, ON_EXHAUST_KERNEL };
/* What the library does when a program it runs in execs a static one. */
enum exec_static { EXEC_STATIC_WARN, EXEC_STATIC_REFUSE };
enum strategy { STRATEGY_AUTO, STRATEGY_RANGE, STRATEGY_REUSE, STRATEGY_EXCLUSIVE };
/* Who applies the policy: read by the portshim command only (the library
 * is the preload backend itself). */
enum backend { BACKEND_AUTO, BACKEND_PRELOAD, BACKEND_SECCOMP, BACKEND_BPF };

#define CONFIG_PATH_MAX 1024
/* At least the number of rows of the settings table (settings.c). */
#define CONFIG_SETTINGS_MAX 24

/* Where a setting's value came from, per row of the table. */
enum config_origin { CONFIG_DEFAULT, CONFIG_FILE, CONFIG_ENV };

/* Small fields first, then the rules, the reserved set and the paths.  A
 * config is static storage, zero until its first config_init(), which
 * reads none of it; a later one clears the earlier configuration, writing
 * only what is not zero already.  So a process touches the pages of the
 * large fields only for the settings it is given. */
struct config {
	/* Resolved by config_finish(): the specific setting beats parity.
	 * Each policy is followed by whether it was given (settings.c). */
	struct policy connect;
	bool connect_set;
	struct policy bind;
	bool bind_set;
	struct policy parity;
	bool parity_set;

	bool range_set;           /* else: the kernel's ip_local_port_range */
	unsigned range_lo, range_hi;
	bool reserved_set;        /* else: the kernel's ip_local_reserved_ports */

	enum port_order order;
	bool seed_set;            /* else: a seed from getrandom() */
	uint64_t seed;
	enum on_exhaust on_exhaust;
	enum exec_static exec_static;
	enum strategy strategy;
	enum backend backend;

	bool secure;                 /* setuid/setgid: no paths from the environment */
	bool used;                   /* config_init() has run: the rest may hold values */
	unsigned char origin[CONFIG_SETTINGS_MAX]; /* enum config_origin per setting */

	struct rules rules;          /* per-destination connect policies */
	struct portset reserved;

	char log[CONFIG_PATH_MAX];   /* "stderr", a file path, or "" for none */
	char stats[CONFIG_PATH_MAX];
	char file[CONFIG_PATH_MAX];  /* PORTSHIM_CONFIG, once read */
	char control[CONFIG_PATH_MAX]; /* PORTSHIM_CONTROL: re-read when it changes, or "" */
};

#define CONFIG_ENV_PREFIX "PORTSHIM_"

/* Defaults.  `secure` for a setuid/setgid process (AT_SECURE): file paths
 * given by the environment are refused. */
void config_init(struct config *cfg, bool secure);

/* Settle what depends on several settings (parity vs connect/bind). */
void config_finish(struct config *cfg);

/* Maps a key to its environment name, "on-exhaust" -> "PORTSHIM_ON_EXHAUST". */
void config_env_name(const char *key, char *buf, size_t size);

/* The names of the strategies and backends, as the settings spell them
 * (NULL-terminated, in the enums' order). */
extern const char *const config_strategy_names[];
extern const char *const config_backend_names[];
const char *config_strategy_name(enum strategy strategy);
const char *config_backend_name(enum backend backend);

#endif
