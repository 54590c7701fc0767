/* Settings applied by name: one (configure_set()), every PORTSHIM_*
 * variable of an environment, a config file; each through the one table
 * of settings (settings.h) into struct config (config.h). */
#ifndef PORTSHIM_CONFIGURE_H
#define PORTSHIM_CONFIGURE_H

#include <stddef.h>

#include "config.h"

/* Apply one setting by key ("parity", "on-exhaust", ...).  On a bad value,
 * writes "LABEL='VALUE': expected ..." into err and returns -1.  `label` is
 * how the user spelled the setting (PORTSHIM_PARITY, --parity, file:line). */
int configure_set(struct config *cfg, const char *key, const char *value,
	       const char *label, char *err, size_t errlen);
/* The same, noting where the value came from (cfg->origin): a repeatable
 * setting (rules) adds to what the same origin gave before, and replaces
 * what another gave. */
int configure_set_from(struct config *cfg, const char *key, const char *value, const char *label,
		    enum config_origin origin, char *err, size_t errlen);

/* Apply every PORTSHIM_* entry of an environment array.  An unknown
 * PORTSHIM_ name is an error too: a typo must not run without the shim.
 * PORTSHIM_CONFIG is left to configure_load(). */
int configure_from_environ(struct config *cfg, char *const *envp, char *err, size_t errlen);

/* The file PORTSHIM_CONFIG names, if any, then the environment: the
 * environment wins over the file (configfile.c). */
int configure_load(struct config *cfg, char *const *envp, char *err, size_t errlen);

/* A config file's text: `key = value` lines, '#' comments, blank lines;
 * `rule = DEST=POLICY` may repeat.  Errors read "FILE:LINE: key='value':
 * expected ...". */
int configure_from_text(struct config *cfg, const char *text, const char *file,
		     char *err, size_t errlen);
/* Reads and applies a config file (at most 64 KiB): a regular file, and
 * in a privileged process one that passes StrictModes (filecheck.h).
 * `label` names the setting in errors (PORTSHIM_CONFIG, --config). */
int configure_from_file(struct config *cfg, const char *path, const char *label, char *err,
		     size_t errlen);

#endif
