/* PORTSHIM_CONTROL (control.h): a control file switches the connect and
 * bind plans of a running program: what each kind of file makes of them,
 * that a bad file keeps the plans in force and says so once, in the log
 * and on stderr, that the file is looked at once a second at most and never
 * while another thread is at it, the pool's limit, and errno kept. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "control.h"
#include "fixture.h"

static char dir[64], control[128], logfile[128], errfile[128];
static int saved_stderr = -1;
static struct sockaddr_in dst = { .sin_family = AF_INET };

/* rt with connect and bind as given, the control file and the log in the
 * test's directory, stderr going to errfile (emptied); no control file
 * yet. */
static bool start(const char *connect, const char *bind)
{
	char c[64], b[64], ctl[160], log[160];

	unlink(control);
	unlink(logfile);
	dst.sin_port = htons(443);
	snprintf(c, sizeof(c), "PORTSHIM_CONNECT=%s", connect);
	snprintf(b, sizeof(b), "PORTSHIM_BIND=%s", bind);
	snprintf(ctl, sizeof(ctl), "PORTSHIM_CONTROL=%s", control);
	snprintf(log, sizeof(log), "PORTSHIM_LOG=%s", logfile);
	if (!setup(ENV("PORTSHIM_RANGE=40000-40009", "PORTSHIM_RESERVED=", c, b, ctl, log)))
		return false;
	int fd = open(errfile, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0 || dup2(fd, STDERR_FILENO) < 0) {
		perror(errfile);
		exit(1);
	}
	close(fd);
	eventlog_init(&rt.log.out); /* the library notes fd 2 at start */
	return true;
}

/* The control file's new text, put in place as an editor or `mv` would:
 * a new file renamed over the old one. */
static void write_control(const char *text)
{
	char tmp[160];
	int fd;

	snprintf(tmp, sizeof(tmp), "%s.new", control);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0 || fchmod(fd, 0644) != 0 ||
	    write(fd, text, strlen(text)) != (ssize_t)strlen(text) || close(fd) != 0 ||
	    rename(tmp, control) != 0) {
		perror(tmp);
		exit(1);
	}
}

/* A poll in a second with no check yet. */
static void poll_now(void)
{
	atomic_store(&rt.control.checked, 0);
	control_poll(&rt);
}

static const struct plan *connect_plan(void)
{
	return control_connect_plan(&rt, (struct sockaddr *)&dst, sizeof(dst));
}

/* The lines of a file, the last one in `last` (without its newline). */
static int lines_of(const char *path, char *last, size_t size)
{
	static char buf[65536];
	int fd = open(path, O_RDONLY | O_CLOEXEC), n = 0;
	ssize_t len = fd < 0 ? 0 : read(fd, buf, sizeof(buf) - 1);

	if (fd >= 0)
		close(fd);
	buf[len > 0 ? len : 0] = '\0';
	last[0] = '\0';
	for (char *p = buf, *nl; (nl = strchr(p, '\n')); p = nl + 1) {
		n++;
		snprintf(last, size, "%.*s", (int)(nl - p), p);
	}
	return n;
}

/* The log has `n` lines, the last a control line with this result,
 * policies and error (NULL: null). */
static void logged(int n, const char *result, const char *connect, const char *bind,
		   const char *error)
{
	char last[2048], want[1600];

	if (!CHECK_INT(lines_of(logfile, last, sizeof(last)), n) || n == 0)
		return;
	snprintf(want, sizeof(want), "\"call\":\"control\",\"file\":\"%s\",\"result\":\"%s\","
		 "\"connect\":\"%s\",\"bind\":\"%s\",\"error\":", control, result, connect, bind);
	CHECK_CONTAINS(last, want);
	if (error) {
		snprintf(want, sizeof(want), "\"error\":\"%s\"}", error);
		CHECK_CONTAINS(last, want);
	} else {
		CHECK_CONTAINS(last, "\"error\":null}");
	}
}

/* stderr has `n` lines, the last "portshim: ERROR; the policies in force
 * stay". */
static void said(int n, const char *error)
{
	char last[2048], want[1600];

	if (!CHECK_INT(lines_of(errfile, last, sizeof(last)), n) || n == 0)
		return;
	snprintf(want, sizeof(want), "portshim: %s; the policies in force stay", error);
	CHECK_STR(last, want);
}

static void plans_are(enum policy_kind connect, enum policy_kind bind)
{
	CHECK_INT(connect_plan()->policy.kind, connect);
	CHECK_INT(control_bind_plan(&rt)->policy.kind, bind);
}

