/* Settings from an environment array: defaults, every setting's values,
 * parity vs connect/bind precedence, and the exact one-line errors a user
 * sees for a bad value or an unknown PORTSHIM_ name. */
#include "check.h"
#include "config.h"
#include "configure.h"

static struct config cfg; /* holds a portset: 8 KiB */
static char err[1024];

/* Runs config_init + configure_from_environ (+ config_finish on success). */
static int load(char *const *envp)
{
	memset(err, 0, sizeof(err));
	config_init(&cfg, false);
	int rc = configure_load(&cfg, envp, err, sizeof(err));
	if (rc == 0)
		config_finish(&cfg);
	return rc;
}

#define ENV(...) ((char *const[]){ __VA_ARGS__, NULL })

static void test_defaults(void)
{
	CHECK_INT(load(ENV("PATH=/bin", "HOME=/root")), 0);
	CHECK_INT(cfg.connect.kind, POLICY_ANY);
	CHECK_INT(cfg.bind.kind, POLICY_OFF);
	CHECK_INT(cfg.order, ORDER_RANDOM);
	CHECK_INT(cfg.on_exhaust, ON_EXHAUST_FAIL);
	CHECK_INT(cfg.strategy, STRATEGY_AUTO);
	CHECK(!cfg.parity_set && !cfg.connect_set && !cfg.bind_set);
	CHECK(!cfg.range_set && !cfg.reserved_set && !cfg.seed_set,
	      "unset range/reserved/seed must come from the kernel / getrandom");

	/* No environment at all, and names that only look like ours. */
	CHECK_INT(load(ENV("PATH=/bin")), 0);
	CHECK_INT(load((char *const[]){ NULL }), 0);
	CHECK_INT(load(NULL), 0);
	CHECK_INT(load(ENV("PORTSHIMX=1", "portshim_parity=evn", "XPORTSHIM_PARITY=evn")), 0);
	CHECK_INT(cfg.connect.kind, POLICY_ANY);
}

static void test_parity_sets_both(void)
{
	CHECK_INT(load(ENV("PATH=/bin", "PORTSHIM_PARITY=odd", "TERM=dumb")), 0);
	CHECK_INT(cfg.connect.kind, POLICY_ODD);
	CHECK_INT(cfg.bind.kind, POLICY_ODD);
	CHECK_INT(load(ENV("PORTSHIM_PARITY=4:1")), 0);
	CHECK(cfg.connect.kind == POLICY_RESIDUE && cfg.connect.modulus == 4 &&
	      cfg.connect.residue == 1 && cfg.bind.kind == POLICY_RESIDUE && cfg.bind.modulus == 4);
}

static void test_specific_beats_parity(void)
{
	/* In either order: the environment's order is not the user's intent. */
	CHECK_INT(load(ENV("PORTSHIM_CONNECT=even", "PORTSHIM_PARITY=odd")), 0);
	CHECK_INT(cfg.connect.kind, POLICY_EVEN);
	CHECK_INT(cfg.bind.kind, POLICY_ODD);
	CHECK_INT(load(ENV("PORTSHIM_PARITY=odd", "PORTSHIM_CONNECT=even")), 0);
	CHECK_INT(cfg.connect.kind, POLICY_EVEN);
	CHECK_INT(cfg.bind.kind, POLICY_ODD);

	CHECK_INT(load(ENV("PORTSHIM_BIND=off", "PORTSHIM_PARITY=prefer-odd")), 0);
	CHECK_INT(cfg.connect.kind, POLICY_PREFER_ODD);
	CHECK_INT(cfg.bind.kind, POLICY_OFF);
	CHECK_INT(load(ENV("PORTSHIM_PARITY=even", "PORTSHIM_BIND=any", "PORTSHIM_CONNECT=7:3")), 0);
	CHECK(cfg.connect.kind == POLICY_RESIDUE && cfg.connect.modulus == 7 &&
	      cfg.connect.residue == 3, "connect kind %d", cfg.connect.kind);
	CHECK_INT(cfg.bind.kind, POLICY_ANY);

	/* Each alone: the other keeps its default. */
	CHECK_INT(load(ENV("PORTSHIM_BIND=even")), 0);
	CHECK_INT(cfg.connect.kind, POLICY_ANY);
	CHECK_INT(cfg.bind.kind, POLICY_EVEN);
	CHECK_INT(load(ENV("PORTSHIM_CONNECT=off")), 0);
	CHECK_INT(cfg.connect.kind, POLICY_OFF);
	CHECK_INT(cfg.bind.kind, POLICY_OFF);
}

