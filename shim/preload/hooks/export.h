/* The one macro that makes a hook visible: everything else in the library
 * is built with -fvisibility=hidden. */
#ifndef PORTSHIM_EXPORT_H
#define PORTSHIM_EXPORT_H

#define PORTSHIM_EXPORT __attribute__((visibility("default")))

/* A hook repeats its libc's prototype exactly.  sendmmsg()'s flags are an
 * int in glibc's <sys/socket.h> and an unsigned int in musl's (which
 * defines no macro to test for: anything but glibc is taken for musl). */
#ifdef __GLIBC__
#define SENDMMSG_FLAGS int
#else
#define SENDMMSG_FLAGS unsigned int
#endif

#endif
