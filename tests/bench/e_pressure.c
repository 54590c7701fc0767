/* (e) port pressure: two processes hold 20,000 connections to one
 * destination, then a third, fresh one times 1,000 more. */
#include "portbench.h"

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

void section_e(void)
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
