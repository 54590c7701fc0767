/* (d) memory: an idle process with and without the shim, and the growth
 * per held connection. */
#include "portbench.h"

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

/* A library just linked sits in the page cache unwritten, and its mapped
 * pages count as private and dirty until they reach the disk. */
static void library_to_disk(void)
{
	int fd = open(lib, O_RDONLY | O_CLOEXEC);

	if (fd >= 0) {
		fsync(fd);
		close(fd);
	}
}

void section_d(void)
{
	struct variant shim_v = { "shim", true, { 0 }, 0 };
	int runs = quick ? 2 : 7, hruns = quick ? 1 : 3, nsock = 10000, status;
	static const char *const keys[] = { "rss", "pss", "anon", "private_dirty" };
	double idle[2][4][16], lib[16], anon[16];
	double dn[8], ds[8], dlib[8], libafter[8];

	fprintf(stderr, "portbench: (d) memory\n");
	library_to_disk();
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
	double added = m[1][3] - m[0][3];
	target("d", "private memory added to an idle process (Private_Dirty)", "<= 64 KiB",
	       added <= 64 * 1024, "+%.0f KiB (the shim's own mappings: Rss %.0f KiB)",
	       added / 1024, libm / 1024);
	target("d/sock", "resident memory per held socket (no target)", "-", -1,
	       "%.1f bytes (process: %.1f)", per_lib, per);
}
