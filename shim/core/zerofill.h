/* Zeroing memory that is mostly zero already without touching its pages.
 * Static storage a process never writes is backed by the kernel's one zero
 * page and costs it nothing; memset() would make every page of it private
 * (tests/bench/README.md, (d)).  Only the words that are not zero are
 * written, so reading is all a page that is still zero ever sees. */
#ifndef PORTSHIM_ZEROFILL_H
#define PORTSHIM_ZEROFILL_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

static inline void zerofill_sparing(void *p, size_t n)
{
	unsigned char *b = p;
	size_t i = 0;

	for (; i < n && ((uintptr_t)(b + i) & 7); i++)
		if (b[i])
			b[i] = 0;
	for (; i + 8 <= n; i += 8) {
		uint64_t w;
		memcpy(&w, b + i, 8);
		if (w)
			memset(b + i, 0, 8);
	}
	for (; i < n; i++)
		if (b[i])
			b[i] = 0;
}

#endif
