/* Connects in progress: how a connect() that returned EINPROGRESS ended,
 * for the event log (a "connect-result" line after the decision's), learnt
 * where the application learns it: getsockopt(SO_ERROR), or connect()
 * called again on the socket.  Nothing here runs on a connect() that does
 * not return EINPROGRESS, or without a log. */
#ifndef PORTSHIM_PENDING_H
#define PORTSHIM_PENDING_H

#include <sys/socket.h>

#include "core/runtime.h"

/* d's connect returned EINPROGRESS: remember its socket until it ends. */
void pending_begin(struct runtime *rt, const struct decision *d);

/* getsockopt(fd, SOL_SOCKET, SO_ERROR) read `error`. */
void pending_so_error(struct runtime *rt, int fd, int error);

/* connect() called again on fd returned `result` with `error`. */
void pending_connect_again(struct runtime *rt, int fd, int result, int error);

/* fd was disconnected (connect() to AF_UNSPEC): the program learns no
 * end, and the log gets none. */
void pending_disconnected(int fd);

#endif
