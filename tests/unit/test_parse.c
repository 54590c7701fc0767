/* The strict parsers: what they accept, the value they give, where they
 * stop, and that everything else is rejected rather than half-read. */
#include <stddef.h>

#include "check.h"
#include "parse.h"

static struct portset set, want;

/* parse_u64 must return text + stop with *out == value. */
static void u64_ok(const char *text, size_t stop, uint64_t value)
{
	uint64_t out = 12345;
	const char *rest = parse_u64(text, &out);

	CHECK(rest == text + stop, "\"%s\": stopped at offset %td, expected %zu", text,
	      rest ? rest - text : (ptrdiff_t)-1, stop);
	CHECK(out == value, "\"%s\": got %llu, expected %llu", text, (unsigned long long)out,
	      (unsigned long long)value);
}

static void u64_bad(const char *text)
{
	uint64_t out = 0;
	const char *rest = parse_u64(text, &out);

	CHECK(rest == NULL, "\"%s\" accepted (value %llu, rest \"%s\")", text,
	      (unsigned long long)out, rest ? rest : "");
}

static void test_u64_decimal_and_hex(void)
{
	u64_ok("0", 1, 0);
	u64_ok("42", 2, 42);
	u64_ok("007", 3, 7); /* leading zeros are decimal, not octal */
	u64_ok("0x2a", 4, 42);
	u64_ok("0X2A", 4, 42);
	u64_ok("0xDeadBeef", 10, 0xdeadbeef);
	u64_ok("18446744073709551615", 20, UINT64_MAX);
	u64_ok("0xffffffffffffffff", 18, UINT64_MAX);
	u64_ok("0x0000000000000000001", 21, 1); /* many digits, small value */
	/* It stops at the first non-digit; the caller decides about the rest. */
	u64_ok("123abc", 3, 123);
	u64_ok("40000-40009", 5, 40000);
	u64_ok("0x1g", 3, 1);
	u64_ok("12 ", 2, 12);
	u64_ok("65535\n", 5, 65535);
}

static void test_u64_rejects(void)
{
	u64_bad("");
	u64_bad("18446744073709551616");  /* 2^64 */
	u64_bad("18446744073709551620");
	u64_bad("99999999999999999999");
	u64_bad("0x10000000000000000");   /* 2^64 */
	u64_bad("0x1ffffffffffffffff");
	u64_bad("-1");
	u64_bad("+1");
	u64_bad(" 1");
	u64_bad("\t1");
	u64_bad("x1");
	u64_bad("0x");  /* a prefix and no digits */
	u64_bad("0xg");
	u64_bad("abc");
}

static void test_u64_random_round_trip(void)
{
	unsigned long long rs = check_seed(0x64f00dULL);

	for (int i = 0; i < 20000; i++) {
		uint64_t v = check_rand(&rs) >> check_rand_in(&rs, 0, 63);
		char text[32];
		int n = snprintf(text, sizeof(text), i % 2 ? "%llu" : "0x%llx", (unsigned long long)v);
		uint64_t out = ~v;
		const char *rest = parse_u64(text, &out);
		if (!CHECK(rest == text + n && out == v, "\"%s\" gave %llu", text,
			   (unsigned long long)out))
			return;
	}
}

static void range_ok(const char *text, unsigned lo, unsigned hi)
{
	unsigned l = 0, h = 0;

	CHECK(parse_port_range(text, &l, &h) == 0 && l == lo && h == hi,
	      "\"%s\": got %u-%u, expected %u-%u", text, l, h, lo, hi);
}

static void range_bad(const char *text)
{
	unsigned l = 0, h = 0;

	CHECK(parse_port_range(text, &l, &h) == -1, "\"%s\" accepted as %u-%u", text, l, h);
}

static void test_port_range(void)
{
	range_ok("40000-40009", 40000, 40009);
	range_ok("1-65535", 1, 65535);
	range_ok("5000-5000", 5000, 5000);
	range_bad("60000-1000"); /* LO > HI */
	range_bad("70000-80000");
	range_bad("65535-65536");
	range_bad("0-5");        /* port 0 is "any port", never in a range */
	range_bad("5");
	range_bad("5-");
	range_bad("-5");
	range_bad("");
	range_bad("-");
	range_bad("5-10x");      /* the whole string, nothing after */
	range_bad("5-10 ");
	range_bad("5-10\n");
	range_bad(" 5-10");
	range_bad("5 -10");
	range_bad("5- 10");
	range_bad("5--10");
	range_bad("5-10-20");
	range_bad("5,10");
	range_bad("+5-10");
	range_bad("5:10");
}

