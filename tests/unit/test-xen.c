/* SPDX-License-Identifier: MIT */
/*
 * The Xen ioreq-server transport (src/transports/xen/) against the simulated hypervisor of
 * tests/support/vbt-xen-sim.c: a Linux-like virtio-mmio driver (vbt-mmio) whose every register
 * access is an ioreq that the server answers, driving virtio-blk end to end over foreign
 * mappings and over grants; hostile ioreqs; the buffered ring; the bounded map cache and
 * IOREQ_TYPE_INVALIDATE; frames Xen refuses; grant revocation; reset and teardown leaving
 * nothing mapped.
 */
#define _GNU_SOURCE	/* memfd_create */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cmocka.h>

#include "transports/xen/xen-internal.h"
#include "virtio-backend/devices/blk.h"
#include "virtio-backend/devices/rng.h"
#include "vbt-mmio.h"
#include "vbt-split.h"
#include "vbt-xen-sim.h"

#define DOMID		7u
#define FRAMES		4096u		/* 16 MiB of guest memory */
#define BASE		0x2000000ull
#define WINDOW		0x200ull
#define IRQ		33u
#define DISK_SECTORS	2048u		/* 1 MiB */
#define QNUM		64u

struct fx {
	struct vbt_xen_sim	x;
	struct vbt_guest	g;
	struct vb_xen_server	*s;
	struct vb_dev		*dev;
	struct vbt_mmio_drv	drv;
	struct vbt_split	ring;
	int			img;		/* the disk: a memfd */
	struct vb_blk_file	*file;
	struct vb_blk		*blk;
	bool			grants;
	uint64_t		base;		/* the device's window */
};

static int drv_access(void *ctx, bool write, uint64_t off, unsigned int size, uint32_t *val)
{
	struct fx *f = ctx;
	uint64_t data = write ? *val : 0;
	int ret = vbt_xen_sim_mmio(&f->x, 0, write, f->base + off, size, &data);

	if (ret == 0 && !write)
		*val = (uint32_t)data;
	return ret;
}

/* The disk (a memfd) and the blk model on it. */
static void open_blk(struct fx *f)
{
	struct vb_blk_config bc = {
		.version = VB_BLK_CONFIG_V1, .capacity = DISK_SECTORS, .queue_num_max = QNUM,
	};
	char path[64];

	f->img = memfd_create("vbt-xen-disk", MFD_CLOEXEC);
	assert_true(f->img >= 0);
	assert_int_equal(ftruncate(f->img, DISK_SECTORS * 512), 0);
	snprintf(path, sizeof(path), "/proc/self/fd/%d", f->img);
	assert_int_equal(vb_blk_file_open(path, 0, &f->file), 0);
	assert_int_equal(vb_blk_create(&bc, &vb_blk_file_ops, f->file, &f->blk), 0);
}

static void setup_at(struct fx *f, bool grants, uint32_t cache, uint64_t base,
		     enum vb_xen_irq_kind irq_kind)
{
	struct vb_xen_config cfg = {
		.version = VB_XEN_CONFIG_V1, .domid = DOMID, .irq_kind = irq_kind,
		.map_cache_bytes = cache,
	};
	struct vb_xen_device d = { .base = base, .size = WINDOW, .irq = IRQ };

	memset(f, 0, sizeof(*f));
	f->grants = grants;
	f->base = base;
	assert_int_equal(vbt_xen_sim_init(&f->x, DOMID, FRAMES, 2), 0);
	assert_int_equal(vbt_xen_sim_guest(&f->x, &f->g, grants ? VBI_XEN_GRANT_ADDR : 0), 0);
	open_blk(f);

	assert_int_equal(vbi_xen_server_new_on(&cfg, vbt_xen_sim_ops(), &f->x, &f->s), 0);
	f->x.server = f->s;
	d.ops = vb_blk_device_ops(f->blk);
	d.model = f->blk;
	d.flags = grants ? VB_XEN_DEV_F_GRANTS : 0;
	assert_int_equal(vb_xen_add_device(f->s, &d, &f->dev), 0);
	assert_int_equal(vb_xen_start(f->s), 0);

	vbt_mmio_drv_init(&f->drv, NULL);
	f->drv.access = drv_access;
	f->drv.access_ctx = f;
}

static void setup_blk(struct fx *f, bool grants, uint32_t cache)
{
	setup_at(f, grants, cache, BASE, VB_XEN_IRQ_ARM);
}

