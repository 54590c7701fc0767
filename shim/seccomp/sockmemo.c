/* What the supervisor remembers of a socket of the program, by inode (one
 * per socket, whatever its descriptors): for each kind, a value per
 * socket, in a table of 1,024 buckets of 4 ways; a full bucket forgets its
 * oldest entry.  The kinds:
 *
 * SOCKMEMO_REUSEADDR: the program's own SO_REUSEADDR of a socket strategy
 * reuse bound.  The kernel's must stay 1 on such a socket while it lives,
 * and in its TIME_WAIT: other connections share its port, and a port whose
 * socket has it off refuses every later bind(p) (tried: with the program's
 * 0 put back, 20,000 connect/close cycles lost 1,416 connects to
 * EADDRNOTAVAIL at 326 a second).  So, as the library does, the kernel
 * keeps 1 and the program sees its own value: the filter traps
 * getsockopt() and setsockopt() of SOL_SOCKET/SO_REUSEADDR, and for a
 * socket listed here the supervisor answers from, or writes to, this list
 * (notify.c); a forgotten socket shows the kernel's 1.
 *
 * SOCKMEMO_RANGE: a socket the program set IP_LOCAL_PORT_RANGE on
 * (portrange.c). */
#include <pthread.h>
#include <stdint.h>

#include "supervisor.h"

#define BUCKETS 1024u
#define WAYS 4u

static struct table {
	struct entry {
		uint64_t ino; /* 0: empty */
		int value;
	} slot[BUCKETS][WAYS];
	unsigned next_way[BUCKETS];
	pthread_mutex_t lock;
} tables[SOCKMEMO_KINDS] = {
	[0 ... SOCKMEMO_KINDS - 1] = { .lock = PTHREAD_MUTEX_INITIALIZER },
};

static unsigned bucket_of(uint64_t ino)
{
	return (unsigned)((ino * UINT64_C(0x9e3779b97f4a7c15)) >> 54); /* 10 bits */
}

static struct entry *find(struct table *t, uint64_t ino)
{
	struct entry *bucket = t->slot[bucket_of(ino)];

	for (unsigned i = 0; i < WAYS; i++)
		if (bucket[i].ino == ino)
			return &bucket[i];
	return NULL;
}

void sockmemo_keep(enum sockmemo kind, uint64_t ino, int value)
{
	struct table *t = &tables[kind];
	unsigned b = bucket_of(ino);

	pthread_mutex_lock(&t->lock);
	struct entry *e = find(t, ino);
	if (!e) {
		e = &t->slot[b][t->next_way[b]];
		t->next_way[b] = (t->next_way[b] + 1) % WAYS;
	}
	*e = (struct entry){ ino, value };
	pthread_mutex_unlock(&t->lock);
}

bool sockmemo_get(enum sockmemo kind, uint64_t ino, int *value)
{
	struct table *t = &tables[kind];

	pthread_mutex_lock(&t->lock);
	struct entry *e = find(t, ino);
	if (e)
		*value = e->value;
	pthread_mutex_unlock(&t->lock);
	return e != NULL;
}

bool sockmemo_set(enum sockmemo kind, uint64_t ino, int value)
{
	struct table *t = &tables[kind];

	pthread_mutex_lock(&t->lock);
	struct entry *e = find(t, ino);
	if (e)
		e->value = value;
	pthread_mutex_unlock(&t->lock);
	return e != NULL;
}
