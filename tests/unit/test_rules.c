/* Per-destination rules (PORTSHIM_RULES, rules.h): what a rule parses
 * into, the exact message of each kind of bad rule, which rule a
 * destination matches (the first; a prefix cut inside a byte; an
 * IPv4-mapped address matching IPv4 rules), against a bit-by-bit reference
 * over random addresses, and the spelling --check and the log print. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/un.h>

#include "check.h"
#include "rules.h"

static struct rules rules;
static char err[512];

/* rules_parse() into an emptied set; the result, err left for the test. */
static int parse(const char *text)
{
	memset(&rules, 0, sizeof(rules));
	memset(err, 0, sizeof(err));
	return rules_parse(&rules, text, err, sizeof(err));
}

static struct sockaddr_in v4(const char *addr, unsigned port)
{
	struct sockaddr_in in = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };

	if (inet_pton(AF_INET, addr, &in.sin_addr) != 1)
		abort();
	return in;
}

static struct sockaddr_in6 v6(const char *addr, unsigned port)
{
	struct sockaddr_in6 in6 = { .sin6_family = AF_INET6, .sin6_port = htons((uint16_t)port) };

	if (inet_pton(AF_INET6, addr, &in6.sin6_addr) != 1)
		abort();
	return in6;
}

static int match4(const char *addr, unsigned port)
{
	struct sockaddr_in in = v4(addr, port);

	return rules_match(&rules, (struct sockaddr *)&in, sizeof(in));
}

static int match6(const char *addr, unsigned port)
{
	struct sockaddr_in6 in6 = v6(addr, port);

	return rules_match(&rules, (struct sockaddr *)&in6, sizeof(in6));
}

static const char *format(int i)
{
	static char buf[160];

	rules_format_one(&rules.rule[i], buf, sizeof(buf));
	return buf;
}

static void test_parse_fields(void)
{
	if (!CHECK_INT(parse("10.1.2.3/8:443=odd; [2001:db8:ffff::1]/32=any"), 0))
		return;
	CHECK_INT(rules.count, 2);
	const struct rule *r = &rules.rule[0];
	CHECK_INT(r->family, AF_INET);
	CHECK_INT(r->prefix, 8);
	CHECK_INT(r->port, 443);
	CHECK_INT(r->policy.kind, POLICY_ODD);
	/* The network is stored masked: the host bits are gone. */
	CHECK(memcmp(r->addr, (uint8_t[]){ 10, 0, 0, 0 }, 4) == 0, "%u.%u.%u.%u", r->addr[0],
	      r->addr[1], r->addr[2], r->addr[3]);
	r = &rules.rule[1];
	CHECK_INT(r->family, AF_INET6);
	CHECK_INT(r->prefix, 32);
	CHECK_INT(r->port, 0);
	CHECK_INT(r->policy.kind, POLICY_ANY);
	struct in6_addr net;
	inet_pton(AF_INET6, "2001:db8::", &net);
	CHECK(memcmp(r->addr, &net, 16) == 0, "the IPv6 network is not masked to /32");

	/* No prefix: one host.  '*': every address, with or without a port. */
	CHECK_INT(parse("192.0.2.7=even;[::1]=4:1;*=prefer-odd;*:53=kernel"), 0);
	CHECK_INT(rules.count, 4);
	CHECK(rules.rule[0].family == AF_INET && rules.rule[0].prefix == 32);
	CHECK(rules.rule[1].family == AF_INET6 && rules.rule[1].prefix == 128);
	CHECK(rules.rule[1].policy.kind == POLICY_RESIDUE && rules.rule[1].policy.modulus == 4 &&
	      rules.rule[1].policy.residue == 1);
	CHECK(rules.rule[2].family == AF_UNSPEC && rules.rule[2].prefix == 0 &&
	      rules.rule[2].port == 0 && rules.rule[2].policy.kind == POLICY_PREFER_ODD);
	CHECK(rules.rule[3].family == AF_UNSPEC && rules.rule[3].port == 53 &&
	      rules.rule[3].policy.kind == POLICY_KERNEL);

	/* Blanks anywhere, empty entries and a trailing ';' are nothing. */
	CHECK_INT(parse(" ;; 10.0.0.0 / 8 : 443\t= odd ;\n; "), 0);
	CHECK_INT(rules.count, 1);
	CHECK(rules.rule[0].prefix == 8 && rules.rule[0].port == 443 &&
	      rules.rule[0].policy.kind == POLICY_ODD);
	CHECK_INT(parse(""), 0);
	CHECK_INT(rules.count, 0);
	CHECK_INT(parse(" ; ;"), 0);
	CHECK_INT(rules.count, 0);

	/* The edges of prefixes and ports. */
	CHECK_INT(parse("0.0.0.0/0=odd;10.0.0.0/32:1=odd;[::]/0:65535=odd;[::]/128=odd"), 0);
	CHECK_INT(rules.count, 4);
	CHECK(rules.rule[0].prefix == 0 && rules.rule[1].prefix == 32 && rules.rule[1].port == 1 &&
	      rules.rule[2].prefix == 0 && rules.rule[2].port == 65535 &&
	      rules.rule[3].prefix == 128);
}