static void bring_up(struct fx *f)
{
	uint64_t want = (1ull << VB_VIRTIO_F_VERSION_1) |
			(f->grants ? 1ull << VB_VIRTIO_F_ACCESS_PLATFORM : 0);

	vbt_split_init(&f->ring, &f->g, QNUM);
	assert_int_equal(vbt_mmio_init_device(&f->drv, want, &f->ring, 1), 0);
	assert_int_equal(f->drv.err, 0);
}

static void teardown(struct fx *f)
{
	vb_xen_server_free(f->s);
	/* Nothing of the guest stays mapped once the server is gone. */
	assert_int_equal(f->x.live_foreign, 0);
	assert_int_equal(f->x.live_grants, 0);
	assert_int_equal(f->x.n_ranges, 0);
	assert_false(f->x.created);
	vb_blk_destroy(f->blk);
	vb_blk_file_close(f->file);
	close(f->img);
	munmap(f->g.mapping, f->g.mapping_len);
	vbt_xen_sim_fini(&f->x);
}

/* One blk request: type at sector over len bytes of data at gpa; returns the status byte
 * (0xff if the device did not complete it). */
static unsigned int blk_rw(struct fx *f, uint32_t type, uint64_t sector, uint64_t data_gpa,
			   uint32_t len)
{
	uint64_t hdr = vbt_guest_alloc(&f->g, 16, 16);
	uint64_t st = vbt_guest_alloc(&f->g, 1, 1);
	struct vb_virtio_blk_req_hdr *h = vbt_guest_ptr(&f->g, hdr);
	struct vbt_buf bufs[3] = {
		{ hdr, 16, false },
		{ data_gpa, len, type == VB_VIRTIO_BLK_T_IN },
		{ st, 1, true },
	};
	uint32_t id, used_len;
	uint8_t *status = vbt_guest_ptr(&f->g, st);

	h->type = vb_cpu_to_le32(type);
	h->sector = vb_cpu_to_le64(sector);
	*status = 0xff;
	vbt_split_add(&f->ring, bufs, 3, false);
	assert_int_equal(vbt_mmio_notify(&f->drv, 0), 0);
	if (vbt_split_get_used(&f->ring, &id, &used_len) != 1)
		return 0xff;
	return *status;
}

/* @verify{VB-REQ-XEN-002} @verify{VB-REQ-XEN-005} @verify{VB-REQ-XEN-006} */
static void test_xen__blk_over_foreign_mappings(void **state)
{
	struct fx f;
	uint64_t buf = 0;
	uint8_t *p, check[4096];

	(void)state;
	setup_blk(&f, false, 0);
	/* Start claimed the window and bound both vCPUs' ports and the buffered one. */
	assert_int_equal(f.x.n_ranges, 1);
	assert_int_equal(f.x.ranges[0].start, BASE);
	assert_int_equal(f.x.ranges[0].end, BASE + WINDOW - 1);
	assert_true(f.x.vcpu_port[0] && f.x.vcpu_port[1] && f.x.buf_port);
	assert_true(f.x.enabled);

	bring_up(&f);
	assert_false(f.drv.features & (1ull << VB_VIRTIO_F_ACCESS_PLATFORM));
	buf = vbt_guest_alloc(&f.g, 4096, 4096);
	p = vbt_guest_ptr(&f.g, buf);
	for (int i = 0; i < 4096; i++)
		p[i] = (uint8_t)(i * 7 + 1);
	assert_int_equal(blk_rw(&f, VB_VIRTIO_BLK_T_OUT, 8, buf, 4096), VB_VIRTIO_BLK_S_OK);
	/* The bytes reached the disk. */
	assert_int_equal(pread(f.img, check, 4096, 8 * 512), 4096);
	assert_memory_equal(check, p, 4096);
	/* The interrupt line went up through XEN_DMOP_set_irq_level; the driver's ack drops it. */
	assert_true(f.x.irq_level[IRQ]);
	assert_int_equal(f.x.irq_raised[IRQ], 1);
	assert_int_equal(vbt_mmio_interrupt(&f.drv) & 1u, 1);
	assert_false(f.x.irq_level[IRQ]);

	memset(p, 0, 4096);
	assert_int_equal(blk_rw(&f, VB_VIRTIO_BLK_T_IN, 8, buf, 4096), VB_VIRTIO_BLK_S_OK);
	assert_memory_equal(check, p, 4096);
	assert_int_equal(f.x.irq_raised[IRQ], 2);
	/* Guest memory came through foreign mappings, no grant. */
	assert_true(f.x.live_foreign > 0);
	assert_int_equal(f.x.grant_calls, 0);
	teardown(&f);
}

