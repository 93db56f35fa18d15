/* SPDX-License-Identifier: MIT */
/*
 * Unit tests of the chain helpers (src/core/chain.c): docs/requirements/CHAIN.md.
 *
 * Chains are built by hand over a small "guest" array, split into uneven pieces (and
 * one-byte pieces, and empty ones) so that every copy crosses iovec boundaries.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "virtio-backend/chain.h"
#include "virtio-backend/error.h"

#define GUEST_LEN 64u

static uint8_t guest[GUEST_LEN];

/* Fill the guest with its own offsets: byte i holds i. */
static void guest_fill(void)
{
	for (unsigned int i = 0; i < GUEST_LEN; i++)
		guest[i] = (uint8_t)i;
}

static size_t iov_total(const struct vb_iov *iov, unsigned int n)
{
	size_t t = 0;

	for (unsigned int i = 0; i < n; i++)
		t += iov[i].len;
	return t;
}

/* Set the readable and writable parts of a chain (lengths from the iovecs). */
static void chain_set(struct vb_chain *c, uint16_t n_read, uint16_t n_write)
{
	c->n_read = n_read;
	c->n_write = n_write;
	c->read_len = (uint32_t)iov_total(c->read, n_read);
	c->write_len = (uint32_t)iov_total(c->write, n_write);
}

/* Readable part: guest[0..16) as pieces of 3, 5 and 8 bytes; writable: guest[32..48) as
 * 1, 7 and 8 bytes. */
#define STD_CHAIN(rd, wr, c)						\
	struct vb_iov rd[4] = {						\
		{ &guest[0], 3 }, { &guest[3], 5 }, { &guest[8], 8 },	\
	};								\
	struct vb_iov wr[4] = {						\
		{ &guest[32], 1 }, { &guest[33], 7 }, { &guest[40], 8 },	\
	};								\
	struct vb_chain c = VB_CHAIN_INIT(rd, wr);			\
	chain_set(&c, 3, 3)

/* @verify{VB-REQ-CHAIN-001} a read copies exactly [off, off + len) across iovec boundaries */
static void test_chain__read_copies_across_iovecs(void **state)
{
	STD_CHAIN(rd, wr, c);
	uint8_t buf[16];

	(void)state;
	guest_fill();
	memset(buf, 0xee, sizeof(buf));
	assert_int_equal(vb_chain_read(&c, 0, buf, 16), 16);
	assert_memory_equal(buf, &guest[0], 16);
	memset(buf, 0xee, sizeof(buf));
	assert_int_equal(vb_chain_read(&c, 2, buf, 7), 7);	/* starts in piece 0, ends in 2 */
	assert_memory_equal(buf, &guest[2], 7);
	assert_int_equal(buf[7], 0xee);
	assert_int_equal(vb_chain_read(&c, 15, buf, 1), 1);
	assert_int_equal(buf[0], 15);
	assert_int_equal(vb_chain_read(&c, 16, buf, 0), 0);	/* empty read at the end */
}

/* @verify{VB-REQ-CHAIN-001} a read over sixteen one-byte iovecs gathers every byte */
static void test_chain__read_one_byte_iovecs(void **state)
{
	struct vb_iov rd[16], wr[1];
	struct vb_chain c = VB_CHAIN_INIT(rd, wr);
	uint8_t buf[16];

	(void)state;
	guest_fill();
	for (unsigned int i = 0; i < 16; i++) {	/* chain byte i is guest byte 15 - i */
		rd[i].base = &guest[15 - i];
		rd[i].len = 1;
	}
	chain_set(&c, 16, 0);
	assert_int_equal(vb_chain_read(&c, 0, buf, 16), 16);
	for (unsigned int i = 0; i < 16; i++)
		assert_int_equal(buf[i], 15 - i);
}

/* @verify{VB-REQ-CHAIN-001} a read beyond the readable part fails and copies nothing */
static void test_chain__read_past_end_returns_ebadmsg(void **state)
{
	STD_CHAIN(rd, wr, c);
	uint8_t buf[32], zero[32];

	(void)state;
	guest_fill();
	memset(buf, 0, sizeof(buf));
	memset(zero, 0, sizeof(zero));
	assert_int_equal(vb_chain_read(&c, 0, buf, 17), -EBADMSG);
	assert_int_equal(vb_chain_read(&c, 10, buf, 7), -EBADMSG);
	assert_int_equal(vb_chain_read(&c, 17, buf, 0), -EBADMSG);
	/* The writable part is not readable: reading on into it is refused. */
	assert_int_equal(vb_chain_read(&c, 0, buf, 32), -EBADMSG);
	assert_memory_equal(buf, zero, sizeof(buf));
}