static void test_parse_appends(void)
{
	if (!CHECK_INT(parse("10.0.0.0/8=odd"), 0))
		return;
	CHECK_INT(rules_parse(&rules, "*=even; [::1]=any", err, sizeof(err)), 0);
	CHECK_INT(rules.count, 3);
	CHECK_INT(rules.rule[0].policy.kind, POLICY_ODD);
	CHECK_INT(rules.rule[2].family, AF_INET6);
}

/* "*:" then `digits` digits of port 1 ("00...01"), `blanks` blanks, "=odd":
 * an entry of digits + 6 bytes that are not blanks. */
static const char *long_entry(char *buf, int digits, int blanks)
{
	int n = sprintf(buf, "*:%0*d", digits, 1);
	n += sprintf(buf + n, "%*s", blanks, "");
	strcpy(buf + n, "=odd");
	return buf;
}

static void test_bad_rules(void)
{
	static const char dest[] = "; expected " RULES_DEST_ACCEPTED;
	static const struct {
		const char *text, *want;
	} cases[] = {
		{ "10.0.0.0/8", "rule 1, '10.0.0.0/8': expected DEST=POLICY" },
		{ "*=odd; 10.0.0.1 odd", "rule 2, '10.0.0.1odd': expected DEST=POLICY" },
		{ "10.0.0.0/33=odd", "rule 1: bad destination '10.0.0.0/33'" },
		{ "[::]/129=odd", "rule 1: bad destination '[::]/129'" },
		{ "10.0.0.0/=odd", "rule 1: bad destination '10.0.0.0/'" },
		{ "10.0.0.0/8x=odd", "rule 1: bad destination '10.0.0.0/8x'" },
		{ "10.0.0.1:0=odd", "rule 1: bad destination '10.0.0.1:0'" },
		{ "10.0.0.1:65536=odd", "rule 1: bad destination '10.0.0.1:65536'" },
		{ "10.0.0=odd", "rule 1: bad destination '10.0.0'" },
		{ "10.0.0.256=odd", "rule 1: bad destination '10.0.0.256'" },
		{ "host.example=odd", "rule 1: bad destination 'host.example'" },
		{ "[::1=odd", "rule 1: bad destination '[::1'" },
		{ "[10.0.0.1]=odd", "rule 1: bad destination '[10.0.0.1]'" },
		{ "::1=odd", "rule 1: bad destination '::1'" },
		{ "*/8=odd", "rule 1: bad destination '*/8'" },
		{ "*x=odd", "rule 1: bad destination '*x'" },
		{ "=odd", "rule 1: bad destination ''" },
		/* The last '=' splits: "*=odd" is no destination. */
		{ "*=odd=even", "rule 1: bad destination '*=odd'" },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char want[512];
		bool dest_error = strstr(cases[i].want, "bad destination") != NULL;
		snprintf(want, sizeof(want), "%s%s", cases[i].want, dest_error ? dest : "");
		CHECK(parse(cases[i].text) == -1, "'%s' parsed", cases[i].text);
		CHECK_STR(err, want);
	}

	CHECK_INT(parse("10.0.0.0/8=evn"), -1);
	CHECK_STR(err, "rule 1: bad policy 'evn'; expected " POLICY_ACCEPTED);
	CHECK_INT(parse("10.0.0.0/8=odd;*="), -1);
	CHECK_STR(err, "rule 2: bad policy ''; expected " POLICY_ACCEPTED);

	/* An entry of 127 bytes is fine, blanks not counted; 128 is not. */
	char text[400];
	CHECK_INT(parse(long_entry(text, 121, 0)), 0); /* "*:000...01=odd" */
	CHECK(rules.count == 1 && rules.rule[0].port == 1, "%d rules", rules.count);
	CHECK_INT(parse(long_entry(text, 121, 200)), 0);
	CHECK(rules.count == 1 && rules.rule[0].port == 1, "%d rules", rules.count);
	CHECK_INT(parse(long_entry(text, 122, 0)), -1);
	CHECK_STR(err, "rule 1 is longer than 127 bytes");

	/* At most RULES_MAX; the rules before the error stay parsed. */
	char many[40 * 16] = "";
	for (int i = 0; i < RULES_MAX; i++)
		snprintf(many + strlen(many), sizeof(many) - strlen(many), "10.0.0.%d=odd;", i);
	CHECK_INT(parse(many), 0);
	CHECK_INT(rules.count, RULES_MAX);
	strcat(many, "*=even");
	CHECK_INT(parse(many), -1);
	CHECK_STR(err, "more than 32 rules");
	CHECK_INT(rules.count, RULES_MAX);

	/* A small error buffer: cut and terminated, nothing written past it. */
	char small[16];
	memset(small, '#', sizeof(small));
	memset(&rules, 0, sizeof(rules));
	CHECK_INT(rules_parse(&rules, "10.0.0.0/8=evn", small, 8), -1);
	CHECK_STR(small, "rule 1:");
	CHECK(small[8] == '#', "wrote past the buffer");
}

