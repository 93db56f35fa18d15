/* SPDX-License-Identifier: MIT */
/*
 * Guest memory of a Xen guest, mapped on demand (include/virtio-backend/transports/xen.h).
 *
 * The core's memory map starts empty; its fault handler (mem.h, vb_mem_set_fault) maps what
 * a translation needs:
 * - a guest frame address: a bucket of VBI_XEN_BUCKET_PAGES frames around it by foreign
 *   mapping, clipped to the frames no region holds yet; frames Xen refuses (holes) are left
 *   out, so the map never holds a page that would fault on access;
 * - a grant address (bit 63): the grant references the area spans, mapped contiguously.
 * An area that must be contiguous (a ring, an indirect table) and straddles regions gets one
 * mapping of its own; the regions it overlaps are taken out of the map.
 *
 * Nothing is unmapped while iovecs may point into it: a mapping taken out of the map (evicted
 * past the cache bound, invalidated, replaced) stays mapped until vbi_xen_gmem_release()
 * runs with no request in flight; grant mappings are unmapped then too (the guest revokes
 * its grants once the request completes). A mapping holding an enabled queue's ring is
 * never taken out (the queue keeps pointers into it) until the devices are reset.
 */
#include <errno.h>
#include <string.h>

#include "xen-internal.h"

static struct vbi_xen_map *map_slot(struct vbi_xen_gmem *g)
{
	for (unsigned int i = 0; i < VBI_XEN_MAPS; i++)
		if (!g->maps[i].used)
			return &g->maps[i];
	return NULL;
}

static uint64_t map_bytes(const struct vbi_xen_map *m)
{
	return (uint64_t)m->pages << VBI_XEN_PAGE_SHIFT;
}

static bool is_pinned(struct vbi_xen_gmem *g, const struct vbi_xen_map *m)
{
	return g->pinned && g->pinned(g->pinned_ctx, m->addr, map_bytes(m));
}

/* Take @m's regions out of the core's map (it stays mapped until release). A foreign
 * mapping may have several regions (runs between refused frames). */
static void deactivate(struct vbi_xen_gmem *g, struct vbi_xen_map *m)
{
	const uintptr_t host = (uintptr_t)m->host;

	if (!m->active)
		return;
	/* By host address: another mapping may hold a frame this one could not map. */
	for (uint32_t i = 0; i < g->mem.n_regions;) {
		const struct vb_mem_region *r = &g->mem.regions[i];
		const uintptr_t p = (uintptr_t)r->host_ptr;

		if (p >= host && p - host < map_bytes(m))
			(void)vb_mem_remove(&g->mem, r->guest_addr);	/* compacts: same i */
		else
			i++;
	}
	m->active = false;
	g->retired++;
	if (!m->grant)
		g->mapped -= map_bytes(m);
}

static void unmap(struct vbi_xen_gmem *g, struct vbi_xen_map *m)
{
	deactivate(g, m);
	g->retired--;
	if (m->grant) {
		g->hv_ops->unmap_grants(g->hv, m->host, m->pages);
		g->stats->mapped_grants--;
	} else {
		g->hv_ops->unmap_foreign(g->hv, m->host, m->pages);
		g->stats->mapped_foreign--;
	}
	g->stats->mapped_bytes = g->mapped;
	memset(m, 0, sizeof(*m));
}

/* Add region [addr, addr + len) of mapping @m at host offset @off. */
static int add_region(struct vbi_xen_gmem *g, const struct vbi_xen_map *m, uint64_t addr,
		      uint64_t len)
{
	struct vb_mem_region r = {
		.guest_addr = addr,
		.size = len,
		.host_ptr = (uint8_t *)m->host + (addr - m->addr),
		.flags = VB_MEM_F_READ | (m->writable ? VB_MEM_F_WRITE : 0u),
	};

	return vb_mem_add(&g->mem, &r);
}

/* The lowest region start in (addr, limit), or limit: where a new mapping must stop. */
static uint64_t next_region(const struct vbi_xen_gmem *g, uint64_t addr, uint64_t limit)
{
	for (uint32_t i = 0; i < g->mem.n_regions; i++) {
		uint64_t b = g->mem.regions[i].guest_addr;

		if (b > addr && b < limit)
			limit = b;
	}
	return limit;
}

