/* hostile cases: inet sockets that are not TCP or UDP, which the shim must
 * leave to the kernel - raw sockets of protocol TCP and UDP (whose "port"
 * is their protocol), UDP-Lite, MPTCP, SCTP and ping sockets, whichever of
 * them this kernel and these privileges allow (a refusal is compared too). */
#include "hostile.h"

#ifndef IPPROTO_MPTCP
#define IPPROTO_MPTCP 262
#endif

/* A socket of (family, type, protocol), or the line saying why not. */
static int open_or_report(const char *name, int family, int type, int protocol)
{
	errno = EDOM;
	int s = socket(family, type, protocol);
	if (s < 0)
		report(name, -1, errno, -1);
	return s;
}

/* connect() to addr on a fresh socket, then a send, each reported. */
static void connect_then_send(const char *name, int family, int type, int protocol,
			      const void *addr, socklen_t len)
{
	char label[96];
	int s = open_or_report(name, family, type, protocol);

	if (s < 0)
		return;
	CALL(name, s, connect(s, addr, len));
	snprintf(label, sizeof(label), "%s_then_send", name);
	CALL(label, s, (int)send(s, "x", 1, MSG_DONTWAIT | MSG_NOSIGNAL));
	close(s);
}

/* sendto(addr) on a fresh socket: the first send of an unbound one. */
static void send_unbound(const char *name, int family, int type, int protocol, const void *addr,
			 socklen_t len)
{
	int s = open_or_report(name, family, type, protocol);

	if (s < 0)
		return;
	CALL(name, s, (int)sendto(s, "x", 1, MSG_DONTWAIT | MSG_NOSIGNAL, addr, len));
	close(s);
}

/* A UDP-Lite socket bound on 127.0.0.1 to receive the cases' datagrams
 * (sent to a port with no socket, they would come back as an ICMP error
 * whose SO_ERROR lands at no fixed moment); its port, or lport. */
static int udplite_sink(int *sink, int lport)
{
	struct sockaddr_in a = v4(0);

	*sink = socket(AF_INET, SOCK_DGRAM, IPPROTO_UDPLITE);
	if (*sink < 0 || bind(*sink, (struct sockaddr *)&a, sizeof(a)) != 0)
		return lport;
	return local_port(*sink);
}

void cases_protocols(int lport, int lport6)
{
	struct sockaddr_in a = v4(lport);
	struct sockaddr_in6 a6 = v6(lport6);
	int sink;
	struct sockaddr_in lite = v4(udplite_sink(&sink, lport));

	connect_then_send("raw_tcp_connect", AF_INET, SOCK_RAW, IPPROTO_TCP, &a, sizeof(a));
	connect_then_send("raw_udp_connect", AF_INET, SOCK_RAW, IPPROTO_UDP, &a, sizeof(a));
	connect_then_send("raw6_tcp_connect", AF_INET6, SOCK_RAW, IPPROTO_TCP, &a6, sizeof(a6));
	send_unbound("raw_udp_sendto", AF_INET, SOCK_RAW, IPPROTO_UDP, &a, sizeof(a));
	connect_then_send("udplite_connect", AF_INET, SOCK_DGRAM, IPPROTO_UDPLITE, &lite,
			  sizeof(lite));
	send_unbound("udplite_sendto", AF_INET, SOCK_DGRAM, IPPROTO_UDPLITE, &lite, sizeof(lite));
	connect_then_send("mptcp_connect", AF_INET, SOCK_STREAM, IPPROTO_MPTCP, &a, sizeof(a));
	connect_then_send("sctp_connect", AF_INET, SOCK_STREAM, IPPROTO_SCTP, &a, sizeof(a));
	connect_then_send("ping_connect", AF_INET, SOCK_DGRAM, IPPROTO_ICMP, &a, sizeof(a));
	if (sink >= 0)
		close(sink);
}
