/* One page the kernel zeroes in every child process (MADV_WIPEONFORK,
 * Linux 4.14), however it was made: fork() with or without the library's
 * handlers, a raw clone(), glibc's _Fork().  What a process keeps there is
 * its own and is found zero by its children, so a child nobody told about
 * still tells itself from its parent.  A vfork() or CLONE_VM child shares
 * the parent's memory, this page included. */
#ifndef PORTSHIM_FORKWIPE_H
#define PORTSHIM_FORKWIPE_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/mman.h>
#include <unistd.h>

struct forkwipe {
	_Atomic unsigned char armed; /* rng.h: 1 while the stream is this process's */
	_Atomic int pid;             /* procid.h: this process's id, 0 until read */
	/* The library's: where this process makes its sockets (preload/netns.h). */
	_Atomic unsigned char netns_state;
	_Atomic uint64_t netns_cookie;
};

/* The page, or NULL where the kernel has no MADV_WIPEONFORK. */
static inline struct forkwipe *forkwipe_map(void)
{
	long page = sysconf(_SC_PAGESIZE);
	void *p = mmap(NULL, (size_t)page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED)
		return NULL;
	if (madvise(p, (size_t)page, MADV_WIPEONFORK) != 0) {
		munmap(p, (size_t)page);
		return NULL;
	}
	return p;
}

#endif
