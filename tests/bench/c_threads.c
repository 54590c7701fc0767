/* (c) connections per second by threads, native and the shim. */
#include "portbench.h"

void section_c(void)
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
				loop_once(shim ? &shim_v : &native, threads[t], total / threads[t], 100, NULL, 2,
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
