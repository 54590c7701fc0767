/* See parse.h. */
#include "parse.h"

#include <stddef.h>

const char *parse_u64(const char *text, uint64_t *out)
{
	unsigned base = 10;
	uint64_t value = 0;
	const char *p = text;

	if (p[0] == '0' && (p[1] == 'x' || p[1] == 'X')) {
		base = 16;
		p += 2;
	}
	const char *digits = p;
	for (;; p++) {
		unsigned d;
		if (*p >= '0' && *p <= '9')
			d = (unsigned)(*p - '0');
		else if (base == 16 && *p >= 'a' && *p <= 'f')
			d = (unsigned)(*p - 'a' + 10);
		else if (base == 16 && *p >= 'A' && *p <= 'F')
			d = (unsigned)(*p - 'A' + 10);
		else
			break;
		if (value > (UINT64_MAX - d) / base)
			return NULL;
		value = value * base + d;
	}
	if (p == digits)
		return NULL;
	*out = value;
	return p;
}

static const char *parse_port(const char *text, unsigned *port)
{
	uint64_t value;
	const char *rest = parse_u64(text, &value);

	if (!rest || value < 1 || value > 65535)
		return NULL;
	*port = (unsigned)value;
	return rest;
}

int parse_port_range(const char *text, unsigned *lo, unsigned *hi)
{
	const char *rest = parse_port(text, lo);

	if (!rest || *rest != '-')
		return -1;
	rest = parse_port(rest + 1, hi);
	if (!rest || *rest != '\0' || *lo > *hi)
		return -1;
	return 0;
}

static const char *skip_blanks(const char *p)
{
	while (*p == ' ' || *p == '\t' || *p == '\n')
		p++;
	return p;
}

int parse_port_list(const char *text, struct portset *set)
{
	const char *p = skip_blanks(text);

	while (*p) {
		unsigned lo, hi;
		p = parse_port(p, &lo);
		if (!p)
			return -1;
		hi = lo;
		if (*p == '-') {
			p = parse_port(p + 1, &hi);
			if (!p || hi < lo)
				return -1;
		}
		portset_add_range(set, lo, hi);
		p = skip_blanks(p);
		if (*p == ',')
			p = skip_blanks(p + 1);
		else if (*p)
			return -1;
	}
	return 0;
}
