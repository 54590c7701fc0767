/* portshim --print-env: the settings the wrapper would hand the command,
 * after the library's own parser accepted them (runtime_configure() in
 * wrapper.c), as lines for a shell, a systemd unit or a Dockerfile.  Only
 * what the environment or a flag gave is printed: a config file's settings
 * stay in the file, which PORTSHIM_CONFIG names. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/runtime.h"
#include "core/settings.h"
#include "cli.h"

/* `quote` wraps the value; each character of `special` is written as
 * `escape` followed by itself, except '%' in systemd's, which is doubled
 * (its specifier character); '\'' in the shell's closes and reopens. */
struct format {
	const char *name, *line, *quote, *special;
};

static const struct format formats[] = {
	{ "shell", "export %s=", "'", "'" },
	{ "systemd", "Environment=\"%s=", "\"", "\"\\%" },
	{ "docker", "ENV %s=", "\"", "\"\\$" },
};

static void put(const struct format *f, const char *name, const char *value)
{
	bool systemd = strcmp(f->name, "systemd") == 0;

	printf(f->line, name);
	if (!systemd)
		fputs(f->quote, stdout);
	for (const char *c = value; *c; c++) {
		if (!strchr(f->special, *c))
			putchar(*c);
		else if (*c == '\'')
			fputs("'\\''", stdout);
		else if (*c == '%')
			fputs("%%", stdout);
		else
			printf("\\%c", *c);
	}
	fputs(f->quote, stdout);
	putchar('\n');
}

int print_env(const char *format, const char *library)
{
	const struct format *f = NULL;

	for (size_t i = 0; i < sizeof(formats) / sizeof(formats[0]); i++)
		if (strcmp(format, formats[i].name) == 0)
			f = &formats[i];
	if (!f)
		cli_die("--format='%s': expected shell, systemd or docker", format);
	for (size_t i = 0; i < settings_count; i++) {
		char name[64];
		setting_env_name(&settings[i], name, sizeof(name));
		if (portshim_runtime.cfg.origin[i] == CONFIG_ENV && getenv(name))
			put(f, name, getenv(name));
	}
	put(f, "LD_PRELOAD", library);
	return 0;
}
