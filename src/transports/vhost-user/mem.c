/* SPDX-License-Identifier: MIT */
/*
 * vhost-user memory table: map each region's fd and describe it to the core as a vb_mem
 * region with two bases, the guest physical address for buffers and the front-end's user
 * address for rings (vhost-user.rst "Memory access", VB_MEM_F_RING_ADDR).
 */
#define _GNU_SOURCE	/* MAP_NORESERVE */
#include <errno.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "internal/check.h"
#include "vu-internal.h"

void vbi_vu_mem_init(struct vbi_vu_mem *m, uint32_t max_slots)
{
	memset(m, 0, sizeof(*m));
	if (max_slots == 0 || max_slots > VB_VU_MAX_MEM_SLOTS)
		max_slots = VB_VU_MAX_MEM_SLOTS;
	m->max_slots = max_slots;
	(void)vb_mem_init(&m->mem, m->regions, max_slots);
}

static void unmap_one(struct vbi_vu_map *mp)
{
	if (mp->base)
		munmap(mp->base, mp->len);
	mp->base = NULL;
	mp->len = 0;
}

/*
 * Map [offset, offset + size) of fd, shared and writable. The fd must be a regular file
 * (memfd, hugetlbfs, tmpfs) holding all of it: a shorter file would map, and then fault with
 * SIGBUS on the first access past its end, i.e. inside the data path. The mapping starts at
 * the page below offset, *lead bytes before it.
 */
int vbi_vu_map_fd(int fd, uint64_t offset, uint64_t size, int flags, void **map,
		  size_t *map_len, size_t *lead)
{
	long page = sysconf(_SC_PAGESIZE);
	uint64_t pmask = (uint64_t)(page > 0 ? page : 4096) - 1;
	uint64_t start = offset & ~pmask;
	struct stat st;
	void *p;

	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_size < 0)
		return -EINVAL;
	if ((uint64_t)st.st_size < offset || (uint64_t)st.st_size - offset < size)
		return -EINVAL;
	if (size > SIZE_MAX - (offset - start) || start > (uint64_t)INT64_MAX)
		return -EINVAL;
	p = mmap(NULL, (size_t)(size + (offset - start)), PROT_READ | PROT_WRITE,
		 MAP_SHARED | flags, fd, (off_t)start);
	if (p == MAP_FAILED)
		return -ENOMEM;
	*map = p;
	*map_len = (size_t)(size + (offset - start));
	*lead = (size_t)(offset - start);
	return 0;
}

static int map_one(const struct vb_vu_mem_region *r, int fd, struct vbi_vu_map *out)
{
	size_t lead;
	int ret;

	ret = vbi_vu_map_fd(fd, r->mmap_offset, r->size, MAP_NORESERVE, &out->base, &out->len,
			    &lead);
	if (ret == 0)
		out->r = *r;
	return ret;
}

static struct vb_mem_region core_region(const struct vbi_vu_map *mp)
{
	/* map_one() mapped from the page below mmap_offset: the lead is what exceeds size. */
	size_t lead = mp->len - (size_t)mp->r.size;
	struct vb_mem_region cr = {
		.guest_addr = mp->r.guest_addr,
		.size = mp->r.size,
		.ring_addr = mp->r.user_addr,
		.host_ptr = (uint8_t *)mp->base + lead,
		.flags = VB_MEM_F_READ | VB_MEM_F_WRITE | VB_MEM_F_RING_ADDR,
	};

	return cr;
}

/* @satisfy{VB-REQ-VU-005} the new table replaces the old one only if all of it is valid */
int vbi_vu_mem_set_table(struct vbi_vu_mem *m, const struct vb_vu_mem_region *r,
			 const int *fds, uint32_t n)
{
	struct vbi_vu_map maps[VB_VU_MEM_TABLE_MAX];
	struct vb_mem_region check_regions[VB_VU_MEM_TABLE_MAX];
	struct vb_mem check;
	uint32_t i;
	int ret = 0;

	if (n > VB_VU_MEM_TABLE_MAX || n > m->max_slots)
		return -ENOSPC;
	memset(maps, 0, sizeof(maps));
	/* Validate overlaps and wrapping in a scratch map first (vb_mem_add() checks both
	 * address spaces), so that a bad table leaves the old one in place. */
	if (n)
		(void)vb_mem_init(&check, check_regions, n);
	for (i = 0; i < n; i++) {
		struct vb_mem_region cr;

		ret = map_one(&r[i], fds[i], &maps[i]);
		if (ret < 0)
			break;
		cr = core_region(&maps[i]);
		ret = vb_mem_add(&check, &cr);
		if (ret < 0) {
			ret = -EINVAL;
			break;
		}
	}
	if (ret < 0) {
		for (uint32_t j = 0; j <= i && j < n; j++)
			unmap_one(&maps[j]);
		return ret;
	}
	vbi_vu_mem_clear(m);
	for (i = 0; i < n; i++) {
		struct vb_mem_region cr = core_region(&maps[i]);

		m->maps[i] = maps[i];
		(void)vb_mem_add(&m->mem, &cr);	/* validated above */
	}
	m->n_maps = n;
	return 0;
}

