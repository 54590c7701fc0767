/* rawconnect: connect() made with syscall(SYS_connect), past the C
 * library's connect() (and so past any preloaded one): what only the
 * seccomp backend reaches in a dynamically linked program.
 *
 *   rawconnect [-n N] HOST PORT
 *
 * N times (default 1): a fresh TCP socket, the raw connect() to HOST:PORT
 * (IPv4), one line with the local port it got (getsockname) or the errno's
 * name, then close.  Exit status 0 when every connect worked. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "errnames.h"

int main(int argc, char **argv)
{
	struct sockaddr_in dst = { .sin_family = AF_INET };
	int n = 1, opt, failed = 0;

	while ((opt = getopt(argc, argv, "n:")) != -1) {
		if (opt != 'n')
			return 2;
		n = atoi(optarg);
	}
	if (argc - optind != 2 || inet_pton(AF_INET, argv[optind], &dst.sin_addr) != 1)
		return 2;
	dst.sin_port = htons((uint16_t)atoi(argv[optind + 1]));
	for (int i = 0; i < n; i++) {
		int fd = socket(AF_INET, SOCK_STREAM, 0);
		if (fd < 0 || syscall(SYS_connect, fd, &dst, sizeof(dst)) != 0) {
			const char *name = errno_name(errno);
			printf("%s\n", name ? name : "unknown");
			failed = 1;
		} else {
			struct sockaddr_in local;
			socklen_t len = sizeof(local);
			getsockname(fd, (struct sockaddr *)&local, &len);
			printf("%u\n", ntohs(local.sin_port));
		}
		if (fd >= 0)
			close(fd);
	}
	return failed;
}
