/* TCP connects the kernel refuses before it looks for a port: left alone,
 * so that the socket stays unbound, as it does natively (a port bound here
 * would outlive the failed connect).  UDP needs no such care: the kernel
 * binds a UDP socket before it checks the destination.  Part of
 * portshim.bpf.c. */
#ifndef PORTSHIM_PROG_REFUSED_H
#define PORTSHIM_PROG_REFUSED_H

/* The kernel's own socket, as far as this program reads it (CO-RE). */
struct sock_common {
	unsigned char skc_ipv6only : 1;
} __attribute__((preserve_access_index));
struct sock {
	struct sock_common __sk_common;
} __attribute__((preserve_access_index));

/* A multicast or the broadcast IPv4 address (host order). */
static __always_inline int multicast4(__u32 d)
{
	return (d >> 28) == 0xe || d == 0xffffffff;
}

/* Does the kernel fail this TCP connect before it looks for a port?  An
 * address of the other family (EAFNOSUPPORT), a v4-mapped destination of an
 * IPV6_V6ONLY socket, a multicast or the broadcast address (ENETUNREACH).
 * A destination with no route fails later, on a bound socket (README,
 * "Known limits"). */
static __always_inline int kernel_refuses(struct bpf_sock_addr *ctx, int v6)
{
	if (ctx->protocol != IPPROTO_TCP)
		return 0;
	if (ctx->user_family != (v6 ? AF_INET6 : AF_INET))
		return 1;
	if (!v6)
		return multicast4(bpf_ntohl(ctx->user_ip4));
	if (ctx->user_ip6[0] == 0 && ctx->user_ip6[1] == 0 &&
	    ctx->user_ip6[2] == bpf_htonl(0xffff)) {
		struct sock *s = (struct sock *)bpf_skc_to_tcp6_sock(ctx->sk);
		if (s && BPF_CORE_READ_BITFIELD(&s->__sk_common, skc_ipv6only))
			return 1;
		return multicast4(bpf_ntohl(ctx->user_ip6[3]));
	}
	return (bpf_ntohl(ctx->user_ip6[0]) >> 24) == 0xff;
}

#endif
