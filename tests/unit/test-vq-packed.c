/* SPDX-License-Identifier: MIT */
#define _DEFAULT_SOURCE	/* MAP_ANONYMOUS, MAP_NORESERVE */
/* Packed virtqueue, device side: round trips, wrap counters, notification logic and hostile
 * drivers. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <cmocka.h>

#include "virtio-backend.h"
#include "vbt-dev.h"
#include "vbt-packed.h"

#define GUEST_GPA	0x100000u
#define GUEST_SIZE	(1u << 20)
#define GUEST_END	((uint64_t)GUEST_GPA + GUEST_SIZE)
#define REGION		0x10000u	/* region size for the split-memory setups */

#define F_BASE		(VB_BIT(VB_VIRTIO_F_VERSION_1) | VB_BIT(VB_VIRTIO_F_RING_PACKED))
#define F_IND		(F_BASE | VB_BIT(VB_VIRTIO_F_INDIRECT_DESC))
#define F_EVIDX		(F_IND | VB_BIT(VB_VIRTIO_F_EVENT_IDX))

struct fix {
	struct vbt_guest g;
	struct vbt_packed r;
	struct vbt_dev d;
	struct vb_vq *vq;
	unsigned int config_changes0;
};

static int setup_full(void **state, uint64_t features, uint16_t qsz, size_t region_size)
{
	static struct fix f;

	memset(&f, 0, sizeof(f));
	assert_int_equal(vbt_guest_init(&f.g, GUEST_GPA, GUEST_SIZE, region_size), 0);
	vbt_packed_init(&f.r, &f.g, qsz);
	assert_int_equal(vbt_dev_init(&f.d, &f.g.mem, features, 1, 256), 0);
	assert_int_equal(vbt_dev_negotiate(&f.d, features), 0);
	assert_int_equal(vbt_dev_queue(&f.d, 0, qsz, f.r.desc_gpa, f.r.driver_gpa,
				       f.r.device_gpa), 0);
	assert_int_equal(vbt_dev_driver_ok(&f.d), 0);
	f.vq = vb_dev_queue(f.d.dev, 0);
	assert_true(vb_vq_is_ready(f.vq));
	f.config_changes0 = f.d.config_changes;
	*state = &f;
	return 0;
}

static int setup(void **state)
{
	return setup_full(state, F_IND, 8, 0);
}

static int setup_evidx(void **state)
{
	return setup_full(state, F_EVIDX, 8, 0);
}

static int setup_noind(void **state)
{
	return setup_full(state, F_BASE, 8, 0);
}

static int setup_q5(void **state)
{
	return setup_full(state, F_IND, 5, 0);	/* packed sizes need not be powers of two */
}

static int setup_regions(void **state)
{
	return setup_full(state, F_IND, 8, REGION);	/* 64 KiB regions: buffers split */
}

static int teardown(void **state)
{
	struct fix *f = *state;

	vbt_guest_fini(&f->g);
	return 0;
}

/* The queue broke with err: NEEDS_RESET set, the transport told, the error sticky. */
static void assert_broken(struct fix *f, int ret, int err)
{
	struct vb_iov rd[4], wr[4];
	struct vb_chain c = VB_CHAIN_INIT(rd, wr);

	assert_int_equal(ret, err);
	assert_int_equal(vb_vq_error(f->vq), err);
	assert_true(vb_dev_get_status(f->d.dev) & VB_VIRTIO_S_NEEDS_RESET);
	assert_int_equal(f->d.config_changes, f->config_changes0 + 1);
	assert_false(vb_vq_is_ready(f->vq));
	assert_int_equal(vb_vq_pop(f->vq, &c), -ENOTRECOVERABLE);
}

static int pop(struct fix *f, struct vb_chain *c)
{
	return vb_vq_pop(f->vq, c);
}

/* Add, pop, push and collect n single-descriptor chains (moves both sides by n slots). */
static void round_trips(struct fix *f, unsigned int n)
{
	uint64_t buf = vbt_guest_alloc(&f->g, 16, 16);
	struct vbt_buf b = { buf, 16, true };

	for (unsigned int i = 0; i < n; i++) {
		struct vb_iov rd[2], wr[2];
		struct vb_chain c = VB_CHAIN_INIT(rd, wr);
		uint16_t id;

		int want = vbt_packed_add(&f->r, &b, 1, false);
		assert_true(want >= 0);
		assert_int_equal(pop(f, &c), 1);
		assert_int_equal(c.head, want);
		assert_int_equal(vb_vq_push(f->vq, &c, 0), 0);
		assert_int_equal(vbt_packed_get_used(&f->r, &id, NULL, NULL), 1);
		assert_int_equal(id, want);
	}
}

/* @verify{VB-REQ-PVQ-001} @verify{VB-REQ-PVQ-002} a chain round-trips: readable bytes are the
 * driver's, writable bytes reach the driver, the used descriptor carries id and length */
static void test_vq_packed__pop_push_round_trip(void **state)
{
	struct fix *f = *state;
	struct vb_iov rd[4], wr[4];
	struct vb_chain c = VB_CHAIN_INIT(rd, wr);
	uint64_t in = vbt_guest_alloc(&f->g, 5, 1), out = vbt_guest_alloc(&f->g, 8, 1);
	uint64_t out2 = vbt_guest_alloc(&f->g, 4, 1);
	struct vbt_buf bufs[] = { { in, 5, false }, { out, 8, true }, { out2, 4, true } };
	char hdr[5];
	uint16_t id, flags;
	uint32_t len;
	int want;

	memcpy(vbt_guest_ptr(&f->g, in), "hello", 5);
	want = vbt_packed_add(&f->r, bufs, 3, false);
	assert_true(want >= 0);
	assert_int_equal(pop(f, &c), 1);
	assert_int_equal(c.head, want);
	assert_int_equal(c.ring_slots, 3);
	assert_int_equal(c.n_read, 1);
	assert_int_equal(c.n_write, 2);
	assert_int_equal(c.read_len, 5);
	assert_int_equal(c.write_len, 12);
	assert_ptr_equal(rd[0].base, vbt_guest_ptr(&f->g, in));	/* zero copy */
	assert_int_equal(vb_chain_read(&c, 0, hdr, 5), 5);
	assert_memory_equal(hdr, "hello", 5);
	assert_int_equal(vb_chain_write(&c, 0, "HELLO, WORLD", 12), 12);
	assert_int_equal(pop(f, &c), 0);
	assert_int_equal(vbt_packed_get_used(&f->r, &id, &len, &flags), 0);	/* not yet */
	assert_int_equal(vb_vq_push(f->vq, &c, 12), 0);
	assert_int_equal(vbt_packed_get_used(&f->r, &id, &len, &flags), 1);
	assert_int_equal(id, want);
	assert_int_equal(len, 12);
	assert_true(flags & VB_VRING_DESC_F_WRITE);
	assert_memory_equal(vbt_guest_ptr(&f->g, out), "HELLO, W", 8);
	assert_memory_equal(vbt_guest_ptr(&f->g, out2), "ORLD", 4);
	/* Nothing written: WRITE clear in the used descriptor (virtio 1.2, 2.8.3). */
	want = vbt_packed_add(&f->r, bufs, 1, false);
	assert_int_equal(pop(f, &c), 1);
	assert_int_equal(vb_vq_push(f->vq, &c, 0), 0);
	assert_int_equal(vbt_packed_get_used(&f->r, &id, &len, &flags), 1);
	assert_int_equal(id, want);
	assert_false(flags & VB_VRING_DESC_F_WRITE);
	/* More than was writable is refused, and the queue stays healthy. */
	want = vbt_packed_add(&f->r, bufs, 2, false);
	assert_int_equal(pop(f, &c), 1);
	assert_int_equal(vb_vq_push(f->vq, &c, 9), -EINVAL);
	assert_int_equal(vb_vq_error(f->vq), 0);
	assert_int_equal(vb_vq_push(f->vq, &c, 8), 0);
	assert_int_equal(vbt_packed_get_used(&f->r, &id, &len, NULL), 1);
	assert_int_equal(id, want);
}

/* @verify{VB-REQ-PVQ-001} @verify{VB-REQ-PVQ-002} @verify{VB-REQ-PVQ-003}
 * @verify{VB-REQ-PVQ-011} chains of 1..3 descriptors, some crossing
 * the ring end, over many laps of a 5-entry ring: wrap counters toggle on both sides, ids
 * and data stay right */
