/* SPDX-License-Identifier: MIT */
/*
 * Unit tests of the guest memory map (src/core/mem.c): docs/requirements/MEM.md.
 *
 * Regions are backed by small host arrays; where a test needs an address or size no array
 * can have (the top of the 64-bit space, a 4 GiB region), the region is described but its
 * bytes are never touched: only the returned pointers and lengths are checked.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "virtio-backend/error.h"
#include "virtio-backend/mem.h"

#define RAM_LEN 256u

static uint8_t ram[4][RAM_LEN];

/* Add one region; returns vb_mem_add()'s result. */
static int add(struct vb_mem *m, uint64_t gpa, uint64_t size, void *host, uint32_t flags)
{
	struct vb_mem_region r = {
		.guest_addr = gpa, .size = size, .host_ptr = host, .flags = flags,
	};

	return vb_mem_add(m, &r);
}

/* Add one region with a separate ring address (VB_MEM_F_RING_ADDR). */
static int add_ring(struct vb_mem *m, uint64_t gpa, uint64_t ring, uint64_t size, void *host,
		    uint32_t flags)
{
	struct vb_mem_region r = {
		.guest_addr = gpa, .ring_addr = ring, .size = size, .host_ptr = host,
		.flags = flags | VB_MEM_F_RING_ADDR,
	};

	return vb_mem_add(m, &r);
}

#define RW (VB_MEM_F_READ | VB_MEM_F_WRITE)

/* @verify{VB-REQ-MEM-001} init gives an empty map over the caller's array */
static void test_mem__init_empty_map(void **state)
{
	struct vb_mem_region regs[4];
	struct vb_mem m;
	struct vb_iov iov[1];
	void *p;

	(void)state;
	memset(&m, 0xa5, sizeof(m));
	assert_int_equal(vb_mem_init(&m, regs, 4), 0);
	assert_ptr_equal(m.regions, regs);
	assert_int_equal(m.n_regions, 0);
	assert_int_equal(m.max_regions, 4);
	assert_int_equal(m.generation, 0);
	/* Nothing translates in an empty map. */
	assert_int_equal(vb_mem_map(&m, 0, 1, VB_DIR_DEV_READ, iov, 1), -EFAULT);
	assert_int_equal(vb_mem_map_ring(&m, 0, 1, &p), -EFAULT);
	assert_int_equal(vb_mem_map_contig(&m, 0, 1, VB_DIR_DEV_READ, &p), -EFAULT);
}

/* @verify{VB-REQ-MEM-001} init refuses a NULL map, NULL storage or zero capacity */
static void test_mem__init_rejects_bad_arguments(void **state)
{
	struct vb_mem_region regs[1];
	struct vb_mem m;

	(void)state;
	assert_int_equal(vb_mem_init(NULL, regs, 1), -EINVAL);
	assert_int_equal(vb_mem_init(&m, NULL, 1), -EINVAL);
	assert_int_equal(vb_mem_init(&m, regs, 0), -EINVAL);
}

/* @verify{VB-REQ-MEM-002} @verify{VB-REQ-MEM-015} a region without size, host pointer or
 * access flag is refused and the map (generation included) is unchanged */
static void test_mem__add_rejects_invalid_region(void **state)
{
	struct vb_mem_region regs[4];
	struct vb_mem m;

	(void)state;
	assert_int_equal(vb_mem_init(&m, regs, 4), 0);
	assert_int_equal(add(&m, 0x1000, 0, ram[0], RW), -EINVAL);
	assert_int_equal(add(&m, 0x1000, RAM_LEN, NULL, RW), -EINVAL);
	assert_int_equal(add(&m, 0x1000, RAM_LEN, ram[0], 0), -EINVAL);
	assert_int_equal(add(&m, 0x1000, RAM_LEN, ram[0], VB_MEM_F_RING_ADDR), -EINVAL);
	assert_int_equal(vb_mem_add(&m, NULL), -EINVAL);
	assert_int_equal(m.n_regions, 0);
	assert_int_equal(m.generation, 0);
}

/* @verify{VB-REQ-MEM-003} a buffer inside one region maps to one iovec at the right host
 * offset, and writes through it land in the backing memory */
static void test_mem__map_inside_one_region(void **state)
{
	struct vb_mem_region regs[2];
	struct vb_mem m;
	struct vb_iov iov[4];

	(void)state;
	memset(ram, 0, sizeof(ram));
	assert_int_equal(vb_mem_init(&m, regs, 2), 0);
	assert_int_equal(add(&m, 0x1000, RAM_LEN, ram[0], RW), 0);
	assert_int_equal(vb_mem_map(&m, 0x1010, 32, VB_DIR_DEV_WRITE, iov, 4), 1);
	assert_ptr_equal(iov[0].base, &ram[0][0x10]);
	assert_int_equal(iov[0].len, 32);
	memset(iov[0].base, 0x5a, iov[0].len);
	assert_int_equal(ram[0][0x0f], 0);
	assert_int_equal(ram[0][0x10], 0x5a);
	assert_int_equal(ram[0][0x2f], 0x5a);
	assert_int_equal(ram[0][0x30], 0);
	/* The whole region, first and last byte included. */
	assert_int_equal(vb_mem_map(&m, 0x1000, RAM_LEN, VB_DIR_DEV_READ, iov, 1), 1);
	assert_ptr_equal(iov[0].base, ram[0]);
	assert_int_equal(iov[0].len, RAM_LEN);
	assert_int_equal(vb_mem_map(&m, 0x1000 + RAM_LEN - 1, 1, VB_DIR_DEV_READ, iov, 1), 1);
	assert_ptr_equal(iov[0].base, &ram[0][RAM_LEN - 1]);
}

