/* bench_alloc: the allocator alone against the kernel's own bind(0), at
 * the same occupancy of one parity.
 *
 *   bench_alloc [-r ROUNDS] [-m MS] [-l LO-HI] [OCCUPANCY...]
 *
 * The set: the odd ports of LO-HI (default 32768-60999, 14,116 ports: the
 * parity the 4.6+ kernel's bind(0) tries first there).  For each occupancy
 * (default 0 0.5 0.9 0.99 0.999) that fraction of the set, a random subset
 * (fixed seed), is held:
 *
 *   shim:   portmap_hold() on each; then, as the connect path does, a
 *           random start (rng_below, as plan_start()), portmap_claim(),
 *           portmap_release(): ns per claim + release, a loop of MS ms.
 *   kernel: a TCP socket bound to each held port (0.0.0.0:port, run in a
 *           network namespace of its own); then socket() untimed,
 *           bind(0.0.0.0:0) timed, close() untimed: ns per bind(0)
 *           (the clock's own cost subtracted).
 *
 * ROUNDS (default 3) alternating shim/kernel measurements; one line per
 * occupancy with the medians:
 *   occ=0.99 held=13975 free=141 shim_ns=... kernel_ns=... kernel_odd=N/M
 * kernel_odd: how many of the kernel's bind(0) got an odd (in-set) port.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/resource.h>

#include "bench.h"
#include "portmap.h"
#include "rng.h"

static struct portset set;
static struct portmap map;
static struct rng rng;
static unsigned members[PORTMAP_PORTS], nmembers;
static int held_fd[PORTMAP_PORTS];
static unsigned range_lo = 32768, range_hi = 60999;
static double budget_ms = 150;

static void shuffle(uint64_t seed)
{
	struct rng r;

	rng_seed(&r, seed);
	for (unsigned i = nmembers - 1; i > 0; i--) {
		unsigned j = rng_below(&r, i + 1);
		unsigned t = members[i];
		members[i] = members[j];
		members[j] = t;
	}
}

static double shim_round(void)
{
	struct portwindow win = portset_window(&set);
	unsigned span = (unsigned)win.hi - win.lo + 1u;
	uint64_t iters = 0, t0 = now_ns(), t1, stop = t0 + (uint64_t)(budget_ms * 1e6);

	do {
		for (int i = 0; i < 4096; i++) {
			unsigned start = win.lo + rng_below(&rng, span);
			int port = portmap_claim(&map, &set, win, start);
			if (port < 0)
				die("claim failed");
			portmap_release(&map, (unsigned)port);
		}
		iters += 4096;
		t1 = now_ns();
	} while (t1 < stop);
	return (double)(t1 - t0) / (double)iters;
}

static double clock_cost(void)
{
	uint64_t t0 = now_ns(), sum = 0;
	for (int i = 0; i < 100000; i++) {
		uint64_t a = now_ns();
		sum += now_ns() - a;
	}
	(void)t0;
	return (double)sum / 100000;
}

static double kernel_round(double clock_ns, unsigned *odd, unsigned *total)
{
	struct sockaddr_in any = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_ANY) };
	uint64_t sum = 0, n = 0, t_end = now_ns() + (uint64_t)(budget_ms * 1e6);

	do {
		int s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
		struct sockaddr_in got;
		socklen_t len = sizeof(got);
		if (s < 0)
			die("socket");
		uint64_t t0 = now_ns();
		int r = bind(s, (struct sockaddr *)&any, sizeof(any));
		uint64_t t1 = now_ns();
		if (r != 0)
			die("bind(0)");
		if (getsockname(s, (struct sockaddr *)&got, &len) == 0 && (ntohs(got.sin_port) & 1))
			(*odd)++;
		(*total)++;
		close(s);
		sum += t1 - t0;
		n++;
	} while (now_ns() < t_end || n < 20);
	return (double)sum / (double)n - clock_ns;
}

static void hold_kernel(unsigned k)
{
	for (unsigned i = 0; i < k; i++) {
		struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)members[i]),
					 .sin_addr.s_addr = htonl(INADDR_ANY) };
		int s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (s < 0 || bind(s, (struct sockaddr *)&a, sizeof(a)) != 0)
			die("hold port %u (%u held)", members[i], i);
		held_fd[i] = s;
	}
}

static void release_kernel(unsigned k)
{
	for (unsigned i = 0; i < k; i++)
		close(held_fd[i]);
}

int main(int argc, char **argv)
{
	double occ[16] = { 0, 0.5, 0.9, 0.99, 0.999 };
	int nocc = 5, rounds = 3, opt;

	while ((opt = getopt(argc, argv, "r:m:l:")) != -1) {
		switch (opt) {
		case 'r': rounds = atoi(optarg); break;
		case 'm': budget_ms = atof(optarg); break;
		case 'l':
			if (sscanf(optarg, "%u-%u", &range_lo, &range_hi) != 2)
				die("bad -l");
			break;
		default: return 2;
		}
	}
	if (optind < argc) {
		nocc = 0;
		for (int i = optind; i < argc && nocc < 16; i++)
			occ[nocc++] = atof(argv[i]);
	}
	if (rounds < 1 || rounds > 64)
		die("bad -r");

	enter_netns();
	char range[64];
	snprintf(range, sizeof(range), "%u %u", range_lo, range_hi);
	if (write_file("/proc/sys/net/ipv4/ip_local_port_range", range) != 0)
		die("ip_local_port_range");

	portset_clear(&set);
	portset_add_range(&set, range_lo, range_hi);
	portset_keep_residue(&set, 2, 1);
	for (unsigned p = set.first; p <= set.last; p++)
		if (portset_has(&set, p))
			members[nmembers++] = p;
	rng_seed(&rng, 12345);
	double clock_ns = clock_cost();

	for (int o = 0; o < nocc; o++) {
		unsigned k = (unsigned)(occ[o] * nmembers + 0.5);
		double shim[64], kern[64];
		unsigned odd = 0, total = 0;

		if (k >= nmembers)
			die("occupancy %g leaves no port free", occ[o]);
		shuffle(0x5eed + (uint64_t)o);
		memset(&map, 0, sizeof(map));
		for (unsigned i = 0; i < k; i++)
			portmap_hold(&map, members[i]);
		hold_kernel(k);
		for (int r = 0; r < rounds; r++) {
			if (r % 2 == 0) {
				shim[r] = shim_round();
				kern[r] = kernel_round(clock_ns, &odd, &total);
			} else {
				kern[r] = kernel_round(clock_ns, &odd, &total);
				shim[r] = shim_round();
			}
		}
		release_kernel(k);
		printf("occ=%g held=%u free=%u shim_ns=%.2f kernel_ns=%.1f kernel_odd=%u/%u clock_ns=%.1f\n",
		       occ[o], k, nmembers - k, median(shim, rounds), median(kern, rounds), odd, total,
		       clock_ns);
		fflush(stdout);
	}
	return 0;
}
