/* The program's events, one per decision, read from its ring buffer and
 * written by the core's log writer as the library's own lines (pid, tid
 * and comm of the program that connected). */
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <bpf/libbpf.h>

#include "backend.h"
#include "bpfshared.h"
#include "portshim.skel.h"

#include "core/decision.h"
#include "core/eventlog.h"
#include "core/policy.h"

/* A connect in a namespace the program has not been given: read it now
 * (once per namespace), so that the next ones there get its own range and
 * share ports. */
static void read_new_netns(struct bpf_backend *b, long pid)
{
	static char seen[BPF_NETNS_MAX][64];
	static int nseen;
	char link[64], ns[64], why[512];
	ssize_t n;

	snprintf(link, sizeof(link), "/proc/%ld/ns/net", pid);
	if ((n = readlink(link, ns, sizeof(ns) - 1)) <= 0)
		return; /* gone: its namespace may be too */
	ns[n] = '\0';
	for (int i = 0; i < nseen; i++)
		if (strcmp(seen[i], ns) == 0)
			return;
	if (nseen < BPF_NETNS_MAX)
		snprintf(seen[nseen++], sizeof(seen[0]), "%s", ns);
	if (bpf_backend_add_netns(b, link, why, sizeof(why)) != 0)
		fprintf(stderr, "portshim: the network namespace of pid %ld: needs %s; its sockets get "
			"the range of portshim's own and ports of their own\n", pid, why);
}

/* The CLOCK_REALTIME of a CLOCK_MONOTONIC instant in the recent past. */
static struct timespec realtime_of(uint64_t mono_ns)
{
	struct timespec mono, real;

	clock_gettime(CLOCK_MONOTONIC, &mono);
	clock_gettime(CLOCK_REALTIME, &real);
	uint64_t now = (uint64_t)mono.tv_sec * 1000000000u + (uint64_t)mono.tv_nsec;
	uint64_t ago = now > mono_ns ? now - mono_ns : 0;
	int64_t t = (int64_t)real.tv_sec * 1000000000 + real.tv_nsec - (int64_t)ago;
	return (struct timespec){ .tv_sec = t / 1000000000, .tv_nsec = t % 1000000000 };
}

static int record(void *arg, void *data, size_t size)
{
	struct bpf_backend *b = arg;
	const struct bpf_event *e = data;
	const struct config *cfg = &b->rt->cfg;
	struct sockaddr_storage dst = { 0 };
	struct decision d;
	char policy[24], comm[sizeof(e->comm) + 1];
	socklen_t len;

	if (size < sizeof(*e))
		return 0;
	if (e->new_netns)
		read_new_netns(b, e->pid);
	if (!runtime_observing(b->rt))
		return 0;
	if (e->family == AF_INET6) {
		struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&dst;
		in6->sin6_family = AF_INET6;
		in6->sin6_port = htons(e->dport);
		memcpy(&in6->sin6_addr, e->daddr, 16);
		len = sizeof(*in6);
	} else {
		struct sockaddr_in *in = (struct sockaddr_in *)&dst;
		in->sin_family = AF_INET;
		in->sin_port = htons(e->dport);
		memcpy(&in->sin_addr, e->daddr, 4);
		len = sizeof(*in);
	}
	policy_format(e->plan == 0 || e->plan > cfg->rules.count ? &b->connect
				 : &cfg->rules.rule[e->plan - 1].policy,
		      policy, sizeof(policy));
	decision_begin(&d, CALL_CONNECT, -1, e->protocol == IPPROTO_TCP ? SOCK_STREAM : SOCK_DGRAM,
		       e->family, (const struct sockaddr *)&dst, len, policy);
	d.strategy = e->protocol == IPPROTO_TCP && cfg->strategy != STRATEGY_EXCLUSIVE ? STRATEGY_REUSE
										      : STRATEGY_EXCLUSIVE;
	d.port = e->port;
	d.attempts = e->attempts;
	d.result = (enum decision_result)e->result;
	d.error = e->error;
	memcpy(comm, e->comm, sizeof(e->comm));
	comm[sizeof(e->comm)] = '\0';
	struct timespec when = realtime_of(e->when);
	eventlog_record_at(&b->rt->log, &d, e->pid, e->tid, comm, &when);
	return 0;
}

int bpf_events_open(struct bpf_backend *b)
{
	b->events = ring_buffer__new(bpf_map__fd(b->skel->maps.events), record, b, NULL);
	return b->events ? 0 : -1;
}

void bpf_events_drain(struct bpf_backend *b)
{
	if (b->events)
		ring_buffer__consume(b->events);
}
