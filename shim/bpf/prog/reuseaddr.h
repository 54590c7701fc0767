/* The program's own SO_REUSEADDR of the TCP sockets the connect hooks
 * gave SO_REUSEADDR to share a port, and the getsockopt and setsockopt
 * programs that keep it.  Part of portshim.bpf.c. */
#ifndef PORTSHIM_PROG_REUSEADDR_H
#define PORTSHIM_PROG_REUSEADDR_H

/* The program's own SO_REUSEADDR of the sockets this program gave
 * SO_REUSEADDR: a direct-mapped table, since socket storage (an
 * allocation and a release per socket) or a hash map cost more per connect
 * than all the rest of the program. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, BPF_SOCKS_MAX);
	__type(key, __u32);
	__type(value, struct bpf_sockown);
} ours SEC(".maps");

/* The slot of a key, and the key's hash in *tag (never 0: 0 marks an empty
 * slot).  The slot is the destination's hash plus the port: a
 * destination's walk takes consecutive ports, so its sockets take
 * consecutive slots (a page of the table in use, where a slot anywhere in
 * it cost a TLB miss per connect), and with a slot per port they never
 * take each other's. */
static __always_inline struct bpf_sockown *sockown_slot(const struct bpf_sockkey *k, __u64 *tag)
{
	__u64 dest = rng_mix(k->netns ^ ((__u64)k->daddr[0] << 32 | k->daddr[1]));
	__u32 slot;

	dest = rng_mix(dest ^ ((__u64)k->daddr[2] << 32 | k->daddr[3]));
	dest = rng_mix(dest ^ ((__u64)k->dport << 32 | k->family));
	*tag = rng_mix(dest ^ k->sport) | 1;
	slot = ((__u32)(dest >> 32) + k->sport) & (BPF_SOCKS_MAX - 1);
	return bpf_map_lookup_elem(&ours, &slot);
}

/* The key of the socket being connected, once bound to `port`. */
static __always_inline struct bpf_sockkey sockkey_of(const struct walk *w, __u64 netns, __u32 port)
{
	struct bpf_sockkey key = { .netns = netns, .sport = port, .dport = bpf_ntohs(w->dport) };

	if (w->v6sock) {
		key.family = AF_INET6;
		__builtin_memcpy(key.daddr, w->daddr6, 16);
	} else {
		key.family = AF_INET;
		key.daddr[0] = w->daddr4;
	}
	return key;
}

/* Every option but SO_REUSEADDR goes by untouched: optlen 0 tells the
 * kernel to keep its own (and the program's) value and length, whatever
 * their size (the hooks see at most a page of an option: one larger would
 * otherwise fail with EFAULT before Linux 6.5). */
static __always_inline int untouched(struct bpf_sockopt *ctx)
{
	ctx->optlen = 0;
	return 1;
}

/* One 4-byte field of a socket, read at its own offset: the verifier
 * refuses the pointer arithmetic a compiler may make of four reads. */
#define sock_u32(sk, field)                                                     \
	({                                                                      \
		__u32 v_;                                                       \
		asm volatile("%0 = *(u32 *)(%1 + %2)"                           \
			     : "=r"(v_)                                         \
			     : "r"(sk), "i"(__builtin_offsetof(struct bpf_sock, field))); \
		v_;                                                             \
	})

/* ctx->optlen, read at its own offset: a compiler may otherwise keep one
 * pointer into the context for this read and a later store, which the
 * verifier refuses. */
static __always_inline int optlen_of(struct bpf_sockopt *ctx)
{
	int v;

	asm volatile("%0 = *(u32 *)(%1 + %2)"
		     : "=r"(v)
		     : "r"(ctx), "i"(__builtin_offsetof(struct bpf_sockopt, optlen)));
	return v;
}

/* The key of a connected TCP socket, as the sockopt hooks see it. */
static __always_inline int sockkey_from_sk(struct bpf_sockopt *ctx, struct bpf_sockkey *key)
{
	struct bpf_sock *sk = ctx->sk;

	if (!sk || sk->protocol != IPPROTO_TCP)
		return -1;
	key->netns = bpf_get_netns_cookie(ctx);
	key->family = sk->family;
	key->sport = (__u16)sk->src_port;
	key->dport = bpf_ntohs((__u16)sk->dst_port);
	if (sk->family == AF_INET6) {
		key->daddr[0] = sock_u32(sk, dst_ip6[0]);
		key->daddr[1] = sock_u32(sk, dst_ip6[1]);
		key->daddr[2] = sock_u32(sk, dst_ip6[2]);
		key->daddr[3] = sock_u32(sk, dst_ip6[3]);
	} else {
		key->daddr[0] = sk->dst_ip4;
	}
	return 0;
}

/* The program's getsockopt(SO_REUSEADDR) on a socket this program gave
 * SO_REUSEADDR reads the program's own value. */
SEC("cgroup/getsockopt")
int portshim_getsockopt(struct bpf_sockopt *ctx)
{
	struct bpf_sockkey key = {};
	struct bpf_sockown *o;
	int *val = ctx->optval;
	__u64 tag;

	if (ctx->level != SOL_SOCKET || ctx->optname != SO_REUSEADDR || ctx->retval != 0)
		return untouched(ctx);
	if (sockkey_from_sk(ctx, &key) != 0 || !(o = sockown_slot(&key, &tag)) || o->tag != tag)
		return untouched(ctx);
	__u32 *own = &o->own;
	/* The kernel copied min(optlen, 4) bytes of its 1; the program's own
	 * value goes in their place (x86: its low byte first). */
	if ((void *)(val + 1) <= ctx->optval_end) {
		*val = *own;
	} else {
		__u8 *byte = ctx->optval;
		if ((void *)(byte + 1) > ctx->optval_end)
			return untouched(ctx);
		*byte = (__u8)*own;
		return 1; /* the kernel's length stays, with this byte */
	}
	/* Two 4-byte stores: the verifier refuses one 8-byte store over both. */
	ctx->optlen = sizeof(int);
	asm volatile("" ::: "memory");
	ctx->retval = 0;
	return 1;
}

/* The program sets SO_REUSEADDR itself: that is its value from now on. */
SEC("cgroup/setsockopt")
int portshim_setsockopt(struct bpf_sockopt *ctx)
{
	struct bpf_sockkey key = {};
	struct bpf_sockown *o;
	int *val = ctx->optval;
	__u64 tag;

	if (ctx->level != SOL_SOCKET || ctx->optname != SO_REUSEADDR)
		return untouched(ctx);
	/* The kernel takes an int or more (EINVAL below it), and reads the
	 * first int of a longer one; the buffer here has at least 16 bytes,
	 * whatever the program gave. */
	if (optlen_of(ctx) >= (int)sizeof(int) && sockkey_from_sk(ctx, &key) == 0 &&
	    (o = sockown_slot(&key, &tag)) && o->tag == tag && (void *)(val + 1) <= ctx->optval_end)
		o->own = *val != 0;
	return untouched(ctx); /* the kernel sets it as asked */
}

#endif
