/* Loads the BPF program and hands it the settings: the core decides the
 * classes of each policy (policy_passes()), the rule table, the range and
 * the reserved ports, exactly as for the library; the program only walks
 * them (portshim.bpf.c). */
#include <errno.h>
#include <fcntl.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "backend.h"
#include "bpfcmd.h"
#include "bpfshared.h"
#include "portshim.skel.h"

#include "core/apply.h"
#include "core/policy.h"
#include "core/rng.h"

#ifndef SO_NETNS_COOKIE
#define SO_NETNS_COOKIE 71
#endif

_Static_assert(BPF_RULES_MAX == RULES_MAX, "one rule table");
_Static_assert(sizeof(((struct bpf_portbits *)0)->word) == sizeof(((struct portset *)0)->bits),
	       "one port per bit, as the core's sets");
_Static_assert(BPF_RESULT_OK == RESULT_OK && BPF_RESULT_FALLBACK == RESULT_FALLBACK &&
	       BPF_RESULT_EXHAUSTED == RESULT_EXHAUSTED && BPF_RESULT_PASSTHROUGH == RESULT_PASSTHROUGH,
	       "the log's results");

/* libbpf's last complaint, for the one line a failure prints. */
static char libbpf_said[256];

static int keep_last(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	char line[sizeof(libbpf_said)];

	if (level == LIBBPF_DEBUG)
		return 0;
	vsnprintf(line, sizeof(line), fmt, ap);
	line[strcspn(line, "\n")] = '\0';
	if (line[0])
		memcpy(libbpf_said, line, sizeof(line));
	return 0;
}

static bool emulates(const struct policy *p)
{
	return POLICY_EMULATES(p->kind);
}

int bpf_settings_check(const struct runtime *rt, char *why, size_t len)
{
	const struct config *cfg = &rt->cfg;
	char name[24];

	if (emulates(&cfg->connect)) {
		policy_format(&cfg->connect, name, sizeof(name));
		snprintf(why, len, "connect=%s: the bpf backend applies even, odd, any, N:K, "
			 "prefer-even and prefer-odd; the kernel's emulations need the preload or "
			 "seccomp backend", name);
		return -1;
	}
	for (int i = 0; i < cfg->rules.count; i++)
		if (emulates(&cfg->rules.rule[i].policy)) {
			policy_format(&cfg->rules.rule[i].policy, name, sizeof(name));
			snprintf(why, len, "rules: rule %d (=%s): the bpf backend applies even, odd, "
				 "any, N:K, prefer-even and prefer-odd", i + 1, name);
			return -1;
		}
	if (cfg->strategy == STRATEGY_RANGE) {
		snprintf(why, len, "strategy=range: the bpf backend cannot set IP_LOCAL_PORT_RANGE from "
			 "the kernel (its setsockopt refuses it); it applies auto, reuse (ports shared "
			 "across destinations, as auto) and exclusive");
		return -1;
	}
	if (cfg->bind_set && cfg->bind.kind != POLICY_OFF) {
		snprintf(why, len, "bind: the bpf backend reaches connect() only (a bind(0) cannot be "
			 "retried from the cgroup's bind hook); use the preload or seccomp backend");
		return -1;
	}
	return 0;
}

static void plan_of(const struct policy *policy, struct bpf_plan *out)
{
	struct port_class passes[2];
	int n = policy_passes(policy, passes);

	memset(out, 0, sizeof(*out));
	out->npasses = (__u8)n;
	for (int i = 0; i < n; i++)
		out->pass[i] = (struct bpf_pass){ passes[i].modulus, passes[i].residue };
}

/* The namespace's own addresses: the sources a 4-tuple of a socket with
 * no address of its own may have. */