/* @verify{VB-REQ-CHAIN-001} offsets and lengths near SIZE_MAX do not wrap the range check */
static void test_chain__read_huge_offset_does_not_wrap(void **state)
{
	STD_CHAIN(rd, wr, c);
	uint8_t buf[4] = { 0 };

	(void)state;
	assert_int_equal(vb_chain_read(&c, SIZE_MAX, buf, 2), -EBADMSG);
	assert_int_equal(vb_chain_read(&c, 1, buf, SIZE_MAX), -EBADMSG);
	assert_int_equal(vb_chain_read(&c, SIZE_MAX, buf, SIZE_MAX), -EBADMSG);
	assert_int_equal(buf[0], 0);
}

/* @verify{VB-REQ-CHAIN-001} @verify{VB-REQ-CHAIN-002} a length the int return cannot carry
 * is refused before anything is copied */
static void test_chain__length_above_int32_max_refused(void **state)
{
	/* Described, never touched: the range check fails first. */
	struct vb_iov rd[1] = { { guest, 0x80000000u } };
	struct vb_iov wr[1] = { { guest, 0x80000000u } };
	struct vb_chain c = VB_CHAIN_INIT(rd, wr);
	uint8_t buf[4] = { 0 };

	(void)state;
	if (sizeof(size_t) < 8)
		skip();	/* the fake 2 GiB iovec needs a 64-bit size_t to describe */
	chain_set(&c, 1, 1);
	assert_int_equal(vb_chain_read(&c, 0, buf, 0x80000000u), -EBADMSG);
	assert_int_equal(vb_chain_write(&c, 0, buf, 0x80000000u), -ENOSPC);
}

/* @verify{VB-REQ-CHAIN-002} a write fills exactly [off, off + len) of the writable part */
static void test_chain__write_across_iovecs(void **state)
{
	STD_CHAIN(rd, wr, c);
	uint8_t src[16];

	(void)state;
	memset(guest, 0, sizeof(guest));
	for (unsigned int i = 0; i < sizeof(src); i++)
		src[i] = (uint8_t)(0x80 + i);
	assert_int_equal(vb_chain_write(&c, 0, src, 16), 16);
	assert_memory_equal(&guest[32], src, 16);
	memset(guest, 0, sizeof(guest));
	assert_int_equal(vb_chain_write(&c, 1, src, 9), 9);	/* pieces 1 and 2 */
	assert_int_equal(guest[32], 0);
	assert_memory_equal(&guest[33], src, 9);
	assert_int_equal(guest[42], 0);
}

/* @verify{VB-REQ-CHAIN-002} a write beyond the writable part fails and writes nothing, and
 * no write ever reaches the readable part */
static void test_chain__write_past_end_returns_enospc(void **state)
{
	STD_CHAIN(rd, wr, c);
	uint8_t src[32], snapshot[GUEST_LEN];

	(void)state;
	guest_fill();
	memcpy(snapshot, guest, sizeof(guest));
	memset(src, 0xff, sizeof(src));
	assert_int_equal(vb_chain_write(&c, 0, src, 17), -ENOSPC);
	assert_int_equal(vb_chain_write(&c, 12, src, 5), -ENOSPC);
	assert_int_equal(vb_chain_write(&c, 17, src, 0), -ENOSPC);
	assert_int_equal(vb_chain_write(&c, SIZE_MAX, src, 2), -ENOSPC);
	assert_int_equal(vb_chain_write(&c, 2, src, SIZE_MAX), -ENOSPC);
	assert_memory_equal(guest, snapshot, sizeof(guest));
	/* Filling the whole writable part leaves the readable part as it was. */
	assert_int_equal(vb_chain_write(&c, 0, src, 16), 16);
	assert_memory_equal(guest, snapshot, 32);
	assert_memory_equal(&guest[48], &snapshot[48], GUEST_LEN - 48);
}