/* @verify{VB-REQ-MEM-003} buffers outside every region, straddling the end or the start of
 * a region, or spanning a hole between two regions are refused */
static void test_mem__map_rejects_bytes_outside_regions(void **state)
{
	struct vb_mem_region regs[2];
	struct vb_mem m;
	struct vb_iov iov[4];

	(void)state;
	assert_int_equal(vb_mem_init(&m, regs, 2), 0);
	assert_int_equal(add(&m, 0x1000, RAM_LEN, ram[0], RW), 0);
	assert_int_equal(add(&m, 0x1200, RAM_LEN, ram[1], RW), 0);	/* hole 0x1100..0x11ff */
	assert_int_equal(vb_mem_map(&m, 0x0, 16, VB_DIR_DEV_READ, iov, 4), -EFAULT);
	assert_int_equal(vb_mem_map(&m, 0x0fff, 2, VB_DIR_DEV_READ, iov, 4), -EFAULT);
	assert_int_equal(vb_mem_map(&m, 0x10f0, 32, VB_DIR_DEV_READ, iov, 4), -EFAULT);
	assert_int_equal(vb_mem_map(&m, 0x1100, 1, VB_DIR_DEV_READ, iov, 4), -EFAULT);
	assert_int_equal(vb_mem_map(&m, 0x10f0, 0x200, VB_DIR_DEV_READ, iov, 4), -EFAULT);
	assert_int_equal(vb_mem_map(&m, 0x12ff, 2, VB_DIR_DEV_READ, iov, 4), -EFAULT);
	assert_int_equal(vb_mem_map(&m, UINT64_MAX, 1, VB_DIR_DEV_READ, iov, 4), -EFAULT);
}

/* @verify{VB-REQ-MEM-003} a region ending at the last 64-bit address maps its last byte */
static void test_mem__map_top_of_address_space(void **state)
{
	struct vb_mem_region regs[1];
	struct vb_mem m;
	struct vb_iov iov[2];
	void *p;

	(void)state;
	assert_int_equal(vb_mem_init(&m, regs, 1), 0);
	assert_int_equal(add(&m, UINT64_MAX - (RAM_LEN - 1), RAM_LEN, ram[0], RW), 0);
	assert_int_equal(vb_mem_map(&m, UINT64_MAX, 1, VB_DIR_DEV_WRITE, iov, 2), 1);
	assert_ptr_equal(iov[0].base, &ram[0][RAM_LEN - 1]);
	assert_int_equal(iov[0].len, 1);
	assert_int_equal(vb_mem_map(&m, UINT64_MAX - 15, 16, VB_DIR_DEV_READ, iov, 2), 1);
	assert_ptr_equal(iov[0].base, &ram[0][RAM_LEN - 16]);
	assert_int_equal(vb_mem_map_contig(&m, UINT64_MAX - 15, 16, VB_DIR_DEV_READ, &p), 0);
	assert_ptr_equal(p, &ram[0][RAM_LEN - 16]);
	assert_int_equal(vb_mem_map_ring(&m, UINT64_MAX, 1, &p), 0);
	assert_ptr_equal(p, &ram[0][RAM_LEN - 1]);
}

/* @verify{VB-REQ-MEM-003} a length near 4 GiB is translated without truncation */
static void test_mem__map_length_near_4gib(void **state)
{
	struct vb_mem_region regs[1];
	struct vb_mem m;
	struct vb_iov iov[1];

	(void)state;
	if (sizeof(void *) < 8)
		skip();	/* a 4 GiB host range does not fit a 32-bit address space */
	assert_int_equal(vb_mem_init(&m, regs, 1), 0);
	/* Described, never touched: only the iovec is checked. */
	assert_int_equal(add(&m, 0x100000000ull, 0x100000000ull, ram[0], RW), 0);
	assert_int_equal(vb_mem_map(&m, 0x100000000ull, UINT32_MAX, VB_DIR_DEV_READ, iov, 1), 1);
	assert_ptr_equal(iov[0].base, ram[0]);
	assert_int_equal(iov[0].len, UINT32_MAX);
	assert_int_equal(vb_mem_map(&m, 0x100000002ull, UINT32_MAX, VB_DIR_DEV_READ, iov, 1),
			 -EFAULT);
}

/* @verify{VB-REQ-MEM-004} the device may not write a read-only region nor read a
 * write-only one */
static void test_mem__map_enforces_direction(void **state)
{
	struct vb_mem_region regs[2];
	struct vb_mem m;
	struct vb_iov iov[2];

	(void)state;
	assert_int_equal(vb_mem_init(&m, regs, 2), 0);
	assert_int_equal(add(&m, 0x1000, RAM_LEN, ram[0], VB_MEM_F_READ), 0);
	assert_int_equal(add(&m, 0x2000, RAM_LEN, ram[1], VB_MEM_F_WRITE), 0);
	assert_int_equal(vb_mem_map(&m, 0x1000, 8, VB_DIR_DEV_READ, iov, 2), 1);
	assert_int_equal(vb_mem_map(&m, 0x1000, 8, VB_DIR_DEV_WRITE, iov, 2), -EFAULT);
	assert_int_equal(vb_mem_map(&m, 0x2000, 8, VB_DIR_DEV_WRITE, iov, 2), 1);
	assert_int_equal(vb_mem_map(&m, 0x2000, 8, VB_DIR_DEV_READ, iov, 2), -EFAULT);
}