/* @verify{VB-REQ-XEN-007} */
static void test_xen__blk_over_grants(void **state)
{
	struct vb_xen_stats st;
	struct fx f;
	uint64_t buf;
	uint8_t *p, check[8192];
	unsigned int ring_maps;

	(void)state;
	setup_blk(&f, true, 0);
	bring_up(&f);
	/* ACCESS_PLATFORM is offered and negotiated: the guest's grant DMA ops apply. */
	assert_true(f.drv.features & (1ull << VB_VIRTIO_F_ACCESS_PLATFORM));
	buf = vbt_guest_alloc(&f.g, 8192, 4096);
	assert_true(buf & VBI_XEN_GRANT_ADDR);
	p = vbt_guest_ptr(&f.g, buf);
	for (int i = 0; i < 8192; i++)
		p[i] = (uint8_t)(i * 13 + 5);
	assert_int_equal(blk_rw(&f, VB_VIRTIO_BLK_T_OUT, 16, buf, 8192), VB_VIRTIO_BLK_S_OK);
	assert_int_equal(pread(f.img, check, 8192, 16 * 512), 8192);
	assert_memory_equal(check, p, 8192);
	/* Never a foreign mapping: a grant device sees only what the guest granted. */
	assert_int_equal(f.x.foreign_calls, 0);
	/* Done: only the ring's grants stay mapped (the queue is live), the request's are gone. */
	vb_xen_get_stats(f.s, &st);
	assert_true(st.grant_maps >= 2);
	ring_maps = f.x.live_grants;
	assert_true(ring_maps >= 1 && ring_maps <= 3);
	assert_int_equal(st.mapped_grants, ring_maps);

	/* A read-only grant serves a write request (the device reads it)... */
	memset(p, 0x5a, 4096);
	vbt_xen_sim_grant(&f.x, (uint32_t)((buf & ~VBI_XEN_GRANT_ADDR) >> 12),
			  (uint32_t)((buf & ~VBI_XEN_GRANT_ADDR) >> 12), true);
	assert_int_equal(blk_rw(&f, VB_VIRTIO_BLK_T_OUT, 0, buf, 4096), VB_VIRTIO_BLK_S_OK);
	assert_int_equal(f.x.live_grants, ring_maps);

	/* Reset: the driver writes Status 0; every grant mapping goes, rings too. */
	assert_int_equal(vbt_mmio_reset(&f.drv), 0);
	{
		uint64_t v = 0;

		/* Any later dispatch releases what the reset left unused. */
		assert_int_equal(vbt_xen_sim_mmio(&f.x, 0, false, BASE, 4, &v), 0);
		assert_int_equal(v, 0x74726976);
	}
	assert_int_equal(f.x.live_grants, 0);
	teardown(&f);
}

/* @verify{VB-REQ-XEN-007} */
static void test_xen__revoked_or_read_only_grants_fail_cleanly(void **state)
{
	struct fx f;
	uint64_t buf;
	uint32_t ref;

	(void)state;
	setup_blk(&f, true, 0);
	bring_up(&f);
	buf = vbt_guest_alloc(&f.g, 4096, 4096);
	ref = (uint32_t)((buf & ~VBI_XEN_GRANT_ADDR) >> 12);

	/* The device must write a read-only grant: the request cannot be mapped. */
	vbt_xen_sim_grant(&f.x, ref, ref, true);
	(void)blk_rw(&f, VB_VIRTIO_BLK_T_IN, 0, buf, 4096);
	/* The queue broke on the bad buffer (virtio 1.2, 2.1.2: NEEDS_RESET), no crash, and
	 * nothing of the failed request stays mapped. */
	assert_true(vb_dev_get_status(f.dev) & VB_VIRTIO_S_NEEDS_RESET);
	assert_true(f.x.live_grants <= 3);

	/* After a reset the driver starts over; a revoked grant fails the same way. */
	assert_int_equal(vbt_mmio_reset(&f.drv), 0);
	bring_up(&f);
	vbt_xen_sim_revoke(&f.x, ref);
	(void)blk_rw(&f, VB_VIRTIO_BLK_T_OUT, 0, buf, 4096);
	assert_true(vb_dev_get_status(f.dev) & VB_VIRTIO_S_NEEDS_RESET);
	teardown(&f);
}

