/* Shared by portbench's files (portbench.c: options and the final table;
 * common.c: processes, namespaces, output; one file per section, a to h):
 * what a section needs to run programs native or under the shim, each time
 * in a network namespace of its own, and to report. */
#ifndef PORTSHIM_PORTBENCH_H
#define PORTSHIM_PORTBENCH_H

#include <stdbool.h>
#include <sys/types.h>

#include "bench.h"

/* Set from the command line (portbench.c). */
extern const char *lib;	 /* -L: the libportshim.so to preload */
extern const char *only; /* -v: the (a) variants to run, "range/any,reuse/odd" */
extern int rounds, quick;
extern char bench_net[4096], bench_alloc[4096], churn_prog[4096], sink_prog[4096];
extern char portshim_cmd[4096]; /* the portshim command beside the library (section g) */
extern char notify_floor[4096]; /* a CONTINUE-only supervisor (notify_floor.c, section g) */
extern char bpf_parent[4096];	/* the cgroup PIN_BPF's commands are made under (section h) */
extern FILE *json;

/* A setting to run a program under: without the shim, or preloaded with
 * up to three PORTSHIM_* variables. */
struct variant {
	const char *name;
	bool shim;
	const char *env[3];
	/* bench_net loop -R (1) / -B (2): native, the program pins the port;
	 * PIN_SUPERVISED: under `portshim --backend seccomp` (section g), with
	 * the settings but not preloaded; PIN_FLOOR: under notify_floor, the
	 * user-notification round trip alone (PIN_FLOOR_SYNC: notify_floor -s);
	 * PIN_BPF: under `portshim --backend bpf --cgroup-parent bpf_parent`
	 * (section h), with the settings, not preloaded. */
	int pin;
};
#define PIN_SUPERVISED (-1)
#define PIN_FLOOR (-2)
#define PIN_FLOOR_SYNC (-3) /* the same, with the supervisor's synchronous wake-ups */
#define PIN_BPF (-4)

extern const struct variant native;

/* The strategies and policies that (a) and (f) run under. */
#define NSTRAT 3
#define NPOL 3
extern const char *const strategies[NSTRAT], *const policies[NPOL];

/* ---- processes (common.c) ---- */

/* Starts argv under v (its environment: ours without LD_PRELOAD and
 * PORTSHIM_*, then v's), stdout to out_fd, stdin /dev/null. */
pid_t spawn(const char *const argv[], const struct variant *v, int out_fd);
/* Its exit status, or 128 + the signal. */
int wait_for(pid_t pid);
void stop(pid_t pid);
/* One line from fd (blocking), without the newline; false at EOF. */
bool read_line(int fd, char *buf, size_t size);
/* Runs scenario(arg) in a child in a network namespace of its own, and
 * returns what it printed (malloc'd); *status its exit status. */
char *in_netns(int (*scenario)(const void *), const void *arg, int *status);
/* The value of key= on the first line that starts with `tag` ("" for any);
 * -1 when absent. */
double kv(const char *text, const char *tag, const char *key);
/* `bench_net serve` on 127.0.0.1:port, once it said "ready". */
pid_t start_server(const char *port, const char *acceptors);
/* One run of `bench_net loop` (with flag, if not NULL) in a namespace of
 * its own; the values of keys[] it printed. */
void loop_once(const struct variant *v, int threads, int n, int warm, const char *flag, int nkeys,
	       const char *const keys[], double out[]);
__attribute__((noreturn)) void fail_run(const char *what, int status, const char *out);
/* An empty file of ours, $TMPDIR/portbench-TAG-XXXXXX (or /tmp/...). */
void tmp_file(const char *tag, char *path, size_t size);

/* For alternate(): one `bench_net loop` run of one thread, ctx a struct
 * loop_run; the median segment's wall and CPU ns per connection. */
struct loop_run {
	int n, warm;
	const char *flag; /* one more flag of bench_net loop, or NULL */
};
void loop_measure(const struct variant *v, const void *ctx, double cost[2]);

/* For alternate(): one run of churn against sink (f_churn.c), ctx a struct
 * churn_ctx; wall and CPU (getrusage) ns per cycle.  The sink's resets, and
 * when odd is not NULL the ports churn saw odd, are summed per setting:
 * index i for set[i], nset for native. */
struct churn_ctx {
	int cycles;
	const struct variant *set;
	int nset;
	double *resets, *odd; /* [nset + 1] */
};
void churn_measure(const struct variant *v, const void *ctx, double cost[2]);
/* Median over rounds of the rate ratio shim/native: the inverse of the
 * cost ratio (the native rate being that of the mean cost around it);
 * out[rounds] the per-round ratios. */
double rate_ratio(const double *cost_ratio, double *out);

/* ---- native and shim alternating (common.c) ---- */

#define MAXR 32 /* rounds */
#define MAXV 16 /* variants */

/* Per round: native, v[0], native, v[1], ..., native (every other round
 * the variants in the opposite order), so that each shim run lies between
 * two native runs; measure() yields two costs per run (wall, CPU: smaller
 * is faster).  ratio: the shim's cost over the mean of the native runs
 * just before and after it. */
struct alternation {
	int nv, nnat;
	double nat[2][MAXR * (MAXV + 1)]; /* [wall/CPU][every native run] */
	double shim[2][MAXV][MAXR], ratio[2][MAXV][MAXR];
};
void alternate(struct alternation *alt, int nv, const struct variant v[], const bool run[],
	       void (*measure)(const struct variant *v, const void *ctx, double cost[2]),
	       const void *ctx);

/* ---- output (common.c) ---- */

void jopen(const char *key, char bracket);
void jarray(const double *v, int n, const char *fmt);
/* A line of the final table: met 1, missed 0, -1 no target or not run. */
__attribute__((format(printf, 5, 6))) void target(const char *id, const char *what,
						  const char *goal, int met, const char *fmt, ...);
/* The targets so far, on stdout and as the JSON array "targets". */
void targets_report(void);

/* ---- the sections, one file each ---- */

void section_a(void); /* a_connect.c: connect + accept + close, one thread */
void section_b(void); /* b_alloc.c: the allocator vs bind(0) */
void section_c(void); /* c_threads.c: connections per second by threads */
void section_d(void); /* d_memory.c: memory */
void section_e(void); /* e_pressure.c: port pressure */
void section_f(void); /* f_churn.c: churn through TIME_WAIT */
void section_g(void); /* g_seccomp.c: the seccomp backend's connect cost */
void section_h(void); /* h_bpf.c: the bpf backend: connect cost and churn */

#endif