static void test_vq_packed__wraps_over_many_laps(void **state)
{
	struct fix *f = *state;
	uint64_t data = vbt_guest_alloc(&f->g, 3 * 64, 16);
	unsigned int toggles = 0;
	bool last_wrap = true;

	for (unsigned int i = 0; i < 60; i++) {
		struct vb_iov rd[4], wr[4];
		struct vb_chain c = VB_CHAIN_INIT(rd, wr);
		unsigned int n = 1 + i % 3;
		struct vbt_buf bufs[3];
		struct vb_vq_pos pos;
		uint8_t pattern[64];
		uint16_t id;
		uint32_t len;
		int want;

		/* First buffer readable, the others writable. */
		for (unsigned int k = 0; k < n; k++)
			bufs[k] = (struct vbt_buf){ data + 64u * k, 64, k > 0 };
		memset(vbt_guest_ptr(&f->g, data), (int)i, 64);
		want = vbt_packed_add(&f->r, bufs, n, false);
		assert_true(want >= 0);
		assert_int_equal(pop(f, &c), 1);
		assert_int_equal(c.head, want);
		assert_int_equal(c.ring_slots, n);
		assert_int_equal(c.n_read, 1);
		assert_int_equal(c.n_write, n - 1);
		assert_int_equal(((uint8_t *)rd[0].base)[63], (uint8_t)i);
		memset(pattern, (int)(i + 1), sizeof(pattern));
		for (unsigned int k = 0; k + 1 < n; k++)
			assert_int_equal(vb_chain_write(&c, 64u * k, pattern, 64), 64);
		assert_int_equal(vb_vq_push(f->vq, &c, 64u * (n - 1)), 0);
		assert_int_equal(vbt_packed_get_used(&f->r, &id, &len, NULL), 1);
		assert_int_equal(id, want);
		assert_int_equal(len, 64u * (n - 1));
		if (n > 1)
			assert_memory_equal(vbt_guest_ptr(&f->g, data + 64), pattern, 64);
		vb_vq_get_pos(f->vq, &pos);
		assert_int_equal(pos.avail_idx, f->r.next_avail);
		assert_int_equal(pos.used_idx, f->r.next_used);
		assert_int_equal(pos.avail_wrap, f->r.avail_wrap);
		assert_int_equal(pos.used_wrap, f->r.used_wrap);
		if (pos.avail_wrap != last_wrap) {
			toggles++;
			last_wrap = pos.avail_wrap;
		}
	}
	assert_true(toggles >= 20);	/* 120 slots over a 5-slot ring: 24 laps */
	assert_int_equal(vb_vq_error(f->vq), 0);
}

/* @verify{VB-REQ-PVQ-006} a batch is popped in ring order and pushed with one publishing
 * store; an invalid chain in a batch pushes nothing */
static void test_vq_packed__batch_pop_push(void **state)
{
	struct fix *f = *state;
	struct vb_iov rd[4][2], wr[4][2];
	struct vb_chain c[4] = {
		VB_CHAIN_INIT(rd[0], wr[0]), VB_CHAIN_INIT(rd[1], wr[1]),
		VB_CHAIN_INIT(rd[2], wr[2]), VB_CHAIN_INIT(rd[3], wr[3]),
	};
	uint64_t buf = vbt_guest_alloc(&f->g, 64, 16);
	struct vbt_buf b[2] = { { buf, 32, false }, { buf + 32, 32, true } };
	uint32_t written[3] = { 1, 2, 3 };
	int ids[3];
	uint16_t id;
	uint32_t len;

	ids[0] = vbt_packed_add(&f->r, b, 2, false);
	ids[1] = vbt_packed_add(&f->r, b, 1, false);
	ids[2] = vbt_packed_add(&f->r, b, 2, true);
	assert_int_equal(vb_vq_pop_batch(f->vq, c, 4), 3);
	for (unsigned int i = 0; i < 3; i++)
		assert_int_equal(c[i].head, ids[i]);
	assert_int_equal(c[0].ring_slots, 2);
	assert_int_equal(c[1].ring_slots, 1);
	assert_int_equal(c[2].ring_slots, 1);
	c[1].write_len = 8;	/* let the readable-only chain report bytes for this check */

	/* A chain claiming more ring slots than are outstanding: nothing is pushed. */
	c[1].ring_slots = 5;
	assert_int_equal(vb_vq_push_batch(f->vq, c, written, 3), -EINVAL);
	assert_int_equal(vbt_packed_get_used(&f->r, &id, &len, NULL), 0);
	c[1].ring_slots = 0;
	assert_int_equal(vb_vq_push_batch(f->vq, c, written, 3), -EINVAL);
	assert_int_equal(vbt_packed_get_used(&f->r, &id, &len, NULL), 0);
	assert_int_equal(vb_vq_error(f->vq), 0);
	c[1].ring_slots = 1;

	/* Out of order completion is fine: used descriptors go in completion order. */
	{
		struct vb_chain done[3] = { c[2], c[0], c[1] };

		assert_int_equal(vb_vq_push_batch(f->vq, done, written, 3), 0);
		assert_int_equal(vbt_packed_get_used(&f->r, &id, &len, NULL), 1);
		assert_int_equal(id, ids[2]);
		assert_int_equal(len, 1);
		assert_int_equal(vbt_packed_get_used(&f->r, &id, &len, NULL), 1);
		assert_int_equal(id, ids[0]);
		assert_int_equal(len, 2);
		assert_int_equal(vbt_packed_get_used(&f->r, &id, &len, NULL), 1);
		assert_int_equal(id, ids[1]);
		assert_int_equal(len, 3);
		assert_int_equal(vbt_packed_get_used(&f->r, &id, &len, NULL), 0);
	}
	/* Everything handed back: no slot is outstanding, a further push is refused. */
	assert_int_equal(vb_vq_push(f->vq, &c[0], 0), -EINVAL);
}

/* @verify{VB-REQ-PVQ-002} @verify{VB-REQ-PVQ-006} a batch crossing the ring end: used
 * descriptors after the end carry the next lap's wrap bits, and both sides stay in step */
static void test_vq_packed__batch_across_ring_end(void **state)
{
	struct fix *f = *state;
	struct vb_iov rd[4][2], wr[4][2];
	struct vb_chain c[4] = {
		VB_CHAIN_INIT(rd[0], wr[0]), VB_CHAIN_INIT(rd[1], wr[1]),
		VB_CHAIN_INIT(rd[2], wr[2]), VB_CHAIN_INIT(rd[3], wr[3]),
	};
	uint64_t buf = vbt_guest_alloc(&f->g, 16, 16);
	struct vbt_buf b = { buf, 16, true };
	uint32_t written[4] = { 1, 2, 3, 4 };
	int ids[4];
	uint16_t id;
	uint32_t len;

	round_trips(f, 6);
	for (unsigned int i = 0; i < 4; i++)	/* slots 6, 7 | 0, 1 */
		ids[i] = vbt_packed_add(&f->r, &b, 1, false);
	assert_int_equal(vb_vq_pop_batch(f->vq, c, 4), 4);
	assert_int_equal(vb_vq_push_batch(f->vq, c, written, 4), 0);
	for (unsigned int i = 0; i < 4; i++) {
		assert_int_equal(vbt_packed_get_used(&f->r, &id, &len, NULL), 1);
		assert_int_equal(id, ids[i]);
		assert_int_equal(len, written[i]);
	}
	assert_int_equal(vbt_packed_get_used(&f->r, &id, &len, NULL), 0);
	round_trips(f, 9);	/* both sides keep agreeing over the next lap */
}

/* @verify{VB-REQ-PVQ-006} until the first descriptor of a batch is published the driver sees
 * none of it: the first used descriptor's flags are stored last */
static void test_vq_packed__batch_publishes_first_last(void **state)
{
	struct fix *f = *state;
	struct vb_iov rd[3][2], wr[3][2];
	struct vb_chain c[3] = {
		VB_CHAIN_INIT(rd[0], wr[0]), VB_CHAIN_INIT(rd[1], wr[1]), VB_CHAIN_INIT(rd[2], wr[2]),
	};
	uint64_t buf = vbt_guest_alloc(&f->g, 16, 16);
	struct vbt_buf b = { buf, 16, true };
	uint32_t written[3] = { 4, 4, 4 };
	uint16_t first_slot = f->r.next_used;
	uint16_t flags_later;

	for (unsigned int i = 0; i < 3; i++)
		assert_true(vbt_packed_add(&f->r, &b, 1, false) >= 0);
	assert_int_equal(vb_vq_pop_batch(f->vq, c, 3), 3);
	assert_int_equal(vb_vq_push_batch(f->vq, c, written, 3), 0);
	/* Undo only the first descriptor's flags: the driver must then see nothing, although
	 * the later descriptors are complete. */
	flags_later = vb_le16_to_cpu(f->r.desc[first_slot + 1].flags);
	assert_int_equal(flags_later & (VBT_PACKED_F_AVAIL | VBT_PACKED_F_USED),
			 VBT_PACKED_F_AVAIL | VBT_PACKED_F_USED);
	{
		uint16_t saved = vb_le16_to_cpu(f->r.desc[first_slot].flags);

		f->r.desc[first_slot].flags = vb_cpu_to_le16(vbt_packed_avail_bits(true));
		assert_int_equal(vbt_packed_get_used(&f->r, NULL, NULL, NULL), 0);
		f->r.desc[first_slot].flags = vb_cpu_to_le16(saved);
	}
	for (unsigned int i = 0; i < 3; i++)
		assert_int_equal(vbt_packed_get_used(&f->r, NULL, NULL, NULL), 1);
}

