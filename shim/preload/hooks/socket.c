/* socket(): notes what an inet TCP or UDP socket is, so that its first
 * connect() needs no system call to find out (see fdtable.h). */
#include <sys/socket.h>

#include "../autobind.h"
#include "../real.h"
#include "export.h"

PORTSHIM_EXPORT int socket(int domain, int type, int protocol)
{
	int fd = real_socket(domain, type, protocol);

	if (fd >= 0)
		sock_note_socket(fd, domain, type, protocol);
	return fd;
}