/* The highest region end in (floor, addr], or floor: where a new mapping may start. */
static uint64_t prev_region_end(const struct vbi_xen_gmem *g, uint64_t addr, uint64_t floor)
{
	for (uint32_t i = 0; i < g->mem.n_regions; i++) {
		const struct vb_mem_region *r = &g->mem.regions[i];
		uint64_t e = r->guest_addr + r->size;

		if (e > floor && e <= addr)
			floor = e;
	}
	return floor;
}

/* Take every mapping overlapping [addr, end) out of the map (a contiguous area replaces
 * them). A pinned one (a live ring) cannot go: -EBUSY. */
static int clear_range(struct vbi_xen_gmem *g, uint64_t addr, uint64_t end)
{
	for (unsigned int i = 0; i < VBI_XEN_MAPS; i++) {
		struct vbi_xen_map *m = &g->maps[i];

		if (!m->used || !m->active || m->addr >= end || m->addr + map_bytes(m) <= addr)
			continue;
		if (is_pinned(g, m))
			return -EBUSY;
		deactivate(g, m);
	}
	return 0;
}

/* Keep active foreign mappings under the bound: take the oldest unpinned ones out. */
static void evict(struct vbi_xen_gmem *g, uint64_t incoming)
{
	while (g->mapped + incoming > g->bound) {
		struct vbi_xen_map *old = NULL;

		for (unsigned int i = 0; i < VBI_XEN_MAPS; i++) {
			struct vbi_xen_map *m = &g->maps[i];

			if (m->used && m->active && !m->grant && (!old || m->seq < old->seq) &&
			    !is_pinned(g, m))
				old = m;
		}
		if (!old)
			return;	/* all pinned: a ring is worth more than the bound */
		deactivate(g, old);
	}
}

static int fault_grants(struct vbi_xen_gmem *g, uint64_t addr, uint64_t len, uint32_t need,
			bool contig)
{
	uint32_t refs[VBI_XEN_GRANT_RUN_MAX];
	uint64_t first = (addr & ~VBI_XEN_GRANT_ADDR) >> VBI_XEN_PAGE_SHIFT;
	uint64_t last = ((addr + len - 1) & ~VBI_XEN_GRANT_ADDR) >> VBI_XEN_PAGE_SHIFT;
	uint64_t start = VBI_XEN_GRANT_ADDR | (first << VBI_XEN_PAGE_SHIFT), end;
	struct vbi_xen_map *m;
	size_t n;
	int err = 0, ret;

	/* A grant reference is 32 bits: anything above is no grant. */
	if (last > UINT32_MAX || addr + len - 1 < addr)
		return -EFAULT;
	end = VBI_XEN_GRANT_ADDR | ((last + 1) << VBI_XEN_PAGE_SHIFT);
	if (contig) {
		ret = clear_range(g, start, end);
		if (ret < 0)
			return ret;
	} else {
		end = next_region(g, start, end);	/* stop where mapped grants resume */
	}
	n = (size_t)((end - start) >> VBI_XEN_PAGE_SHIFT);
	if (n == 0 || n > VBI_XEN_GRANT_RUN_MAX)
		return -E2BIG;
	m = map_slot(g);
	if (!m)
		return -ENOSPC;
	for (size_t i = 0; i < n; i++)
		refs[i] = (uint32_t)(first + i);
	/* Writable if the guest granted it so; a read-only grant serves reads only. */
	m->host = g->hv_ops->map_grants(g->hv, g->domid, true, refs, n, &err);
	m->writable = m->host != NULL;
	if (!m->host && !(need & VB_MEM_F_WRITE))
		m->host = g->hv_ops->map_grants(g->hv, g->domid, false, refs, n, &err);
	if (!m->host)
		return err ? err : -EFAULT;	/* revoked or never granted */
	m->used = m->active = m->grant = true;
	m->addr = start;
	m->pages = (uint32_t)n;
	m->seq = ++g->seq;
	g->stats->grant_maps++;
	g->stats->mapped_grants++;
	ret = add_region(g, m, start, end - start);
	if (ret < 0)
		unmap(g, m);
	return ret;
}

