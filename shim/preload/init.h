/* The library's set-up (init.c). */
#ifndef PORTSHIM_INIT_H
#define PORTSHIM_INIT_H

#include <stdbool.h>

/* Sets the runtime up on first use; exits the process on bad settings.
 * False when this thread is itself setting the runtime up (a hook re-entered
 * from a signal handler): the caller then passes the call straight through. */
bool init_ready(void);

#endif
