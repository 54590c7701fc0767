/* earlyconn: connect() from contexts a preload library meets at odd times.
 *
 *   earlyconn PORT ctor      print the port that this program's own
 *                            constructor got, connecting before main()
 *                            (EARLYCONN_PORT names the port there)
 *   earlyconn PORT vfork     N connects in children made by vfork()
 *   earlyconn PORT spawn     N connects in children made by posix_spawn()
 *                            of this program ("child" mode)
 *   earlyconn PORT child     one connect, prints its port (posix_spawn's child)
 *
 * Each connect goes to 127.0.0.1:PORT; each line printed is a local port
 * (getsockname) or an errno name.  Exit status 0 when all connected. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "errnames.h"

extern char **environ;

static int port_arg;
static char early_result[32] = "not run";

/* The port of one connect() to 127.0.0.1:port, or -errno. */
static int one_connect(int port)
{
	struct sockaddr_in to = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port),
				  .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	struct sockaddr_in me;
	socklen_t len = sizeof(me);
	int fd = socket(AF_INET, SOCK_STREAM, 0), result;

	if (fd < 0)
		return -errno;
	if (connect(fd, (struct sockaddr *)&to, sizeof(to)) != 0)
		result = -errno;
	else if (getsockname(fd, (struct sockaddr *)&me, &len) != 0)
		result = -errno;
	else
		result = ntohs(me.sin_port);
	close(fd);
	return result;
}

static void print_result(int r)
{
	if (r > 0)
		printf("%d\n", r);
	else
		printf("%s\n", errno_name(-r) ? errno_name(-r) : "?");
}

/* Runs before main(): the port comes from the environment, as argv is not
 * at hand in every libc's constructors. */
__attribute__((constructor)) static void early(void)
{
	const char *p = getenv("EARLYCONN_PORT");

	if (p) {
		int r = one_connect(atoi(p));
		if (r > 0)
			snprintf(early_result, sizeof(early_result), "%d", r);
		else
			snprintf(early_result, sizeof(early_result), "%s", errno_name(-r));
	}
}

int main(int argc, char **argv)
{
	/* static: vfork() shares this frame with the child. */
	static int n = 20, failed = 0;

	if (argc < 3) {
		fprintf(stderr, "usage: earlyconn PORT ctor|vfork|spawn|child\n");
		return 2;
	}
	port_arg = atoi(argv[1]);
	if (strcmp(argv[2], "ctor") == 0) {
		printf("%s\n", early_result);
		return early_result[0] >= '0' && early_result[0] <= '9' ? 0 : 1;
	}
	if (strcmp(argv[2], "child") == 0) {
		int r = one_connect(port_arg);
		print_result(r);
		return r > 0 ? 0 : 1;
	}
	for (int i = 0; i < n; i++) {
		int status;
		pid_t pid;
		fflush(stdout);
		if (strcmp(argv[2], "vfork") == 0) {
			pid = vfork();
			if (pid == 0) {
				/* Only async-signal-safe calls in a vfork child; the
				 * port goes out through the exit status (parity bit). */
				int r = one_connect(port_arg);
				_exit(r > 0 ? (r & 1) : 2);
			}
		} else {
			char *child_argv[] = { argv[0], argv[1], "child", NULL };
			if (posix_spawn(&pid, argv[0], NULL, NULL, child_argv, environ) != 0)
				pid = -1;
		}
		if (pid < 0 || waitpid(pid, &status, 0) != pid || !WIFEXITED(status)) {
			failed++;
			continue;
		}
		if (strcmp(argv[2], "vfork") == 0) {
			if (WEXITSTATUS(status) == 2)
				failed++;
			else
				printf("%s\n", WEXITSTATUS(status) ? "odd" : "even");
		} else if (WEXITSTATUS(status) != 0) {
			failed++;
		}
	}
	return failed ? 1 : 0;
}