/* @verify{VB-REQ-CHAIN-003} cursor reads walk the list in order and come up short only at
 * its end */
static void test_chain__cursor_read_walks_in_order(void **state)
{
	STD_CHAIN(rd, wr, c);
	struct vb_iov_cursor cur;
	uint8_t buf[32];

	(void)state;
	(void)c;
	guest_fill();
	vb_iov_cursor_init(&cur, rd, 3);
	assert_int_equal(cur.remaining, 16);
	assert_int_equal(vb_iov_cursor_read(&cur, buf, 2), 2);
	assert_memory_equal(buf, &guest[0], 2);
	assert_int_equal(vb_iov_cursor_read(&cur, buf, 4), 4);	/* crosses into piece 1 */
	assert_memory_equal(buf, &guest[2], 4);
	assert_int_equal(cur.remaining, 10);
	assert_int_equal(vb_iov_cursor_read(&cur, buf, 32), 10);	/* short: the end */
	assert_memory_equal(buf, &guest[6], 10);
	assert_int_equal(cur.remaining, 0);
	assert_int_equal(vb_iov_cursor_read(&cur, buf, 1), 0);
	assert_int_equal(vb_iov_cursor_read(&cur, buf, 0), 0);
}

/* @verify{VB-REQ-CHAIN-003} cursor writes scatter in order and stop at the list's end */
static void test_chain__cursor_write_scatters_in_order(void **state)
{
	STD_CHAIN(rd, wr, c);
	struct vb_iov_cursor cur;
	uint8_t src[20];

	(void)state;
	(void)c;
	memset(guest, 0, sizeof(guest));
	for (unsigned int i = 0; i < sizeof(src); i++)
		src[i] = (uint8_t)(0xa0 + i);
	vb_iov_cursor_init(&cur, wr, 3);
	assert_int_equal(vb_iov_cursor_write(&cur, src, 5), 5);
	assert_int_equal(vb_iov_cursor_write(&cur, &src[5], 15), 11);	/* short: the end */
	assert_memory_equal(&guest[32], src, 16);
	assert_int_equal(guest[48], 0);
	assert_int_equal(vb_iov_cursor_write(&cur, src, 1), 0);
}

/* @verify{VB-REQ-CHAIN-004} skip advances by at most the bytes left and reports them */
static void test_chain__cursor_skip(void **state)
{
	STD_CHAIN(rd, wr, c);
	struct vb_iov_cursor cur;
	uint8_t b;

	(void)state;
	(void)c;
	guest_fill();
	vb_iov_cursor_init(&cur, rd, 3);
	assert_int_equal(vb_iov_cursor_skip(&cur, 0), 0);
	assert_int_equal(vb_iov_cursor_skip(&cur, 3), 3);	/* exactly piece 0 */
	assert_int_equal(vb_iov_cursor_read(&cur, &b, 1), 1);
	assert_int_equal(b, 3);
	assert_int_equal(vb_iov_cursor_skip(&cur, 6), 6);
	assert_int_equal(vb_iov_cursor_read(&cur, &b, 1), 1);
	assert_int_equal(b, 10);
	assert_int_equal(vb_iov_cursor_skip(&cur, SIZE_MAX), 5);
	assert_int_equal(cur.remaining, 0);
	assert_int_equal(vb_iov_cursor_skip(&cur, 1), 0);
}

/* @verify{VB-REQ-CHAIN-005} next hands out pointers into the iovecs, at most len bytes and
 * never past the end of the current iovec */
static void test_chain__cursor_next_zero_copy(void **state)
{
	STD_CHAIN(rd, wr, c);
	struct vb_iov_cursor cur;
	struct vb_iov piece;

	(void)state;
	(void)c;
	vb_iov_cursor_init(&cur, rd, 3);
	assert_int_equal(vb_iov_cursor_next(&cur, 0, &piece), 0);	/* len 0: nothing */
	assert_int_equal(cur.remaining, 16);
	assert_int_equal(vb_iov_cursor_next(&cur, 100, &piece), 1);
	assert_ptr_equal(piece.base, &guest[0]);
	assert_int_equal(piece.len, 3);			/* bounded by the iovec */
	assert_int_equal(vb_iov_cursor_next(&cur, 2, &piece), 1);
	assert_ptr_equal(piece.base, &guest[3]);
	assert_int_equal(piece.len, 2);			/* bounded by len */
	assert_int_equal(vb_iov_cursor_next(&cur, 100, &piece), 1);
	assert_ptr_equal(piece.base, &guest[5]);
	assert_int_equal(piece.len, 3);
	assert_int_equal(vb_iov_cursor_next(&cur, 100, &piece), 1);
	assert_ptr_equal(piece.base, &guest[8]);
	assert_int_equal(piece.len, 8);
	assert_int_equal(vb_iov_cursor_next(&cur, 100, &piece), 0);	/* end */
}

