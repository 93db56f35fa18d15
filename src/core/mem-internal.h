/* SPDX-License-Identifier: MIT */
/* The buffer translation loop, inlined into the ring walkers (hot) and vb_mem_map(). */
#ifndef VB_CORE_MEM_INTERNAL_H
#define VB_CORE_MEM_INTERNAL_H

#include "virtio-backend/error.h"
#include "virtio-backend/mem.h"
#include <stdbool.h>

#include "internal/compiler.h"

/* @satisfy{VB-REQ-MEM-003} @satisfy{VB-REQ-MEM-004}: every byte of [gpa, gpa + len), len >= 1,
 * lies in a region that allows need (VB_MEM_F_READ/WRITE); one iovec per region crossed. The
 * full check, defined once in mem.c; vbi_mem_map() below tries the common case first. */
VB_COLD int vbi_mem_map_full(const struct vb_mem *mem, uint64_t gpa, uint32_t len,
			     uint32_t need, struct vb_iov *iov, unsigned int iov_num);

/* The region wholly holding [addr, addr + len) in guest (ring == false) or ring address
 * space with all of need, or NULL with *err = -EOVERFLOW or -EFAULT. Defined in mem.c. */
void *vbi_mem_map_one(const struct vb_mem *mem, uint64_t addr, uint64_t len, uint32_t need,
		      bool ring, int *err);

/*
 * The same contract as vbi_mem_map_full(), inlined into the ring walkers. Fast path: the
 * buffer lies wholly inside the first region that contains gpa, and that region allows
 * need. Regions never wrap (vb_mem_add() checks base + size - 1), so neither does
 * [gpa, gpa + len) then, and the full check would return this same single iovec. Anything
 * else (a crossing, a fault, a wrap, no room) takes the full path, which decides the error
 * from the start, so every check and every return code stay as they were.
 */
static VB_FAST_INLINE int vbi_mem_map(const struct vb_mem *mem, uint64_t gpa, uint32_t len,
					uint32_t need, struct vb_iov *iov, unsigned int iov_num)
{
#if defined(__OPTIMIZE_SIZE__)
	return vbi_mem_map_full(mem, gpa, len, need, iov, iov_num);	/* one copy */
#else
	const struct vb_mem_region *r = mem->regions;
	const struct vb_mem_region *const end = r + mem->n_regions;

	for (; r != end; r++) {
		const uint64_t off = gpa - r->guest_addr;

		if (off < r->size) {	/* no-wrap form, as in the full path */
			if (VB_LIKELY(len <= r->size - off && (r->flags & need) && iov_num)) {
				iov[0].base = (uint8_t *)r->host_ptr + off;
				iov[0].len = len;
				return 1;
			}
			break;
		}
	}
	return vbi_mem_map_full(mem, gpa, len, need, iov, iov_num);
#endif
}

/*
 * Translate [gpa, gpa + len), len >= 1, that must lie wholly inside one region allowing need
 * (indirect descriptor tables). Returns the host pointer or NULL; *err gets -EOVERFLOW or
 * -EFAULT. Inlined for the ring walkers; vb_mem_map_contig() is the exported form.
 */
static VB_FAST_INLINE void *vbi_mem_map_contig(const struct vb_mem *mem, uint64_t gpa,
						 uint64_t len, uint32_t need, int *err)
{
#if defined(__OPTIMIZE_SIZE__)
	return vbi_mem_map_one(mem, gpa, len, need, false, err);	/* one copy */
#else
	const struct vb_mem_region *r = mem->regions;
	const struct vb_mem_region *const end = r + mem->n_regions;

	for (; r != end; r++) {
		const uint64_t off = gpa - r->guest_addr;

		/* Regions never wrap, so an area inside one cannot wrap either: the wrap test
		 * is only needed to name the error. */
		if (off < r->size) {	/* the region holding the first byte */
			if (VB_LIKELY(len <= r->size - off && (r->flags & need)))
				return (uint8_t *)r->host_ptr + off;
			break;
		}
	}
	/* The full path names the error and asks the map's fault handler, if any. */
	return vbi_mem_map_one(mem, gpa, len, need, false, err);
#endif
}

#endif
