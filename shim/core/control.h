/* PORTSHIM_CONTROL: switching a running program's connect and bind
 * policies (portshim(7), CONTROL FILE). */
#ifndef PORTSHIM_CONTROL_H
#define PORTSHIM_CONTROL_H

#include <sys/socket.h>

#include "runtime.h"

/* At most once a second (a clock read otherwise, no system call): when the
 * control file changed, re-read it and publish the plans of its connect,
 * bind and parity (above the environment's); a bad file keeps the plans in
 * force and says so once.  Keeps errno. */
void control_poll(struct runtime *rt);

/* The plan in force for a connect() to dst: the first matching rule's,
 * else the control file's switch (polled), else the environment's. */
struct plan *control_connect_plan(struct runtime *rt, const struct sockaddr *dst, socklen_t len);
/* The default connect() plan in force (the one no rule overrides): the
 * control file's switch (polled), else the environment's. */
struct plan *control_default_connect_plan(struct runtime *rt);
/* bind(0)'s: the control file's switch, else the environment's. */
struct plan *control_bind_plan(struct runtime *rt);

#endif
