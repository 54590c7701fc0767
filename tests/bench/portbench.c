/* portbench: runs the benchmarks of tests/bench/README.md, native against
 * the shim, prints a table and writes the results as JSON.
 *
 *   portbench -L LIB -B BINDIR [-H HELPERS] [-o FILE.json] [-r ROUNDS] [-q] [-s SECTIONS]
 *             [-V VERSION] [-v VARIANTS]
 *
 * LIB: the libportshim.so to preload; BINDIR: where bench_net and
 * bench_alloc are; HELPERS: where the test programs churn and sink are
 * (build/helpers, needed by f and h); SECTIONS: any of "abcdefgh"
 * (default all): a connect + accept + close, b allocator vs bind(0), c
 * connections per second by threads, d memory, e port pressure, f churn
 * through TIME_WAIT, g the seccomp backend, h the bpf backend (root only;
 * skipped where it does not work); -q: fewer rounds (a smoke test);
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
 * Each section is in a file of its own (portbench.h).
 */
#include <sched.h>
#include <sys/utsname.h>

#include "portbench.h"

const char *lib, *only;
int rounds = 9, quick;
char bench_net[4096], bench_alloc[4096], churn_prog[4096], sink_prog[4096];
char portshim_cmd[4096], notify_floor[4096];
static const char *bindir, *helpers, *version = "unknown";

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
	const char *out_path = NULL, *sections = "abcdefgh";
	int opt, cpu = -1;

	while ((opt = getopt(argc, argv, "L:B:H:o:r:qs:V:v:c:")) != -1) {
		switch (opt) {
		case 'L': lib = optarg; break;
		case 'B': bindir = optarg; break;
		case 'H': helpers = optarg; break;
		case 'o': out_path = optarg; break;
		case 'r': rounds = atoi(optarg); break;
		case 'q': quick = 1; break;
		case 's': sections = optarg; break;
		case 'V': version = optarg; break;
		case 'v': only = optarg; break;
		case 'c': cpu = atoi(optarg); break;
		default:
			fprintf(stderr, "usage: portbench -L LIB -B BINDIR [-H HELPERS] [-o JSON] [-r ROUNDS] [-q] [-s abcdefgh]\n"
					"                 [-V VERSION] [-v VARIANTS] [-c CPU]\n");
			return 2;
		}
	}
	if (!lib || !bindir)
		die("portbench: -L LIB and -B BINDIR are required");
	if ((strchr(sections, 'f') || strchr(sections, 'h')) && !helpers)
		die("portbench: sections f and h need -H HELPERS (the directory of churn and sink)");
	if (quick && rounds == 9)
		rounds = 2;
	if (rounds < 1 || rounds > 32)
		die("portbench: -r between 1 and 32");
	/* -c: every run on one CPU (the children inherit it), native and shim
	 * alike.  On VMs whose vCPUs run at different speeds a run's ratio
	 * otherwise moves with the CPU it lands on.  Not for (c), which
	 * scales to two threads. */
	if (cpu >= 0) {
		cpu_set_t set;
		CPU_ZERO(&set);
		CPU_SET(cpu, &set);
		if (cpu >= CPU_SETSIZE || sched_setaffinity(0, sizeof(set), &set) != 0)
			die("portbench: -c %d", cpu);
		if (strchr(sections, 'c'))
			fprintf(stderr, "portbench: -c %d: (c) runs its two threads on one CPU\n", cpu);
	}
	if (access(lib, R_OK) != 0)
		die("portbench: %s", lib);
	char *abs = realpath(lib, NULL);
	if (abs)
		lib = abs;
	snprintf(bench_net, sizeof(bench_net), "%s/bench_net", bindir);
	snprintf(bench_alloc, sizeof(bench_alloc), "%s/bench_alloc", bindir);
	snprintf(notify_floor, sizeof(notify_floor), "%s/notify_floor", bindir);
	snprintf(churn_prog, sizeof(churn_prog), "%s/churn", helpers ? helpers : ".");
	snprintf(sink_prog, sizeof(sink_prog), "%s/sink", helpers ? helpers : ".");
	snprintf(portshim_cmd, sizeof(portshim_cmd), "%.*s/portshim",
		 (int)(strrchr(lib, '/') ? strrchr(lib, '/') - lib : 1), strrchr(lib, '/') ? lib : ".");
	setvbuf(stdout, NULL, _IOLBF, 0);

	char tmp[4200];
	snprintf(tmp, sizeof(tmp), "%s.tmp", out_path ? out_path : "/dev/null");
	json = out_path ? fopen(tmp, "we") : fopen("/dev/null", "we");
	if (!json)
		die("portbench: %s", tmp);
	fputc('{', json);
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
	if (strchr(sections, 'f'))
		section_f();
	if (strchr(sections, 'g'))
		section_g();
	if (strchr(sections, 'h'))
		section_h();

	targets_report();
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
