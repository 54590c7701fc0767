/* rng.h across fork(): siblings forked one after another with no draw in
 * between get streams of their own; with a seed, the same ones every time
 * (seed + position + which child); a child that ran no atfork handler (a
 * raw clone()) notices at its first draw. */
#include <signal.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check.h"
#include "rng.h"

#define DRAWS 8

static struct rng rng;

struct stream {
	uint64_t v[DRAWS];
};

static bool same(const struct stream *a, const struct stream *b)
{
	return memcmp(a, b, sizeof(*a)) == 0;
}

static void draw(struct stream *s)
{
	for (int i = 0; i < DRAWS; i++)
		s->v[i] = rng_next(&rng);
}

/* A child's first draws, read back by the parent.  `raw`: clone() with no
 * handler at all; else fork() with what init.c's atfork handlers do. */
static bool child_stream(bool raw, struct stream *s)
{
	int fds[2];
	uint64_t number = 0;

	if (pipe(fds) != 0)
		return false;
	if (!raw)
		number = rng_count_fork(&rng);
	pid_t pid = raw ? (pid_t)syscall(SYS_clone, SIGCHLD, 0, 0, 0, 0) : fork();
	if (pid == 0) {
		struct stream mine;
		if (!raw)
			rng_child(&rng, number);
		draw(&mine);
		_exit(write(fds[1], &mine, sizeof(mine)) == sizeof(mine) ? 0 : 1);
	}
	close(fds[1]);
	bool ok = pid > 0 && read(fds[0], s, sizeof(*s)) == sizeof(*s);
	int status = 0;
	if (pid > 0)
		waitpid(pid, &status, 0);
	close(fds[0]);
	return ok && WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

/* Four siblings forked back to back, then the parent's own next draws:
 * five different streams. */
static void siblings(bool raw, struct stream out[5])
{
	for (int i = 0; i < 4; i++)
		CHECK(child_stream(raw, &out[i]), "child %d", i);
	draw(&out[4]);
	for (int i = 0; i < 5; i++)
		for (int j = i + 1; j < 5; j++)
			CHECK(!same(&out[i], &out[j]), "streams %d and %d are the same (raw=%d)", i, j,
			      raw);
}

static void test_forked_siblings_seeded_are_distinct_and_reproducible(void)
{
	struct stream a[5], b[5];

	rng_seed(&rng, 42);
	rng_track_forks(&rng, true, forkwipe_map());
	CHECK(rng.wipe != NULL, "no wipe-on-fork page (Linux < 4.14?)");
	rng_next(&rng);
	siblings(false, a);

	rng_seed(&rng, 42);
	rng_track_forks(&rng, true, forkwipe_map());
	rng_next(&rng);
	siblings(false, b);
	for (int i = 0; i < 5; i++)
		CHECK(same(&a[i], &b[i]), "seed 42, sibling %d: a different stream on the second run", i);

	/* Another position in the parent's stream: other children. */
	rng_seed(&rng, 42);
	rng_track_forks(&rng, true, forkwipe_map());
	siblings(false, b);
	CHECK(!same(&a[0], &b[0]), "the position in the parent's stream does not count");
}

static void test_forked_siblings_unseeded_get_fresh_entropy(void)
{
	struct stream a[5], b[5];

	rng_seed(&rng, 42);
	rng_track_forks(&rng, false, forkwipe_map());
	siblings(false, a);
	rng_seed(&rng, 42);
	rng_track_forks(&rng, false, forkwipe_map());
	siblings(false, b);
	CHECK(!same(&a[0], &b[0]), "without a seed, the first child's stream repeats");
}

static void test_raw_clone_children_notice(void)
{
	struct stream s[5];

	rng_seed(&rng, 7);
	rng_track_forks(&rng, true, forkwipe_map());
	rng_next(&rng);
	siblings(true, s);
	/* The parent's page is untouched: its own stream goes on. */
	CHECK(atomic_load(&rng.wipe->armed) == 1, "the parent's marker is %d",
	      atomic_load(&rng.wipe->armed));
}

/* Without rng_track_forks() (the benchmarks, the unit tests of other
 * modules) the stream is the plain counter one. */
static void test_untracked_stream_is_pure(void)
{
	struct rng a, b;

	rng_seed(&a, 99);
	rng_seed(&b, 99);
	for (int i = 0; i < 100; i++)
		if (!CHECK(rng_next(&a) == rng_next(&b), "draw %d", i))
			return;
	CHECK(a.wipe == NULL && !a.fixed, "rng_seed left tracking on");
}

int main(void)
{
	RUN(test_forked_siblings_seeded_are_distinct_and_reproducible);
	RUN(test_forked_siblings_unseeded_get_fresh_entropy);
	RUN(test_raw_clone_children_notice);
	RUN(test_untracked_stream_is_pure);
	return check_done();
}
