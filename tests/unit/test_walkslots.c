/* The per-destination walk of the random order (candidates.h): the rank and
 * select of a port set it stands on; a destination gets every allowed port
 * once before a 4-tuple comes back; starts are uniform over the allowed set
 * across destinations (a chi-square test); a seed repeats a run; a 4-tuple
 * clash towards one destination does not push another off that port; a run
 * of taken 4-tuples ahead costs a jump or two, not its length; destinations
 * that hash to one counter slot do not share its count. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "candidates.h"
#include "fixture.h"

static void test_rank_select(void)
{
	static struct portset set;
	unsigned long long state = check_seed(0x7a11c0de);

	for (int round = 0; round < 20; round++) {
		portset_clear(&set);
		if (round % 2) {
			/* Scattered members: every count and position within a word. */
			for (int i = 0; i < 20000; i++) {
				unsigned port = check_rand_in(&state, 1, 65535);
				portset_add_range(&set, port, port);
			}
		} else {
			for (int i = 0; i < 50; i++) {
				unsigned lo = check_rand_in(&state, 1, 65535);
				portset_add_range(&set, lo, lo + check_rand_in(&state, 0, 300));
			}
			portset_keep_residue(&set, check_rand_in(&state, 1, 5), 0);
		}
		portset_index(&set);
		uint32_t below = 0;
		bool ok = true;
		for (unsigned port = 1; port < PORTMAP_PORTS && ok; port++) {
			ok &= CHECK_INT(portset_rank(&set, port), below);
			if (portset_has(&set, port)) {
				ok &= CHECK_INT(portset_select(&set, below), port);
				below++;
			}
		}
		CHECK_INT(below, set.count);
		CHECK_INT(portset_rank(&set, PORTMAP_PORTS), set.count);
	}
}

static struct sockaddr_in dest(uint32_t addr, uint16_t port)
{
	return (struct sockaddr_in){ .sin_family = AF_INET, .sin_port = htons(port),
				     .sin_addr.s_addr = htonl(addr) };
}

static const struct sockaddr_storage wildcard = { .ss_family = AF_INET };

/* One connect() towards `to` that takes the first port offered (or, with
 * `clash`, is told that port's 4-tuple is taken and takes the next). */
static int connect_once(const struct sockaddr_in *to, bool clash, unsigned *attempts)
{
	struct flow flow = { .dst = (const struct sockaddr *)to, .dst_len = sizeof(*to),
			     .local = &wildcard, .type = SOCK_STREAM, .shares = true };
	struct candidates c;

	candidates_begin(&c, &rt, &rt.connect, ALL, &flow);
	int port = candidates_next(&c);
	if (port >= 0 && clash) {
		candidates_clashed(&c, (unsigned)port);
		port = candidates_next(&c);
	}
	if (port >= 0)
		candidates_taken(&c, (unsigned)port);
	if (attempts)
		*attempts = c.attempts;
	return port;
}

static void test_one_destination_walks_the_whole_set(void)
{
	static bool seen[PORTMAP_PORTS];
	struct sockaddr_in to = dest(0x7f000001, 5000);

	if (!setup(ENV("PORTSHIM_RANGE=40000-40999", "PORTSHIM_RESERVED=40100-40199",
		       "PORTSHIM_CONNECT=odd")))
		return;
	memset(seen, 0, sizeof(seen));
	int first = connect_once(&to, false, NULL), port = first;
	/* 450 odd ports: each once, in the set's order, then the first again. */
	for (int i = 1; i <= 450; i++) {
		if (!CHECK(port % 2 == 1 && (port < 40100 || port > 40199) && !seen[port],
			   "call %d: port %d", i, port))
			return;
		seen[port] = true;
		port = connect_once(&to, false, NULL);
	}
	CHECK_INT(port, first);
}

/* A clash moves the walk on without remembering the port: the destination
 * that clashed goes on after it, and another one still gets that port. */
static void test_clash_is_per_destination(void)
{
	struct sockaddr_in a = dest(0x7f000001, 5000), b = dest(0x7f000002, 5000);
	unsigned attempts;

	if (!setup(ENV("PORTSHIM_RANGE=40000-40999", "PORTSHIM_RESERVED=",
		       "PORTSHIM_CONNECT=odd", "PORTSHIM_SEED=11")))
		return;
	int port = connect_once(&a, true, &attempts);
	CHECK_INT(attempts, 2);
	for (unsigned p = 40001; p <= 40999; p += 2)
		if (!CHECK(!(atomic_load(&rt.map.refused[p / 64]) & (UINT64_C(1) << (p % 64))),
			   "port %u remembered as refused", p))
			break;
	/* Once a's connection is closed, b's walk reaches that port. */
	portmap_release(&rt.map, (unsigned)port);
	bool reached = false;
	for (int i = 0; i < 500 && !reached; i++)
		reached = connect_once(&b, false, NULL) == port;
	CHECK(reached, "destination b never got port %d, which clashed towards a", port);
}

