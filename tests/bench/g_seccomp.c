/* (g) the seccomp backend: connect + accept + close, one client thread,
 * under `portshim --backend seccomp` (the supervisor makes each connect on
 * its duplicate of the program's socket; portshim(1), BACKENDS) against
 * native, against the library with the same settings, and against the
 * floor of the mechanism: notify_floor, whose listener answers every
 * connect CONTINUE without looking at it (with the synchronous wake-ups the
 * supervisor asks for, and without).  Wall time: the program's CPU
 * time leaves out the supervisor's, which runs in another process. */
#include "portbench.h"

void section_g(void)
{
	enum { NV = 6 };
	static const struct variant v[NV] = {
		{ "floor (CONTINUE)", false, { 0 }, PIN_FLOOR },
		{ "floor, sync wake", false, { 0 }, PIN_FLOOR_SYNC },
		{ "preload range/any", true, { "PORTSHIM_STRATEGY=range", "PORTSHIM_CONNECT=any" }, 0 },
		{ "seccomp range/any", true, { "PORTSHIM_STRATEGY=range", "PORTSHIM_CONNECT=any" }, PIN_SUPERVISED },
		{ "preload range/odd", true, { "PORTSHIM_STRATEGY=range", "PORTSHIM_CONNECT=odd" }, 0 },
		{ "seccomp range/odd", true, { "PORTSHIM_STRATEGY=range", "PORTSHIM_CONNECT=odd" }, PIN_SUPERVISED },
	};
	static struct alternation alt; /* [0] wall, [1] CPU */
	bool run[NV] = { true, true, true, true, true, true };
	int n = quick ? 1000 : 2000, warm = 200;
	struct loop_run lr = { n, warm, NULL };

	fprintf(stderr, "portbench: (g) seccomp backend, connect+accept+close, %d per run, %d rounds\n",
		n, rounds);
	alternate(&alt, NV, v, run, loop_measure, &lr);
	double nw = median(alt.nat[0], alt.nnat);
	printf("\n(g) the seccomp backend: connect + accept + close on loopback, one client thread (%d per\n"
	       "    run, segments of 100, %d rounds; wall time, ratio over the native runs around each run)\n",
	       n, rounds);
	printf("    %-20s %12s %12s %14s %14s\n", "variant", "wall ns/conn", "ratio wall",
	       "vs preload", "added us/conn");
	printf("    %-20s %12.0f %12s\n", "native", nw, "1");
	jopen("seccomp", '{');
	fprintf(json, "\n    \"connections_per_run\": %d, \"rounds\": %d, \"native_wall_ns_median\": %.1f,"
		      "\n    \"variants\": [", n, rounds, nw);
	double worst = 0, floor = 0;
	for (int i = 0; i < NV; i++) {
		double sw = median(alt.shim[0][i], rounds), rw = median(alt.ratio[0][i], rounds);
		/* The seccomp rows follow the preload row they compare with. */
		double pre = v[i].pin == PIN_SUPERVISED ? median(alt.shim[0][i - 1], rounds) : sw;
		printf("    %-20s %12.0f %12.3f %14.3f %14.2f\n", v[i].name, sw, rw, sw / pre,
		       (sw - nw) / 1000.0);
		fprintf(json, "%s\n      {\"variant\": \"%s\", \"wall_ns_median\": %.1f, "
			      "\"wall_ratio_median\": %.4f, \"vs_preload\": %.4f, \"wall_ratios\": ",
			i ? "," : "", v[i].name, sw, rw, sw / pre);
		jarray(alt.ratio[0][i], rounds, "%.4f");
		fputc('}', json);
		if (v[i].pin == PIN_SUPERVISED && rw > worst)
			worst = rw;
		if (v[i].pin == PIN_FLOOR_SYNC)
			floor = rw; /* the supervisor's own mode */
	}
	fprintf(json, "\n    ]\n  }");
	printf("    the supervisor's own work: %.2f us/conn above the floor (%.3f x native)\n",
	       (worst - floor) * nw / 1000.0, floor);
	target("g", "connect ratio seccomp backend/native, strategy range (worst policy; wall)",
	       "<= 1.5", worst <= 1.5, "%.3f", worst);
}