int vbi_vu_mem_add(struct vbi_vu_mem *m, const struct vb_vu_mem_region *r, int fd)
{
	struct vbi_vu_map mp;
	struct vb_mem_region cr;
	int ret;

	if (m->n_maps >= m->max_slots)
		return -ENOSPC;
	ret = map_one(r, fd, &mp);
	if (ret < 0)
		return ret;
	cr = core_region(&mp);
	ret = vb_mem_add(&m->mem, &cr);
	if (ret < 0) {
		unmap_one(&mp);
		return ret == -ENOSPC ? -ENOSPC : -EINVAL;
	}
	m->maps[m->n_maps++] = mp;
	return 0;
}

int vbi_vu_mem_remove(struct vbi_vu_mem *m, const struct vb_vu_mem_region *r)
{
	for (uint32_t i = 0; i < m->n_maps; i++) {
		struct vbi_vu_map *mp = &m->maps[i];

		/* vhost-user.rst REM_MEM_REG: identified by guest address, user address and
		 * size; the mmap offset is ignored. */
		if (mp->r.guest_addr != r->guest_addr || mp->r.user_addr != r->user_addr ||
		    mp->r.size != r->size)
			continue;
		(void)vb_mem_remove(&m->mem, r->guest_addr);
		unmap_one(mp);
		m->maps[i] = m->maps[--m->n_maps];
		memset(&m->maps[m->n_maps], 0, sizeof(m->maps[0]));
		return 0;
	}
	return -ENOENT;
}

void vbi_vu_mem_clear(struct vbi_vu_mem *m)
{
	vb_mem_clear(&m->mem);
	for (uint32_t i = 0; i < m->n_maps; i++)
		unmap_one(&m->maps[i]);
	m->n_maps = 0;
}

uint64_t vbi_vu_mem_guest_end(const struct vbi_vu_mem *m)
{
	uint64_t end = 0;

	for (uint32_t i = 0; i < m->n_maps; i++) {
		/* region_ok() in msg.c: guest_addr + size - 1 does not wrap. */
		uint64_t last = m->maps[i].r.guest_addr + (m->maps[i].r.size - 1);

		if (last >= end)
			end = last == UINT64_MAX ? UINT64_MAX : last + 1;
	}
	return end;
}

/* ---- Dirty log (vhost-user.rst "Migration", LOG_SHMFD) ---- */

/* @satisfy{VB-REQ-VU-401} the log is validated, mapped, and replaces the old one */
int vbi_vu_log_set(struct vbi_vu_log *l, const struct vb_vu_log *d, int fd, uint64_t guest_end)
{
	uint64_t pages = guest_end / VB_VU_LOG_PAGE + (guest_end % VB_VU_LOG_PAGE != 0);
	void *p;
	size_t len, lead;
	int ret;

	if (d->mmap_size == 0 || d->mmap_offset > UINT64_MAX - d->mmap_size)
		return -EINVAL;
	/* One bit per page of the guest memory mapped now. */
	if (d->mmap_size < pages / 8 + (pages % 8 != 0))
		return -EINVAL;
	ret = vbi_vu_map_fd(fd, d->mmap_offset, d->mmap_size, 0, &p, &len, &lead);
	if (ret < 0)
		return ret;
	vbi_vu_log_clear(l);
	l->map = p;
	l->map_len = len;
	l->bits = (uint8_t *)p + lead;
	l->len = d->mmap_size;
	return 0;
}

void vbi_vu_log_clear(struct vbi_vu_log *l)
{
	if (l->map)
		munmap(l->map, l->map_len);
	memset(l, 0, sizeof(*l));
}

/* @satisfy{VB-REQ-VU-402} one bit per 4 KiB guest page, set atomically: the front-end
 * clears bits concurrently while it copies pages */
void vbi_vu_log_gpa(struct vbi_vu_log *l, uint64_t gpa, uint64_t len)
{
	uint64_t first, last;

	if (!l->bits || len == 0)
		return;
	first = gpa / VB_VU_LOG_PAGE;
	last = (gpa + (len - 1 < UINT64_MAX - gpa ? len - 1 : UINT64_MAX - gpa)) /
	       VB_VU_LOG_PAGE;
	for (uint64_t pg = first; pg <= last && pg / 8 < l->len; pg++)
		__atomic_fetch_or(&l->bits[pg / 8], (uint8_t)(1u << (pg % 8)), __ATOMIC_RELAXED);
}

void vbi_vu_log_host(struct vbi_vu_log *l, const struct vbi_vu_mem *m, const void *p,
		     size_t len)
{
	uintptr_t a = (uintptr_t)p;

	if (!l->bits || len == 0)
		return;
	/* The core maps a buffer region by region, so an iovec lies inside one mapping. */
	for (uint32_t i = 0; i < m->n_maps; i++) {
		const struct vbi_vu_map *mp = &m->maps[i];
		uintptr_t host = (uintptr_t)mp->base + (mp->len - (size_t)mp->r.size);

		if (vbi_range_inside(a, len, host, mp->r.size)) {
			vbi_vu_log_gpa(l, mp->r.guest_addr + (a - host), len);
			return;
		}
	}
}
