/* portshim attach, detach and status: an attachment that outlives the
 * command, its links and the maps status reads pinned in the BPF file
 * system under /sys/fs/bpf/portshim/<the cgroup's id>/. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <time.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "backend.h"
#include "bpfcmd.h"
#include "portshim.skel.h"

#define BPF_FS "/sys/fs/bpf"
#define PIN_ROOT BPF_FS "/portshim"
#define BPF_FS_MAGIC 0xcafe4a11

/* The maps pinned beside the links: what status and a switch read. */
static const char *const pinned_maps[] = { "meta", "counters", "settings", "netns", "live" };
#define N_MAPS (sizeof(pinned_maps) / sizeof(pinned_maps[0]))

static int pin_dir(const char *cgroup, char out[PATH_MAX], char *why, size_t len)
{
	struct stat st;

	if (stat(cgroup, &st) != 0 || !S_ISDIR(st.st_mode)) {
		snprintf(why, len, "a cgroup: %s is not a directory (%s)", cgroup,
			 errno ? strerror(errno) : "not a directory");
		return -1;
	}
	snprintf(out, PATH_MAX, "%s/%llu", PIN_ROOT, (unsigned long long)st.st_ino);
	return 0;
}

static struct bpf_map *map_named(struct portshim_bpf *skel, const char *name)
{
	/* "live": the .bss that holds `live`, the index of the settings in force. */
	return strcmp(name, "live") == 0 ? skel->maps.bss : bpf_object__find_map_by_name(skel->obj, name);
}

/* The pinned map `name` of the attachment in dir, or -1. */
static int pinned(const char *dir, const char *name)
{
	char path[PATH_MAX + 32];

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	return bpf_obj_get(path);
}

/* An attachment already there takes the new settings: written to the copy
 * not in force, which then is (as the control file switches a command's);
 * the namespaces read and the walk go on. */
static int switch_pinned(struct runtime *rt, const char *dir, const char *text, char *why,
			 size_t len)
{
	static struct bpf_settings s;
	static struct bpf_meta meta;
	int settings = pinned(dir, "settings"), live = pinned(dir, "live"), m = pinned(dir, "meta");
	__u32 zero = 0, now = 0;
	int rc = -1;

	if (bpf_settings_check(rt, why, len) != 0)
		goto out;
	bpf_settings_fill(rt, false, &s);
	if (settings < 0 || live < 0 || m < 0 || bpf_map_lookup_elem(live, &zero, &now) != 0 ||
	    bpf_map_lookup_elem(m, &zero, &meta) != 0) {
		snprintf(why, len, "an attachment it can switch: %s has pins it cannot read (portshim "
			 "detach first)", dir);
		goto out;
	}
	__u32 next = (now + 1) & 1;
	snprintf(meta.settings, sizeof(meta.settings), "%s", text);
	memset(meta.plans, 0, sizeof(meta.plans));
	bpf_plan_names(rt, meta.plans);
	if (bpf_map_update_elem(settings, &next, &s, 0) != 0 ||
	    bpf_map_update_elem(live, &zero, &next, 0) != 0 ||
	    bpf_map_update_elem(m, &zero, &meta, 0) != 0) {
		snprintf(why, len, "to write the attachment's settings (%s)", strerror(errno));
		goto out;
	}
	rc = 0;
out:
	for (int fd = 0, fds[3] = { settings, live, m }; fd < 3; fd++)
		if (fds[fd] >= 0)
			close(fds[fd]);
	return rc;
}

/* Takes away whatever of an attachment is pinned in dir. */
static void unpin_all(const char *dir)
{
	char path[PATH_MAX + 32];

	for (int i = 0; i < BPF_HOOKS; i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, bpf_hook_names[i]);
		int fd = bpf_obj_get(path);
		if (fd >= 0) {
			/* Detached now, whoever else holds the link. */
			bpf_link_detach(fd);
			close(fd);
		}
		unlink(path);
	}
	for (size_t i = 0; i < N_MAPS; i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, pinned_maps[i]);
		unlink(path);
	}
	rmdir(dir);
	rmdir(PIN_ROOT); /* the last attachment gone: bpffs as it was (else ENOTEMPTY) */
}

/* Reads the network namespace of every process in the cgroup and below,
 * each once. */
