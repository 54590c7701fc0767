/* The cgroup v2 side of the BPF backend: where the hierarchy is mounted,
 * which cgroup a process is in, a transient cgroup for one command, and
 * moving a process into it. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "backend.h"

int cgroup_root(char out[PATH_MAX], char *why, size_t len)
{
	FILE *f = fopen("/proc/self/mountinfo", "re");
	char line[4096];
	bool found = false;

	if (!f) {
		snprintf(why, len, "cgroup v2 (cannot read /proc/self/mountinfo: %s)", strerror(errno));
		return -1;
	}
	/* "36 35 0:30 / /sys/fs/cgroup rw,... shared:9 - cgroup2 cgroup2 rw" */
	while (!found && fgets(line, sizeof(line), f)) {
		char *sep = strstr(line, " - "), mnt[PATH_MAX], fstype[32];
		if (!sep || sscanf(sep + 3, "%31s", fstype) != 1 || strcmp(fstype, "cgroup2") != 0)
			continue;
		if (sscanf(line, "%*s %*s %*s %*s %4095s", mnt) == 1) {
			snprintf(out, PATH_MAX, "%s", mnt);
			found = true;
		}
	}
	fclose(f);
	if (!found)
		snprintf(why, len, "cgroup v2 (no cgroup2 file system is mounted)");
	return found ? 0 : -1;
}

int cgroup_own(const char *root, char out[PATH_MAX], char *why, size_t len)
{
	FILE *f = fopen("/proc/self/cgroup", "re");
	char line[4096];
	bool found = false;

	if (!f) {
		snprintf(why, len, "cgroup v2 (cannot read /proc/self/cgroup: %s)", strerror(errno));
		return -1;
	}
	while (!found && fgets(line, sizeof(line), f)) {
		if (strncmp(line, "0::", 3) != 0)
			continue;
		line[strcspn(line, "\n")] = '\0';
		snprintf(out, PATH_MAX, "%s%s", root, strcmp(line + 3, "/") ? line + 3 : "");
		found = true;
	}
	fclose(f);
	if (!found)
		snprintf(why, len, "cgroup v2 (this process is in no cgroup of the v2 hierarchy)");
	return found ? 0 : -1;
}

int cgroup_make(const char *parent, char out[PATH_MAX], char *why, size_t len)
{
	static unsigned made;

	for (int tries = 0; tries < 100; tries++) {
		snprintf(out, PATH_MAX, "%s/portshim-%ld-%u", parent, (long)getpid(), made++);
		if (mkdir(out, 0755) == 0)
			return 0;
		if (errno != EEXIST)
			break;
	}
	snprintf(why, len, "a cgroup of its own (mkdir %s: %s)", out, strerror(errno));
	return -1;
}

int cgroup_enter(const char *path, long pid, char *why, size_t len)
{
	char file[PATH_MAX + 16], text[32];
	int fd, n = snprintf(text, sizeof(text), "%ld\n", pid);

	snprintf(file, sizeof(file), "%s/cgroup.procs", path);
	fd = open(file, O_WRONLY | O_CLOEXEC);
	if (fd < 0 || write(fd, text, (size_t)n) != n) {
		snprintf(why, len, "to move the command into %s (%s)", path, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	close(fd);
	return 0;
}

/* "populated 1" in cgroup.events while a process is in the cgroup or below. */
static bool populated(int events_fd)
{
	char buf[256];
	ssize_t n = pread(events_fd, buf, sizeof(buf) - 1, 0);

	if (n <= 0)
		return false;
	buf[n] = '\0';
	char *p = strstr(buf, "populated ");
	return p && p[10] == '1';
}

void cgroup_wait_empty(const char *path, int interval_ms, void (*tick)(void *), void *arg)
{
	char file[PATH_MAX + 16];
	int fd;

	snprintf(file, sizeof(file), "%s/cgroup.events", path);
	fd = open(file, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return;
	while (populated(fd)) {
		/* A change of cgroup.events raises POLLPRI. */
		struct pollfd p = { fd, POLLPRI, 0 };
		poll(&p, 1, interval_ms);
		if (tick)
			tick(arg);
	}
	close(fd);
}

int cgroup_remove(const char *path)
{
	for (int tries = 0; tries < 200; tries++) {
		if (rmdir(path) == 0 || errno == ENOENT)
			return 0;
		if (errno != EBUSY)
			return -1;
		/* The last process is leaving: its exit finishes shortly. */
		nanosleep(&(struct timespec){ 0, 5 * 1000 * 1000 }, NULL);
	}
	return -1;
}
