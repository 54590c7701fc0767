/* See jsonwrite.h. */
#include "jsonwrite.h"

#include <netinet/in.h>
#include <string.h>

#include "inetaddr.h"

void line_raw(struct line *l, const char *text)
{
	while (*text && l->len + 1 < l->size)
		l->buf[l->len++] = *text++;
	l->buf[l->len] = '\0';
}

static void line_char(struct line *l, char c)
{
	char s[2] = { c, '\0' };
	line_raw(l, s);
}

static void line_digits(struct line *l, uint64_t value, int width)
{
	char digits[21];
	int n = 0;

	do {
		digits[n++] = (char)('0' + value % 10);
		value /= 10;
	} while (value);
	while (n < width)
		digits[n++] = '0';
	while (n)
		line_char(l, digits[--n]);
}

void line_uint(struct line *l, uint64_t value)
{
	line_digits(l, value, 1);
}

void line_string(struct line *l, const char *text)
{
	static const char hex[] = "0123456789abcdef";

	line_char(l, '"');
	for (const unsigned char *p = (const unsigned char *)text; *p; p++) {
		if (*p == '"' || *p == '\\') {
			line_char(l, '\\');
			line_char(l, (char)*p);
		} else if (*p < 0x20) {
			char esc[7] = { '\\', 'u', '0', '0', hex[*p >> 4], hex[*p & 15], '\0' };
			line_raw(l, esc);
		} else {
			line_char(l, (char)*p);
		}
	}
	line_char(l, '"');
}

static void line_ipv4(struct line *l, const unsigned char *a)
{
	for (int i = 0; i < 4; i++) {
		if (i)
			line_char(l, '.');
		line_uint(l, a[i]);
	}
}

static void line_ipv6(struct line *l, const unsigned char *a)
{
	static const char hex[] = "0123456789abcdef";
	static const unsigned char mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };
	uint16_t group[8];
	int best = -1, best_len = 1;

	if (memcmp(a, mapped, sizeof(mapped)) == 0) {
		line_raw(l, "::ffff:");
		line_ipv4(l, a + 12);
		return;
	}
	for (int i = 0; i < 8; i++)
		group[i] = (uint16_t)(a[2 * i] << 8 | a[2 * i + 1]);
	/* RFC 5952: the longest run of two or more zero groups becomes "::". */
	for (int i = 0; i < 8; i++) {
		int n = 0;
		while (i + n < 8 && group[i + n] == 0)
			n++;
		if (n > best_len) {
			best = i;
			best_len = n;
		}
	}
	for (int i = 0; i < 8; i++) {
		if (i == best) {
			line_raw(l, "::");
			i += best_len - 1;
			continue;
		}
		if (i && i != best + best_len)
			line_char(l, ':');
		char text[5];
		int n = 0;
		for (int shift = 12; shift >= 0; shift -= 4)
			if (n || (group[i] >> shift) & 15 || shift == 0)
				text[n++] = hex[(group[i] >> shift) & 15];
		text[n] = '\0';
		line_raw(l, text);
	}
}

/* The address alone, bare: a.b.c.d, or RFC 5952 IPv6 without brackets. */
static void line_host(struct line *l, const struct sockaddr *addr)
{
	if (addr->sa_family == AF_INET)
		line_ipv4(l, (const unsigned char *)&((const struct sockaddr_in *)addr)->sin_addr);
	else
		line_ipv6(l, (const unsigned char *)&((const struct sockaddr_in6 *)addr)->sin6_addr);
}

void line_sockaddr(struct line *l, const struct sockaddr *addr, socklen_t len)
{
	if (!inetaddr_complete(addr, len)) {
		line_raw(l, "null");
		return;
	}
	line_raw(l, addr->sa_family == AF_INET ? "\"" : "\"[");
	line_host(l, addr);
	line_raw(l, addr->sa_family == AF_INET ? ":" : "]:");
	line_uint(l, sockaddr_port((const struct sockaddr_storage *)addr));
	line_char(l, '"');
}

void line_sockaddr_host(struct line *l, const struct sockaddr *addr, socklen_t len)
{
	if (!inetaddr_complete(addr, len)) {
		line_raw(l, "null");
		return;
	}
	line_char(l, '"');
	line_host(l, addr);
	line_char(l, '"');
}

void line_sockaddr_port(struct line *l, const struct sockaddr *addr, socklen_t len)
{
	if (inetaddr_complete(addr, len))
		line_uint(l, sockaddr_port((const struct sockaddr_storage *)addr));
	else
		line_raw(l, "null");
}

void line_time(struct line *l, int64_t sec, long usec)
{
	/* Days to civil date (Howard Hinnant's algorithm): gmtime_r() takes
	 * glibc's time-zone lock, which a signal handler must not. */
	int64_t days = sec / 86400, rem = sec % 86400;
	if (rem < 0) {
		rem += 86400;
		days--;
	}
	int64_t z = days + 719468, era = (z >= 0 ? z : z - 146096) / 146097;
	int64_t doe = z - era * 146097;
	int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	int64_t mp = (5 * doy + 2) / 153;
	int64_t day = doy - (153 * mp + 2) / 5 + 1, month = mp < 10 ? mp + 3 : mp - 9;
	int64_t year = yoe + era * 400 + (month <= 2);

	line_char(l, '"');
	line_digits(l, (uint64_t)year, 4);
	line_char(l, '-');
	line_digits(l, (uint64_t)month, 2);
	line_char(l, '-');
	line_digits(l, (uint64_t)day, 2);
	line_char(l, 'T');
	line_digits(l, (uint64_t)(rem / 3600), 2);
	line_char(l, ':');
	line_digits(l, (uint64_t)(rem / 60 % 60), 2);
	line_char(l, ':');
	line_digits(l, (uint64_t)(rem % 60), 2);
	line_char(l, '.');
	line_digits(l, (uint64_t)usec, 6);
	line_raw(l, "Z\"");
}
