/* See jsonread.h.  RFC 8259, restricted to one flat object; strings must be
 * well-formed UTF-8 (overlong forms and surrogates rejected) because the
 * report prints them again, in its table and in its own JSON. */
#include "jsonread.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

struct parser {
	const unsigned char *start, *p, *end;
	const char *why;
	const char *too_long; /* what an overlong string is: a key or a value */
};

static int fail(struct parser *ps, const char *why)
{
	if (!ps->why)
		ps->why = why;
	return -1;
}

static void skip_space(struct parser *ps)
{
	while (ps->p < ps->end &&
	       (*ps->p == ' ' || *ps->p == '\t' || *ps->p == '\r' || *ps->p == '\n'))
		ps->p++;
}

static bool take(struct parser *ps, char c)
{
	if (ps->p < ps->end && *ps->p == (unsigned char)c) {
		ps->p++;
		return true;
	}
	return false;
}

/* Appends one code point as UTF-8 to out[*n], leaving room for the NUL. */
static int put_utf8(struct parser *ps, char *out, size_t cap, size_t *n, uint32_t cp)
{
	unsigned char b[4];
	size_t len;

	if (cp < 0x80) {
		b[0] = (unsigned char)cp;
		len = 1;
	} else if (cp < 0x800) {
		b[0] = (unsigned char)(0xC0 | (cp >> 6));
		b[1] = (unsigned char)(0x80 | (cp & 0x3F));
		len = 2;
	} else if (cp < 0x10000) {
		b[0] = (unsigned char)(0xE0 | (cp >> 12));
		b[1] = (unsigned char)(0x80 | ((cp >> 6) & 0x3F));
		b[2] = (unsigned char)(0x80 | (cp & 0x3F));
		len = 3;
	} else {
		b[0] = (unsigned char)(0xF0 | (cp >> 18));
		b[1] = (unsigned char)(0x80 | ((cp >> 12) & 0x3F));
		b[2] = (unsigned char)(0x80 | ((cp >> 6) & 0x3F));
		b[3] = (unsigned char)(0x80 | (cp & 0x3F));
		len = 4;
	}
	if (*n + len >= cap)
		return fail(ps, ps->too_long);
	memcpy(out + *n, b, len);
	*n += len;
	return 0;
}

static int hex4(struct parser *ps, uint32_t *out)
{
	uint32_t v = 0;

	if (ps->end - ps->p < 4)
		return fail(ps, "truncated \\u escape");
	for (int i = 0; i < 4; i++) {
		unsigned char c = *ps->p++;
		v <<= 4;
		if (c >= '0' && c <= '9')
			v |= (uint32_t)(c - '0');
		else if (c >= 'a' && c <= 'f')
			v |= (uint32_t)(c - 'a' + 10);
		else if (c >= 'A' && c <= 'F')
			v |= (uint32_t)(c - 'A' + 10);
		else
			return fail(ps, "bad hex digit in \\u escape");
	}
	*out = v;
	return 0;
}

static int escape(struct parser *ps, char *out, size_t cap, size_t *n)
{
	static const char from[] = "\"\\/bfnrt", to[] = "\"\\/\b\f\n\r\t";
	uint32_t cp, low;

	if (ps->p >= ps->end)
		return fail(ps, "truncated escape");
	unsigned char c = *ps->p++;
	const char *hit = c ? strchr(from, c) : NULL;
	if (hit)
		return put_utf8(ps, out, cap, n, (unsigned char)to[hit - from]);
	if (c != 'u')
		return fail(ps, "bad escape");
	if (hex4(ps, &cp) != 0)
		return -1;
	if (cp == 0)
		return fail(ps, "\\u0000 in a string");
	if (cp >= 0xDC00 && cp <= 0xDFFF)
		return fail(ps, "lone low surrogate");
	if (cp >= 0xD800 && cp <= 0xDBFF) {
		if (!take(ps, '\\') || !take(ps, 'u'))
			return fail(ps, "lone high surrogate");
		if (hex4(ps, &low) != 0)
			return -1;
		if (low < 0xDC00 || low > 0xDFFF)
			return fail(ps, "lone high surrogate");
		cp = 0x10000 + ((cp - 0xD800) << 10) + (low - 0xDC00);
	}
	return put_utf8(ps, out, cap, n, cp);
}

/* Length of the well-formed UTF-8 sequence at p (first byte >= 0x80), or 0. */
static size_t utf8_len(const unsigned char *p, const unsigned char *end)
{
	unsigned char c = p[0], lo = 0x80, hi = 0xBF;
	size_t len;

	if (c >= 0xC2 && c <= 0xDF)
		len = 2;
	else if (c >= 0xE0 && c <= 0xEF)
		len = 3;
	else if (c >= 0xF0 && c <= 0xF4)
		len = 4;
	else
		return 0;
	/* The second byte's range excludes overlong forms and surrogates. */
	if (c == 0xE0)
		lo = 0xA0;
	else if (c == 0xED)
		hi = 0x9F;
	else if (c == 0xF0)
		lo = 0x90;
	else if (c == 0xF4)
		hi = 0x8F;
	if ((size_t)(end - p) < len || p[1] < lo || p[1] > hi)
		return 0;
	for (size_t i = 2; i < len; i++)
		if (p[i] < 0x80 || p[i] > 0xBF)
			return 0;
	return len;
}

