/* Building one line of text in a fixed buffer without stdio or allocation,
 * so that a log line can be made on the connect() path, in a signal handler
 * or after fork().  A line that would overflow is cut, never overrun. */
#ifndef PORTSHIM_JSONLINE_H
#define PORTSHIM_JSONLINE_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

struct line {
	char *buf;
	size_t size, len;
};

void line_raw(struct line *l, const char *text);
void line_uint(struct line *l, uint64_t value);
/* A JSON string: quotes and escapes added. */
void line_string(struct line *l, const char *text);
/* "addr:port" for IPv4, "[addr]:port" for IPv6 (RFC 5952 form), as a JSON
 * string; null for anything else. */
void line_sockaddr(struct line *l, const struct sockaddr *addr, socklen_t len);
/* Its parts: the address as a JSON string without brackets, the port as a
 * number; null for anything else. */
void line_sockaddr_host(struct line *l, const struct sockaddr *addr, socklen_t len);
void line_sockaddr_port(struct line *l, const struct sockaddr *addr, socklen_t len);
/* ISO 8601 UTC with microseconds, e.g. 2026-11-25T14:20:01.123456Z, quoted. */
void line_time(struct line *l, int64_t sec, long usec);

#endif
