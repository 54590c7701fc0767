/* libFuzzer: config file text (configure_from_text).  Errors must name the
 * file and line; nothing may overrun. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "configure.h"

static struct config cfg;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char text[70000];
	char err[512];

	if (size >= sizeof(text))
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	config_init(&cfg, false);
	if (configure_from_text(&cfg, text, "fuzz.conf", err, sizeof(err)) != 0) {
		if (strncmp(err, "fuzz.conf:", 10) != 0 || strchr(err, '\n'))
			abort();
	}
	config_finish(&cfg);
	return 0;
}
