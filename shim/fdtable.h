/* Which port this process applied to which file descriptor, so that
 * closing the descriptor gives the port back.  Lock-free; descriptors at or
 * above FDTABLE_SIZE are not tracked (their ports simply stay marked as a
 * hint until the kernel refuses them or the allocator forgives). */
#ifndef PORTSHIM_FDTABLE_H
#define PORTSHIM_FDTABLE_H

#include <stdatomic.h>
#include <stdint.h>

#define FDTABLE_SIZE 65536

struct fdtable {
	_Atomic uint16_t port[FDTABLE_SIZE]; /* 0: none */
	_Atomic int high;                    /* above every fd ever recorded */
};

static inline void fdtable_record(struct fdtable *t, int fd, uint16_t port)
{
	if (fd < 0 || fd >= FDTABLE_SIZE)
		return;
	atomic_store_explicit(&t->port[fd], port, memory_order_release);
	int high = atomic_load_explicit(&t->high, memory_order_relaxed);
	while (high <= fd &&
	       !atomic_compare_exchange_weak_explicit(&t->high, &high, fd + 1,
						      memory_order_relaxed, memory_order_relaxed))
		;
}

/* The port recorded for fd, now forgotten; 0 if none. */
static inline uint16_t fdtable_take(struct fdtable *t, int fd)
{
	if (fd < 0 || fd >= FDTABLE_SIZE)
		return 0;
	if (!atomic_load_explicit(&t->port[fd], memory_order_relaxed))
		return 0; /* the common close(): no write, no cache-line bounce */
	return atomic_exchange_explicit(&t->port[fd], 0, memory_order_acq_rel);
}

static inline int fdtable_high(struct fdtable *t)
{
	return atomic_load_explicit(&t->high, memory_order_relaxed);
}

#endif
