/* portshim status PID: is the shim in that process, and how is it set?
 * Read from /proc: the library mapped (/proc/PID/maps), the PORTSHIM_*
 * settings it started with (/proc/PID/environ: what the library read at
 * start), since when (its start time, /proc/PID/stat and the boot time of
 * /proc/stat), and, when it logs to a file, how many decisions that file
 * holds for its pid. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "bpf/bpfcmd.h"
#include "core/config.h"
#include "cli.h"

/* The first mapping of a libportshim*.so, or false. */
static bool mapped(const char *pid, char *lib, size_t size)
{
	char path[64], line[4608];
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%s/maps", pid);
	if (!(f = fopen(path, "r")))
		cli_die("status %s: %s: %s", pid, path, strerror(errno));
	bool found = false;
	while (!found && fgets(line, sizeof(line), f)) {
		char *file = strchr(line, '/');
		if (!file)
			continue;
		file[strcspn(file, "\n")] = '\0';
		const char *base = strrchr(file, '/') + 1;
		if (strncmp(base, "libportshim", 11) == 0 && strstr(base, ".so")) {
			snprintf(lib, size, "%s", file);
			found = true;
		}
	}
	fclose(f);
	return found;
}

/* When the process started, from its start time in clock ticks after
 * boot (field 22 of /proc/PID/stat, after the command name's ')'). */
static void started(const char *pid, char *buf, size_t size)
{
	char path[64], stat[1024], line[256];
	unsigned long long ticks = 0, btime = 0;
	FILE *f;

	snprintf(buf, size, "unknown");
	snprintf(path, sizeof(path), "/proc/%s/stat", pid);
	if (!(f = fopen(path, "r")))
		return;
	char *end = fgets(stat, sizeof(stat), f) ? strrchr(stat, ')') : NULL;
	fclose(f);
	if (!end || sscanf(end + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %*u %*u %*d %*d "
				    "%*d %*d %*d %*d %llu", &ticks) != 1)
		return;
	if (!(f = fopen("/proc/stat", "r")))
		return;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "btime %llu", &btime) == 1)
			break;
	fclose(f);
	time_t at = (time_t)(btime + ticks / (unsigned long long)sysconf(_SC_CLK_TCK));
	struct tm tm;
	strftime(buf, size, "%Y-%m-%dT%H:%M:%SZ", gmtime_r(&at, &tm));
}

/* The log's lines for this pid (each line holds "pid":N once). */
static long decisions(const char *log, const char *pid)
{
	char needle[64], line[4096];
	long n = 0;
	FILE *f = fopen(log, "r");

	if (!f)
		return -1;
	snprintf(needle, sizeof(needle), "\"pid\":%s,", pid);
	while (fgets(line, sizeof(line), f))
		n += strstr(line, needle) != NULL;
	fclose(f);
	return n;
}

int status_main(int argc, char **argv)
{
	char path[64], lib[4096], since[64], log[CONFIG_PATH_MAX] = "";
	static char env[1 << 20];
	const char *pid = argc == 2 ? argv[1] : NULL;

	/* No pid: the bpf backend's attachments. */
	if (argc == 1) {
		bpf_status_print();
		return 0;
	}
	if (!pid || !*pid || pid[strspn(pid, "0123456789")])
		cli_die("usage: portshim status [PID]");
	if (!mapped(pid, lib, sizeof(lib))) {
		printf("pid %s: the shim is not loaded (no libportshim in /proc/%s/maps)\n", pid, pid);
		return 1;
	}
	started(pid, since, sizeof(since));
	printf("pid %s: the shim is loaded: %s\nstarted     %s\n", pid, lib, since);

	snprintf(path, sizeof(path), "/proc/%s/environ", pid);
	FILE *f = fopen(path, "r");
	size_t len = f ? fread(env, 1, sizeof(env) - 1, f) : 0;
	if (f)
		fclose(f);
	if (!f)
		printf("settings    unknown: %s: %s\n", path, strerror(errno));
	bool any = false;
	for (size_t at = 0; at < len; at += strlen(env + at) + 1) {
		const char *entry = env + at;
		if (strncmp(entry, CONFIG_ENV_PREFIX, strlen(CONFIG_ENV_PREFIX)) != 0)
			continue;
		printf("%-11s %s\n", any ? "" : "settings", entry);
		any = true;
		/* A relative path is the process's own cwd's. */
		if (strncmp(entry, "PORTSHIM_LOG=", 13) == 0)
			snprintf(log, sizeof(log), "%s%s%s%s", entry[13] == '/' ? "" : "/proc/",
				 entry[13] == '/' ? "" : pid, entry[13] == '/' ? "" : "/cwd/", entry + 13);
	}
	if (f && !any)
		printf("settings    none (the defaults)\n");
	long n = log[0] && strcmp(log, "stderr") != 0 ? decisions(log, pid) : -1;
	if (n >= 0)
		printf("decisions   %ld in %s\n", n, log);
	else
		printf("decisions   unknown (%s)\n", log[0] ? "its log cannot be read here" : "it does not log to a file");
	return 0;
}
