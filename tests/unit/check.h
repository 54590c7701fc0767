/* A tiny header-only TAP framework for the unit tests.
 *
 *   static void test_something(void) { CHECK(x == 1, "x is %d", x); }
 *   int main(void) { RUN(test_something); return check_done(); }
 *
 * Each RUN() prints "ok N - name" or "not ok N - name"; a failed CHECK prints
 * "# file:line: expression" and its message first, as TAP diagnostics.
 * check_done() prints the plan "1..N" and returns the exit status (1 when
 * anything failed).  CHECK() evaluates to whether the condition held, so a
 * loop can stop at its first mismatch: if (!CHECK(...)) return;
 *
 * Not thread-safe: threads collect results, the main thread checks them.
 */
#ifndef PORTSHIM_CHECK_H
#define PORTSHIM_CHECK_H

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int check_tests;         /* RUN()s so far */
static int check_failed_tests;  /* of those, how many failed */
static int check_failures;      /* failed CHECKs in the current test */

static void check_diag(const char *fmt, ...) __attribute__((format(printf, 1, 2), unused));
static void check_diag(const char *fmt, ...)
{
	va_list ap;

	fputs("# ", stdout);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	fputc('\n', stdout);
}

static bool check_that(bool ok, const char *expr, const char *file, int line,
		       const char *fmt, ...) __attribute__((format(printf, 5, 6), unused));
static bool check_that(bool ok, const char *expr, const char *file, int line,
		       const char *fmt, ...)
{
	va_list ap;

	if (ok)
		return true;
	check_failures++;
	printf("# %s:%d: failed: %s\n", file, line, expr);
	if (*fmt == ' ')
		fmt++; /* CHECK()'s padding */
	if (*fmt) {
		fputs("#   ", stdout);
		va_start(ap, fmt);
		vprintf(fmt, ap);
		va_end(ap);
		fputc('\n', stdout);
	}
	return false;
}

/* The message is optional: CHECK(x) or CHECK(x, "fmt", ...), fmt a string
 * literal.  The leading space keeps the format non-empty
 * (-Wformat-zero-length); check_that() skips it. */
#define CHECK(cond, ...) check_that(!!(cond), #cond, __FILE__, __LINE__, " " __VA_ARGS__)

/* Comparisons that show both values on failure. */
#define CHECK_INT(actual, expected)                                                     \
	({                                                                              \
		long long check_a_ = (long long)(actual), check_e_ = (long long)(expected); \
		check_that(check_a_ == check_e_, #actual " == " #expected, __FILE__,    \
			   __LINE__, "got %lld, expected %lld", check_a_, check_e_);    \
	})
#define CHECK_U64(actual, expected)                                                       \
	({                                                                                \
		unsigned long long check_a_ = (actual), check_e_ = (expected);            \
		check_that(check_a_ == check_e_, #actual " == " #expected, __FILE__,      \
			   __LINE__, "got %llu (0x%llx), expected %llu (0x%llx)", check_a_, \
			   check_a_, check_e_, check_e_);                                 \
	})
#define CHECK_STR(actual, expected)                                                    \
	({                                                                             \
		const char *check_a_ = (actual), *check_e_ = (expected);               \
		check_that(check_a_ && strcmp(check_a_, check_e_) == 0,                \
			   #actual " == " #expected, __FILE__, __LINE__,               \
			   "got \"%s\", expected \"%s\"", check_a_ ? check_a_ : "(null)", \
			   check_e_);                                                  \
	})
#define CHECK_PREFIX(actual, prefix)                                                   \
	({                                                                             \
		const char *check_a_ = (actual), *check_e_ = (prefix);                 \
		check_that(check_a_ && strncmp(check_a_, check_e_, strlen(check_e_)) == 0, \
			   #actual " starts with " #prefix, __FILE__, __LINE__,        \
			   "got \"%s\", expected a prefix \"%s\"",                     \
			   check_a_ ? check_a_ : "(null)", check_e_);                  \
	})
#define CHECK_CONTAINS(haystack, needle)                                               \
	({                                                                             \
		const char *check_a_ = (haystack), *check_e_ = (needle);               \
		check_that(check_a_ && strstr(check_a_, check_e_) != NULL,             \
			   #haystack " contains " #needle, __FILE__, __LINE__,         \
			   "\"%s\" does not contain \"%s\"",                           \
			   check_a_ ? check_a_ : "(null)", check_e_);                  \
	})

static void check_run(void (*fn)(void), const char *name) __attribute__((unused));
static void check_run(void (*fn)(void), const char *name)
{
	check_failures = 0;
	fn();
	check_tests++;
	if (check_failures) {
		check_failed_tests++;
		printf("not ok %d - %s\n", check_tests, name);
	} else {
		printf("ok %d - %s\n", check_tests, name);
	}
	fflush(stdout);
}

#define RUN(fn) check_run(fn, #fn)

static int check_done(void) __attribute__((unused));
static int check_done(void)
{
	printf("1..%d\n", check_tests);
	if (check_failed_tests)
		printf("# %d of %d tests failed\n", check_failed_tests, check_tests);
	fflush(stdout);
	return check_failed_tests ? 1 : 0;
}

/* splitmix64: the tests' own random stream, independent of shim/rng.h so
 * that a bug there cannot hide itself. */
static inline unsigned long long check_rand(unsigned long long *state)
{
	unsigned long long z = (*state += 0x9e3779b97f4a7c15ULL);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

/* Uniform-enough in [lo, hi] for test inputs. */
static inline unsigned check_rand_in(unsigned long long *state, unsigned lo, unsigned hi)
{
	return lo + (unsigned)(check_rand(state) % ((unsigned long long)hi - lo + 1));
}

/* The seed of a randomized test: UNIT_SEED from the environment (to replay
 * a failure), else `fixed`; printed either way. */
static unsigned long long check_seed(unsigned long long fixed) __attribute__((unused));
static unsigned long long check_seed(unsigned long long fixed)
{
	const char *env = getenv("UNIT_SEED");
	unsigned long long seed = env && *env ? strtoull(env, NULL, 0) : fixed;

	check_diag("seed 0x%llx (replay with UNIT_SEED=0x%llx)", seed, seed);
	return seed;
}

#endif
