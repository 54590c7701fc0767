/* Config files (PORTSHIM_CONFIG, --config; configfile.c): the syntax of a
 * line (blanks, comments, CR, '_' for '-', repeated `rule` lines), the
 * exact error of each kind of bad line with its file and line number, the
 * size limit, files that cannot be read, and the environment winning over
 * the file. */
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check.h"
#include "config.h"
#include "configure.h"
#include "settings.h"

static struct config cfg;
static char err[2048];
static char dir[64];

#define ENV(...) ((char *const[]){ __VA_ARGS__, NULL })

static int from_text(const char *text)
{
	memset(err, 0, sizeof(err));
	config_init(&cfg, false);
	return configure_from_text(&cfg, text, "t.conf", err, sizeof(err));
}

static enum config_origin origin(const char *key)
{
	return (enum config_origin)cfg.origin[setting_index(setting_find(key))];
}

/* A file of the test's directory with this text, mode 0644; its path. */
static const char *file(const char *name, const char *text, size_t len)
{
	static char path[128];
	int fd;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0 || fchmod(fd, 0644) != 0 || write(fd, text, len) != (ssize_t)len) {
		perror(path);
		exit(1);
	}
	close(fd);
	return path;
}

static void test_syntax(void)
{
	static const char text[] =
		"# a comment, then a blank line and one of blanks\n"
		"\n"
		" \t \n"
		"connect = odd   # a comment after a value\n"
		"\tbind\t=\teven\t\r\n"          /* tabs, and a CRLF line end */
		"on_exhaust = kernel\n"           /* '_' for '-' */
		"exec-static=refuse\n"
		"rule = 10.0.0.0/8:443=odd\n"     /* the value holds '=' */
		"rule = *=any\n"
		"range = 40000-40099";            /* the last line needs no newline */

	if (!CHECK_INT(from_text(text), 0))
		return;
	CHECK(cfg.connect_set && cfg.connect.kind == POLICY_ODD);
	CHECK(cfg.bind_set && cfg.bind.kind == POLICY_EVEN);
	CHECK(!cfg.parity_set);
	CHECK_INT(cfg.on_exhaust, ON_EXHAUST_KERNEL);
	CHECK_INT(cfg.exec_static, EXEC_STATIC_REFUSE);
	CHECK_INT(cfg.rules.count, 2);
	CHECK(cfg.rules.rule[0].port == 443 && cfg.rules.rule[0].policy.kind == POLICY_ODD);
	CHECK(cfg.rules.rule[1].family == AF_UNSPEC && cfg.rules.rule[1].policy.kind == POLICY_ANY);
	CHECK(cfg.range_set && cfg.range_lo == 40000 && cfg.range_hi == 40099);
	/* Where each value came from, for --check. */
	CHECK_INT(origin("connect"), CONFIG_FILE);
	CHECK_INT(origin("on-exhaust"), CONFIG_FILE);
	CHECK_INT(origin("rules"), CONFIG_FILE);
	CHECK_INT(origin("seed"), CONFIG_DEFAULT);
	CHECK_INT(origin("strategy"), CONFIG_DEFAULT);

	/* Nothing but comments and blanks: nothing set. */
	CHECK_INT(from_text("# nothing\n\n   # at all\n"), 0);
	CHECK(!cfg.connect_set && !cfg.range_set && cfg.rules.count == 0);
	CHECK_INT(from_text(""), 0);
	/* A later line wins, as in the environment. */
	CHECK_INT(from_text("order = sequential\norder = random\n"), 0);
	CHECK_INT(cfg.order, ORDER_RANDOM);
	/* '#' starts a comment anywhere on the line. */
	CHECK_INT(from_text("connect = even#odd\n"), 0);
	CHECK_INT(cfg.connect.kind, POLICY_EVEN);
}

