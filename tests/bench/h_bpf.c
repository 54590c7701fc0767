/* (h) the bpf backend: `portshim --backend bpf` runs the command in a
 * cgroup made for it (under a test cgroup of ours) where a BPF program on
 * connect4/connect6 binds each connecting socket to a port of the policy
 * (strategy auto: SO_REUSEADDR and a 4-tuple lookup); portshim itself
 * drains the program's events every 100 ms.  Measured against native, as
 * (a) and (f): connect + accept + close under the policies any and odd
 * (and odd with the event log written to a file), beside (a)'s floor of
 * strategy reuse (the program binding its own port with SO_REUSEADDR, as
 * the BPF program does), the same loop with the socket options a client
 * commonly touches after its connect (bench_net loop -O), which pass
 * through the program's getsockopt and setsockopt hooks, and the churn of
 * (f) under odd.  The program runs in the client's own connect(), so the
 * client's CPU time includes it.  Root only; skipped where the backend
 * does not work (`portshim --check --backend bpf -- true`). */
#include <sys/stat.h>

#include "portbench.h"

/* The cgroup2 mount point, from /proc/self/mountinfo (octal escapes undone). */
static bool cgroup2_mount(char *buf, size_t size)
{
	FILE *f = fopen("/proc/self/mountinfo", "re");
	char line[4096], mnt[4096];
	bool found = false;

	while (!found && f && fgets(line, sizeof(line), f)) {
		const char *sep = strstr(line, " - ");
		/* ID PARENT MAJ:MIN ROOT MOUNTPOINT OPTIONS [OPTIONAL...] - FSTYPE ... */
		if (!sep || strncmp(sep + 3, "cgroup2 ", 8) != 0 ||
		    sscanf(line, "%*s %*s %*s %*s %4095s", mnt) != 1)
			continue;
		size_t n = 0;
		for (const char *p = mnt; *p && n + 1 < size; n++)
			if (p[0] == '\\' && p[1] >= '0' && p[1] <= '3' && p[2] && p[3]) {
				buf[n] = (char)((p[1] - '0') * 64 + (p[2] - '0') * 8 + (p[3] - '0'));
				p += 4;
			} else
				buf[n] = *p++;
		buf[n] = 0;
		found = true;
	}
	if (f)
		fclose(f);
	return found;
}

/* Whether `portshim --check --backend bpf -- true` passes; why not in why. */
static bool bpf_works(char *why, size_t size)
{
	const char *argv[] = { portshim_cmd, "--check", "--backend", "bpf", "--", "true", NULL };
	char line[512];
	int p[2];

	if (pipe2(p, O_CLOEXEC) != 0)
		die("pipe");
	pid_t pid = spawn(argv, &native, p[1]);
	close(p[1]);
	snprintf(why, size, "no reason given");
	while (read_line(p[0], line, sizeof(line)))
		if (strncmp(line, "backend ", 8) == 0) /* "backend      bpf: works here" or why not */
			snprintf(why, size, "%s", line + strspn(line + 8, " ") + 8);
	close(p[0]);
	int status = wait_for(pid);
	if (status != 0)
		snprintf(why + strlen(why), size - strlen(why), "; exit status %d", status);
	return status == 0;
}

static void rm_parent(void)
{
	if (bpf_parent[0] && rmdir(bpf_parent) != 0 && errno != ENOENT)
		fprintf(stderr, "portbench: (h) rmdir %s: %s\n", bpf_parent, strerror(errno));
	bpf_parent[0] = 0;
}

static void skip(const char *why)
{
	char quoted[800];

	printf("\n(h) the bpf backend: skipped (%s)\n", why);
	snprintf(quoted, sizeof(quoted), "%s", why);
	for (char *c = quoted; *c; c++)
		if (*c == '"' || *c == '\\' || (unsigned char)*c < 0x20)
			*c = '\'';
	jopen("bpf", '{');
	fprintf(json, "\"skipped\": \"%s\"}", quoted);
	target("h-conn", "connect ratio bpf backend/native, worst of any, odd (CPU time)", "<= 1.03",
	       -1, "skipped");
	target("h-churn", "churn rate ratio bpf backend/native, odd (CPU time)", ">= 0.95", -1,
	       "skipped");
}

/* The loop under the event log: its connect lines counted, then the file
 * emptied for the next run. */
struct logged {
	const char *path;
	long lines, odd, runs;
};

struct h_loop {
	struct loop_run lr;
	const struct variant *with_log;
	struct logged *log;
};

static void h_loop_measure(const struct variant *v, const void *arg, double cost[2])
{
	const struct h_loop *h = arg;
	char line[1024];

	loop_measure(v, &h->lr, cost);
	if (v != h->with_log)
		return;
	FILE *f = fopen(h->log->path, "re");
	if (!f)
		die("%s", h->log->path);
	while (fgets(line, sizeof(line), f))
		if (strstr(line, "\"call\":\"connect\"")) {
			h->log->lines++;
			h->log->odd += strstr(line, "\"parity\":\"odd\"") && strstr(line, "\"result\":\"ok\"");
		}
	fclose(f);
	if (truncate(h->log->path, 0) != 0)
		die("truncate %s", h->log->path);
	h->log->runs++;
}

