/* Replacing a socket by a fresh one that the application cannot tell apart:
 * same family, type and protocol, same descriptor number and flags, the same
 * options wherever they differ from a new socket's, the same local address.
 * Strategy `reuse` needs it when a bound socket's 4-tuple turns out to be
 * taken: the kernel cannot unbind a socket. */
#ifndef PORTSHIM_SOCKCLONE_H
#define PORTSHIM_SOCKCLONE_H

#include "autobind.h"

/* 0 on success (s->fd now names the fresh socket), -1 with errno set and
 * the old socket left in place. */
int sock_replace(const struct sock *s);

#endif