/* @verify{VB-REQ-PVQ-005} an indirect table: one ring slot, the id of the ring descriptor,
 * readable then writable entries, NEXT inside the table ignored */
static void test_vq_packed__indirect_round_trip(void **state)
{
	struct fix *f = *state;
	struct vb_iov rd[4], wr[4];
	struct vb_chain c = VB_CHAIN_INIT(rd, wr);
	uint64_t buf = vbt_guest_alloc(&f->g, 64, 16);
	struct vbt_buf bufs[] = {
		{ buf, 8, false }, { buf + 8, 8, false }, { buf + 16, 0, false },
		{ buf + 32, 16, true }, { buf + 48, 16, true },
	};
	struct vbt_packed_pending p;
	uint16_t id;
	uint32_t len;

	memcpy(vbt_guest_ptr(&f->g, buf), "0123456789abcdef", 16);
	assert_int_equal(vbt_packed_prepare(&f->r, bufs, 5, true, &p), 0);
	/* NEXT is reserved in a table: a set bit changes nothing (virtio 1.2, 2.8.7). */
	{
		uint64_t t = vb_le64_to_cpu(f->r.desc[p.slot].addr);

		vbt_packed_put_table_desc(&f->r, t, 0, buf, 8, 0, VB_VRING_DESC_F_NEXT);
	}
	vbt_packed_publish(&f->r, &p);
	assert_int_equal(pop(f, &c), 1);
	assert_int_equal(c.head, p.id);
	assert_int_equal(c.ring_slots, 1);
	assert_int_equal(c.n_read, 2);		/* the empty element maps to nothing */
	assert_int_equal(c.n_write, 2);
	assert_int_equal(c.read_len, 16);
	assert_int_equal(c.write_len, 32);
	{
		char got[16];

		assert_int_equal(vb_chain_read(&c, 0, got, 16), 16);
		assert_memory_equal(got, "0123456789abcdef", 16);
	}
	assert_int_equal(vb_chain_write(&c, 0, "ABCDEFGHIJKLMNOPQRSTUVWXYZ012345", 32), 32);
	assert_int_equal(vb_vq_push(f->vq, &c, 32), 0);
	assert_int_equal(vbt_packed_get_used(&f->r, &id, &len, NULL), 1);
	assert_int_equal(id, p.id);
	assert_int_equal(len, 32);
	assert_memory_equal(vbt_guest_ptr(&f->g, buf + 32), "ABCDEFGHIJKLMNOPQRSTUVWXYZ012345", 32);
	assert_int_equal(f->r.next_used, 1);	/* one slot skipped */
}

/* @verify{VB-REQ-PVQ-001} a buffer crossing regions maps to one iovec per region */
static void test_vq_packed__buffer_split_across_regions(void **state)
{
	struct fix *f = *state;
	struct vb_iov rd[4], wr[4];
	struct vb_chain c = VB_CHAIN_INIT(rd, wr);
	struct vbt_buf b = { GUEST_GPA + REGION - 10, 30, false };

	assert_true(vbt_packed_add(&f->r, &b, 1, false) >= 0);
	assert_int_equal(pop(f, &c), 1);
	assert_int_equal(c.n_read, 2);
	assert_int_equal(rd[0].len, 10);
	assert_int_equal(rd[1].len, 20);
	assert_int_equal(c.read_len, 30);
}

/* @verify{VB-REQ-PVQ-003} @verify{VB-REQ-PVQ-009} a descriptor whose bits read "used" or "last lap" is not available:
 * nothing is popped and the queue stays healthy */
static void test_vq_packed__not_available_patterns(void **state)
{
	struct fix *f = *state;
	struct vb_iov rd[2], wr[2];
	struct vb_chain c = VB_CHAIN_INIT(rd, wr);
	uint64_t buf = vbt_guest_alloc(&f->g, 16, 16);

	/* Zero-initialised ring: AVAIL == USED == 0. */
	assert_int_equal(pop(f, &c), 0);
	/* A used descriptor of this lap (AVAIL == USED == 1). */
	vbt_packed_put_desc(&f->r, 0, buf, 16, 0, VBT_PACKED_F_AVAIL | VBT_PACKED_F_USED);
	assert_int_equal(pop(f, &c), 0);
	/* Available for the other lap (wrap counter 0). */
	vbt_packed_put_desc(&f->r, 0, buf, 16, 0, vbt_packed_avail_bits(false));
	assert_int_equal(pop(f, &c), 0);
	assert_false(vb_vq_enable_kicks(f->vq));
	assert_int_equal(vb_vq_error(f->vq), 0);
	/* Made available for this lap: popped. */
	vbt_packed_put_desc(&f->r, 0, buf, 16, 0, vbt_packed_avail_bits(true));
	assert_true(vb_vq_enable_kicks(f->vq));
	assert_int_equal(pop(f, &c), 1);
	assert_int_equal(c.head, 0);
}

/* @verify{VB-REQ-PVQ-007} without EVENT_IDX the driver's flags decide: DISABLE suppresses,
 * ENABLE (and DESC, which needs EVENT_IDX) notifies */
static void test_vq_packed__notify_enable_disable(void **state)
{
	struct fix *f = *state;
	struct vb_vq_stats st;

	round_trips(f, 1);
	vbt_packed_set_driver_event(&f->r, VB_VRING_PACKED_EVENT_FLAG_DISABLE, 0, true);
	assert_false(vb_vq_should_notify(f->vq));
	assert_int_equal(vb_vq_notify(f->vq), 0);
	assert_int_equal(f->d.notifies[0], 0);
	/* Nothing used since the last decision: no notification whatever the flags say. */
	vbt_packed_set_driver_event(&f->r, VB_VRING_PACKED_EVENT_FLAG_ENABLE, 0, true);
	round_trips(f, 1);
	assert_int_equal(vb_vq_notify(f->vq), 1);
	assert_int_equal(f->d.notifies[0], 1);
	vbt_packed_set_driver_event(&f->r, VB_VRING_PACKED_EVENT_FLAG_DESC, 7, false);
	round_trips(f, 1);
	assert_true(vb_vq_should_notify(f->vq));
	vb_vq_get_stats(f->vq, &st);
	assert_int_equal(st.notified, 1);
	assert_int_equal(st.suppressed, 2);
}

/* @verify{VB-REQ-PVQ-007} @verify{VB-REQ-PVQ-008} with EVENT_IDX and DESC, notify exactly when the named descriptor
 * (slot and wrap counter) was used since the last decision, across a lap */
static void test_vq_packed__notify_event_idx(void **state)
{
	struct fix *f = *state;

	vbt_packed_set_driver_event(&f->r, VB_VRING_PACKED_EVENT_FLAG_DESC, 0, true);
	assert_true(vb_vq_should_notify(f->vq));	/* first decision: no reference yet */
	assert_false(vb_vq_should_notify(f->vq));	/* nothing used since */
	round_trips(f, 1);				/* used [0, 1): slot 0 */
	assert_true(vb_vq_should_notify(f->vq));
	round_trips(f, 1);				/* [1, 2) */
	assert_false(vb_vq_should_notify(f->vq));
	vbt_packed_set_driver_event(&f->r, VB_VRING_PACKED_EVENT_FLAG_DESC, 3, true);
	round_trips(f, 1);				/* [2, 3) */
	assert_false(vb_vq_should_notify(f->vq));
	round_trips(f, 2);				/* [3, 5) */
	assert_true(vb_vq_should_notify(f->vq));
	/* Event at slot 1 of the next lap (wrap counter 0). */
	vbt_packed_set_driver_event(&f->r, VB_VRING_PACKED_EVENT_FLAG_DESC, 1, false);
	round_trips(f, 3);				/* [5, 8): end of the lap */
	assert_false(vb_vq_should_notify(f->vq));
	round_trips(f, 1);				/* [0, 1) of the new lap */
	assert_false(vb_vq_should_notify(f->vq));
	round_trips(f, 1);				/* [1, 2) */
	assert_true(vb_vq_should_notify(f->vq));
	/* An event in the lap that ends before the decision: slot 6 of the wrap-0 lap, used
	 * in a range running across the ring end into the wrap-1 lap. */
	vbt_packed_set_driver_event(&f->r, VB_VRING_PACKED_EVENT_FLAG_DESC, 6, false);
	round_trips(f, 6);				/* [2, 8) of wrap 0 */
	assert_true(vb_vq_should_notify(f->vq));
	round_trips(f, 2);				/* [0, 2) of wrap 1 */
	assert_false(vb_vq_should_notify(f->vq));
	/* Slot 6 with the current wrap counter: ahead of the device, no notification yet. */
	vbt_packed_set_driver_event(&f->r, VB_VRING_PACKED_EVENT_FLAG_DESC, 6, true);
	round_trips(f, 4);				/* [2, 6) */
	assert_false(vb_vq_should_notify(f->vq));
	round_trips(f, 1);				/* [6, 7) */
	assert_true(vb_vq_should_notify(f->vq));
	/* More than a lap used since the last decision (the driver kept consuming): the range
	 * is ambiguous, so notify rather than risk a missed event. */
	vbt_packed_set_driver_event(&f->r, VB_VRING_PACKED_EVENT_FLAG_DESC, 5, true);
	round_trips(f, 15);				/* from 7 of one wrap-1 lap to 6 of the next */
	assert_true(vb_vq_should_notify(f->vq));
	/* DISABLE and ENABLE still apply with EVENT_IDX. */
	round_trips(f, 1);
	vbt_packed_set_driver_event(&f->r, VB_VRING_PACKED_EVENT_FLAG_DISABLE, 0, false);
	assert_false(vb_vq_should_notify(f->vq));
	vbt_packed_set_driver_event(&f->r, VB_VRING_PACKED_EVENT_FLAG_ENABLE, 0, false);
	assert_false(vb_vq_should_notify(f->vq));	/* nothing used since */
	round_trips(f, 1);
	assert_true(vb_vq_should_notify(f->vq));
}

