/* portbench's shared parts (see portbench.h): starting the programs
 * native or under the shim, network namespaces, the native/shim
 * alternation, JSON output and the table of targets. */
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>

#include "portbench.h"

extern char **environ;

const struct variant native = { "native", false, { 0 }, 0 };
const char *const strategies[NSTRAT] = { "range", "reuse", "exclusive" };
const char *const policies[NPOL] = { "any", "odd", "kernel" };
char bpf_parent[4096];

/* ---- processes ---- */

pid_t spawn(const char *const argv[], const struct variant *v, int out_fd)
{
	pid_t pid = fork();

	if (pid < 0)
		die("fork");
	if (pid > 0)
		return pid;
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	char *env[512];
	char preload[4200];
	int n = 0;
	for (char **e = environ; *e && n < 500; e++)
		if (strncmp(*e, "LD_PRELOAD=", 11) != 0 && strncmp(*e, "PORTSHIM_", 9) != 0)
			env[n++] = *e;
	if (v->shim) {
		snprintf(preload, sizeof(preload), "LD_PRELOAD=%s", lib);
		if (v->pin >= 0)
			env[n++] = preload;
		for (int i = 0; i < 3 && v->env[i]; i++)
			env[n++] = (char *)v->env[i];
	}
	env[n] = NULL;
	if (out_fd >= 0 && out_fd != 1)
		dup2(out_fd, 1);
	int null = open("/dev/null", O_RDONLY);
	if (null >= 0)
		dup2(null, 0);
	if (v->pin == PIN_SUPERVISED || v->pin == PIN_BPF) {
		/* portshim --backend seccomp -- argv..., or
		 * portshim --backend bpf --cgroup-parent DIR -- argv... */
		const char *sup[64] = { portshim_cmd, "--backend" };
		int n0 = 2;
		if (v->pin == PIN_BPF) {
			sup[n0++] = "bpf";
			sup[n0++] = "--cgroup-parent";
			sup[n0++] = bpf_parent;
		} else
			sup[n0++] = "seccomp";
		sup[n0++] = "--";
		for (int i = 0; argv[i] && i < 58; i++)
			sup[n0 + i] = argv[i];
		execve(portshim_cmd, (char *const *)sup, env);
		die("exec %s", portshim_cmd);
	}
	if (v->pin == PIN_FLOOR || v->pin == PIN_FLOOR_SYNC) {
		const char *floor[64] = { notify_floor };
		int n0 = 1;
		if (v->pin == PIN_FLOOR_SYNC)
			floor[n0++] = "-s";
		floor[n0++] = "--";
		for (int i = 0; argv[i] && i < 60; i++)
			floor[n0 + i] = argv[i];
		execve(notify_floor, (char *const *)floor, env);
		die("exec %s", notify_floor);
	}
	execve(argv[0], (char *const *)argv, env);
	die("exec %s", argv[0]);
}

