/* libFuzzer: the environment parser.  The input is split at newlines into
 * environment entries (so the fuzzer finds PORTSHIM_ names by itself), then
 * parsed twice: errors must be one line, and a configuration that parsed
 * must resolve into plans (runtime_configure) without tripping a sanitizer. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "runtime.h"

static struct runtime rt;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char text[4096], *envp[64], err[512];
	size_t n = 0;

	if (size >= sizeof(text))
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	for (char *line = strtok(text, "\n"); line && n + 1 < 64; line = strtok(NULL, "\n"))
		if (strncmp(line, "PORTSHIM_CONFIG=", 16) != 0) /* no file reads */
			envp[n++] = line;
	envp[n] = NULL;

	/* Settings that would read /proc are pinned so each run is pure. */
	char range[] = "PORTSHIM_RANGE=40000-40999", reserved[] = "PORTSHIM_RESERVED=";
	char *fixed[66] = { range, reserved };
	memcpy(fixed + 2, envp, (n + 1) * sizeof(char *));

	memset(&rt, 0, sizeof(rt));
	if (runtime_configure(&rt, fixed, false, err, sizeof(err)) != 0) {
		if (!err[0] || strchr(err, '\n'))
			abort(); /* an error is one non-empty line */
	}
	runtime_release(&rt); /* one run's mapping must not outlive it */
	return 0;
}