/* @verify{VB-REQ-XEN-003} */
static void test_xen__hostile_ioreqs_are_answered_harmlessly(void **state)
{
	struct vb_xen_stats st;
	struct ioreq req, out;
	struct fx f;
	uint64_t refused;
	static const struct {
		uint8_t type, dir, is_ptr;
		uint32_t size, count;
		uint64_t addr;
	} bad[] = {
		{ IOREQ_TYPE_COPY, IOREQ_READ, 1, 4, 1, BASE },		/* data in guest memory */
		{ IOREQ_TYPE_COPY, IOREQ_READ, 0, 4, 2, BASE },		/* rep */
		{ IOREQ_TYPE_COPY, IOREQ_READ, 0, 3, 1, BASE },		/* size */
		{ IOREQ_TYPE_COPY, IOREQ_READ, 0, 16, 1, BASE },		/* size */
		{ IOREQ_TYPE_COPY, IOREQ_READ, 0, 8, 1, BASE + WINDOW - 4 },	/* runs out */
		{ IOREQ_TYPE_COPY, IOREQ_READ, 0, 4, 1, BASE + WINDOW },	/* past the window */
		{ IOREQ_TYPE_COPY, IOREQ_READ, 0, 4, 1, UINT64_MAX - 1 },	/* wraps */
		{ IOREQ_TYPE_COPY, IOREQ_READ, 0, 4, 1, BASE + 0x50 },	/* write-only register */
		{ IOREQ_TYPE_PIO, IOREQ_READ, 0, 4, 1, 0x3f8 },
		{ IOREQ_TYPE_PCI_CONFIG, IOREQ_READ, 0, 4, 1, 0 },
		{ 0x42, IOREQ_READ, 0, 4, 1, BASE },				/* unknown type */
	};

	(void)state;
	setup_blk(&f, false, 0);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		memset(&req, 0, sizeof(req));
		req.type = bad[i].type;
		req.dir = bad[i].dir & 1u;
		req.data_is_ptr = bad[i].is_ptr & 1u;
		req.size = bad[i].size;
		req.count = bad[i].count;
		req.addr = bad[i].addr;
		req.data = 0x1234;
		vb_xen_get_stats(f.s, &st);
		refused = st.refused;
		/* Answered (IORESP_READY, vCPU notified), reads all ones, counted. */
		if (vbt_xen_sim_ioreq(&f.x, 1, &req, &out) != 0)
			fail_msg("bad ioreq %zu not answered", i);
		if (out.data != UINT64_MAX)
			fail_msg("bad ioreq %zu read 0x%llx", i, (unsigned long long)out.data);
		vb_xen_get_stats(f.s, &st);
		if (st.refused != refused + 1)
			fail_msg("bad ioreq %zu not counted", i);
	}
	/* A hostile write changes nothing: Status stays 0 after a rep write of DRIVER_OK. */
	memset(&req, 0, sizeof(req));
	req.type = IOREQ_TYPE_COPY;
	req.dir = IOREQ_WRITE;
	req.size = 4;
	req.count = 4;
	req.addr = BASE + 0x70;
	req.data = VB_VIRTIO_S_DRIVER_OK;
	assert_int_equal(vbt_xen_sim_ioreq(&f.x, 0, &req, &out), 0);
	assert_int_equal(vb_dev_get_status(f.dev), 0);
	/* And the device still works for a well-behaved driver. */
	bring_up(&f);
	/* An 8-byte read is two 32-bit reads: MagicValue and Version. */
	memset(&req, 0, sizeof(req));
	req.type = IOREQ_TYPE_COPY;
	req.dir = IOREQ_READ;
	req.size = 8;
	req.count = 1;
	req.addr = BASE;
	assert_int_equal(vbt_xen_sim_ioreq(&f.x, 1, &req, &out), 0);
	assert_int_equal(out.data, 0x0000000274726976ull);
	teardown(&f);
}

