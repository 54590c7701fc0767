/* bind() to port 0: the bind policy's port instead of the kernel's.  A
 * non-zero port, or IP_BIND_ADDRESS_NO_PORT (the port is chosen at
 * connect(), by the connect policy), passes straight through. */
#include <errno.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include "../autobind.h"
#include "../real.h"
#include "export.h"

static bool asks_for_any_port(const struct sockaddr *addr, socklen_t len)
{
	if (!addr)
		return false;
	if (addr->sa_family == AF_INET && len >= sizeof(struct sockaddr_in))
		return ((const struct sockaddr_in *)addr)->sin_port == 0;
	if (addr->sa_family == AF_INET6 && len >= sizeof(struct sockaddr_in6))
		return ((const struct sockaddr_in6 *)addr)->sin6_port == 0;
	return false;
}

static bool defers_port(int fd)
{
	int on = 0;
	socklen_t len = sizeof(on);

	return real_getsockopt(fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &on, &len) == 0 && on;
}

PORTSHIM_EXPORT int bind(int fd, const struct sockaddr *addr, socklen_t len)
{
	int saved = errno;
	struct runtime *rt = &portshim_runtime;
	struct sock s;
	struct pick pick;

	if (!asks_for_any_port(addr, len))
		return real_bind(fd, addr, len);
	runtime_ensure();
	if (rt->bind.npasses == 0 || !sock_inspect(fd, &s) || !sock_addr_fits(&s, addr, len) ||
	    defers_port(fd)) {
		errno = saved;
		return real_bind(fd, addr, len);
	}

	switch (autobind_exclusive(rt, &rt->bind, &s, addr, len, &pick)) {
	case PICK_BOUND:
		errno = saved;
		return 0;
	case PICK_GAVE_UP:
		/* The address itself was refused (not local, already bound...):
		 * the kernel gives the same answer for port 0. */
		errno = pick.error;
		return -1;
	case PICK_EXHAUSTED:
		if (rt->cfg.on_exhaust == ON_EXHAUST_FAIL) {
			errno = autobind_exhausted_errno(&s, true);
			return -1;
		}
		break;
	}
	errno = saved;
	return real_bind(fd, addr, len);
}
