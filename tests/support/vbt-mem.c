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

_Noreturn void vbt_die(const char *why)
{
	fprintf(stderr, "vbt-mem: %s\n", why);
	abort();
}

int vbt_guest_init(struct vbt_guest *g, uint64_t gpa, size_t size, size_t region_size)
{
	size_t page = (size_t)sysconf(_SC_PAGESIZE);
	size_t body = (size + page - 1) / page * page;
	uint8_t *m;

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
	return vbt_guest_describe(g, gpa, size, region_size);
}

void vbt_guest_fini(struct vbt_guest *g)
{
	if (g->mapping)
		munmap(g->mapping, g->mapping_len);
	memset(g, 0, sizeof(*g));
}
