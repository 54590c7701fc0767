/* portshim attach|detach (--cgroup PATH | --unit NAME | --container ID)
 * [SETTING FLAGS...]: the bpf backend on a cgroup that exists, pinned so
 * that it outlives the command (shim/bpf/pin.c); `portshim status` with no
 * pid lists what is attached.  A unit's cgroup is the one systemd gives
 * it; a container's is its first process's, whose network namespace the
 * range and addresses are read in. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bpf/bpfcmd.h"
#include "core/runtime.h"
#include "core/settings.h"
#include "cli.h"

/* The first line a command prints, or "" (its stderr stays the user's). */
static void first_line(const char *cmd, const char *arg, char *out, size_t size)
{
	char line[PATH_MAX];
	int fds[2];

	out[0] = '\0';
	if (pipe2(fds, O_CLOEXEC) != 0)
		return;
	fflush(NULL);
	pid_t pid = fork();
	if (pid == 0) {
		dup2(fds[1], 1);
		if (strcmp(cmd, "systemctl") == 0)
			execlp(cmd, cmd, "show", "--property=ControlGroup", "--value", arg, (char *)NULL);
		else
			execlp(cmd, cmd, "inspect", "--format", "{{.State.Pid}}", arg, (char *)NULL);
		_exit(127);
	}
	close(fds[1]);
	FILE *f = fdopen(fds[0], "r");
	if (f && fgets(line, sizeof(line), f)) {
		line[strcspn(line, "\n")] = '\0';
		snprintf(out, size, "%s", line);
	}
	if (f)
		fclose(f);
	else
		close(fds[0]);
	while (pid > 0 && waitpid(pid, NULL, 0) < 0 && errno == EINTR)
		;
}

/* out = a + b, a path. */
static void join(char out[PATH_MAX], const char *a, const char *b)
{
	if (snprintf(out, PATH_MAX, "%s%s", a, b) >= PATH_MAX)
		cli_die("%s%s: a path longer than %d bytes", a, b, PATH_MAX - 1);
}

/* The v2 cgroup of a process, as a path. */
static void cgroup_of_pid(const char *root, long pid, char out[PATH_MAX])
{
	char path[64], line[PATH_MAX];
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%ld/cgroup", pid);
	if (!(f = fopen(path, "re")))
		cli_die("cannot read %s: %s", path, strerror(errno));
	out[0] = '\0';
	while (fgets(line, sizeof(line), f))
		if (strncmp(line, "0::", 3) == 0) {
			line[strcspn(line, "\n")] = '\0';
			join(out, root, line + 3);
		}
	fclose(f);
	if (!out[0])
		cli_die("process %ld is in no cgroup of the v2 hierarchy", pid);
}

/* The cgroup the options name; for a container, enters its network
 * namespace too. */
static void target(const struct options *opt, char out[PATH_MAX])
{
	char root[PATH_MAX], why[512], got[PATH_MAX];

	if (!!opt->cgroup + !!opt->unit + !!opt->container != 1)
		cli_die("name one cgroup: --cgroup PATH, --unit NAME or --container ID");
	if (cgroup_root(root, why, sizeof(why)) != 0)
		cli_die("the bpf backend needs %s", why);
	if (opt->cgroup) {
		char rel[PATH_MAX];
		join(rel, opt->cgroup[0] == '/' ? "" : "/", opt->cgroup);
		join(out, opt->cgroup[0] == '/' ? "" : root, rel);
		if (strncmp(out, root, strlen(root)) != 0)
			cli_die("--cgroup='%s': not under the cgroup v2 hierarchy at %s", opt->cgroup, root);
		return;
	}
	if (opt->unit) {
		first_line("systemctl", opt->unit, got, sizeof(got));
		if (got[0] != '/')
			cli_die("--unit='%s': systemd gives it no cgroup (a unit has one while it runs; "
				"attach to its slice to reach it from its start)", opt->unit);
		join(out, root, got);
		return;
	}
	first_line("docker", opt->container, got, sizeof(got));
	if (!got[0])
		first_line("podman", opt->container, got, sizeof(got));
	char *end;
	long pid = strtol(got, &end, 10);
	if (!got[0] || *end || pid <= 0)
		cli_die("--container='%s': neither docker nor podman knows it as running", opt->container);
	cgroup_of_pid(root, pid, out);
	snprintf(got, sizeof(got), "/proc/%ld/ns/net", pid);
	int ns = open(got, O_RDONLY | O_CLOEXEC);
	if (ns < 0 || setns(ns, CLONE_NEWNET) != 0)
		cli_die("--container='%s': cannot enter its network namespace (%s): %s", opt->container,
			got, strerror(errno));
	close(ns);
}

/* "connect=odd on-exhaust=kernel": the settings not left at their default. */
static void describe(char *out, size_t size)
{
	const struct runtime *rt = &portshim_runtime;
	size_t n = 0;

	out[0] = '\0';
	for (size_t i = 0; i < settings_count && n < size; i++) {
		char val[1200];
		if (rt->cfg.origin[i] == CONFIG_DEFAULT)
			continue;
		show_setting(&settings[i], &rt->cfg, rt->range_lo, rt->range_hi, val, sizeof(val));
		n += (size_t)snprintf(out + n, size - n, "%s%s=%s", n ? " " : "", settings[i].key, val);
	}
}

int attach_main(int argc, char **argv, bool detach)
{
	static char cgroup[PATH_MAX], why[PATH_MAX + 512], text[736];
	struct options opt;

	options_parse(&opt, argc, argv);
	if (opt.command)
		cli_die("%s takes no command (portshim --backend bpf -- COMMAND runs one)", argv[0]);
	target(&opt, cgroup);
	if (detach) {
		if (bpf_detach_pinned(cgroup, why, sizeof(why)) != 0)
			cli_die("detach: needs %s", why);
		if (!opt.quiet)
			printf("portshim: detached from %s\n", cgroup);
		return 0;
	}
	options_configure(&opt);
	describe(text, sizeof(text));
	bool switched;
	if (bpf_attach_pinned(&portshim_runtime, cgroup, text, &switched, why, sizeof(why)) != 0)
		cli_die("attach: the bpf backend needs %s; nothing was %s", why,
			switched ? "switched" : "attached");
	if (!opt.quiet)
		printf("portshim: %s %s%s%s\n", switched ? "switched the attachment of" : "attached to",
		       cgroup, text[0] ? ": " : "", text);
	return 0;
}
