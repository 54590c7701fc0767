/* A TCP socket whose port the kernel has let go, though getsockname()
 * still shows it: one whose connect was refused (or reset while in
 * progress, or timed out) and that the kernel then disconnected (the
 * connect() that reported the failure, or an AF_UNSPEC disconnect).  The
 * disconnect clears its segment counts; a connection that ended after it
 * was made (reset by its peer, in TIME_WAIT) is closed too but keeps its
 * counts, and its port may still be held.  Both front ends read TCP_INFO
 * their own way and judge it here. */
#ifndef PORTSHIM_TCPCLOSED_H
#define PORTSHIM_TCPCLOSED_H

#include <netinet/tcp.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>

/* Where struct tcp_info (<linux/tcp.h>, which clashes with libc's
 * <netinet/tcp.h>) keeps tcpi_segs_out, since Linux 4.2: its layout only
 * ever grows at the end. */
#define TCP_INFO_SEGS_OUT 136u
/* Bytes of TCP_INFO to ask for. */
#define TCP_INFO_ASK (TCP_INFO_SEGS_OUT + 8u)

/* info: what getsockopt(TCP_INFO) wrote, len bytes of it. */
static inline bool tcp_port_released(const unsigned char *info, socklen_t len)
{
	uint32_t segs_out;

	if (len < TCP_INFO_SEGS_OUT + sizeof(segs_out) || info[0] != TCP_CLOSE)
		return false;
	memcpy(&segs_out, info + TCP_INFO_SEGS_OUT, sizeof(segs_out));
	return segs_out == 0;
}

#endif