static void test_every_setting_accepts(void)
{
	CHECK_INT(load(ENV("PORTSHIM_RANGE=40000-40009")), 0);
	CHECK(cfg.range_set && cfg.range_lo == 40000 && cfg.range_hi == 40009, "range %u-%u",
	      cfg.range_lo, cfg.range_hi);

	CHECK_INT(load(ENV("PORTSHIM_RESERVED=40000,40100-40199")), 0);
	CHECK(cfg.reserved_set && cfg.reserved.count == 101 && portset_has(&cfg.reserved, 40000) &&
	      portset_has(&cfg.reserved, 40199) && !portset_has(&cfg.reserved, 40001),
	      "reserved count %u", cfg.reserved.count);
	CHECK_INT(load(ENV("PORTSHIM_RESERVED=")), 0); /* set, and empty: reserve nothing */
	CHECK(cfg.reserved_set && cfg.reserved.count == 0);

	CHECK_INT(load(ENV("PORTSHIM_ORDER=sequential")), 0);
	CHECK_INT(cfg.order, ORDER_SEQUENTIAL);
	CHECK_INT(load(ENV("PORTSHIM_ORDER=random")), 0);
	CHECK_INT(cfg.order, ORDER_RANDOM);

	CHECK_INT(load(ENV("PORTSHIM_SEED=42")), 0);
	CHECK(cfg.seed_set && cfg.seed == 42);
	CHECK_INT(load(ENV("PORTSHIM_SEED=0x2a")), 0);
	CHECK_U64(cfg.seed, 42);
	CHECK_INT(load(ENV("PORTSHIM_SEED=0")), 0);
	CHECK(cfg.seed_set && cfg.seed == 0, "seed 0 is a seed like any other");
	CHECK_INT(load(ENV("PORTSHIM_SEED=18446744073709551615")), 0);
	CHECK_U64(cfg.seed, UINT64_MAX);

	CHECK_INT(load(ENV("PORTSHIM_ON_EXHAUST=kernel")), 0);
	CHECK_INT(cfg.on_exhaust, ON_EXHAUST_KERNEL);
	CHECK_INT(load(ENV("PORTSHIM_ON_EXHAUST=fail")), 0);
	CHECK_INT(cfg.on_exhaust, ON_EXHAUST_FAIL);

	static const struct {
		const char *env, *name;
		enum strategy strategy;
	} strategies[] = {
		{ "PORTSHIM_STRATEGY=auto", "auto", STRATEGY_AUTO },
		{ "PORTSHIM_STRATEGY=range", "range", STRATEGY_RANGE },
		{ "PORTSHIM_STRATEGY=reuse", "reuse", STRATEGY_REUSE },
		{ "PORTSHIM_STRATEGY=exclusive", "exclusive", STRATEGY_EXCLUSIVE },
	};
	for (size_t i = 0; i < sizeof(strategies) / sizeof(strategies[0]); i++) {
		CHECK_INT(load(ENV((char *)strategies[i].env)), 0);
		CHECK_INT(cfg.strategy, strategies[i].strategy);
		CHECK_STR(config_strategy_name(strategies[i].strategy), strategies[i].name);
	}

	/* Log and stats: "stderr" or a path; "" (off) is the default. */
	CHECK_INT(load(ENV("PATH=/bin")), 0);
	CHECK(cfg.log[0] == '\0' && cfg.stats[0] == '\0');
	CHECK_INT(load(ENV("PORTSHIM_LOG=stderr", "PORTSHIM_STATS=/tmp/stats.json")), 0);
	CHECK_STR(cfg.log, "stderr");
	CHECK_STR(cfg.stats, "/tmp/stats.json");
	static char entry[CONFIG_PATH_MAX + 32];
	int n = snprintf(entry, sizeof(entry), "PORTSHIM_LOG=/");
	memset(entry + n, 'x', CONFIG_PATH_MAX - 2); /* a path of CONFIG_PATH_MAX - 1 */
	entry[n + CONFIG_PATH_MAX - 2] = '\0';
	CHECK_INT(load(ENV(entry)), 0);
	CHECK_INT(strlen(cfg.log), CONFIG_PATH_MAX - 1);
	strcat(entry, "x"); /* one more does not fit */
	CHECK_INT(load(ENV(entry)), -1);
	CHECK_PREFIX(err, "PORTSHIM_LOG='/xxx");

	/* Everything at once, in one array. */
	CHECK_INT(load(ENV("PORTSHIM_CONNECT=odd", "PORTSHIM_BIND=even", "PORTSHIM_ORDER=sequential",
			   "PORTSHIM_SEED=7", "PORTSHIM_ON_EXHAUST=kernel", "PORTSHIM_STRATEGY=reuse",
			   "PORTSHIM_RANGE=1024-2047", "PORTSHIM_RESERVED=1024")), 0);
	CHECK(cfg.connect.kind == POLICY_ODD && cfg.bind.kind == POLICY_EVEN &&
	      cfg.order == ORDER_SEQUENTIAL && cfg.seed == 7 && cfg.on_exhaust == ON_EXHAUST_KERNEL &&
	      cfg.strategy == STRATEGY_REUSE && cfg.range_lo == 1024 && cfg.range_hi == 2047 &&
	      cfg.reserved.count == 1, "err \"%s\"", err);
}

