/* Per-destination rules: PORTSHIM_RULES='10.0.0.0/8:443=odd; [2001:db8::]/32=any'.
 * The first rule whose destination matches a connect()'s address decides
 * its policy; other destinations get the default.  Pure. */
#ifndef PORTSHIM_RULES_H
#define PORTSHIM_RULES_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "policy.h"

#define RULES_MAX 32

struct rule {
	int family;        /* AF_INET, AF_INET6, or AF_UNSPEC for "*" */
	uint8_t addr[16];  /* the network, already masked */
	uint8_t prefix;    /* prefix length in bits */
	uint16_t port;     /* destination port; 0 for any */
	struct policy policy;
};

struct rules {
	int count;
	struct rule rule[RULES_MAX];
};

#define RULES_DEST_ACCEPTED "*, A.B.C.D[/LEN] or [IPV6][/LEN], each with an optional :PORT"
#define RULES_ACCEPTED "DEST=POLICY entries separated by ';', DEST one of " RULES_DEST_ACCEPTED \
	" (e.g. 10.0.0.0/8:443=odd; [2001:db8::]/32=any)"

/* Appends the rules of `text` (one or several, separated by ';').  On a bad
 * rule, writes what is wrong with which entry, and what is accepted, into
 * err and returns -1. */
int rules_parse(struct rules *rules, const char *text, char *err, size_t errlen);

/* Index of the first rule matching the destination, or -1.  An IPv4-mapped
 * IPv6 address matches IPv4 rules. */
int rules_match(const struct rules *rules, const struct sockaddr *dst, socklen_t len);

/* "10.0.0.0/8:443=odd", for --check and the log. */
void rules_format_one(const struct rule *rule, char *buf, size_t size);

#endif