static int add_present_netns(struct bpf_backend *b, const char *cgroup, char *why, size_t len)
{
	char path[PATH_MAX + 32], ns[64], seen[BPF_NETNS_MAX][64];
	int nseen = 0, rc = 0;
	DIR *d;
	struct dirent *e;
	FILE *f;
	long pid;

	snprintf(path, sizeof(path), "%s/cgroup.procs", cgroup);
	if ((f = fopen(path, "re"))) {
		while (rc == 0 && fscanf(f, "%ld", &pid) == 1) {
			char link[64];
			snprintf(link, sizeof(link), "/proc/%ld/ns/net", pid);
			ssize_t n = readlink(link, ns, sizeof(ns) - 1);
			if (n <= 0)
				continue; /* gone meanwhile */
			ns[n] = '\0';
			int i = 0;
			while (i < nseen && strcmp(seen[i], ns) != 0)
				i++;
			if (i < nseen || nseen == BPF_NETNS_MAX)
				continue;
			snprintf(seen[nseen++], sizeof(seen[0]), "%s", ns);
			rc = bpf_backend_add_netns(b, link, why, len);
		}
		fclose(f);
	}
	if (rc == 0 && (d = opendir(cgroup))) {
		while (rc == 0 && (e = readdir(d)))
			if (e->d_type == DT_DIR && e->d_name[0] != '.') {
				snprintf(path, sizeof(path), "%s/%s", cgroup, e->d_name);
				rc = add_present_netns(b, path, why, len);
			}
		closedir(d);
	}
	return rc;
}

int bpf_attach_pinned(struct runtime *rt, const char *cgroup, const char *settings, bool *switched,
		      char *why, size_t len)
{
	static struct bpf_backend b;
	char dir[PATH_MAX], path[PATH_MAX + 32];
	struct statfs fs;
	static struct bpf_meta meta;
	__u32 zero = 0;
	int cg;

	memset(&meta, 0, sizeof(meta));

	/* Mounted where the system has not (as systemd does at boot). */
	if ((statfs(BPF_FS, &fs) != 0 || fs.f_type != BPF_FS_MAGIC) &&
	    mount("bpf", BPF_FS, "bpf", 0, "mode=0700") != 0) {
		snprintf(why, len, "the BPF file system at " BPF_FS " (mount -t bpf bpf " BPF_FS
			 ": %s)", strerror(errno));
		return -1;
	}
	if (pin_dir(cgroup, dir, why, len) != 0)
		return -1;
	*switched = access(dir, F_OK) == 0;
	if (*switched)
		return switch_pinned(rt, dir, settings, why, len);
	if (bpf_backend_load(&b, rt, false, why, len) != 0)
		return -1;
	cg = open(cgroup, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (cg < 0 || bpf_backend_attach(&b, cg, why, len) != 0) {
		if (cg < 0)
			snprintf(why, len, "the cgroup %s (%s)", cgroup, strerror(errno));
		else
			close(cg);
		bpf_backend_close(&b);
		return -1;
	}
	close(cg);
	snprintf(meta.cgroup, sizeof(meta.cgroup), "%s", cgroup);
	snprintf(meta.settings, sizeof(meta.settings), "%s", settings);
	meta.since = (__u64)time(NULL);
	bpf_plan_names(rt, meta.plans);
	/* The namespaces of the processes already in it are read now. */
	if (add_present_netns(&b, cgroup, why, len) != 0) {
		bpf_backend_close(&b);
		return -1;
	}

	int err = (mkdir(PIN_ROOT, 0700) != 0 && errno != EEXIST) || mkdir(dir, 0700) != 0 ? -errno : 0;
	for (int i = 0; i < BPF_HOOKS && !err; i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, bpf_hook_names[i]);
		err = bpf_link__pin(b.link[i], path);
	}
	for (size_t i = 0; i < N_MAPS && !err; i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, pinned_maps[i]);
		err = bpf_map__pin(map_named(b.skel, pinned_maps[i]), path);
	}
	if (!err)
		err = bpf_map__update_elem(b.skel->maps.meta, &zero, sizeof(zero), &meta, sizeof(meta), 0);
	if (err) {
		snprintf(why, len, "to pin the attachment in %s (%s)", dir, strerror(-err));
		unpin_all(dir);
		bpf_backend_close(&b);
		return -1;
	}
	/* The pins hold the links now: closing ours detaches nothing. */
	for (int i = 0; i < BPF_HOOKS; i++)
		bpf_link__disconnect(b.link[i]);
	bpf_backend_close(&b);
	return 0;
}

