/* (f) churn through TIME_WAIT: connect/close cycles to 4 listeners, the
 * client closing first, so that its ports go through TIME_WAIT and come
 * back towards the same destinations; native against the shim under the
 * strategies range and reuse and the policies any, odd and kernel, and
 * the attempts per connect() from the shim's event log.
 *
 * The programs are the test helpers churn (the client: its rate by wall
 * and by CPU time) and sink (the acceptor, in a process of its own, which
 * closes its end once the client has closed and counts resets).  The rates
 * come from runs without the event log, which opens and writes its file
 * once per connect(); the attempts from one more run per setting with
 * PORTSHIM_LOG. */
#include <signal.h>

#include "portbench.h"

#define NDEST 4
#define NSET (2 * NPOL) /* strategies range and reuse (strategies[0], [1]) */

static const char *const ports[NDEST] = { "7201", "7202", "7203", "7204" };

struct churn_args {
	const struct variant *v;
	int cycles;
};

/* In the namespace: the sink on the 4 ports (native), churn under the
 * setting, then SIGTERM to the sink; prints churn's line and the sink's. */
static int sc_churn(const void *arg)
{
	const struct churn_args *a = arg;
	const char *sink_argv[] = { sink_prog, ports[0], ports[1], ports[2], ports[3], NULL };
	char n[16], line[512];
	int p[2], rc;

	snprintf(n, sizeof(n), "%d", a->cycles);
	if (pipe2(p, O_CLOEXEC) != 0)
		die("pipe");
	pid_t sink = spawn(sink_argv, &native, p[1]);
	close(p[1]);
	if (!read_line(p[0], line, sizeof(line)) || strcmp(line, "READY") != 0)
		die("sink did not start");
	const char *argv[] = { churn_prog, "-n", n, "127.0.0.1", ports[0], ports[1], ports[2],
			       ports[3], NULL };
	rc = wait_for(spawn(argv, a->v, 1));
	kill(sink, SIGTERM);
	if (read_line(p[0], line, sizeof(line)))
		printf("%s\n", line);
	else if (rc == 0)
		rc = 1;
	close(p[0]);
	if (wait_for(sink) != 0 && rc == 0)
		rc = 1;
	return rc;
}

/* One run; its output, or the end of portbench when a cycle failed. */
static char *churn_once(const struct variant *v, int cycles)
{
	struct churn_args a = { v, cycles };
	int status;
	char *out = in_netns(sc_churn, &a, &status);

	if (status != 0 || kv(out, "churn:", "connected") != cycles || kv(out, "sink:", "dup") != 0)
		fail_run(v->name, status, out);
	return out;
}

void churn_measure(const struct variant *v, const void *arg, double cost[2])
{
	const struct churn_ctx *ctx = arg;
	char *out = churn_once(v, ctx->cycles);
	long i = v == &native ? ctx->nset : v - ctx->set;

	cost[0] = kv(out, "churn:", "us") * 1e3 / ctx->cycles;
	cost[1] = kv(out, "churn:", "cpu_us") * 1e3 / ctx->cycles;
	ctx->resets[i] += kv(out, "sink:", "resets");
	if (ctx->odd)
		ctx->odd[i] += kv(out, "churn:", "odd");
	free(out);
}

/* Attempts per connect() of one run with the event log: count[0..3] 1 to
 * 4 attempts, count[4] 5 or more. */
struct attempts {
	long count[5], max, connects, extra; /* extra: attempts beyond the first */
};

