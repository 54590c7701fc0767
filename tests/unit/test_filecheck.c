/* The verdicts of filecheck.c that need no privileges to test: the
 * StrictModes rule over any owner and mode, and the warning line of a
 * refused log file.  (The files themselves are tested as root in
 * tests/integration/files.bats.) */
#include <sys/stat.h>

#include "check.h"
#include "filecheck.h"

static struct stat node(mode_t type, mode_t perm, uid_t owner)
{
	struct stat st = { 0 };

	st.st_mode = type | perm;
	st.st_uid = owner;
	return st;
}

static const char *verdict(struct stat st, uid_t euid, bool file, bool parent)
{
	static char buf[256];

	return filecheck_strict(&st, euid, "X", file, parent, buf, sizeof(buf));
}

static void test_strict_file(void)
{
	CHECK(verdict(node(S_IFREG, 0644, 0), 0, true, false) == NULL);
	CHECK(verdict(node(S_IFREG, 0600, 1000), 1000, true, false) == NULL);
	CHECK(verdict(node(S_IFREG, 0644, 1000), 0, true, false) != NULL);
	CHECK_STR(verdict(node(S_IFREG, 0644, 65534), 0, true, false), "X is owned by uid 65534");
	CHECK_STR(verdict(node(S_IFREG, 0664, 0), 0, true, false),
		  "X is writable by group or others (mode 0664)");
	CHECK(verdict(node(S_IFREG, 0646, 0), 0, true, false) != NULL);
	CHECK_STR(verdict(node(S_IFIFO, 0600, 0), 0, true, false),
		  "X is a FIFO or pipe, not a regular file");
	CHECK(verdict(node(S_IFDIR, 0755, 0), 0, true, false) != NULL);
}

static void test_strict_directories(void)
{
	/* The file's own directory: nobody else may write to it, sticky or not. */
	CHECK(verdict(node(S_IFDIR, 0755, 0), 0, false, true) == NULL);
	CHECK_STR(verdict(node(S_IFDIR, 01777, 0), 0, false, true),
		  "X is writable by group or others (mode 1777)");
	CHECK(verdict(node(S_IFDIR, 0775, 0), 0, false, true) != NULL);
	CHECK(verdict(node(S_IFDIR, 0755, 1000), 0, false, true) != NULL);
	/* Further up, a sticky one is enough: others cannot rename what root
	 * owns in it. */
	CHECK(verdict(node(S_IFDIR, 01777, 0), 0, false, false) == NULL);
	CHECK(verdict(node(S_IFDIR, 0777, 0), 0, false, false) != NULL);
	CHECK(verdict(node(S_IFDIR, 01777, 1000), 0, false, false) != NULL);
}

static void test_sink_warning(void)
{
	char buf[512];
	struct line l = { buf, sizeof(buf), 0 };
	struct sink_check why = { .verdict = SINK_FOREIGN, .owner = 65534, .euid = 0 };

	sink_warning(&l, "PORTSHIM_LOG", "/var/log/x.jsonl", &why);
	CHECK_STR(buf, "portshim: PORTSHIM_LOG='/var/log/x.jsonl': not written: owned by uid "
		       "65534, neither this process's effective uid 0 nor root; the program runs "
		       "on without it\n");
	l.len = 0;
	why = (struct sink_check){ .verdict = SINK_NOT_REGULAR, .mode = S_IFDIR | 0755 };
	sink_warning(&l, "PORTSHIM_STATS", "/x", &why);
	CHECK_STR(buf, "portshim: PORTSHIM_STATS='/x': not written: a directory, not a regular "
		       "file; the program runs on without it\n");
	l.len = 0;
	why = (struct sink_check){ .verdict = SINK_SYMLINK };
	sink_warning(&l, "PORTSHIM_LOG", "/x", &why);
	CHECK(strstr(buf, "a symbolic link") != NULL);
}

int main(void)
{
	RUN(test_strict_file);
	RUN(test_strict_directories);
	RUN(test_sink_warning);
	return check_done();
}
