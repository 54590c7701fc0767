// SPDX-License-Identifier: MIT
/* The BPF backend's program: attached to a cgroup's connect4/connect6
 * hooks, it binds each socket that has no port yet to a port of the
 * policy before the kernel would choose one, trying candidates until the
 * kernel takes one.  The command (load.c) computes everything
 * policy-specific with the core and hands it over in `settings` and
 * `ports`: this program only walks the passes it is given.
 *
 * TCP ports are shared across destinations as the kernel shares them: the
 * socket gets SO_REUSEADDR before its bind, and a port whose 4-tuple to
 * this destination exists (live or TIME_WAIT, looked up from each of the
 * namespace's addresses) is passed over.  The program's getsockopt of
 * SO_REUSEADDR reads its own value (the getsockopt hook below). */
#include <linux/bpf.h>
#include <linux/in.h>
#include <linux/in6.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_endian.h>

#include "bpfshared.h"
#include "core/mix.h"
#include "core/rulematch.h"

#define AF_INET 2
#define AF_INET6 10
#define SOL_SOCKET 1
#define SO_REUSEADDR 2
#define EADDRNOTAVAIL 99

char LICENSE[] SEC("license") = "Dual MIT/GPL";

/* Which of the two settings is in force (written by the command). */
__u32 live = 0;

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 2);
	__type(key, __u32);
	__type(value, struct bpf_settings);
} settings SEC(".maps");

/* The network namespaces read, by cookie (0: the one portshim started in). */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, BPF_NETNS_MAX);
	__type(key, __u64);
	__type(value, struct bpf_netns);
} netns SEC(".maps");

/* Per-destination walk counters; with order = sequential, the cursor of
 * each plan's pass instead. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, BPF_WALK_SLOTS + 2 * BPF_PLANS);
	__type(key, __u32);
	__type(value, __u32);
} walk SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct bpf_meta);
} meta SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, BPF_COUNT_N);
	__type(key, __u32);
	__type(value, __u64);
} counters SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 4 * 1024 * 1024); /* 100 ms of ~500,000 decisions a second */
} events SEC(".maps");

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

/* The key's hash, never 0 (0 marks an empty slot). */
static __always_inline __u64 sockkey_hash(const struct bpf_sockkey *k)
{
	__u64 h = rng_mix(k->netns ^ ((__u64)k->daddr[0] << 32 | k->daddr[1]));
	h = rng_mix(h ^ ((__u64)k->daddr[2] << 32 | k->daddr[3]));
	h = rng_mix(h ^ ((__u64)k->sport << 48 | (__u64)k->dport << 32 | k->family));
	return h | 1;
}

/* The slot of a key, and its hash in *tag. */
static __always_inline struct bpf_sockown *sockown_slot(const struct bpf_sockkey *k, __u64 *tag)
{
	__u32 slot;

	*tag = sockkey_hash(k);
	slot = (__u32)(*tag >> 32) & (BPF_SOCKS_MAX - 1);
	return bpf_map_lookup_elem(&ours, &slot);
}

static __always_inline void count(__u32 which, __u64 by)
{
	__u64 *c = bpf_map_lookup_elem(&counters, &which);

	if (c)
		*c += by;
}

/* One connect() being decided. */
struct walk {
	struct bpf_sock_addr *ctx;
	const struct bpf_settings *s;
	const struct bpf_netns *ns;
	__u32 first, n, k, modulus; /* the pass: port first + ((k + i) % n) * modulus */
	__u32 attempts;
	__u32 bound;                /* the port the socket got */
	__u32 last_i;
	__u8 tcp, v6sock, v4dst, new_netns;
	__u8 share;                 /* TCP: SO_REUSEADDR and the 4-tuple check */
	__u8 tw_reuse;              /* a recyclable TIME_WAIT's 4-tuple counts as free */
	__u32 now_ms;               /* CLOCK_MONOTONIC milliseconds */
	__u32 daddr4, daddr6[4];    /* network order */
	__u32 src4, src6[4];        /* the socket's own address, if it has one */
	__u16 dport;                /* network order */
};

