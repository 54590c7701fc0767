/* The kernel emulations' scans (emulate.h has their state): every port of
 * the range once per pass, from the kernel's own offset, in the order the
 * kernel of each era takes, without the bitmap's hints, since the kernel
 * has none.  candidates.c hands a scan here for every order but
 * SCAN_CLASSES. */
#ifndef PORTSHIM_EMULATE_SCAN_H
#define PORTSHIM_EMULATE_SCAN_H

#include "emulate.h"
#include "scan.h"

/* The scan's offset (and passes) for the call that flow describes (may be
 * NULL). */
void emulate_scan_begin(struct candidates *c, const struct flow *flow);
/* The start of pass c->pass. */
void emulate_scan_pass(struct candidates *c);
/* The next port, or -1. */
int emulate_scan_next(struct candidates *c);
/* The port handed out is the socket's: what the kernel then remembers
 * (the perturbation table, the hint). */
void emulate_scan_taken(struct candidates *c, unsigned port);

#endif