/* @verify{VB-REQ-XEN-004} */
static void test_xen__buffered_writes(void **state)
{
	struct vb_xen_stats st, st2;
	buf_ioreq_t b[2];
	struct fx f;

	(void)state;
	/* Buffered slots carry 20-bit addresses: a window below 1 MiB. */
	setup_at(&f, false, 0, 0xf0000, VB_XEN_IRQ_NONE);
	memset(b, 0, sizeof(b));
	b[0].type = IOREQ_TYPE_COPY;
	b[0].dir = IOREQ_WRITE;
	b[0].size = 2;			/* 4 bytes */
	b[0].addr = 0xf0070;		/* Status */
	b[0].data = VB_VIRTIO_S_ACKNOWLEDGE;
	assert_int_equal(vbt_xen_sim_buffered(&f.x, b, 1), 0);
	assert_int_equal(vb_dev_get_status(f.dev), VB_VIRTIO_S_ACKNOWLEDGE);
	/* 8 bytes take two slots, the high half in the second: DriverFeatures (0x20) gets the
	 * low half, DriverFeaturesSel (0x24) the high half. */
	b[0].size = 3;
	b[0].addr = 0xf0020;
	b[0].data = 0;
	b[1].data = 1;
	assert_int_equal(vbt_xen_sim_buffered(&f.x, b, 2), 0);
	/* A buffered read is refused (nobody waits for it), and the ring moves on. */
	b[0].dir = IOREQ_READ;
	b[0].size = 2;
	vb_xen_get_stats(f.s, &st);
	assert_int_equal(vbt_xen_sim_buffered(&f.x, b, 1), 0);
	vb_xen_get_stats(f.s, &st2);
	assert_int_equal(st2.refused, st.refused + 1);
	assert_int_equal(st2.buffered, 3);
	assert_int_equal(((struct buffered_iopage *)f.x.pages)->read_pointer, 4);
	teardown(&f);
}

/* @verify{VB-REQ-XEN-006} */
static void test_xen__map_cache_is_bounded_and_invalidated(void **state)
{
	struct vb_xen_stats st;
	struct ioreq req, out;
	struct fx f;
	uint64_t bufs[6];

	(void)state;
	/* Two buckets of 1 MiB at most. */
	setup_blk(&f, false, 2u << 20);
	bring_up(&f);
	/* Buffers 2 MiB apart: each needs a bucket of its own. */
	f.g.next = 4u << 20;
	for (int i = 0; i < 6; i++) {
		bufs[i] = vbt_guest_alloc(&f.g, 4096, 2u << 20);
		memset(vbt_guest_ptr(&f.g, bufs[i]), 'a' + i, 4096);
		assert_int_equal(blk_rw(&f, VB_VIRTIO_BLK_T_OUT, (uint64_t)i * 8, bufs[i], 4096),
				 VB_VIRTIO_BLK_S_OK);
		vb_xen_get_stats(f.s, &st);
		/* The bound holds, plus the bucket with the ring, which never goes while the
		 * queue is live. */
		assert_true(st.mapped_bytes <= (3u << 20));
	}
	vb_xen_get_stats(f.s, &st);
	assert_true(st.foreign_maps >= 6);
	/* Evicted mappings are unmapped at the next idle point, not kept. */
	assert_true(f.x.live_foreign <= 3);
	/* The data is right although buckets came and went. */
	for (int i = 0; i < 6; i++) {
		char c[4096];

		assert_int_equal(pread(f.img, c, 4096, i * 8 * 512), 4096);
		assert_int_equal(c[0], 'a' + i);
		assert_int_equal(c[4095], 'a' + i);
	}

	/* IOREQ_TYPE_INVALIDATE: every foreign mapping but the ring's goes. */
	memset(&req, 0, sizeof(req));
	req.type = IOREQ_TYPE_INVALIDATE;
	req.count = 1;
	req.size = 4;
	assert_int_equal(vbt_xen_sim_ioreq(&f.x, 0, &req, &out), 0);
	vb_xen_get_stats(f.s, &st);
	assert_int_equal(st.invalidates, 1);
	assert_true(f.x.live_foreign <= 1);
	/* And I/O goes on, mapping afresh. */
	assert_int_equal(blk_rw(&f, VB_VIRTIO_BLK_T_IN, 0, bufs[5], 4096), VB_VIRTIO_BLK_S_OK);
	assert_int_equal(((uint8_t *)vbt_guest_ptr(&f.g, bufs[5]))[0], 'a');
	teardown(&f);
}

/* @verify{VB-REQ-XEN-006} */
static void test_xen__frames_xen_refuses_are_never_mapped(void **state)
{
	struct fx f;
	uint64_t good, hole;

	(void)state;
	setup_blk(&f, false, 0);
	bring_up(&f);
	/* Frames 2048..2055 are a hole (Xen refuses to map them); buffers around them work. */
	for (unsigned int i = 2048; i < 2056; i++)
		f.x.refuse[i] = 1;
	good = 2047ull * 4096;
	hole = 2048ull * 4096;
	assert_int_equal(blk_rw(&f, VB_VIRTIO_BLK_T_OUT, 0, good, 4096), VB_VIRTIO_BLK_S_OK);
	assert_int_equal(blk_rw(&f, VB_VIRTIO_BLK_T_OUT, 0, 2056ull * 4096, 4096),
			 VB_VIRTIO_BLK_S_OK);
	/* A buffer in the hole: the queue breaks cleanly (the sim would crash the test if the
	 * server touched the PROT_NONE page). */
	(void)blk_rw(&f, VB_VIRTIO_BLK_T_OUT, 0, hole, 4096);
	assert_true(vb_dev_get_status(f.dev) & VB_VIRTIO_S_NEEDS_RESET);
	teardown(&f);
}