/* A bad value: -1, and "NAME='VALUE': expected ..." naming each accepted
 * word (the wording around them is free to change). */
static void bad_value(const char *name, const char *value, const char *const *accepted)
{
	char entry[128], prefix[128];

	snprintf(entry, sizeof(entry), "%s=%s", name, value);
	snprintf(prefix, sizeof(prefix), "%s='%s': expected ", name, value);
	CHECK(load(ENV("PATH=/bin", entry)) == -1, "%s accepted", entry);
	CHECK_PREFIX(err, prefix);
	for (; *accepted; accepted++)
		CHECK_CONTAINS(err, *accepted);
	CHECK(!strchr(err, '\n'), "one line: \"%s\"", err);
}

static void test_bad_values(void)
{
	static const char *const policies[] = { "even", "odd", "prefer-even", "prefer-odd", "any",
						"N:K", "off", NULL };
	static const char *const range[] = { "LO-HI", NULL };
	static const char *const order[] = { "random", "sequential", NULL };
	static const char *const exhaust[] = { "fail", "kernel", NULL };
	static const char *const strategy[] = { "auto", "range", "reuse", "exclusive", NULL };
	static const char *const none[] = { NULL };

	bad_value("PORTSHIM_PARITY", "evn", policies);
	bad_value("PORTSHIM_CONNECT", "4:4", policies);
	bad_value("PORTSHIM_BIND", "", policies);
	bad_value("PORTSHIM_RANGE", "60000-1000", range);
	bad_value("PORTSHIM_RANGE", "0-5", range);
	bad_value("PORTSHIM_RESERVED", "40000;40001", none);
	bad_value("PORTSHIM_ORDER", "seq", order);
	bad_value("PORTSHIM_SEED", "-1", none);
	bad_value("PORTSHIM_SEED", "18446744073709551616", none);
	bad_value("PORTSHIM_SEED", "", none);
	bad_value("PORTSHIM_SEED", "42x", none);
	bad_value("PORTSHIM_ON_EXHAUST", "retry", exhaust);
	bad_value("PORTSHIM_STRATEGY", "fast", strategy);
	bad_value("PORTSHIM_LOG", "", (const char *const[]){ "stderr", NULL });
	bad_value("PORTSHIM_STATS", "", (const char *const[]){ "stderr", NULL });
}