static void churn_logged(const struct variant *v, int cycles, struct attempts *at)
{
	char path[4096], env_log[4200], line[1024];
	struct variant logged = *v;

	tmp_file("f", path, sizeof(path));
	snprintf(env_log, sizeof(env_log), "PORTSHIM_LOG=%s", path);
	logged.env[2] = env_log;
	free(churn_once(&logged, cycles));
	FILE *f = fopen(path, "re");
	if (!f)
		die("%s", path);
	memset(at, 0, sizeof(*at));
	while (fgets(line, sizeof(line), f)) {
		const char *p = strstr(line, "\"attempts\":");
		if (!strstr(line, "\"call\":\"connect\"") || !p)
			continue;
		long n = strtol(p + strlen("\"attempts\":"), NULL, 10);
		at->count[n < 1 ? 0 : n > 5 ? 4 : n - 1]++;
		at->max = n > at->max ? n : at->max;
		at->extra += n > 1 ? n - 1 : 0;
		at->connects++;
	}
	fclose(f);
	unlink(path);
	if (at->connects != cycles)
		die("portbench: (f) %s: %ld connects in the event log, %d cycles", v->name,
		    at->connects, cycles);
}

static double mean_attempts(const struct attempts *at)
{
	return at->connects ? (double)(at->connects + at->extra) / (double)at->connects : 0;
}

double rate_ratio(const double *cost_ratio, double *out)
{
	for (int r = 0; r < rounds; r++)
		out[r] = 1 / cost_ratio[r];
	return median(out, rounds);
}