/* @verify{VB-REQ-PVQ-009} the device event suppression structure: DISABLE, ENABLE, and with
 * EVENT_IDX a DESC event at the next slot to pop; enable reports buffers added meanwhile */
static void test_vq_packed__kicks_enable_disable(void **state)
{
	struct fix *f = *state;
	uint64_t buf = vbt_guest_alloc(&f->g, 16, 16);
	struct vbt_buf b = { buf, 16, false };
	uint16_t old;
	bool old_wrap;

	assert_int_equal(vbt_packed_device_event_flags(&f->r), VB_VRING_PACKED_EVENT_FLAG_ENABLE);
	vb_vq_disable_kicks(f->vq);
	assert_int_equal(vbt_packed_device_event_flags(&f->r), VB_VRING_PACKED_EVENT_FLAG_DISABLE);
	old = f->r.next_avail;
	old_wrap = f->r.avail_wrap;
	assert_true(vbt_packed_add(&f->r, &b, 1, false) >= 0);
	assert_false(vbt_packed_driver_would_kick(&f->r, old, old_wrap));
	assert_true(vb_vq_enable_kicks(f->vq));		/* a buffer came meanwhile */
	assert_int_equal(vbt_packed_device_event_flags(&f->r), VB_VRING_PACKED_EVENT_FLAG_ENABLE);
	{
		struct vb_iov rd[2], wr[2];
		struct vb_chain c = VB_CHAIN_INIT(rd, wr);

		assert_int_equal(pop(f, &c), 1);
	}
	assert_false(vb_vq_enable_kicks(f->vq));
	old = f->r.next_avail;
	old_wrap = f->r.avail_wrap;
	assert_true(vbt_packed_add(&f->r, &b, 1, false) >= 0);
	assert_true(vbt_packed_driver_would_kick(&f->r, old, old_wrap));
}

/* @verify{VB-REQ-PVQ-009} with EVENT_IDX, enabling kicks names the next slot to pop and its
 * wrap counter; the driver kicks when it makes that descriptor available */
static void test_vq_packed__kicks_event_idx(void **state)
{
	struct fix *f = *state;
	uint64_t buf = vbt_guest_alloc(&f->g, 16, 16);
	struct vbt_buf b = { buf, 16, false };
	uint16_t old;
	bool old_wrap;

	round_trips(f, 7);				/* device at slot 7, wrap 1 */
	vb_vq_disable_kicks(f->vq);
	assert_int_equal(vbt_packed_device_event_flags(&f->r), VB_VRING_PACKED_EVENT_FLAG_DISABLE);
	assert_false(vb_vq_enable_kicks(f->vq));
	assert_int_equal(vbt_packed_device_event_flags(&f->r), VB_VRING_PACKED_EVENT_FLAG_DESC);
	assert_int_equal(vbt_packed_device_event_off_wrap(&f->r), 7u | 0x8000u);
	old = f->r.next_avail;
	old_wrap = f->r.avail_wrap;
	assert_true(vbt_packed_add(&f->r, &b, 1, false) >= 0);	/* slot 7: the event */
	assert_true(vbt_packed_driver_would_kick(&f->r, old, old_wrap));
	{
		struct vb_iov rd[2], wr[2];
		struct vb_chain c = VB_CHAIN_INIT(rd, wr);

		assert_int_equal(pop(f, &c), 1);
		assert_int_equal(vb_vq_push(f->vq, &c, 0), 0);
		assert_int_equal(vbt_packed_get_used(&f->r, NULL, NULL, NULL), 1);
	}
	/* Device now at slot 0 of the lap with wrap counter 0. */
	assert_false(vb_vq_enable_kicks(f->vq));
	assert_int_equal(vbt_packed_device_event_off_wrap(&f->r), 0u);
	/* The driver kicks for the descriptor at the event slot, not for the one after it. */
	old = f->r.next_avail;
	old_wrap = f->r.avail_wrap;
	assert_true(vbt_packed_add(&f->r, &b, 1, false) >= 0);
	assert_true(vbt_packed_driver_would_kick(&f->r, old, old_wrap));
	old = f->r.next_avail;
	old_wrap = f->r.avail_wrap;
	assert_true(vbt_packed_add(&f->r, &b, 1, false) >= 0);
	assert_false(vbt_packed_driver_would_kick(&f->r, old, old_wrap));
}

/* @verify{VB-REQ-PVQ-010} a live queue starts with kicks enabled even if the device area said
 * DISABLE before */
static void test_vq_packed__start_enables_kicks(void **state)
{
	struct fix *f = *state;

	assert_int_equal(vb_dev_queue_enable(f->d.dev, 0, false), 0);
	f->r.device->flags = vb_cpu_to_le16(VB_VRING_PACKED_EVENT_FLAG_DISABLE);
	assert_int_equal(vb_dev_queue_enable(f->d.dev, 0, true), 0);
	assert_int_equal(vbt_packed_device_event_flags(&f->r), VB_VRING_PACKED_EVENT_FLAG_ENABLE);
}

/* @verify{VB-REQ-PVQ-010} @verify{VB-REQ-PVQ-011} ring areas must be aligned (16/4/4), inside guest memory, and a
 * restored position inside the ring; the queue then stays disabled */
static void test_vq_packed__map_checks(void **state)
{
	struct fix *f = *state;
	struct vb_queue_config cfg = { .num = 8, .desc = f->r.desc_gpa, .driver = f->r.driver_gpa,
				       .device = f->r.device_gpa };
	struct vb_vq_pos pos = { 7, 7, true, true };

	assert_int_equal(vb_dev_queue_enable(f->d.dev, 0, false), 0);
	cfg.desc = f->r.desc_gpa + 8;
	assert_int_equal(vb_dev_queue_set_config(f->d.dev, 0, &cfg), 0);
	assert_int_equal(vb_dev_queue_enable(f->d.dev, 0, true), -EPROTO);
	cfg.desc = f->r.desc_gpa;
	cfg.driver = f->r.driver_gpa + 2;
	assert_int_equal(vb_dev_queue_set_config(f->d.dev, 0, &cfg), 0);
	assert_int_equal(vb_dev_queue_enable(f->d.dev, 0, true), -EPROTO);
	cfg.driver = f->r.driver_gpa;
	cfg.device = f->r.device_gpa + 1;
	assert_int_equal(vb_dev_queue_set_config(f->d.dev, 0, &cfg), 0);
	assert_int_equal(vb_dev_queue_enable(f->d.dev, 0, true), -EPROTO);
	cfg.desc = GUEST_END - 64;	/* descriptors: 128 bytes, past the end of guest memory */
	cfg.device = f->r.device_gpa;
	assert_int_equal(vb_dev_queue_set_config(f->d.dev, 0, &cfg), 0);
	assert_int_equal(vb_dev_queue_enable(f->d.dev, 0, true), -EFAULT);
	cfg.desc = f->r.desc_gpa;
	assert_int_equal(vb_vq_set_pos(f->vq, &pos), 0);
	cfg.num = 5;		/* the restored position no longer names a slot */
	assert_int_equal(vb_dev_queue_set_config(f->d.dev, 0, &cfg), 0);
	assert_int_equal(vb_dev_queue_enable(f->d.dev, 0, true), -EPROTO);
	assert_false(vb_vq_is_ready(f->vq));
	assert_int_equal(vb_vq_error(f->vq), 0);
	cfg.num = 8;
	assert_int_equal(vb_dev_queue_set_config(f->d.dev, 0, &cfg), 0);
	assert_int_equal(vb_dev_queue_enable(f->d.dev, 0, true), 0);
	assert_true(vb_vq_is_ready(f->vq));
}

/* @verify{VB-REQ-PVQ-011} get/set position: slots and both wrap counters; an index outside the
 * ring is refused; a restored position is where popping and pushing resume */
