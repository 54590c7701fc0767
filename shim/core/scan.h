/* The state of one call's scan of a plan's ports: candidates.h drives it,
 * and hands the kernel emulations' orders to emulate_scan.h. */
#ifndef PORTSHIM_SCAN_H
#define PORTSHIM_SCAN_H

#include <stdbool.h>
#include <stdint.h>

#include "portmap.h"
#include "runtime.h"

enum scan_order {
	SCAN_CLASSES,         /* even, odd, any, N:K, prefer-* */
	SCAN_KERNEL_CONNECT, /* 4.6+: low parity then the other, step 2, perturbation table */
	SCAN_KERNEL_BIND,     /* 4.6+: the other parity first, SO_REUSEADDR lower half first */
	SCAN_LINUX42,         /* 4.2-4.5 connect: even start, step 1 */
	SCAN_LEGACY,          /* <= 4.1 connect: global hint, step 1 */
	SCAN_UNIFORM,         /* random start, step 1: old bind(), and UDP in every era */
};

struct candidates {
	struct runtime *rt;
	struct plan *plan;
	struct portwindow win;
	enum scan_order order;
	int npasses;
	int pass;
	unsigned phase;
	unsigned start;
	bool claimed;       /* the current port was claimed in the bitmap */
	const unsigned *phases; /* SCAN_CLASSES: the bitmap flags of each phase */
	unsigned nphases;
	/* The per-destination walk (SCAN_CLASSES, random order, a destination). */
	bool walk;
	uint32_t walk_slot;   /* the one of the destination's two slots in use */
	uint32_t walk_tag;    /* which destination the slot's counter belongs to */
	uint64_t walk_offset; /* the destination's offset plus its counter */
	uint32_t walk_phase;  /* this process's place on the circle (runtime.h) */
	uint32_t win_first;   /* rank of the window's first member in the pass's set */
	uint32_t win_members; /* members of the pass's set inside the window */
	uint32_t start_rank;  /* rank of pass_start, a member (or 0 with none) */
	uint32_t walked;      /* members of the window stepped over this phase */
	uint32_t jumped;      /* how far this pass's jumps moved its start */
	unsigned jumps;       /* jumps this call */
	unsigned attempts;  /* candidates handed out so far */
	/* The emulations. */
	const struct portset *sets[2];
	unsigned pass_start;  /* where this pass began: the kernel and the walk count from it */
	uint32_t remaining;   /* ports of this pass not yet tried */
	uint32_t slot;        /* perturbation table index */
	uint64_t offset;      /* the kernel's offset into the range */
	int half;             /* SCAN_KERNEL_BIND with SO_REUSEADDR: 1 lower, 2 upper */
};

#endif
