/* portbench: runs the benchmarks of tests/bench/README.md, native against
 * the shim, prints a table and writes the results as JSON.
 *
 *   portbench -L LIB -B BINDIR [-o FILE.json] [-r ROUNDS] [-q] [-s SECTIONS] [-V VERSION]
 *             [-v VARIANTS]
 *
 * LIB: the libportshim.so to preload; BINDIR: where bench_net and
 * bench_alloc are; SECTIONS: any of "abcde" (default all): a connect +
 * accept + close, b allocator vs bind(0), c connections per second by
 * threads, d memory, e port pressure; -q: fewer rounds (a smoke test);
 * VERSION: what to record as the library's version; VARIANTS: only these
 * of (a), e.g. "range/any,reuse/any" (and "pinned": the reference run
 * without the shim that pins each connect to a random port).
 *
 * Every network measurement runs in a network namespace of its own (lo
 * up), so that no TIME_WAIT or port of one run reaches the next.  Shim and
 * native runs alternate, round after round; the table shows medians, and
 * each ratio is the median of per-round ratios against the native runs
 * next to it.  The shim's settings go to the worker programs only, through
 * their environment (inherited PORTSHIM_* and LD_PRELOAD are dropped).
 */
#include <signal.h>
#include <stdbool.h>
#include <sys/prctl.h>
#include <sys/utsname.h>
#include <sys/wait.h>

#include "bench.h"

extern char **environ;

static const char *lib, *bindir, *version = "unknown";
static int rounds = 9, quick;
static const char *only; /* -v: the (a) variants to run, "range/any,reuse/odd" */
static char bench_net[4096], bench_alloc[4096];

struct variant {
	const char *name;
	bool shim;
	const char *env[3];
	int pin; /* bench_net loop -R (1) / -B (2): native, the program pins the port */
};

static const struct variant native = { "native", false, { 0 }, 0 };

/* ---- processes ---- */

static pid_t spawn(const char *const argv[], const struct variant *v, int out_fd)
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
	execve(argv[0], (char *const *)argv, env);
	die("exec %s", argv[0]);
}

