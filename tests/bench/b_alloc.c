/* (b) the allocator alone (bench_alloc, linked with the library's own
 * portmap.o) against the kernel's bind(0) at the same occupancy. */
#include "portbench.h"

void section_b(void)
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