static void test_errors(void)
{
	static const struct {
		const char *text, *want;
	} cases[] = {
		{ "connect odd\n", "t.conf:1: 'connect odd': expected key = value" },
		{ "# one\n\n   \nconnect odd # two\n", "t.conf:4: 'connect odd': expected key = value" },
		{ "connect = odd\nconfig = other.conf\n",
		  "t.conf:2: config: a config file cannot name another one" },
		{ "on_exhaust = retry\n", "t.conf:1: on-exhaust='retry': expected fail or kernel" },
		{ "strategy = fast\r\n", "t.conf:1: strategy='fast': expected auto, range, reuse or exclusive" },
		{ "connect = 5:7\n", "t.conf:1: connect='5:7': expected even, odd, prefer-even, "
				     "prefer-odd, any, N:K (0 <= K < N <= 65535), kernel, linux-4.2, "
				     "legacy or off" },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		CHECK(from_text(cases[i].text) == -1, "'%s' accepted", cases[i].text);
		CHECK_STR(err, cases[i].want);
	}
	/* A bad rule: the file's line, then what the rules parser says. */
	CHECK_INT(from_text("rule = *=odd\nrule = 10.0.0.0/33=odd\n"), -1);
	CHECK_PREFIX(err, "t.conf:2: rule='10.0.0.0/33=odd': ");
	CHECK_CONTAINS(err, "bad destination '10.0.0.0/33'");
	/* An error is one line. */
	CHECK(!strchr(err, '\n'), "%s", err);

	/* A line of 2047 bytes is read; one of 2048 is refused, not cut. */
	static char text[4096];
	memset(text, 0, sizeof(text));
	memcpy(text, "connect = odd #", 15);
	memset(text + 15, 'x', 2047 - 15);
	CHECK_INT(from_text(text), 0);
	CHECK_INT(cfg.connect.kind, POLICY_ODD);
	text[2047] = 'x';
	CHECK_INT(from_text(text), -1);
	CHECK_STR(err, "t.conf:1: line longer than 2047 bytes");
	/* On the line it is on. */
	memmove(text + 2, text, 2048);
	memcpy(text, "\n\n", 2);
	CHECK_INT(from_text(text), -1);
	CHECK_STR(err, "t.conf:3: line longer than 2047 bytes");

	/* A small error buffer: cut and terminated. */
	char small[12];
	memset(small, '#', sizeof(small));
	config_init(&cfg, false);
	CHECK_INT(configure_from_text(&cfg, "connect odd\n", "t.conf", small, 9), -1);
	CHECK_STR(small, "t.conf:1");
	CHECK(small[9] == '#', "wrote past the buffer");
}

static void test_file(void)
{
	const char *path = file("good.conf", "connect = even\nseed = 7\n", 24);

	config_init(&cfg, false);
	if (!CHECK_INT(configure_from_file(&cfg, path, "--config", err, sizeof(err)), 0))
		check_diag("%s", err);
	CHECK(cfg.connect.kind == POLICY_EVEN && cfg.seed_set && cfg.seed == 7);

	/* An error names the file by its path, and the line. */
	path = file("bad.conf", "connect = even\nbind = ood\n", 26);
	config_init(&cfg, false);
	CHECK_INT(configure_from_file(&cfg, path, "--config", err, sizeof(err)), -1);
	char want[512];
	snprintf(want, sizeof(want), "%s:2: bind='ood': expected ", path);
	CHECK_PREFIX(err, want);

	/* An empty file is no error. */
	path = file("empty.conf", "", 0);
	config_init(&cfg, false);
	CHECK_INT(configure_from_file(&cfg, path, "--config", err, sizeof(err)), 0);

	/* 64 KiB is read; a byte more, and nothing of it is. */
	static char big[65 * 1024];
	memset(big, '\n', sizeof(big));
	memcpy(big, "connect = odd\n", 14);
	path = file("64k.conf", big, 65536);
	config_init(&cfg, false);
	CHECK_INT(configure_from_file(&cfg, path, "--config", err, sizeof(err)), 0);
	CHECK_INT(cfg.connect.kind, POLICY_ODD);
	path = file("64k1.conf", big, 65537);
	config_init(&cfg, false);
	CHECK_INT(configure_from_file(&cfg, path, "--config", err, sizeof(err)), -1);
	snprintf(want, sizeof(want), "--config='%s': larger than 65536 bytes", path);
	CHECK_STR(err, want);
	CHECK(!cfg.connect_set, "a file too large was applied");

	/* What cannot be read as a file. */
	char missing[128];
	snprintf(missing, sizeof(missing), "%s/missing.conf", dir);
	config_init(&cfg, false);
	CHECK_INT(configure_from_file(&cfg, missing, "PORTSHIM_CONFIG", err, sizeof(err)), -1);
	snprintf(want, sizeof(want), "PORTSHIM_CONFIG='%s': cannot open: No such file or directory",
		 missing);
	CHECK_STR(err, want);
	CHECK_INT(configure_from_file(&cfg, dir, "PORTSHIM_CONFIG", err, sizeof(err)), -1);
	snprintf(want, sizeof(want), "PORTSHIM_CONFIG='%s': a directory; expected a regular file",
		 dir);
	CHECK_STR(err, want);

	/* A privileged process reads no file others may write. */
	path = file("open.conf", "connect = odd\n", 14);
	chmod(path, 0666);
	config_init(&cfg, false);
	int rc = configure_from_file(&cfg, path, "--config", err, sizeof(err));
	if (geteuid() == 0) {
		CHECK_INT(rc, -1);
		snprintf(want, sizeof(want), "--config='%s': it is writable by group or others "
					     "(mode 0666); a privileged process (euid 0) reads only ",
			 path);
		CHECK_PREFIX(err, want);
	} else {
		CHECK_INT(rc, 0);
	}
}

