/* A network namespace nobody has read for the program yet: its range,
 * reserved ports and TIME_WAIT settings read from the kernel's own struct
 * net at its first connect, and kept in the map of namespaces.  Its
 * addresses are not read here (the 4-tuple check needs them): until the
 * command reads the namespace, its sockets get ports nobody holds.  Part
 * of portshim.bpf.c. */
#ifndef PORTSHIM_PROG_NETNS_H
#define PORTSHIM_PROG_NETNS_H

/* The kernel's own structures, as far as this program reads them (CO-RE:
 * the fields' places come from the running kernel's BTF).  The range is
 * one u32 (low | high << 16) from Linux 6.3, two ints before. */
struct local_ports {
	__u32 range;
} __attribute__((preserve_access_index));
struct local_ports___two {
	int range[2];
} __attribute__((preserve_access_index));
struct netns_ipv4 {
	struct local_ports ip_local_ports;
	unsigned long *sysctl_local_reserved_ports;
	__u8 sysctl_tcp_tw_reuse;
	unsigned int sysctl_tcp_tw_reuse_delay; /* Linux 6.14 */
} __attribute__((preserve_access_index));
struct net {
	__u64 net_cookie;
	struct netns_ipv4 ipv4;
} __attribute__((preserve_access_index));
struct nsproxy {
	struct net *net_ns;
} __attribute__((preserve_access_index));
struct task_struct {
	struct nsproxy *nsproxy;
} __attribute__((preserve_access_index));

/* Where a namespace is put together before it goes into the map (it is
 * larger than a BPF stack). */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct bpf_netns);
} netns_scratch SEC(".maps");

struct netns_fill {
	struct bpf_netns *ns;
	int reserved_read;  /* ns->ports holds the reserved ports */
};

/* bpf_loop's step: word i of the allowed ports, the range's bits less the
 * reserved ones (read into the same word). */
static long allowed_word(__u32 i, void *data)
{
	struct netns_fill *f = data;
	struct bpf_netns *ns = f->ns;
	__u32 first = i * 64, lo = ns->lo, hi = ns->hi;
	__u64 in_range = ~0ULL;

	if (i >= BPF_PORT_WORDS)
		return 1;
	if (first + 63 < lo || first > hi) {
		in_range = 0;
	} else {
		if (lo > first)
			in_range &= ~0ULL << (lo - first);
		if (hi < first + 63)
			in_range &= ~0ULL >> (first + 63 - hi);
	}
	ns->ports.word[i] = in_range & ~(f->reserved_read ? ns->ports.word[i] : 0);
	return 0;
}

/* The namespace of the socket being connected, read from the kernel and
 * added to the map; NULL where the calling task's namespace is not the
 * socket's (one made in another and passed over) or cannot be read. */
static __always_inline const struct bpf_netns *netns_from_kernel(__u64 cookie)
{
	struct task_struct *task = (struct task_struct *)bpf_get_current_task();
	struct net *net = BPF_CORE_READ(task, nsproxy, net_ns);
	unsigned long *reserved;
	struct bpf_netns *ns;
	__u32 zero = 0;

	if (!net || BPF_CORE_READ(net, net_cookie) != cookie)
		return NULL;
	ns = bpf_map_lookup_elem(&netns_scratch, &zero);
	if (!ns)
		return NULL;
	__builtin_memset(ns, 0, sizeof(*ns) - sizeof(ns->ports));
	if (bpf_core_field_size(net->ipv4.ip_local_ports.range) == sizeof(__u32)) {
		__u32 range = BPF_CORE_READ(net, ipv4.ip_local_ports.range);
		ns->lo = (__u16)range;
		ns->hi = (__u16)(range >> 16);
	} else {
		struct local_ports___two *two = (void *)&net->ipv4.ip_local_ports;
		ns->lo = (__u16)BPF_CORE_READ(two, range[0]);
		ns->hi = (__u16)BPF_CORE_READ(two, range[1]);
	}
	if (ns->lo == 0 || ns->lo > ns->hi)
		return NULL;
	ns->tw_reuse = BPF_CORE_READ(net, ipv4.sysctl_tcp_tw_reuse);
	ns->tw_reuse_delay_ms = 1000;
	if (bpf_core_field_exists(net->ipv4.sysctl_tcp_tw_reuse_delay))
		ns->tw_reuse_delay_ms = BPF_CORE_READ(net, ipv4.sysctl_tcp_tw_reuse_delay);
	reserved = BPF_CORE_READ(net, ipv4.sysctl_local_reserved_ports);
	struct netns_fill fill = {
		.ns = ns,
		.reserved_read = reserved &&
				 bpf_probe_read_kernel(ns->ports.word, sizeof(ns->ports.word), reserved) == 0,
	};
	bpf_loop(BPF_PORT_WORDS, allowed_word, &fill, 0);
	/* Another CPU may have added it first: either is the same. */
	bpf_map_update_elem(&netns, &cookie, ns, BPF_NOEXIST);
	return ns;
}

#endif