static void test_switches(void)
{
	char error[512];

	if (!start("odd", "off"))
		return;
	/* No file yet: the environment's plans, and that said once. */
	CHECK(connect_plan() == &rt.connect);
	CHECK(control_bind_plan(&rt) == &rt.bind);
	logged(1, "refused", "odd", "off", "PORTSHIM_CONTROL: the file is missing");
	said(1, "PORTSHIM_CONTROL: the file is missing");
	poll_now();
	logged(1, "refused", "odd", "off", "PORTSHIM_CONTROL: the file is missing");

	/* connect alone: bind stays the environment's. */
	write_control("connect = even\n");
	poll_now();
	plans_are(POLICY_EVEN, POLICY_OFF);
	CHECK(control_bind_plan(&rt) == &rt.bind);
	logged(2, "switched", "even", "off", NULL);
	said(1, "PORTSHIM_CONTROL: the file is missing"); /* a switch says nothing there */
	/* Unchanged, it is not read again. */
	poll_now();
	logged(2, "switched", "even", "off", NULL);

	/* parity sets both, connect and bind beat it. */
	write_control("# comments and blanks as in any config file\n\nparity = prefer-odd\n");
	poll_now();
	plans_are(POLICY_PREFER_ODD, POLICY_PREFER_ODD);
	logged(3, "switched", "prefer-odd", "prefer-odd", NULL);
	write_control("connect = 4:1\nparity = even\n");
	poll_now();
	plans_are(POLICY_RESIDUE, POLICY_EVEN);
	CHECK_INT(connect_plan()->policy.modulus, 4);
	logged(4, "switched", "4:1", "even", NULL);

	/* Refused, each way: the plans in force stay. */
	write_control("connect = odd\nseed = 5\n");
	poll_now();
	plans_are(POLICY_RESIDUE, POLICY_EVEN);
	snprintf(error, sizeof(error),
		 "PORTSHIM_CONTROL='%s': only connect, bind and parity can be switched", control);
	logged(5, "refused", "4:1", "even", error);
	said(2, error);
	write_control("connect = odd\nbind = ood\n");
	poll_now();
	plans_are(POLICY_RESIDUE, POLICY_EVEN);
	snprintf(error, sizeof(error), "%s:2: bind='ood': expected even, odd, prefer-even, "
		 "prefer-odd, any, N:K (0 <= K < N <= 65535), kernel, linux-4.2, legacy or off",
		 control);
	logged(6, "refused", "4:1", "even", error);
	said(3, error);
	/* 40000-40009 holds no port that is 3 mod 11. */
	write_control("connect = 11:3\n");
	poll_now();
	plans_are(POLICY_RESIDUE, POLICY_EVEN);
	logged(7, "refused", "4:1", "even",
	       "11:3: no port in the range 40000-40009 (less reserved ports) satisfies it");
	unlink(control);
	poll_now();
	plans_are(POLICY_RESIDUE, POLICY_EVEN);
	logged(8, "refused", "4:1", "even", "PORTSHIM_CONTROL: the file is missing");
	said(5, "PORTSHIM_CONTROL: the file is missing");

	/* Back to what the program started with: its own plans. */
	write_control("connect = odd\n");
	poll_now();
	CHECK(connect_plan() == &rt.connect);
	CHECK(control_bind_plan(&rt) == &rt.bind);
	logged(9, "switched", "odd", "off", NULL);
	said(5, "PORTSHIM_CONTROL: the file is missing");

	/* A rule still decides its destinations. */
	char ctl[160], log[160];
	snprintf(ctl, sizeof(ctl), "PORTSHIM_CONTROL=%s", control);
	snprintf(log, sizeof(log), "PORTSHIM_LOG=%s", logfile);
	if (!setup(ENV("PORTSHIM_RANGE=40000-40009", "PORTSHIM_RESERVED=", "PORTSHIM_CONNECT=odd",
		       "PORTSHIM_RULES=*:80=4:3", ctl, log)))
		return;
	write_control("connect = even\n");
	poll_now();
	CHECK_INT(connect_plan()->policy.kind, POLICY_EVEN);
	dst.sin_port = htons(80);
	CHECK_INT(connect_plan()->policy.kind, POLICY_RESIDUE);
}

