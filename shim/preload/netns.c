/* See netns.h. */
#include "netns.h"

#include <errno.h>
#include <sys/socket.h>

#include "core/early.h"
#include "core/runtime.h"
#include "fdtable.h"
#include "real.h"

enum netns_state {
	NETNS_UNSETTLED, /* a new process (or child) that has not looked yet */
	NETNS_SWEEPING,  /* dropping the marks a child inherited */
	NETNS_HOME,      /* every thread is where the process started */
	NETNS_MOVED,     /* a thread has moved: new sockets are asked about */
};

/* Stands for "the kernel has no SO_NETNS_COOKIE" (before Linux 5.14). */
#define NO_COOKIE UINT64_MAX

static struct forkwipe *page(void)
{
	return portshim_runtime.log.wipe;
}

static unsigned char settled(struct forkwipe *w)
{
	unsigned char state = atomic_load_explicit(&w->netns_state, memory_order_acquire);

	if (state != NETNS_UNSETTLED ||
	    !atomic_compare_exchange_strong(&w->netns_state, &state, NETNS_SWEEPING))
		return state;
	int high = fdtable_high(&portshim_fds);
	for (int fd = 0; fd < high; fd++)
		if (fdtable_get(&portshim_fds, fd) & FDTABLE_HOME)
			fdtable_change(&portshim_fds, fd, 0, FDTABLE_HOME);
	/* A move while sweeping stays. */
	state = NETNS_SWEEPING;
	atomic_compare_exchange_strong(&w->netns_state, &state, NETNS_HOME);
	return atomic_load_explicit(&w->netns_state, memory_order_acquire);
}

bool netns_home(void)
{
	struct forkwipe *w = page();

	return w && settled(w) == NETNS_HOME;
}

void netns_moving(void)
{
	struct forkwipe *w = page();

	if (w)
		atomic_store_explicit(&w->netns_state, NETNS_MOVED, memory_order_release);
}

bool netns_home_cookie(int fd, uint64_t *cookie)
{
	struct forkwipe *w = page();

	if (!w)
		return false;
	/* Settled first: a child's inherited marks go before one is read. */
	unsigned char state = settled(w);
	if ((state != NETNS_HOME && state != NETNS_MOVED) ||
	    !(fdtable_get(&portshim_fds, fd) & FDTABLE_HOME))
		return false;
	uint64_t known = atomic_load_explicit(&w->netns_cookie, memory_order_relaxed);
	if (known == 0) {
		socklen_t len = sizeof(known);
		int saved = errno;
		int result = real_getsockopt(fd, SOL_SOCKET, SO_NETNS_COOKIE, &known, &len);
		bool unknown_option = result != 0 && errno == ENOPROTOOPT;
		errno = saved;
		/* Another failure (a stale mark on a descriptor that is no
		 * socket now) says nothing of the process. */
		if (result != 0 && !unknown_option)
			return false;
		if (result != 0 || known == 0)
			known = NO_COOKIE;
		uint64_t none = 0;
		atomic_compare_exchange_strong(&w->netns_cookie, &none, known);
	}
	*cookie = known == NO_COOKIE ? 0 : known;
	return true;
}
