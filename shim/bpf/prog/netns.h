/* A network namespace nobody has read for the program yet: its range,
 * reserved ports, TIME_WAIT settings and addresses read from the kernel's
 * own struct net at its first connect, and kept in the map of namespaces,
 * as the command would have read them (load.c).  Part of portshim.bpf.c. */
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
struct list_head {
	struct list_head *next;
} __attribute__((preserve_access_index));
struct in_ifaddr {
	struct in_ifaddr *ifa_next;
	__u32 ifa_local;
} __attribute__((preserve_access_index));
struct in_device {
	struct in_ifaddr *ifa_list;
} __attribute__((preserve_access_index));
struct inet6_ifaddr {
	struct in6_addr addr;
	struct list_head if_list;
} __attribute__((preserve_access_index));
struct inet6_dev {
	struct list_head addr_list;
} __attribute__((preserve_access_index));
struct net_device {
	struct list_head dev_list;
	unsigned int flags;
	struct in_device *ip_ptr;
	struct inet6_dev *ip6_ptr;
} __attribute__((preserve_access_index));
struct net {
	__u64 net_cookie;
	struct list_head dev_base_head;
	struct netns_ipv4 ipv4;
} __attribute__((preserve_access_index));
struct nsproxy {
	struct net *net_ns;
} __attribute__((preserve_access_index));
struct task_struct {
	struct nsproxy *nsproxy;
} __attribute__((preserve_access_index));

/* An empty namespace, never written: what a new entry of the map starts
 * from (a namespace is larger than a BPF stack). */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct bpf_netns);
} netns_empty SEC(".maps");

struct netns_fill {
	struct bpf_netns *ns;
	__u32 lo, hi;
	unsigned long *reserved;  /* the kernel's bitmap of reserved ports */
};

/* bpf_loop's step: word i of the allowed ports, the range's bits less the
 * reserved ones. */
static long allowed_word(__u32 i, void *data)
{
	struct netns_fill *f = data;
	struct bpf_netns *ns = f->ns;
	__u32 first = i * 64, lo = f->lo, hi = f->hi;
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
	__u64 reserved = 0;
	if (in_range && f->reserved)
		bpf_probe_read_kernel(&reserved, sizeof(reserved), f->reserved + i);
	ns->ports.word[i] = in_range & ~reserved;
	return 0;
}

#define IFF_UP 0x1
#define NETNS_DEVICES_MAX 64 /* devices looked at for addresses */

struct device_walk {
	struct bpf_netns *ns;
	struct list_head *head;  /* the namespace's list of devices */
	struct list_head *next;  /* the next device's dev_list */
	__u32 n4, n6;            /* addresses written */
};

/* The IPv4 and IPv6 addresses of one device, as far as there is room. */
static __always_inline void device_addresses(struct net_device *dev, struct device_walk *d)
{
	struct bpf_netns *ns = d->ns;
	struct in_ifaddr *ifa = BPF_CORE_READ(dev, ip_ptr, ifa_list);
	struct inet6_dev *in6 = BPF_CORE_READ(dev, ip6_ptr);

	for (int i = 0; i < BPF_ADDRS_MAX && ifa; i++) {
		__u32 n = d->n4;
		if (n >= BPF_ADDRS_MAX)
			break;
		ns->addr4[n] = BPF_CORE_READ(ifa, ifa_local);
		d->n4 = n + 1;
		ifa = BPF_CORE_READ(ifa, ifa_next);
	}
	if (!in6)
		return;
	struct list_head *head = &in6->addr_list, *pos = BPF_CORE_READ(in6, addr_list.next);
	for (int i = 0; i < BPF_ADDRS_MAX && pos && pos != head; i++) {
		struct inet6_ifaddr *a = (void *)pos - bpf_core_field_offset(struct inet6_ifaddr, if_list);
		__u32 n = d->n6;
		if (n >= BPF_ADDRS_MAX)
			break;
		bpf_core_read(ns->addr6[n], 16, &a->addr);
		d->n6 = n + 1;
		pos = BPF_CORE_READ(a, if_list.next);
	}
}

