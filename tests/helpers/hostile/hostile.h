/* hostile: one program in several files (hostile.c and the parts in hostile/),
 * hostile cases grouped by what they try.  What the parts share: the
 * report line, the CALL() macro, addresses, listeners. */
#ifndef TESTS_HELPERS_HOSTILE_H
#define TESTS_HELPERS_HOSTILE_H

#include "../sockutil.h"

/* One line: "case=NAME ret=R errno=NAME", and for fd >= 0 the socket's
 * local port (=0, !=0, =none) and SO_ERROR. */
void report(const char *name, int ret, int err, int fd);

#define CALL(name, fd, expr) do { \
		errno = EDOM; \
		int r_ = (expr); \
		int e_ = errno; \
		report(name, r_, e_, fd); \
	} while (0)

struct sockaddr_in6 v6(int port);
/* A listening TCP socket on the family's loopback address; *port its port. */
int listener(int family, int *port);

/* The parts: each makes its calls against the listeners on 127.0.0.1:lport
 * and [::1]:lport6. */
void cases_addresses(int lport, int lport6);  /* hostile/addresses.c */
void cases_memory(int lport);                 /* hostile/memory.c */
void cases_early(int lport, int lport6);      /* hostile/early.c */
void cases_protocols(int lport, int lport6);  /* hostile/protocols.c */

/* hostile rfc2133 N (hostile/addresses.c). */
int rfc2133_ports(int n);

#endif
