/* connect(): a TCP or UDP socket with no local port gets one of the connect
 * policy's ports, applied by the configured strategy. */
#include <errno.h>
#include <sys/socket.h>

#include "../autoconnect.h"
#include "../decide.h"
#include "../real.h"
#include "../pending.h"
#include "../guard.h"
#include "../userptr.h"
#include "export.h"

/* An AF_UNSPEC address: the call that worked was a disconnect. */
static bool disconnects(const struct sockaddr *addr, socklen_t len)
{
	sa_family_t family = AF_INET;
	int saved = errno;
	bool unspec = addr && len >= sizeof(family) &&
		      userptr_copy(&family, &addr->sa_family, sizeof(family)) && family == AF_UNSPEC;

	errno = saved;
	return unspec;
}

PORTSHIM_EXPORT int connect(int fd, const struct sockaddr *addr, socklen_t len)
{
	struct runtime *rt = &portshim_runtime;
	struct sockaddr_storage copy;
	struct decision d;
	struct guarded_call t;
	int result;

	/* AF_UNSPEC (disconnect), AF_UNIX and friends go straight through, and
	 * so does an address the kernel refuses before anything else happens
	 * (longer than any it takes; unreadable: EFAULT): nothing must be
	 * bound first.  From here on the shim reads only its own copy, and
	 * hands the kernel the same bytes it decided on. */
	if (!guard_call(rt, fd, addr, len, true, false, &copy, &t)) {
		if (!t.dst) {
			result = real_connect(fd, addr, len);
			if (result == 0 && disconnects(addr, len))
				pending_disconnected(fd);
			return result;
		}
		result = real_connect(fd, t.dst, len);
		/* Called again on a socket in progress: it may say how it ended. */
		pending_connect_again(rt, fd, result, errno);
		return result;
	}
	decide_begin(&d, CALL_CONNECT, &t.s, t.dst, len, t.plan);
	if (t.plan->npasses == 0) {
		result = real_connect(fd, t.dst, len);
		decide_kernel(&d, RESULT_PASSTHROUGH, result);
	} else {
		result = autoconnect(rt, t.plan, &t.s, t.dst, len, &d);
	}
	eventlog_record(&rt->log, &d);
	if (result != 0 && d.error == EINPROGRESS)
		pending_begin(rt, &d);
	return result;
}
