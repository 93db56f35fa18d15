/* SPDX-License-Identifier: MIT */
/*
 * Fake guest memory from a static pool instead of mmap, for targets with no OS (the
 * bare-metal example): the same interface as vbt-mem.c (vbt-mem.h), so vbt-split.c and
 * the other driver simulators build unchanged. Link exactly one of vbt-mem.c and this file.
 *
 * Differences from vbt-mem.c: there are no guard pages (an overrun is not caught by the
 * MMU), and the pool is handed out stack-wise: vbt_guest_fini() returns a guest's memory
 * only if it is the most recent one. The pool size is VBT_STATIC_POOL_BYTES (default 64 KiB).
 *
 * Fatal test bugs (pool exhausted, address outside the guest) are logged through the port's
 * vb_port_log() and stop in __builtin_trap(), which the platform's fault handler reports.
 */
#include <stdint.h>
#include <string.h>

#include "virtio-backend/error.h"
#include "virtio-backend/port.h"
#include "vbt-mem.h"

#ifndef VBT_STATIC_POOL_BYTES
#define VBT_STATIC_POOL_BYTES (64u * 1024u)
#endif

static _Alignas(64) uint8_t pool[VBT_STATIC_POOL_BYTES];
static size_t pool_used;

static _Noreturn void die(const char *why)
{
	vb_port_log(VB_LOG_ERR, why);
	__builtin_trap();
}

int vbt_guest_init(struct vbt_guest *g, uint64_t gpa, size_t size, size_t region_size)
{
	/* 64-byte granules keep every guest's ring areas aligned in the host, as vbt-mem.c's
	 * 16-byte placement does. */
	size_t body = (size + 63u) & ~(size_t)63u;
	int ret;

	memset(g, 0, sizeof(*g));
	if (size == 0 || body < size)
		return -EINVAL;
	if (region_size && (size + region_size - 1) / region_size > VBT_MAX_REGIONS)
		return -E2BIG;
	if (body > sizeof(pool) - pool_used)
		return -ENOSPC;
	g->mapping = pool + pool_used;
	g->mapping_len = body;
	pool_used += body;
	g->base = g->mapping;
	g->size = size;
	g->gpa = gpa;
	memset(g->base, 0, body);
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

void vbt_guest_fini(struct vbt_guest *g)
{
	uint8_t *m = g->mapping;

	if (m && m + g->mapping_len == pool + pool_used)
		pool_used -= g->mapping_len;
	memset(g, 0, sizeof(*g));
}

uint64_t vbt_guest_alloc(struct vbt_guest *g, size_t len, size_t align)
{
	uint64_t off = (g->next + align - 1) & ~(uint64_t)(align - 1);

	if (len > g->size || off > g->size - len)
		die("vbt-mem-static: fake guest memory exhausted");
	g->next = off + len;
	memset(g->base + off, 0, len);
	return g->gpa + off;
}

void *vbt_guest_ptr(struct vbt_guest *g, uint64_t gpa)
{
	if (gpa < g->gpa || gpa - g->gpa >= g->size)
		die("vbt-mem-static: guest address outside the fake guest");
	return g->base + (gpa - g->gpa);
}

void vbt_guest_set_region_flags(struct vbt_guest *g, unsigned int idx, uint32_t flags)
{
	if (idx >= g->mem.n_regions)
		die("vbt-mem-static: no such region");
	g->regions[idx].flags = flags;
}
