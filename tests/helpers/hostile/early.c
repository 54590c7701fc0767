/* hostile cases: a connect (or a MSG_FASTOPEN sendto, or a UDP send) that
 * fails before any port matters - no route, a v4-mapped address on an
 * IPV6_V6ONLY socket, link-local IPv6 without a scope id.  The kernel
 * leaves such a socket unbound (a UDP send autobinds before it looks for
 * a route), so each is followed by an explicit bind(port 0) on the same
 * socket: a socket the shim left bound shows up as that bind's EINVAL. */
#include "hostile.h"

#define UNROUTABLE4 "192.0.2.1"   /* TEST-NET-1: no route in a test namespace */
#define UNROUTABLE6 "2001:db8::1" /* the documentation prefix: no route either */

enum how { CONNECT, FASTOPEN, SENDTO };

static int attempt(int s, enum how how, const void *addr, socklen_t len)
{
	switch (how) {
	case CONNECT:
		return connect(s, addr, len);
	case FASTOPEN:
		return (int)sendto(s, "x", 1, MSG_FASTOPEN, addr, len);
	default:
		return (int)sendto(s, "x", 1, 0, addr, len);
	}
}

/* One case: the failing call, then bind(port 0) and the port it got. */
static void then_bind(const char *name, int family, int type, int v6only, enum how how,
		      const void *addr, socklen_t len)
{
	char label[96];
	struct sockaddr_in any = v4(0);
	struct sockaddr_in6 any6 = v6(0);
	int s = socket(family, type, 0);

	any.sin_addr.s_addr = htonl(INADDR_ANY);
	any6.sin6_addr = in6addr_any;
	if (v6only)
		setsockopt(s, IPPROTO_IPV6, IPV6_V6ONLY, &v6only, sizeof(v6only));
	CALL(name, s, attempt(s, how, addr, len));
	snprintf(label, sizeof(label), "%s_then_bind0", name);
	if (family == AF_INET)
		CALL(label, s, bind(s, (struct sockaddr *)&any, sizeof(any)));
	else
		CALL(label, s, bind(s, (struct sockaddr *)&any6, sizeof(any6)));
	close(s);
}

void cases_early(int lport, int lport6)
{
	struct sockaddr_in far4 = v4(lport);
	struct sockaddr_in6 far6 = v6(lport6), mapped = v6(lport), linklocal = v6(lport6);

	inet_pton(AF_INET, UNROUTABLE4, &far4.sin_addr);
	inet_pton(AF_INET6, UNROUTABLE6, &far6.sin6_addr);
	inet_pton(AF_INET6, "::ffff:127.0.0.1", &mapped.sin6_addr);
	inet_pton(AF_INET6, "fe80::1", &linklocal.sin6_addr);

	then_bind("early_connect_tcp_unreach", AF_INET, SOCK_STREAM, 0, CONNECT, &far4, sizeof(far4));
	then_bind("early_connect_udp_unreach", AF_INET, SOCK_DGRAM, 0, CONNECT, &far4, sizeof(far4));
	then_bind("early_connect_tcp6_unreach", AF_INET6, SOCK_STREAM, 0, CONNECT, &far6, sizeof(far6));
	then_bind("early_connect_udp6_unreach", AF_INET6, SOCK_DGRAM, 0, CONNECT, &far6, sizeof(far6));
	then_bind("early_connect_tcp6_mapped_v6only", AF_INET6, SOCK_STREAM, 1, CONNECT, &mapped,
		  sizeof(mapped));
	then_bind("early_connect_udp6_mapped_v6only", AF_INET6, SOCK_DGRAM, 1, CONNECT, &mapped,
		  sizeof(mapped));
	then_bind("early_connect_tcp6_linklocal_noscope", AF_INET6, SOCK_STREAM, 0, CONNECT,
		  &linklocal, sizeof(linklocal));
	then_bind("early_connect_udp6_linklocal_noscope", AF_INET6, SOCK_DGRAM, 0, CONNECT,
		  &linklocal, sizeof(linklocal));
	then_bind("early_fastopen_tcp_unreach", AF_INET, SOCK_STREAM, 0, FASTOPEN, &far4,
		  sizeof(far4));
	then_bind("early_fastopen_tcp6_mapped_v6only", AF_INET6, SOCK_STREAM, 1, FASTOPEN, &mapped,
		  sizeof(mapped));
	then_bind("early_fastopen_tcp6_linklocal_noscope", AF_INET6, SOCK_STREAM, 0, FASTOPEN,
		  &linklocal, sizeof(linklocal));
	then_bind("early_sendto_udp_unreach", AF_INET, SOCK_DGRAM, 0, SENDTO, &far4, sizeof(far4));
	then_bind("early_sendto_udp6_mapped_v6only", AF_INET6, SOCK_DGRAM, 1, SENDTO, &mapped,
		  sizeof(mapped));
	then_bind("early_sendto_udp6_linklocal_noscope", AF_INET6, SOCK_DGRAM, 0, SENDTO, &linklocal,
		  sizeof(linklocal));
}