static void local_addresses(struct bpf_netns *s)
{
	struct ifaddrs *all, *a;

	if (getifaddrs(&all) != 0)
		return;
	for (a = all; a; a = a->ifa_next) {
		if (!a->ifa_addr || !(a->ifa_flags & IFF_UP))
			continue;
		if (a->ifa_addr->sa_family == AF_INET && s->naddr4 < BPF_ADDRS_MAX)
			s->addr4[s->naddr4++] = ((struct sockaddr_in *)a->ifa_addr)->sin_addr.s_addr;
		else if (a->ifa_addr->sa_family == AF_INET6 && s->naddr6 < BPF_ADDRS_MAX)
			memcpy(s->addr6[s->naddr6++], &((struct sockaddr_in6 *)a->ifa_addr)->sin6_addr, 16);
	}
	freeifaddrs(all);
}

static int netns_cookie(__u64 *cookie, char *why, size_t len)
{
	socklen_t sz = sizeof(*cookie);
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0), rc;

	rc = fd < 0 ? -1 : getsockopt(fd, SOL_SOCKET, SO_NETNS_COOKIE, cookie, &sz);
	if (rc != 0)
		snprintf(why, len, "SO_NETNS_COOKIE (Linux 5.14): %s", strerror(errno));
	if (fd >= 0)
		close(fd);
	return rc;
}

void bpf_settings_fill(const struct runtime *rt, bool events, struct bpf_settings *s)
{
	const struct config *cfg = &rt->cfg;

	memset(s, 0, sizeof(*s));
	s->seed = cfg->seed_set ? cfg->seed : rng_fresh_seed();
	s->sequential = cfg->order == ORDER_SEQUENTIAL;
	s->on_exhaust_kernel = cfg->on_exhaust == ON_EXHAUST_KERNEL;
	s->events = events;
	/* auto and reuse share a TCP port across destinations as the kernel
	 * does; exclusive gives each socket a port nobody holds. */
	s->share = cfg->strategy != STRATEGY_EXCLUSIVE;
	/* A range or reserved ports given apply in every namespace, as the
	 * one portshim started in has them. */
	s->netns_from_kernel = !cfg->range_set && !cfg->reserved_set;
	s->exhausted_tcp = (__u8)apply_exhausted_errno(SOCK_STREAM, false);
	s->exhausted_udp = (__u8)apply_exhausted_errno(SOCK_DGRAM, false);
	plan_of(&cfg->connect, &s->connect);
	s->nrules = (__u32)cfg->rules.count;
	for (int i = 0; i < cfg->rules.count; i++) {
		const struct rule *r = &cfg->rules.rule[i];
		s->rule[i].family = (__u8)r->family;
		s->rule[i].prefix = r->prefix;
		s->rule[i].port = r->port;
		memcpy(s->rule[i].addr, r->addr, 16);
		plan_of(&r->policy, &s->rule[i].plan);
	}
}

/* A number from a file of /proc/sys, or `otherwise`. */
static __u32 sysctl_value(const char *path, __u32 otherwise)
{
	FILE *f = fopen(path, "re");
	unsigned v = otherwise;

	if (f) {
		if (fscanf(f, "%u", &v) != 1)
			v = otherwise;
		fclose(f);
	}
	return v;
}

/* The namespace of rt as the program reads it. */
static void netns_of(const struct runtime *rt, struct bpf_netns *ns)
{
	memset(ns, 0, sizeof(*ns));
	ns->lo = (__u16)rt->range_lo;
	ns->hi = (__u16)rt->range_hi;
	memcpy(ns->ports.word, rt->base.bits, sizeof(ns->ports.word));
	local_addresses(ns);
	ns->addrs_known = 1;
	/* The kernel's defaults where a file says nothing (tcp_tw_reuse_delay
	 * is Linux 6.14's; before it, one second). */
	ns->tw_reuse = sysctl_value("/proc/sys/net/ipv4/tcp_tw_reuse", 2);
	ns->tw_reuse_delay_ms = sysctl_value("/proc/sys/net/ipv4/tcp_tw_reuse_delay", 1000);

}

