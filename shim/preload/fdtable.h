/* What the shim did to each file descriptor: the port it applied, so that
 * closing the descriptor gives the port back, and flags the getsockopt()
 * and setsockopt() hooks need.  Lock-free; descriptors at or above
 * FDTABLE_SIZE are not tracked (their ports stay marked in the bitmap as a
 * hint until the kernel refuses them or the allocator forgives). */
#ifndef PORTSHIM_FDTABLE_H
#define PORTSHIM_FDTABLE_H

#include <stdatomic.h>
#include <stdint.h>

#define FDTABLE_SIZE 65536

/* An entry: the port in the low 16 bits, flags above; 0 means nothing. */
#define FDTABLE_PORT(entry) ((uint16_t)((entry) & 0xffffu))
/* Strategy `reuse`: the kernel's SO_REUSEADDR stays 1 (the port is shared,
 * and its TIME_WAIT must be re-bindable); the application reads its own. */
#define FDTABLE_REUSE       (1u << 16)
#define FDTABLE_APP_REUSE   (1u << 17) /* the application's SO_REUSEADDR */
/* Strategy `range`: the kernel's IP_LOCAL_PORT_RANGE stays [port, port]
 * where the application's is 0 (unset), which it reads; put back before
 * the kernel could choose a port for the socket again. */
#define FDTABLE_RANGE       (1u << 18)
/* Made by socket() and untouched since: an unbound TCP or UDP socket of
 * the family below, so connect() needs no system call to inspect it. */
#define FDTABLE_FRESH       (1u << 19)
#define FDTABLE_FRESH_UDP   (1u << 20) /* else TCP */
#define FDTABLE_FRESH_INET6 (1u << 21) /* else AF_INET */
#define FDTABLE_FRESH_BITS  (FDTABLE_FRESH | FDTABLE_FRESH_UDP | FDTABLE_FRESH_INET6)
/* The application set these options itself (setsockopt() hook). */
#define FDTABLE_APP_SET_REUSEADDR (1u << 22)
#define FDTABLE_APP_SET_RANGE     (1u << 23)
#define FDTABLE_APP_SET_REUSEPORT (1u << 24)
/* A connect() returned EINPROGRESS; its end is not logged yet (pending.c). */
#define FDTABLE_PENDING           (1u << 25)
/* Made by socket() in the namespace the process lives in (netns.h). */
#define FDTABLE_HOME              (1u << 26)

struct fdtable {
	_Atomic uint32_t entry[FDTABLE_SIZE];
	_Atomic int high; /* above every fd ever recorded */
};

static inline void fdtable_record(struct fdtable *t, int fd, uint32_t entry)
{
	if (fd < 0 || fd >= FDTABLE_SIZE)
		return;
	atomic_store_explicit(&t->entry[fd], entry, memory_order_release);
	int high = atomic_load_explicit(&t->high, memory_order_relaxed);
	while (high <= fd &&
	       !atomic_compare_exchange_weak_explicit(&t->high, &high, fd + 1,
						      memory_order_relaxed, memory_order_relaxed))
		;
}

static inline uint32_t fdtable_get(struct fdtable *t, int fd)
{
	if (fd < 0 || fd >= FDTABLE_SIZE)
		return 0;
	return atomic_load_explicit(&t->entry[fd], memory_order_acquire);
}

/* Replace an entry only if it is still `expected` (fd not closed since). */
static inline void fdtable_update(struct fdtable *t, int fd, uint32_t expected, uint32_t entry)
{
	if (fd >= 0 && fd < FDTABLE_SIZE)
		atomic_compare_exchange_strong_explicit(&t->entry[fd], &expected, entry,
							memory_order_acq_rel, memory_order_relaxed);
}

/* The entry for fd, now forgotten; 0 if none. */
static inline uint32_t fdtable_take(struct fdtable *t, int fd)
{
	if (fd < 0 || fd >= FDTABLE_SIZE)
		return 0;
	if (!atomic_load_explicit(&t->entry[fd], memory_order_relaxed))
		return 0; /* the common close(): no write, no cache-line bounce */
	return atomic_exchange_explicit(&t->entry[fd], 0, memory_order_acq_rel);
}

/* Sets the bits `set` and clears the bits `clear` of fd's entry; returns
 * the entry as it was. */
static inline uint32_t fdtable_change(struct fdtable *t, int fd, uint32_t set, uint32_t clear)
{
	if (fd < 0 || fd >= FDTABLE_SIZE)
		return 0;
	uint32_t entry = atomic_load_explicit(&t->entry[fd], memory_order_acquire);
	while (((entry | set) & ~clear) != entry &&
	       !atomic_compare_exchange_weak_explicit(&t->entry[fd], &entry,
						      (entry | set) & ~clear,
						      memory_order_acq_rel, memory_order_acquire))
		;
	return entry;
}

static inline void fdtable_or(struct fdtable *t, int fd, uint32_t bits)
{
	fdtable_change(t, fd, bits, 0);
}

/* fd's entry, its FDTABLE_FRESH* bits now cleared: whatever the caller
 * does next may bind the socket. */
static inline uint32_t fdtable_take_fresh(struct fdtable *t, int fd)
{
	return fdtable_change(t, fd, 0, FDTABLE_FRESH_BITS);
}

static inline int fdtable_high(struct fdtable *t)
{
	return atomic_load_explicit(&t->high, memory_order_relaxed);
}

/* The library's table (sockstate.c). */
extern struct fdtable portshim_fds;

#endif