static void test_vq_packed__get_set_pos(void **state)
{
	struct fix *f = *state;
	struct vb_vq_pos pos, bad = { 8, 0, true, true };
	uint64_t buf = vbt_guest_alloc(&f->g, 16, 16);
	struct vbt_buf b = { buf, 16, true };
	struct vb_iov rd[2], wr[2];
	struct vb_chain c = VB_CHAIN_INIT(rd, wr);
	uint16_t id;
	int want;

	round_trips(f, 11);
	vb_vq_get_pos(f->vq, &pos);
	assert_int_equal(pos.avail_idx, 3);
	assert_int_equal(pos.used_idx, 3);
	assert_false(pos.avail_wrap);
	assert_false(pos.used_wrap);
	assert_int_equal(vb_vq_set_pos(f->vq, &bad), -EINVAL);
	bad = (struct vb_vq_pos){ 0, 8, true, true };
	assert_int_equal(vb_vq_set_pos(f->vq, &bad), -EINVAL);

	/* Stop, move both sides to slot 6 of the wrap-0 lap, and restart there. */
	assert_int_equal(vb_dev_queue_enable(f->d.dev, 0, false), 0);
	pos = (struct vb_vq_pos){ 6, 6, false, false };
	assert_int_equal(vb_vq_set_pos(f->vq, &pos), 0);
	assert_int_equal(vb_dev_queue_enable(f->d.dev, 0, true), 0);
	vbt_packed_advance(&f->r, 3);		/* driver 3 -> 6 */
	f->r.next_used = 6;
	f->r.free_slots = 8;
	want = vbt_packed_add(&f->r, &b, 1, false);
	assert_int_equal(pop(f, &c), 1);
	assert_int_equal(c.head, want);
	assert_int_equal(vb_vq_push(f->vq, &c, 16), 0);
	assert_int_equal(vbt_packed_get_used(&f->r, &id, NULL, NULL), 1);
	assert_int_equal(id, want);
	vb_vq_get_pos(f->vq, &pos);
	assert_int_equal(pos.avail_idx, 7);
	assert_int_equal(pos.used_idx, 7);
	assert_false(pos.avail_wrap);
	assert_false(pos.used_wrap);
}

/* --- hostile drivers --------------------------------------------------------------------- */

/* @verify{VB-REQ-PVQ-012} @verify{VB-REQ-PVQ-023} a list of num descriptors all with NEXT
 * set (it would come back to its own head) fails with -ELOOP */
static void test_vq_packed__rejects_overlong_chain(void **state)
{
	struct fix *f = *state;
	struct vb_iov rd[16], wr[16];
	struct vb_chain c = VB_CHAIN_INIT(rd, wr);
	uint64_t buf = vbt_guest_alloc(&f->g, 16, 16);

	for (uint16_t i = 8; i-- > 0;)
		vbt_packed_put_desc(&f->r, i, buf, 16, 0,
				    (uint16_t)(VB_VRING_DESC_F_NEXT | vbt_packed_avail_bits(true)));
	assert_broken(f, pop(f, &c), -ELOOP);
}

/* @verify{VB-REQ-PVQ-004} @verify{VB-REQ-PVQ-023} a buffer id not below the queue size fails
 * with -EPROTO; the id is the last descriptor's (the others' ids are junk) */
static void test_vq_packed__rejects_buffer_id_out_of_range(void **state)
{
	struct fix *f = *state;
	struct vb_iov rd[4], wr[4];
	struct vb_chain c = VB_CHAIN_INIT(rd, wr);
	uint64_t buf = vbt_guest_alloc(&f->g, 16, 16);
	uint16_t av = vbt_packed_avail_bits(true);

	/* Valid: junk id in the first descriptor, id 7 in the last. */
	vbt_packed_put_desc(&f->r, 1, buf, 16, 7, av);
	vbt_packed_put_desc(&f->r, 0, buf, 16, 0xffff, (uint16_t)(av | VB_VRING_DESC_F_NEXT));
	assert_int_equal(pop(f, &c), 1);
	assert_int_equal(c.head, 7);
	/* Invalid: id == num in the last descriptor. */
	vbt_packed_put_desc(&f->r, 3, buf, 16, 8, av);
	vbt_packed_put_desc(&f->r, 2, buf, 16, 1, (uint16_t)(av | VB_VRING_DESC_F_NEXT));
	assert_broken(f, pop(f, &c), -EPROTO);
}

/* @verify{VB-REQ-PVQ-004} @verify{VB-REQ-PVQ-023} a one-descriptor chain with a buffer id
 * not below the queue size fails with -EPROTO */
static void test_vq_packed__rejects_buffer_id_out_of_range_single(void **state)
{
	struct fix *f = *state;
	struct vb_iov rd[4], wr[4];
	struct vb_chain c = VB_CHAIN_INIT(rd, wr);
	uint64_t buf = vbt_guest_alloc(&f->g, 16, 16);

	vbt_packed_put_desc(&f->r, 0, buf, 16, 8, vbt_packed_avail_bits(true));
	assert_broken(f, pop(f, &c), -EPROTO);
}

/* @verify{VB-REQ-PVQ-013} @verify{VB-REQ-PVQ-023} a chained descriptor not marked available
 * for the wrap counter of its own slot (here: a list crossing the ring end that keeps the
 * old lap's bits) fails with -EPROTO */
static void test_vq_packed__rejects_wrap_counter_misuse(void **state)
{
	struct fix *f = *state;
	struct vb_iov rd[4], wr[4];
	struct vb_chain c = VB_CHAIN_INIT(rd, wr);
	uint64_t buf = vbt_guest_alloc(&f->g, 16, 16);
	uint16_t av1 = vbt_packed_avail_bits(true);

	round_trips(f, 7);
	/* Slot 7 (wrap 1) continues to slot 0, which belongs to the wrap-0 lap: its bits must
	 * be USED set, AVAIL clear. The driver writes the wrap-1 pattern there instead. */
	vbt_packed_put_desc(&f->r, 0, buf, 16, 0, av1);
	vbt_packed_put_desc(&f->r, 7, buf, 16, 0, (uint16_t)(av1 | VB_VRING_DESC_F_NEXT));
	assert_broken(f, pop(f, &c), -EPROTO);
}

/* @verify{VB-REQ-PVQ-013} @verify{VB-REQ-PVQ-023} a chained descriptor that still reads as
 * used fails with -EPROTO, and the same list written correctly across the ring end pops */
static void test_vq_packed__rejects_unavailable_continuation(void **state)
{
	struct fix *f = *state;
	struct vb_iov rd[4], wr[4];
	struct vb_chain c = VB_CHAIN_INIT(rd, wr);
	uint64_t buf = vbt_guest_alloc(&f->g, 16, 16);
	uint16_t av1 = vbt_packed_avail_bits(true), av0 = vbt_packed_avail_bits(false);

	round_trips(f, 7);
	/* Correct: slot 0 carries the wrap-0 bits. */
	vbt_packed_put_desc(&f->r, 0, buf, 16, 3, av0);
	vbt_packed_put_desc(&f->r, 7, buf, 16, 0, (uint16_t)(av1 | VB_VRING_DESC_F_NEXT));
	assert_int_equal(pop(f, &c), 1);
	assert_int_equal(c.head, 3);
	assert_int_equal(c.ring_slots, 2);
	/* Slot 1 (wrap 0) continues into slot 2, left as a used descriptor of the wrap-1 lap. */
	vbt_packed_put_desc(&f->r, 2, buf, 16, 0, VBT_PACKED_F_AVAIL | VBT_PACKED_F_USED);
	vbt_packed_put_desc(&f->r, 1, buf, 16, 0, (uint16_t)(av0 | VB_VRING_DESC_F_NEXT));
	assert_broken(f, pop(f, &c), -EPROTO);
}

/* @verify{VB-REQ-PVQ-014} @verify{VB-REQ-PVQ-023} INDIRECT without VIRTIO_F_INDIRECT_DESC
 * fails with -EPROTO */
static void test_vq_packed__rejects_indirect_not_negotiated(void **state)
{
	struct fix *f = *state;
	struct vb_iov rd[4], wr[4];
	struct vb_chain c = VB_CHAIN_INIT(rd, wr);
	uint64_t buf = vbt_guest_alloc(&f->g, 16, 16);
	struct vbt_buf b = { buf, 16, false };

	assert_true(vbt_packed_add(&f->r, &b, 1, true) >= 0);
	assert_broken(f, pop(f, &c), -EPROTO);
}

/* @verify{VB-REQ-PVQ-015} @verify{VB-REQ-PVQ-023} INDIRECT together with NEXT fails with
 * -EPROTO */
static void test_vq_packed__rejects_indirect_with_next(void **state)
{
	struct fix *f = *state;
	struct vb_iov rd[4], wr[4];
	struct vb_chain c = VB_CHAIN_INIT(rd, wr);
	uint64_t buf = vbt_guest_alloc(&f->g, 16, 16);
	struct vbt_buf b = { buf, 16, false };
	uint64_t t = vbt_packed_indirect_table(&f->r, &b, 1);
	uint16_t av = vbt_packed_avail_bits(true);

	vbt_packed_put_desc(&f->r, 1, buf, 16, 0, av);
	vbt_packed_put_desc(&f->r, 0, t, 16, 0,
			    (uint16_t)(av | VB_VRING_DESC_F_INDIRECT | VB_VRING_DESC_F_NEXT));
	assert_broken(f, pop(f, &c), -EPROTO);
}