int bpf_backend_add_netns(struct bpf_backend *b, const char *ns_path, char *why, size_t len)
{
	static struct runtime scratch;
	static struct bpf_netns ns;
	extern char **environ;
	char err[512];
	__u64 cookie;
	int here = -1, there = -1, rc = -1;

	if (ns_path) {
		here = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
		there = open(ns_path, O_RDONLY | O_CLOEXEC);
		if (here < 0 || there < 0 || setns(there, CLONE_NEWNET) != 0) {
			snprintf(why, len, "to enter %s (%s)", ns_path, strerror(errno));
			goto out;
		}
	}
	/* The range and reserved ports are the namespace's own, as the
	 * library reads them where it starts. */
	if (runtime_configure(&scratch, environ, false, err, sizeof(err)) != 0) {
		snprintf(why, len, "%s", err);
		goto back;
	}
	netns_of(&scratch, &ns);
	runtime_release(&scratch);
	if (netns_cookie(&cookie, why, len) != 0)
		goto back;
	if (bpf_map__update_elem(b->skel->maps.netns, &cookie, sizeof(cookie), &ns, sizeof(ns), 0) != 0) {
		snprintf(why, len, "room for another network namespace (%s)", strerror(errno));
		goto back;
	}
	rc = 0;
back:
	if (ns_path && setns(here, CLONE_NEWNET) != 0) {
		/* This thread would go on in the program's namespace. */
		fprintf(stderr, "portshim: cannot go back to its network namespace: %s\n", strerror(errno));
		abort();
	}
out:
	if (here >= 0)
		close(here);
	if (there >= 0)
		close(there);
	return rc;
}

static void say_failure(const char *what, int err, char *why, size_t len)
{
	/* EACCES: the verifier's checks for a loader without CAP_PERFMON,
	 * which the program does not pass (its helpers and its stack). */
	if (err == EPERM || err == EACCES)
		snprintf(why, len, "CAP_BPF, CAP_NET_ADMIN and CAP_PERFMON (or root) to %s (%s)", what,
			 strerror(err));
	else
		snprintf(why, len, "a kernel that accepts its program (%s: %s%s%s)", what, strerror(err),
			 libbpf_said[0] ? "; " : "", libbpf_said);
}

const char *const bpf_hook_names[BPF_HOOKS] = { "connect4", "connect6", "getsockopt", "setsockopt" };

int bpf_backend_load(struct bpf_backend *b, struct runtime *rt, bool events, char *why, size_t len)
{
	static struct bpf_netns ns;
	struct bpf_settings *s = &b->settings;
	__u32 zero = 0, one = 1;
	__u64 start = 0;
	int err;

	memset(b, 0, sizeof(*b));
	b->rt = rt;
	libbpf_set_print(keep_last);
	if (bpf_settings_check(rt, why, len) != 0)
		return -1;
	if (netns_cookie(&b->start_netns, why, len) != 0)
		return -1;
	bpf_settings_fill(rt, events, s);
	b->connect = rt->cfg.connect;
	netns_of(rt, &ns);

	/* First with the reading of new namespaces from the kernel, then,
	 * where the kernel refuses it, without. */
	for (int kernel_netns = 1; kernel_netns >= 0; kernel_netns--) {
		b->skel = portshim_bpf__open();
		if (!b->skel) {
			say_failure("open the program", errno, why, len);
			return -1;
		}
		b->skel->rodata->kernel_netns = (__u8)kernel_netns;
		b->kernel_netns = kernel_netns;
		err = portshim_bpf__load(b->skel);
		if (err == 0)
			break;
		portshim_bpf__destroy(b->skel);
		b->skel = NULL;
	}
	if (err) {
		say_failure("load the program", -err, why, len);
		bpf_backend_close(b);
		return -1;
	}
	if (bpf_map__update_elem(b->skel->maps.settings, &zero, sizeof(zero), s, sizeof(*s), 0) ||
	    bpf_map__update_elem(b->skel->maps.settings, &one, sizeof(one), s, sizeof(*s), 0) ||
	    bpf_map__update_elem(b->skel->maps.netns, &b->start_netns, sizeof(start), &ns, sizeof(ns), 0) ||
	    bpf_map__update_elem(b->skel->maps.netns, &start, sizeof(start), &ns, sizeof(ns), 0)) {
		say_failure("fill its maps", errno, why, len);
		bpf_backend_close(b);
		return -1;
	}
	return 0;
}

