/* Small strict parsers shared by the configuration, the kernel's /proc
 * files and the command line.  No allocation, no locale. */
#ifndef PORTSHIM_PARSE_H
#define PORTSHIM_PARSE_H

#include <stdint.h>

#include "portmap.h"

/* Decimal (or 0x hexadecimal) unsigned integer without sign or spaces.
 * Returns the first unparsed character, or NULL on no digits / overflow. */
const char *parse_u64(const char *text, uint64_t *out);

/* "LO-HI" (1 <= LO <= HI <= 65535), the whole string. */
int parse_port_range(const char *text, unsigned *lo, unsigned *hi);

/* A kernel-style port list: "80,443,8000-8099", items separated by commas
 * (spaces and a trailing newline allowed, as /proc writes them); the empty
 * list is valid.  Adds the ports to `set`.  0 on success, -1 on bad input. */
int parse_port_list(const char *text, struct portset *set);

#endif
