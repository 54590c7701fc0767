/* connect(): a TCP or UDP socket with no local port gets one of the connect
 * policy's ports before the real call. */
#include <errno.h>
#include <sys/socket.h>

#include "../autobind.h"
#include "../real.h"
#include "export.h"

PORTSHIM_EXPORT int connect(int fd, const struct sockaddr *addr, socklen_t len)
{
	int saved = errno;
	struct runtime *rt = &portshim_runtime;
	struct sock s;
	struct pick pick;

	/* AF_UNSPEC (disconnect), AF_UNIX and friends never reach the kernel
	 * through us with anything changed. */
	if (!addr || len < sizeof(sa_family_t) ||
	    (addr->sa_family != AF_INET && addr->sa_family != AF_INET6))
		return real_connect(fd, addr, len);
	runtime_ensure();
	if (rt->connect.npasses == 0 || !sock_inspect(fd, &s) || !sock_addr_fits(&s, addr, len)) {
		errno = saved;
		return real_connect(fd, addr, len);
	}

	switch (autobind_exclusive(rt, &rt->connect, &s, (struct sockaddr *)&s.local,
				   s.local_len, &pick)) {
	case PICK_BOUND:
	case PICK_GAVE_UP:
		break;
	case PICK_EXHAUSTED:
		if (rt->cfg.on_exhaust == ON_EXHAUST_FAIL) {
			errno = autobind_exhausted_errno(&s, false);
			return -1;
		}
		break;
	}
	errno = saved;
	return real_connect(fd, addr, len);
}
