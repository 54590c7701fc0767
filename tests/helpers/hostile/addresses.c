/* hostile cases: address lengths the kernel refuses (too short, longer than
 * any address) and the one it takes short: a 24-byte sockaddr_in6 (RFC
 * 2133's, without sin6_scope_id), for connect, sendto, sendmsg and bind. */
#include "hostile.h"

/* a6 as its first 24 bytes. */
#define LEN24 24

static void too_short_or_long(int lport, int lport6)
{
	struct sockaddr_in a = v4(lport);
	struct sockaddr_in6 a6 = v6(lport6);
	int s;

	s = tcp4();
	CALL("connect_inet_len2", s, connect(s, (struct sockaddr *)&a, 2));
	CALL("connect_inet_len15", s, connect(s, (struct sockaddr *)&a, 15));
	close(s);
	s = socket(AF_INET6, SOCK_STREAM, 0);
	CALL("connect_inet6_len23", s, connect(s, (struct sockaddr *)&a6, 23));
	close(s);
	{
		char big[sizeof(struct sockaddr_storage) + 64];
		memset(big, 0, sizeof(big));
		memcpy(big, &a, sizeof(a));
		s = tcp4();
		CALL("connect_inet_len_storage+8", s,
		     connect(s, (struct sockaddr *)big, sizeof(struct sockaddr_storage) + 8));
		close(s);
		memcpy(big, &a6, sizeof(a6));
		s = socket(AF_INET6, SOCK_STREAM, 0);
		CALL("connect_inet6_len_storage+8", s,
		     connect(s, (struct sockaddr *)big, sizeof(struct sockaddr_storage) + 8));
		close(s);
		s = socket(AF_INET, SOCK_DGRAM, 0);
		memcpy(big, &a, sizeof(a));
		CALL("sendto_udp_len_storage+8", s,
		     (int)sendto(s, "x", 1, 0, (struct sockaddr *)big, sizeof(struct sockaddr_storage) + 8));
		close(s);
		s = socket(AF_INET, SOCK_DGRAM, 0);
		CALL("connect_udp_len_storage+8", s,
		     connect(s, (struct sockaddr *)big, sizeof(struct sockaddr_storage) + 8));
		close(s);
		s = socket(AF_INET, SOCK_DGRAM, 0);
		struct iovec iov = {.iov_base = "x", .iov_len = 1};
		struct msghdr mh = {.msg_name = big, .msg_namelen = sizeof(struct sockaddr_storage) + 8,
				    .msg_iov = &iov, .msg_iovlen = 1};
		CALL("sendmsg_udp_namelen_storage+8", s, (int)sendmsg(s, &mh, 0));
		mh.msg_namelen = 8;
		CALL("sendmsg_udp_namelen8", s, (int)sendmsg(s, &mh, 0));
		close(s);
	}

}

static void rfc2133(int lport, int lport6)
{
	struct sockaddr_in6 a6 = v6(lport6), any6 = v6(0), mapped = v6(lport);
	struct sockaddr_in6 linklocal = v6(lport6);
	int s;

	any6.sin6_addr = in6addr_any;
	inet_pton(AF_INET6, "::ffff:127.0.0.1", &mapped.sin6_addr);
	inet_pton(AF_INET6, "fe80::1", &linklocal.sin6_addr);

	s = socket(AF_INET6, SOCK_STREAM, 0);
	CALL("connect_tcp6_len24", s, connect(s, (struct sockaddr *)&a6, LEN24));
	close(s);
	s = socket(AF_INET6, SOCK_STREAM, 0);
	CALL("connect_tcp6_len24_mapped", s, connect(s, (struct sockaddr *)&mapped, LEN24));
	close(s);
	/* Link-local with no scope: the kernel's EINVAL, the scope it reads as 0. */
	s = socket(AF_INET6, SOCK_STREAM, 0);
	CALL("connect_tcp6_len24_linklocal", s, connect(s, (struct sockaddr *)&linklocal, LEN24));
	close(s);
	s = socket(AF_INET6, SOCK_DGRAM, 0);
	CALL("connect_udp6_len24", s, connect(s, (struct sockaddr *)&a6, LEN24));
	close(s);
	s = socket(AF_INET6, SOCK_DGRAM, 0);
	CALL("sendto_udp6_len24", s, (int)sendto(s, "x", 1, 0, (struct sockaddr *)&a6, LEN24));
	CALL("sendto_udp6_len24_again", s, (int)sendto(s, "x", 1, 0, (struct sockaddr *)&a6, LEN24));
	close(s);
	s = socket(AF_INET6, SOCK_DGRAM, 0);
	{
		struct iovec iov = {.iov_base = "x", .iov_len = 1};
		struct msghdr mh = {.msg_name = &a6, .msg_namelen = LEN24, .msg_iov = &iov,
				    .msg_iovlen = 1};
		CALL("sendmsg_udp6_namelen24", s, (int)sendmsg(s, &mh, 0));
	}
	close(s);
	s = socket(AF_INET6, SOCK_STREAM, 0);
	CALL("bind0_tcp6_len24", s, bind(s, (struct sockaddr *)&any6, LEN24));
	CALL("connect_tcp6_len24_after_bind0", s, connect(s, (struct sockaddr *)&a6, LEN24));
	close(s);
	s = socket(AF_INET6, SOCK_DGRAM, 0);
	CALL("bind0_udp6_len24", s, bind(s, (struct sockaddr *)&any6, LEN24));
	close(s);
}

void cases_addresses(int lport, int lport6)
{
	too_short_or_long(lport, lport6);
	rfc2133(lport, lport6);
}

/* hostile rfc2133 N: N of each call with a 24-byte address to [::1], one
 * line "CALL PORT" each, the local port the socket got. */
int rfc2133_ports(int n)
{
	int lport6, ls = listener(AF_INET6, &lport6);
	struct sockaddr_in6 a6 = v6(lport6), any6 = v6(0);
	struct iovec iov = {.iov_base = "x", .iov_len = 1};
	struct msghdr mh = {.msg_name = &a6, .msg_namelen = LEN24, .msg_iov = &iov, .msg_iovlen = 1};

	any6.sin6_addr = in6addr_any;
	for (int i = 0; i < n; i++) {
		struct { const char *call; int ret; } c[5];
		int s[5];
		for (int k = 0; k < 5; k++)
			s[k] = socket(AF_INET6, k < 1 || k == 4 ? SOCK_STREAM : SOCK_DGRAM, 0);
		c[0].call = "connect";
		c[0].ret = connect(s[0], (struct sockaddr *)&a6, LEN24);
		c[1].call = "connect_udp";
		c[1].ret = connect(s[1], (struct sockaddr *)&a6, LEN24);
		c[2].call = "sendto";
		c[2].ret = (int)sendto(s[2], "x", 1, 0, (struct sockaddr *)&a6, LEN24);
		c[3].call = "sendmsg";
		c[3].ret = (int)sendmsg(s[3], &mh, 0);
		c[4].call = "bind";
		c[4].ret = bind(s[4], (struct sockaddr *)&any6, LEN24);
		for (int k = 0; k < 5; k++) {
			if (c[k].ret < 0)
				printf("%s failed: %s\n", c[k].call, ename(errno));
			else
				printf("%s %d\n", c[k].call, local_port(s[k]));
			close(s[k]);
		}
	}
	close(ls);
	return 0;
}
