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

char LICENSE[] SEC("license") = "Dual MIT/GPL";

/* Which of the two settings is in force (written by the command). */
__u32 live = 0;

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 2);
	__type(key, __u32);
	__type(value, struct bpf_settings);
} settings SEC(".maps");

/* Whether the program may read a namespace it has not been given from the
 * kernel (prog/netns.h); 0 where the kernel refuses the helpers that takes
 * (a lockdown), which the verifier then never sees. */
const volatile __u8 kernel_netns = 1;

/* The network namespaces read, by cookie (0: the one portshim started in).
 * One map for all, so that the verifier sees one kind of pointer: a map of
 * its own for the starting one doubled the states it explores. */
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
	__uint(max_entries, BPF_PLANS * BPF_COUNT_N); /* per plan, per counter */
	__type(key, __u32);
	__type(value, __u64);
} counters SEC(".maps");

/* Counter `which` of plan number `planno` (0: the default policy). */
static __always_inline void count(__u32 planno, __u32 which, __u64 by)
{
	__u32 key = (planno % BPF_PLANS) * BPF_COUNT_N + which;
	__u64 *c = bpf_map_lookup_elem(&counters, &key);

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
	__u8 tw_reuse;              /* a TIME_WAIT the kernel's own choice would take over is free */
	__u32 stamped;              /* a port held by a TIME_WAIT with timestamps, or 0 */
	__u32 daddr4, daddr6[4];    /* network order */
	__u32 src4, src6[4];        /* the socket's own address, if it has one */
	__u16 dport;                /* network order */
};

#include "prog/tuple.h"
#include "prog/reuseaddr.h"
#include "prog/netns.h"
#include "prog/event.h"
#include "prog/refused.h"

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
	if (w->share) {
		int held = tuple_taken(w, port);
		if (held == TUPLE_STAMPED && !w->stamped)
			w->stamped = port;
		if (held != TUPLE_FREE)
			return 0;
	}
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
	if ((ctx->protocol != IPPROTO_TCP && ctx->protocol != IPPROTO_UDP) || kernel_refuses(ctx, v6))
		return 1;
	w.s = bpf_map_lookup_elem(&settings, &key);
	if (!w.s)
		return 1;
	cookie = bpf_get_netns_cookie(ctx);
	w.ns = bpf_map_lookup_elem(&netns, &cookie);
	if ((!w.ns || !w.ns->lo) && kernel_netns && w.s->netns_from_kernel &&
	    portshim_read_netns(cookie) == 0)
		w.ns = bpf_map_lookup_elem(&netns, &cookie);
	if (!w.ns || !w.ns->lo) {
		/* Not readable: the starting namespace's range. */
		__u64 start = 0;
		w.new_netns = 1;
		w.ns = bpf_map_lookup_elem(&netns, &start);
		if (!w.ns)
			return 1;
	}
	/* Without its addresses there is no 4-tuple to check: exclusive
	 * binds until the command reads it (it does when it sees the event). */
	if (!w.ns->addrs_known)
		w.new_netns = 1;
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

	const struct bpf_plan *plan = plan_for(&w, bpf_ntohs(w.dport), &planno);
	if (w.new_netns)
		count(planno, BPF_COUNT_NEW_NETNS, 1);
	if (plan->npasses == 0) {
		count(planno, BPF_COUNT_PASSTHROUGH, 1);
		emit(&w, BPF_RESULT_PASSTHROUGH, planno, 0);
		return 1;
	}

	w.share = w.tcp && w.s->share && !w.new_netns;
	if (w.share) {
		int loopback = w.v4dst ? (bpf_ntohl(w.daddr4) >> 24) == 127
				       : w.daddr6[0] == 0 && w.daddr6[1] == 0 && w.daddr6[2] == 0 &&
					 w.daddr6[3] == bpf_htonl(1);
		w.tw_reuse = w.ns->tw_reuse == 1 || (w.ns->tw_reuse == 2 && loopback);
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
	if (!port && w.stamped) {
		/* Every port of the policy is held towards this destination,
		 * by live sockets or by TIME_WAITs the kernel's own choice
		 * would keep.  Bound to its port, a socket takes over a
		 * TIME_WAIT with timestamps at its connect: better that than
		 * failing a connect the kernel would make on a port of the
		 * other parity. */
		w.attempts++;
		if (bind_port(&w, w.stamped) == 0)
			port = w.bound = w.stamped;
	}
	count(planno, BPF_COUNT_ATTEMPTS, w.attempts);
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
		count(planno, BPF_COUNT_OK, 1);
		emit(&w, BPF_RESULT_OK, planno, 0);
		return 1;
	}
	if (share && !own)
		bpf_setsockopt(ctx, SOL_SOCKET, SO_REUSEADDR, &own, sizeof(own));
	if (w.s->on_exhaust_kernel) {
		count(planno, BPF_COUNT_FALLBACK, 1);
		emit(&w, BPF_RESULT_FALLBACK, planno, 0);
		return 1;
	}
	int error = w.tcp ? w.s->exhausted_tcp : w.s->exhausted_udp;
	count(planno, BPF_COUNT_EXHAUSTED, 1);
	emit(&w, BPF_RESULT_EXHAUSTED, planno, error);
	bpf_set_retval(-error);
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