/* @verify{VB-REQ-PVQ-015} @verify{VB-REQ-PVQ-023} an indirect descriptor as a later element
 * of a NEXT-linked list fails with -EPROTO */
static void test_vq_packed__rejects_indirect_inside_chain(void **state)
{
	struct fix *f = *state;
	struct vb_iov rd[4], wr[4];
	struct vb_chain c = VB_CHAIN_INIT(rd, wr);
	uint64_t buf = vbt_guest_alloc(&f->g, 16, 16);
	struct vbt_buf b = { buf, 16, false };
	uint64_t t = vbt_packed_indirect_table(&f->r, &b, 1);
	uint16_t av = vbt_packed_avail_bits(true);

	vbt_packed_put_desc(&f->r, 1, t, 16, 0, (uint16_t)(av | VB_VRING_DESC_F_INDIRECT));
	vbt_packed_put_desc(&f->r, 0, buf, 16, 0, (uint16_t)(av | VB_VRING_DESC_F_NEXT));
	assert_broken(f, pop(f, &c), -EPROTO);
}

/* @verify{VB-REQ-PVQ-016} @verify{VB-REQ-PVQ-023} INDIRECT inside an indirect table fails with
 * -EPROTO (the nested table points back at the first: followed, it would never end) */
static void test_vq_packed__rejects_nested_indirect(void **state)
{
	struct fix *f = *state;
	struct vb_iov rd[8], wr[8];
	struct vb_chain c = VB_CHAIN_INIT(rd, wr);
	uint64_t buf = vbt_guest_alloc(&f->g, 16, 16);
	struct vbt_buf b[2] = { { buf, 16, false }, { buf, 16, false } };
	struct vbt_packed_pending p;
	uint64_t t;

	assert_int_equal(vbt_packed_prepare(&f->r, b, 2, true, &p), 0);
	t = vb_le64_to_cpu(f->r.desc[p.slot].addr);
	vbt_packed_put_table_desc(&f->r, t, 1, t, 32, 0, VB_VRING_DESC_F_INDIRECT);
	vbt_packed_publish(&f->r, &p);
	assert_broken(f, pop(f, &c), -EPROTO);
}

static void indirect_len_case(struct fix *f, uint32_t len, int err)
{
	struct vb_iov rd[8], wr[8];
	struct vb_chain c = VB_CHAIN_INIT(rd, wr);
	uint64_t buf = vbt_guest_alloc(&f->g, 16, 16);
	struct vbt_buf b[2] = { { buf, 16, false }, { buf, 16, false } };
	uint64_t t = vbt_packed_indirect_table(&f->r, b, 2);

	vbt_packed_put_desc(&f->r, 0, t, len, 0,
			    (uint16_t)(vbt_packed_avail_bits(true) | VB_VRING_DESC_F_INDIRECT));
	assert_broken(f, pop(f, &c), err);
}

/* @verify{VB-REQ-PVQ-017} @verify{VB-REQ-PVQ-023} an empty indirect table fails with -EPROTO */
static void test_vq_packed__rejects_indirect_len_zero(void **state)
{
	indirect_len_case(*state, 0, -EPROTO);
}

/* @verify{VB-REQ-PVQ-017} @verify{VB-REQ-PVQ-023} an indirect length that is not a multiple of
 * 16 fails with -EPROTO */
static void test_vq_packed__rejects_indirect_len_ragged(void **state)
{
	indirect_len_case(*state, 24, -EPROTO);
}

/* @verify{VB-REQ-PVQ-017} @verify{VB-REQ-PVQ-023} an indirect table of more than 65536 entries
 * fails with -E2BIG (it would not fit the 1 MiB guest, which would give -EFAULT) */
static void test_vq_packed__rejects_indirect_too_long(void **state)
{
	indirect_len_case(*state, 65537u * 16u, -E2BIG);
}

/* @verify{VB-REQ-PVQ-018} @verify{VB-REQ-PVQ-023} a buffer whose address + length wraps 64 bits
 * fails with -EOVERFLOW */
static void test_vq_packed__rejects_address_wrap(void **state)
{
	struct fix *f = *state;
	struct vb_iov rd[4], wr[4];
	struct vb_chain c = VB_CHAIN_INIT(rd, wr);

	vbt_packed_put_desc(&f->r, 0, UINT64_MAX - 7, 16, 0, vbt_packed_avail_bits(true));
	assert_broken(f, pop(f, &c), -EOVERFLOW);
}

/* @verify{VB-REQ-PVQ-018} @verify{VB-REQ-PVQ-023} an indirect table whose address + length
 * wraps fails with -EOVERFLOW */
static void test_vq_packed__rejects_indirect_address_wrap(void **state)
{
	struct fix *f = *state;
	struct vb_iov rd[4], wr[4];
	struct vb_chain c = VB_CHAIN_INIT(rd, wr);

	vbt_packed_put_desc(&f->r, 0, UINT64_MAX - 15, 32, 0,
			    (uint16_t)(vbt_packed_avail_bits(true) | VB_VRING_DESC_F_INDIRECT));
	assert_broken(f, pop(f, &c), -EOVERFLOW);
}

/* @verify{VB-REQ-PVQ-019} @verify{VB-REQ-PVQ-023} a buffer wholly outside guest memory fails
 * with -EFAULT (the bytes there are an unmapped guard page) */
static void test_vq_packed__rejects_buffer_outside(void **state)
{
	struct fix *f = *state;
	struct vb_iov rd[4], wr[4];
	struct vb_chain c = VB_CHAIN_INIT(rd, wr);

	vbt_packed_put_desc(&f->r, 0, GUEST_END, 16, 0,
			    (uint16_t)(vbt_packed_avail_bits(true) | VB_VRING_DESC_F_WRITE));
	assert_broken(f, pop(f, &c), -EFAULT);
}

/* @verify{VB-REQ-PVQ-019} @verify{VB-REQ-PVQ-023} a buffer straddling the end of guest memory
 * fails with -EFAULT */
static void test_vq_packed__rejects_buffer_straddling_end(void **state)
{
	struct fix *f = *state;
	struct vb_iov rd[4], wr[4];
	struct vb_chain c = VB_CHAIN_INIT(rd, wr);

	vbt_packed_put_desc(&f->r, 0, GUEST_END - 8, 16, 0, vbt_packed_avail_bits(true));
	assert_broken(f, pop(f, &c), -EFAULT);
}

/* @verify{VB-REQ-PVQ-019} @verify{VB-REQ-PVQ-023} an indirect table straddling the end of guest
 * memory fails with -EFAULT before any entry is read (the tail is a guard page: reading it
 * would crash the test) */
static void test_vq_packed__rejects_indirect_table_outside(void **state)
{
	struct fix *f = *state;
	struct vb_iov rd[4], wr[4];
	struct vb_chain c = VB_CHAIN_INIT(rd, wr);

	vbt_packed_put_desc(&f->r, 0, GUEST_END - 16, 64, 0,
			    (uint16_t)(vbt_packed_avail_bits(true) | VB_VRING_DESC_F_INDIRECT));
	assert_broken(f, pop(f, &c), -EFAULT);
}

/* @verify{VB-REQ-PVQ-019} @verify{VB-REQ-PVQ-023} a writable buffer in a region the device may
 * only read fails with -EFAULT */
static void test_vq_packed__rejects_write_to_read_only_region(void **state)
{
	struct fix *f = *state;
	struct vb_iov rd[4], wr[4];
	struct vb_chain c = VB_CHAIN_INIT(rd, wr);

	vbt_guest_set_region_flags(&f->g, 2, VB_MEM_F_READ);
	vbt_packed_put_desc(&f->r, 0, GUEST_GPA + 2 * REGION + 100, 16, 0,
			    (uint16_t)(vbt_packed_avail_bits(true) | VB_VRING_DESC_F_WRITE));
	assert_broken(f, pop(f, &c), -EFAULT);
}

/* @verify{VB-REQ-PVQ-020} @verify{VB-REQ-PVQ-023} a readable descriptor after a writable one
 * fails with -EPROTO */
static void test_vq_packed__rejects_readable_after_writable(void **state)
{
	struct fix *f = *state;
	struct vb_iov rd[4], wr[4];
	struct vb_chain c = VB_CHAIN_INIT(rd, wr);
	uint64_t buf = vbt_guest_alloc(&f->g, 32, 16);
	struct vbt_buf b[2] = { { buf, 16, true }, { buf + 16, 16, false } };

	assert_true(vbt_packed_add(&f->r, b, 2, false) >= 0);
	assert_broken(f, pop(f, &c), -EPROTO);
}

/* @verify{VB-REQ-PVQ-020} @verify{VB-REQ-PVQ-023} inside an indirect table too, and an empty
 * writable element still counts as writable */
