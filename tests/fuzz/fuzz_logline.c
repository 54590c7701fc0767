/* libFuzzer: the report's log-line reader (shim/cli/jsonread.c), two ways.
 * Any bytes: the parser must not overrun, and when it rejects a line it
 * says where, inside the line.  And the library's own writer: a decision
 * built from the input's bytes is formatted as the event log formats it
 * (eventlog_format) and must parse back with the same values, so that
 * `portshim report` can read every line the library can write. */
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

#include "cli/jsonread.h"
#include "eventlog.h"

static struct jsonread_object obj;

static void round_trip(const uint8_t *data, size_t size)
{
	struct sockaddr_in6 dst = { .sin6_family = AF_INET6 };
	uint8_t b[40] = { 0 };
	char line[1024];

	memcpy(b, data, size < sizeof(b) ? size : sizeof(b));
	memcpy(&dst.sin6_addr, b, 16);
	dst.sin6_port = (uint16_t)(b[16] | b[17] << 8);
	struct decision d = {
		.call = (enum shim_call)(b[18] % 6),
		.fd = b[19],
		.type = b[20] & 1 ? SOCK_DGRAM : SOCK_STREAM,
		.family = AF_INET6,
		.addr = (const struct sockaddr *)&dst,
		.addr_len = sizeof(dst),
		.policy = "odd",
		.strategy = (enum strategy)(b[21] % 4),
		.port = (unsigned)(b[22] | b[23] << 8),
		.attempts = b[24],
		.result = (enum decision_result)(b[25] % RESULT_COUNT),
		.error = b[26] % 134,
	};
	struct log_origin o = { b[27], b[28], (int64_t)(b[29] | b[30] << 8) * 86400,
				b[31] * 3907L, "fuzz\\\"me" };
	size_t len = eventlog_format(line, sizeof(line), &d, &o);
	const char *why;
	size_t where;
	if (jsonread_parse(line, len, &obj, &why, &where) != 0)
		abort();
	const struct jsonread_field *port = jsonread_get(&obj, "port");
	if (!port || (d.port ? port->type != JSONREAD_INT || port->i != (int64_t)d.port
			     : port->type != JSONREAD_NULL))
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *why = NULL;
	size_t where = 0;

	if (jsonread_parse((const char *)data, size, &obj, &why, &where) != 0 &&
	    (!why || where > size))
		abort();
	round_trip(data, size);
	return 0;
}