void section_f(void)
{
	static char names[NSET][32], env_s[NSET][48], env_p[NSET][48];
	static struct alternation alt;
	struct variant v[NSET];
	struct attempts at[NSET];
	double resets[NSET + 1] = { 0 }, ratio[2][NSET][MAXR], rate[2][MAXR * (MAXV + 1)];
	bool run[NSET];
	int cycles = quick ? 5000 : 20000;

	for (int i = 0; i < NSET; i++) {
		const char *s = strategies[i / NPOL], *p = policies[i % NPOL];
		snprintf(names[i], sizeof(names[i]), "%s/%s", s, p);
		snprintf(env_s[i], sizeof(env_s[i]), "PORTSHIM_STRATEGY=%s", s);
		snprintf(env_p[i], sizeof(env_p[i]), "PORTSHIM_CONNECT=%s", p);
		v[i] = (struct variant){ names[i], true, { env_s[i], env_p[i], NULL }, 0 };
		run[i] = true;
	}
	fprintf(stderr, "portbench: (f) churn through TIME_WAIT, %d cycles per run, %d rounds\n",
		cycles, rounds);
	struct churn_ctx ctx = { cycles, v, NSET, resets, NULL };
	alternate(&alt, NSET, v, run, churn_measure, &ctx);
	fprintf(stderr, "portbench: (f) attempts, one run per setting with PORTSHIM_LOG\n");
	for (int i = 0; i < NSET; i++)
		churn_logged(&v[i], cycles, &at[i]);

	for (int m = 0; m < 2; m++)
		for (int k = 0; k < alt.nnat; k++)
			rate[m][k] = 1e9 / alt.nat[m][k];
	printf("\n(f) churn through TIME_WAIT: %d connect/close cycles per run to %d listeners on 127.0.0.1 (sink, another\n"
	       "    process), the client closing first; %d rounds, native and shim alternating; rate: cycles per second\n"
	       "    of wall time and of the client's CPU time (getrusage); ratio: median over rounds of the shim's rate /\n"
	       "    the native runs' just before and after it; attempts per connect: one more run per setting with\n"
	       "    PORTSHIM_LOG; resets: the sink's, over all the timed runs of the row\n",
	       cycles, NDEST, rounds);
	printf("    %-14s %8s %7s %8s %7s  %7s %6s %5s %4s %4s %4s %6s %7s %6s\n", "variant", "wall c/s",
	       "ratio", "CPU c/s", "ratio", "1 att.", "2", "3", "4", "5+", "max", "mean", "retries",
	       "resets");
	printf("    %-14s %8.0f %7s %8.0f %7s  %54s %6.0f\n", "native", median(rate[0], alt.nnat), "1",
	       median(rate[1], alt.nnat), "1", "", resets[NSET]);
	jopen("churn", '{');
	fprintf(json, "\n    \"cycles\": %d, \"destinations\": %d, \"rounds\": %d,"
		      "\n    \"native\": {\"wall_rate_median\": %.0f, \"cpu_rate_median\": %.0f, "
		      "\"resets\": %.0f, \"wall_ns_per_cycle_samples\": ",
		cycles, NDEST, rounds, median(rate[0], alt.nnat), median(rate[1], alt.nnat),
		resets[NSET]);
	jarray(alt.nat[0], alt.nnat, "%.1f");
	fprintf(json, ", \"cpu_ns_per_cycle_samples\": ");
	jarray(alt.nat[1], alt.nnat, "%.1f");
	fprintf(json, "},\n    \"shim\": [");
	double worst_mean = 0, odd[2][2] = { { 0, 0 }, { 0, 0 } }; /* [range/reuse][wall/CPU] */
	for (int i = 0; i < NSET; i++) {
		double r[2], rt[2], mean = mean_attempts(&at[i]);
		for (int m = 0; m < 2; m++) {
			r[m] = rate_ratio(alt.ratio[m][i], ratio[m][i]);
			rt[m] = 1e9 / median(alt.shim[m][i], rounds);
		}
		printf("    %-14s %8.0f %7.3f %8.0f %7.3f  %7ld %6ld %5ld %4ld %4ld %4ld %6.4f %7ld %6.0f\n",
		       v[i].name, rt[0], r[0], rt[1], r[1], at[i].count[0], at[i].count[1],
		       at[i].count[2], at[i].count[3], at[i].count[4], at[i].max, mean, at[i].extra,
		       resets[i]);
		fprintf(json, "%s\n      {\"variant\": \"%s\", \"strategy\": \"%s\", \"policy\": \"%s\", "
			      "\"wall_rate_median\": %.0f, \"wall_ratio_median\": %.4f, "
			      "\"cpu_rate_median\": %.0f, \"cpu_ratio_median\": %.4f, \"resets\": %.0f, "
			      "\"attempts\": {\"1\": %ld, \"2\": %ld, \"3\": %ld, \"4\": %ld, \"5+\": %ld, "
			      "\"max\": %ld, \"mean\": %.5f, \"beyond_first\": %ld}, \"wall_ratios\": ",
			i ? "," : "", v[i].name, strategies[i / NPOL], policies[i % NPOL], rt[0], r[0],
			rt[1], r[1], resets[i], at[i].count[0], at[i].count[1], at[i].count[2],
			at[i].count[3], at[i].count[4], at[i].max, mean, at[i].extra);
		jarray(ratio[0][i], rounds, "%.4f");
		fprintf(json, ", \"cpu_ratios\": ");
		jarray(ratio[1][i], rounds, "%.4f");
		fputc('}', json);
		worst_mean = mean > worst_mean ? mean : worst_mean;
		if (strcmp(policies[i % NPOL], "odd") == 0)
			for (int m = 0; m < 2; m++)
				odd[i / NPOL][m] = r[m];
	}
	fprintf(json, "\n    ]\n  }");
	printf("    (retries: attempts beyond the first: under range a refused connect(); under reuse a refused\n"
	       "     bind(), or a port passed over because a live socket holds its 4-tuple)\n");
	target("f-range", "churn rate ratio shim/native, odd/range (CPU time)", ">= 0.95",
	       odd[0][1] >= 0.95, "%.3f (wall %.3f)", odd[0][1], odd[0][0]);
	target("f-reuse", "churn rate ratio shim/native, odd/reuse (CPU time)", ">= 0.90",
	       odd[1][1] >= 0.90, "%.3f (wall %.3f)", odd[1][1], odd[1][0]);
	target("f-att", "churn attempts per connect, mean (worst of the 6 settings)", "<= 1.02",
	       worst_mean <= 1.02, "%.4f", worst_mean);
}