/* @verify{VB-REQ-XEN-001} @verify{VB-REQ-XEN-002} */
static void test_xen__configuration_and_start_errors(void **state)
{
	struct vb_xen_config cfg = {
		.version = VB_XEN_CONFIG_V1, .domid = DOMID, .irq_kind = VB_XEN_IRQ_ARM,
	};
	struct vb_xen_device d = { .base = BASE, .size = WINDOW };
	struct vbt_xen_sim x;
	struct vb_xen_server *s;
	struct fx f;

	(void)state;
	memset(&f, 0, sizeof(f));
	open_blk(&f);
	assert_int_equal(vbt_xen_sim_init(&x, DOMID, 16, 1), 0);
	d.ops = vb_blk_device_ops(f.blk);
	d.model = f.blk;

	cfg.irq_kind = (enum vb_xen_irq_kind)0;
	assert_int_equal(vbi_xen_server_new_on(&cfg, vbt_xen_sim_ops(), &x, &s), -EINVAL);
	cfg.irq_kind = VB_XEN_IRQ_ARM;
	assert_int_equal(vbi_xen_server_new_on(&cfg, vbt_xen_sim_ops(), &x, &s), 0);
	x.server = s;
	assert_int_equal(vb_xen_start(s), -EINVAL);		/* no device */
	d.size = 0x80;
	assert_int_equal(vb_xen_add_device(s, &d, NULL), -EINVAL);	/* too small */
	d.size = WINDOW;
	d.base = UINT64_MAX - 0x100;
	assert_int_equal(vb_xen_add_device(s, &d, NULL), -EINVAL);	/* wraps */
	d.base = BASE;
	assert_int_equal(vb_xen_add_device(s, &d, NULL), 0);
	d.base = BASE + 0x100;
	assert_int_equal(vb_xen_add_device(s, &d, NULL), -EINVAL);	/* overlaps */
	assert_int_equal(vb_xen_fd(s), -1);
	assert_int_equal(vb_xen_dispatch(s), -EINVAL);
	assert_int_equal(vb_xen_start(s), 0);
	assert_int_equal(vb_xen_fd(s), x.efd);
	assert_int_equal(vb_xen_start(s), -EBUSY);
	d.base = BASE + 0x1000;
	assert_int_equal(vb_xen_add_device(s, &d, NULL), -EBUSY);
	/* Nothing pending: dispatch does nothing and says so with 0. */
	assert_int_equal(vb_xen_dispatch(s), 0);
	vb_xen_server_free(s);
	assert_false(x.created);
	assert_int_equal(x.vcpu_port[0], 0);
	assert_int_equal(x.buf_port, 0);

	/* A domain the hypervisor does not know: start fails, and undoes what it did. */
	cfg.domid = DOMID + 1;
	d.base = BASE;
	assert_int_equal(vbi_xen_server_new_on(&cfg, vbt_xen_sim_ops(), &x, &s), 0);
	assert_int_equal(vb_xen_add_device(s, &d, NULL), 0);
	assert_true(vb_xen_start(s) < 0);
	assert_false(x.created);
	vb_xen_server_free(s);
	vb_blk_destroy(f.blk);
	vb_blk_file_close(f.file);
	close(f.img);
	vbt_xen_sim_fini(&x);
}

/* A second device on the fixture's server: its own disk, window and driver. */
struct second {
	struct fx		*f;
	uint64_t		base;
	int			img;
	struct vb_blk_file	*file;
	struct vb_blk		*blk;
	struct vbt_mmio_drv	drv;
	struct vbt_split	ring;
};

static int second_access(void *ctx, bool write, uint64_t off, unsigned int size, uint32_t *val)
{
	struct second *b = ctx;
	uint64_t data = write ? *val : 0;
	int ret = vbt_xen_sim_mmio(&b->f->x, 1, write, b->base + off, size, &data);

	if (ret == 0 && !write)
		*val = (uint32_t)data;
	return ret;
}