static void test_exact_messages(void)
{
	CHECK_INT(load(ENV("PATH=/bin", "PORTSHIM_PARITY=evn")), -1);
	CHECK_STR(err, "PORTSHIM_PARITY='evn': expected even, odd, prefer-even, prefer-odd, any, "
		       "N:K (0 <= K < N <= 65535), kernel, linux-4.2, legacy or off");

	/* The label is the caller's spelling (a flag, a file:line). */
	config_init(&cfg, false);
	CHECK_INT(configure_set(&cfg, "order", "seq", "--order", err, sizeof(err)), -1);
	CHECK_PREFIX(err, "--order='seq': expected ");
	CHECK_INT(configure_set(&cfg, "frob", "1", "--frob", err, sizeof(err)), -1);
	CHECK_PREFIX(err, "--frob: unknown setting"); /* maybe a list of names after */
	CHECK_INT(configure_set(&cfg, "on-exhaust", "kernel", "--on-exhaust", err, sizeof(err)), 0);
	CHECK_INT(cfg.on_exhaust, ON_EXHAUST_KERNEL);

	/* A typo in a name stops the run and names the setting it is nearest
	 * to (two edits at most, a swap of neighbours being one, case
	 * ignored); the value is not part of the name. */
	CHECK_INT(load(ENV("PORTSHIM_PARTIY=odd")), -1);
	CHECK_STR(err, "PORTSHIM_PARTIY: unknown setting; did you mean PORTSHIM_PARITY?");
	CHECK_INT(load(ENV("PORTSHIM_CONECT=odd")), -1);
	CHECK_STR(err, "PORTSHIM_CONECT: unknown setting; did you mean PORTSHIM_CONNECT?");
	CHECK_INT(load(ENV("PORTSHIM_ONEXHAUSTT=fail")), -1);
	CHECK_STR(err, "PORTSHIM_ONEXHAUSTT: unknown setting; did you mean PORTSHIM_ON_EXHAUST?");
	/* Far from every name: the names we know. */
	CHECK_INT(load(ENV("PORTSHIM_LIB=/x/libportshim.so")), -1);
	CHECK_PREFIX(err, "PORTSHIM_LIB: unknown setting; known: PORTSHIM_PARITY, ");
	CHECK(!strstr(err, "=/x"), "\"%s\"", err);
	static const char *const known[] = { "PORTSHIM_CONNECT", "PORTSHIM_BIND", "PORTSHIM_RANGE",
		"PORTSHIM_RESERVED", "PORTSHIM_ORDER", "PORTSHIM_SEED", "PORTSHIM_ON_EXHAUST",
		"PORTSHIM_STRATEGY" };
	for (size_t i = 0; i < sizeof(known) / sizeof(known[0]); i++)
		CHECK_CONTAINS(err, known[i]);
	/* Names are exact: no case folding, no prefix matching. */
	CHECK_INT(load(ENV("PORTSHIM_parity=odd")), -1);
	CHECK_STR(err, "PORTSHIM_parity: unknown setting; did you mean PORTSHIM_PARITY?");
	CHECK_INT(load(ENV("PORTSHIM_PARITYX=odd")), -1);
	CHECK_PREFIX(err, "PORTSHIM_PARITYX: unknown setting");
	CHECK_INT(load(ENV("PORTSHIM_PARIT=odd")), -1);
	CHECK_PREFIX(err, "PORTSHIM_PARIT: unknown setting");
	/* A config file's key too. */
	config_init(&cfg, false);
	CHECK_INT(configure_from_text(&cfg, "stratgey = reuse\n", "t.conf", err, sizeof(err)), -1);
	CHECK_STR(err, "t.conf:1: stratgey: unknown setting; did you mean strategy?");
	CHECK_INT(load(ENV("PORTSHIM_ON-EXHAUST=fail")), -1);
	CHECK_PREFIX(err, "PORTSHIM_ON-EXHAUST: unknown setting");
}

