/* The oldest versions of the libc symbols whose default version is newer
 * than glibc 2.17 (README.md, "Building"): glibc 2.34 moved dlsym(), dladdr()
 * and pthread_once() into libc.so.6 under new versions, and a library
 * linked against them would not load on an older glibc.  The old versions
 * are still exported by glibc 2.34 and later (from libc.so.6), and by
 * libdl.so.2 and libpthread.so.0 before it; the Makefile names both of
 * those as needed libraries. */
#ifndef PORTSHIM_SYMVER_H
#define PORTSHIM_SYMVER_H

#if defined(__GLIBC__) && defined(__x86_64__)
#define PORTSHIM_GLIBC_BASE "GLIBC_2.2.5"
#elif defined(__GLIBC__) && defined(__aarch64__)
#define PORTSHIM_GLIBC_BASE "GLIBC_2.17"
#endif

#ifdef PORTSHIM_GLIBC_BASE
__asm__(".symver dlsym, dlsym@" PORTSHIM_GLIBC_BASE);
__asm__(".symver dladdr, dladdr@" PORTSHIM_GLIBC_BASE);
__asm__(".symver pthread_once, pthread_once@" PORTSHIM_GLIBC_BASE);
#endif

#endif
