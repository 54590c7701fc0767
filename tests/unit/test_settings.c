/* The settings table: every row is complete (the command makes its flag,
 * --help line and --check row from it), its environment name and its
 * config-file key reach the same setting, and where a value came from is
 * noted (--check's "from" column). */
#include "config.h"
#include "configure.h"
#include "fixture.h"
#include "settings.h"

static struct config cfg;

static void test_rows_are_complete(void)
{
	CHECK(settings_count >= 13, "%zu rows", settings_count);
	for (size_t i = 0; i < settings_count; i++) {
		const struct setting *s = &settings[i];
		char accepted[512];
		setting_accepted(s, accepted, sizeof(accepted));
		CHECK(s->key && s->arg && s->help, "row %zu", i);
		CHECK(s->shown != SHOWN_CHOICE || s->choices, "%s: a choice without choices", s->key);
		CHECK(accepted[0] != '\0', "%s: no accepted values", s->key);
		CHECK(setting_find(s->key) == s, "%s", s->key);
		CHECK(!s->fallback || setting_find(s->fallback), "%s falls back to nothing", s->key);
	}
}

static void test_env_name_and_file_key_reach_the_row(void)
{
	for (size_t i = 0; i < settings_count; i++) {
		const struct setting *s = &settings[i];
		char name[64];
		setting_env_name(s, name, sizeof(name));
		CHECK(setting_by_env(name, strlen(name)) == s, "%s -> %s", s->key, name);
	}
	CHECK(setting_by_env("PORTSHIM_ON_EXHAUS", 18) == NULL);
	CHECK(setting_by_env("PORTSHIM_ON_EXHAUSTX", 20) == NULL);
}

static void test_choices_make_the_accepted_list(void)
{
	char accepted[128];

	setting_accepted(setting_find("strategy"), accepted, sizeof(accepted));
	CHECK_STR(accepted, "auto, range, reuse or exclusive");
	setting_accepted(setting_find("order"), accepted, sizeof(accepted));
	CHECK_STR(accepted, "random or sequential");
	config_init(&cfg, false);
	CHECK_INT(configure_set(&cfg, "strategy", "reuse", "x", err, sizeof(err)), 0);
	CHECK_INT(cfg.strategy, STRATEGY_REUSE);
	CHECK_INT(configure_set(&cfg, "strategy", "nope", "--strategy", err, sizeof(err)), -1);
	CHECK_STR(err, "--strategy='nope': expected auto, range, reuse or exclusive");
}

/* The origin of each value, and rules: a file's `rule` lines add up, the
 * environment's PORTSHIM_RULES replaces them. */
static void test_origin_and_repeats(void)
{
	const struct setting *rules = setting_find("rules"), *order = setting_find("order");

	config_init(&cfg, false);
	CHECK_INT(configure_from_text(&cfg, "rule = 10.0.0.0/8=odd\nrule = *:53=even\norder = sequential\n",
				   "t.conf", err, sizeof(err)), 0);
	CHECK_INT(cfg.rules.count, 2);
	CHECK_INT(cfg.origin[setting_index(rules)], CONFIG_FILE);
	CHECK_INT(cfg.origin[setting_index(order)], CONFIG_FILE);
	CHECK_INT(cfg.origin[setting_index(setting_find("seed"))], CONFIG_DEFAULT);
	char *const env[] = { "PORTSHIM_RULES=*=any", NULL };
	CHECK_INT(configure_from_environ(&cfg, env, err, sizeof(err)), 0);
	CHECK_INT(cfg.rules.count, 1);
	CHECK_INT(cfg.origin[setting_index(rules)], CONFIG_ENV);
}

int main(void)
{
	RUN(test_rows_are_complete);
	RUN(test_env_name_and_file_key_reach_the_row);
	RUN(test_choices_make_the_accepted_list);
	RUN(test_origin_and_repeats);
	return check_done();
}
