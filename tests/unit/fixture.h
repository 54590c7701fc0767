/* The unit tests' runtime: one struct runtime configured from an
 * environment array, as the library configures its own at start.
 *
 *   #include "fixture.h"
 *   static void test_x(void)
 *   {
 *           if (!setup(ENV("PORTSHIM_RANGE=40000-40009", "PORTSHIM_RESERVED=")))
 *                   return;
 *           ... rt.connect, rt.map ...
 *   }
 *
 * A test that gives PORTSHIM_RANGE and PORTSHIM_RESERVED never reads /proc,
 * so the sets it expects are exact.  Includes check.h. */
#ifndef PORTSHIM_FIXTURE_H
#define PORTSHIM_FIXTURE_H

#include "check.h"
#include "runtime.h"

/* A descriptor table, many port sets (~300 KiB) and atomics: static
 * storage, never the stack. */
static struct runtime rt __attribute__((unused));
/* The message of the last configuration that failed. */
static char err[512] __attribute__((unused));

#define ENV(...) ((char *const[]){ __VA_ARGS__, NULL })

/* A window that narrows nothing (no IP_LOCAL_PORT_RANGE). */
static const struct portwindow ALL __attribute__((unused)) = { 1, 65535 };

/* runtime_configure() of r from envp, over whatever r holds (as a program
 * reconfigures): 0, or -1 with its one-line message in err.  Checks that
 * an error always has a message. */
static int configure(struct runtime *r, char *const *envp) __attribute__((unused));
static int configure(struct runtime *r, char *const *envp)
{
	memset(err, 0, sizeof(err));
	int rc = runtime_configure(r, envp, false, err, sizeof(err));
	CHECK(rc == 0 || err[0], "an error without a message");
	return rc;
}

/* rt from scratch, configured from envp: the previous configuration's walk
 * table given back, then a blank runtime (runtime_configure() keeps the old
 * bitmap, and the emulations' table and hint).  A failure is a failed check
 * that shows the message; returns whether it worked. */
static bool setup(char *const *envp) __attribute__((unused));
static bool setup(char *const *envp)
{
	static struct runtime blank;

	runtime_release(&rt);
	rt = blank;
	return CHECK(configure(&rt, envp) == 0, "%s", err);
}

#endif
