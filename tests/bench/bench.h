/* Shared by the benchmark programs: clocks, a fresh network namespace with
 * loopback up, resident-memory readings, medians.  Header-only. */
#ifndef PORTSHIM_BENCH_H
#define PORTSHIM_BENCH_H

#include <errno.h>
#include <fcntl.h>
#include <link.h>
#include <net/if.h>
#include <sched.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static inline uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

__attribute__((format(printf, 1, 2), noreturn)) static inline void die(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	if (errno)
		fprintf(stderr, ": %s", strerror(errno));
	fputc('\n', stderr);
	exit(2);
}

static inline int write_file(const char *path, const char *text)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	ssize_t n = -1;

	if (fd >= 0) {
		n = write(fd, text, strlen(text));
		close(fd);
	}
	return n == (ssize_t)strlen(text) ? 0 : -1;
}

/* A network namespace of our own with lo up: as root unshare(CLONE_NEWNET),
 * otherwise inside a user namespace that maps us to root. */
static inline void enter_netns(void)
{
	if (unshare(CLONE_NEWNET) != 0) {
		uid_t uid = getuid();
		gid_t gid = getgid();
		char map[64];

		if (unshare(CLONE_NEWUSER | CLONE_NEWNET) != 0)
			die("unshare(CLONE_NEWNET)");
		write_file("/proc/self/setgroups", "deny");
		snprintf(map, sizeof(map), "0 %u 1", (unsigned)uid);
		if (write_file("/proc/self/uid_map", map) != 0)
			die("uid_map");
		snprintf(map, sizeof(map), "0 %u 1", (unsigned)gid);
		if (write_file("/proc/self/gid_map", map) != 0)
			die("gid_map");
	}
	int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	struct ifreq ifr;

	memset(&ifr, 0, sizeof(ifr));
	strcpy(ifr.ifr_name, "lo");
	if (s < 0 || ioctl(s, SIOCGIFFLAGS, &ifr) != 0)
		die("SIOCGIFFLAGS lo");
	ifr.ifr_flags |= IFF_UP;
	if (ioctl(s, SIOCSIFFLAGS, &ifr) != 0)
		die("SIOCSIFFLAGS lo");
	close(s);
}

/* "Key:   123 kB" lines of a /proc file, in bytes (-1 if absent): one
 * read, so that several values come from the same moment. */
static inline void proc_kb(const char *path, int n, const char *const keys[], long long out[])
{
	char buf[8192];
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t len = fd >= 0 ? read(fd, buf, sizeof(buf) - 1) : -1;

	if (fd >= 0)
		close(fd);
	buf[len > 0 ? len : 0] = 0;
	for (int i = 0; i < n; i++) {
		size_t klen = strlen(keys[i]);
		out[i] = -1;
		for (char *p = buf; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : p)
			if (strncmp(p, keys[i], klen) == 0 && p[klen] == ':') {
				out[i] = strtoll(p + klen + 1, NULL, 10) * 1024;
				break;
			}
	}
}

/* Resident memory of the whole process (smaps_rollup Rss). */
static inline long long rss_bytes(void)
{
	static const char *const key[] = { "Rss" };
	long long v;

	proc_kb("/proc/self/smaps_rollup", 1, key, &v);
	return v;
}

/* The address ranges of one loaded object's PT_LOAD segments (its code,
 * data and bss, which the kernel maps as several VMAs). */
struct segs {
	const char *name;
	int n;
	uintptr_t lo[8], hi[8];
};

static int find_segs(struct dl_phdr_info *info, size_t size, void *arg)
{
	struct segs *s = arg;
	long page = sysconf(_SC_PAGESIZE);

	(void)size;
	if (!info->dlpi_name || !strstr(info->dlpi_name, s->name))
		return 0;
	for (int i = 0; i < info->dlpi_phnum && s->n < 8; i++) {
		const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
		if (ph->p_type != PT_LOAD)
			continue;
		uintptr_t lo = info->dlpi_addr + ph->p_vaddr, hi = lo + ph->p_memsz;
		s->lo[s->n] = lo & ~(uintptr_t)(page - 1);
		s->hi[s->n] = (hi + (uintptr_t)page - 1) & ~(uintptr_t)(page - 1);
		s->n++;
	}
	return 1;
}

/* Resident and anonymous (bss, written data) bytes of the VMAs that lie in
 * the segments of the loaded object whose path contains `name`; 0 when it
 * is not loaded. */
static inline void object_rss(const char *name, long long *rss, long long *anon)
{
	struct segs s = { .name = name };
	FILE *f;
	char line[512];
	int inside = 0;

	*rss = *anon = 0;
	dl_iterate_phdr(find_segs, &s);
	if (s.n == 0 || !(f = fopen("/proc/self/smaps", "re")))
		return;
	while (fgets(line, sizeof(line), f)) {
		unsigned long lo, hi;
		long long kb;
		if (sscanf(line, "%lx-%lx ", &lo, &hi) == 2) {
			inside = 0;
			for (int i = 0; i < s.n; i++)
				if (lo < s.hi[i] && hi > s.lo[i])
					inside = 1;
		} else if (inside && sscanf(line, "Rss: %lld kB", &kb) == 1) {
			*rss += kb * 1024;
		} else if (inside && sscanf(line, "Anonymous: %lld kB", &kb) == 1) {
			*anon += kb * 1024;
		}
	}
	fclose(f);
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

static inline double median(const double *v, int n)
{
	double *tmp, m;

	if (n <= 0 || !(tmp = malloc((size_t)n * sizeof(double))))
		return 0;
	memcpy(tmp, v, (size_t)n * sizeof(double));
	qsort(tmp, (size_t)n, sizeof(double), cmp_double);
	m = n % 2 ? tmp[n / 2] : (tmp[n / 2 - 1] + tmp[n / 2]) / 2;
	free(tmp);
	return m;
}

#endif
