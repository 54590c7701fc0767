/* portshim: runs a command under libportshim.so (wrapper.c), summarizes
 * event logs (`portshim report`, report.c), or tells how the shim stands in
 * a running process (`portshim status PID`, status.c).  A command that is
 * itself named "report" or "status" runs as `portshim -- report`. */
#include <string.h>

#include "cli.h"
#include "report.h"

int main(int argc, char **argv)
{
	if (argc > 1 && strcmp(argv[1], "report") == 0)
		return report_main(argc - 1, argv + 1);
	if (argc > 1 && strcmp(argv[1], "status") == 0)
		return status_main(argc - 1, argv + 1);
	return wrapper_main(argc, argv);
}