/* @verify{VB-REQ-CHAIN-005} empty iovecs (leading, inner, trailing, or all of them) never
 * show up as pieces */
static void test_chain__cursor_skips_empty_iovecs(void **state)
{
	struct vb_iov v[6] = {
		{ &guest[0], 0 }, { &guest[0], 2 }, { &guest[2], 0 },
		{ &guest[2], 0 }, { &guest[2], 1 }, { &guest[3], 0 },
	};
	struct vb_iov_cursor cur;
	struct vb_iov piece, out[4];
	uint8_t buf[4];

	(void)state;
	guest_fill();
	vb_iov_cursor_init(&cur, v, 6);
	assert_int_equal(cur.remaining, 3);
	assert_int_equal(vb_iov_cursor_next(&cur, 100, &piece), 1);
	assert_ptr_equal(piece.base, &guest[0]);
	assert_int_equal(piece.len, 2);
	assert_int_equal(vb_iov_cursor_next(&cur, 100, &piece), 1);
	assert_ptr_equal(piece.base, &guest[2]);
	assert_int_equal(piece.len, 1);
	assert_int_equal(vb_iov_cursor_next(&cur, 100, &piece), 0);

	vb_iov_cursor_init(&cur, v, 6);
	assert_int_equal(vb_iov_cursor_slice(&cur, 3, out, 4), 2);	/* no empty entries */
	assert_int_equal(out[0].len, 2);
	assert_int_equal(out[1].len, 1);

	vb_iov_cursor_init(&cur, v, 6);
	assert_int_equal(vb_iov_cursor_read(&cur, buf, 4), 3);
	assert_memory_equal(buf, guest, 3);

	vb_iov_cursor_init(&cur, &v[2], 2);	/* only empty entries */
	assert_int_equal(cur.remaining, 0);
	assert_int_equal(vb_iov_cursor_next(&cur, 1, &piece), 0);
	vb_iov_cursor_init(&cur, v, 0);		/* no entries */
	assert_int_equal(vb_iov_cursor_next(&cur, 1, &piece), 0);
	assert_int_equal(vb_iov_cursor_read(&cur, buf, 1), 0);
}

/* @verify{VB-REQ-CHAIN-006} slice describes the next len bytes as iovecs into the list and
 * moves past them */
static void test_chain__cursor_slice(void **state)
{
	STD_CHAIN(rd, wr, c);
	struct vb_iov_cursor cur;
	struct vb_iov out[4];
	uint8_t b;

	(void)state;
	(void)c;
	guest_fill();
	vb_iov_cursor_init(&cur, rd, 3);
	assert_int_equal(vb_iov_cursor_skip(&cur, 1), 1);
	assert_int_equal(vb_iov_cursor_slice(&cur, 0, out, 4), 0);
	assert_int_equal(vb_iov_cursor_slice(&cur, 6, out, 4), 2);
	assert_ptr_equal(out[0].base, &guest[1]);
	assert_int_equal(out[0].len, 2);
	assert_ptr_equal(out[1].base, &guest[3]);
	assert_int_equal(out[1].len, 4);
	assert_int_equal(cur.remaining, 9);
	assert_int_equal(vb_iov_cursor_read(&cur, &b, 1), 1);
	assert_int_equal(b, 7);
	assert_int_equal(vb_iov_cursor_slice(&cur, 8, out, 4), 1);	/* exactly the rest */
	assert_ptr_equal(out[0].base, &guest[8]);
	assert_int_equal(out[0].len, 8);
	assert_int_equal(cur.remaining, 0);
}

/* @verify{VB-REQ-CHAIN-006} slice fails with the cursor untouched when the caller's iovecs
 * are too few or fewer than len bytes remain */