static void test_first_match_wins(void)
{
	if (!CHECK_INT(parse("10.0.0.0/8:443=odd; 10.0.0.0/8=even; *:53=4:1; *=any"), 0))
		return;
	CHECK_INT(match4("10.1.2.3", 443), 0);
	CHECK_INT(match4("10.1.2.3", 80), 1);
	CHECK_INT(match4("10.255.255.255", 444), 1);
	CHECK_INT(match4("11.0.0.1", 443), 3);
	CHECK_INT(match4("11.0.0.1", 53), 2);
	CHECK_INT(match4("10.1.2.3", 53), 1); /* the earlier rule */
	CHECK_INT(match6("2001:db8::1", 53), 2);
	CHECK_INT(match6("2001:db8::1", 443), 3);

	/* Nothing matches: the default policy (-1). */
	CHECK_INT(parse("10.0.0.0/8=odd; [2001:db8::]/32=even"), 0);
	CHECK_INT(match4("192.0.2.1", 80), -1);
	CHECK_INT(match6("2001:db9::1", 80), -1);
	CHECK_INT(match6("::1", 80), -1);
	/* An IPv4 rule is no IPv6 rule: 10.0.0.0/8 is not ::a00:0/104. */
	CHECK_INT(match6("::a00:1", 80), -1);
	CHECK_INT(match6("2001:db8:ffff:ffff::", 80), 1);
}

