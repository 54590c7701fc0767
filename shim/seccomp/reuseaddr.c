/* The program's own SO_REUSEADDR on the sockets the supervisor bound under
 * strategy reuse.  The kernel's must stay 1 on such a socket while it
 * lives, and in its TIME_WAIT: other connections share its port, and a
 * port whose socket has it off refuses every later bind(p) (tried: with the
 * program's 0 put back, 20,000 connect/close cycles lost 1,416 connects to
 * EADDRNOTAVAIL at 326 a second).  So, as the library does, the kernel
 * keeps 1 and the program sees its own value: the filter traps
 * getsockopt() and setsockopt() of SOL_SOCKET/SO_REUSEADDR, and for a
 * socket listed here the supervisor answers from, or writes to, this list
 * (notify.c).  Keyed by the socket's inode, one per socket for its life;
 * a full bucket forgets its oldest entry, whose socket then shows the
 * kernel's 1. */
#include <pthread.h>
#include <stdint.h>

#include "supervisor.h"

#define BUCKETS 1024u
#define WAYS 4u

static struct entry {
	uint64_t ino; /* 0: empty */
	int value;
} table[BUCKETS][WAYS];
static unsigned next_way[BUCKETS];
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;

static unsigned bucket_of(uint64_t ino)
{
	return (unsigned)((ino * UINT64_C(0x9e3779b97f4a7c15)) >> 54); /* 10 bits */
}

static struct entry *find(uint64_t ino)
{
	struct entry *bucket = table[bucket_of(ino)];

	for (unsigned i = 0; i < WAYS; i++)
		if (bucket[i].ino == ino)
			return &bucket[i];
	return NULL;
}

void reuseaddr_keep(uint64_t ino, int value)
{
	unsigned b = bucket_of(ino);

	pthread_mutex_lock(&lock);
	struct entry *e = find(ino);
	if (!e) {
		e = &table[b][next_way[b]];
		next_way[b] = (next_way[b] + 1) % WAYS;
	}
	*e = (struct entry){ ino, value != 0 };
	pthread_mutex_unlock(&lock);
}

bool reuseaddr_get(uint64_t ino, int *value)
{
	pthread_mutex_lock(&lock);
	struct entry *e = find(ino);
	if (e)
		*value = e->value;
	pthread_mutex_unlock(&lock);
	return e != NULL;
}

bool reuseaddr_set(uint64_t ino, int value)
{
	pthread_mutex_lock(&lock);
	struct entry *e = find(ino);
	if (e)
		e->value = value != 0;
	pthread_mutex_unlock(&lock);
	return e != NULL;
}
