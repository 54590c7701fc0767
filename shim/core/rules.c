/* See rules.h. */
#include "rules.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>

#include "inetaddr.h"
#include "parse.h"
#include "rulematch.h"

_Static_assert(AF_UNSPEC == RULE_FAMILY_ANY && AF_INET == RULE_FAMILY_V4 && AF_INET6 == RULE_FAMILY_V6,
	       "rulematch.h names the families by their Linux numbers");

static void mask(uint8_t *addr, unsigned bytes, unsigned prefix)
{
	for (unsigned i = 0; i < bytes; i++) {
		unsigned bits = prefix > i * 8 ? prefix - i * 8 : 0;
		if (bits < 8)
			addr[i] &= (uint8_t)(0xff00u >> bits);
	}
}

/* Parses DEST of one rule (no spaces) into r. */
static int parse_dest(const char *dest, struct rule *r)
{
	char host[64];
	const char *rest;
	unsigned max_prefix;

	if (dest[0] == '*') {
		r->family = AF_UNSPEC;
		rest = dest + 1;
		max_prefix = 0;
	} else {
		const char *end;
		if (dest[0] == '[') {
			end = strchr(dest, ']');
			if (!end || (size_t)(end - dest - 1) >= sizeof(host))
				return -1;
			memcpy(host, dest + 1, (size_t)(end - dest - 1));
			host[end - dest - 1] = '\0';
			if (inet_pton(AF_INET6, host, r->addr) != 1)
				return -1;
			r->family = AF_INET6;
			max_prefix = 128;
			rest = end + 1;
		} else {
			end = dest + strcspn(dest, "/:");
			if ((size_t)(end - dest) >= sizeof(host))
				return -1;
			memcpy(host, dest, (size_t)(end - dest));
			host[end - dest] = '\0';
			if (inet_pton(AF_INET, host, r->addr) != 1)
				return -1;
			r->family = AF_INET;
			max_prefix = 32;
			rest = end;
		}
	}
	r->prefix = (uint8_t)max_prefix;
	if (*rest == '/' && r->family != AF_UNSPEC) {
		uint64_t prefix;
		rest = parse_u64(rest + 1, &prefix);
		if (!rest || prefix > max_prefix)
			return -1;
		r->prefix = (uint8_t)prefix;
	}
	if (*rest == ':') {
		uint64_t port;
		rest = parse_u64(rest + 1, &port);
		if (!rest || port < 1 || port > 65535)
			return -1;
		r->port = (uint16_t)port;
	}
	if (*rest)
		return -1;
	mask(r->addr, r->family == AF_INET ? 4 : 16, r->prefix);
	return 0;
}

/* Copies text[0..len) without blanks into out; false if too long. */
static int squeeze(const char *text, size_t len, char *out, size_t size)
{
	size_t n = 0;

	for (size_t i = 0; i < len; i++) {
		if (text[i] == ' ' || text[i] == '\t' || text[i] == '\n')
			continue;
		if (n + 1 >= size)
			return -1;
		out[n++] = text[i];
	}
	out[n] = '\0';
	return 0;
}

int rules_parse(struct rules *rules, const char *text, char *err, size_t errlen)
{
	const char *p = text;
	int n = 0;

	while (*p) {
		size_t len = strcspn(p, ";");
		char entry[128];

		if (squeeze(p, len, entry, sizeof(entry)) != 0) {
			snprintf(err, errlen, "rule %d is longer than %zu bytes", n + 1, sizeof(entry) - 1);
			return -1;
		}
		p += len + (p[len] == ';');
		if (!entry[0])
			continue;
		n++;

		char *eq = strrchr(entry, '=');
		struct rule r;
		memset(&r, 0, sizeof(r));
		if (!eq) {
			snprintf(err, errlen, "rule %d, '%s': expected DEST=POLICY", n, entry);
			return -1;
		}
		*eq = '\0';
		if (parse_dest(entry, &r) != 0) {
			snprintf(err, errlen, "rule %d: bad destination '%s'; expected " RULES_DEST_ACCEPTED,
				 n, entry);
			return -1;
		}
		if (policy_parse(eq + 1, &r.policy) != 0) {
			snprintf(err, errlen, "rule %d: bad policy '%s'; expected " POLICY_ACCEPTED, n,
				 eq + 1);
			return -1;
		}
		if (rules->count == RULES_MAX) {
			snprintf(err, errlen, "more than %d rules", RULES_MAX);
			return -1;
		}
		rules->rule[rules->count++] = r;
	}
	return 0;
}

int rules_match(const struct rules *rules, const struct sockaddr *dst, socklen_t len)
{
	static const uint8_t v4mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };
	static const uint8_t none[16];
	const uint8_t *v4 = NULL, *v6 = NULL;
	unsigned port;

	if (!inetaddr_complete(dst, len))
		return -1;
	if (dst->sa_family == AF_INET) {
		const struct sockaddr_in *in = (const struct sockaddr_in *)dst;
		v4 = (const uint8_t *)&in->sin_addr;
		port = ntohs(in->sin_port);
	} else {
		const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)dst;
		v6 = (const uint8_t *)&in6->sin6_addr;
		if (memcmp(v6, v4mapped, sizeof(v4mapped)) == 0)
			v4 = v6 + 12;
		port = ntohs(in6->sin6_port);
	}

	for (int i = 0; i < rules->count; i++) {
		const struct rule *r = &rules->rule[i];
		if (rule_dest_matches(r->family, r->addr, r->prefix, r->port, v4 ? v4 : none, v4 != NULL,
				      v6 ? v6 : none, v6 != NULL, port))
			return i;
	}
	return -1;
}

void rules_format_one(const struct rule *r, char *buf, size_t size)
{
	char host[INET6_ADDRSTRLEN] = "*", port[8] = "", policy[24];

	if (r->family != AF_UNSPEC)
		inet_ntop(r->family, r->addr, host, sizeof(host));
	if (r->port)
		snprintf(port, sizeof(port), ":%u", r->port);
	policy_format(&r->policy, policy, sizeof(policy));
	if (r->family == AF_INET6)
		snprintf(buf, size, "[%s]/%u%s=%s", host, r->prefix, port, policy);
	else if (r->family == AF_INET)
		snprintf(buf, size, "%s/%u%s=%s", host, r->prefix, port, policy);
	else
		snprintf(buf, size, "*%s=%s", port, policy);
}
