/* See pending.h.  A socket in progress carries FDTABLE_PENDING in the
 * descriptor table; whoever clears the bit logs the end, once.  Its
 * destination, type and port wait in a slot of a small table (indexed by
 * the descriptor), guarded by a sequence number: a writer claims a slot by
 * making its number odd, and a reader keeps what it copied only if the
 * number did not move.  A slot lost to another descriptor leaves the line
 * without a destination, never with a wrong one.  No lock, no allocation;
 * the only system call is getpeername() when SO_ERROR reads 0, to tell a
 * connected socket from one still in progress. */
#include "pending.h"

#include <errno.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "fdtable.h"

#define PENDING_SLOTS 1024u
#define PENDING_WORDS 4 /* a struct sockaddr_in6, rounded up */

struct pending_slot {
	_Atomic uint32_t seq;
	_Atomic int fd;
	_Atomic uint32_t type_family_port; /* type << 24 | family << 16 | port */
	_Atomic uint32_t len;
	_Atomic uint64_t dst[PENDING_WORDS];
};

static struct pending_slot slots[PENDING_SLOTS];

/* One 32-bit word for the socket's type, family and port. */
#define PACK(type, family, port) ((uint32_t)(type) << 24 | (uint32_t)(family) << 16 | (port))

void pending_begin(struct runtime *rt, const struct decision *d)
{
	struct pending_slot *s = &slots[(unsigned)d->fd % PENDING_SLOTS];
	uint64_t words[PENDING_WORDS] = { 0 };
	uint32_t seq = atomic_load_explicit(&s->seq, memory_order_relaxed);

	if (!rt->cfg.log[0] || d->fd < 0 || d->fd >= FDTABLE_SIZE)
		return;
	fdtable_or(&portshim_fds, d->fd, FDTABLE_PENDING);
	if ((seq & 1) || d->addr_len > sizeof(words) ||
	    !atomic_compare_exchange_strong_explicit(&s->seq, &seq, seq + 1,
						     memory_order_acquire, memory_order_relaxed))
		return; /* another writer has the slot: no destination in the line */
	memcpy(words, d->addr, d->addr_len);
	atomic_store_explicit(&s->fd, d->fd, memory_order_relaxed);
	atomic_store_explicit(&s->type_family_port, PACK(d->type, d->family, d->port),
			      memory_order_relaxed);
	atomic_store_explicit(&s->len, d->addr_len, memory_order_relaxed);
	for (int i = 0; i < PENDING_WORDS; i++)
		atomic_store_explicit(&s->dst[i], words[i], memory_order_relaxed);
	atomic_store_explicit(&s->seq, seq + 2, memory_order_release);
}

/* fd's slot, read once: its destination, type, family and port, or
 * nothing (0) where another descriptor's connect took it meanwhile. */
static void take_slot(int fd, uint64_t words[PENDING_WORDS], uint32_t *packed, uint32_t *len)
{
	struct pending_slot *s = &slots[(unsigned)fd % PENDING_SLOTS];

	*packed = *len = 0;
	uint32_t seq = atomic_load_explicit(&s->seq, memory_order_acquire);
	if (!(seq & 1) && atomic_load_explicit(&s->fd, memory_order_relaxed) == fd) {
		*packed = atomic_load_explicit(&s->type_family_port, memory_order_relaxed);
		*len = atomic_load_explicit(&s->len, memory_order_relaxed);
		for (int i = 0; i < PENDING_WORDS; i++)
			words[i] = atomic_load_explicit(&s->dst[i], memory_order_relaxed);
		atomic_thread_fence(memory_order_acquire);
		if (atomic_load_explicit(&s->seq, memory_order_relaxed) != seq)
			*packed = *len = 0;
		/* Read once: a later connect on the same number whose slot was
		 * taken by another must not find this one's destination. */
		else if (atomic_compare_exchange_strong_explicit(&s->seq, &seq, seq + 1,
								 memory_order_acquire,
								 memory_order_relaxed)) {
			atomic_store_explicit(&s->fd, -1, memory_order_relaxed);
			atomic_store_explicit(&s->seq, seq + 2, memory_order_release);
		}
	}
}

/* Logs the end of fd's connect (error 0: connected), if this thread is the
 * one that clears its bit. */
static void finish(struct runtime *rt, int fd, int error)
{
	struct sockaddr_in6 dst;
	uint64_t words[PENDING_WORDS] = { 0 };
	uint32_t packed, len;

	if (!(fdtable_change(&portshim_fds, fd, 0, FDTABLE_PENDING) & FDTABLE_PENDING))
		return;
	take_slot(fd, words, &packed, &len);
	memcpy(&dst, words, sizeof(dst));
	struct decision d = {
		.call = CALL_CONNECT_RESULT,
		.fd = fd,
		.type = packed ? (int)(packed >> 24) : SOCK_STREAM,
		.family = packed ? (int)(packed >> 16 & 0xff) : AF_INET,
		.addr = len ? (const struct sockaddr *)&dst : NULL,
		.addr_len = len,
		.port = packed & 0xffffu,
		.error = error,
	};
	eventlog_record(&rt->log, &d);
}

void pending_so_error(struct runtime *rt, int fd, int error)
{
	struct sockaddr_storage peer;
	socklen_t len = sizeof(peer);
	int saved = errno;

	if (!(fdtable_get(&portshim_fds, fd) & FDTABLE_PENDING))
		return;
	/* SO_ERROR reads 0 while the handshake is still under way, too. */
	if (error == 0 && syscall(SYS_getpeername, fd, &peer, &len) != 0 && errno == ENOTCONN) {
		errno = saved;
		return;
	}
	errno = saved;
	finish(rt, fd, error);
}

void pending_connect_again(struct runtime *rt, int fd, int result, int error)
{
	if (!(fdtable_get(&portshim_fds, fd) & FDTABLE_PENDING))
		return;
	if (result == 0 || error == EISCONN)
		finish(rt, fd, 0);
	else if (error != EALREADY && error != EINPROGRESS && error != EINTR)
		finish(rt, fd, error);
	errno = error;
}

void pending_disconnected(int fd)
{
	uint64_t words[PENDING_WORDS];
	uint32_t packed, len;

	if (fdtable_change(&portshim_fds, fd, 0, FDTABLE_PENDING) & FDTABLE_PENDING)
		take_slot(fd, words, &packed, &len);
}