/* @verify{VB-REQ-MEM-004} a buffer whose second piece lies in a region of the wrong
 * direction is refused as a whole */
static void test_mem__map_rejects_wrong_direction_in_second_region(void **state)
{
	struct vb_mem_region regs[2];
	struct vb_mem m;
	struct vb_iov iov[2];

	(void)state;
	assert_int_equal(vb_mem_init(&m, regs, 2), 0);
	assert_int_equal(add(&m, 0x1000, RAM_LEN, ram[0], RW), 0);
	assert_int_equal(add(&m, 0x1000 + RAM_LEN, RAM_LEN, ram[1], VB_MEM_F_READ), 0);
	assert_int_equal(vb_mem_map(&m, 0x1080, RAM_LEN, VB_DIR_DEV_WRITE, iov, 2), -EFAULT);
	assert_int_equal(vb_mem_map(&m, 0x1080, RAM_LEN, VB_DIR_DEV_READ, iov, 2), 2);
}

/* @verify{VB-REQ-MEM-005} map_ring translates ring addresses through ring_addr */
static void test_mem__map_ring_uses_ring_address_space(void **state)
{
	struct vb_mem_region regs[2];
	struct vb_mem m;
	void *p = NULL;

	(void)state;
	assert_int_equal(vb_mem_init(&m, regs, 2), 0);
	assert_int_equal(add_ring(&m, 0x1000, 0x7f0000000000ull, RAM_LEN, ram[0], RW), 0);
	assert_int_equal(vb_mem_map_ring(&m, 0x7f0000000010ull, 64, &p), 0);
	assert_ptr_equal(p, &ram[0][0x10]);
	assert_int_equal(vb_mem_map_ring(&m, 0x7f0000000000ull, RAM_LEN, &p), 0);
	assert_ptr_equal(p, ram[0]);
}

/* @verify{VB-REQ-MEM-005} without VB_MEM_F_RING_ADDR the ring address is the guest
 * address, whatever ring_addr the caller left in the region */
static void test_mem__map_ring_without_ring_flag_uses_guest_address(void **state)
{
	struct vb_mem_region regs[1];
	struct vb_mem_region r = {
		.guest_addr = 0x1000, .ring_addr = 0xdead0000, .size = RAM_LEN,
		.host_ptr = ram[0], .flags = RW,
	};
	struct vb_mem m;
	void *p = NULL;

	(void)state;
	assert_int_equal(vb_mem_init(&m, regs, 1), 0);
	assert_int_equal(vb_mem_add(&m, &r), 0);
	assert_int_equal(vb_mem_map_ring(&m, 0x1020, 16, &p), 0);
	assert_ptr_equal(p, &ram[0][0x20]);
	assert_int_equal(vb_mem_map_ring(&m, 0xdead0000, 16, &p), -EFAULT);
}

/* @verify{VB-REQ-MEM-005} a ring needs one region the device may read and write */
static void test_mem__map_ring_refuses_read_only_region(void **state)
{
	struct vb_mem_region regs[3];
	struct vb_mem m;
	void *p = NULL;

	(void)state;
	assert_int_equal(vb_mem_init(&m, regs, 3), 0);
	assert_int_equal(add(&m, 0x1000, RAM_LEN, ram[0], VB_MEM_F_READ), 0);
	assert_int_equal(add(&m, 0x2000, RAM_LEN, ram[1], VB_MEM_F_WRITE), 0);
	assert_int_equal(add(&m, 0x3000, RAM_LEN, ram[2], RW), 0);
	assert_int_equal(vb_mem_map_ring(&m, 0x1000, 16, &p), -EFAULT);
	assert_int_equal(vb_mem_map_ring(&m, 0x2000, 16, &p), -EFAULT);
	assert_int_equal(vb_mem_map_ring(&m, 0x3000, 16, &p), 0);
	assert_ptr_equal(p, ram[2]);
}

/* @verify{VB-REQ-MEM-005} a ring area crossing from one region into the next, or past the
 * end of its region, is refused even if every byte is mapped */
static void test_mem__map_ring_refuses_area_across_regions(void **state)
{
	struct vb_mem_region regs[2];
	struct vb_mem m;
	void *p = NULL;

	(void)state;
	assert_int_equal(vb_mem_init(&m, regs, 2), 0);
	assert_int_equal(add_ring(&m, 0x1000, 0x8000, RAM_LEN, ram[0], RW), 0);
	assert_int_equal(add_ring(&m, 0x5000, 0x8000 + RAM_LEN, RAM_LEN, ram[1], RW), 0);
	assert_int_equal(vb_mem_map_ring(&m, 0x8000 + RAM_LEN - 8, 16, &p), -EFAULT);
	assert_int_equal(vb_mem_map_ring(&m, 0x8000 + 2 * RAM_LEN - 8, 16, &p), -EFAULT);
	assert_int_equal(vb_mem_map_ring(&m, 0x8000 + RAM_LEN, 16, &p), 0);
	assert_ptr_equal(p, ram[1]);
}

