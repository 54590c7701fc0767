/* The 4-tuple a candidate port would make: does a socket hold it, or a
 * TIME_WAIT the kernel would not recycle?  Part of portshim.bpf.c. */
#ifndef PORTSHIM_PROG_TUPLE_H
#define PORTSHIM_PROG_TUPLE_H

/* The kernel's own TIME_WAIT socket, as far as this program reads it
 * (CO-RE: the fields' places come from the running kernel's BTF). */
struct inet_timewait_sock {
	__u32 tw_entry_stamp;    /* Linux 6.14+: tcp_clock_ms() when it began */
} __attribute__((preserve_access_index));
struct tcp_timewait_sock {
	struct inet_timewait_sock tw_sk;
	int tw_ts_recent_stamp;  /* 0 without timestamps; before 6.14, seconds */
} __attribute__((preserve_access_index));

/* What holds a 4-tuple: bits, since a socket with no address of its own
 * is looked up from each of the namespace's. */
enum tuple_holder {
	TUPLE_FREE = 0,     /* nothing, or a TIME_WAIT q->tw_reuse lets go */
	TUPLE_HELD = 1,     /* a socket */
	TUPLE_STAMPED = 2,  /* a TIME_WAIT with timestamps, which a socket bound
			     * to its port takes over at its connect */
};

/* One 4-tuple to look up, and how a TIME_WAIT on it is judged. */
struct tuple_query {
	struct bpf_sock_tuple t;
	__u32 v6;
	__u32 tw_reuse;  /* one the kernel's own choice of a port would take over is free */
	__u32 delay_ms;  /* net.ipv4.tcp_tw_reuse_delay (1000 before 6.14) */
};

/* What holds the 4-tuple (one of enum tuple_holder)?  A TIME_WAIT that the
 * kernel's own choice of a port would take over (tcp_twsk_unique()) counts
 * as free where q->tw_reuse says so: one with timestamps, older than
 * tcp_tw_reuse_delay (a second before 6.14), where tcp_tw_reuse allows it
 * (2: for a loopback destination).  The kernel times it with its TCP
 * clock, read here as CLOCK_MONOTONIC: the two may drift apart, which
 * moves only the moment a TIME_WAIT is preferred, since a socket bound to
 * its port recycles any with timestamps.  A global function: the verifier
 * checks it once, not once per place of the walk that calls it. */
__noinline int portshim_tuple_held(struct bpf_sock_addr *ctx, struct tuple_query *q)
{
	struct tcp_timewait_sock *tw;
	struct bpf_sock *sk;
	int held = TUPLE_HELD;

	if (!ctx || !q)
		return TUPLE_HELD;
	sk = bpf_skc_lookup_tcp(ctx, &q->t, q->v6 ? sizeof(q->t.ipv6) : sizeof(q->t.ipv4),
				BPF_F_CURRENT_NETNS, 0);
	if (!sk)
		return TUPLE_FREE;
	if (sk->state == BPF_TCP_TIME_WAIT && (tw = bpf_skc_to_tcp_timewait_sock(sk)) &&
	    tw->tw_ts_recent_stamp) {
		held = TUPLE_STAMPED;
		if (q->tw_reuse) {
			/* The clock is read only here: a read per connect
			 * costs more than the lookup that seldom needs it. */
			__u32 now_ms = (__u32)(bpf_ktime_get_ns() / 1000000ULL);

			if (bpf_core_field_exists(tw->tw_sk.tw_entry_stamp)) {
				if ((__s32)(now_ms - (tw->tw_sk.tw_entry_stamp + q->delay_ms)) > 0)
					held = TUPLE_FREE;
			} else if ((__s32)(now_ms / 1000 - (__u32)tw->tw_ts_recent_stamp) > 0) {
				held = TUPLE_FREE;
			}
		}
	}
	bpf_sk_release(sk);
	return held;
}

/* Does a socket hold this 4-tuple, from the socket's own address or,
 * without one, from any of the namespace's?  The lookup takes the tuple as
 * a packet from the destination sees it. */
static __always_inline int tuple_taken(struct walk *w, __u32 port)
{
	struct tuple_query q = { .v6 = !w->v4dst, .tw_reuse = w->tw_reuse,
				 .delay_ms = w->ns->tw_reuse_delay_ms };
	const struct bpf_netns *s = w->ns;
	int held = 0;

	if (w->v4dst) {
		q.t.ipv4.saddr = w->daddr4;
		q.t.ipv4.sport = w->dport;
		q.t.ipv4.dport = bpf_htons(port);
		if (w->src4) {
			q.t.ipv4.daddr = w->src4;
			return portshim_tuple_held(w->ctx, &q);
		}
		for (__u32 i = 0; i < BPF_ADDRS_MAX && i < s->naddr4 && !(held & TUPLE_HELD); i++) {
			q.t.ipv4.daddr = s->addr4[i];
			held |= portshim_tuple_held(w->ctx, &q);
		}
		return held;
	}
	__builtin_memcpy(q.t.ipv6.saddr, w->daddr6, 16);
	q.t.ipv6.sport = w->dport;
	q.t.ipv6.dport = bpf_htons(port);
	if (w->src6[0] | w->src6[1] | w->src6[2] | w->src6[3]) {
		__builtin_memcpy(q.t.ipv6.daddr, w->src6, 16);
		return portshim_tuple_held(w->ctx, &q);
	}
	for (__u32 i = 0; i < BPF_ADDRS_MAX && i < s->naddr6 && !(held & TUPLE_HELD); i++) {
		__builtin_memcpy(q.t.ipv6.daddr, s->addr6[i], 16);
		held |= portshim_tuple_held(w->ctx, &q);
	}
	return held;
}

#endif
