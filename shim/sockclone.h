/* Replacing a socket by a fresh one that the application cannot tell apart:
 * same family, type and protocol, same descriptor number and flags, the same
 * options wherever they differ from a new socket's, the same local address.
 * Strategy `reuse` needs it when a bound socket's 4-tuple turns out to be
 * taken: the kernel cannot unbind a socket. */
#ifndef PORTSHIM_SOCKCLONE_H
#define PORTSHIM_SOCKCLONE_H

#include "autobind.h"

#include <net/if.h>
#include <stdbool.h>
#include <stdint.h>

#define SOCK_OPTION_MAX (IFNAMSIZ + 16)
#define SOCK_OPTIONS_KNOWN 48

struct sock_option {
	uint16_t option;  /* index into sockclone.c's table */
	socklen_t len;
	unsigned char value[SOCK_OPTION_MAX];
};

/* What a replacement needs to know of the socket it replaces, read on the
 * first replacement of a connect() and reused for the next ones: a
 * crowded range can need several, and reading some forty options twice
 * each time would cost more than the connect itself. */
struct sock_template {
	bool ready; /* start false */
	int protocol, fl, fdflags;
	int nset;
	struct sock_option set[SOCK_OPTIONS_KNOWN];
};

/* 0 on success (s->fd now names the fresh socket), -1 with errno set and
 * the old socket left in place. */
int sock_replace(const struct sock *s, struct sock_template *t);

#endif