/* @verify{VB-REQ-MEM-006} map_contig gives one pointer for an area inside one region */
static void test_mem__map_contig_inside_region(void **state)
{
	struct vb_mem_region regs[1];
	struct vb_mem m;
	void *p = NULL;

	(void)state;
	assert_int_equal(vb_mem_init(&m, regs, 1), 0);
	assert_int_equal(add(&m, 0x1000, RAM_LEN, ram[0], VB_MEM_F_READ), 0);
	assert_int_equal(vb_mem_map_contig(&m, 0x1040, 0x40, VB_DIR_DEV_READ, &p), 0);
	assert_ptr_equal(p, &ram[0][0x40]);
	assert_int_equal(vb_mem_map_contig(&m, 0x1000, RAM_LEN, VB_DIR_DEV_READ, &p), 0);
	assert_ptr_equal(p, ram[0]);
}

/* @verify{VB-REQ-MEM-006} map_contig refuses areas across regions, past a region's end
 * (64-bit lengths included) or in a region of the wrong direction */
static void test_mem__map_contig_refuses_split_or_wrong_direction(void **state)
{
	struct vb_mem_region regs[2];
	struct vb_mem m;
	void *p = NULL;

	(void)state;
	assert_int_equal(vb_mem_init(&m, regs, 2), 0);
	assert_int_equal(add(&m, 0x1000, RAM_LEN, ram[0], VB_MEM_F_READ), 0);
	assert_int_equal(add(&m, 0x1000 + RAM_LEN, RAM_LEN, ram[1], VB_MEM_F_READ), 0);
	assert_int_equal(vb_mem_map_contig(&m, 0x1000 + RAM_LEN - 16, 32, VB_DIR_DEV_READ, &p),
			 -EFAULT);
	assert_int_equal(vb_mem_map_contig(&m, 0x1000, 1ull << 33, VB_DIR_DEV_READ, &p),
			 -EFAULT);
	assert_int_equal(vb_mem_map_contig(&m, 0x1000, 16, VB_DIR_DEV_WRITE, &p), -EFAULT);
	assert_int_equal(vb_mem_map_contig(&m, 0x0, 16, VB_DIR_DEV_READ, &p), -EFAULT);
}

/* @verify{VB-REQ-MEM-007} buffer translation ignores ring addresses and ring translation
 * ignores guest addresses */
static void test_mem__ring_and_buffer_address_spaces_are_separate(void **state)
{
	struct vb_mem_region regs[1];
	struct vb_mem m;
	struct vb_iov iov[2];
	void *p = NULL;

	(void)state;
	assert_int_equal(vb_mem_init(&m, regs, 1), 0);
	assert_int_equal(add_ring(&m, 0x1000, 0x7f0000000000ull, RAM_LEN, ram[0], RW), 0);
	/* A frontend virtual address is not a buffer address... */
	assert_int_equal(vb_mem_map(&m, 0x7f0000000000ull, 16, VB_DIR_DEV_READ, iov, 2),
			 -EFAULT);
	assert_int_equal(vb_mem_map_contig(&m, 0x7f0000000000ull, 16, VB_DIR_DEV_READ, &p),
			 -EFAULT);
	/* ...and a guest physical address is not a ring address. */
	assert_int_equal(vb_mem_map_ring(&m, 0x1000, 16, &p), -EFAULT);
	/* Both name the same host bytes. */
	assert_int_equal(vb_mem_map(&m, 0x1010, 16, VB_DIR_DEV_READ, iov, 2), 1);
	assert_int_equal(vb_mem_map_ring(&m, 0x7f0000000010ull, 16, &p), 0);
	assert_ptr_equal(iov[0].base, p);
}

/* @verify{VB-REQ-MEM-008} @verify{VB-REQ-MEM-015} a region whose guest, ring or host range
 * wraps is refused; one ending exactly at the top is accepted */
static void test_mem__add_rejects_wrapping_ranges(void **state)
{
	struct vb_mem_region regs[4];
	struct vb_mem m;
	void *top = (void *)(UINTPTR_MAX - 15);

	(void)state;
	assert_int_equal(vb_mem_init(&m, regs, 4), 0);
	assert_int_equal(add(&m, UINT64_MAX - 15, 17, ram[0], RW), -EOVERFLOW);
	assert_int_equal(add_ring(&m, 0x1000, UINT64_MAX - 15, 17, ram[0], RW), -EOVERFLOW);
	assert_int_equal(add(&m, 0x1000, 17, top, RW), -EOVERFLOW);
	assert_int_equal(m.n_regions, 0);
	assert_int_equal(m.generation, 0);
	assert_int_equal(add(&m, UINT64_MAX - 15, 16, ram[0], RW), 0);
	assert_int_equal(add_ring(&m, 0x1000, UINT64_MAX - 31, 16, ram[1], RW), 0);
	assert_int_equal(add(&m, 0x2000, 16, top, RW), 0);
	assert_int_equal(m.n_regions, 3);
}

/* @verify{VB-REQ-MEM-009} @verify{VB-REQ-MEM-015} a region sharing any guest address with
 * another is refused; adjacent regions are accepted */
static void test_mem__add_rejects_guest_overlap(void **state)
{
	struct vb_mem_region regs[4];
	struct vb_mem m;

	(void)state;
	assert_int_equal(vb_mem_init(&m, regs, 4), 0);
	assert_int_equal(add(&m, 0x1000, 0x1000, ram[0], RW), 0);
	assert_int_equal(m.generation, 1);
	assert_int_equal(add(&m, 0x1000, 0x1000, ram[1], RW), -EINVAL);	/* same */
	assert_int_equal(add(&m, 0x1800, 0x1000, ram[1], RW), -EINVAL);	/* tail */
	assert_int_equal(add(&m, 0x0800, 0x0801, ram[1], RW), -EINVAL);	/* first byte */
	assert_int_equal(add(&m, 0x1fff, 1, ram[1], RW), -EINVAL);		/* last byte */
	assert_int_equal(add(&m, 0x1100, 0x10, ram[1], RW), -EINVAL);		/* inside */
	assert_int_equal(add(&m, 0x0, 0x10000, ram[1], RW), -EINVAL);	/* around */
	assert_int_equal(m.n_regions, 1);
	assert_int_equal(m.generation, 1);
	assert_int_equal(add(&m, 0x2000, 0x1000, ram[1], RW), 0);	/* adjacent above */
	assert_int_equal(add(&m, 0x0000, 0x1000, ram[2], RW), 0);	/* adjacent below */
	assert_int_equal(m.n_regions, 3);
}