static int wait_for(pid_t pid)
{
	int status;

	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return -1;
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

static void stop(pid_t pid)
{
	kill(pid, SIGKILL);
	wait_for(pid);
}

/* One line from fd (blocking), without the newline; false at EOF. */
static bool read_line(int fd, char *buf, size_t size)
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

/* Runs scenario(arg) in a child in a network namespace of its own, and
 * returns what it printed (malloc'd); *status its exit status. */
static char *in_netns(int (*scenario)(const void *), const void *arg, int *status)
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

/* The value of key= on the first line that starts with `tag` ("" for any);
 * -1 when absent. */
static double kv(const char *text, const char *tag, const char *key)
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

/* ---- scenarios (run inside the namespace) ---- */

struct loop_args {
	const struct variant *v;
	int threads, n, warm;
};

static int sc_loop(const void *arg)
{
	const struct loop_args *a = arg;
	char t[16], n[16], w[16];

	snprintf(t, sizeof(t), "%d", a->threads);
	snprintf(n, sizeof(n), "%d", a->n);
	snprintf(w, sizeof(w), "%d", a->warm);
	const char *argv[] = { bench_net, "loop", "-t", t, "-n", n, "-w", w,
			       a->v->pin == 1 ? "-R" : a->v->pin == 2 ? "-B" : NULL, NULL };
	return wait_for(spawn(argv, a->v, 1));
}

static pid_t start_server(const char *port, const char *acceptors)
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

struct hold_args {
	const struct variant *v;
	int n;
};

static int sc_hold(const void *arg)
{
	const struct hold_args *a = arg;
	char n[16];

	snprintf(n, sizeof(n), "%d", a->n);
	pid_t server = start_server("7001", "1");
	const char *argv[] = { bench_net, "hold", "-p", "7001", "-n", n, NULL };
	int rc = wait_for(spawn(argv, a->v, 1));
	stop(server);
	return rc;
}

static int sc_idle(const void *arg)
{
	const char *argv[] = { bench_net, "idle", NULL };
	return wait_for(spawn(argv, arg, 1));
}

struct pressure_args {
	const struct variant *v;
	int holders, per_holder, more;
};

/* Holders of per_holder connections each, one after the other, then a
 * fresh process times `more` connects; each prints one line, tagged. */
static int sc_pressure(const void *arg)
{
	const struct pressure_args *a = arg;
	char n[16], m[16], line[1024];
	pid_t holders[8];
	int rc = 0;

	snprintf(n, sizeof(n), "%d", a->per_holder);
	snprintf(m, sizeof(m), "%d", a->more);
	pid_t server = start_server("7002", "2");
	for (int i = 0; i < a->holders; i++) {
		int p[2];
		if (pipe2(p, O_CLOEXEC) != 0)
			die("pipe");
		const char *argv[] = { bench_net, "hold", "-p", "7002", "-n", n, "-W", NULL };
		holders[i] = spawn(argv, a->v, p[1]);
		close(p[1]);
		if (!read_line(p[0], line, sizeof(line)))
			die("holder %d said nothing", i);
		close(p[0]);
		printf("H%d: %s\n", i, line);
	}
	fflush(stdout);
	int p[2];
	if (pipe2(p, O_CLOEXEC) != 0)
		die("pipe");
	const char *argv[] = { bench_net, "hold", "-p", "7002", "-n", m, NULL };
	pid_t more = spawn(argv, a->v, p[1]);
	close(p[1]);
	if (read_line(p[0], line, sizeof(line)))
		printf("M: %s\n", line);
	else
		rc = 1;
	close(p[0]);
	if (wait_for(more) != 0)
		rc = 1;
	for (int i = 0; i < a->holders; i++)
		stop(holders[i]);
	stop(server);
	return rc;
}

/* ---- output ---- */

static FILE *json;
static int json_first;

static void jopen(const char *key, char bracket)
{
	fprintf(json, "%s\n  \"%s\": %c", json_first ? "" : ",", key, bracket);
	json_first = 0;
}

static void jarray(const double *v, int n, const char *fmt)
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
static struct target targets[16];
static int ntargets;

static void target(const char *id, const char *what, const char *goal, int met,
		   const char *fmt, ...)
{
	struct target *t = &targets[ntargets++];
	va_list ap;

	snprintf(t->id, sizeof(t->id), "%s", id);
	snprintf(t->what, sizeof(t->what), "%s", what);
	snprintf(t->goal, sizeof(t->goal), "%s", goal);
	va_start(ap, fmt);
	vsnprintf(t->value, sizeof(t->value), fmt, ap);
	va_end(ap);
	t->met = met;
}

static void fail_run(const char *what, int status, const char *out)
{
	fprintf(stderr, "portbench: %s failed (status %d); output:\n%s\n", what, status, out);
	exit(1);
}

/* ---- (a) connect + accept + close, one thread ---- */

#define NSTRAT 3
#define NPOL 3
static const char *strategies[NSTRAT] = { "range", "reuse", "exclusive" };
static const char *policies[NPOL] = { "any", "odd", "kernel" };

/* One run of `bench_net loop`; the values of keys[] it printed. */
static void loop_once(const struct variant *v, int threads, int n, int warm, int nkeys,
		      const char *const keys[], double out[])
{
	struct loop_args a = { v, threads, n, warm };
	int status;
	char *text = in_netns(sc_loop, &a, &status);

	if (status != 0)
		fail_run(v->name, status, text);
	for (int i = 0; i < nkeys; i++)
		if ((out[i] = kv(text, "", keys[i])) < 0)
			fail_run(v->name, status, text);
	free(text);
}

static void section_a(void)
{
	/* The shim's 9 settings, and the floors of strategies range and reuse:
	 * native, the program itself pinning each connect to a random port. */
	enum { NV = NSTRAT * NPOL + 2, NSHIM = NSTRAT * NPOL, MAXR = 32 };
	static const char *const keys[] = { "seg_wall_ns", "seg_cpu_ns" };
	static char names[NV][32], env_s[NV][48], env_p[NV][48];
	struct variant v[NV];
	/* [0] wall, [1] CPU */
	static double nat[2][MAXR * (NV + 1)], shim[2][NV][MAXR], ratio[2][NV][MAXR];
	int nnat = 0, n = quick ? 1000 : 2000, warm = 200;

	for (int s = 0; s < NSTRAT; s++)
		for (int p = 0; p < NPOL; p++) {
			int i = s * NPOL + p;
			snprintf(names[i], sizeof(names[i]), "%s/%s", strategies[s], policies[p]);
			snprintf(env_s[i], sizeof(env_s[i]), "PORTSHIM_STRATEGY=%s", strategies[s]);
			snprintf(env_p[i], sizeof(env_p[i]), "PORTSHIM_CONNECT=%s", policies[p]);
			v[i] = (struct variant){ names[i], true, { env_s[i], env_p[i], NULL }, 0 };
		}
	snprintf(names[NSHIM], sizeof(names[NSHIM]), "no shim, [p,p]");
	v[NSHIM] = (struct variant){ names[NSHIM], false, { NULL }, 1 };
	snprintf(names[NSHIM + 1], sizeof(names[NSHIM + 1]), "no shim, bind(p)");
	v[NSHIM + 1] = (struct variant){ names[NSHIM + 1], false, { NULL }, 2 };
	bool run[NV];
	for (int i = 0; i < NV; i++) {
		const char *at = only ? strstr(only, names[i]) : NULL;
		size_t len = strlen(names[i]);
		run[i] = !only || (at && (at == only || at[-1] == ',') && (at[len] == ',' || !at[len]));
	}
	run[NSHIM] = run[NSHIM + 1] = !only || strstr(only, "pinned");
	fprintf(stderr, "portbench: (a) connect+accept+close, 1 thread, %d per run, %d rounds\n",
		n, rounds);
	for (int r = 0; r < rounds; r++) {
		/* native, v, native, v, ..., native: each shim run between two
		 * native ones; every other round in the opposite order. */
		double before[2], after[2], x[2];
		loop_once(&native, 1, n, warm, 2, keys, before);
		for (int m = 0; m < 2; m++)
			nat[m][nnat] = before[m];
		nnat++;
		for (int k = 0; k < NV; k++) {
			int i = r % 2 ? NV - 1 - k : k;
			if (!run[i])
				continue;
			loop_once(&v[i], 1, n, warm, 2, keys, x);
			loop_once(&native, 1, n, warm, 2, keys, after);
			for (int m = 0; m < 2; m++) {
				nat[m][nnat] = after[m];
				shim[m][i][r] = x[m];
				ratio[m][i][r] = x[m] / ((before[m] + after[m]) / 2);
				before[m] = after[m];
			}
			nnat++;
		}
	}
	double nw = median(nat[0], nnat), nc = median(nat[1], nnat);
	printf("\n(a) connect + accept + close on loopback, one client thread (%d connections per run in segments of 100,\n"
	       "    %d rounds, client closes first; per run the median segment; ratio: median over rounds of\n"
	       "    shim / mean of the native runs just before and after it)\n", n, rounds);
	printf("    %-18s %12s %12s %12s %12s\n", "variant", "wall ns/conn", "ratio wall", "CPU ns/conn",
	       "ratio CPU");
	printf("    %-18s %12.0f %12s %12.0f %12s\n", "native", nw, "1", nc, "1");
	jopen("connect", '{');
	fprintf(json, "\n    \"connections_per_run\": %d, \"warmup\": %d, \"rounds\": %d,\n"
		      "    \"native\": {\"wall_ns_median\": %.1f, \"cpu_ns_median\": %.1f, \"wall_samples\": ",
		n, warm, rounds, nw, nc);
	jarray(nat[0], nnat, "%.1f");
	fprintf(json, ", \"cpu_samples\": ");
	jarray(nat[1], nnat, "%.1f");
	fprintf(json, "},\n    \"shim\": [");
	double worst[2][2] = { { 0, 0 }, { 0, 0 } }; /* [strategy range/reuse][wall/cpu] */
	int emitted = 0;
	for (int i = 0; i < NV; i++) {
		if (!run[i])
			continue;
		double sw = median(shim[0][i], rounds), sc = median(shim[1][i], rounds);
		double rw = median(ratio[0][i], rounds), rc = median(ratio[1][i], rounds);
		printf("    %-18s %12.0f %12.3f %12.0f %12.3f\n", v[i].name, sw, rw, sc, rc);
		if (i == NV - 1)
			printf("    (no shim: the program itself pins each connect() to a random port, with\n"
			       "     IP_LOCAL_PORT_RANGE [p,p] as strategy range does, or SO_REUSEADDR + bind(p)\n"
			       "     as strategy reuse does: those strategies' floor)\n");
		fprintf(json, "%s\n      {\"variant\": \"%s\", \"strategy\": \"%s\", \"policy\": \"%s\", "
			      "\"wall_ns_median\": %.1f, \"wall_ratio_median\": %.4f, "
			      "\"cpu_ns_median\": %.1f, \"cpu_ratio_median\": %.4f, \"wall_ratios\": ",
			emitted++ ? "," : "", v[i].name, i < NSHIM ? strategies[i / NPOL] : "none (pinned)",
			i < NSHIM ? policies[i % NPOL] : "none", sw, rw, sc, rc);
		jarray(ratio[0][i], rounds, "%.4f");
		fprintf(json, ", \"cpu_ratios\": ");
		jarray(ratio[1][i], rounds, "%.4f");
		fputc('}', json);
		if (i < NSHIM && i / NPOL < 2) {
			worst[i / NPOL][0] = rw > worst[i / NPOL][0] ? rw : worst[i / NPOL][0];
			worst[i / NPOL][1] = rc > worst[i / NPOL][1] ? rc : worst[i / NPOL][1];
		}
	}
	fprintf(json, "\n    ]\n  }");
	static const char *const id[2] = { "a-range", "a-reuse" };
	static const char *const what[2] = {
		"connect ratio shim/native, strategy range (worst policy; CPU time)",
		"connect ratio shim/native, strategy reuse (worst policy; CPU time)" };
	static const char *const goal[2] = { "<= 1.05", "<= 1.15" };
	static const double limit[2] = { 1.05, 1.15 };
	for (int k = 0; k < 2; k++) {
		if (worst[k][1] > 0)
			target(id[k], what[k], goal[k], worst[k][1] <= limit[k], "%.3f (wall %.3f)",
			       worst[k][1], worst[k][0]);
		else
			target(id[k], what[k], goal[k], -1, "not run");
	}
}

/* ---- (b) allocator vs bind(0) ---- */

static void section_b(void)
{
	const char *argv[] = { bench_alloc, "-r", quick ? "1" : "3", "-m", quick ? "50" : "100",
			       NULL };
	int runs = quick ? 1 : 3, status;
	double occ[5] = { 0, 0.5, 0.9, 0.99, 0.999 };
	double shim[5][8], kern[5][8], held[5] = { 0 }, freep[5] = { 0 };

	fprintf(stderr, "portbench: (b) allocator vs bind(0), %d processes\n", runs);
	for (int r = 0; r < runs; r++) {
		int p[2];
		if (pipe2(p, O_CLOEXEC) != 0)
			die("pipe");
		pid_t pid = spawn(argv, &native, p[1]);
		close(p[1]);
		char line[512];
		int o = 0;
		char all[4096] = "";
		while (read_line(p[0], line, sizeof(line)) && o < 5) {
			strncat(all, line, sizeof(all) - strlen(all) - 2);
			strcat(all, "\n");
			shim[o][r] = kv(line, "", "shim_ns");
			kern[o][r] = kv(line, "", "kernel_ns");
			held[o] = kv(line, "", "held");
			freep[o] = kv(line, "", "free");
			o++;
		}
		close(p[0]);
		if ((status = wait_for(pid)) != 0 || o != 5)
			fail_run("bench_alloc", status, all);
	}
	printf("\n(b) allocator alone: odd ports of 32768-60999 (14116), ns per operation (medians of %d processes x %s rounds)\n",
	       runs, quick ? "1" : "3");
	printf("    %-10s %7s %6s %16s %16s %10s\n", "occupancy", "held", "free",
	       "claim+release", "kernel bind(0)", "kernel/shim");
	jopen("allocator", '[');
	double at99 = 0, k99 = 0;
	for (int o = 0; o < 5; o++) {
		double s = median(shim[o], runs), k = median(kern[o], runs);
		printf("    %9.1f%% %7.0f %6.0f %13.1f ns %13.0f ns %10.0f\n", occ[o] * 100, held[o],
		       freep[o], s, k, k / s);
		fprintf(json, "%s\n    {\"occupancy\": %g, \"held\": %.0f, \"free\": %.0f, "
			      "\"shim_claim_release_ns\": %.2f, \"kernel_bind0_ns\": %.1f, "
			      "\"kernel_over_shim\": %.1f, \"shim_samples\": ",
			o ? "," : "", occ[o], held[o], freep[o], s, k, k / s);
		jarray(shim[o], runs, "%.2f");
		fprintf(json, ", \"kernel_samples\": ");
		jarray(kern[o], runs, "%.1f");
		fputc('}', json);
		if (o == 3) {
			at99 = s;
			k99 = k;
		}
	}
	fprintf(json, "\n  ]");
	target("b", "allocator at 99% occupancy: ns per claim+release, and below bind(0)",
	       "<= 100 ns and < bind(0)", at99 <= 100 && at99 < k99, "%.1f ns (bind(0): %.0f ns)",
	       at99, k99);
}

/* ---- (c) connections per second by threads ---- */

static void section_c(void)
{
	static const int threads[] = { 1, 2, 4 };
	static const char *const keys[] = { "cps", "cpu_ns_per_conn" };
	struct variant shim_v = { "shim (auto, any)", true, { 0 }, 0 };
	/* [native 0 / shim 1][threads][round] */
	double cps[2][3][32], cpu[2][3][32], ratio[3][32], scale[2][3][32], eff[3][32], x[2];
	int total = quick ? 4000 : 12000;

	fprintf(stderr, "portbench: (c) connections per second by threads, %d rounds\n", rounds);
	/* Per round: native at 1, 2, 4 threads, then the shim likewise (the
	 * other way round every other round); scaling is taken within the
	 * round, so that slow drifts of the machine's load cancel. */
	for (int r = 0; r < rounds; r++) {
		for (int k = 0; k < 2; k++) {
			int shim = r % 2 ? !k : k;
			for (int t = 0; t < 3; t++) {
				loop_once(shim ? &shim_v : &native, threads[t], total / threads[t], 100, 2,
					  keys, x);
				cps[shim][t][r] = x[0];
				cpu[shim][t][r] = x[1];
			}
		}
		for (int t = 0; t < 3; t++) {
			ratio[t][r] = cps[1][t][r] / cps[0][t][r];
			for (int v = 0; v < 2; v++)
				scale[v][t][r] = cps[v][t][r] / cps[v][0][r];
			eff[t][r] = scale[1][t][r] / scale[0][t][r];
		}
	}
	printf("\n(c) connections per second, wall time (connect+accept+close, each thread its own listener;\n"
	       "    %d connections per run; %d rounds, native and shim alternating; scaling: cps(T)/cps(1)\n"
	       "    within a round, median over rounds; CPU: CPU time per connection)\n",
	       total, rounds);
	printf("    %-8s %10s %10s %11s %9s %9s %11s %11s %11s\n", "threads", "native", "shim",
	       "shim/native", "native x", "shim x", "shim/native", "native CPU", "shim CPU");
	printf("    %-8s %10s %10s %11s %9s %9s %11s\n", "", "", "", "", "", "", "scaling");
	jopen("threads", '[');
	for (int t = 0; t < 3; t++) {
		double n = median(cps[0][t], rounds), sm = median(cps[1][t], rounds);
		double ns = median(scale[0][t], rounds), ss = median(scale[1][t], rounds);
		double e = median(eff[t], rounds);
		printf("    %-8d %10.0f %10.0f %11.3f %9.2f %9.2f %11.3f %8.0f ns %8.0f ns\n", threads[t], n,
		       sm, median(ratio[t], rounds), ns, ss, e, median(cpu[0][t], rounds),
		       median(cpu[1][t], rounds));
		fprintf(json, "%s\n    {\"threads\": %d, \"native_cps\": %.0f, \"shim_cps\": %.0f, "
			      "\"ratio_median\": %.4f, \"native_scaling\": %.3f, \"shim_scaling\": %.3f, "
			      "\"scaling_ratio_median\": %.3f, "
			      "\"native_cpu_ns_per_conn\": %.0f, \"shim_cpu_ns_per_conn\": %.0f, "
			      "\"native_samples\": ",
			t ? "," : "", threads[t], n, sm, median(ratio[t], rounds), ns, ss, e,
			median(cpu[0][t], rounds), median(cpu[1][t], rounds));
		jarray(cps[0][t], rounds, "%.0f");
		fprintf(json, ", \"shim_samples\": ");
		jarray(cps[1][t], rounds, "%.0f");
		fprintf(json, ", \"scaling_ratios\": ");
		jarray(eff[t], rounds, "%.3f");
		fputc('}', json);
	}
	fprintf(json, "\n  ]");
	double e2 = median(eff[1], rounds);
	target("c", "scaling 1 -> 2 threads, the shim's relative to native's", ">= 0.95", e2 >= 0.95,
	       "%.3f (CPU/conn: %.0f -> %.0f ns)", e2, median(cpu[1][0], rounds),
	       median(cpu[1][1], rounds));
}

/* ---- (d) memory ---- */

static void section_d(void)
{
	struct variant shim_v = { "shim", true, { 0 }, 0 };
	int runs = quick ? 2 : 7, hruns = quick ? 1 : 3, nsock = 10000, status;
	static const char *const keys[] = { "rss", "pss", "anon", "private_dirty" };
	double idle[2][4][16], lib[16], anon[16];
	double dn[8], ds[8], dlib[8], libafter[8];

	fprintf(stderr, "portbench: (d) memory\n");
	for (int r = 0; r < runs; r++)
		for (int k = 0; k < 2; k++) {
			int shim = r % 2 ? !k : k;
			char *out = in_netns(sc_idle, shim ? &shim_v : &native, &status);
			if (status)
				fail_run("idle", status, out);
			for (int i = 0; i < 4; i++)
				idle[shim][i][r] = kv(out, "", keys[i]);
			if (shim) {
				lib[r] = kv(out, "", "lib_rss");
				anon[r] = kv(out, "", "lib_anon");
			}
			free(out);
		}
	for (int r = 0; r < hruns; r++) {
		struct hold_args ha = { &native, nsock }, hb = { &shim_v, nsock };
		char *a = in_netns(sc_hold, &ha, &status);
		if (status)
			fail_run("hold", status, a);
		char *b = in_netns(sc_hold, &hb, &status);
		if (status)
			fail_run("hold (shim)", status, b);
		dn[r] = kv(a, "", "rss1") - kv(a, "", "rss0");
		ds[r] = kv(b, "", "rss1") - kv(b, "", "rss0");
		dlib[r] = kv(b, "", "lib_rss1") - kv(b, "", "lib_rss0");
		libafter[r] = kv(b, "", "lib_rss1");
		free(a);
		free(b);
	}
	double m[2][4];
	for (int k = 0; k < 2; k++)
		for (int i = 0; i < 4; i++)
			m[k][i] = median(idle[k][i], runs);
	double libm = median(lib, runs), anonm = median(anon, runs);
	double per = (median(ds, hruns) - median(dn, hruns)) / nsock;
	double per_lib = median(dlib, hruns) / nsock;
	printf("\n(d) memory (KiB; medians of %d idle runs each and %d runs holding %d connections)\n",
	       runs, hruns, nsock);
	printf("    idle process (smaps_rollup)   %10s %10s %10s\n", "native", "shim", "added");
	static const char *const label[] = { "Rss", "Pss", "Anonymous", "Private_Dirty" };
	for (int i = 0; i < 4; i++)
		printf("    %-29s %10.0f %10.0f %+10.0f\n", label[i], m[0][i] / 1024, m[1][i] / 1024,
		       (m[1][i] - m[0][i]) / 1024);
	printf("    the shim's own mappings (smaps, its PT_LOAD segments): Rss %.0f, of which anonymous (bss, data) %.0f\n",
	       libm / 1024, anonm / 1024);
	printf("    %d connections held: process Rss growth native %.0f, shim %.0f; the shim's mappings %.0f -> %.0f\n",
	       nsock, median(dn, hruns) / 1024, median(ds, hruns) / 1024,
	       (median(libafter, hruns) - median(dlib, hruns)) / 1024, median(libafter, hruns) / 1024);
	printf("    per socket: %.1f bytes (the shim's mappings), %.1f bytes (process growth, shim - native)\n",
	       per_lib, per);
	jopen("memory", '{');
	fprintf(json, "\n    \"idle_native\": {\"rss\": %.0f, \"pss\": %.0f, \"anonymous\": %.0f, \"private_dirty\": %.0f},"
		      "\n    \"idle_shim\": {\"rss\": %.0f, \"pss\": %.0f, \"anonymous\": %.0f, \"private_dirty\": %.0f},"
		      "\n    \"static_added_rss\": %.0f, \"shim_mappings_rss\": %.0f, \"shim_mappings_anonymous\": %.0f,"
		      "\n    \"held_sockets\": %d, \"growth_native\": %.0f, \"growth_shim\": %.0f,"
		      "\n    \"per_socket_bytes\": %.2f, \"per_socket_bytes_shim_mappings\": %.2f,"
		      "\n    \"idle_rss_native_samples\": ",
		m[0][0], m[0][1], m[0][2], m[0][3], m[1][0], m[1][1], m[1][2], m[1][3],
		m[1][0] - m[0][0], libm, anonm, nsock, median(dn, hruns), median(ds, hruns), per,
		per_lib);
	jarray(idle[0][0], runs, "%.0f");
	fprintf(json, ", \"idle_rss_shim_samples\": ");
	jarray(idle[1][0], runs, "%.0f");
	fprintf(json, "\n  }");
	target("d", "resident memory of the shim's own mappings, idle process", "<= 64 KiB",
	       libm <= 64 * 1024, "%.0f KiB (process Rss +%.0f KiB)", libm / 1024,
	       (m[1][0] - m[0][0]) / 1024);
	target("d/sock", "resident memory per held socket (no target)", "-", -1,
	       "%.1f bytes (process: %.1f)", per_lib, per);
}

/* ---- (e) port pressure ---- */

static void section_e(void)
{
	static const char *strat_env[] = { "PORTSHIM_STRATEGY=range", "PORTSHIM_STRATEGY=reuse",
					   "PORTSHIM_STRATEGY=exclusive" };
	struct variant v[4] = {
		native,
		{ "shim range/any", true, { strat_env[0], NULL }, 0 },
		{ "shim reuse/any", true, { strat_env[1], NULL }, 0 },
		{ "shim exclusive/any", true, { strat_env[2], NULL }, 0 },
	};
	/* Each holder's first connection is made before its timing starts:
	 * 1 + 9,999 = 10,000 per holder. */
	int runs = quick ? 1 : 3, status, holders = 2, per = 9999, more = 1000;
	double ms[4][8], p50[4][8], p99[4][8], hold_ms[4][8], ok[4][8];

	fprintf(stderr, "portbench: (e) port pressure, %d rounds\n", runs);
	for (int r = 0; r < runs; r++)
		for (int k = 0; k < 4; k++) {
			int i = r % 2 ? 3 - k : k;
			struct pressure_args a = { &v[i], holders, per, more };
			char *out = in_netns(sc_pressure, &a, &status);
			if (status != 0)
				fail_run(v[i].name, status, out);
			ms[i][r] = kv(out, "M:", "ns_total") / 1e6;
			p50[i][r] = kv(out, "M:", "p50_ns") / 1e3;
			p99[i][r] = kv(out, "M:", "p99_ns") / 1e3;
			ok[i][r] = kv(out, "M:", "ok");
			hold_ms[i][r] = (kv(out, "H0:", "ns_total") + kv(out, "H1:", "ns_total")) / 1e6;
			if (kv(out, "H0:", "ok") != per || kv(out, "H1:", "ok") != per)
				fail_run("holders", 0, out);
			free(out);
		}
	printf("\n(e) port pressure: 2 processes hold 10,000 connections each to 127.0.0.1:7002 (range 32768-60999),\n"
	       "    then a third opens 1,000 more (all under the same settings; acceptors in 2 other processes; %d rounds)\n",
	       runs);
	printf("    %-20s %14s %10s %10s %12s %16s\n", "variant", "1000 more (ms)", "p50 (us)",
	       "p99 (us)", "connected", "first 20000 (ms)");
	jopen("pressure", '{');
	fprintf(json, "\n    \"held\": %d, \"more\": %d, \"rounds\": %d, \"variants\": [",
		holders * (per + 1), more, runs);
	for (int i = 0; i < 4; i++) {
		double t = median(ms[i], runs);
		printf("    %-20s %14.1f %10.1f %10.1f %12.0f %16.0f\n", v[i].name, t,
		       median(p50[i], runs), median(p99[i], runs), median(ok[i], runs),
		       median(hold_ms[i], runs));
		fprintf(json, "%s\n      {\"variant\": \"%s\", \"more_ms\": %.2f, \"p50_us\": %.1f, "
			      "\"p99_us\": %.1f, \"connected\": %.0f, \"hold_ms\": %.1f, \"ratio\": %.3f, "
			      "\"samples_ms\": ",
			i ? "," : "", v[i].name, t, median(p50[i], runs), median(p99[i], runs),
			median(ok[i], runs), median(hold_ms[i], runs), t / median(ms[0], runs));
		jarray(ms[i], runs, "%.2f");
		fputc('}', json);
	}
	fprintf(json, "\n    ]\n  }");
	target("e", "1,000 more connects under pressure, shim range/any vs native (no target)", "-",
	       -1, "%.2f x native time", median(ms[1], runs) / median(ms[0], runs));
}

/* ---- main ---- */

static void loadavg(char *buf, size_t size)
{
	int fd = open("/proc/loadavg", O_RDONLY | O_CLOEXEC);
	ssize_t n = fd >= 0 ? read(fd, buf, size - 1) : -1;

	if (fd >= 0)
		close(fd);
	buf[n > 0 ? n : 0] = 0;
	/* the three averages only */
	char *p = buf;
	for (int i = 0; i < 3 && p; i++)
		p = strchr(p + 1, ' ');
	if (p)
		*p = 0;
}

static void machine(void)
{
	struct utsname u;
	char model[256] = "unknown", line[512];
	FILE *f = fopen("/proc/cpuinfo", "re");

	while (f && fgets(line, sizeof(line), f))
		if (strncmp(line, "model name", 10) == 0) {
			char *c = strchr(line, ':');
			if (c) {
				snprintf(model, sizeof(model), "%s", c + 2);
				model[strcspn(model, "\n")] = 0;
			}
			break;
		}
	if (f)
		fclose(f);
	uname(&u);
	printf("machine: %ld CPUs (%s), Linux %s %s\n", sysconf(_SC_NPROCESSORS_ONLN), model,
	       u.release, u.machine);
	jopen("machine", '{');
	fprintf(json, "\"cpus\": %ld, \"model\": \"%s\", \"kernel\": \"%s\", \"arch\": \"%s\"}",
		sysconf(_SC_NPROCESSORS_ONLN), model, u.release, u.machine);
}

int main(int argc, char **argv)
{
	const char *out_path = NULL, *sections = "abcde";
	int opt;

	while ((opt = getopt(argc, argv, "L:B:o:r:qs:V:v:")) != -1) {
		switch (opt) {
		case 'L': lib = optarg; break;
		case 'B': bindir = optarg; break;
		case 'o': out_path = optarg; break;
		case 'r': rounds = atoi(optarg); break;
		case 'q': quick = 1; break;
		case 's': sections = optarg; break;
		case 'V': version = optarg; break;
		case 'v': only = optarg; break;
		default:
			fprintf(stderr, "usage: portbench -L LIB -B BINDIR [-o JSON] [-r ROUNDS] [-q] [-s abcde] [-V VERSION] [-v VARIANTS]\n");
			return 2;
		}
	}
	if (!lib || !bindir)
		die("portbench: -L LIB and -B BINDIR are required");
	if (quick && rounds == 9)
		rounds = 2;
	if (rounds < 1 || rounds > 32)
		die("portbench: -r between 1 and 32");
	if (access(lib, R_OK) != 0)
		die("portbench: %s", lib);
	char *abs = realpath(lib, NULL);
	if (abs)
		lib = abs;
	snprintf(bench_net, sizeof(bench_net), "%s/bench_net", bindir);
	snprintf(bench_alloc, sizeof(bench_alloc), "%s/bench_alloc", bindir);
	setvbuf(stdout, NULL, _IOLBF, 0);

	char tmp[4200];
	snprintf(tmp, sizeof(tmp), "%s.tmp", out_path ? out_path : "/dev/null");
	json = out_path ? fopen(tmp, "we") : fopen("/dev/null", "we");
	if (!json)
		die("portbench: %s", tmp);
	fputc('{', json);
	json_first = 1;
	uint64_t t0 = now_ns();
	char load0[128], load1[128];
	loadavg(load0, sizeof(load0));
	machine();
	printf("library: %s (%s); rounds: %d%s\n", lib, version, rounds, quick ? " (quick)" : "");
	jopen("library", '"');
	fprintf(json, "%s\", \"version\": \"%s\", \"rounds\": %d, \"quick\": %s", lib, version, rounds,
		quick ? "true" : "false");
	if (strchr(sections, 'a'))
		section_a();
	if (strchr(sections, 'b'))
		section_b();
	if (strchr(sections, 'c'))
		section_c();
	if (strchr(sections, 'd'))
		section_d();
	if (strchr(sections, 'e'))
		section_e();

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
	double elapsed = (double)(now_ns() - t0) / 1e9;
	loadavg(load1, sizeof(load1));
	jopen("loadavg", '{');
	fprintf(json, "\"start\": \"%s\", \"end\": \"%s\"}", load0, load1);
	jopen("elapsed_seconds", ' ');
	fprintf(json, "%.1f\n}\n", elapsed);
	fclose(json);
	if (out_path && rename(tmp, out_path) != 0)
		die("portbench: %s", out_path);
	printf("\nelapsed: %.0f s; load average at start %s, at end %s%s%s\n", elapsed, load0, load1,
	       out_path ? "; results: " : "", out_path ? out_path : "");
	return 0;
}
