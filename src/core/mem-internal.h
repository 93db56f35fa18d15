/* SPDX-License-Identifier: MIT */
/* The buffer translation loop, inlined into the ring walkers (hot) and vb_mem_map(). */
#ifndef VB_CORE_MEM_INTERNAL_H
#define VB_CORE_MEM_INTERNAL_H

#include "virtio-backend/error.h"
#include "virtio-backend/mem.h"
#include "internal/compiler.h"

/* @satisfy{VB-REQ-MEM-003} @satisfy{VB-REQ-MEM-004}: every byte of [gpa, gpa + len) lies in
 * a region that allows need (VB_MEM_F_READ/WRITE); one iovec per region crossed. */
static VB_ALWAYS_INLINE int vbi_mem_map(const struct vb_mem *mem, uint64_t gpa, uint32_t len,
					uint32_t need, struct vb_iov *iov, unsigned int iov_num)
{
	const struct vb_mem_region *regions = mem->regions;
	const uint32_t n_regions = mem->n_regions;
	unsigned int n = 0;

	if (VB_UNLIKELY(len - 1 > UINT64_MAX - gpa))	/* len >= 1 here: callers skip 0 */
		return -EOVERFLOW;
	for (;;) {
		const struct vb_mem_region *r = NULL;
		uint64_t off, left;
		uint32_t take;

		for (uint32_t i = 0; i < n_regions; i++) {
			if (gpa - regions[i].guest_addr < regions[i].size) {	/* no-wrap form */
				r = &regions[i];
				break;
			}
		}
		if (VB_UNLIKELY(!r || !(r->flags & need)))
			return -EFAULT;
		if (VB_UNLIKELY(n == iov_num))
			return -E2BIG;
		off = gpa - r->guest_addr;
		left = r->size - off;
		take = left < len ? (uint32_t)left : len;
		iov[n].base = (uint8_t *)r->host_ptr + off;
		iov[n].len = take;
		n++;
		len -= take;
		if (VB_LIKELY(len == 0))
			return (int)n;
		gpa += take;	/* does not wrap: the whole range was checked above */
	}
}

#endif
