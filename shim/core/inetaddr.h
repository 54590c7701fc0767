/* Which addresses are inet addresses the shim reads: AF_INET of at least
 * sizeof(struct sockaddr_in), AF_INET6 of at least 24 bytes.  24 is the
 * sockaddr_in6 of RFC 2133, without sin6_scope_id: the kernel's connect(),
 * bind() and sendto() take it and read the scope as 0 (hostile.bats
 * compares those calls with the kernel's own answers).  Nothing the shim
 * reads (family, port, flow label, address) lies beyond byte 24, so such an
 * address gets the policy and the log like a full one. */
#ifndef PORTSHIM_INETADDR_H
#define PORTSHIM_INETADDR_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

#define INETADDR_IN6_MIN_LEN 24

static inline bool inetaddr_complete(const struct sockaddr *sa, socklen_t len)
{
	return sa && ((sa->sa_family == AF_INET && len >= sizeof(struct sockaddr_in)) ||
		      (sa->sa_family == AF_INET6 && len >= INETADDR_IN6_MIN_LEN));
}

/* The port of an AF_INET or AF_INET6 address, host order. */
static inline unsigned sockaddr_port(const struct sockaddr_storage *ss)
{
	if (ss->ss_family == AF_INET)
		return ntohs(((const struct sockaddr_in *)ss)->sin_port);
	return ntohs(((const struct sockaddr_in6 *)ss)->sin6_port);
}

/* The address is INADDR_ANY or in6addr_any (a socket bound to no address). */
static inline bool sockaddr_is_wildcard(const struct sockaddr_storage *ss)
{
	if (ss->ss_family == AF_INET)
		return ((const struct sockaddr_in *)ss)->sin_addr.s_addr == htonl(INADDR_ANY);
	return IN6_IS_ADDR_UNSPECIFIED(&((const struct sockaddr_in6 *)ss)->sin6_addr);
}

static inline void sockaddr_set_port(struct sockaddr_storage *ss, unsigned port)
{
	if (ss->ss_family == AF_INET)
		((struct sockaddr_in *)ss)->sin_port = htons((uint16_t)port);
	else
		((struct sockaddr_in6 *)ss)->sin6_port = htons((uint16_t)port);
}

#endif
