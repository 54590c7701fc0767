/* connect(): a TCP or UDP socket with no local port gets one of the connect
 * policy's ports, applied by the configured strategy. */
#include <errno.h>
#include <sys/socket.h>

#include "../autoconnect.h"
#include "../real.h"
#include "../userptr.h"
#include "../init.h"
#include "../pending.h"
#include "export.h"

PORTSHIM_EXPORT int connect(int fd, const struct sockaddr *addr, socklen_t len)
{
	int saved = errno, result;
	struct runtime *rt = &portshim_runtime;
	struct sockaddr_storage copy;
	const struct sockaddr *dst;
	struct decision d;
	struct plan *plan;
	struct sock s;

	/* AF_UNSPEC (disconnect), AF_UNIX and friends go straight through, and
	 * so does an address the kernel refuses before anything else happens
	 * (longer than any it takes; unreadable: EFAULT): nothing must be
	 * bound first.  From here on the shim reads only its own copy, and
	 * hands the kernel the same bytes it decided on. */
	if (!runtime_ensure() || runtime_connect_idle(rt) ||
	    !(dst = userptr_inet_addr(&copy, addr, len)))
		return real_connect(fd, addr, len);
	plan = runtime_connect_plan(rt, dst, len);
	if ((plan->npasses == 0 && !runtime_observing(rt)) || !sock_inspect(fd, &s) ||
	    !sock_addr_fits(&s, dst, len)) {
		errno = saved;
		result = real_connect(fd, dst, len);
		/* Called again on a socket in progress: it may say how it ended. */
		pending_connect_again(rt, fd, result, errno);
		return result;
	}
	errno = saved;
	decision_begin(&d, CALL_CONNECT, &s, dst, len, plan);
	if (plan->npasses == 0) {
		result = real_connect(fd, dst, len);
		decision_kernel(&d, RESULT_PASSTHROUGH, result);
	} else {
		result = autoconnect(rt, plan, &s, dst, len, &d);
	}
	eventlog_record(rt, &d);
	if (result != 0 && d.error == EINPROGRESS)
		pending_begin(rt, &d);
	return result;
}