/* The kernel's own TIME_WAIT socket, as far as this program reads it
 * (CO-RE: the fields' places come from the running kernel's BTF). */
struct inet_timewait_sock {
	__u32 tw_entry_stamp;    /* Linux 6.14+: tcp_clock_ms() when it began */
} __attribute__((preserve_access_index));
struct tcp_timewait_sock {
	struct inet_timewait_sock tw_sk;
	int tw_ts_recent_stamp;  /* 0 without timestamps; before 6.14, seconds */
} __attribute__((preserve_access_index));

/* One 4-tuple to look up, and how a TIME_WAIT on it is judged. */
struct tuple_query {
	struct bpf_sock_tuple t;
	__u32 v6;
	__u32 tw_reuse;  /* a recyclable TIME_WAIT counts as free */
	__u32 now_ms;    /* CLOCK_MONOTONIC milliseconds */
	__u32 delay_ms;  /* net.ipv4.tcp_tw_reuse_delay (1000 before 6.14) */
};

/* Does a socket hold the 4-tuple?  Not a TIME_WAIT that the kernel's own
 * choice of a port would take over (tcp_twsk_unique()): one with
 * timestamps, older than tcp_tw_reuse_delay (a second before 6.14), where
 * tcp_tw_reuse allows it (2: for a loopback destination).  The kernel
 * times it with its TCP clock, read here as CLOCK_MONOTONIC: the two may
 * drift apart, which moves only the moment a TIME_WAIT is preferred, since
 * a socket bound to its port recycles any with timestamps.  A global function: the verifier checks it once,
 * not once per place of the walk that calls it. */
__noinline int portshim_tuple_held(struct bpf_sock_addr *ctx, struct tuple_query *q)
{
	struct tcp_timewait_sock *tw;
	struct bpf_sock *sk;
	int held = 1;

	if (!ctx || !q)
		return 1;
	sk = bpf_skc_lookup_tcp(ctx, &q->t, q->v6 ? sizeof(q->t.ipv6) : sizeof(q->t.ipv4),
				BPF_F_CURRENT_NETNS, 0);
	if (!sk)
		return 0;
	if (q->tw_reuse && sk->state == BPF_TCP_TIME_WAIT && (tw = bpf_skc_to_tcp_timewait_sock(sk)) &&
	    tw->tw_ts_recent_stamp) {
		if (bpf_core_field_exists(tw->tw_sk.tw_entry_stamp))
			held = (__s32)(q->now_ms - (tw->tw_sk.tw_entry_stamp + q->delay_ms)) <= 0;
		else
			held = (__s32)(q->now_ms / 1000 - (__u32)tw->tw_ts_recent_stamp) <= 0;
	}
	bpf_sk_release(sk);
	return held;
}

/* Does a socket hold this 4-tuple, from the socket's own address or,
 * without one, from any of the namespace's?  The lookup takes the tuple as
 * a packet from the destination sees it. */