int bpf_backend_attach(struct bpf_backend *b, int cgroup_fd, char *why, size_t len)
{
	struct bpf_program *progs[BPF_HOOKS] = {
		b->skel->progs.portshim_connect4, b->skel->progs.portshim_connect6,
		b->skel->progs.portshim_getsockopt, b->skel->progs.portshim_setsockopt,
	};

	for (int i = 0; i < BPF_HOOKS; i++) {
		b->link[i] = bpf_program__attach_cgroup(progs[i], cgroup_fd);
		if (!b->link[i]) {
			say_failure("attach it to the cgroup", errno, why, len);
			for (int j = 0; j < i; j++) {
				bpf_link__destroy(b->link[j]);
				b->link[j] = NULL;
			}
			return -1;
		}
	}
	return 0;
}

int bpf_backend_switch(struct bpf_backend *b, const struct policy *connect, char *why, size_t len)
{
	__u32 next = (b->skel->bss->live + 1) & 1;
	char name[24];

	if (emulates(connect)) {
		policy_format(connect, name, sizeof(name));
		snprintf(why, len, "connect=%s: the bpf backend cannot apply the kernel's emulations", name);
		return -1;
	}
	plan_of(connect, &b->settings.connect);
	b->connect = *connect;
	if (bpf_map__update_elem(b->skel->maps.settings, &next, sizeof(next), &b->settings,
				 sizeof(b->settings), 0) != 0) {
		snprintf(why, len, "cannot write the program's settings: %s", strerror(errno));
		return -1;
	}
	/* A connect deciding now finishes with the copy it looked up. */
	__atomic_store_n(&b->skel->bss->live, next, __ATOMIC_RELEASE);
	return 0;
}

void bpf_plan_names(const struct runtime *rt, char names[BPF_PLANS][64])
{
	char policy[24], rule[160];

	policy_format(&rt->cfg.connect, policy, sizeof(policy));
	snprintf(names[0], 64, "connect=%s", policy);
	for (int i = 0; i < rt->cfg.rules.count && i + 1 < BPF_PLANS; i++) {
		rules_format_one(&rt->cfg.rules.rule[i], rule, sizeof(rule));
		snprintf(names[i + 1], 64, "rule %d: %.50s", i + 1, rule);
	}
}

void bpf_backend_counters(int counters_fd, uint64_t out[BPF_PLANS][BPF_COUNT_N])
{
	int cpus = libbpf_num_possible_cpus();
	uint64_t vals[cpus > 0 ? cpus : 1];

	for (__u32 key = 0; key < BPF_PLANS * BPF_COUNT_N; key++) {
		uint64_t *c = &out[key / BPF_COUNT_N][key % BPF_COUNT_N];
		*c = 0;
		if (cpus > 0 && bpf_map_lookup_elem(counters_fd, &key, vals) == 0)
			for (int i = 0; i < cpus; i++)
				*c += vals[i];
	}
}

void bpf_backend_close(struct bpf_backend *b)
{
	if (b->events)
		ring_buffer__free(b->events);
	for (int i = 0; i < BPF_HOOKS; i++)
		if (b->link[i])
			bpf_link__destroy(b->link[i]);
	if (b->skel)
		portshim_bpf__destroy(b->skel);
	memset(b, 0, sizeof(*b));
}

const char *bpf_missing(struct runtime *rt, bool *kernel_netns, char *buf, size_t size)
{
	struct bpf_backend b;
	char root[PATH_MAX];

	if (cgroup_root(root, buf, size) != 0 || bpf_backend_load(&b, rt, false, buf, size) != 0)
		return buf;
	*kernel_netns = b.kernel_netns;
	bpf_backend_close(&b);
	return NULL;
}
