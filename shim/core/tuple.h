/* Who holds a TCP 4-tuple, asked of the kernel's socket table (sock_diag,
 * an exact lookup by address and port; Linux 4.x and later, the
 * inet_diag/tcp_diag module).  Strategy reuse binds a port before it
 * connects and cannot unbind it; a port that is already in use is bound
 * only when its 4-tuple towards the destination is free, or held by a
 * TIME_WAIT the kernel recycles. */
#ifndef PORTSHIM_TUPLE_H
#define PORTSHIM_TUPLE_H

#include <sys/socket.h>

/* The TCP state (<netinet/tcp.h>'s TCP_ESTABLISHED...) of the socket whose
 * local address is src:sport and peer dst; 0 when there is none; -1 when
 * the kernel cannot tell (no sock_diag here).  Raw system calls only: no
 * hook of the library is entered.  errno is left as it was. */
int tuple_state(const struct sockaddr_storage *src, unsigned sport, const struct sockaddr *dst);

#endif
