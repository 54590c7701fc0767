/* Linux's own choice of ephemeral ports, era by era, for the policies
 * `kernel` (4.6+, with the 5.12/5.18 perturbation table), `linux-4.2` and
 * `legacy` (up to 4.1), as portshim(7), KERNEL EMULATION, tells
 * them era by era; the functions here mirror __inet_hash_connect() and
 * inet_csk_find_open_port() step by step.  What cannot be reproduced: the
 * kernel's secret (ours comes from the seed) and other processes' use of
 * the shared table and hint.  Pure; lock-free. */
#ifndef PORTSHIM_EMULATE_H
#define PORTSHIM_EMULATE_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

/* The kernel's table has 2^16 entries; 2^12 keeps it small in memory and
 * changes nothing for the few destinations one process talks to. */
#define EMULATE_TABLE_SIZE 4096u

struct emulator {
	uint64_t secret;
	int64_t epoch_origin;                          /* seconds; see emulate_epoch() */
	_Atomic uint32_t hint;                         /* <= 5.11: the global hint */
	_Atomic uint32_t perturb[EMULATE_TABLE_SIZE]; /* 5.12+: table_perturb[] */
};

/* What a call is about: the kernel hashes (saddr, daddr, dport) for
 * connect(), and treats UDP and SO_REUSEADDR sockets its own way. */
struct flow {
	const struct sockaddr *dst;           /* NULL for bind() */
	socklen_t dst_len;
	const struct sockaddr_storage *local; /* the socket's address, often a wildcard */
	int type;                             /* SOCK_STREAM or SOCK_DGRAM */
	int reuseaddr;                        /* bind(): the socket has SO_REUSEADDR */
	bool shares;                          /* TCP connect by range/reuse: the port
					       * may serve other destinations too */
};

/* `em` must start zeroed (static storage). */
void emulator_init(struct emulator *em, uint64_t secret, int64_t epoch_origin);

/* secure_ipv4_port_ephemeral() and friends: a keyed 64-bit hash of the
 * flow, re-salted every 10 s like 5.18+ (pass epoch 0 for older eras). */
uint64_t emulate_port_offset(const struct emulator *em, const struct flow *flow, uint64_t epoch);
/* The 10-second epoch: counted from the process's start when seeded (so a
 * seeded run shorter than 10 s is reproducible), from boot otherwise. */
uint64_t emulate_epoch(const struct emulator *em);

#endif