static void test_small_error_buffer(void)
{
	/* Truncated, terminated, and nothing written past errlen. */
	char buf[64];
	static const size_t sizes[] = { 1, 2, 10, 20, 40 };

	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		size_t n = sizes[i];
		memset(buf, '#', sizeof(buf));
		config_init(&cfg, false);
		CHECK_INT(configure_load(&cfg, ENV("PORTSHIM_PARTIY=odd"), buf, n), -1);
		CHECK(memchr(buf, '\0', n) != NULL && buf[n] == '#', "errlen %zu", n);
		memset(buf, '#', sizeof(buf));
		CHECK_INT(configure_load(&cfg, ENV("PORTSHIM_PARITY=evn"), buf, n), -1);
		CHECK(memchr(buf, '\0', n) != NULL && buf[n] == '#', "errlen %zu", n);
		/* The start of the full message, as much as fits. */
		CHECK(strlen(buf) == n - 1 && strncmp(buf, "PORTSHIM_PARITY='evn': expected even, odd",
						      n - 1) == 0, "errlen %zu: \"%s\"", n, buf);
	}
}

static void test_env_name(void)
{
	char buf[64];

	config_env_name("on-exhaust", buf, sizeof(buf));
	CHECK_STR(buf, "PORTSHIM_ON_EXHAUST");
	config_env_name("parity", buf, sizeof(buf));
	CHECK_STR(buf, "PORTSHIM_PARITY");
	config_env_name("strategy", buf, sizeof(buf));
	CHECK_STR(buf, "PORTSHIM_STRATEGY");

	static const size_t sizes[] = { 1, 5, 9, 10, 12, 20 };
	static const char *const want[] = { "", "PORT", "PORTSHIM", "PORTSHIM_", "PORTSHIM_ON",
					    "PORTSHIM_ON_EXHAUST" };
	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		memset(buf, '#', sizeof(buf));
		config_env_name("on-exhaust", buf, sizes[i]);
		CHECK_STR(buf, want[i]);
		CHECK(buf[sizes[i]] == '#', "size %zu: wrote past the end", sizes[i]);
	}
}

/* A setuid/setgid program: the environment may name no file for the shim
 * to write or read, only stderr. */
static void test_secure_mode(void)
{
	char *const log_file[] = { "PORTSHIM_LOG=/etc/passwd", NULL };
	char *const log_stderr[] = { "PORTSHIM_LOG=stderr", "PORTSHIM_STATS=stderr", NULL };
	char *const config_file[] = { "PORTSHIM_CONFIG=/tmp/x.conf", NULL };

	config_init(&cfg, true);
	CHECK_INT(configure_load(&cfg, log_file, err, sizeof(err)), -1);
	CHECK_STR(err, "PORTSHIM_LOG='/etc/passwd': a setuid or setgid program takes no file "
		       "path from the environment; expected stderr");
	CHECK_STR(cfg.log, "");
	config_init(&cfg, true);
	CHECK_INT(configure_load(&cfg, log_stderr, err, sizeof(err)), 0);
	CHECK_STR(cfg.log, "stderr");
	CHECK_STR(cfg.stats, "stderr");
	config_init(&cfg, true);
	CHECK_INT(configure_load(&cfg, config_file, err, sizeof(err)), -1);
	CHECK_PREFIX(err, "PORTSHIM_CONFIG='/tmp/x.conf': a setuid or setgid program");
	/* The same settings are fine in an ordinary process. */
	config_init(&cfg, false);
	CHECK_INT(configure_load(&cfg, log_file, err, sizeof(err)), 0);
	CHECK_STR(cfg.log, "/etc/passwd");
}

int main(void)
{
	RUN(test_defaults);
	RUN(test_parity_sets_both);
	RUN(test_specific_beats_parity);
	RUN(test_every_setting_accepts);
	RUN(test_bad_values);
	RUN(test_exact_messages);
	RUN(test_small_error_buffer);
	RUN(test_env_name);
	RUN(test_secure_mode);
	return check_done();
}