/* bpf_loop's step: the next device of the namespace, if it is up. */
static long next_device(__u32 i, void *data)
{
	struct device_walk *d = data;
	struct net_device *dev;

	(void)i;
	if (!d->next || d->next == d->head)
		return 1;
	dev = (void *)d->next - bpf_core_field_offset(struct net_device, dev_list);
	if (BPF_CORE_READ(dev, flags) & IFF_UP)
		device_addresses(dev, d);
	d->next = BPF_CORE_READ(dev, dev_list.next);
	return 0;
}

/* The namespace of the socket being connected (its cookie), read from the
 * kernel into a new entry of the map, filled in place, its range last: a
 * reader takes an entry with no range for one not read, and reads it too
 * (each CPU that does writes the same values to the same places).  0, or
 * -1 where the calling task's namespace is not the socket's (one made in
 * another and passed over) or it cannot be read.  A global function: the
 * verifier checks it once, apart from the connect it is called from, and
 * before Linux 6.8 even where no connect calls it; loaded without the
 * kernel reading (load.c), its body is then dead code to the verifier,
 * whose helpers a lockdown refuses. */
__noinline int portshim_read_netns(__u64 cookie)
{
	struct netns_fill fill = {};
	struct bpf_netns *ns;
	__u32 zero = 0;

	if (!kernel_netns)
		return -1;
	struct task_struct *task = (struct task_struct *)bpf_get_current_task();
	struct net *net = BPF_CORE_READ(task, nsproxy, net_ns);
	if (!net || BPF_CORE_READ(net, net_cookie) != cookie)
		return -1;
	if (bpf_core_field_size(net->ipv4.ip_local_ports.range) == sizeof(__u32)) {
		__u32 range = BPF_CORE_READ(net, ipv4.ip_local_ports.range);
		fill.lo = range & 0xffff;
		fill.hi = range >> 16;
	} else {
		struct local_ports___two *two = (void *)&net->ipv4.ip_local_ports;
		fill.lo = (__u16)BPF_CORE_READ(two, range[0]);
		fill.hi = (__u16)BPF_CORE_READ(two, range[1]);
	}
	if (fill.lo == 0 || fill.lo > fill.hi)
		return -1;
	ns = bpf_map_lookup_elem(&netns_empty, &zero);
	if (!ns)
		return -1;
	bpf_map_update_elem(&netns, &cookie, ns, BPF_NOEXIST);
	ns = bpf_map_lookup_elem(&netns, &cookie);
	if (!ns)
		return -1;
	fill.ns = ns;
	ns->tw_reuse = BPF_CORE_READ(net, ipv4.sysctl_tcp_tw_reuse);
	ns->tw_reuse_delay_ms = 1000;
	if (bpf_core_field_exists(net->ipv4.sysctl_tcp_tw_reuse_delay))
		ns->tw_reuse_delay_ms = BPF_CORE_READ(net, ipv4.sysctl_tcp_tw_reuse_delay);
	fill.reserved = BPF_CORE_READ(net, ipv4.sysctl_local_reserved_ports);
	bpf_loop(BPF_PORT_WORDS, allowed_word, &fill, 0);
	struct device_walk walk = { .ns = ns, .head = &net->dev_base_head,
				    .next = BPF_CORE_READ(net, dev_base_head.next) };
	bpf_loop(NETNS_DEVICES_MAX, next_device, &walk, 0);
	ns->naddr4 = walk.n4;
	ns->naddr6 = walk.n6;
	ns->addrs_known = 1;
	/* lo and hi at once, after the rest (an exchange orders the stores). */
	__sync_lock_test_and_set((__u32 *)&ns->lo, fill.lo | fill.hi << 16);
	return 0;
}

#endif
