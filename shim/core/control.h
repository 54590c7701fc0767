/* PORTSHIM_CONTROL: switching a running program's connect and bind
 * policies (README "Switching a running program"). */
#ifndef PORTSHIM_CONTROL_H
#define PORTSHIM_CONTROL_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

/* Plans a switch may publish: append-only, never freed or rewritten (a
 * thread may still be choosing ports from one it loaded before a switch). */
#define CONTROL_PLANS 16

struct control_state {
	_Atomic int64_t checked;   /* CLOCK_MONOTONIC_COARSE second of the last check */
	atomic_flag busy;          /* a thread is checking: the others do not wait */
	/* The file as last seen (a change of any of these is a change). */
	dev_t dev;
	ino_t ino;
	off_t size;
	int64_t mtime_sec, mtime_nsec, ctime_sec, ctime_nsec;
	bool seen, missing;
};

struct runtime;

/* At most once a second (a clock read otherwise, no system call): when the
 * control file changed, re-read it and publish the plans of its connect,
 * bind and parity (above the environment's); a bad file keeps the plans in
 * force and says so once.  Keeps errno. */
void control_poll(struct runtime *rt);

#endif
