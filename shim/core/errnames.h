/* errno values by name ("EADDRNOTAVAIL"), for the event log and the test
 * programs: glibc's strerrorname_np() is not in musl or older glibc. */
#ifndef PORTSHIM_ERRNAMES_H
#define PORTSHIM_ERRNAMES_H

/* The macro's name of errno value e, or NULL for a value with none.  For
 * values with two names, the one glibc's strerrorname_np() gives (EAGAIN,
 * EDEADLK, EOPNOTSUPP). */
const char *errno_name(int e);

#endif
