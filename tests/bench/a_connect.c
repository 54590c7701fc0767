/* (a) connect + accept + close, one client thread: native against the
 * shim under each strategy and policy, and against the floors of the
 * strategies (the program itself pinning its port, without the shim). */
#include "portbench.h"

void section_a(void)
{
	/* The shim's 9 settings, and the floors of strategies range and reuse:
	 * native, the program itself pinning each connect to a random port. */
	enum { NV = NSTRAT * NPOL + 2, NSHIM = NSTRAT * NPOL };
	static char names[NV][32], env_s[NV][48], env_p[NV][48];
	struct variant v[NV];
	static struct alternation alt; /* [0] wall, [1] CPU */
	int n = quick ? 1000 : 2000, warm = 200;

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
	struct loop_run lr = { n, warm, NULL };
	alternate(&alt, NV, v, run, loop_measure, &lr);
	double nw = median(alt.nat[0], alt.nnat), nc = median(alt.nat[1], alt.nnat);
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
	jarray(alt.nat[0], alt.nnat, "%.1f");
	fprintf(json, ", \"cpu_samples\": ");
	jarray(alt.nat[1], alt.nnat, "%.1f");
	fprintf(json, "},\n    \"shim\": [");
	double worst[2][2] = { { 0, 0 }, { 0, 0 } }; /* [strategy range/reuse][wall/cpu] */
	int emitted = 0;
	for (int i = 0; i < NV; i++) {
		if (!run[i])
			continue;
		double sw = median(alt.shim[0][i], rounds), sc = median(alt.shim[1][i], rounds);
		double rw = median(alt.ratio[0][i], rounds), rc = median(alt.ratio[1][i], rounds);
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
		jarray(alt.ratio[0][i], rounds, "%.4f");
		fprintf(json, ", \"cpu_ratios\": ");
		jarray(alt.ratio[1][i], rounds, "%.4f");
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
