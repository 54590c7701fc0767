/* Config files (PORTSHIM_CONFIG, portshim --config): `key = value` lines
 * with the same keys as the environment, lower case ("on-exhaust"; "_" is
 * accepted for "-"), from the table of settings.c.  `rule = DEST=POLICY`
 * appends one per-destination rule.
 * The file is read with raw system calls: this runs while the shim sets
 * itself up, where its own hooks must not be re-entered. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "config.h"
#include "configure.h"
#include "filecheck.h"
#include "settings.h"

#define CONFIG_FILE_MAX (64 * 1024)

static char *trim(char *s)
{
	char *end;

	while (*s == ' ' || *s == '\t')
		s++;
	end = s + strlen(s);
	while (end > s && (end[-1] == ' ' || end[-1] == '\t' || end[-1] == '\r'))
		*--end = '\0';
	return s;
}

static int apply_line(struct config *cfg, char *line, const char *file, unsigned lineno,
		      char *err, size_t errlen)
{
	char label[CONFIG_PATH_MAX + 96];
	char *hash = strchr(line, '#'), *eq, *key, *value;

	if (hash)
		*hash = '\0';
	line = trim(line);
	if (!*line)
		return 0;
	eq = strchr(line, '=');
	if (!eq) {
		snprintf(err, errlen, "%s:%u: '%s': expected key = value", file, lineno, line);
		return -1;
	}
	*eq = '\0';
	key = trim(line);
	value = trim(eq + 1);
	for (char *k = key; *k; k++)
		if (*k == '_')
			*k = '-';
	snprintf(label, sizeof(label), "%s:%u: %s", file, lineno, key);

	if (strcmp(key, "config") == 0) {
		snprintf(err, errlen, "%s: a config file cannot name another one", label);
		return -1;
	}
	/* A repeatable setting's item ("rule") names it too. */
	const char *name = key;
	for (size_t i = 0; i < settings_count; i++)
		if (settings[i].repeat && strcmp(key, setting_flag(&settings[i])) == 0)
			name = settings[i].key;
	return configure_set_from(cfg, name, value, label, CONFIG_FILE, err, errlen);
}

int configure_from_text(struct config *cfg, const char *text, const char *file,
		     char *err, size_t errlen)
{
	char line[2048];
	unsigned lineno = 0;

	while (*text) {
		size_t len = strcspn(text, "\n");
		lineno++;
		if (len >= sizeof(line)) {
			snprintf(err, errlen, "%s:%u: line longer than %zu bytes", file, lineno,
				 sizeof(line) - 1);
			return -1;
		}
		memcpy(line, text, len);
		line[len] = '\0';
		if (apply_line(cfg, line, file, lineno, err, errlen) != 0)
			return -1;
		text += len + (text[len] == '\n');
	}
	return 0;
}

int configure_from_file(struct config *cfg, const char *path, const char *label, char *err,
		     size_t errlen)
{
	static char text[CONFIG_FILE_MAX + 1];
	size_t len = 0;
	int fd = filecheck_open(path, label, filecheck_privileged(cfg->secure), err, errlen);

	if (fd < 0)
		return -1;
	for (;;) {
		ssize_t n = syscall(SYS_read, fd, text + len, CONFIG_FILE_MAX + 1 - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			/* Not the end of the file: a half-read file must not run
			 * as if it were the whole configuration. */
			snprintf(err, errlen, "%s='%s': cannot read: %s", label, path,
				 strerror(errno));
			syscall(SYS_close, fd);
			return -1;
		}
		if (n == 0 || (len += (size_t)n) > CONFIG_FILE_MAX)
			break;
	}
	syscall(SYS_close, fd);
	if (len > CONFIG_FILE_MAX) {
		snprintf(err, errlen, "%s='%s': larger than %d bytes", label, path,
			 CONFIG_FILE_MAX);
		return -1;
	}
	text[len] = '\0';
	return configure_from_text(cfg, text, path, err, errlen);
}

int configure_load(struct config *cfg, char *const *envp, char *err, size_t errlen)
{
	static const char config_var[] = CONFIG_ENV_PREFIX "CONFIG=";

	for (char *const *e = envp; e && *e; e++) {
		if (strncmp(*e, config_var, sizeof(config_var) - 1) != 0)
			continue;
		const char *path = *e + sizeof(config_var) - 1;
		if (!*path || strlen(path) >= CONFIG_PATH_MAX) {
			snprintf(err, errlen, "PORTSHIM_CONFIG='%s': expected a config file path", path);
			return -1;
		}
		if (cfg->secure) {
			snprintf(err, errlen, "PORTSHIM_CONFIG='%s': a setuid or setgid program "
					      "reads no file named by the environment", path);
			return -1;
		}
		if (configure_from_file(cfg, path, "PORTSHIM_CONFIG", err, errlen) != 0)
			return -1;
		memcpy(cfg->file, path, strlen(path) + 1);
		cfg->origin[setting_index(setting_find("config"))] = CONFIG_ENV;
	}
	return configure_from_environ(cfg, envp, err, errlen);
}
