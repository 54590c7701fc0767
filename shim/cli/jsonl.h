/* A strict parser for one line of an event log: a single flat JSON object
 * whose values are strings, numbers, true, false or null.  Nested objects
 * and arrays are rejected: the log never writes them, so one in a line
 * means the line is not ours.  No allocation, no global state, any bytes
 * in, so it can be a fuzz target on its own. */
#ifndef PORTSHIM_CLI_JSONL_H
#define PORTSHIM_CLI_JSONL_H

#include <stddef.h>
#include <stdint.h>

#define JSONL_MAX_FIELDS 32
#define JSONL_KEY_MAX 32   /* bytes of a key, with the NUL */
#define JSONL_STR_MAX 256  /* bytes of a decoded string value, with the NUL */

enum jsonl_type { JSONL_NULL, JSONL_FALSE, JSONL_TRUE, JSONL_INT, JSONL_NUMBER, JSONL_STRING };

struct jsonl_field {
	char key[JSONL_KEY_MAX];
	enum jsonl_type type;
	int64_t i;                /* JSONL_INT: an integer that fits int64_t */
	double d;                 /* JSONL_INT and JSONL_NUMBER */
	char str[JSONL_STR_MAX];  /* JSONL_STRING: decoded UTF-8, no NUL inside */
};

struct jsonl_object {
	int count;
	struct jsonl_field field[JSONL_MAX_FIELDS];
};

/* Parses text[0..len) as one object; a trailing "\n" or "\r\n" and spaces
 * around tokens are allowed.  0 on success; -1 with a static reason in
 * *why and the byte offset where parsing stopped in *where. */
int jsonl_parse(const char *text, size_t len, struct jsonl_object *obj,
		const char **why, size_t *where);

/* The field named `key`, or NULL. */
const struct jsonl_field *jsonl_get(const struct jsonl_object *obj, const char *key);

#endif