static __always_inline int tuple_taken(struct walk *w, __u32 port)
{
	struct tuple_query q = { .v6 = !w->v4dst, .tw_reuse = w->tw_reuse, .now_ms = w->now_ms,
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
		for (__u32 i = 0; i < BPF_ADDRS_MAX && i < s->naddr4 && !held; i++) {
			q.t.ipv4.daddr = s->addr4[i];
			held = portshim_tuple_held(w->ctx, &q);
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
	for (__u32 i = 0; i < BPF_ADDRS_MAX && i < s->naddr6 && !held; i++) {
		__builtin_memcpy(q.t.ipv6.daddr, s->addr6[i], 16);
		held = portshim_tuple_held(w->ctx, &q);
	}
	return held;
}

static __always_inline long bind_port(struct walk *w, __u32 port)
{
	if (w->v6sock) {
		struct sockaddr_in6 sa = { .sin6_family = AF_INET6, .sin6_port = bpf_htons(port) };
		__builtin_memcpy(&sa.sin6_addr, w->src6, 16);
		return bpf_bind(w->ctx, (struct sockaddr *)&sa, sizeof(sa));
	}
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = bpf_htons(port),
				  .sin_addr.s_addr = w->src4 };
	return bpf_bind(w->ctx, (struct sockaddr *)&sa, sizeof(sa));
}

/* bpf_loop's step: candidate i of the pass. */
static long try_candidate(__u32 i, void *data)
{
	struct walk *w = data;
	__u32 idx = w->k + i;

	if (idx >= w->n)
		idx -= w->n;
	__u32 port = w->first + idx * w->modulus;
	if (port > 65535)
		return 1;
	if (!((w->ns->ports.word[(port >> 6) & (BPF_PORT_WORDS - 1)] >> (port & 63)) & 1))
		return 0;
	w->attempts++;
	if (w->share && tuple_taken(w, port))
		return 0;
	if (bind_port(w, port) != 0)
		return 0;
	w->bound = port;
	w->last_i = i;
	return 1;
}

static __always_inline __u32 *walk_counter(__u32 slot)
{
	return bpf_map_lookup_elem(&walk, &slot);
}

/* Tries pass `pass` of plan number `planno`; the port, or 0. */
static __always_inline __u32 walk_pass(struct walk *w, const struct bpf_plan *plan, __u32 planno,
				       __u32 pass)
{
	const struct bpf_settings *s = w->s;
	__u32 m = plan->pass[pass & 1].modulus, r = plan->pass[pass & 1].residue;
	__u32 lo = w->ns->lo, hi = w->ns->hi;
	__u32 *ctr;

	if (m == 0 || r >= m || lo > hi)
		return 0;
	w->modulus = m;
	w->first = lo + (r + m - lo % m) % m;
	if (w->first > hi)
		return 0;
	w->n = (hi - w->first) / m + 1;
	if (s->sequential) {
		ctr = walk_counter(BPF_WALK_SLOTS + 2 * (planno % BPF_PLANS) + (pass & 1));
		w->k = ctr ? *ctr % w->n : 0;
	} else {
		/* The per-destination walk: each destination starts from its
		 * own secret offset, and its counter moves past the ports it
		 * used (RFC 6056, algorithm 4). */
		__u64 h = rng_mix(s->seed ^ rng_mix(((__u64)w->daddr4 << 32 | w->dport) ^
						      ((__u64)w->daddr6[0] << 32 | w->daddr6[1]) ^
						      rng_mix((__u64)w->daddr6[2] << 32 | w->daddr6[3])));
		ctr = walk_counter((__u32)h % BPF_WALK_SLOTS);
		__u32 step = ctr ? __sync_fetch_and_add(ctr, 1) : bpf_get_prandom_u32();
		w->k = (__u32)((h >> 32) + step) % w->n;
	}
	w->bound = 0;
	bpf_loop(w->n, try_candidate, w, 0);
	if (w->bound && ctr) {
		if (s->sequential)
			*ctr = (w->k + w->last_i + 1) % w->n;
		else if (w->last_i)
			__sync_fetch_and_add(ctr, w->last_i);
	}
	return w->bound;
}

struct rule_search {
	const struct walk *w;
	__u32 port;   /* the destination's, host order */
	__u32 found;  /* 1 + the rule's index, or 0 */
};

/* bpf_loop's step: does rule i match?  (The core's own test.) */
static long match_rule(__u32 i, void *data)
{
	struct rule_search *q = data;
	const struct walk *w = q->w;
	const struct bpf_rule *r = &w->s->rule[i & (BPF_RULES_MAX - 1)];

	if (!rule_dest_matches(r->family, r->addr, r->prefix, r->port,
			       (const unsigned char *)&w->daddr4, w->v4dst,
			       (const unsigned char *)w->daddr6, w->v6sock, q->port))
		return 0;
	q->found = i + 1;
	return 1;
}

/* The plan of the first rule that matches the destination, or the
 * default; its number in *planno (0 for the default). */
static __always_inline const struct bpf_plan *plan_for(struct walk *w, __u32 port, __u32 *planno)
{
	struct rule_search q = { .w = w, .port = port };
	__u32 n = w->s->nrules;

	if (n > BPF_RULES_MAX)
		n = BPF_RULES_MAX;
	if (n)
		bpf_loop(n, match_rule, &q, 0);
	*planno = q.found;
	if (q.found == 0 || q.found > BPF_RULES_MAX)
		return &w->s->connect;
	return &w->s->rule[(q.found - 1) & (BPF_RULES_MAX - 1)].plan;
}

static __always_inline void emit(struct walk *w, __u8 result, __u32 planno, int error)
{
	struct bpf_event *e;

	if (!w->s->events)
		return;
	e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
	if (!e) {
		count(BPF_COUNT_DROPPED, 1);
		return;
	}
	__u64 id = bpf_get_current_pid_tgid();
	e->pid = id >> 32;
	e->tid = (__u32)id;
	bpf_get_current_comm(e->comm, sizeof(e->comm));
	e->family = w->v6sock ? AF_INET6 : AF_INET;
	e->protocol = w->tcp ? IPPROTO_TCP : IPPROTO_UDP;
	e->result = result;
	e->plan = planno;
	e->new_netns = w->new_netns;
	e->dport = bpf_ntohs(w->dport);
	e->port = w->bound;
	e->attempts = w->attempts;
	e->error = error;
	if (w->v6sock)
		__builtin_memcpy(e->daddr, w->daddr6, 16);
	else
		__builtin_memcpy(e->daddr, &w->daddr4, 4);
	/* Drained on a timer: no wake-up per event. */
	bpf_ringbuf_submit(e, BPF_RB_NO_WAKEUP);
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

static __always_inline int decide(struct bpf_sock_addr *ctx, int v6)
{
	struct bpf_sock *sk = ctx->sk;
	__u32 key = live & 1, planno;
	__u64 cookie;
	struct walk w = { .ctx = ctx, .v6sock = v6 };
	int one = 1, own = 0;

	if (!sk)
		return 1;
	if (sk->src_port) {
		/* It has a port: the kernel goes on with it.  An entry of an
		 * earlier socket of this program's with the same 4-tuple is not
		 * this one's. */
		if (ctx->protocol == IPPROTO_TCP) {
			struct bpf_sockkey old = { .netns = bpf_get_netns_cookie(ctx),
						   .sport = (__u16)sk->src_port,
						   .dport = bpf_ntohs((__u16)ctx->user_port),
						   .family = v6 ? AF_INET6 : AF_INET };
			if (v6) {
				old.daddr[0] = ctx->user_ip6[0];
				old.daddr[1] = ctx->user_ip6[1];
				old.daddr[2] = ctx->user_ip6[2];
				old.daddr[3] = ctx->user_ip6[3];
			} else {
				old.daddr[0] = ctx->user_ip4;
			}
			__u64 tag;
			struct bpf_sockown *o = sockown_slot(&old, &tag);
			if (o && o->tag == tag)
				o->tag = 0;
		}
		return 1;
	}
	if (ctx->protocol != IPPROTO_TCP && ctx->protocol != IPPROTO_UDP)
		return 1;
	w.s = bpf_map_lookup_elem(&settings, &key);
	cookie = bpf_get_netns_cookie(ctx);
	w.ns = bpf_map_lookup_elem(&netns, &cookie);
	if (!w.ns) {
		/* Not read yet: the starting namespace's range, exclusive
		 * binds (no addresses to check a 4-tuple from); the command
		 * reads it when it sees the event. */
		cookie = 0;
		w.ns = bpf_map_lookup_elem(&netns, &cookie);
		w.new_netns = 1;
	}
	if (!w.s || !w.ns)
		return 1;
	w.tcp = ctx->protocol == IPPROTO_TCP;
	w.dport = (__u16)ctx->user_port;
	if (v6) {
		w.daddr6[0] = ctx->user_ip6[0];
		w.daddr6[1] = ctx->user_ip6[1];
		w.daddr6[2] = ctx->user_ip6[2];
		w.daddr6[3] = ctx->user_ip6[3];
		w.src6[0] = sk->src_ip6[0];
		w.src6[1] = sk->src_ip6[1];
		w.src6[2] = sk->src_ip6[2];
		w.src6[3] = sk->src_ip6[3];
		/* An IPv4-mapped destination is reached over IPv4. */
		if (w.daddr6[0] == 0 && w.daddr6[1] == 0 && w.daddr6[2] == bpf_htonl(0xffff)) {
			w.v4dst = 1;
			w.daddr4 = w.daddr6[3];
			w.src4 = w.src6[2] == bpf_htonl(0xffff) ? w.src6[3] : 0;
		}
	} else {
		w.v4dst = 1;
		w.daddr4 = ctx->user_ip4;
		w.src4 = sk->src_ip4;
	}

	if (w.new_netns)
		count(BPF_COUNT_NEW_NETNS, 1);
	const struct bpf_plan *plan = plan_for(&w, bpf_ntohs(w.dport), &planno);
	if (plan->npasses == 0) {
		count(BPF_COUNT_PASSTHROUGH, 1);
		emit(&w, BPF_RESULT_PASSTHROUGH, planno, 0);
		return 1;
	}

	w.share = w.tcp && w.s->share && !w.new_netns;
	if (w.share) {
		int loopback = w.v4dst ? (bpf_ntohl(w.daddr4) >> 24) == 127
				       : w.daddr6[0] == 0 && w.daddr6[1] == 0 && w.daddr6[2] == 0 &&
					 w.daddr6[3] == bpf_htonl(1);
		w.tw_reuse = w.ns->tw_reuse == 1 || (w.ns->tw_reuse == 2 && loopback);
		w.now_ms = (__u32)(bpf_ktime_get_ns() / 1000000ULL);
	}
	int share = w.share;
	if (share) {
		if (bpf_getsockopt(ctx, SOL_SOCKET, SO_REUSEADDR, &own, sizeof(own)) != 0)
			own = 0;
		if (!own)
			bpf_setsockopt(ctx, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	}
	__u32 port = walk_pass(&w, plan, planno, 0);
	if (!port && plan->npasses > 1)
		port = walk_pass(&w, plan, planno, 1);
	count(BPF_COUNT_ATTEMPTS, w.attempts);
	if (port) {
		if (share && !own) {
			struct bpf_sockkey key = sockkey_of(&w, cookie, port);
			__u64 tag;
			struct bpf_sockown *o = sockown_slot(&key, &tag);
			if (o) {
				o->own = 0;
				o->tag = tag;
			}
		}
		count(BPF_COUNT_OK, 1);
		emit(&w, BPF_RESULT_OK, planno, 0);
		return 1;
	}
	if (share && !own)
		bpf_setsockopt(ctx, SOL_SOCKET, SO_REUSEADDR, &own, sizeof(own));
	if (w.s->on_exhaust_kernel) {
		count(BPF_COUNT_FALLBACK, 1);
		emit(&w, BPF_RESULT_FALLBACK, planno, 0);
		return 1;
	}
	count(BPF_COUNT_EXHAUSTED, 1);
	emit(&w, BPF_RESULT_EXHAUSTED, planno, EADDRNOTAVAIL);
	bpf_set_retval(-EADDRNOTAVAIL);
	return 0;
}

SEC("cgroup/connect4")
int portshim_connect4(struct bpf_sock_addr *ctx)
{
	return decide(ctx, 0);
}

SEC("cgroup/connect6")
int portshim_connect6(struct bpf_sock_addr *ctx)
{
	return decide(ctx, 1);
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
	if (sockkey_from_sk(ctx, &key) == 0 && (o = sockown_slot(&key, &tag)) && o->tag == tag &&
	    (void *)(val + 1) <= ctx->optval_end)
		o->own = *val != 0;
	return untouched(ctx); /* the kernel sets it as asked */
}
