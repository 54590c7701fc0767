/* The library's side of core/apply.h: a strategy's calls on the program's
 * own descriptor, through the real libc functions, and what the hooks keep
 * of the port a socket got (the descriptor table, sock.h). */
#ifndef PORTSHIM_LIBOPS_H
#define PORTSHIM_LIBOPS_H

#include "core/apply.h"
#include "sock.h"

struct libops_socket {
	const struct sock *s;
	uint32_t app_range; /* the program's IP_LOCAL_PORT_RANGE */
	int app_reuse;      /* its SO_REUSEADDR, once asked */
};

extern const struct apply_ops libops;

/* ls and as describe s for apply_connect() and apply_bind(). */
void libops_describe(const struct sock *s, struct libops_socket *ls, struct apply_socket *as);

#endif
