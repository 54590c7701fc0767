/* What the BPF program (portshim.bpf.c) and the command that loads it
 * (load.c) share: the settings it reads, the events it writes, its
 * counters.  Both compile this header; it names types by <linux/types.h>
 * only. */
#ifndef PORTSHIM_BPFSHARED_H
#define PORTSHIM_BPFSHARED_H

#include <linux/types.h>

#define BPF_RULES_MAX 32     /* RULES_MAX of core/rules.h */
#define BPF_ADDRS_MAX 8      /* local addresses per family (load.c) */
#define BPF_NETNS_MAX 256    /* network namespaces read */
#define BPF_WALK_SLOTS 4096  /* per-destination walk counters */
#define BPF_PORT_WORDS 1024  /* 65536 bits */
#define BPF_PLANS (BPF_RULES_MAX + 1) /* the default, then one per rule */

/* One pass of a plan: the ports p of the range with p % modulus == residue
 * (core/policy.h, struct port_class). */
struct bpf_pass {
	__u16 modulus, residue;
};

/* A connect() policy as passes; npasses 0 leaves the socket to the kernel. */
struct bpf_plan {
	__u8 npasses;
	__u8 pad[3];
	struct bpf_pass pass[2];
};

/* A per-destination rule (core/rules.h), matched by core/rulematch.h. */
struct bpf_rule {
	__u8 family;
	__u8 prefix;
	__u16 port;
	__u8 addr[16];
	struct bpf_plan plan;
};

struct bpf_portbits {
	__u64 word[BPF_PORT_WORDS];
};

/* One network namespace as the command read it: its range, the range minus
 * its reserved ports, and its own addresses (the sources a 4-tuple of a
 * socket with no address may have).  Keyed by the namespace's cookie; key
 * 0 holds the namespace portshim started in, for sockets of one nobody
 * could read, without addresses (exclusive binds there). */
struct bpf_netns {
	__u16 lo, hi;
	__u32 tw_reuse;          /* net.ipv4.tcp_tw_reuse: 0, 1, or 2 (loopback only) */
	__u32 tw_reuse_delay_ms; /* net.ipv4.tcp_tw_reuse_delay (Linux 6.14), else 1000 */
	__u32 addrs_known;       /* addr4, addr6 are its addresses */
	__u32 naddr4, naddr6;
	__u32 addr4[BPF_ADDRS_MAX];
	__u32 addr6[BPF_ADDRS_MAX][4];
	struct bpf_portbits ports;
};

/* The settings of one attachment.  Two copies, `live` names the one in
 * force: a switch (the control file) writes the other, then flips. */
struct bpf_settings {
	__u64 seed;
	__u8 sequential;         /* order = sequential */
	__u8 on_exhaust_kernel;  /* else fail with the kernel's errno */
	__u8 events;             /* someone drains the ring buffer */
	__u8 share;              /* TCP: SO_REUSEADDR and the 4-tuple check */
	__u8 netns_from_kernel;  /* no range or reserved ports set: each namespace's own */
	__u8 exhausted_tcp;      /* the errno of a connect with no port left (core/apply.h) */
	__u8 exhausted_udp;
	__u8 pad;
	__u32 nrules;
	struct bpf_plan connect;
	struct bpf_rule rule[BPF_RULES_MAX];
};

/* The result of a decision: the values of enum decision_result
 * (core/decision.h). */
#define BPF_RESULT_OK 0
#define BPF_RESULT_FALLBACK 1
#define BPF_RESULT_EXHAUSTED 2
#define BPF_RESULT_PASSTHROUGH 3

/* One decision, as the ring buffer carries it. */
struct bpf_event {
	__u64 when;        /* CLOCK_MONOTONIC nanoseconds */
	__u32 pid, tid;
	char comm[16];
	__u8 family;       /* of the socket, and of daddr */
	__u8 protocol;     /* IPPROTO_TCP or IPPROTO_UDP */
	__u8 result;
	__u8 plan;         /* 0: the default policy; 1 + i: rule i */
	__u8 new_netns;    /* in a namespace not read yet (bpf_netns) */
	__u8 pad[3];
	__u16 dport;       /* host order */
	__u16 port;        /* the port the socket got, 0 if none */
	__u16 pad2;
	__u32 attempts;
	__s32 error;       /* errno the connect() returns, 0 if the kernel goes on */
	__u8 daddr[16];
};

/* The counters (a per-CPU array, BPF_COUNT_N per plan), printed by
 * portshim status. */
enum bpf_counter {
	BPF_COUNT_OK,
	BPF_COUNT_FALLBACK,
	BPF_COUNT_EXHAUSTED,
	BPF_COUNT_PASSTHROUGH,
	BPF_COUNT_ATTEMPTS,
	BPF_COUNT_NEW_NETNS,    /* in a namespace not read yet: its starting one's range */
	BPF_COUNT_DROPPED,      /* events the ring buffer had no room for */
	BPF_COUNT_N
};

/* What an attachment is, for portshim status: written by the command,
 * never read by the program. */
struct bpf_meta {
	char cgroup[256];    /* the cgroup's path */
	char settings[736];  /* the settings given, "connect=odd on-exhaust=kernel" */
	char plans[BPF_PLANS][64]; /* "connect=odd", "rule 1: 10.0.0.0/8=even" */
	__u64 since;         /* CLOCK_REALTIME seconds */
};

/* A TCP socket this program gave SO_REUSEADDR, by what the sockopt hooks
 * can see of it: its namespace, its port and its destination, hashed. */
struct bpf_sockkey {
	__u64 netns;
	__u32 daddr[4];   /* IPv4: daddr[0]; as the socket's family has it */
	__u16 sport;      /* host order */
	__u16 dport;      /* host order */
	__u32 family;
};
/* The program's own SO_REUSEADDR of such a socket, in the slot its
 * destination's hash plus its port names: a later socket to another
 * destination that lands on the same slot takes it over, and the earlier
 * one then reads the kernel's 1. */
struct bpf_sockown {
	__u64 tag;        /* the key's hash; 0: empty */
	__u32 own;        /* 0 or 1 */
	__u32 pad;
};
#define BPF_SOCKS_MAX 65536 /* a slot per port: one destination's never meet */

#endif