static int fault_foreign(struct vbi_xen_gmem *g, uint64_t addr, uint64_t len, bool contig)
{
	uint64_t pfns[VBI_XEN_BUCKET_PAGES];
	int errs[VBI_XEN_BUCKET_PAGES];
	const uint64_t bucket = (uint64_t)VBI_XEN_BUCKET_PAGES << VBI_XEN_PAGE_SHIFT;
	uint64_t start, end, first_ok = 0;
	struct vbi_xen_map *m;
	size_t n;
	int err = 0, ret = 0;
	bool any = false;

	if (contig) {
		start = addr & ~(uint64_t)(VBI_XEN_PAGE_SIZE - 1);
		end = (addr + len - 1) | (VBI_XEN_PAGE_SIZE - 1);
		if (end == UINT64_MAX || end + 1 - start > bucket)
			return -E2BIG;
		end++;
		ret = clear_range(g, start, end);
		if (ret < 0)
			return ret;
	} else {
		/* The bucket around addr, less what other regions hold. */
		uint64_t b = addr & ~(bucket - 1);

		start = prev_region_end(g, addr, b);
		start = (start + VBI_XEN_PAGE_SIZE - 1) & ~(uint64_t)(VBI_XEN_PAGE_SIZE - 1);
		end = next_region(g, addr, b + bucket < b ? UINT64_MAX : b + bucket);
		end &= ~(uint64_t)(VBI_XEN_PAGE_SIZE - 1);
		if (start > addr || end <= addr)
			return -EFAULT;	/* a partly covered page: not ours to map */
	}
	n = (size_t)((end - start) >> VBI_XEN_PAGE_SHIFT);
	evict(g, end - start);
	m = map_slot(g);
	if (!m)
		return -ENOSPC;
	for (size_t i = 0; i < n; i++)
		pfns[i] = (start >> VBI_XEN_PAGE_SHIFT) + i;
	m->host = g->hv_ops->map_foreign(g->hv, g->domid, true, pfns, errs, n, &err);
	if (!m->host)
		return err ? err : -EFAULT;
	m->used = m->active = true;
	m->writable = true;
	m->addr = start;
	m->pages = (uint32_t)n;
	m->seq = ++g->seq;
	g->mapped += map_bytes(m);
	g->stats->foreign_maps++;
	g->stats->mapped_foreign++;
	g->stats->mapped_bytes = g->mapped;
	/* One region per run of frames Xen mapped. */
	for (size_t i = 0; i <= n && ret == 0; i++) {
		bool ok = i < n && errs[i] == 0;

		if (ok && !any) {
			first_ok = i;
			any = true;
		} else if (!ok && any) {
			ret = add_region(g, m, start + (first_ok << VBI_XEN_PAGE_SHIFT),
					 (uint64_t)(i - first_ok) << VBI_XEN_PAGE_SHIFT);
			any = false;
		}
	}
	if (ret < 0)
		unmap(g, m);
	return ret;
}

/* The memory map's fault handler (mem.h). */
static int fault(void *ctx, uint64_t addr, uint64_t len, uint32_t need, uint32_t flags)
{
	struct vbi_xen_gmem *g = ctx;
	bool contig = (flags & VB_MEM_FAULT_CONTIG) != 0;

	if (addr & VBI_XEN_GRANT_ADDR)
		return fault_grants(g, addr, len, need, contig);
	return fault_foreign(g, addr, len, contig);
}

void vbi_xen_gmem_init(struct vbi_xen_gmem *g, const struct vbi_xen_hv_ops *ops, void *hv,
		       uint32_t domid, uint64_t bound, struct vb_xen_stats *stats)
{
	memset(g, 0, sizeof(*g));
	g->hv_ops = ops;
	g->hv = hv;
	g->domid = domid;
	g->bound = bound;
	g->stats = stats;
	(void)vb_mem_init(&g->mem, g->regions, VBI_XEN_MEM_REGIONS);
	vb_mem_set_fault(&g->mem, fault, g);
}

void vbi_xen_gmem_invalidate(struct vbi_xen_gmem *g)
{
	for (unsigned int i = 0; i < VBI_XEN_MAPS; i++) {
		struct vbi_xen_map *m = &g->maps[i];

		if (m->used && m->active && !m->grant && !is_pinned(g, m))
			deactivate(g, m);
	}
}

void vbi_xen_gmem_release(struct vbi_xen_gmem *g, bool all)
{
	/* The common case after every dispatch: nothing was taken out, no grant is held. */
	if (!all && !g->retired && !g->stats->mapped_grants)
		return;
	for (unsigned int i = 0; i < VBI_XEN_MAPS; i++) {
		struct vbi_xen_map *m = &g->maps[i];

		if (!m->used)
			continue;
		if (all || !m->active || (m->grant && !is_pinned(g, m)))
			unmap(g, m);
	}
}