/* @verify{VB-REQ-MEM-009} ring ranges may not overlap either, counting a region without
 * VB_MEM_F_RING_ADDR as having its guest range as ring range */
static void test_mem__add_rejects_ring_overlap(void **state)
{
	struct vb_mem_region regs[4];
	struct vb_mem m;

	(void)state;
	assert_int_equal(vb_mem_init(&m, regs, 4), 0);
	assert_int_equal(add_ring(&m, 0x1000, 0x7f0000000000ull, 0x1000, ram[0], RW), 0);
	assert_int_equal(add_ring(&m, 0x9000, 0x7f0000000800ull, 0x1000, ram[1], RW), -EINVAL);
	assert_int_equal(add(&m, 0x7f0000000fffull, 0x10, ram[1], RW), -EINVAL);
	assert_int_equal(m.n_regions, 1);
	assert_int_equal(add_ring(&m, 0x9000, 0x7f0000001000ull, 0x1000, ram[1], RW), 0);
}

/* @verify{VB-REQ-MEM-010} @verify{VB-REQ-MEM-015} a full map refuses another region and
 * is unchanged; removing one makes room */
static void test_mem__add_to_full_map_returns_enospc(void **state)
{
	struct vb_mem_region regs[2];
	struct vb_mem m;
	struct vb_iov iov[1];

	(void)state;
	assert_int_equal(vb_mem_init(&m, regs, 2), 0);
	assert_int_equal(add(&m, 0x1000, RAM_LEN, ram[0], RW), 0);
	assert_int_equal(add(&m, 0x2000, RAM_LEN, ram[1], RW), 0);
	assert_int_equal(add(&m, 0x3000, RAM_LEN, ram[2], RW), -ENOSPC);
	assert_int_equal(m.n_regions, 2);
	assert_int_equal(m.generation, 2);
	assert_int_equal(vb_mem_map(&m, 0x3000, 1, VB_DIR_DEV_READ, iov, 1), -EFAULT);
	assert_int_equal(vb_mem_remove(&m, 0x1000), 0);
	assert_int_equal(add(&m, 0x3000, RAM_LEN, ram[2], RW), 0);
	assert_int_equal(vb_mem_map(&m, 0x3000, 1, VB_DIR_DEV_READ, iov, 1), 1);
	assert_ptr_equal(iov[0].base, ram[2]);
}

/* @verify{VB-REQ-MEM-011} a buffer across two adjacent regions becomes two iovecs, in
 * address order, each ending at its region's edge */
static void test_mem__map_splits_across_adjacent_regions(void **state)
{
	struct vb_mem_region regs[2];
	struct vb_mem m;
	struct vb_iov iov[4];

	(void)state;
	assert_int_equal(vb_mem_init(&m, regs, 2), 0);
	/* Guest-contiguous, host-discontiguous (and in reverse host order). */
	assert_int_equal(add(&m, 0x1000 + RAM_LEN, RAM_LEN, ram[0], RW), 0);
	assert_int_equal(add(&m, 0x1000, RAM_LEN, ram[3], RW), 0);
	assert_int_equal(vb_mem_map(&m, 0x1000 + RAM_LEN - 16, 48, VB_DIR_DEV_READ, iov, 4), 2);
	assert_ptr_equal(iov[0].base, &ram[3][RAM_LEN - 16]);
	assert_int_equal(iov[0].len, 16);
	assert_ptr_equal(iov[1].base, ram[0]);
	assert_int_equal(iov[1].len, 32);
}

/* @verify{VB-REQ-MEM-011} with one-byte regions every byte of a buffer is its own iovec */
static void test_mem__map_one_byte_regions_split_every_byte(void **state)
{
	struct vb_mem_region regs[16];
	struct vb_mem m;
	struct vb_iov iov[16];

	(void)state;
	assert_int_equal(vb_mem_init(&m, regs, 16), 0);
	for (unsigned int i = 0; i < 16; i++)	/* guest byte i lives at host byte 15 - i */
		assert_int_equal(add(&m, 0x1000 + i, 1, &ram[0][15 - i], RW), 0);
	assert_int_equal(vb_mem_map(&m, 0x1000, 16, VB_DIR_DEV_WRITE, iov, 16), 16);
	for (unsigned int i = 0; i < 16; i++) {
		assert_ptr_equal(iov[i].base, &ram[0][15 - i]);
		assert_int_equal(iov[i].len, 1);
	}
	assert_int_equal(vb_mem_map(&m, 0x1003, 5, VB_DIR_DEV_READ, iov, 16), 5);
	assert_ptr_equal(iov[0].base, &ram[0][12]);
	assert_ptr_equal(iov[4].base, &ram[0][8]);
}

