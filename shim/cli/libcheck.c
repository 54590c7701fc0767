/* portshim --check: does the dynamic linker load the library?  A readable
 * file is not enough (--library /etc/hostname would pass), and the
 * dynamic linker only says so on the program's stderr and runs it anyway.
 * So the loader that will run the command is asked, in its list mode
 * (`LOADER --list PROGRAM`: glibc's and musl's both have it), with the
 * library alone in LD_PRELOAD: it maps the library and relocates, runs
 * nothing of the program or the library, and lists what it loaded.  The
 * library loads when it is in that list; otherwise the loader's own
 * message is the reason ("cannot be preloaded (invalid ELF header)"). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cli.h"

/* Runs the loader with its stdout and stderr in `out`; 0, or -1 when it
 * could not be run at all (the reason in out). */
static int run_loader(const char *loader, const char *program, const char *library, char *out,
		      size_t size)
{
	char preload[4200];
	int pipefd[2];
	size_t n = 0;

	snprintf(preload, sizeof(preload), "LD_PRELOAD=%s", library);
	if (pipe(pipefd) != 0) {
		snprintf(out, size, "pipe: %s", strerror(errno));
		return -1;
	}
	fflush(NULL);
	pid_t pid = fork();
	if (pid < 0) {
		snprintf(out, size, "fork: %s", strerror(errno));
		return -1;
	}
	if (pid == 0) {
		char *const argv[] = { (char *)loader, "--list", (char *)program, NULL };
		char *const envp[] = { preload, NULL };
		dup2(pipefd[1], STDOUT_FILENO);
		dup2(pipefd[1], STDERR_FILENO);
		execve(loader, argv, envp);
		dprintf(STDERR_FILENO, "cannot run %s: %s", loader, strerror(errno));
		_exit(127);
	}
	close(pipefd[1]);
	for (ssize_t got; n + 1 < size && (got = read(pipefd[0], out + n, size - 1 - n)) != 0;) {
		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0)
			break;
		n += (size_t)got;
	}
	out[n] = '\0';
	close(pipefd[0]);
	while (waitpid(pid, NULL, 0) < 0 && errno == EINTR) {
	}
	return 0;
}

int libcheck(const char *loader, const char *program, const char *library, char *why,
	     size_t size)
{
	char out[16384], needle[4200];

	if (run_loader(loader, program, library, out, sizeof(out)) != 0) {
		snprintf(why, size, "%s", out);
		return -1;
	}
	/* glibc lists "\t/path/lib.so (0x...)", musl "\t/path/lib.so => /path/lib.so (0x...)". */
	snprintf(needle, sizeof(needle), "\t%s ", library);
	if (strstr(out, needle))
		return 0;
	/* The loader's complaint, else what it did say. */
	char *line = strstr(out, "cannot be preloaded");
	while (line && line > out && line[-1] != '\n')
		line--;
	if (!line)
		line = out;
	line[strcspn(line, "\n")] = '\0';
	if (line[0])
		snprintf(why, size, "%s", line);
	else
		snprintf(why, size, "it is not among what %s --list %s loads", loader, program);
	return -1;
}
