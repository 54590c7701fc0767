/* See userptr.h.
 *
 * How memory is checked.  Most addresses need no check: the bytes between
 * the hook's own frame and the top of the stack it runs on are mapped (the
 * caller's frames, where most programs keep the address they connect to),
 * and so are the program's own loaded segments (its static data).  Those
 * are read at once.  The stack's top is the end of the main thread's
 * stack, found once at set-up (note_main_stack()), or for another thread its thread pointer,
 * which glibc and musl place at the top of the mapping that holds the
 * thread's stack, at most 8 MiB above the frame.  A frame on another stack
 * (a signal stack, a coroutine's) is trusted that way only on the main
 * thread's stack or within those 8 MiB below a thread pointer: there, an
 * address in a hole between the two would crash where the kernel says
 * EFAULT (README.md, "Known limits").  From any thread, the top of the
 * main thread's stack is mapped too: at exec the kernel makes the stack
 * reach 128 KiB below the arguments it copies there (less where
 * RLIMIT_STACK is smaller), and a stack never shrinks; so an address in
 * main()'s frame that worker threads connect to costs no check.
 *
 * Elsewhere (the heap), one system call: a futex(FUTEX_CMP_REQUEUE_PRIVATE)
 * with no waiter to wake and none to requeue reads the 32-bit word at an
 * address and has no other effect: EFAULT if the word cannot be read, else
 * EAGAIN or 0.  Readability is per page, and an address, msghdr or option
 * value spans at most two pages, so one word in the first page and one in
 * the last check it all; then memcpy() reads it.  About 0.3 us here, where
 * process_vm_readv() on ourselves, which copies and checks at once, takes
 * about 1.1 us (it pins the pages) and is refused by seccomp profiles that
 * allow every futex.
 *
 * What is left: a thread that unmaps the memory between the check and the
 * copy, while another passes it to connect(), still crashes - that program
 * races against itself; so does one that unmaps or protects part of its
 * own stack above the running frame or of its own loaded segments. */
#include "userptr.h"

#include <elf.h>
#include <errno.h>
#include <link.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "core/inetaddr.h"

/* <linux/futex.h>'s value; musl-gcc does not see the kernel's headers. */
#ifndef FUTEX_CMP_REQUEUE_PRIVATE
#define FUTEX_CMP_REQUEUE_PRIVATE (4 | 128)
#endif

/* [lo, hi): memory that stays mapped while the program runs. */
struct span {
	uintptr_t lo, hi;
};

#define MAX_SEGMENTS 8
/* A thread's frame this far below its thread pointer at most is taken to
 * be on its own stack (glibc's default stack is 8 MiB). */
#define THREAD_STACK_MAX ((uintptr_t)8 << 20)

/* The least the kernel maps of the main thread's stack at exec, below the
 * argument area (fs/exec.c's stack_expand, in every kernel since 2.6). */
#define EXEC_STACK_EXPAND ((uintptr_t)128 << 10)
/* Above AT_EXECFN on the stack: the rest of the file name and one pointer,
 * with the page they end on. */
#define EXECFN_TO_END ((uintptr_t)8 << 10)

/* Written once at set-up, then read by every hook: the counts are
 * published last.  main_exec: the part of main_stack mapped since exec. */
static struct span main_stack, main_exec;
static struct span segments[MAX_SEGMENTS];
static _Atomic int main_stack_known, nsegments;

static int note_segments(struct dl_phdr_info *info, size_t size, void *arg)
{
	int n = 0;

	(void)size;
	(void)arg;
	for (int i = 0; i < info->dlpi_phnum && n < MAX_SEGMENTS; i++) {
		const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
		if (ph->p_type == PT_LOAD && (ph->p_flags & PF_R) && ph->p_memsz > 0)
			segments[n++] = (struct span){ info->dlpi_addr + ph->p_vaddr,
						       info->dlpi_addr + ph->p_vaddr + ph->p_memsz };
	}
	atomic_store_explicit(&nsegments, n, memory_order_release);
	return 1; /* the first object is the program itself */
}

