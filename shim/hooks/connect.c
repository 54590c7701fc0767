/* connect(): a TCP or UDP socket with no local port gets one of the connect
 * policy's ports, applied by the configured strategy. */
#include <errno.h>
#include <sys/socket.h>

#include "../autoconnect.h"
#include "../real.h"
#include "export.h"

PORTSHIM_EXPORT int connect(int fd, const struct sockaddr *addr, socklen_t len)
{
	int saved = errno, result;
	struct runtime *rt = &portshim_runtime;
	struct decision d;
	struct plan *plan;
	struct sock s;

	/* AF_UNSPEC (disconnect), AF_UNIX and friends go straight through. */
	/* An address longer than any the kernel takes is refused by it before
	 * anything else happens: nothing must be bound first. */
	if (!addr || len < sizeof(sa_family_t) || len > sizeof(struct sockaddr_storage) ||
	    (addr->sa_family != AF_INET && addr->sa_family != AF_INET6))
		return real_connect(fd, addr, len);
	if (!runtime_ensure())
		return real_connect(fd, addr, len);
	plan = runtime_connect_plan(rt, addr, len);
	if ((plan->npasses == 0 && !runtime_observing(rt)) || !sock_inspect(fd, &s) ||
	    !sock_addr_fits(&s, addr, len)) {
		errno = saved;
		return real_connect(fd, addr, len);
	}
	errno = saved;
	decision_begin(&d, CALL_CONNECT, &s, addr, len, plan);
	if (plan->npasses == 0) {
		result = real_connect(fd, addr, len);
		decision_kernel(&d, RESULT_PASSTHROUGH, result);
	} else {
		result = autoconnect(rt, plan, &s, addr, len, &d);
	}
	eventlog_record(rt, &d);
	return result;
}
