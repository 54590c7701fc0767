/* Port policies: which ports one kind of call may get, and in which passes.
 * Pure: parsing, formatting and set construction only. */
#ifndef PORTSHIM_POLICY_H
#define PORTSHIM_POLICY_H

#include <stddef.h>
#include <stdint.h>

#include "portmap.h"

enum policy_kind {
	POLICY_OFF,         /* leave the socket to the kernel */
	POLICY_ANY,         /* both parities, uniformly */
	POLICY_EVEN,
	POLICY_ODD,
	POLICY_PREFER_EVEN, /* even first, odd once even ones run out */
	POLICY_PREFER_ODD,
	POLICY_RESIDUE,     /* port % modulus == residue */
	POLICY_KERNEL,      /* Linux 4.6+ as it is today (emulate.h) */
	POLICY_LINUX42,     /* Linux 4.2-4.5 */
	POLICY_LEGACY,      /* Linux up to 4.1 */
};

/* Does the policy emulate one of the kernel's own algorithms? */
#define POLICY_EMULATES(kind) ((kind) >= POLICY_KERNEL)

struct policy {
	enum policy_kind kind;
	uint16_t modulus, residue; /* POLICY_RESIDUE only */
};

/* What policy_parse() accepts, for error messages. */
#define POLICY_ACCEPTED "even, odd, prefer-even, prefer-odd, any, N:K (0 <= K < N <= 65535), " \
	"kernel, linux-4.2, legacy or off"

/* 0 on success, -1 if `text` names no policy. */
int policy_parse(const char *text, struct policy *out);
/* The canonical spelling ("odd", "4:1"), NUL-terminated, into buf. */
void policy_format(const struct policy *policy, char *buf, size_t size);

/* A residue class of ports: modulus 1 is every port. */
struct port_class {
	uint16_t modulus, residue;
};

/* The classes a policy draws from, in order: the second pass is used only
 * once the first one is exhausted.  Returns how many (0 for off).  The
 * emulations' classes depend on the range and the call (see runtime.c). */
int policy_passes(const struct policy *policy, struct port_class passes[2]);

#endif