static int string(struct parser *ps, char *out, size_t cap)
{
	size_t n = 0;

	if (!take(ps, '"'))
		return fail(ps, "expected a string");
	for (;;) {
		if (ps->p >= ps->end)
			return fail(ps, "unterminated string");
		unsigned char c = *ps->p;
		if (c == '"') {
			ps->p++;
			break;
		}
		if (c < 0x20)
			return fail(ps, "control character in a string");
		if (c == '\\') {
			ps->p++;
			if (escape(ps, out, cap, &n) != 0)
				return -1;
			continue;
		}
		size_t len = c < 0x80 ? 1 : utf8_len(ps->p, ps->end);
		if (len == 0)
			return fail(ps, "invalid UTF-8 in a string");
		if (n + len >= cap)
			return fail(ps, ps->too_long);
		memcpy(out + n, ps->p, len);
		n += len;
		ps->p += len;
	}
	out[n] = '\0';
	return 0;
}

static bool digit(struct parser *ps)
{
	return ps->p < ps->end && *ps->p >= '0' && *ps->p <= '9';
}

static int number(struct parser *ps, struct jsonread_field *f)
{
	const unsigned char *begin = ps->p;
	bool integer = true;
	char copy[64];

	take(ps, '-');
	if (take(ps, '0')) {
		if (digit(ps))
			return fail(ps, "leading zero in a number");
	} else if (!digit(ps)) {
		return fail(ps, "bad number");
	}
	while (digit(ps))
		ps->p++;
	if (take(ps, '.')) {
		integer = false;
		if (!digit(ps))
			return fail(ps, "bad fraction in a number");
		while (digit(ps))
			ps->p++;
	}
	if (take(ps, 'e') || take(ps, 'E')) {
		integer = false;
		if (!take(ps, '+'))
			take(ps, '-');
		if (!digit(ps))
			return fail(ps, "bad exponent in a number");
		while (digit(ps))
			ps->p++;
	}
	size_t len = (size_t)(ps->p - begin);
	if (len >= sizeof(copy))
		return fail(ps, "number too long");
	memcpy(copy, begin, len);
	copy[len] = '\0';
	f->d = strtod(copy, NULL);
	f->type = JSONREAD_NUMBER;
	if (integer) {
		/* Exact, not via the double: pids and counts may exceed 2^53. */
		bool neg = copy[0] == '-';
		uint64_t v = 0, limit = neg ? (uint64_t)INT64_MAX + 1u : (uint64_t)INT64_MAX;
		for (const char *c = copy + neg; *c; c++) {
			unsigned dig = (unsigned)(*c - '0');
			if (v > (limit - dig) / 10)
				return 0; /* out of range: a plain number */
			v = v * 10 + dig;
		}
		f->i = neg ? (int64_t)(0 - v) : (int64_t)v;
		f->type = JSONREAD_INT;
	}
	return 0;
}

static int literal(struct parser *ps, const char *word, enum jsonread_type type,
		   struct jsonread_field *f)
{
	size_t len = strlen(word);

	if ((size_t)(ps->end - ps->p) < len || memcmp(ps->p, word, len) != 0)
		return fail(ps, "unexpected character");
	ps->p += len;
	f->type = type;
	return 0;
}

static int value(struct parser *ps, struct jsonread_field *f)
{
	if (ps->p >= ps->end)
		return fail(ps, "missing value");
	switch (*ps->p) {
	case '"':
		f->type = JSONREAD_STRING;
		ps->too_long = "string too long";
		return string(ps, f->str, sizeof(f->str));
	case 't':
		return literal(ps, "true", JSONREAD_TRUE, f);
	case 'f':
		return literal(ps, "false", JSONREAD_FALSE, f);
	case 'n':
		return literal(ps, "null", JSONREAD_NULL, f);
	case '{':
	case '[':
		return fail(ps, "nested object or array");
	default:
		return number(ps, f);
	}
}

static int members(struct parser *ps, struct jsonread_object *obj)
{
	skip_space(ps);
	if (take(ps, '}'))
		return 0;
	for (;;) {
		if (obj->count == JSONREAD_MAX_FIELDS)
			return fail(ps, "too many fields");
		struct jsonread_field *f = &obj->field[obj->count];
		memset(f, 0, sizeof(*f));
		skip_space(ps);
		ps->too_long = "key too long";
		if (string(ps, f->key, sizeof(f->key)) != 0)
			return -1;
		if (jsonread_get(obj, f->key))
			return fail(ps, "duplicate key");
		skip_space(ps);
		if (!take(ps, ':'))
			return fail(ps, "expected ':'");
		skip_space(ps);
		if (value(ps, f) != 0)
			return -1;
		obj->count++;
		skip_space(ps);
		if (take(ps, '}'))
			return 0;
		if (!take(ps, ','))
			return fail(ps, "expected ',' or '}'");
	}
}

int jsonread_parse(const char *text, size_t len, struct jsonread_object *obj,
		const char **why, size_t *where)
{
	struct parser ps = { (const unsigned char *)text, (const unsigned char *)text,
			     (const unsigned char *)text + len, NULL, NULL };

	obj->count = 0;
	skip_space(&ps);
	if (!take(&ps, '{'))
		fail(&ps, ps.p < ps.end ? "expected '{'" : "empty line");
	else if (members(&ps, obj) == 0) {
		skip_space(&ps);
		if (ps.p < ps.end)
			fail(&ps, "text after the object");
	}
	*why = ps.why;
	*where = (size_t)(ps.p - ps.start);
	return ps.why ? -1 : 0;
}

const struct jsonread_field *jsonread_get(const struct jsonread_object *obj, const char *key)
{
	for (int i = 0; i < obj->count; i++)
		if (strcmp(obj->field[i].key, key) == 0)
			return &obj->field[i];
	return NULL;
}
