/* See emulate.h. */
#include "emulate.h"

#include <netinet/in.h>
#include <string.h>
#include <time.h>

#include "inetaddr.h"
#include "rng.h"

void emulator_init(struct emulator *em, uint64_t secret, int64_t epoch_origin)
{
	/* The table and the hint start at zero (static storage) and, like the
	 * kernel's, are never reset: 16 KiB that a process not using the
	 * emulations never touches. */
	em->secret = secret;
	em->epoch_origin = epoch_origin;
}

/* Mixes data into h eight bytes at a time, the last word zero-filled.
 * Fixed-size copies only: a copy of a variable length would be a call to
 * memcpy() for every word, on every connect. */
static uint64_t absorb(uint64_t h, const void *data, size_t len)
{
	const unsigned char *p = data;

	for (; len >= 8; p += 8, len -= 8) {
		uint64_t word;
		memcpy(&word, p, 8);
		h = rng_mix(h ^ word);
	}
	if (len) {
		uint64_t word = 0;
		unsigned shift = 0;
		if (len >= 4) {
			uint32_t part;
			memcpy(&part, p, 4);
			word = part;
			shift = 32;
			p += 4;
			len -= 4;
		}
		if (len >= 2) {
			uint16_t part;
			memcpy(&part, p, 2);
			word |= (uint64_t)part << shift;
			shift += 16;
			p += 2;
			len -= 2;
		}
		if (len)
			word |= (uint64_t)*p << shift;
		h = rng_mix(h ^ word);
	}
	return h;
}

static const void *address(const struct sockaddr *sa, socklen_t len, size_t *size, uint16_t *port)
{
	if (!inetaddr_complete(sa, len)) {
		*size = 0;
		*port = 0;
		return NULL;
	}
	if (sa->sa_family == AF_INET) {
		*size = 4;
		*port = ((const struct sockaddr_in *)sa)->sin_port;
		return &((const struct sockaddr_in *)sa)->sin_addr;
	}
	*size = 16;
	*port = ((const struct sockaddr_in6 *)sa)->sin6_port;
	return &((const struct sockaddr_in6 *)sa)->sin6_addr;
}

uint64_t emulate_port_offset(const struct emulator *em, const struct flow *flow, uint64_t epoch)
{
	uint64_t h = rng_mix(em->secret ^ epoch);
	size_t size;
	uint16_t dport, sport;
	const void *daddr = address(flow->dst, flow->dst_len, &size, &dport);

	h = absorb(h, daddr, size);
	h = absorb(h, &dport, sizeof(dport));
	if (flow->local) {
		const void *saddr = address((const struct sockaddr *)flow->local,
					    sizeof(*flow->local), &size, &sport);
		h = absorb(h, saddr, size);
	}
	return h;
}

uint64_t emulate_epoch(const struct emulator *em)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)((ts.tv_sec - em->epoch_origin) / 10);
}