/* First ports of 45,000 destinations over the 450 allowed ports (a reserved
 * block in the middle): Pearson's chi-square with 449 degrees of freedom
 * stays under 650 (p ~ 2e-9) when they are uniform; a start drawn in port
 * space instead would favour 40201, the port after the block, 100 times. */
static void test_starts_uniform_across_destinations(void)
{
	static unsigned hits[PORTMAP_PORTS];

	if (!setup(ENV("PORTSHIM_RANGE=40000-40999", "PORTSHIM_RESERVED=40100-40199",
		       "PORTSHIM_CONNECT=odd")))
		return;
	memset(hits, 0, sizeof(hits));
	unsigned n = 45000;
	for (unsigned i = 0; i < n; i++) {
		struct sockaddr_in to = dest(0x0a000000 + i / 7, (uint16_t)(1000 + i % 7));
		int port = connect_once(&to, false, NULL);
		if (!CHECK(port > 0))
			return;
		hits[port]++;
	}
	double expected = n / 450.0, chi2 = 0;
	for (unsigned p = 40000; p <= 40999; p++) {
		if (!portset_has(rt.connect.pass[0], p))
			continue;
		double d = hits[p] - expected;
		chi2 += d * d / expected;
	}
	check_diag("chi-square %.1f over 449 degrees of freedom", chi2);
	CHECK(chi2 < 650, "chi-square %.1f", chi2);
}

/* 2,000 destinations connected to in turn, 8 rounds, policy any: many
 * of them hash to a counter slot another one uses.  Two destinations taking
 * turns on one counter would each get every other port of its walk, all of
 * one parity: the skew the policy is there to undo.  A destination with a
 * slot of its own alternates; one that shares gets random ports, all of one
 * parity 1 time in 128. */
static void test_shared_slot_keeps_both_parities(void)
{
	static int ports[2000][8];
	unsigned one_parity = 0;

	if (!setup(ENV("PORTSHIM_RANGE=40000-40999", "PORTSHIM_RESERVED=",
		       "PORTSHIM_CONNECT=any")))
		return;
	for (int round = 0; round < 8; round++)
		for (uint32_t d = 0; d < 2000; d++) {
			struct sockaddr_in to = dest(0x0a000000 + d, 443);
			ports[d][round] = connect_once(&to, false, NULL);
		}
	for (int d = 0; d < 2000; d++) {
		int odd = 0;
		for (int round = 0; round < 8; round++)
			odd += ports[d][round] & 1;
		one_parity += odd == 0 || odd == 8;
	}
	check_diag("%u of 2000 destinations got 8 ports of one parity", one_parity);
	CHECK(one_parity <= 40, "%u of 2000 destinations got 8 ports of one parity", one_parity);
}

/* Pre-forked workers connecting to one destination: children forked one
 * after another share the walk, so their ports are the walk's next ones,
 * never one another's. */
static void test_forked_siblings_share_the_walk(void)
{
	struct sockaddr_in to = dest(0x7f000001, 8080);
	int fds[2];

	if (!setup(ENV("PORTSHIM_RANGE=40000-40999", "PORTSHIM_RESERVED=",
		       "PORTSHIM_CONNECT=odd")) || !CHECK(pipe(fds) == 0))
		return;
	int first = connect_once(&to, false, NULL);
	for (int child = 0; child < 8; child++) {
		pid_t pid = fork();
		if (pid == 0) {
			int port = connect_once(&to, false, NULL);
			_exit(write(fds[1], &port, sizeof(port)) == sizeof(port) ? 0 : 1);
		}
		int status = -1;
		CHECK(pid > 0 && waitpid(pid, &status, 0) == pid && status == 0);
	}
	bool seen[8] = { false };
	for (int i = 0; i < 8; i++) {
		int port = -1;
		CHECK(read(fds[0], &port, sizeof(port)) == sizeof(port));
		/* The walk's next 8 odd ports after the parent's (wrapping). */
		int step = ((port - first + 1000) % 1000) / 2;
		if (CHECK(step >= 1 && step <= 8 && !seen[step - 1], "child got %d after %d", port,
			  first))
			seen[step - 1] = true;
	}
	close(fds[0]);
	close(fds[1]);
}

/* Rank of an odd port of 40000-40999 (500 of them). */
static unsigned odd_rank(int port)
{
	return (unsigned)(port - 40001) / 2;
}

