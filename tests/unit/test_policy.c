/* Policy names, N:K classes, their canonical spelling and the passes
 * (residue classes, in order) each policy draws from. */
#include "check.h"
#include "policy.h"

static const struct {
	const char *name;
	enum policy_kind kind;
} names[] = {
	{ "off", POLICY_OFF },
	{ "any", POLICY_ANY },
	{ "even", POLICY_EVEN },
	{ "odd", POLICY_ODD },
	{ "prefer-even", POLICY_PREFER_EVEN },
	{ "prefer-odd", POLICY_PREFER_ODD },
};
#define NNAMES (sizeof(names) / sizeof(names[0]))

static void test_every_name(void)
{
	for (size_t i = 0; i < NNAMES; i++) {
		/* Start from a different kind, so a no-op parse cannot pass. */
		struct policy p = { .kind = POLICY_RESIDUE, .modulus = 9, .residue = 9 };
		CHECK(policy_parse(names[i].name, &p) == 0, "\"%s\" rejected", names[i].name);
		CHECK(p.kind == names[i].kind, "\"%s\": kind %d, expected %d", names[i].name, p.kind,
		      names[i].kind);
	}
}

static void residue_ok(const char *text, unsigned n, unsigned k)
{
	struct policy p = { .kind = POLICY_OFF };

	CHECK(policy_parse(text, &p) == 0 && p.kind == POLICY_RESIDUE && p.modulus == n &&
	      p.residue == k, "\"%s\": kind %d %u:%u, expected %u:%u", text, p.kind, p.modulus,
	      p.residue, n, k);
}

static void test_residue_valid(void)
{
	residue_ok("4:1", 4, 1);
	residue_ok("7:3", 7, 3);
	residue_ok("2:0", 2, 0);
	residue_ok("1:0", 1, 0);               /* every port */
	residue_ok("65535:65534", 65535, 65534);
	residue_ok("65535:0", 65535, 0);
	residue_ok("16:15", 16, 15);
}

static void test_rejected(void)
{
	static const char *const bad[] = {
		"4:4", "4:5", "1:1",     /* K >= N */
		"0:0", "0:1",            /* N = 0 */
		"65536:1", "70000:3", "18446744073709551616:1",
		"4:", ":1", ":", "4", "4:1x", "4:1 ", " 4:1", "4::1", "4:1:2", "-4:1", "4:-1",
		"+4:1", "4 :1", "4: 1",
		"", "EVEN", "Odd", "even ", " odd", "prefer", "prefer-any", "preferodd",
		"offf", "anything", "odd\n",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct policy p = { .kind = POLICY_ODD };
		CHECK(policy_parse(bad[i], &p) == -1, "\"%s\" accepted as kind %d %u:%u", bad[i],
		      p.kind, p.modulus, p.residue);
	}
}

static void format_is(const struct policy *p, const char *want)
{
	char buf[32];

	memset(buf, '#', sizeof(buf));
	policy_format(p, buf, sizeof(buf));
	CHECK_STR(buf, want);
}

static void test_format_round_trip(void)
{
	static const char *const texts[] = {
		"off", "any", "even", "odd", "prefer-even", "prefer-odd",
		"4:1", "7:3", "1:0", "65535:65534", "2:1",
	};
	for (size_t i = 0; i < sizeof(texts) / sizeof(texts[0]); i++) {
		struct policy p, again;
		char buf[32];
		if (!CHECK(policy_parse(texts[i], &p) == 0, "\"%s\"", texts[i]))
			continue;
		format_is(&p, texts[i]);
		policy_format(&p, buf, sizeof(buf));
		CHECK(policy_parse(buf, &again) == 0 && again.kind == p.kind &&
		      (p.kind != POLICY_RESIDUE ||
		       (again.modulus == p.modulus && again.residue == p.residue)),
		      "\"%s\" does not read back", buf);
	}
	/* A short buffer truncates, NUL-terminated, without overrunning. */
	struct policy p;
	char small[8];
	memset(small, '#', sizeof(small));
	policy_parse("prefer-even", &p);
	policy_format(&p, small, 4);
	CHECK_STR(small, "pre");
	CHECK(small[4] == '#', "wrote past the size given");
	p = (struct policy){ .kind = POLICY_RESIDUE, .modulus = 65535, .residue = 65534 };
	policy_format(&p, small, 6);
	CHECK_STR(small, "65535");
}

/* The passes a policy text resolves to, as "N:K" strings, e.g. "2:0 2:1". */
static void passes_are(const char *text, int want_n, const char *want)
{
	struct policy p;
	struct port_class passes[2] = { { 999, 999 }, { 999, 999 } };
	char got[64] = "";

	if (!CHECK(policy_parse(text, &p) == 0, "\"%s\"", text))
		return;
	int n = policy_passes(&p, passes);
	for (int i = 0; i < n && i < 2; i++)
		snprintf(got + strlen(got), sizeof(got) - strlen(got), "%s%u:%u", i ? " " : "",
			 passes[i].modulus, passes[i].residue);
	CHECK(n == want_n, "\"%s\": %d passes, expected %d", text, n, want_n);
	CHECK(strcmp(got, want) == 0, "\"%s\": passes \"%s\", expected \"%s\"", text, got, want);
}

static void test_passes(void)
{
	passes_are("off", 0, "");
	passes_are("any", 1, "1:0");
	passes_are("even", 1, "2:0");
	passes_are("odd", 1, "2:1");
	passes_are("prefer-even", 2, "2:0 2:1"); /* the preferred parity first */
	passes_are("prefer-odd", 2, "2:1 2:0");
	passes_are("4:1", 1, "4:1");
	passes_are("7:3", 1, "7:3");
	passes_are("1:0", 1, "1:0");
}

int main(void)
{
	RUN(test_every_name);
	RUN(test_residue_valid);
	RUN(test_rejected);
	RUN(test_format_round_trip);
	RUN(test_passes);
	return check_done();
}