/* PORTSHIM_CONFIG names the file; the environment's own settings win over
 * it, wherever they stand in the environment. */
static void test_environment_wins(void)
{
	const char *path = file("env.conf", "connect = even\nseed = 7\nrule = *=odd\n", 36);
	char var[160];

	snprintf(var, sizeof(var), "PORTSHIM_CONFIG=%s", path);
	for (int order = 0; order < 2; order++) {
		config_init(&cfg, false);
		char *const *env = order ? ENV("PORTSHIM_CONNECT=prefer-odd", var)
					 : ENV(var, "PORTSHIM_CONNECT=prefer-odd");
		if (!CHECK_INT(configure_load(&cfg, env, err, sizeof(err)), 0)) {
			check_diag("%s", err);
			continue;
		}
		CHECK_INT(cfg.connect.kind, POLICY_PREFER_ODD);
		CHECK(cfg.seed_set && cfg.seed == 7);
		CHECK_INT(cfg.rules.count, 1);
		CHECK_STR(cfg.file, path);
		CHECK_INT(origin("config"), CONFIG_ENV);
		CHECK_INT(origin("connect"), CONFIG_ENV);
		CHECK_INT(origin("seed"), CONFIG_FILE);
		CHECK_INT(origin("rules"), CONFIG_FILE);
	}
	/* The environment's rules replace the file's. */
	config_init(&cfg, false);
	CHECK_INT(configure_load(&cfg, ENV(var, "PORTSHIM_RULES=10.0.0.0/8=even; *:53=odd"), err,
			      sizeof(err)), 0);
	CHECK_INT(cfg.rules.count, 2);
	CHECK_INT(cfg.rules.rule[0].policy.kind, POLICY_EVEN);

	/* No file named, or a path too long to be one. */
	config_init(&cfg, false);
	CHECK_INT(configure_load(&cfg, ENV("PORTSHIM_CONFIG="), err, sizeof(err)), -1);
	CHECK_STR(err, "PORTSHIM_CONFIG='': expected a config file path");
	static char longvar[CONFIG_PATH_MAX + 32];
	memset(longvar, 0, sizeof(longvar));
	strcpy(longvar, "PORTSHIM_CONFIG=/");
	memset(longvar + 17, 'a', CONFIG_PATH_MAX - 1);
	config_init(&cfg, false);
	CHECK_INT(configure_load(&cfg, ENV(longvar), err, sizeof(err)), -1);
	CHECK_CONTAINS(err, "': expected a config file path");
	CHECK_STR(cfg.file, "");
	/* The file's error stops everything, the environment unread. */
	path = file("bad.conf", "connect = evn\n", 14);
	snprintf(var, sizeof(var), "PORTSHIM_CONFIG=%s", path);
	config_init(&cfg, false);
	CHECK_INT(configure_load(&cfg, ENV(var, "PORTSHIM_BIND=odd"), err, sizeof(err)), -1);
	char want[256];
	snprintf(want, sizeof(want), "%s:1: connect='evn': expected ", path);
	CHECK_PREFIX(err, want);
	CHECK(!cfg.bind_set, "the environment was applied after the file's error");
}

int main(void)
{
	snprintf(dir, sizeof(dir), "/tmp/portshim-unit.XXXXXX");
	if (!mkdtemp(dir)) {
		perror("mkdtemp");
		return 1;
	}
	RUN(test_syntax);
	RUN(test_errors);
	RUN(test_file);
	RUN(test_environment_wins);
	static const char *const names[] = { "good.conf", "bad.conf", "empty.conf", "64k.conf",
					      "64k1.conf", "open.conf", "env.conf" };
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		char path[128];
		snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
		unlink(path);
	}
	rmdir(dir);
	return check_done();
}
