/* The library's list of setting keys, from config.c itself: the wrapper
 * then never disagrees with the library about which settings exist
 * (--check prints each one; the tests check that each has a flag). */
#include "core/config.h"
#include "cli.h"

const char *const *cli_setting_keys(void)
{
	return config_keys();
}