static void test_vq_packed__rejects_readable_after_writable_indirect(void **state)
{
	struct fix *f = *state;
	struct vb_iov rd[4], wr[4];
	struct vb_chain c = VB_CHAIN_INIT(rd, wr);
	uint64_t buf = vbt_guest_alloc(&f->g, 32, 16);
	struct vbt_buf b[2] = { { buf, 0, true }, { buf + 16, 16, false } };

	assert_true(vbt_packed_add(&f->r, b, 2, true) >= 0);
	assert_broken(f, pop(f, &c), -EPROTO);
}

/* @verify{VB-REQ-PVQ-021} @verify{VB-REQ-PVQ-023} a chain of more than 4 GiB fails with -E2BIG.
 * The buffers lie in a 4 GiB region backed by inaccessible (PROT_NONE) host memory: popping
 * must not touch them. */
static void test_vq_packed__rejects_chain_over_4gib(void **state)
{
	struct fix *f = *state;
	struct vb_iov rd[4], wr[4];
	struct vb_chain c = VB_CHAIN_INIT(rd, wr);
	const uint64_t big = UINT64_C(1) << 32, big_gpa = UINT64_C(1) << 40;
	uint16_t av = vbt_packed_avail_bits(true);
	struct vb_mem_region reg;
	void *p;

	if (sizeof(void *) < 8)
		skip();
	p = mmap(NULL, (size_t)big, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (p == MAP_FAILED)
		skip();
	reg = (struct vb_mem_region){ .guest_addr = big_gpa, .size = big, .host_ptr = p,
				      .flags = VB_MEM_F_READ };
	assert_int_equal(vb_mem_add(&f->g.mem, &reg), 0);
	/* Two halves plus one byte: 2^32 + 1 bytes, each length valid on its own. */
	vbt_packed_put_desc(&f->r, 2, big_gpa, 1, 0, av);
	vbt_packed_put_desc(&f->r, 1, big_gpa, 0x80000000u, 0, (uint16_t)(av | VB_VRING_DESC_F_NEXT));
	vbt_packed_put_desc(&f->r, 0, big_gpa + 0x80000000u, 0x80000000u, 0,
			    (uint16_t)(av | VB_VRING_DESC_F_NEXT));
	assert_broken(f, pop(f, &c), -E2BIG);
	munmap(p, (size_t)big);
}

/* @verify{VB-REQ-PVQ-022} @verify{VB-REQ-PVQ-023} more readable pieces than the chain's iovec
 * storage fails with -E2BIG */
static void test_vq_packed__rejects_too_many_iovecs(void **state)
{
	struct fix *f = *state;
	struct vb_iov rd[2], wr[2];
	struct vb_chain c = VB_CHAIN_INIT(rd, wr);
	uint64_t buf = vbt_guest_alloc(&f->g, 48, 16);
	struct vbt_buf b[3] = { { buf, 16, false }, { buf + 16, 16, false }, { buf + 32, 16, false } };

	assert_true(vbt_packed_add(&f->r, b, 3, false) >= 0);
	assert_broken(f, pop(f, &c), -E2BIG);
}

/* @verify{VB-REQ-PVQ-022} @verify{VB-REQ-PVQ-023} one writable buffer split by a region edge
 * needs two iovecs: with room for one it fails with -E2BIG */
static void test_vq_packed__rejects_too_many_iovecs_split(void **state)
{
	struct fix *f = *state;
	struct vb_iov rd[1], wr[1];
	struct vb_chain c = VB_CHAIN_INIT(rd, wr);
	struct vbt_buf b = { GUEST_GPA + 2 * REGION - 8, 16, true };

	assert_true(vbt_packed_add(&f->r, &b, 1, false) >= 0);
	assert_broken(f, pop(f, &c), -E2BIG);
}

/* @verify{VB-REQ-PVQ-023} the queue stays broken until reset; a device reset clears it */
static void test_vq_packed__broken_until_reset(void **state)
{
	struct fix *f = *state;
	struct vb_iov rd[4], wr[4];
	struct vb_chain c = VB_CHAIN_INIT(rd, wr);

	vbt_packed_put_desc(&f->r, 0, GUEST_END, 16, 0, vbt_packed_avail_bits(true));
	assert_broken(f, pop(f, &c), -EFAULT);
	assert_int_equal(vb_vq_push(f->vq, &c, 0), -ENOTRECOVERABLE);
	assert_false(vb_vq_should_notify(f->vq));
	assert_int_equal(f->d.needs_reset, 1);
	/* The next violation is not reported again. */
	assert_int_equal(pop(f, &c), -ENOTRECOVERABLE);
	assert_int_equal(f->d.config_changes, f->config_changes0 + 1);
	vb_dev_reset(f->d.dev);
	assert_int_equal(vb_vq_error(f->vq), 0);
}

/* ---- Inflight hooks on a packed queue (vb_vq_set_inflight_ops(), vb_vq_pop_descs()) ---- */

struct hook_log {
	unsigned int popped, pre, post, logged;
	uint16_t first[8], slots[8], ids[8];
	uint16_t post_used[8];
	const struct vb_vring_packed_desc *ring;
	/* What resubmit_packed hands out: chains of rs_n[i] descriptors. */
	struct vb_vring_packed_desc rs[8];
	unsigned int rs_n[4], rs_count, rs_next, rs_calls;
	uint32_t written[8];
};

static void h_popped_packed(void *ctx, struct vb_vq *vq, const struct vb_chain *c,
			    const struct vb_vring_packed_desc *ring, uint16_t first)
{
	struct hook_log *l = ctx;

	(void)vq;
	l->ring = ring;
	l->first[l->popped] = first;
	l->slots[l->popped] = c->ring_slots;
	l->ids[l->popped++] = c->head;
}

static void h_pre(void *ctx, struct vb_vq *vq, uint16_t head)
{
	struct hook_log *l = ctx;

	(void)vq;
	(void)head;
	l->pre++;
}

static void h_post(void *ctx, struct vb_vq *vq, uint16_t head, uint16_t used_idx)
{
	struct hook_log *l = ctx;

	(void)vq;
	(void)head;
	assert_int_equal(l->pre, l->post + 1);	/* one chain at a time */
	l->post_used[l->post++] = used_idx;
}

static void h_log(void *ctx, struct vb_vq *vq, const struct vb_chain *c, uint32_t written)
{
	struct hook_log *l = ctx;

	(void)vq;
	(void)c;
	assert_int_equal(l->post, l->logged + 1);	/* after post_push */
	l->written[l->logged++] = written;
}

static const struct vb_vring_packed_desc *h_resubmit(void *ctx, struct vb_vq *vq,
						     unsigned int *n)
{
	struct hook_log *l = ctx;
	unsigned int off = 0;

	(void)vq;
	l->rs_calls++;
	if (l->rs_next == l->rs_count)
		return NULL;
	for (unsigned int i = 0; i < l->rs_next; i++)
		off += l->rs_n[i];
	*n = l->rs_n[l->rs_next++];
	return &l->rs[off];
}

static const struct vb_vq_inflight_ops t_packed_ops = {
	.pre_push = h_pre,
	.post_push = h_post,
	.log_push = h_log,
	.popped_packed = h_popped_packed,
	.resubmit_packed = h_resubmit,
};

static struct vb_vring_packed_desc pdesc(uint64_t addr, uint32_t len, uint16_t id, uint16_t flags)
{
	struct vb_vring_packed_desc d = {
		vb_cpu_to_le64(addr), vb_cpu_to_le32(len), vb_cpu_to_le16(id), vb_cpu_to_le16(flags)
	};

	return d;
}

/* @verify{VB-REQ-VU-304} with hooks a packed queue reports every chain popped from the ring
 * with the ring and the slots its descriptors were in (lists, indirect, across the ring's
 * end), calls pre_push, post_push (next used slot) and log_push once per chain in that order
 * for single pushes and batches, and no hook once they are cleared */
static void test_vq_packed__inflight_hooks(void **state)
{
	struct fix *f = *state;
	struct hook_log l;
	uint64_t a = vbt_guest_alloc(&f->g, 64, 16);
	struct vbt_buf three[3] = { { a, 4, false }, { a + 16, 4, false }, { a + 32, 8, true } };
	struct vb_iov rd[4][4], wr[4][4];
	struct vb_chain c[4];
	uint32_t written[4] = { 8, 8, 0, 8 };
	int id[4];

	memset(&l, 0, sizeof(l));
	for (unsigned int i = 0; i < 4; i++)
		c[i] = (struct vb_chain)VB_CHAIN_INIT(rd[i], wr[i]);
	round_trips(f, 6);	/* next chains cross the end of the 8-slot ring */
	vb_vq_set_inflight_ops(f->vq, &t_packed_ops, &l);
	id[0] = vbt_packed_add(&f->r, three, 3, false);	/* slots 6, 7, 0 */
	id[1] = vbt_packed_add(&f->r, three, 3, true);	/* slot 1 */
	id[2] = vbt_packed_add(&f->r, three, 1, false);	/* slot 2 */
	assert_int_equal(vb_vq_pop(f->vq, &c[0]), 1);
	assert_int_equal(vb_vq_pop_batch(f->vq, &c[1], 3), 2);
	assert_int_equal(l.popped, 3);
	assert_true(l.ring == vbt_guest_ptr(&f->g, f->r.desc_gpa));
	assert_int_equal(l.first[0], 6);
	assert_int_equal(l.slots[0], 3);
	assert_int_equal(l.first[1], 1);
	assert_int_equal(l.slots[1], 1);
	assert_int_equal(l.first[2], 2);
	for (unsigned int i = 0; i < 3; i++)
		assert_int_equal(l.ids[i], id[i]);
	assert_int_equal(l.rs_calls, 2);	/* asked once per pop call */
	assert_int_equal(vb_vq_push(f->vq, &c[0], 8), 0);
	assert_int_equal(vb_vq_push_batch(f->vq, &c[1], &written[1], 2), 0);
	assert_int_equal(l.pre, 3);
	assert_int_equal(l.post, 3);
	assert_int_equal(l.logged, 3);
	assert_int_equal(l.post_used[0], 1);
	assert_int_equal(l.post_used[1], 2);
	assert_int_equal(l.post_used[2], 3);
	assert_int_equal(l.written[0], 8);
	assert_int_equal(l.written[1], 8);
	assert_int_equal(l.written[2], 0);
	/* A batch larger than what was popped is refused before any hook. */
	assert_int_equal(vb_vq_push_batch(f->vq, c, written, 1), -EINVAL);
	assert_int_equal(l.pre, 3);
	for (unsigned int i = 0; i < 3; i++) {
		uint16_t got;

		assert_int_equal(vbt_packed_get_used(&f->r, &got, NULL, NULL), 1);
		assert_int_equal(got, id[i]);
	}
	vb_vq_set_inflight_ops(f->vq, NULL, NULL);
	round_trips(f, 2);
	assert_int_equal(l.popped, 3);
	assert_int_equal(l.pre, 3);
}

/* @verify{VB-REQ-VU-304} chains from resubmit_packed come out of vb_vq_pop() before any new
 * one, walked from the copies (a list and an indirect table), without popped_packed and
 * without moving the ring position; vb_vq_pop_descs() refuses n = 0 or above the queue size
 * (-EINVAL) and a split queue (-ENOTSUP), and breaks the queue on a copy whose NEXT flags do
 * not match its length */
static void test_vq_packed__inflight_resubmit(void **state)
{
	struct fix *f = *state;
	struct hook_log l;
	uint64_t a = vbt_guest_alloc(&f->g, 64, 16);
	struct vbt_buf two[2] = { { a, 4, false }, { a + 16, 8, true } };
	uint64_t table = vbt_packed_indirect_table(&f->r, two, 2);
	struct vb_iov rd[4], wr[4];
	struct vb_chain c = VB_CHAIN_INIT(rd, wr);
	struct vb_vq_pos pos;
	int fresh;

	memset(&l, 0, sizeof(l));
	l.rs[0] = pdesc(a, 4, 0, VB_VRING_DESC_F_NEXT);
	l.rs[1] = pdesc(a + 16, 8, 5, VB_VRING_DESC_F_WRITE);
	l.rs[2] = pdesc(table, 32, 6, VB_VRING_DESC_F_INDIRECT);
	l.rs_n[0] = 2;
	l.rs_n[1] = 1;
	l.rs_count = 2;
	fresh = vbt_packed_add(&f->r, two, 2, false);
	vb_vq_set_inflight_ops(f->vq, &t_packed_ops, &l);
	assert_int_equal(vb_vq_pop(f->vq, &c), 1);
	assert_int_equal(c.head, 5);
	assert_int_equal(c.read_len, 4);
	assert_int_equal(c.write_len, 8);
	assert_int_equal(c.ring_slots, 2);
	vb_vq_get_pos(f->vq, &pos);
	assert_int_equal(pos.avail_idx, 0);
	assert_int_equal(vb_vq_pop(f->vq, &c), 1);
	assert_int_equal(c.head, 6);
	assert_int_equal(c.ring_slots, 1);
	assert_int_equal(c.n_read, 1);
	assert_int_equal(c.n_write, 1);
	assert_int_equal(l.popped, 0);
	assert_int_equal(vb_vq_pop(f->vq, &c), 1);
	assert_int_equal(c.head, fresh);
	assert_int_equal(l.popped, 1);
	vb_vq_set_inflight_ops(f->vq, NULL, NULL);

	assert_int_equal(vb_vq_pop_descs(f->vq, l.rs, 0, &c), -EINVAL);
	assert_int_equal(vb_vq_pop_descs(f->vq, l.rs, 9, &c), -EINVAL);
	assert_true(vb_vq_is_ready(f->vq));
	assert_int_equal(vb_vq_pop_descs(f->vq, l.rs, 2, &c), 1);
	assert_int_equal(c.head, 5);
	/* NEXT on the last copy: the chain does not end where the record says. */
	assert_broken(f, vb_vq_pop_descs(f->vq, l.rs, 1, &c), -EPROTO);
}

/* @verify{VB-REQ-VU-304} vb_vq_pop_descs() on a split queue is -ENOTSUP */
static void test_vq_packed__pop_descs_split_refused(void **state)
{
	struct vbt_guest g;
	struct vbt_split sr;
	struct vbt_dev d;
	struct vb_vring_packed_desc one = pdesc(GUEST_GPA, 4, 0, 0);
	struct vb_iov rd[2], wr[2];
	struct vb_chain c = VB_CHAIN_INIT(rd, wr);
	const uint64_t feat = VB_BIT(VB_VIRTIO_F_VERSION_1);

	(void)state;
	assert_int_equal(vbt_guest_init(&g, GUEST_GPA, GUEST_SIZE, 0), 0);
	vbt_split_init(&sr, &g, 8);
	assert_int_equal(vbt_dev_init(&d, &g.mem, feat, 1, 256), 0);
	assert_int_equal(vbt_dev_negotiate(&d, feat), 0);
	assert_int_equal(vbt_dev_queue(&d, 0, 8, sr.desc_gpa, sr.avail_gpa, sr.used_gpa), 0);
	assert_int_equal(vbt_dev_driver_ok(&d), 0);
	assert_int_equal(vb_vq_pop_descs(vb_dev_queue(d.dev, 0), &one, 1, &c), -ENOTSUP);
	vbt_guest_fini(&g);
}

#define T(fn, s)	cmocka_unit_test_setup_teardown(fn, s, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_vq_packed__pop_push_round_trip, setup),
		T(test_vq_packed__wraps_over_many_laps, setup_q5),
		T(test_vq_packed__batch_pop_push, setup),
		T(test_vq_packed__batch_across_ring_end, setup),
		T(test_vq_packed__batch_publishes_first_last, setup),
		T(test_vq_packed__indirect_round_trip, setup),
		T(test_vq_packed__buffer_split_across_regions, setup_regions),
		T(test_vq_packed__not_available_patterns, setup),
		T(test_vq_packed__notify_enable_disable, setup),
		T(test_vq_packed__notify_event_idx, setup_evidx),
		T(test_vq_packed__kicks_enable_disable, setup),
		T(test_vq_packed__kicks_event_idx, setup_evidx),
		T(test_vq_packed__start_enables_kicks, setup),
		T(test_vq_packed__map_checks, setup),
		T(test_vq_packed__get_set_pos, setup),
		T(test_vq_packed__rejects_overlong_chain, setup),
		T(test_vq_packed__rejects_buffer_id_out_of_range, setup),
		T(test_vq_packed__rejects_buffer_id_out_of_range_single, setup),
		T(test_vq_packed__rejects_wrap_counter_misuse, setup),
		T(test_vq_packed__rejects_unavailable_continuation, setup),
		T(test_vq_packed__rejects_indirect_not_negotiated, setup_noind),
		T(test_vq_packed__rejects_indirect_with_next, setup),
		T(test_vq_packed__rejects_indirect_inside_chain, setup),
		T(test_vq_packed__rejects_nested_indirect, setup),
		T(test_vq_packed__rejects_indirect_len_zero, setup),
		T(test_vq_packed__rejects_indirect_len_ragged, setup),
		T(test_vq_packed__rejects_indirect_too_long, setup),
		T(test_vq_packed__rejects_address_wrap, setup),
		T(test_vq_packed__rejects_indirect_address_wrap, setup),
		T(test_vq_packed__rejects_buffer_outside, setup),
		T(test_vq_packed__rejects_buffer_straddling_end, setup),
		T(test_vq_packed__rejects_indirect_table_outside, setup),
		T(test_vq_packed__rejects_write_to_read_only_region, setup_regions),
		T(test_vq_packed__rejects_readable_after_writable, setup),
		T(test_vq_packed__rejects_readable_after_writable_indirect, setup),
		T(test_vq_packed__rejects_chain_over_4gib, setup),
		T(test_vq_packed__rejects_too_many_iovecs, setup),
		T(test_vq_packed__rejects_too_many_iovecs_split, setup_regions),
		T(test_vq_packed__broken_until_reset, setup),
		T(test_vq_packed__inflight_hooks, setup),
		T(test_vq_packed__inflight_resubmit, setup),
		cmocka_unit_test(test_vq_packed__pop_descs_split_refused),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