static void test_chain__cursor_slice_failure_leaves_cursor(void **state)
{
	STD_CHAIN(rd, wr, c);
	struct vb_iov_cursor cur, before;
	struct vb_iov out[4];

	(void)state;
	(void)c;
	vb_iov_cursor_init(&cur, rd, 3);
	assert_int_equal(vb_iov_cursor_skip(&cur, 2), 2);
	before = cur;
	assert_int_equal(vb_iov_cursor_slice(&cur, 10, out, 2), -E2BIG);	/* needs 3 */
	assert_memory_equal(&cur, &before, sizeof(cur));
	assert_int_equal(vb_iov_cursor_slice(&cur, 15, out, 4), -E2BIG);	/* 14 left */
	assert_memory_equal(&cur, &before, sizeof(cur));
	assert_int_equal(vb_iov_cursor_slice(&cur, 1, out, 0), -E2BIG);
	assert_memory_equal(&cur, &before, sizeof(cur));
	assert_int_equal(vb_iov_cursor_slice(&cur, 14, out, 3), 3);
}

/* @verify{VB-REQ-CHAIN-007} a chain whose recorded lengths overstate its iovecs is bounded
 * by the iovecs: nothing is copied and the call fails */
static void test_chain__lengths_bounded_by_iovecs(void **state)
{
	STD_CHAIN(rd, wr, c);
	uint8_t buf[32], snapshot[GUEST_LEN];

	(void)state;
	guest_fill();
	memcpy(snapshot, guest, sizeof(guest));
	memset(buf, 0, sizeof(buf));
	c.read_len = 32;	/* the iovecs hold 16 */
	c.write_len = 32;
	assert_int_equal(vb_chain_read(&c, 0, buf, 20), -EBADMSG);
	assert_int_equal(buf[0], 0);
	assert_int_equal(vb_chain_write(&c, 0, buf, 20), -ENOSPC);
	assert_memory_equal(guest, snapshot, sizeof(guest));
	/* Within both bounds the calls still work. */
	assert_int_equal(vb_chain_read(&c, 0, buf, 16), 16);
	assert_memory_equal(buf, guest, 16);
	/* And read_len below the iovecs' total bounds the other way. */
	c.read_len = 4;
	assert_int_equal(vb_chain_read(&c, 0, buf, 5), -EBADMSG);
}

/* @verify{VB-REQ-CHAIN-008} VB_CHAIN_INIT binds the arrays with their capacities and
 * leaves the chain empty */
static void test_chain__init_macro_sets_capacities(void **state)
{
	struct vb_iov rd[5], wr[3];
	struct vb_chain c = VB_CHAIN_INIT(rd, wr);

	(void)state;
	assert_ptr_equal(c.read, rd);
	assert_ptr_equal(c.write, wr);
	assert_int_equal(c.max_read, 5);
	assert_int_equal(c.max_write, 3);
	assert_int_equal(c.head, 0);
	assert_int_equal(c.ring_slots, 0);
	assert_int_equal(c.n_read, 0);
	assert_int_equal(c.n_write, 0);
	assert_int_equal(c.read_len, 0);
	assert_int_equal(c.write_len, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_chain__read_copies_across_iovecs),
		cmocka_unit_test(test_chain__read_one_byte_iovecs),
		cmocka_unit_test(test_chain__read_past_end_returns_ebadmsg),
		cmocka_unit_test(test_chain__read_huge_offset_does_not_wrap),
		cmocka_unit_test(test_chain__length_above_int32_max_refused),
		cmocka_unit_test(test_chain__write_across_iovecs),
		cmocka_unit_test(test_chain__write_past_end_returns_enospc),
		cmocka_unit_test(test_chain__cursor_read_walks_in_order),
		cmocka_unit_test(test_chain__cursor_write_scatters_in_order),
		cmocka_unit_test(test_chain__cursor_skip),
		cmocka_unit_test(test_chain__cursor_next_zero_copy),
		cmocka_unit_test(test_chain__cursor_skips_empty_iovecs),
		cmocka_unit_test(test_chain__cursor_slice),
		cmocka_unit_test(test_chain__cursor_slice_failure_leaves_cursor),
		cmocka_unit_test(test_chain__lengths_bounded_by_iovecs),
		cmocka_unit_test(test_chain__init_macro_sets_capacities),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