/* Once a second at most, and never by two threads at once. */
static void test_when_it_looks(void)
{
	struct timespec t0, t1, pause = { 0, 20 * 1000 * 1000 };

	if (!start("odd", "off"))
		return;
	write_control("connect = even\n");
	poll_now();
	plans_are(POLICY_EVEN, POLICY_OFF);

	/* Checked in this second: a change waits for the next one. */
	write_control("connect = prefer-even\n");
	clock_gettime(CLOCK_MONOTONIC_COARSE, &t0);
	atomic_store(&rt.control.checked, t0.tv_sec + 1);
	control_poll(&rt);
	enum policy_kind kind = connect_plan()->policy.kind;
	clock_gettime(CLOCK_MONOTONIC_COARSE, &t1);
	if (t1.tv_sec == t0.tv_sec)
		CHECK_INT(kind, POLICY_EVEN);
	else
		check_diag("a second passed during the check: not judged");
	int waits = 0;
	while (connect_plan()->policy.kind != POLICY_PREFER_EVEN && waits++ < 150)
		nanosleep(&pause, NULL);
	CHECK_INT(connect_plan()->policy.kind, POLICY_PREFER_EVEN);
	clock_gettime(CLOCK_MONOTONIC_COARSE, &t1);
	CHECK(t1.tv_sec > t0.tv_sec, "switched within the second it had been checked in");
	logged(2, "switched", "prefer-even", "off", NULL);

	/* Another thread is checking: this one goes on with the plans in
	 * force rather than wait. */
	write_control("connect = any\n");
	atomic_flag_test_and_set(&rt.control.busy);
	poll_now();
	plans_are(POLICY_PREFER_EVEN, POLICY_OFF);
	logged(2, "switched", "prefer-even", "off", NULL);
	atomic_flag_clear(&rt.control.busy);
	poll_now();
	plans_are(POLICY_ANY, POLICY_OFF);
	logged(3, "switched", "any", "off", NULL);
}

static void test_errno_kept(void)
{
	if (!start("odd", "off"))
		return;
	errno = ERANGE;
	poll_now(); /* the file is missing: a stat that fails, a line written */
	CHECK_INT(errno, ERANGE);
	write_control("connect = even\n");
	errno = EDOM;
	poll_now();
	CHECK_INT(errno, EDOM);
	plans_are(POLICY_EVEN, POLICY_OFF);
}

/* Plans are never freed: CONTROL_PLANS different ones at most, and the
 * program's own and those already made cost nothing more. */
static void test_pool(void)
{
	static const char *const policies[CONTROL_PLANS] = {
		"even", "any", "prefer-even", "prefer-odd", "off", "kernel", "linux-4.2",
		"legacy", "3:0", "3:1", "3:2", "4:0", "4:1", "4:2", "4:3", "5:0",
	};
	char text[64];

	if (!start("odd", "off"))
		return;
	for (int round = 0; round < 2; round++) {
		for (int i = 0; i < CONTROL_PLANS; i++) {
			snprintf(text, sizeof(text), "connect = %s\n", policies[i]);
			write_control(text);
			poll_now();
			if (!CHECK_STR(connect_plan()->name, policies[i]))
				return;
		}
		write_control("connect = odd\n");
		poll_now();
		CHECK(connect_plan() == &rt.connect);
	}
	CHECK_INT(rt.npool, CONTROL_PLANS);
	write_control("connect = 5:1\n");
	poll_now();
	CHECK_STR(connect_plan()->name, "odd");
	logged(2 * (CONTROL_PLANS + 1) + 1, "refused", "odd", "off",
	       "more than 16 different policies switched to");
}

/* Any setting but connect, bind and parity is refused, even one given its
 * default value: the file says something the switch would not do. */
static void test_only_policies(void)
{
	static const char *const others[] = {
		"order = random", "strategy = auto", "backend = auto", "exec-static = warn",
		"on-exhaust = fail", "rule = 10.0.0.0/8=odd", "seed = 5",
	};
	char error[512], text[128];
	int n = 0;

	if (!start("odd", "off"))
		return;
	snprintf(error, sizeof(error),
		 "PORTSHIM_CONTROL='%s': only connect, bind and parity can be switched", control);
	for (size_t i = 0; i < sizeof(others) / sizeof(others[0]); i++) {
		snprintf(text, sizeof(text), "connect = even\n%s\n", others[i]);
		write_control(text);
		poll_now();
		if (!CHECK(connect_plan() == &rt.connect, "%s switched the plan", others[i]))
			return;
		logged(++n, "refused", "odd", "off", error);
	}
	write_control("connect = even\nparity = odd\n");
	poll_now();
	plans_are(POLICY_EVEN, POLICY_ODD);
}

int main(void)
{
	snprintf(dir, sizeof(dir), "/tmp/portshim-unit.XXXXXX");
	if (!mkdtemp(dir)) {
		perror("mkdtemp");
		return 1;
	}
	snprintf(control, sizeof(control), "%s/control.conf", dir);
	snprintf(logfile, sizeof(logfile), "%s/ev.jsonl", dir);
	snprintf(errfile, sizeof(errfile), "%s/stderr", dir);
	saved_stderr = dup(STDERR_FILENO);
	RUN(test_switches);
	RUN(test_only_policies);
	RUN(test_when_it_looks);
	RUN(test_errno_kept);
	RUN(test_pool);
	dup2(saved_stderr, STDERR_FILENO);
	unlink(control);
	unlink(logfile);
	unlink(errfile);
	rmdir(dir);
	return check_done();
}
