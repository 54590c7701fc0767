/* See pick.h. */
#include "pick.h"

#include <errno.h>
#include <string.h>

enum pick_result pick_port(struct runtime *rt, struct plan *plan, struct portwindow win,
			   const struct flow *flow, try_port try, void *ctx, struct pick *pick)
{
	struct candidates c;
	int port;

	memset(pick, 0, sizeof(*pick));
	candidates_begin(&c, rt, plan, win, flow);
	while ((port = candidates_next(&c)) >= 0) {
		pick->attempts = c.attempts;
		switch (try(ctx, (unsigned)port, &pick->error)) {
		case TRIED_TAKEN:
			candidates_taken(&c, (unsigned)port);
			pick->port = (unsigned)port;
			return PICK_TAKEN;
		case TRIED_REFUSED:
			candidates_refused(&c, (unsigned)port);
			break;
		case TRIED_CLASHED:
			candidates_clashed(&c, (unsigned)port);
			break;
		case TRIED_FAILED:
			candidates_unused(&c, (unsigned)port);
			return PICK_GAVE_UP;
		}
	}
	return PICK_EXHAUSTED;
}

bool pick_exhausted_fails(const struct runtime *rt, const struct sock *s, bool explicit_bind,
			  struct decision *d)
{
	if (rt->cfg.on_exhaust != ON_EXHAUST_FAIL)
		return false;
	d->result = RESULT_EXHAUSTED;
	if (explicit_bind)
		d->error = EADDRINUSE; /* inet_csk_get_port() */
	else
		d->error = s->type == SOCK_DGRAM ? EAGAIN          /* udp_lib_get_port() */
						 : EADDRNOTAVAIL; /* __inet_hash_connect() */
	errno = d->error;
	return true;
}
