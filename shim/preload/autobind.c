/* See autobind.h. */
#include "autobind.h"

#include <errno.h>
#include <netinet/in.h>
#include <string.h>

#include "core/candidates.h"
#include "real.h"

enum pick_result autobind_exclusive(struct runtime *rt, struct plan *plan, const struct sock *s,
				    const struct sockaddr *addr, socklen_t len,
				    const struct flow *flow, struct pick *pick)
{
	struct sockaddr_storage local;
	struct candidates c;
	uint32_t range;
	int port;

	memset(pick, 0, sizeof(*pick));
	memcpy(&local, addr, len < sizeof(local) ? len : sizeof(local));
	sock_port_range(s, &range);
	candidates_begin(&c, rt, plan, port_range_window(range), flow);

	while ((port = candidates_next(&c)) >= 0) {
		pick->attempts = c.attempts;
		sockaddr_set_port(&local, (unsigned)port);
		bool paused = sock_reuseport_pause(s);
		int bound = real_bind(s->fd, (struct sockaddr *)&local, len);
		sock_reuseport_resume(s, paused);
		if (bound == 0) {
			candidates_taken(&c, (unsigned)port);
			fdtable_record(&portshim_fds, s->fd, (uint32_t)port);
			pick->port = (unsigned)port;
			return PICK_BOUND;
		}
		if (errno != EADDRINUSE && errno != EACCES) {
			pick->error = errno;
			candidates_unused(&c, (unsigned)port);
			return PICK_GAVE_UP;
		}
		candidates_refused(&c, (unsigned)port);
	}
	return PICK_EXHAUSTED;
}

int autobind_exhausted_errno(const struct sock *s, bool explicit_bind)
{
	if (explicit_bind)
		return EADDRINUSE;  /* inet_csk_get_port() */
	return s->type == SOCK_DGRAM ? EAGAIN       /* udp_lib_get_port() */
				     : EADDRNOTAVAIL; /* __inet_hash_connect() */
}

void autobind_forget(struct runtime *rt, int fd)
{
	uint16_t port = FDTABLE_PORT(fdtable_take(&portshim_fds, fd));

	if (port)
		portmap_release(&rt->map, port);
}
