/* libFuzzer: PORTSHIM_RULES (rules_parse), then every parsed rule is
 * formatted, parsed back and must match the same destinations: a rule
 * that --check prints must mean what it meant. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "rules.h"

static struct rules rules, again;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char text[2048], err[512], one[160];

	if (size >= sizeof(text))
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	rules.count = 0;
	if (rules_parse(&rules, text, err, sizeof(err)) != 0)
		return 0;

	/* A destination built from the input's first bytes. */
	struct sockaddr_in in = { .sin_family = AF_INET, .sin_port = htons(443) };
	struct sockaddr_in6 in6 = { .sin6_family = AF_INET6, .sin6_port = htons(443) };
	memcpy(&in.sin_addr, data, size < 4 ? size : 4);
	memcpy(&in6.sin6_addr, data, size < 16 ? size : 16);

	for (int i = 0; i < rules.count; i++) {
		rules_format_one(&rules.rule[i], one, sizeof(one));
		again.count = 0;
		if (rules_parse(&again, one, err, sizeof(err)) != 0 || again.count != 1)
			abort();
		struct rules a = { 1, { rules.rule[i] } };
		if ((rules_match(&a, (struct sockaddr *)&in, sizeof(in)) == 0) !=
			    (rules_match(&again, (struct sockaddr *)&in, sizeof(in)) == 0) ||
		    (rules_match(&a, (struct sockaddr *)&in6, sizeof(in6)) == 0) !=
			    (rules_match(&again, (struct sockaddr *)&in6, sizeof(in6)) == 0))
			abort();
	}
	return 0;
}