/* @verify{VB-REQ-XEN-008} */
static void test_xen__shared_interrupt_line(void **state)
{
	struct vb_xen_config cfg = {
		.version = VB_XEN_CONFIG_V1, .domid = DOMID, .irq_kind = VB_XEN_IRQ_ISA,
	};
	struct vb_xen_device d = { .base = BASE, .size = WINDOW, .irq = 7 };
	struct second b;
	struct fx f, tmp;
	uint64_t buf;
	uint32_t id, len;

	(void)state;
	memset(&f, 0, sizeof(f));
	memset(&b, 0, sizeof(b));
	f.base = BASE;
	assert_int_equal(vbt_xen_sim_init(&f.x, DOMID, FRAMES, 2), 0);
	assert_int_equal(vbt_xen_sim_guest(&f.x, &f.g, 0), 0);
	open_blk(&f);
	memset(&tmp, 0, sizeof(tmp));
	open_blk(&tmp);
	b.f = &f;
	b.base = BASE + 0x1000;
	b.img = tmp.img;
	b.file = tmp.file;
	b.blk = tmp.blk;

	/* A PVH guest has no emulated PIC: ISA interrupts are refused before anything is
	 * created (the DM op would crash Xen 4.17). */
	f.x.pvh = true;
	assert_int_equal(vbi_xen_server_new_on(&cfg, vbt_xen_sim_ops(), &f.x, &f.s), 0);
	f.x.server = f.s;
	d.ops = vb_blk_device_ops(f.blk);
	d.model = f.blk;
	assert_int_equal(vb_xen_add_device(f.s, &d, &f.dev), 0);
	assert_int_equal(vb_xen_start(f.s), -EOPNOTSUPP);
	assert_false(f.x.created);
	vb_xen_server_free(f.s);

	/* An HVM guest: two devices on ISA IRQ 7. */
	f.x.pvh = false;
	assert_int_equal(vbi_xen_server_new_on(&cfg, vbt_xen_sim_ops(), &f.x, &f.s), 0);
	f.x.server = f.s;
	assert_int_equal(vb_xen_add_device(f.s, &d, &f.dev), 0);
	d.base = b.base;
	d.ops = vb_blk_device_ops(b.blk);
	d.model = b.blk;
	assert_int_equal(vb_xen_add_device(f.s, &d, NULL), 0);
	assert_int_equal(vb_xen_start(f.s), 0);
	vbt_mmio_drv_init(&f.drv, NULL);
	f.drv.access = drv_access;
	f.drv.access_ctx = &f;
	bring_up(&f);
	vbt_mmio_drv_init(&b.drv, NULL);
	b.drv.access = second_access;
	b.drv.access_ctx = &b;
	vbt_split_init(&b.ring, &f.g, QNUM);
	assert_int_equal(vbt_mmio_init_device(&b.drv, 1ull << VB_VIRTIO_F_VERSION_1, &b.ring, 1),
			 0);

	buf = vbt_guest_alloc(&f.g, 4096, 4096);
	assert_int_equal(blk_rw(&f, VB_VIRTIO_BLK_T_OUT, 0, buf, 4096), VB_VIRTIO_BLK_S_OK);
	assert_true(f.x.irq_level[7]);
	{
		/* The second device completes a request too: the line stays up, raised once. */
		struct fx g2 = f;

		g2.ring = b.ring;
		g2.drv = b.drv;
		assert_int_equal(blk_rw(&g2, VB_VIRTIO_BLK_T_OUT, 0, buf, 4096), VB_VIRTIO_BLK_S_OK);
		b.ring = g2.ring;
		f.g = g2.g;
	}
	assert_int_equal(f.x.irq_raised[7], 1);
	/* The first driver acknowledges: the second device still asserts the line. */
	assert_int_equal(vbt_mmio_interrupt(&f.drv) & 1u, 1);
	assert_true(f.x.irq_level[7]);
	/* The second acknowledges: now it drops. */
	assert_int_equal(vbt_mmio_interrupt(&b.drv) & 1u, 1);
	assert_false(f.x.irq_level[7]);
	(void)vbt_split_get_used(&b.ring, &id, &len);

	teardown(&f);	/* the server goes first: it resets both models */
	vb_blk_destroy(b.blk);
	vb_blk_file_close(b.file);
	close(b.img);
}