int bpf_detach_pinned(const char *cgroup, char *why, size_t len)
{
	char dir[PATH_MAX];

	if (pin_dir(cgroup, dir, why, len) != 0)
		return -1;
	if (access(dir, F_OK) != 0) {
		snprintf(why, len, "an attachment to detach: portshim attached nothing to %s", cgroup);
		return -1;
	}
	unpin_all(dir);
	if (access(dir, F_OK) == 0) {
		snprintf(why, len, "to remove %s (%s)", dir, strerror(errno));
		return -1;
	}
	return 0;
}

static const char *const counter_names[BPF_COUNT_N] = {
	"ok", "fallback", "exhausted", "passthrough", "attempts", "new-netns", "dropped-events",
};

/* One attachment: where, with what, since when, whether its links still
 * hold (a removed cgroup takes them off), and its counters. */
static void print_one(const char *dir)
{
	char path[PATH_MAX + 32], since[32] = "?";
	static struct bpf_meta meta;
	static uint64_t counts[BPF_PLANS][BPF_COUNT_N];
	__u32 zero = 0;

	memset(&meta, 0, sizeof(meta));
	memset(counts, 0, sizeof(counts));
	snprintf(path, sizeof(path), "%s/meta", dir);
	int fd = bpf_obj_get(path);
	if (fd < 0 || bpf_map_lookup_elem(fd, &zero, &meta) != 0)
		snprintf(meta.cgroup, sizeof(meta.cgroup), "? (its meta map: %s)", strerror(errno));
	if (fd >= 0)
		close(fd);
	snprintf(path, sizeof(path), "%s/counters", dir);
	fd = bpf_obj_get(path);
	if (fd >= 0) {
		bpf_backend_counters(fd, counts);
		close(fd);
	}
	snprintf(path, sizeof(path), "%s/%s", dir, bpf_hook_names[0]);
	struct bpf_link_info info = { 0 };
	__u32 info_len = sizeof(info);
	fd = bpf_obj_get(path);
	bool live = fd >= 0 && bpf_obj_get_info_by_fd(fd, &info, &info_len) == 0 &&
		    info.cgroup.cgroup_id != 0;
	if (fd >= 0)
		close(fd);
	time_t t = (time_t)meta.since;
	struct tm tm;
	if (meta.since && gmtime_r(&t, &tm))
		strftime(since, sizeof(since), "%Y-%m-%dT%H:%M:%SZ", &tm);
	printf("%s\n  settings  %s\n  since     %s%s\n  pinned    %s\n  counters ", meta.cgroup,
	       meta.settings[0] ? meta.settings : "(defaults)", since,
	       live ? "" : " (detached: the cgroup is gone; portshim detach removes the pins)", dir);
	for (int i = 0; i < BPF_COUNT_N; i++) {
		uint64_t all = 0;
		for (int p = 0; p < BPF_PLANS; p++)
			all += counts[p][i];
		printf(" %s=%llu", counter_names[i], (unsigned long long)all);
	}
	printf("\n");
	/* Then each policy that decided something. */
	for (int p = 0, shown = 0; p < BPF_PLANS; p++) {
		uint64_t any = 0;
		for (int i = 0; i < BPF_COUNT_N; i++)
			any |= counts[p][i];
		if (!any)
			continue;
		printf("  %-9s %s:", shown++ ? "" : "by policy", meta.plans[p][0] ? meta.plans[p] : "?");
		for (int i = 0; i < BPF_COUNT_N; i++)
			printf(" %s=%llu", counter_names[i], (unsigned long long)counts[p][i]);
		printf("\n");
	}
}

int bpf_status_print(void)
{
	DIR *d = opendir(PIN_ROOT);
	struct dirent *e;
	int n = 0;

	while (d && (e = readdir(d))) {
		char dir[PATH_MAX];
		if (e->d_name[0] == '.')
			continue;
		snprintf(dir, sizeof(dir), "%s/%s", PIN_ROOT, e->d_name);
		print_one(dir);
		n++;
	}
	if (d)
		closedir(d);
	if (n == 0)
		printf("portshim: nothing attached (portshim attach)\n");
	return n;
}