/* The main thread's stack, without asking the C library (glibc's
 * pthread_getattr_np() reads /proc/self/maps through stdio and malloc(), a
 * heap page for every process).  Its top: the program's file name, the
 * highest string the kernel writes on it at exec (AT_EXECFN); every byte
 * from a frame up to there is mapped.  Its bottom, for telling a frame on
 * it from one elsewhere: no deeper than its size limit, and never more than
 * 128 MiB, the least gap the kernel keeps between the stack and the
 * mappings below it (deeper frames take the probe, as on any stack). */
static void note_main_stack(void)
{
	const uintptr_t gap = (uintptr_t)128 << 20;
	uintptr_t top = (uintptr_t)getauxval(AT_EXECFN);
	struct rlimit limit;
	uintptr_t depth = gap;

	if (top == 0)
		return;
	if (getrlimit(RLIMIT_STACK, &limit) == 0 && limit.rlim_cur < gap)
		depth = (uintptr_t)limit.rlim_cur;
	main_stack = (struct span){ top > depth ? top - depth : 0, top };
	/* The mapping starts at most `mapped` below its end, which is at most
	 * EXECFN_TO_END above top. */
	uintptr_t mapped = depth < EXEC_STACK_EXPAND ? depth : EXEC_STACK_EXPAND;
	if (top > mapped && mapped > EXECFN_TO_END)
		main_exec = (struct span){ top - mapped + EXECFN_TO_END, top };
	atomic_store_explicit(&main_stack_known, 1, memory_order_release);
}

void userptr_init(void)
{
	dl_iterate_phdr(note_segments, NULL);
	note_main_stack();
}

/* Are the bytes [first, last] known to be mapped without asking the
 * kernel?  noinline: the frame compared with is this function's own, below
 * every frame of the hook's caller. */
static __attribute__((noinline)) bool known_mapped(uintptr_t first, uintptr_t last)
{
	uintptr_t frame = (uintptr_t)__builtin_frame_address(0);

	bool main_known = atomic_load_explicit(&main_stack_known, memory_order_acquire);

	if (first >= frame) {
		uintptr_t self = (uintptr_t)pthread_self();
		if (main_known && frame >= main_stack.lo && frame < main_stack.hi)
			return last < main_stack.hi;
		if (self > frame && self - frame <= THREAD_STACK_MAX && last < self)
			return true;
	}
	if (main_known && first >= main_exec.lo && last < main_exec.hi)
		return true;
	int n = atomic_load_explicit(&nsegments, memory_order_acquire);
	for (int i = 0; i < n; i++)
		if (first >= segments[i].lo && last < segments[i].hi)
			return true;
	return false;
}

/* 0 if the word holding *p can be read, else an errno. */
static int probe(const void *p)
{
	uint32_t *word = (uint32_t *)((uintptr_t)p & ~(uintptr_t)3);
	/* nr_wake 0, nr_requeue 0 (passed as the timeout argument), cmpval 0. */
	long r = syscall(SYS_futex, word, FUTEX_CMP_REQUEUE_PRIVATE, 0, (void *)0, word, 0);

	return r >= 0 || errno == EAGAIN ? 0 : errno;
}

bool userptr_copy(void *dst, const void *src, size_t len)
{
	int saved = errno;
	/* Integer arithmetic: src may point anywhere. */
	uintptr_t first = (uintptr_t)src, last = first + len - 1;
	/* At most 4 KiB, the smallest page there is: two pages at most, and
	 * within one 4 KiB block, one probe. */
	bool ok = len <= 4096 && last >= first &&
		  (known_mapped(first, last) ||
		   (probe(src) == 0 && ((first ^ last) < 4096 || probe((const void *)last) == 0)));

	if (ok)
		memcpy(dst, src, len);
	errno = saved;
	return ok;
}

const struct sockaddr *userptr_inet_addr(struct sockaddr_storage *copy,
					 const struct sockaddr *addr, socklen_t len)
{
	/* NULL, a length the kernel refuses before reading (more than any
	 * address; too short for a family), or memory it would fault on. */
	if (!addr || len < sizeof(sa_family_t) || len > sizeof(*copy))
		return NULL;
	memset(copy, 0, sizeof(*copy));
	if (!userptr_copy(copy, addr, len) || !inetaddr_complete((struct sockaddr *)copy, len))
		return NULL;
	return (const struct sockaddr *)copy;
}