/* @verify{VB-REQ-MEM-012} a buffer needing more iovecs than the caller gave is refused */
static void test_mem__map_short_iov_storage_returns_e2big(void **state)
{
	struct vb_mem_region regs[16];
	struct vb_mem m;
	struct vb_iov iov[16];

	(void)state;
	assert_int_equal(vb_mem_init(&m, regs, 16), 0);
	for (unsigned int i = 0; i < 16; i++)
		assert_int_equal(add(&m, 0x1000 + i, 1, &ram[0][i], RW), 0);
	assert_int_equal(vb_mem_map(&m, 0x1000, 16, VB_DIR_DEV_READ, iov, 15), -E2BIG);
	assert_int_equal(vb_mem_map(&m, 0x1000, 2, VB_DIR_DEV_READ, iov, 1), -E2BIG);
	assert_int_equal(vb_mem_map(&m, 0x1000, 1, VB_DIR_DEV_READ, iov, 0), -E2BIG);
	assert_int_equal(vb_mem_map(&m, 0x1000, 1, VB_DIR_DEV_READ, iov, 1), 1);
}

/* @verify{VB-REQ-MEM-013} a zero length is a caller error for every translation */
static void test_mem__zero_length_returns_einval(void **state)
{
	struct vb_mem_region regs[1];
	struct vb_mem m;
	struct vb_iov iov[1];
	void *p = NULL;

	(void)state;
	assert_int_equal(vb_mem_init(&m, regs, 1), 0);
	assert_int_equal(add(&m, 0x1000, RAM_LEN, ram[0], RW), 0);
	assert_int_equal(vb_mem_map(&m, 0x1000, 0, VB_DIR_DEV_READ, iov, 1), -EINVAL);
	assert_int_equal(vb_mem_map_ring(&m, 0x1000, 0, &p), -EINVAL);
	assert_int_equal(vb_mem_map_contig(&m, 0x1000, 0, VB_DIR_DEV_READ, &p), -EINVAL);
}

/* @verify{VB-REQ-MEM-014} address + length wrapping 64 bits is refused before any lookup,
 * even when the bytes below the top are mapped */
static void test_mem__map_rejects_wrapping_buffer(void **state)
{
	struct vb_mem_region regs[2];
	struct vb_mem m;
	struct vb_iov iov[4];
	void *p = NULL;

	(void)state;
	assert_int_equal(vb_mem_init(&m, regs, 2), 0);
	assert_int_equal(add(&m, UINT64_MAX - (RAM_LEN - 1), RAM_LEN, ram[0], RW), 0);
	assert_int_equal(add(&m, 0x0, RAM_LEN, ram[1], RW), 0);	/* where a wrap would land */
	assert_int_equal(vb_mem_map(&m, UINT64_MAX - 3, 8, VB_DIR_DEV_READ, iov, 4),
			 -EOVERFLOW);
	assert_int_equal(vb_mem_map(&m, UINT64_MAX, 2, VB_DIR_DEV_READ, iov, 4), -EOVERFLOW);
	assert_int_equal(vb_mem_map(&m, UINT64_MAX, UINT32_MAX, VB_DIR_DEV_READ, iov, 4),
			 -EOVERFLOW);
	assert_int_equal(vb_mem_map_ring(&m, UINT64_MAX, 2, &p), -EOVERFLOW);
	assert_int_equal(vb_mem_map_ring(&m, 2, UINT64_MAX, &p), -EOVERFLOW);
	assert_int_equal(vb_mem_map_contig(&m, UINT64_MAX - 3, 8, VB_DIR_DEV_READ, &p),
			 -EOVERFLOW);
	assert_int_equal(vb_mem_map_contig(&m, 2, UINT64_MAX, VB_DIR_DEV_READ, &p),
			 -EOVERFLOW);
}

/* @verify{VB-REQ-MEM-015} every successful add, remove and clear bumps the generation */
static void test_mem__generation_bumped_by_add_remove_clear(void **state)
{
	struct vb_mem_region regs[2];
	struct vb_mem m;
	uint32_t gen;

	(void)state;
	assert_int_equal(vb_mem_init(&m, regs, 2), 0);
	gen = m.generation;
	assert_int_equal(add(&m, 0x1000, RAM_LEN, ram[0], RW), 0);
	assert_int_equal(m.generation, gen + 1);
	assert_int_equal(add(&m, 0x2000, RAM_LEN, ram[1], RW), 0);
	assert_int_equal(m.generation, gen + 2);
	assert_int_equal(vb_mem_remove(&m, 0x1000), 0);
	assert_int_equal(m.generation, gen + 3);
	assert_int_equal(vb_mem_remove(&m, 0x1000), -EINVAL);
	assert_int_equal(m.generation, gen + 3);
	vb_mem_clear(&m);
	assert_int_equal(m.generation, gen + 4);
	/* Clearing an empty map still tells iovec holders that the map was touched. */
	vb_mem_clear(&m);
	assert_int_equal(m.generation, gen + 5);
}

/* @verify{VB-REQ-MEM-016} removing a region by its first guest address unmaps exactly it;
 * any other address is refused and changes nothing */
