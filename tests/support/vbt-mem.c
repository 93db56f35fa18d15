/* SPDX-License-Identifier: MIT */
/* mmap flags (MAP_ANONYMOUS) are POSIX extensions hidden by -std=c11. */
#define _DEFAULT_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "virtio-backend/error.h"
#include "vbt-mem.h"

static void die(const char *why)
{
	fprintf(stderr, "vbt-mem: %s\n", why);
	abort();
}

int vbt_guest_init(struct vbt_guest *g, uint64_t gpa, size_t size, size_t region_size)
{
	size_t page = (size_t)sysconf(_SC_PAGESIZE);
	size_t body = (size + page - 1) / page * page;
	uint8_t *m;
	int ret;

	memset(g, 0, sizeof(*g));
	if (size == 0)
		return -EINVAL;
	if (region_size && (size + region_size - 1) / region_size > VBT_MAX_REGIONS)
		return -E2BIG;
	g->mapping_len = body + 2 * page;
	m = mmap(NULL, g->mapping_len, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (m == MAP_FAILED)
		return -ENOSPC;
	/* Guard pages stay PROT_NONE; the guest ends exactly at the end of the body so that
	 * a one-byte overrun of the last region faults (the body is placed flush right). */
	if (mprotect(m + page, body, PROT_READ | PROT_WRITE) != 0) {
		munmap(m, g->mapping_len);
		return -ENOSPC;
	}
	g->mapping = m;
	/* Flush right but 16-byte aligned, so ring areas keep their alignment in the host. */
	g->base = m + page + ((body - size) & ~(size_t)15);
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

void vbt_guest_fini(struct vbt_guest *g)
{
	if (g->mapping)
		munmap(g->mapping, g->mapping_len);
	memset(g, 0, sizeof(*g));
}

uint64_t vbt_guest_alloc(struct vbt_guest *g, size_t len, size_t align)
{
	uint64_t off = (g->next + align - 1) & ~(uint64_t)(align - 1);

	if (len > g->size || off > g->size - len)
		die("fake guest memory exhausted");
	g->next = off + len;
	memset(g->base + off, 0, len);
	return g->gpa + off;
}

void *vbt_guest_ptr(struct vbt_guest *g, uint64_t gpa)
{
	if (gpa < g->gpa || gpa - g->gpa >= g->size)
		die("guest address outside the fake guest");
	return g->base + (gpa - g->gpa);
}

void vbt_guest_set_region_flags(struct vbt_guest *g, unsigned int idx, uint32_t flags)
{
	if (idx >= g->mem.n_regions)
		die("no such region");
	g->regions[idx].flags = flags;
}
