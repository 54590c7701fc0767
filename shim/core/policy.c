/* Policy names and the residue classes behind them; see policy.h. */
#include "policy.h"

#include <stdio.h>
#include <string.h>

#include "parse.h"

static const struct {
	const char *name;
	enum policy_kind kind;
} named_policies[] = {
	{ "off", POLICY_OFF },
	{ "any", POLICY_ANY },
	{ "even", POLICY_EVEN },
	{ "odd", POLICY_ODD },
	{ "prefer-even", POLICY_PREFER_EVEN },
	{ "prefer-odd", POLICY_PREFER_ODD },
	{ "kernel", POLICY_KERNEL },
	{ "linux-4.2", POLICY_LINUX42 },
	{ "legacy", POLICY_LEGACY },
};

int policy_parse(const char *text, struct policy *out)
{
	for (size_t i = 0; i < sizeof(named_policies) / sizeof(named_policies[0]); i++) {
		if (strcmp(text, named_policies[i].name) == 0) {
			*out = (struct policy){ .kind = named_policies[i].kind };
			return 0;
		}
	}

	uint64_t modulus, residue;
	const char *rest = parse_u64(text, &modulus);
	if (!rest || *rest != ':')
		return -1;
	rest = parse_u64(rest + 1, &residue);
	if (!rest || *rest != '\0' || modulus < 1 || modulus > 65535 || residue >= modulus)
		return -1;
	*out = (struct policy){ .kind = POLICY_RESIDUE,
				.modulus = (uint16_t)modulus,
				.residue = (uint16_t)residue };
	return 0;
}

/* Appends the decimal digits of v at buf[*n], within size. */
static void put_uint(char *buf, size_t size, size_t *n, unsigned v)
{
	char digits[8];
	int k = 0;

	do {
		digits[k++] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	while (k && *n + 1 < size)
		buf[(*n)++] = digits[--k];
}

/* No snprintf: this runs in every process at start-up, and stdio's
 * formatting code would be paged in for it. */
void policy_format(const struct policy *policy, char *buf, size_t size)
{
	size_t n = 0;

	if (size == 0)
		return;
	if (policy->kind == POLICY_RESIDUE) {
		put_uint(buf, size, &n, policy->modulus);
		if (n + 1 < size)
			buf[n++] = ':';
		put_uint(buf, size, &n, policy->residue);
	} else {
		for (size_t i = 0; i < sizeof(named_policies) / sizeof(named_policies[0]); i++)
			if (named_policies[i].kind == policy->kind)
				for (const char *p = named_policies[i].name; *p && n + 1 < size; p++)
					buf[n++] = *p;
	}
	buf[n] = '\0';
}

int policy_passes(const struct policy *policy, struct port_class passes[2])
{
	static const struct port_class every = { 1, 0 }, even = { 2, 0 }, odd = { 2, 1 };

	switch (policy->kind) {
	case POLICY_OFF:
		return 0;
	case POLICY_ANY:
		passes[0] = every;
		return 1;
	case POLICY_EVEN:
		passes[0] = even;
		return 1;
	case POLICY_ODD:
		passes[0] = odd;
		return 1;
	case POLICY_PREFER_EVEN:
		passes[0] = even;
		passes[1] = odd;
		return 2;
	case POLICY_PREFER_ODD:
		passes[0] = odd;
		passes[1] = even;
		return 2;
	case POLICY_RESIDUE:
		passes[0] = (struct port_class){ policy->modulus, policy->residue };
		return 1;
	case POLICY_KERNEL:
	case POLICY_LINUX42:
	case POLICY_LEGACY:
		return 0;
	}
	return 0;
}
