/* The program's events: one ring-buffer record per decision, drained by
 * the command (events.c).  Part of portshim.bpf.c. */
#ifndef PORTSHIM_PROG_EVENT_H
#define PORTSHIM_PROG_EVENT_H

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 4 * 1024 * 1024); /* 100 ms of ~500,000 decisions a second */
} events SEC(".maps");

static __always_inline void emit(struct walk *w, __u8 result, __u32 planno, int error)
{
	struct bpf_event *e;

	if (!w->s->events)
		return;
	e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
	if (!e) {
		count(planno, BPF_COUNT_DROPPED, 1);
		return;
	}
	e->when = bpf_ktime_get_ns();
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

#endif