/* @verify{VB-REQ-XEN-005} @verify{VB-REQ-XEN-006} */
static void test_xen__rng_beside_blk(void **state)
{
	static const char text[] = "entropy from the back-end's file, served over Xen. ";
	struct vb_rng_config rc = { .version = VB_RNG_CONFIG_V1 };
	struct vb_xen_device d = { .base = BASE + 0x1000, .size = WINDOW, .irq = IRQ + 1 };
	struct vb_rng_file *rf;
	struct vb_rng *rng;
	struct second b;
	struct fx f, *fp = &f;
	char path[] = "/tmp/vbt-xen-rng.XXXXXX";
	uint64_t buf;
	uint32_t id, len;
	int fd;

	(void)state;
	fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, sizeof(text) - 1), (ssize_t)(sizeof(text) - 1));
	close(fd);
	assert_int_equal(vb_rng_file_open(path, &rf), 0);
	unlink(path);
	assert_int_equal(vb_rng_create(&rc, &vb_rng_file_ops, rf, &rng), 0);

	/* blk at BASE (the fixture), rng in a second window of the same server. */
	memset(&f, 0, sizeof(f));
	f.base = BASE;
	assert_int_equal(vbt_xen_sim_init(&f.x, DOMID, FRAMES, 2), 0);
	assert_int_equal(vbt_xen_sim_guest(&f.x, &f.g, 0), 0);
	open_blk(&f);
	{
		struct vb_xen_config cfg = {
			.version = VB_XEN_CONFIG_V1, .domid = DOMID, .irq_kind = VB_XEN_IRQ_ARM,
		};
		struct vb_xen_device bd = { .base = BASE, .size = WINDOW, .irq = IRQ };

		assert_int_equal(vbi_xen_server_new_on(&cfg, vbt_xen_sim_ops(), &f.x, &f.s), 0);
		f.x.server = f.s;
		bd.ops = vb_blk_device_ops(f.blk);
		bd.model = f.blk;
		assert_int_equal(vb_xen_add_device(f.s, &bd, &f.dev), 0);
	}
	d.ops = vb_rng_device_ops(rng);
	d.model = rng;
	assert_int_equal(vb_xen_add_device(f.s, &d, NULL), 0);
	assert_int_equal(vb_xen_start(f.s), 0);
	vbt_mmio_drv_init(&f.drv, NULL);
	f.drv.access = drv_access;
	f.drv.access_ctx = fp;
	bring_up(&f);

	memset(&b, 0, sizeof(b));
	b.f = &f;
	b.base = d.base;
	vbt_mmio_drv_init(&b.drv, NULL);
	b.drv.access = second_access;
	b.drv.access_ctx = &b;
	vbt_split_init(&b.ring, &f.g, QNUM);
	assert_int_equal(vbt_mmio_init_device(&b.drv, 1ull << VB_VIRTIO_F_VERSION_1, &b.ring, 1),
			 0);
	assert_int_equal(b.drv.device_id, VB_VIRTIO_ID_RNG);

	/* The guest posts 40 writable bytes; the file's bytes land there, zero copy. */
	buf = vbt_guest_alloc(&f.g, 40, 8);
	{
		struct vbt_buf one = { buf, 40, true };

		vbt_split_add(&b.ring, &one, 1, false);
	}
	assert_int_equal(vbt_mmio_notify(&b.drv, 0), 0);
	assert_int_equal(vbt_split_get_used(&b.ring, &id, &len), 1);
	assert_int_equal(len, 40);
	assert_memory_equal(vbt_guest_ptr(&f.g, buf), text, 40);
	assert_true(f.x.irq_level[IRQ + 1]);
	assert_false(f.x.irq_level[IRQ]);
	/* blk on the same server still works. */
	buf = vbt_guest_alloc(&f.g, 512, 512);
	assert_int_equal(blk_rw(&f, VB_VIRTIO_BLK_T_IN, 0, buf, 512), VB_VIRTIO_BLK_S_OK);

	teardown(&f);
	vb_rng_destroy(rng);
	vb_rng_file_close(rf);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_xen__configuration_and_start_errors),
		cmocka_unit_test(test_xen__blk_over_foreign_mappings),
		cmocka_unit_test(test_xen__blk_over_grants),
		cmocka_unit_test(test_xen__revoked_or_read_only_grants_fail_cleanly),
		cmocka_unit_test(test_xen__hostile_ioreqs_are_answered_harmlessly),
		cmocka_unit_test(test_xen__buffered_writes),
		cmocka_unit_test(test_xen__map_cache_is_bounded_and_invalidated),
		cmocka_unit_test(test_xen__frames_xen_refuses_are_never_mapped),
		cmocka_unit_test(test_xen__shared_interrupt_line),
		cmocka_unit_test(test_xen__rng_beside_blk),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