static void test_prefix_inside_a_byte(void)
{
	if (!CHECK_INT(parse("10.0.0.0/9=odd; [2001:db8:8000::]/33=even; 192.0.2.128/25:80=any"),
		       0))
		return;
	CHECK_INT(match4("10.0.0.0", 1), 0);
	CHECK_INT(match4("10.127.255.255", 1), 0);
	CHECK_INT(match4("10.128.0.0", 1), -1);
	CHECK_INT(match4("11.0.0.0", 1), -1);
	CHECK_INT(match6("2001:db8:8000::", 1), 1);
	CHECK_INT(match6("2001:db8:ffff:ffff:ffff:ffff:ffff:ffff", 1), 1);
	CHECK_INT(match6("2001:db8:7fff:ffff:ffff:ffff:ffff:ffff", 1), -1);
	CHECK_INT(match4("192.0.2.128", 80), 2);
	CHECK_INT(match4("192.0.2.255", 80), 2);
	CHECK_INT(match4("192.0.2.127", 80), -1);
	CHECK_INT(match4("192.0.2.200", 81), -1);
	/* /0 takes every address of its family, and only of it. */
	CHECK_INT(parse("0.0.0.0/0=odd"), 0);
	CHECK_INT(match4("255.255.255.255", 9), 0);
	CHECK_INT(match6("2001:db8::1", 9), -1);
	CHECK_INT(parse("[::]/0=odd"), 0);
	CHECK_INT(match6("ffff::1", 9), 0);
	CHECK_INT(match4("10.0.0.1", 9), -1);
}

static void test_v4_mapped_matches_ipv4_rules(void)
{
	if (!CHECK_INT(parse("10.0.0.0/8=odd; [::ffff:0:0]/96=even; *=any"), 0))
		return;
	/* An AF_INET6 socket connecting to ::ffff:10.1.2.3 goes to 10.1.2.3. */
	CHECK_INT(match6("::ffff:10.1.2.3", 80), 0);
	CHECK_INT(match6("::ffff:11.1.2.3", 80), 1); /* and stays an IPv6 address too */
	/* Not IPv4-compatible (::a01:203), nor NAT64: only ::ffff:0:0/96. */
	CHECK_INT(match6("::10.1.2.3", 80), 2);
	CHECK_INT(match6("64:ff9b::10.1.2.3", 80), 2);
}

static void test_addresses_not_read(void)
{
	struct sockaddr_in in = v4("10.0.0.1", 80);
	struct sockaddr_in6 in6 = v6("2001:db8::1", 80);
	struct sockaddr_un un = { .sun_family = AF_UNIX, .sun_path = "/tmp/x" };

	if (!CHECK_INT(parse("*=odd"), 0))
		return;
	CHECK_INT(rules_match(&rules, (struct sockaddr *)&in, sizeof(in)), 0);
	CHECK_INT(rules_match(&rules, (struct sockaddr *)&in, sizeof(in) - 1), -1);
	CHECK_INT(rules_match(&rules, (struct sockaddr *)&in6, sizeof(in6)), 0);
	/* RFC 2133's sockaddr_in6 (24 bytes, no scope id) is an address. */
	CHECK_INT(rules_match(&rules, (struct sockaddr *)&in6, 24), 0);
	CHECK_INT(rules_match(&rules, (struct sockaddr *)&in6, 23), -1);
	CHECK_INT(rules_match(&rules, (struct sockaddr *)&un, sizeof(un)), -1);
	CHECK_INT(rules_match(&rules, NULL, 0), -1);
	/* No rules: nothing matches. */
	CHECK_INT(parse(""), 0);
	CHECK_INT(rules_match(&rules, (struct sockaddr *)&in, sizeof(in)), -1);
}

/* The reference: bit i of an address is byte i / 8, from its top bit. */
static bool in_prefix(const uint8_t *net, const uint8_t *addr, unsigned prefix)
{
	for (unsigned i = 0; i < prefix; i++) {
		unsigned shift = 7 - i % 8;
		if (((net[i / 8] >> shift) & 1) != ((addr[i / 8] >> shift) & 1))
			return false;
	}
	return true;
}

/* One random rule against random addresses near its network (a few bits
 * flipped), both families: rules_match() agrees with the reference. */