/* Parses into a fresh set and compares with `want` port by port. */
static void list_ok(const char *text)
{
	portset_clear(&set);
	if (!CHECK(parse_port_list(text, &set) == 0, "\"%s\" rejected", text))
		return;
	for (unsigned p = 0; p < PORTMAP_PORTS; p++)
		if (!CHECK(portset_has(&set, p) == portset_has(&want, p), "\"%s\": port %u", text, p))
			return;
	CHECK(set.count == want.count, "\"%s\": count %u, expected %u", text, set.count, want.count);
}

static void list_bad(const char *text)
{
	portset_clear(&set);
	CHECK(parse_port_list(text, &set) == -1, "\"%s\" accepted", text);
}

static void test_port_list_kernel_formats(void)
{
	/* What /proc/sys/net/ipv4/ip_local_reserved_ports holds when empty. */
	portset_clear(&want);
	list_ok("");
	list_ok("\n");
	list_ok("  \n");

	portset_add_range(&want, 80, 80);
	portset_add_range(&want, 443, 443);
	portset_add_range(&want, 8000, 8099);
	list_ok("80,443,8000-8099\n");
	list_ok("80,443,8000-8099");
	list_ok("80, 443, 8000-8099");  /* spaces after commas */
	list_ok("80 ,443 ,8000-8099 ");
	list_ok("8000-8099,443,80");    /* any order */
	list_ok("80,80,443,8000-8049,8050-8099"); /* overlaps and splits */
	CHECK_INT(set.count, 102);

	portset_clear(&want);
	portset_add_range(&want, 1, 1);
	portset_add_range(&want, 65535, 65535);
	list_ok("1,65535\n");
	portset_clear(&want);
	portset_add_range(&want, 1, 65535);
	list_ok("1-65535\n");
}

static void test_port_list_rejects(void)
{
	list_bad("0");
	list_bad("65536");
	list_bad("80,0");
	list_bad("80,,443");
	list_bad(",80");
	list_bad("80 443");
	list_bad("80;443");
	list_bad("80,443x");
	list_bad("abc");
	list_bad("80-");
	list_bad("-80");
	list_bad("90-80");
	list_bad("80-90-100");
	list_bad("80-70000");
	list_bad("+80");
}

static void test_port_list_adds_to_set(void)
{
	portset_clear(&set);
	portset_add_range(&set, 10, 10);
	CHECK(parse_port_list("20-21", &set) == 0);
	CHECK(portset_has(&set, 10) && portset_has(&set, 20) && portset_has(&set, 21));
	CHECK_INT(set.count, 3);
	CHECK_INT(set.first, 10);
	CHECK_INT(set.last, 21);
}

/* A long list, written the way the kernel writes one ("a,b-c,...\n"),
 * reads back to exactly the set it came from. */
static void test_port_list_round_trip(void)
{
	static char text[400000];
	unsigned long long rs = check_seed(0x11575eedULL);
	size_t n = 0;

	portset_clear(&want);
	for (int i = 0; i < 3000; i++) {
		unsigned lo = check_rand_in(&rs, 1, 65535);
		unsigned hi = lo + check_rand_in(&rs, 0, i % 4 ? 0 : 30);
		portset_add_range(&want, lo, hi > 65535 ? 65535 : hi);
	}
	for (unsigned p = 1; p < PORTMAP_PORTS; p++) {
		if (!portset_has(&want, p) || portset_has(&want, p - 1))
			continue;
		unsigned q = p;
		while (q < 65535 && portset_has(&want, q + 1))
			q++;
		if (n)
			text[n++] = ',';
		if (q > p)
			n += (size_t)snprintf(text + n, sizeof(text) - n, "%u-%u", p, q);
		else
			n += (size_t)snprintf(text + n, sizeof(text) - n, "%u", p);
	}
	snprintf(text + n, sizeof(text) - n, "\n");
	list_ok(text);
	CHECK(want.count > 3000, "count %u", want.count);
}

int main(void)
{
	RUN(test_u64_decimal_and_hex);
	RUN(test_u64_rejects);
	RUN(test_u64_random_round_trip);
	RUN(test_port_range);
	RUN(test_port_list_kernel_formats);
	RUN(test_port_list_rejects);
	RUN(test_port_list_adds_to_set);
	RUN(test_port_list_round_trip);
	return check_done();
}
