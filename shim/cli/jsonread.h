/* A strict parser for one line of an event log: a single flat JSON object
 * whose values are strings, numbers, true, false or null.  Nested objects
 * and arrays are rejected: the log never writes them, so one in a line
 * means the line is not ours.  No allocation, no global state, any bytes
 * in, so it can be a fuzz target on its own. */
#ifndef PORTSHIM_CLI_JSONL_H
#define PORTSHIM_CLI_JSONL_H

#include <stddef.h>
#include <stdint.h>

#define JSONREAD_MAX_FIELDS 32
#define JSONREAD_KEY_MAX 32   /* bytes of a key, with the NUL */
#define JSONREAD_STR_MAX 256  /* bytes of a decoded string value, with the NUL */

enum jsonread_type { JSONREAD_NULL, JSONREAD_FALSE, JSONREAD_TRUE, JSONREAD_INT, JSONREAD_NUMBER, JSONREAD_STRING };

struct jsonread_field {
	char key[JSONREAD_KEY_MAX];
	enum jsonread_type type;
	int64_t i;                /* JSONREAD_INT: an integer that fits int64_t */
	double d;                 /* JSONREAD_INT and JSONREAD_NUMBER */
	char str[JSONREAD_STR_MAX];  /* JSONREAD_STRING: decoded UTF-8, no NUL inside */
};

struct jsonread_object {
	int count;
	struct jsonread_field field[JSONREAD_MAX_FIELDS];
};

/* Parses text[0..len) as one object; a trailing "\n" or "\r\n" and spaces
 * around tokens are allowed.  0 on success; -1 with a static reason in
 * *why and the byte offset where parsing stopped in *where. */
int jsonread_parse(const char *text, size_t len, struct jsonread_object *obj,
		const char **why, size_t *where);

/* The field named `key`, or NULL. */
const struct jsonread_field *jsonread_get(const struct jsonread_object *obj, const char *key);

#endif
