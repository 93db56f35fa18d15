/* SPDX-License-Identifier: MIT */
/* Guest memory map: regions and bounds-checked translation (freestanding). */
#include <string.h>

#include "virtio-backend/error.h"
#include "virtio-backend/mem.h"
#include "internal/check.h"
#include "internal/compiler.h"
#include "internal/config.h"
#include "mem-internal.h"

VB_EXPORT int vb_mem_init(struct vb_mem *mem, struct vb_mem_region *regions, uint32_t max)
{
	if (!mem || !regions || max == 0)
		return -EINVAL;
	mem->regions = regions;
	mem->n_regions = 0;
	mem->max_regions = max;
	mem->generation = 0;
	mem->fault = NULL;
	mem->fault_ctx = NULL;
	return 0;
}

VB_EXPORT void vb_mem_set_fault(struct vb_mem *mem, vb_mem_fault_fn fault, void *ctx)
{
	mem->fault = fault;
	mem->fault_ctx = ctx;
}

/* @satisfy{VB-REQ-MEM-017}: a miss asks the map's handler once; only a 0 from it retries. */
static bool fault_in(const struct vb_mem *mem, uint64_t addr, uint64_t len, uint32_t need,
		     uint32_t flags)
{
	return VB_CONFIG_MEM_FAULT && mem->fault &&
	       mem->fault(mem->fault_ctx, addr, len, need, flags) == 0;
}

/* True if [base, base + size) shares a byte with a region of mem, in guest (ring == false) or
 * ring address space. No range wraps (vb_mem_add() checks it before it calls this), so the
 * range that starts first reaches the other's start exactly when the difference of the starts,
 * taken in the no-wrap form, is below its size. */
static VB_SIZE_NOINLINE bool overlaps_any(const struct vb_mem *mem, uint64_t base, uint64_t size,
					  bool ring)
{
	for (uint32_t i = 0; i < mem->n_regions; i++) {
		const struct vb_mem_region *o = &mem->regions[i];
		uint64_t obase = ring ? o->ring_addr : o->guest_addr;

		if (base - obase < o->size || obase - base < size)
			return true;
	}
	return false;
}

VB_EXPORT int vb_mem_add(struct vb_mem *mem, const struct vb_mem_region *r)
{
	uint64_t ring, last;

	if (!mem || !r || r->size == 0 || !r->host_ptr ||
	    !(r->flags & (VB_MEM_F_READ | VB_MEM_F_WRITE)))
		return -EINVAL;
	ring = (r->flags & VB_MEM_F_RING_ADDR) ? r->ring_addr : r->guest_addr;
	/* The last byte must be addressable: base + size - 1 must not wrap. */
	last = r->size - 1;
	if (last > UINT64_MAX - r->guest_addr || last > UINT64_MAX - ring ||
	    last > UINTPTR_MAX - (uintptr_t)r->host_ptr)
		return -EOVERFLOW;
	if (overlaps_any(mem, r->guest_addr, r->size, false) ||
	    overlaps_any(mem, ring, r->size, true))
		return -EINVAL;
	if (mem->n_regions >= mem->max_regions)
		return -ENOSPC;
	mem->regions[mem->n_regions] = *r;
	mem->regions[mem->n_regions++].ring_addr = ring;
	mem->generation++;
	return 0;
}

VB_EXPORT int vb_mem_remove(struct vb_mem *mem, uint64_t guest_addr)
{
	if (!mem)
		return -EINVAL;
	for (uint32_t i = 0; i < mem->n_regions; i++) {
		if (mem->regions[i].guest_addr != guest_addr)
			continue;
		mem->regions[i] = mem->regions[--mem->n_regions];
		mem->generation++;
		return 0;
	}
	return -EINVAL;
}

VB_EXPORT void vb_mem_clear(struct vb_mem *mem)
{
	mem->n_regions = 0;
	mem->generation++;
}

static uint32_t dir_flag(enum vb_dir dir)
{
	return dir == VB_DIR_DEV_WRITE ? VB_MEM_F_WRITE : VB_MEM_F_READ;
}

VB_EXPORT int vb_mem_map(const struct vb_mem *mem, uint64_t gpa, uint32_t len, enum vb_dir dir,
			 struct vb_iov *iov, unsigned int iov_num)
{
	if (VB_UNLIKELY(len == 0))
		return -EINVAL;
	return vbi_mem_map(mem, gpa, len, dir_flag(dir), iov, iov_num);
}

VB_COLD int vbi_mem_map_full(const struct vb_mem *mem, uint64_t gpa, uint32_t len,
			     uint32_t need, struct vb_iov *iov, unsigned int iov_num)
{
	const struct vb_mem_region *regions = mem->regions;
	unsigned int n = 0;
	bool faulted = false;

	if (VB_UNLIKELY(len - 1 > UINT64_MAX - gpa))	/* len >= 1 here: callers skip 0 */
		return -EOVERFLOW;
	for (;;) {
		const struct vb_mem_region *r = NULL;
		uint64_t off, left;
		uint32_t take;

		/* n_regions is re-read: a fault handler may have added regions. */
		for (uint32_t i = 0; i < mem->n_regions; i++) {
			if (gpa - regions[i].guest_addr < regions[i].size) {	/* no-wrap form */
				r = &regions[i];
				break;
			}
		}
		if (VB_UNLIKELY(!r)) {
			/* One handler call per missing piece; a second miss is final. */
			if (!faulted && fault_in(mem, gpa, len, need, 0)) {
				faulted = true;
				continue;
			}
			return -EFAULT;
		}
		faulted = false;
		if (VB_UNLIKELY(!(r->flags & need)))
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

void *vbi_mem_map_one(const struct vb_mem *mem, uint64_t addr, uint64_t len, uint32_t need,
		      bool ring, int *err)
{
	bool retried = false;

	if (len - 1 > UINT64_MAX - addr) {
		*err = -EOVERFLOW;
		return NULL;
	}
again:
	for (uint32_t i = 0; i < mem->n_regions; i++) {
		const struct vb_mem_region *r = &mem->regions[i];
		uint64_t base = ring ? r->ring_addr : r->guest_addr;

		/* Regions do not overlap: only the one holding the first byte can hold all. */
		if (addr - base >= r->size)
			continue;
		if ((r->flags & need) != need) {
			*err = -EFAULT;	/* a permission fault: no handler call */
			return NULL;
		}
		if (len <= r->size - (addr - base))
			return (uint8_t *)r->host_ptr + (addr - base);
		break;	/* runs past its region: a miss */
	}
	if (!retried && fault_in(mem, addr, len, need,
				 VB_MEM_FAULT_CONTIG | (ring ? VB_MEM_FAULT_RING : 0u))) {
		retried = true;
		goto again;
	}
	*err = -EFAULT;
	return NULL;
}

static int map_one(const struct vb_mem *mem, uint64_t addr, uint64_t len, uint32_t need,
		   bool ring, void **out)
{
	int err = 0;

	if (len == 0)
		return -EINVAL;
	*out = vbi_mem_map_one(mem, addr, len, need, ring, &err);
	return *out ? 0 : err;
}

VB_EXPORT int vb_mem_map_ring(const struct vb_mem *mem, uint64_t addr, uint64_t len, void **out)
{
	return map_one(mem, addr, len, VB_MEM_F_READ | VB_MEM_F_WRITE, true, out);
}

VB_EXPORT int vb_mem_map_contig(const struct vb_mem *mem, uint64_t gpa, uint64_t len,
				enum vb_dir dir, void **out)
{
	return map_one(mem, gpa, len, dir_flag(dir), false, out);
}