void section_h(void)
{
	enum { NL = 4 };
	static char env_log[4200], log_path[4096];
	static struct alternation alt, oalt, calt;
	const struct variant v[NL] = {
		{ "bpf any", true, { "PORTSHIM_CONNECT=any" }, PIN_BPF },
		{ "bpf odd", true, { "PORTSHIM_CONNECT=odd" }, PIN_BPF },
		{ "bpf odd, --log", true, { "PORTSHIM_CONNECT=odd", env_log }, PIN_BPF },
		{ "no shim, bind(p)", false, { 0 }, 2 }, /* (a)'s floor of reuse */
	};
	const struct variant cv[1] = { { "bpf odd", true, { "PORTSHIM_CONNECT=odd" }, PIN_BPF } };
	bool run[NL] = { true, true, true, true };
	int n = quick ? 1000 : 2000, warm = 200, cycles = quick ? 5000 : 20000;
	char mnt[4000], why[600];

	if (geteuid() != 0) {
		skip("not root: the bpf backend needs root");
		return;
	}
	if (!cgroup2_mount(mnt, sizeof(mnt))) {
		skip("no cgroup2 hierarchy in /proc/self/mountinfo");
		return;
	}
	if (!bpf_works(why, sizeof(why))) {
		char msg[700];
		snprintf(msg, sizeof(msg), "portshim --check --backend bpf -- true: %s", why);
		skip(msg);
		return;
	}
	snprintf(bpf_parent, sizeof(bpf_parent), "%.3990s/portshim-bench-%d", mnt, (int)getpid());
	if (mkdir(bpf_parent, 0755) != 0) {
		snprintf(why, sizeof(why), "mkdir %.500s: %s", bpf_parent, strerror(errno));
		bpf_parent[0] = 0;
		skip(why);
		return;
	}
	atexit(rm_parent); /* also when a run fails (fail_run, die) */
	tmp_file("h", log_path, sizeof(log_path));
	snprintf(env_log, sizeof(env_log), "PORTSHIM_LOG=%s", log_path);

	fprintf(stderr, "portbench: (h) bpf backend under %s: connect+accept+close, %d per run, %d rounds\n",
		bpf_parent, n, rounds);
	struct logged log = { log_path, 0, 0, 0 };
	struct h_loop hl = { { n, warm, NULL }, &v[2], &log };
	alternate(&alt, NL, v, run, h_loop_measure, &hl);
	unlink(log_path);
	struct loop_run olr = { n, warm, "-O" };
	alternate(&oalt, 1, cv, run, loop_measure, &olr);
	if (log.odd != log.lines)
		die("portbench: (h) %ld of %ld logged connects not ok on an odd port under bpf odd",
		    log.lines - log.odd, log.lines);

	fprintf(stderr, "portbench: (h) bpf backend: churn, %d cycles per run, %d rounds\n", cycles,
		rounds);
	double resets[2] = { 0, 0 }, odd[2] = { 0, 0 }, ratio[2][MAXR], rate[2][MAXR * (MAXV + 1)];
	struct churn_ctx cctx = { cycles, cv, 1, resets, odd };
	alternate(&calt, 1, cv, run, churn_measure, &cctx);
	if (odd[0] != (double)cycles * rounds)
		die("portbench: (h) churn under bpf odd: %.0f of %d ports odd", odd[0], cycles * rounds);
	rm_parent();

	double nw = median(alt.nat[0], alt.nnat), nc = median(alt.nat[1], alt.nnat);
	printf("\n(h) the bpf backend (portshim --backend bpf, strategy auto, events drained every 100 ms)\n"
	       "    connect + accept + close on loopback, one client thread (%d per run, segments of 100,\n"
	       "    %d rounds; CPU: the client thread's, which includes the BPF program's work in its\n"
	       "    connect(); ratio: median over rounds of bpf / mean of the native runs around it)\n",
	       n, rounds);
	printf("    %-18s %12s %12s %12s %12s\n", "variant", "wall ns/conn", "ratio wall", "CPU ns/conn",
	       "ratio CPU");
	printf("    %-18s %12.0f %12s %12.0f %12s\n", "native", nw, "1", nc, "1");
	jopen("bpf", '{');
	fprintf(json, "\n    \"connect\": {\"connections_per_run\": %d, \"warmup\": %d, \"rounds\": %d, "
		      "\"native_wall_ns_median\": %.1f, \"native_cpu_ns_median\": %.1f,"
		      "\n      \"log_connect_lines\": %ld, \"log_runs\": %ld, \"variants\": [",
		n, warm, rounds, nw, nc, log.lines, log.runs);
	double worst[2] = { 0, 0 }; /* wall, CPU: any and odd, without the log */
	for (int i = 0; i < NL; i++) {
		double sw = median(alt.shim[0][i], rounds), sc = median(alt.shim[1][i], rounds);
		double rw = median(alt.ratio[0][i], rounds), rc = median(alt.ratio[1][i], rounds);
		printf("    %-18s %12.0f %12.3f %12.0f %12.3f\n", v[i].name, sw, rw, sc, rc);
		fprintf(json, "%s\n        {\"variant\": \"%s\", \"wall_ns_median\": %.1f, "
			      "\"wall_ratio_median\": %.4f, \"cpu_ns_median\": %.1f, "
			      "\"cpu_ratio_median\": %.4f, \"wall_ratios\": ",
			i ? "," : "", v[i].name, sw, rw, sc, rc);
		jarray(alt.ratio[0][i], rounds, "%.4f");
		fprintf(json, ", \"cpu_ratios\": ");
		jarray(alt.ratio[1][i], rounds, "%.4f");
		fputc('}', json);
		if (v[i].pin == PIN_BPF && &v[i] != hl.with_log) {
			worst[0] = rw > worst[0] ? rw : worst[0];
			worst[1] = rc > worst[1] ? rc : worst[1];
		}
	}
	fprintf(json, "\n      ]},");
	printf("    (--log: PORTSHIM_LOG, JSON lines written by portshim; %ld connect lines in %ld runs of\n"
	       "     %d connects, every one ok on an odd port; no shim, bind(p): the program itself binds\n"
	       "     each socket to a random port with SO_REUSEADDR before its connect(), as (a)'s floor)\n",
	       log.lines, log.runs, n + warm);
	double onw = median(oalt.nat[0], oalt.nnat), onc = median(oalt.nat[1], oalt.nnat);
	double osw = median(oalt.shim[0][0], rounds), osc = median(oalt.shim[1][0], rounds);
	double orw = median(oalt.ratio[0][0], rounds), orc = median(oalt.ratio[1][0], rounds);
	printf("    the same loop with getsockopt(SO_ERROR), setsockopt(TCP_NODELAY) and (SO_KEEPALIVE)\n"
	       "    after each connect (as Go's net.Dial), through the program's sockopt hooks:\n");
	printf("    %-18s %12.0f %12s %12.0f %12s\n", "native", onw, "1", onc, "1");
	printf("    %-18s %12.0f %12.3f %12.0f %12.3f\n", "bpf odd", osw, orw, osc, orc);
	fprintf(json, "\n    \"sockopts\": {\"native_wall_ns_median\": %.1f, \"native_cpu_ns_median\": %.1f, "
		      "\"wall_ns_median\": %.1f, \"wall_ratio_median\": %.4f, \"cpu_ns_median\": %.1f, "
		      "\"cpu_ratio_median\": %.4f},",
		onw, onc, osw, orw, osc, orc);

	for (int m = 0; m < 2; m++)
		for (int k = 0; k < calt.nnat; k++)
			rate[m][k] = 1e9 / calt.nat[m][k];
	double r[2], rt[2];
	for (int m = 0; m < 2; m++) {
		r[m] = rate_ratio(calt.ratio[m][0], ratio[m]);
		rt[m] = 1e9 / median(calt.shim[m][0], rounds);
	}
	printf("    churn through TIME_WAIT as (f): %d connect/close cycles per run to 4 listeners, %d rounds;\n"
	       "    rate: cycles per second of wall time and of the client's CPU time; every bpf port odd\n",
	       cycles, rounds);
	printf("    %-14s %8s %7s %8s %7s %7s\n", "variant", "wall c/s", "ratio", "CPU c/s", "ratio",
	       "resets");
	printf("    %-14s %8.0f %7s %8.0f %7s %7.0f\n", "native", median(rate[0], calt.nnat), "1",
	       median(rate[1], calt.nnat), "1", resets[1]);
	printf("    %-14s %8.0f %7.3f %8.0f %7.3f %7.0f\n", cv[0].name, rt[0], r[0], rt[1], r[1],
	       resets[0]);
	fprintf(json, "\n    \"churn\": {\"cycles\": %d, \"rounds\": %d, \"native_wall_rate_median\": %.0f, "
		      "\"native_cpu_rate_median\": %.0f, \"native_resets\": %.0f,"
		      "\n      \"variant\": \"%s\", \"wall_rate_median\": %.0f, \"wall_ratio_median\": %.4f, "
		      "\"cpu_rate_median\": %.0f, \"cpu_ratio_median\": %.4f, \"resets\": %.0f, \"wall_ratios\": ",
		cycles, rounds, median(rate[0], calt.nnat), median(rate[1], calt.nnat), resets[1],
		cv[0].name, rt[0], r[0], rt[1], r[1], resets[0]);
	jarray(ratio[0], rounds, "%.4f");
	fprintf(json, ", \"cpu_ratios\": ");
	jarray(ratio[1], rounds, "%.4f");
	fprintf(json, "}\n  }");
	target("h-conn", "connect ratio bpf backend/native, worst of any, odd (CPU time)", "<= 1.03",
	       worst[1] <= 1.03, "%.3f (wall %.3f)", worst[1], worst[0]);
	target("h-churn", "churn rate ratio bpf backend/native, odd (CPU time)", ">= 0.95",
	       r[1] >= 0.95, "%.3f (wall %.3f)", r[1], r[0]);
}