static void test_random_prefixes(void)
{
	unsigned long long state = check_seed(0x2a1e5);
	unsigned mismatches = 0, matched = 0, total = 0;

	for (int round = 0; round < 3000; round++) {
		bool six = round % 2;
		unsigned bytes = six ? 16 : 4, prefix = check_rand_in(&state, 0, bytes * 8);
		uint8_t net[16], addr[16];
		char host[INET6_ADDRSTRLEN], text[128];

		for (unsigned i = 0; i < bytes; i++)
			net[i] = (uint8_t)check_rand(&state);
		inet_ntop(six ? AF_INET6 : AF_INET, net, host, sizeof(host));
		snprintf(text, sizeof(text), six ? "[%s]/%u=odd" : "%s/%u=odd", host, prefix);
		if (!CHECK_INT(parse(text), 0))
			return;
		for (int k = 0; k < 8; k++) {
			memcpy(addr, net, bytes);
			for (unsigned flips = check_rand_in(&state, 0, 2); flips; flips--) {
				unsigned bit = check_rand_in(&state, 0, bytes * 8 - 1);
				addr[bit / 8] ^= (uint8_t)(0x80u >> (bit % 8));
			}
			int want = in_prefix(net, addr, prefix) ? 0 : -1, got;
			if (six) {
				struct sockaddr_in6 a = { .sin6_family = AF_INET6 };
				memcpy(&a.sin6_addr, addr, 16);
				got = rules_match(&rules, (struct sockaddr *)&a, sizeof(a));
			} else {
				struct sockaddr_in a = { .sin_family = AF_INET };
				memcpy(&a.sin_addr, addr, 4);
				got = rules_match(&rules, (struct sockaddr *)&a, sizeof(a));
			}
			total++;
			matched += got == 0;
			if (got != want && mismatches++ < 5)
				CHECK(got == want, "%s: address %u: got %d, expected %d", text, k, got,
				      want);
		}
	}
	CHECK(mismatches == 0, "%u of %u disagree with the reference", mismatches, total);
	/* Both answers were exercised. */
	CHECK(matched > total / 5 && matched < total * 4 / 5, "%u of %u matched", matched, total);
}

static void test_format(void)
{
	static const struct {
		const char *in, *out;
	} cases[] = {
		{ "10.1.2.3/8:443=odd", "10.0.0.0/8:443=odd" },
		{ "192.0.2.7=even", "192.0.2.7/32=even" },
		{ "[2001:db8::1]=any", "[2001:db8::1]/128=any" },
		{ "[2001:DB8:ffff::]/32:8443=4:3", "[2001:db8::]/32:8443=4:3" },
		{ "*=prefer-even", "*=prefer-even" },
		{ "*:53=linux-4.2", "*:53=linux-4.2" },
		{ "0.0.0.0/0=legacy", "0.0.0.0/0=legacy" },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		if (!CHECK_INT(parse(cases[i].in), 0))
			continue;
		CHECK_STR(format(0), cases[i].out);
		/* What it prints parses back to the same rule. */
		struct rule first = rules.rule[0];
		if (CHECK_INT(parse(cases[i].out), 0))
			CHECK(memcmp(&first, &rules.rule[0], sizeof(first)) == 0, "%s", cases[i].out);
	}

	/* A short buffer: cut and terminated. */
	char buf[8];
	memset(buf, '#', sizeof(buf));
	CHECK_INT(parse("10.0.0.0/8:443=odd"), 0);
	rules_format_one(&rules.rule[0], buf, 6);
	CHECK_STR(buf, "10.0.");
	CHECK(buf[6] == '#', "wrote past the buffer");
}

int main(void)
{
	RUN(test_parse_fields);
	RUN(test_parse_appends);
	RUN(test_bad_rules);
	RUN(test_first_match_wins);
	RUN(test_prefix_inside_a_byte);
	RUN(test_v4_mapped_matches_ipv4_rules);
	RUN(test_addresses_not_read);
	RUN(test_random_prefixes);
	RUN(test_format);
	return check_done();
}
