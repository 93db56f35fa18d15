/* SPDX-License-Identifier: MIT */
/*
 * Fake guest memory for tests, fuzzers and benchmarks: one host mapping with inaccessible
 * guard pages on both sides (an access outside the guest crashes the test instead of passing
 * silently), described to the core as one region or as many adjacent small regions so that
 * every buffer splits (vringh_test's getrange_slow idea).
 */
#ifndef VBT_MEM_H
#define VBT_MEM_H

#include <stddef.h>
#include <stdint.h>

#include "virtio-backend/mem.h"

#define VBT_MAX_REGIONS 64u

struct vbt_guest {
	uint8_t		*base;		/* host address of guest byte 0 */
	size_t		size;		/* guest bytes */
	uint64_t	gpa;		/* guest address of byte 0 */
	uint64_t	next;		/* bump allocator: next free offset */
	void		*mapping;	/* whole mapping, guards included */
	size_t		mapping_len;
	struct vb_mem	mem;
	struct vb_mem_region regions[VBT_MAX_REGIONS];
};

/*
 * Map size bytes of fake guest memory at guest address gpa. region_size 0 gives one
 * read-write region; otherwise the guest is cut into adjacent regions of region_size bytes
 * (at most VBT_MAX_REGIONS). Returns 0 or a negative errno.
 */
int vbt_guest_init(struct vbt_guest *g, uint64_t gpa, size_t size, size_t region_size);
void vbt_guest_fini(struct vbt_guest *g);

/* Allocate len bytes aligned to align (power of two) and zero them; returns the guest
 * address. Aborts when the guest is full (a test bug, not a case under test). */
uint64_t vbt_guest_alloc(struct vbt_guest *g, size_t len, size_t align);

/* Host pointer for a guest address inside the guest (aborts otherwise). */
void *vbt_guest_ptr(struct vbt_guest *g, uint64_t gpa);

/* Restrict a region's device access (VB_MEM_F_READ / VB_MEM_F_WRITE) by index. */
void vbt_guest_set_region_flags(struct vbt_guest *g, unsigned int idx, uint32_t flags);

/* Shared by the two providers of the bytes (vbt-mem-common.c): describe g->base[0, size) at
 * gpa to the core as regions of region_size bytes (0: one region). */
int vbt_guest_describe(struct vbt_guest *g, uint64_t gpa, size_t size, size_t region_size);

/* Report a test bug (memory exhausted, address outside the guest) and stop; each provider
 * defines it for its platform. */
_Noreturn void vbt_die(const char *why);

#endif