static void test_mem__remove_region(void **state)
{
	struct vb_mem_region regs[3];
	struct vb_mem m;
	struct vb_iov iov[1];

	(void)state;
	assert_int_equal(vb_mem_init(&m, regs, 3), 0);
	assert_int_equal(vb_mem_remove(&m, 0x1000), -EINVAL);	/* empty map */
	assert_int_equal(add(&m, 0x1000, RAM_LEN, ram[0], RW), 0);
	assert_int_equal(add(&m, 0x2000, RAM_LEN, ram[1], RW), 0);
	assert_int_equal(add(&m, 0x3000, RAM_LEN, ram[2], RW), 0);
	assert_int_equal(vb_mem_remove(&m, 0x2001), -EINVAL);	/* inside, not the start */
	assert_int_equal(m.n_regions, 3);
	assert_int_equal(vb_mem_remove(&m, 0x2000), 0);
	assert_int_equal(m.n_regions, 2);
	assert_int_equal(vb_mem_map(&m, 0x2000, 1, VB_DIR_DEV_READ, iov, 1), -EFAULT);
	assert_int_equal(vb_mem_map(&m, 0x1000, 1, VB_DIR_DEV_READ, iov, 1), 1);
	assert_ptr_equal(iov[0].base, ram[0]);
	assert_int_equal(vb_mem_map(&m, 0x3000, 1, VB_DIR_DEV_READ, iov, 1), 1);
	assert_ptr_equal(iov[0].base, ram[2]);
}

/* @verify{VB-REQ-MEM-016} clear unmaps every region and restores the full capacity */
static void test_mem__clear_removes_every_region(void **state)
{
	struct vb_mem_region regs[2];
	struct vb_mem m;
	struct vb_iov iov[1];
	void *p = NULL;

	(void)state;
	assert_int_equal(vb_mem_init(&m, regs, 2), 0);
	assert_int_equal(add(&m, 0x1000, RAM_LEN, ram[0], RW), 0);
	assert_int_equal(add_ring(&m, 0x2000, 0x9000, RAM_LEN, ram[1], RW), 0);
	vb_mem_clear(&m);
	assert_int_equal(m.n_regions, 0);
	assert_int_equal(vb_mem_map(&m, 0x1000, 1, VB_DIR_DEV_READ, iov, 1), -EFAULT);
	assert_int_equal(vb_mem_map_ring(&m, 0x9000, 1, &p), -EFAULT);
	assert_int_equal(add(&m, 0x1000, RAM_LEN, ram[2], RW), 0);
	assert_int_equal(add(&m, 0x2000, RAM_LEN, ram[3], RW), 0);
	assert_int_equal(vb_mem_map(&m, 0x1000, 1, VB_DIR_DEV_READ, iov, 1), 1);
	assert_ptr_equal(iov[0].base, ram[2]);
}

/* A fault handler that maps RAM_LEN-byte "pages" of ram[] at their guest address on demand,
 * like Xen's foreign map cache, and records its calls. */
struct fault_log {
	struct vb_mem *m;
	unsigned int calls;
	uint64_t addr, len;
	uint32_t need, flags;
	int ret;		/* what to answer; 0 also maps */
	bool map_nothing;	/* answer 0 without mapping (a broken handler) */
	bool map_span;		/* map [addr, addr + len) as one region (contiguous faults) */
};

static int fault_handler(void *ctx, uint64_t addr, uint64_t len, uint32_t need, uint32_t flags)
{
	struct fault_log *f = ctx;
	uint64_t page = addr / RAM_LEN;

	f->calls++;
	f->addr = addr;
	f->len = len;
	f->need = need;
	f->flags = flags;
	if (f->ret || f->map_nothing)
		return f->ret;
	if (f->map_span) {
		/* ram[] rows are contiguous: one region over the pages the area spans. */
		uint64_t last = (addr + len - 1) / RAM_LEN;

		for (uint64_t p = page; p <= last; p++)
			(void)vb_mem_remove(f->m, p * RAM_LEN);
		return add(f->m, page * RAM_LEN, (last - page + 1) * RAM_LEN, ram[page],
			   VB_MEM_F_READ | VB_MEM_F_WRITE);
	}
	return add(f->m, page * RAM_LEN, RAM_LEN, ram[page], VB_MEM_F_READ | VB_MEM_F_WRITE);
}

/* @verify{VB-REQ-MEM-017} */
static void test_mem__fault_handler_maps_on_demand(void **state)
{
	struct vb_mem_region regions[8];
	struct fault_log f = { 0 };
	struct vb_mem m;
	struct vb_iov iov[4];
	void *p;

	(void)state;
	assert_int_equal(vb_mem_init(&m, regions, 8), 0);
	assert_null(m.fault);
	f.m = &m;
	vb_mem_set_fault(&m, fault_handler, &f);

	/* A buffer over two unmapped pages: one call per missing page, then one iovec each. */
	assert_int_equal(vb_mem_map(&m, RAM_LEN - 16, 32, VB_DIR_DEV_WRITE, iov, 4), 2);
	assert_int_equal(f.calls, 2);
	assert_int_equal(f.addr, RAM_LEN);	/* the second call: the rest of the buffer */
	assert_int_equal(f.len, 16);
	assert_int_equal(f.need, VB_MEM_F_WRITE);
	assert_int_equal(f.flags, 0);
	assert_ptr_equal(iov[0].base, &ram[0][RAM_LEN - 16]);
	assert_ptr_equal(iov[1].base, &ram[1][0]);
	/* Mapped now: no more calls. */
	assert_int_equal(vb_mem_map(&m, 8, 8, VB_DIR_DEV_READ, iov, 4), 1);
	assert_int_equal(f.calls, 2);

	/* A contiguous area across the two regions: one call asking for one region. */
	f.map_span = true;
	assert_int_equal(vb_mem_map_contig(&m, RAM_LEN - 8, 16, VB_DIR_DEV_READ, &p), 0);
	assert_int_equal(f.calls, 3);
	assert_int_equal(f.flags, VB_MEM_FAULT_CONTIG);
	assert_ptr_equal(p, &ram[0][RAM_LEN - 8]);
	/* Ring space says so. */
	assert_int_equal(vb_mem_map_ring(&m, 3 * RAM_LEN, 16, &p), 0);
	assert_int_equal(f.flags, VB_MEM_FAULT_CONTIG | VB_MEM_FAULT_RING);
	assert_int_equal(f.need, VB_MEM_F_READ | VB_MEM_F_WRITE);
	assert_ptr_equal(p, &ram[3][0]);
}

