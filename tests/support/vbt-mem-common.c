/* SPDX-License-Identifier: MIT */
/*
 * The part of the fake guest memory that does not depend on where its bytes come from:
 * describing them to the core as regions, allocating and translating. vbt-mem.c (mmap with
 * guard pages) and vbt-mem-static.c (a static pool, bare metal) each provide the bytes,
 * vbt_guest_init()/fini() and vbt_die(), and link this file.
 */
#include <string.h>

#include "virtio-backend/error.h"
#include "vbt-mem.h"

int vbt_guest_describe(struct vbt_guest *g, uint64_t gpa, size_t size, size_t region_size)
{
	int ret;

	g->size = size;
	g->gpa = gpa;
	ret = vb_mem_init(&g->mem, g->regions, VBT_MAX_REGIONS);
	if (ret < 0)
		return ret;
	for (size_t off = 0; off < size;) {
		size_t len = region_size && region_size < size - off ? region_size : size - off;
		struct vb_mem_region r = {
			.guest_addr = gpa + off,
			.size = len,
			.host_ptr = g->base + off,
			.flags = VB_MEM_F_READ | VB_MEM_F_WRITE,
		};

		ret = vb_mem_add(&g->mem, &r);
		if (ret < 0)
			return ret;
		off += len;
	}
	return 0;
}

uint64_t vbt_guest_alloc(struct vbt_guest *g, size_t len, size_t align)
{
	uint64_t off = (g->next + align - 1) & ~(uint64_t)(align - 1);

	if (len > g->size || off > g->size - len)
		vbt_die("fake guest memory exhausted");
	g->next = off + len;
	memset(g->base + off, 0, len);
	return g->gpa + off;
}

void *vbt_guest_ptr(struct vbt_guest *g, uint64_t gpa)
{
	if (gpa < g->gpa || gpa - g->gpa >= g->size)
		vbt_die("guest address outside the fake guest");
	return g->base + (gpa - g->gpa);
}

void vbt_guest_set_region_flags(struct vbt_guest *g, unsigned int idx, uint32_t flags)
{
	if (idx >= g->mem.n_regions)
		vbt_die("no such region");
	g->regions[idx].flags = flags;
}
