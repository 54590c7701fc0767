/* portshim: runs a command under libportshim.so (wrapper.c), summarizes
 * event logs (`portshim report`, report.c), tells how the shim stands in a
 * running process or which cgroups the bpf backend is attached to
 * (`portshim status [PID]`, status.c), or attaches it to a cgroup
 * (`portshim attach|detach`, attach.c).  A command that is itself named
 * "report", "status", "attach" or "detach" runs as `portshim -- report`. */
#include <string.h>

#include "cli.h"
#include "report.h"

int main(int argc, char **argv)
{
	if (argc > 1 && strcmp(argv[1], "report") == 0)
		return report_main(argc - 1, argv + 1);
	if (argc > 1 && strcmp(argv[1], "status") == 0)
		return status_main(argc - 1, argv + 1);
	if (argc > 1 && (strcmp(argv[1], "attach") == 0 || strcmp(argv[1], "detach") == 0))
		return attach_main(argc - 1, argv + 1, argv[1][0] == 'd');
	return wrapper_main(argc, argv);
}
