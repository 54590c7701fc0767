/* The library's list of setting keys.  config.h has no call that lists
 * them, but config_set() names every key when it rejects an unknown one
 * ("LABEL: unknown setting; known: parity, connect, ..."), so the list is
 * read from there: the wrapper then never disagrees with the library about
 * which settings exist (--check prints each one; the tests check that each
 * has a flag).  A config_keys() in config.c would be the cleaner source. */
#include <stdlib.h>
#include <string.h>

#include "../config.h"
#include "cli.h"

#define MAX_KEYS 32

const char *const *cli_setting_keys(void)
{
	static const char *keys[MAX_KEYS + 1];
	static char text[1024];
	static struct config cfg;
	static const char marker[] = "known: ";

	if (keys[0])
		return keys;
	config_init(&cfg, false);
	/* A key no setting has: the answer is the list of those it has. */
	if (config_set(&cfg, "", "", "", text, sizeof(text)) == 0)
		cli_die("internal error: the library accepts an empty setting name");
	char *list = strstr(text, marker);
	if (!list)
		cli_die("internal error: cannot read the library's settings from '%s'", text);
	list += strlen(marker);
	int n = 0;
	for (char *key = strtok(list, ", "); key && n < MAX_KEYS; key = strtok(NULL, ", "))
		keys[n++] = key;
	keys[n] = NULL;
	return keys;
}