/* @verify{VB-REQ-MEM-017} */
static void test_mem__fault_handler_errors_stay_faults(void **state)
{
	struct vb_mem_region regions[8];
	struct fault_log f = { 0 };
	struct vb_mem m;
	struct vb_iov iov[4];
	void *p;

	(void)state;
	assert_int_equal(vb_mem_init(&m, regions, 8), 0);
	f.m = &m;
	vb_mem_set_fault(&m, fault_handler, &f);

	/* The handler refuses: the translation fails as if there were none. */
	f.ret = -ENOMEM;
	assert_int_equal(vb_mem_map(&m, 0, 8, VB_DIR_DEV_READ, iov, 4), -EFAULT);
	assert_int_equal(vb_mem_map_contig(&m, 0, 8, VB_DIR_DEV_READ, &p), -EFAULT);
	assert_int_equal(vb_mem_map_ring(&m, 0, 8, &p), -EFAULT);
	assert_int_equal(f.calls, 3);

	/* A handler that says yes and maps nothing is asked once per piece, never looped. */
	f.ret = 0;
	f.map_nothing = true;
	f.calls = 0;
	assert_int_equal(vb_mem_map(&m, 0, 8, VB_DIR_DEV_READ, iov, 4), -EFAULT);
	assert_int_equal(vb_mem_map_contig(&m, 0, 8, VB_DIR_DEV_READ, &p), -EFAULT);
	assert_int_equal(f.calls, 2);

	/* A region that lacks the access is a permission fault: the handler is not asked. */
	f.map_nothing = false;
	f.calls = 0;
	assert_int_equal(add(&m, 0, RAM_LEN, ram[0], VB_MEM_F_READ), 0);
	assert_int_equal(vb_mem_map(&m, 0, 8, VB_DIR_DEV_WRITE, iov, 4), -EFAULT);
	assert_int_equal(vb_mem_map_contig(&m, 0, 8, VB_DIR_DEV_WRITE, &p), -EFAULT);
	assert_int_equal(f.calls, 0);
	/* Wrapping is decided before any handler call. */
	assert_int_equal(vb_mem_map(&m, UINT64_MAX - 3, 8, VB_DIR_DEV_READ, iov, 4), -EOVERFLOW);
	assert_int_equal(f.calls, 0);
	/* Cleared: misses fail at once. */
	vb_mem_set_fault(&m, NULL, NULL);
	assert_int_equal(vb_mem_map(&m, 2 * RAM_LEN, 8, VB_DIR_DEV_READ, iov, 4), -EFAULT);
	assert_int_equal(f.calls, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_mem__init_empty_map),
		cmocka_unit_test(test_mem__init_rejects_bad_arguments),
		cmocka_unit_test(test_mem__add_rejects_invalid_region),
		cmocka_unit_test(test_mem__map_inside_one_region),
		cmocka_unit_test(test_mem__map_rejects_bytes_outside_regions),
		cmocka_unit_test(test_mem__map_top_of_address_space),
		cmocka_unit_test(test_mem__map_length_near_4gib),
		cmocka_unit_test(test_mem__map_enforces_direction),
		cmocka_unit_test(test_mem__map_rejects_wrong_direction_in_second_region),
		cmocka_unit_test(test_mem__map_ring_uses_ring_address_space),
		cmocka_unit_test(test_mem__map_ring_without_ring_flag_uses_guest_address),
		cmocka_unit_test(test_mem__map_ring_refuses_read_only_region),
		cmocka_unit_test(test_mem__map_ring_refuses_area_across_regions),
		cmocka_unit_test(test_mem__map_contig_inside_region),
		cmocka_unit_test(test_mem__map_contig_refuses_split_or_wrong_direction),
		cmocka_unit_test(test_mem__ring_and_buffer_address_spaces_are_separate),
		cmocka_unit_test(test_mem__add_rejects_wrapping_ranges),
		cmocka_unit_test(test_mem__add_rejects_guest_overlap),
		cmocka_unit_test(test_mem__add_rejects_ring_overlap),
		cmocka_unit_test(test_mem__add_to_full_map_returns_enospc),
		cmocka_unit_test(test_mem__map_splits_across_adjacent_regions),
		cmocka_unit_test(test_mem__map_one_byte_regions_split_every_byte),
		cmocka_unit_test(test_mem__map_short_iov_storage_returns_e2big),
		cmocka_unit_test(test_mem__zero_length_returns_einval),
		cmocka_unit_test(test_mem__map_rejects_wrapping_buffer),
		cmocka_unit_test(test_mem__generation_bumped_by_add_remove_clear),
		cmocka_unit_test(test_mem__remove_region),
		cmocka_unit_test(test_mem__clear_removes_every_region),
		cmocka_unit_test(test_mem__fault_handler_maps_on_demand),
		cmocka_unit_test(test_mem__fault_handler_errors_stay_faults),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
