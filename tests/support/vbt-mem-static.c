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

_Noreturn void vbt_die(const char *why)
{
	vb_port_log(VB_LOG_ERR, why);
	__builtin_trap();
}

int vbt_guest_init(struct vbt_guest *g, uint64_t gpa, size_t size, size_t region_size)
{
	/* 64-byte granules keep every guest's ring areas aligned in the host, as vbt-mem.c's
	 * 16-byte placement does. */
	size_t body = (size + 63u) & ~(size_t)63u;

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
	return vbt_guest_describe(g, gpa, size, region_size);
}

void vbt_guest_fini(struct vbt_guest *g)
{
	uint8_t *m = g->mapping;

	if (m && m + g->mapping_len == pool + pool_used)
		pool_used -= g->mapping_len;
	memset(g, 0, sizeof(*g));
}