int wait_for(pid_t pid)
{
	int status;

	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return -1;
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

void stop(pid_t pid)
{
	kill(pid, SIGKILL);
	wait_for(pid);
}

bool read_line(int fd, char *buf, size_t size)
{
	size_t n = 0;

	while (n + 1 < size) {
		char c;
		ssize_t r = read(fd, &c, 1);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		if (c == '\n') {
			buf[n] = 0;
			return true;
		}
		buf[n++] = c;
	}
	buf[n] = 0;
	return n > 0;
}

char *in_netns(int (*scenario)(const void *), const void *arg, int *status)
{
	int p[2];

	if (pipe2(p, O_CLOEXEC) != 0)
		die("pipe");
	fflush(stdout);
	pid_t pid = fork();
	if (pid < 0)
		die("fork");
	if (pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		dup2(p[1], 1);
		alarm(240); /* nothing here should take this long */
		enter_netns();
		/* A new namespace starts with the kernel's defaults; say so. */
		write_file("/proc/sys/net/ipv4/ip_local_port_range", "32768 60999");
		int rc = scenario(arg);
		fflush(stdout);
		_exit(rc);
	}
	close(p[1]);
	size_t cap = 4096, len = 0;
	char *out = malloc(cap);
	for (;;) {
		if (len + 1024 > cap)
			out = realloc(out, cap *= 2);
		ssize_t r = read(p[0], out + len, cap - len - 1);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		len += (size_t)r;
	}
	out[len] = 0;
	close(p[0]);
	*status = wait_for(pid);
	return out;
}

double kv(const char *text, const char *tag, const char *key)
{
	size_t klen = strlen(key), tlen = strlen(tag);

	for (const char *line = text; line && *line;) {
		const char *end = strchr(line, '\n');
		size_t len = end ? (size_t)(end - line) : strlen(line);
		if (strncmp(line, tag, tlen) == 0) {
			for (size_t i = 0; i + klen < len; i++)
				if ((i == 0 || line[i - 1] == ' ') && strncmp(line + i, key, klen) == 0 &&
				    line[i + klen] == '=')
					return strtod(line + i + klen + 1, NULL);
			return -1;
		}
		line = end ? end + 1 : NULL;
	}
	return -1;
}

void tmp_file(const char *tag, char *path, size_t size)
{
	const char *dir = getenv("TMPDIR");

	snprintf(path, size, "%s/portbench-%s-XXXXXX", dir && *dir ? dir : "/tmp", tag);
	int fd = mkstemp(path);
	if (fd < 0)
		die("mkstemp %s", path);
	close(fd);
}

/* ---- scenarios (run inside the namespace) ---- */

struct loop_args {
	const struct variant *v;
	int threads, n, warm;
	const char *flag; /* one more flag of bench_net loop, or NULL */
};

static int sc_loop(const void *arg)
{
	const struct loop_args *a = arg;
	char t[16], n[16], w[16];

	snprintf(t, sizeof(t), "%d", a->threads);
	snprintf(n, sizeof(n), "%d", a->n);
	snprintf(w, sizeof(w), "%d", a->warm);
	const char *pin = a->v->pin == 1 ? "-R" : a->v->pin == 2 ? "-B" : NULL;
	const char *argv[] = { bench_net, "loop", "-t", t, "-n", n, "-w", w,
			       pin ? pin : a->flag, pin ? a->flag : NULL, NULL };
	return wait_for(spawn(argv, a->v, 1));
}

pid_t start_server(const char *port, const char *acceptors)
{
	int p[2];
	char line[256];

	if (pipe2(p, O_CLOEXEC) != 0)
		die("pipe");
	const char *argv[] = { bench_net, "serve", "-p", port, "-a", acceptors, NULL };
	pid_t pid = spawn(argv, &native, p[1]);
	close(p[1]);
	if (!read_line(p[0], line, sizeof(line)) || strcmp(line, "ready") != 0)
		die("server did not start");
	close(p[0]);
	return pid;
}

/* ---- output ---- */

FILE *json;
static int json_first = 1;

void jopen(const char *key, char bracket)
{
	fprintf(json, "%s\n  \"%s\": %c", json_first ? "" : ",", key, bracket);
	json_first = 0;
}

void jarray(const double *v, int n, const char *fmt)
{
	fputc('[', json);
	for (int i = 0; i < n; i++) {
		fprintf(json, i ? ", " : "");
		fprintf(json, fmt, v[i]);
	}
	fputc(']', json);
}

struct target {
	char id[16], what[160], goal[48], value[64];
	int met; /* 1 met, 0 missed, -1 not measured */
};
static struct target targets[24];
static int ntargets;

void target(const char *id, const char *what, const char *goal, int met, const char *fmt, ...)
{
	va_list ap;

	if (ntargets == (int)(sizeof(targets) / sizeof(targets[0])))
		die("portbench: more than %d targets", ntargets);
	struct target *t = &targets[ntargets++];
	snprintf(t->id, sizeof(t->id), "%s", id);
	snprintf(t->what, sizeof(t->what), "%s", what);
	snprintf(t->goal, sizeof(t->goal), "%s", goal);
	va_start(ap, fmt);
	vsnprintf(t->value, sizeof(t->value), fmt, ap);
	va_end(ap);
	t->met = met;
}

void fail_run(const char *what, int status, const char *out)
{
	fprintf(stderr, "portbench: %s failed (status %d); output:\n%s\n", what, status, out);
	exit(1);
}

void loop_once(const struct variant *v, int threads, int n, int warm, const char *flag, int nkeys,
	       const char *const keys[], double out[])
{
	struct loop_args a = { v, threads, n, warm, flag };
	int status;
	char *text = in_netns(sc_loop, &a, &status);

	if (status != 0)
		fail_run(v->name, status, text);
	for (int i = 0; i < nkeys; i++)
		if ((out[i] = kv(text, "", keys[i])) < 0)
			fail_run(v->name, status, text);
	free(text);
}

void loop_measure(const struct variant *v, const void *ctx, double cost[2])
{
	static const char *const keys[] = { "seg_wall_ns", "seg_cpu_ns" };
	const struct loop_run *lr = ctx;

	loop_once(v, 1, lr->n, lr->warm, lr->flag, 2, keys, cost);
}

void targets_report(void)
{
	printf("\ntargets\n");
	jopen("targets", '[');
	for (int i = 0; i < ntargets; i++) {
		struct target *t = &targets[i];
		printf("    %-8s %-70s %-24s %-34s %s\n", t->id, t->what, t->goal, t->value,
		       t->met < 0 ? "-" : t->met ? "met" : "MISSED");
		fprintf(json, "%s\n    {\"id\": \"%s\", \"what\": \"%s\", \"goal\": \"%s\", "
			      "\"value\": \"%s\", \"met\": %s}",
			i ? "," : "", t->id, t->what, t->goal, t->value,
			t->met < 0 ? "null" : t->met ? "true" : "false");
	}
	fprintf(json, "\n  ]");
}

/* ---- native and shim alternating ---- */

void alternate(struct alternation *alt, int nv, const struct variant v[], const bool run[],
	       void (*measure)(const struct variant *v, const void *ctx, double cost[2]),
	       const void *ctx)
{
	alt->nv = nv;
	alt->nnat = 0;
	for (int r = 0; r < rounds; r++) {
		double before[2], after[2], x[2];
		measure(&native, ctx, before);
		for (int m = 0; m < 2; m++)
			alt->nat[m][alt->nnat] = before[m];
		alt->nnat++;
		for (int k = 0; k < nv; k++) {
			int i = r % 2 ? nv - 1 - k : k;
			if (!run[i])
				continue;
			measure(&v[i], ctx, x);
			measure(&native, ctx, after);
			for (int m = 0; m < 2; m++) {
				alt->nat[m][alt->nnat] = after[m];
				alt->shim[m][i][r] = x[m];
				alt->ratio[m][i][r] = x[m] / ((before[m] + after[m]) / 2);
				before[m] = after[m];
			}
			alt->nnat++;
		}
	}
}