/* Four destinations in turn (a load balancer's backends), in 3,000
 * processes with secrets of their own: each destination walks the next
 * allowed port every time, in every process, because of its two slots it
 * nearly always finds one no other destination holds (a process where one
 * of the four does not: about 2 in a million).  With one slot each, two of
 * the four would share one in about 1 process in 700. */
static void test_few_destinations_keep_their_walks(void)
{
	unsigned broken = 0;

	for (int process = 0; process < 3000; process++) {
		char seed[32];
		int last[4] = { 0 };

		snprintf(seed, sizeof(seed), "PORTSHIM_SEED=%d", 1000 + process);
		if (!setup(ENV("PORTSHIM_RANGE=40000-40999", "PORTSHIM_RESERVED=",
			       "PORTSHIM_CONNECT=odd", seed)))
			return;
		bool walked = true;
		for (int round = 0; round < 10; round++)
			for (int d = 0; d < 4; d++) {
				struct sockaddr_in to = dest(0x7f000001, (uint16_t)(8001 + d));
				int port = connect_once(&to, false, NULL);
				walked &= round == 0 || (odd_rank(last[d]) + 1) % 500 == odd_rank(port);
				last[d] = port;
			}
		broken += !walked;
	}
	check_diag("%u of 3000 processes had a destination off its walk", broken);
	CHECK(broken == 0, "%u of 3000 processes had a destination off its walk", broken);
}

/* Another process walking towards the same destination has taken the 200
 * ports after this one's last: the walk jumps out of that run (each jump
 * lands in it with probability 0.4), gets a port outside it, and its
 * counter follows, so the next connect takes the port after that one.
 * Stepping through the run would cost 201 attempts. */
static void test_jump_over_another_walk(void)
{
	unsigned total = 0;

	if (!setup(ENV("PORTSHIM_RANGE=40000-40999", "PORTSHIM_RESERVED=",
		       "PORTSHIM_CONNECT=odd", "PORTSHIM_SEED=5")))
		return;
	for (uint32_t d = 0; d < 100; d++) {
		struct sockaddr_in to = dest(0x0a000001 + d, 443);
		struct flow flow = { .dst = (const struct sockaddr *)&to, .dst_len = sizeof(to),
				     .local = &wildcard, .type = SOCK_STREAM, .shares = true };
		struct candidates c;
		int last = connect_once(&to, false, NULL), port;

		candidates_begin(&c, &rt, &rt.connect, ALL, &flow);
		while ((port = candidates_next(&c)) >= 0 &&
		       (odd_rank(port) + 500 - odd_rank(last)) % 500 - 1 < 200)
			candidates_clashed(&c, (unsigned)port);
		if (!CHECK(port > 0 && port % 2 == 1, "destination %u: port %d", d, port))
			return;
		candidates_taken(&c, (unsigned)port);
		total += c.attempts;
		int next = connect_once(&to, false, NULL);
		if (!CHECK(odd_rank(next) == (odd_rank(port) + 1) % 500,
			   "destination %u: %d after %d, the walk did not follow its jump", d, next,
			   port))
			return;
	}
	check_diag("%u attempts for 100 connects past a run of 200 taken ports", total);
	CHECK(total <= 350, "%u attempts for 100 connects", total);
}

static void run_calls(char *seed, int *ports, int n)
{
	if (!setup(ENV("PORTSHIM_RANGE=32768-60999", "PORTSHIM_CONNECT=any", seed)))
		return;
	for (int i = 0; i < n; i++) {
		struct sockaddr_in to = dest(0x7f000001 + (uint32_t)(i % 3), 80);
		ports[i] = connect_once(&to, i % 5 == 0, NULL);
	}
}

static void test_seed_repeats_a_run(void)
{
	int a[60], b[60], c[60];

	char seed42[] = "PORTSHIM_SEED=42", seed43[] = "PORTSHIM_SEED=43";

	run_calls(seed42, a, 60);
	run_calls(seed42, b, 60);
	run_calls(seed43, c, 60);
	CHECK(memcmp(a, b, sizeof(a)) == 0, "the same seed gave other ports");
	CHECK(memcmp(a, c, sizeof(a)) != 0, "another seed gave the same ports");
}

int main(void)
{
	RUN(test_rank_select);
	RUN(test_one_destination_walks_the_whole_set);
	RUN(test_clash_is_per_destination);
	RUN(test_starts_uniform_across_destinations);
	RUN(test_seed_repeats_a_run);
	RUN(test_jump_over_another_walk);
	RUN(test_forked_siblings_share_the_walk);
	RUN(test_shared_slot_keeps_both_parities);
	RUN(test_few_destinations_keep_their_walks);
	return check_done();
}
