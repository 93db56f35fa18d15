/* SPDX-License-Identifier: MIT */
/*
 * The virtio-blk model (src/devices/blk/) behind a vb_dev, driven by the split-ring driver
 * simulator in fake guest memory, against a real temporary image file through both file
 * backends (synchronous, io_uring) and against an in-memory fake backend that can complete
 * asynchronously in any order.
 *
 * Every file test runs twice: group "blk-sync" and group "blk-uring" (skipped, with the
 * reason printed, where io_uring_queue_init() fails, e.g. under seccomp).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdalign.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <poll.h>
#include <unistd.h>
#include <cmocka.h>

#include "virtio-backend.h"
#include "virtio-backend/devices/blk.h"
#include "vbt-mem.h"
#include "vbt-split.h"

#define GUEST_GPA	0x40000000u
#define GUEST_SIZE	(1u << 20)
#define QSZ		64u
#define DISK_SECTORS	2048u		/* 1 MiB image */
#define DISK_BYTES	(DISK_SECTORS * 512u)
#define SERIAL		"vb-test-serial"

enum be_kind { BE_SYNC, BE_URING, BE_FAKE };

/* In-memory backend: synchronous, or asynchronous with completions in the test's order. */
struct fake {
	struct vb_blk		*blk;
	uint8_t			*disk;
	bool			async;
	int			fail;		/* result of every submit, if non-zero */
	struct vb_blk_io	*pending[4 * QSZ];
	unsigned int		n_pending;
	unsigned int		submits, commits, drains;
	uint32_t		last_op, last_flags;
};

struct fx {
	enum be_kind		kind;
	struct vbt_guest	g;
	struct vbt_split	r;
	struct vb_transport_ops	tops;
	unsigned int		notifies, config_changes;
	alignas(8) uint8_t	dev_storage[VB_DEV_STORAGE_MAX(4)];
	struct vb_dev		*dev;
	struct vb_blk		*blk;
	struct vb_blk_config	cfg;
	struct vb_blk_backend_ops fops;
	struct fake		fake;
	struct vb_blk_file	*file;
	struct vb_blk_uring	*uring;
	char			path[64];
	int			fd;		/* the test's own view of the image */
	bool			direct;		/* open the image O_DIRECT */
	bool			started;
};

static bool uring_ok = true;
static char uring_why[128];

static int t_notify(void *t, uint16_t q)
{
	(void)q;
	((struct fx *)t)->notifies++;
	return 0;
}

static int t_config_changed(void *t)
{
	((struct fx *)t)->config_changes++;
	return 0;
}

/* ---- fake backend ---- */

static void fake_do(struct fake *k, const struct vb_blk_io *io)
{
	uint64_t off = io->offset;

	switch (io->op) {
	case VB_BLK_OP_READ:
	case VB_BLK_OP_WRITE:
		for (unsigned int i = 0; i < io->iov_num; i++) {
			if (io->op == VB_BLK_OP_READ)
				memcpy(io->iov[i].base, k->disk + off, io->iov[i].len);
			else
				memcpy(k->disk + off, io->iov[i].base, io->iov[i].len);
			off += io->iov[i].len;
		}
		break;
	case VB_BLK_OP_DISCARD:
	case VB_BLK_OP_WRITE_ZEROES:
		memset(k->disk + off, 0, io->len);
		break;
	default:
		break;
	}
}

static int fake_submit(void *be, struct vb_blk_io *io)
{
	struct fake *k = be;

	k->submits++;
	k->last_op = io->op;
	k->last_flags = io->flags;
	if (k->fail)
		return k->fail;
	if (k->async) {
		assert_true(k->n_pending < 4 * QSZ);
		k->pending[k->n_pending++] = io;
		return VB_BLK_PENDING;
	}
	fake_do(k, io);
	return 0;
}

static void fake_commit(void *be)
{
	((struct fake *)be)->commits++;
}

/* Complete pending operation i (0: oldest). */
static void fake_complete(struct fake *k, unsigned int i, int result)
{
	struct vb_blk_io *io = k->pending[i];

	memmove(&k->pending[i], &k->pending[i + 1], (k->n_pending - i - 1) * sizeof(io));
	k->n_pending--;
	if (result == 0)
		fake_do(k, io);
	vb_blk_complete(io, result);
}

static void fake_drain(void *be)
{
	struct fake *k = be;

	k->drains++;
	while (k->n_pending)
		fake_complete(k, 0, 0);
}

static int fake_lifetime(void *be, struct vb_virtio_blk_lifetime *lt)
{
	(void)be;
	lt->pre_eol_info = vb_cpu_to_le16(1);
	lt->device_lifetime_est_typ_a = vb_cpu_to_le16(2);
	lt->device_lifetime_est_typ_b = vb_cpu_to_le16(3);
	return 0;
}

/* ---- fixture ---- */

static uint8_t pattern(uint64_t i)
{
	return (uint8_t)(i * 7u + i / 512u + 1u);
}

static void default_cfg(struct vb_blk_config *c)
{
	memset(c, 0, sizeof(*c));
	c->version = VB_BLK_CONFIG_V1;
	c->flags = VB_BLK_CFG_DISCARD | VB_BLK_CFG_WRITE_ZEROES | VB_BLK_CFG_WZ_MAY_UNMAP;
	c->capacity = DISK_SECTORS;
	c->num_queues = 1;
	c->queue_num_max = QSZ;
	c->blk_size = 512;
	c->max_discard_seg = 4;
	c->max_write_zeroes_seg = 4;
	c->max_discard_sectors = 1024;
	memcpy(c->serial, SERIAL, sizeof(SERIAL) - 1);
}

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	f->kind = *(enum be_kind *)*state;
	f->fd = -1;
	default_cfg(&f->cfg);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;

	if (f->uring)
		vb_blk_uring_close(f->uring);
	if (f->file)
		vb_blk_file_close(f->file);
	vb_blk_destroy(f->blk);
	if (f->fd >= 0) {
		close(f->fd);
		unlink(f->path);
	}
	free(f->fake.disk);
	if (f->started)
		vbt_guest_fini(&f->g);
	free(f);
	return 0;
}

/* Make the image, the backend, the model and a running device; the driver accepts every
 * offered feature except those in drop. */
static void start(struct fx *f, size_t region_size, uint64_t drop)
{
	struct vb_queue_config qc;
	void *be = NULL;
	const struct vb_blk_backend_ops *ops = NULL;
	uint64_t feat;
	uint8_t *img = malloc(DISK_BYTES);

	if (f->kind == BE_URING && !uring_ok)
		skip();
	assert_non_null(img);
	for (uint64_t i = 0; i < DISK_BYTES; i++)
		img[i] = pattern(i);
	if (f->kind == BE_FAKE) {
		f->fake.disk = img;
		f->fops = (struct vb_blk_backend_ops){ .version = VB_BLK_BACKEND_OPS_V1,
			.submit = fake_submit, .commit = fake_commit, .drain = fake_drain };
		ops = &f->fops;
		be = &f->fake;
	} else {
		unsigned int fl = (f->cfg.flags & VB_BLK_CFG_READ_ONLY) ? VB_BLK_FILE_READ_ONLY : 0;

		if (f->direct)
			fl |= VB_BLK_FILE_DIRECT;

		snprintf(f->path, sizeof(f->path), "/tmp/vb-test-blk-XXXXXX");
		f->fd = mkstemp(f->path);
		assert_true(f->fd >= 0);
		assert_int_equal(pwrite(f->fd, img, DISK_BYTES, 0), (ssize_t)DISK_BYTES);
		free(img);
		if (f->kind == BE_SYNC) {
			int ret = vb_blk_file_open(f->path, fl, &f->file);

			if (ret == -EINVAL && f->direct) {
				printf("O_DIRECT not supported on /tmp: skipped\n");
				skip();
			}
			assert_int_equal(ret, 0);
			assert_int_equal(vb_blk_file_capacity(f->file), DISK_SECTORS);
			ops = &vb_blk_file_ops;
			be = f->file;
		} else {
			int ret = vb_blk_uring_open(f->path, fl, 4 * QSZ, &f->uring);

			if (ret == -EINVAL && f->direct) {
				printf("O_DIRECT not supported on /tmp: skipped\n");
				skip();
			}
			assert_int_equal(ret, 0);
			assert_int_equal(vb_blk_uring_capacity(f->uring), DISK_SECTORS);
			assert_true(vb_blk_uring_eventfd(f->uring) >= 0);
			ops = &vb_blk_uring_ops;
			be = f->uring;
		}
	}
	assert_int_equal(vb_blk_create(&f->cfg, ops, be, &f->blk), 0);
	f->fake.blk = f->blk;

	assert_int_equal(vbt_guest_init(&f->g, GUEST_GPA, region_size ? 64 * region_size : GUEST_SIZE,
					region_size), 0);
	f->started = true;
	vbt_split_init(&f->r, &f->g, QSZ);
	f->tops = (struct vb_transport_ops){ .version = VB_TRANSPORT_OPS_V1,
		.notify = t_notify, .config_changed = t_config_changed };
	assert_int_equal(vb_dev_init(f->dev_storage, sizeof(f->dev_storage),
				     vb_blk_device_ops(f->blk), f->blk, &f->tops, f, &f->g.mem,
				     &f->dev), 0);
	assert_int_equal(vb_dev_set_status(f->dev, VB_VIRTIO_S_ACKNOWLEDGE), 0);
	assert_int_equal(vb_dev_set_status(f->dev, VB_VIRTIO_S_ACKNOWLEDGE | VB_VIRTIO_S_DRIVER), 0);
	feat = vb_dev_get_features(f->dev) & ~(drop | VB_BIT(VB_VIRTIO_F_RING_PACKED));
	assert_int_equal(vb_dev_set_driver_features(f->dev, feat), 0);
	assert_int_equal(vb_dev_set_status(f->dev, VB_VIRTIO_S_ACKNOWLEDGE | VB_VIRTIO_S_DRIVER |
					   VB_VIRTIO_S_FEATURES_OK), 0);
	qc = (struct vb_queue_config){ .num = QSZ, .desc = f->r.desc_gpa,
				       .driver = f->r.avail_gpa, .device = f->r.used_gpa };
	assert_int_equal(vb_dev_queue_set_config(f->dev, 0, &qc), 0);
	assert_int_equal(vb_dev_queue_enable(f->dev, 0, true), 0);
	assert_int_equal(vb_dev_set_status(f->dev, VB_VIRTIO_S_ACKNOWLEDGE | VB_VIRTIO_S_DRIVER |
					   VB_VIRTIO_S_FEATURES_OK | VB_VIRTIO_S_DRIVER_OK), 0);
}

/* Kick queue 0 and, with io_uring, reap until nothing is in flight. */
static void run(struct fx *f)
{
	assert_int_equal(vb_dev_kick(f->dev, 0), 0);
	while (f->uring && vb_blk_inflight(f->blk))
		assert_true(vb_blk_uring_complete(f->uring, 1) >= 0);
}

static uint64_t galloc(struct fx *f, size_t len)
{
	return vbt_guest_alloc(&f->g, len, 8);
}

static uint64_t header(struct fx *f, uint32_t type, uint64_t sector)
{
	uint64_t gpa = galloc(f, 16);
	struct vb_virtio_blk_req_hdr h = { vb_cpu_to_le32(type), vb_cpu_to_le32(0),
					   vb_cpu_to_le64(sector) };

	memcpy(vbt_guest_ptr(&f->g, gpa), &h, sizeof(h));
	return gpa;
}

/* The driver's view of one completed request. */
struct done {
	uint32_t id, len;
	int	 status;	/* -1: the status byte was not written */
};

/* Post bufs, run, and collect one used element; status read from status_gpa (0: none). */
static struct done post(struct fx *f, const struct vbt_buf *bufs, unsigned int n,
			uint64_t status_gpa)
{
	struct done d = { 0, 0, -1 };
	uint8_t *st = status_gpa ? vbt_guest_ptr(&f->g, status_gpa) : NULL;
	uint16_t head;

	if (st)
		*st = 0xee;
	head = vbt_split_add(&f->r, bufs, n, false);
	run(f);
	assert_int_equal(vbt_split_get_used(&f->r, &d.id, &d.len), 1);
	assert_int_equal(d.id, head);
	if (st && *st != 0xee)
		d.status = *st;
	return d;
}

/* A well-formed request: header, data in one descriptor (or none), status byte alone. */
static struct done rq(struct fx *f, uint32_t type, uint64_t sector, uint64_t data,
		      uint32_t data_len, bool dev_writes)
{
	uint64_t st = galloc(f, 1);
	struct vbt_buf b[3];
	unsigned int n = 0;

	b[n++] = (struct vbt_buf){ header(f, type, sector), 16, false };
	if (data_len)
		b[n++] = (struct vbt_buf){ data, data_len, dev_writes };
	b[n++] = (struct vbt_buf){ st, 1, true };
	return post(f, b, n, st);
}

static void file_read(struct fx *f, uint64_t off, void *buf, size_t len)
{
	if (f->kind == BE_FAKE)
		memcpy(buf, f->fake.disk + off, len);
	else
		assert_int_equal(pread(f->fd, buf, len, (off_t)off), (ssize_t)len);
}

static void check_pattern(struct fx *f, uint64_t off, size_t len)
{
	uint8_t *b = malloc(len);

	assert_non_null(b);
	file_read(f, off, b, len);
	for (size_t i = 0; i < len; i++)
		if (b[i] != pattern(off + i))
			fail_msg("image byte %llu changed", (unsigned long long)(off + i));
	free(b);
}

static void check_zero(struct fx *f, uint64_t off, size_t len)
{
	uint8_t *b = malloc(len);

	assert_non_null(b);
	file_read(f, off, b, len);
	for (size_t i = 0; i < len; i++)
		if (b[i])
			fail_msg("image byte %llu not zero", (unsigned long long)(off + i));
	free(b);
}

static uint64_t dwz_data(struct fx *f, const uint64_t *sector, const uint32_t *num,
			 const uint32_t *flags, unsigned int n)
{
	uint64_t gpa = galloc(f, 16u * n);

	for (unsigned int i = 0; i < n; i++) {
		struct vb_virtio_blk_discard_write_zeroes s = { vb_cpu_to_le64(sector[i]),
			vb_cpu_to_le32(num[i]), vb_cpu_to_le32(flags[i]) };

		memcpy(vbt_guest_ptr(&f->g, gpa + 16u * i), &s, 16);
	}
	return gpa;
}

/* ---- tests on the image file (both backends) ---- */

/* @verify{VB-REQ-BLK-003} @verify{VB-REQ-BLK-002} config space reports the image size and
 * the options; padding is zero */
static void test_blk__config_matches_file_and_options(void **state)
{
	struct fx *f = *state;
	struct vb_virtio_blk_config c;
	uint64_t feat;

	f->cfg.num_queues = 2;
	f->cfg.seg_max = 64;
	f->cfg.physical_block_exp = 3;
	f->cfg.opt_io_size = 8;
	start(f, 0, 0);
	assert_int_equal(vb_dev_config_read(f->dev, 0, &c, sizeof(c)), 0);
	assert_int_equal(vb_le64_to_cpu(c.capacity), DISK_SECTORS);
	assert_int_equal(vb_le32_to_cpu(c.seg_max), 64);
	assert_int_equal(vb_le32_to_cpu(c.blk_size), 512);
	assert_int_equal(c.physical_block_exp, 3);
	assert_int_equal(vb_le32_to_cpu(c.opt_io_size), 8);
	assert_int_equal(c.writeback, 1);
	assert_int_equal(c.unused0, 0);
	assert_int_equal(vb_le16_to_cpu(c.num_queues), 2);
	assert_int_equal(vb_le32_to_cpu(c.max_discard_sectors), 1024);
	assert_int_equal(vb_le32_to_cpu(c.max_discard_seg), 4);
	assert_int_equal(vb_le32_to_cpu(c.discard_sector_alignment), 1);
	assert_int_equal(vb_le32_to_cpu(c.max_write_zeroes_sectors), UINT32_MAX);
	assert_int_equal(vb_le32_to_cpu(c.max_write_zeroes_seg), 4);
	assert_int_equal(c.write_zeroes_may_unmap, 1);
	assert_int_equal(c.unused1[0] | c.unused1[1] | c.unused1[2], 0);
	assert_int_equal(vb_dev_ops(f->dev)->device_id, VB_VIRTIO_ID_BLOCK);
	feat = vb_dev_get_features(f->dev);
	assert_true(feat & VB_BIT(VB_VIRTIO_BLK_F_SEG_MAX));
	assert_true(feat & VB_BIT(VB_VIRTIO_BLK_F_BLK_SIZE));
	assert_true(feat & VB_BIT(VB_VIRTIO_BLK_F_FLUSH));
	assert_true(feat & VB_BIT(VB_VIRTIO_BLK_F_CONFIG_WCE));
	assert_true(feat & VB_BIT(VB_VIRTIO_BLK_F_TOPOLOGY));
	assert_true(feat & VB_BIT(VB_VIRTIO_BLK_F_MQ));
	assert_true(feat & VB_BIT(VB_VIRTIO_BLK_F_DISCARD));
	assert_true(feat & VB_BIT(VB_VIRTIO_BLK_F_WRITE_ZEROES));
	assert_false(feat & VB_BIT(VB_VIRTIO_BLK_F_RO));
	assert_false(feat & VB_BIT(VB_VIRTIO_BLK_F_GEOMETRY));
	assert_false(feat & VB_BIT(VB_VIRTIO_BLK_F_SIZE_MAX));
	assert_false(feat & VB_BIT(VB_VIRTIO_BLK_F_LIFETIME));
	assert_false(feat & VB_BIT(VB_VIRTIO_F_IN_ORDER));
	/* Out of range: the core refuses. */
	assert_int_equal(vb_dev_config_read(f->dev, 90, &c, 8), -EINVAL);
}

/* @verify{VB-REQ-BLK-014} @verify{VB-REQ-BLK-030} @verify{VB-REQ-BLK-031} a read returns
 * the image's bytes; used length is data + status */
static void test_blk__read_returns_file_data(void **state)
{
	struct fx *f = *state;
	uint64_t data;
	struct done d;
	uint8_t *p;

	start(f, 0, 0);
	data = galloc(f, 4096);
	d = rq(f, VB_VIRTIO_BLK_T_IN, 10, data, 4096, true);
	assert_int_equal(d.status, VB_VIRTIO_BLK_S_OK);
	assert_int_equal(d.len, 4097);
	p = vbt_guest_ptr(&f->g, data);
	for (unsigned int i = 0; i < 4096; i++)
		assert_int_equal(p[i], pattern(10u * 512u + i));
	/* The last sector too. */
	d = rq(f, VB_VIRTIO_BLK_T_IN, DISK_SECTORS - 1, data, 512, true);
	assert_int_equal(d.status, VB_VIRTIO_BLK_S_OK);
	assert_int_equal(p[511], pattern(DISK_BYTES - 1));
}

/* @verify{VB-REQ-BLK-014} @verify{VB-REQ-BLK-030} @verify{VB-REQ-BLK-031} a write reaches
 * the image and nothing else changes */
static void test_blk__write_reaches_file(void **state)
{
	struct fx *f = *state;
	uint8_t buf[2048];
	uint64_t data;
	struct done d;

	start(f, 0, 0);
	data = galloc(f, 2048);
	for (unsigned int i = 0; i < 2048; i++)
		((uint8_t *)vbt_guest_ptr(&f->g, data))[i] = (uint8_t)(0xa5 ^ i);
	d = rq(f, VB_VIRTIO_BLK_T_OUT, 100, data, 2048, false);
	assert_int_equal(d.status, VB_VIRTIO_BLK_S_OK);
	assert_int_equal(d.len, 1);
	file_read(f, 100u * 512u, buf, sizeof(buf));
	for (unsigned int i = 0; i < 2048; i++)
		assert_int_equal(buf[i], (uint8_t)(0xa5 ^ i));
	check_pattern(f, 99u * 512u, 512);
	check_pattern(f, 104u * 512u, 512);
}

/* @verify{VB-REQ-BLK-015} @verify{VB-REQ-BLK-030} @verify{VB-REQ-BLK-031} FLUSH completes OK */
static void test_blk__flush_reaches_backend(void **state)
{
	struct fx *f = *state;
	struct done d;

	start(f, 0, 0);
	d = rq(f, VB_VIRTIO_BLK_T_FLUSH, 0, 0, 0, false);
	assert_int_equal(d.status, VB_VIRTIO_BLK_S_OK);
	assert_int_equal(d.len, 1);
}

/* @verify{VB-REQ-BLK-016} GET_ID writes the NUL-padded serial */
static void test_blk__get_id_returns_serial(void **state)
{
	struct fx *f = *state;
	char want[20] = SERIAL;
	uint64_t data;
	struct done d;

	start(f, 0, 0);
	data = galloc(f, 20);
	memset(vbt_guest_ptr(&f->g, data), 'x', 20);
	d = rq(f, VB_VIRTIO_BLK_T_GET_ID, 0, data, 20, true);
	assert_int_equal(d.status, VB_VIRTIO_BLK_S_OK);
	assert_int_equal(d.len, 21);
	assert_memory_equal(vbt_guest_ptr(&f->g, data), want, 20);
	/* A buffer bigger than a sector is not a GET_ID the spec describes. */
	data = galloc(f, 600);
	d = rq(f, VB_VIRTIO_BLK_T_GET_ID, 0, data, 600, true);
	assert_int_equal(d.status, VB_VIRTIO_BLK_S_IOERR);
}

/* @verify{VB-REQ-BLK-012} requests past the end or whose sector range wraps get IOERR and
 * touch nothing */
static void test_blk__beyond_capacity_ioerr(void **state)
{
	struct fx *f = *state;
	uint64_t data;
	struct done d;

	start(f, 0, 0);
	data = galloc(f, 1024);
	memset(vbt_guest_ptr(&f->g, data), 0x11, 1024);
	d = rq(f, VB_VIRTIO_BLK_T_OUT, DISK_SECTORS - 1, data, 1024, false);
	assert_int_equal(d.status, VB_VIRTIO_BLK_S_IOERR);
	d = rq(f, VB_VIRTIO_BLK_T_OUT, DISK_SECTORS, data, 512, false);
	assert_int_equal(d.status, VB_VIRTIO_BLK_S_IOERR);
	d = rq(f, VB_VIRTIO_BLK_T_OUT, UINT64_MAX, data, 1024, false);
	assert_int_equal(d.status, VB_VIRTIO_BLK_S_IOERR);
	d = rq(f, VB_VIRTIO_BLK_T_OUT, UINT64_MAX >> 9, data, 1024, false);
	assert_int_equal(d.status, VB_VIRTIO_BLK_S_IOERR);
	d = rq(f, VB_VIRTIO_BLK_T_IN, UINT64_MAX - 1, data, 1024, true);
	assert_int_equal(d.status, VB_VIRTIO_BLK_S_IOERR);
	assert_int_equal(d.len, 1025);
	check_pattern(f, DISK_BYTES - 512u, 512);
	/* Exactly up to the end is fine. */
	d = rq(f, VB_VIRTIO_BLK_T_IN, DISK_SECTORS - 2, data, 1024, true);
	assert_int_equal(d.status, VB_VIRTIO_BLK_S_OK);
}

/* @verify{VB-REQ-BLK-012} data lengths that are not whole sectors get IOERR */
static void test_blk__unaligned_length_ioerr(void **state)
{
	struct fx *f = *state;
	uint64_t data;
	struct done d;

	start(f, 0, 0);
	data = galloc(f, 1024);
	d = rq(f, VB_VIRTIO_BLK_T_OUT, 0, data, 100, false);
	assert_int_equal(d.status, VB_VIRTIO_BLK_S_IOERR);
	d = rq(f, VB_VIRTIO_BLK_T_IN, 0, data, 513, true);
	assert_int_equal(d.status, VB_VIRTIO_BLK_S_IOERR);
	d = rq(f, VB_VIRTIO_BLK_T_IN, 0, data, 1, true);
	assert_int_equal(d.status, VB_VIRTIO_BLK_S_IOERR);
	check_pattern(f, 0, 1024);
	/* Zero-length transfers do nothing and succeed. */
	d = rq(f, VB_VIRTIO_BLK_T_IN, 5, 0, 0, true);
	assert_int_equal(d.status, VB_VIRTIO_BLK_S_OK);
}

/* @verify{VB-REQ-BLK-013} @verify{VB-REQ-BLK-002} a read-only disk offers RO, no discard or
 * write zeroes, and refuses every write with IOERR without touching the image */
static void test_blk__read_only_refuses_writes(void **state)
{
	struct fx *f = *state;
	uint64_t sec[1] = { 0 }, data, seg;
	uint32_t num[1] = { 8 }, fl[1] = { 0 };
	uint64_t feat;
	struct done d;

	f->cfg.flags |= VB_BLK_CFG_READ_ONLY;
	start(f, 0, 0);
	feat = vb_dev_get_features(f->dev);
	assert_true(feat & VB_BIT(VB_VIRTIO_BLK_F_RO));
	assert_false(feat & VB_BIT(VB_VIRTIO_BLK_F_DISCARD));
	assert_false(feat & VB_BIT(VB_VIRTIO_BLK_F_WRITE_ZEROES));
	data = galloc(f, 512);
	memset(vbt_guest_ptr(&f->g, data), 0, 512);
	d = rq(f, VB_VIRTIO_BLK_T_OUT, 0, data, 512, false);
	assert_int_equal(d.status, VB_VIRTIO_BLK_S_IOERR);
	seg = dwz_data(f, sec, num, fl, 1);
	d = rq(f, VB_VIRTIO_BLK_T_DISCARD, 0, seg, 16, false);
	assert_int_equal(d.status, VB_VIRTIO_BLK_S_IOERR);
	d = rq(f, VB_VIRTIO_BLK_T_WRITE_ZEROES, 0, seg, 16, false);
	assert_int_equal(d.status, VB_VIRTIO_BLK_S_IOERR);
	check_pattern(f, 0, 8 * 512);
	/* Reads and flushes still work. */
	d = rq(f, VB_VIRTIO_BLK_T_IN, 0, data, 512, true);
	assert_int_equal(d.status, VB_VIRTIO_BLK_S_OK);
	d = rq(f, VB_VIRTIO_BLK_T_FLUSH, 0, 0, 0, false);
	assert_int_equal(d.status, VB_VIRTIO_BLK_S_OK);
}

/* @verify{VB-REQ-BLK-018} @verify{VB-REQ-BLK-030} @verify{VB-REQ-BLK-031} a discard
 * deallocates the range of the image (a hole) */
static void test_blk__discard_punches_hole(void **state)
{
	struct fx *f = *state;
	uint64_t sec[2] = { 256, 768 }, seg;
	uint32_t num[2] = { 128, 128 }, fl[2] = { 0, 0 };
	struct done d;
	off_t hole;

	start(f, 0, 0);
	seg = dwz_data(f, sec, num, fl, 2);
	d = rq(f, VB_VIRTIO_BLK_T_DISCARD, 0, seg, 32, false);
	assert_int_equal(d.status, VB_VIRTIO_BLK_S_OK);
	if (f->kind == BE_FAKE) {
		check_zero(f, 256u * 512u, 64u * 1024u);
		return;
	}
	hole = lseek(f->fd, 0, SEEK_HOLE);
	assert_true(hole >= 0);
	/* ext4/xfs/tmpfs punch 4 KiB blocks: the first hole starts at the first segment. */
	assert_int_equal(hole, 256 * 512);
	check_zero(f, 256u * 512u, 64u * 1024u);
	check_zero(f, 768u * 512u, 64u * 1024u);
	check_pattern(f, 255u * 512u, 512);
	check_pattern(f, 384u * 512u, 512);
}

/* @verify{VB-REQ-BLK-018} @verify{VB-REQ-BLK-030} @verify{VB-REQ-BLK-031} write zeroes makes
 * reads return zeroes, with and without unmap */
static void test_blk__write_zeroes_reads_zero(void **state)
{
	struct fx *f = *state;
	uint64_t sec[2] = { 3, 1000 }, seg, data;
	uint32_t num[2] = { 5, 16 }, fl[2] = { 0, VB_VIRTIO_BLK_WRITE_ZEROES_FLAG_UNMAP };
	struct done d;
	uint8_t *p;

	start(f, 0, 0);
	seg = dwz_data(f, sec, num, fl, 2);
	d = rq(f, VB_VIRTIO_BLK_T_WRITE_ZEROES, 0, seg, 32, false);
	assert_int_equal(d.status, VB_VIRTIO_BLK_S_OK);
	check_zero(f, 3u * 512u, 5u * 512u);
	check_zero(f, 1000u * 512u, 16u * 512u);
	check_pattern(f, 2u * 512u, 512);
	check_pattern(f, 8u * 512u, 512);
	check_pattern(f, 1016u * 512u, 512);
	/* And through the device itself. */
	data = galloc(f, 512);
	d = rq(f, VB_VIRTIO_BLK_T_IN, 1001, data, 512, true);
	assert_int_equal(d.status, VB_VIRTIO_BLK_S_OK);
	p = vbt_guest_ptr(&f->g, data);
	for (unsigned int i = 0; i < 512; i++)
		assert_int_equal(p[i], 0);
}

/* @verify{VB-REQ-BLK-014} @verify{VB-REQ-BLK-030} @verify{VB-REQ-BLK-031} requests made of
 * many descriptors, each split by small memory regions, move the right bytes */
static void test_blk__split_buffers_across_regions(void **state)
{
	struct fx *f = *state;
	struct vbt_buf b[6];
	uint64_t st, data[4], scratch;
	uint8_t buf[4 * 700];
	struct done d;

	start(f, 1024, 0);	/* 64 regions of 1 KiB */
	/* Four data buffers summing to 4 sectors, none a whole sector, at odd addresses so
	 * that they cross region boundaries. */
	static const uint32_t len[4] = { 700, 300, 1000, 48 };
	scratch = galloc(f, 3);
	(void)scratch;
	for (unsigned int i = 0; i < 4; i++)
		data[i] = galloc(f, len[i] + 5) + 3;
	st = galloc(f, 1);
	/* OUT: header, four readable data buffers, status. */
	b[0] = (struct vbt_buf){ header(f, VB_VIRTIO_BLK_T_OUT, 50), 16, false };
	for (unsigned int i = 0, k = 0; i < 4; i++) {
		for (unsigned int j = 0; j < len[i]; j++, k++)
			((uint8_t *)vbt_guest_ptr(&f->g, data[i]))[j] = (uint8_t)(k * 13u + 1u);
		b[1 + i] = (struct vbt_buf){ data[i], len[i], false };
	}
	b[5] = (struct vbt_buf){ st, 1, true };
	d = post(f, b, 6, st);
	assert_int_equal(d.status, VB_VIRTIO_BLK_S_OK);
	file_read(f, 50u * 512u, buf, 2048);
	for (unsigned int k = 0; k < 2048; k++)
		assert_int_equal(buf[k], (uint8_t)(k * 13u + 1u));
	check_pattern(f, 54u * 512u, 512);
	/* IN of the same range into the same buffers, cleared first. */
	for (unsigned int i = 0; i < 4; i++) {
		memset(vbt_guest_ptr(&f->g, data[i]), 0, len[i]);
		b[1 + i].write = true;
	}
	b[0] = (struct vbt_buf){ header(f, VB_VIRTIO_BLK_T_IN, 50), 16, false };
	d = post(f, b, 6, st);
	assert_int_equal(d.status, VB_VIRTIO_BLK_S_OK);
	assert_int_equal(d.len, 2049);
	for (unsigned int i = 0, k = 0; i < 4; i++)
		for (unsigned int j = 0; j < len[i]; j++, k++)
			assert_int_equal(((uint8_t *)vbt_guest_ptr(&f->g, data[i]))[j],
					 (uint8_t)(k * 13u + 1u));
}

/* @verify{VB-REQ-BLK-014} the status byte may share the last data buffer, and the header the
 * first one */
static void test_blk__status_byte_shares_data_buffer(void **state)
{
	struct fx *f = *state;
	struct vbt_buf b[2];
	uint64_t hd, buf;
	struct done d;
	uint8_t *p;

	start(f, 0, 0);
	/* IN: one readable header, one writable 513-byte buffer: 512 data + status. */
	buf = galloc(f, 513);
	b[0] = (struct vbt_buf){ header(f, VB_VIRTIO_BLK_T_IN, 7), 16, false };
	b[1] = (struct vbt_buf){ buf, 513, true };
	d = post(f, b, 2, buf + 512);
	assert_int_equal(d.status, VB_VIRTIO_BLK_S_OK);
	assert_int_equal(d.len, 513);
	p = vbt_guest_ptr(&f->g, buf);
	for (unsigned int i = 0; i < 512; i++)
		assert_int_equal(p[i], pattern(7u * 512u + i));
	/* OUT: header and data in one readable buffer. */
	hd = galloc(f, 16 + 512);
	memcpy(vbt_guest_ptr(&f->g, hd), vbt_guest_ptr(&f->g, header(f, VB_VIRTIO_BLK_T_OUT, 9)),
	       16);
	memset((uint8_t *)vbt_guest_ptr(&f->g, hd) + 16, 0x5a, 512);
	b[0] = (struct vbt_buf){ hd, 528, false };
	b[1] = (struct vbt_buf){ galloc(f, 1), 1, true };
	d = post(f, b, 2, b[1].gpa);
	assert_int_equal(d.status, VB_VIRTIO_BLK_S_OK);
	{
		uint8_t got[512], want[512];

		memset(want, 0x5a, sizeof(want));
		file_read(f, 9u * 512u, got, sizeof(got));
		assert_memory_equal(got, want, sizeof(got));
	}
}

/* @verify{VB-REQ-BLK-010} a readable part shorter than the header gets IOERR */
static void test_blk__short_header_ioerr(void **state)
{
	struct fx *f = *state;
	struct vbt_buf b[2];
	uint64_t st;
	struct done d;

	start(f, 0, 0);
	st = galloc(f, 1);
	b[0] = (struct vbt_buf){ header(f, VB_VIRTIO_BLK_T_OUT, 0), 8, false };
	b[1] = (struct vbt_buf){ st, 1, true };
	d = post(f, b, 2, st);
	assert_int_equal(d.status, VB_VIRTIO_BLK_S_IOERR);
	assert_int_equal(d.len, 1);
	/* No readable part at all. */
	d = post(f, &b[1], 1, st);
	assert_int_equal(d.status, VB_VIRTIO_BLK_S_IOERR);
	check_pattern(f, 0, 512);
}

/* @verify{VB-REQ-BLK-025} data in the wrong direction makes a request malformed: IOERR,
 * nothing done */
static void test_blk__wrong_direction_data_ioerr(void **state)
{
	struct fx *f = *state;
	struct vbt_buf b[3];
	uint64_t st, data;
	struct done d;

	start(f, 0, 0);
	st = galloc(f, 1);
	data = galloc(f, 512);
	memset(vbt_guest_ptr(&f->g, data), 0x42, 512);
	/* IN whose data the driver made device-readable. */
	b[0] = (struct vbt_buf){ header(f, VB_VIRTIO_BLK_T_IN, 0), 16, false };
	b[1] = (struct vbt_buf){ data, 512, false };
	b[2] = (struct vbt_buf){ st, 1, true };
	d = post(f, b, 3, st);
	assert_int_equal(d.status, VB_VIRTIO_BLK_S_IOERR);
	/* OUT whose data the driver made device-writable. */
	b[0] = (struct vbt_buf){ header(f, VB_VIRTIO_BLK_T_OUT, 0), 16, false };
	b[1].write = true;
	d = post(f, b, 3, st);
	assert_int_equal(d.status, VB_VIRTIO_BLK_S_IOERR);
	assert_int_equal(d.len, 513);
	/* FLUSH with a data buffer. */
	b[0] = (struct vbt_buf){ header(f, VB_VIRTIO_BLK_T_FLUSH, 0), 16, false };
	d = post(f, b, 3, st);
	assert_int_equal(d.status, VB_VIRTIO_BLK_S_IOERR);
	/* Write zeroes with a writable segment list. */
	b[0] = (struct vbt_buf){ header(f, VB_VIRTIO_BLK_T_WRITE_ZEROES, 0), 16, false };
	b[1] = (struct vbt_buf){ galloc(f, 16), 16, true };
	d = post(f, b, 3, st);
	assert_int_equal(d.status, VB_VIRTIO_BLK_S_IOERR);
	check_pattern(f, 0, 512);
	assert_int_equal(((uint8_t *)vbt_guest_ptr(&f->g, data))[0], 0x42);
}

/* @verify{VB-REQ-BLK-011} a chain without a writable byte is returned with 0 bytes written
 * and the queue goes on */
static void test_blk__no_status_byte_pushed_with_zero(void **state)
{
	struct fx *f = *state;
	struct vbt_buf b[3];
	uint64_t data;
	struct done d;
	struct vb_blk_stats s;

	start(f, 0, 0);
	data = galloc(f, 512);
	memset(vbt_guest_ptr(&f->g, data), 0x77, 512);
	/* The "status" descriptor is device-readable: nothing is writable. */
	b[0] = (struct vbt_buf){ header(f, VB_VIRTIO_BLK_T_OUT, 0), 16, false };
	b[1] = (struct vbt_buf){ data, 512, false };
	b[2] = (struct vbt_buf){ galloc(f, 1), 1, false };
	d = post(f, b, 3, 0);
	assert_int_equal(d.len, 0);
	check_pattern(f, 0, 512);	/* not executed */
	vb_blk_get_stats(f->blk, &s);
	assert_int_equal(s.no_status, 1);
	/* The queue still serves. */
	d = rq(f, VB_VIRTIO_BLK_T_FLUSH, 0, 0, 0, false);
	assert_int_equal(d.status, VB_VIRTIO_BLK_S_OK);
	assert_int_equal(vb_vq_error(vb_dev_queue(f->dev, 0)), 0);
}

/* @verify{VB-REQ-BLK-017} hostile discard / write zeroes segments: too many, misframed,
 * unknown flags, unmap on discard, too large, out of range */
static void test_blk__discard_write_zeroes_hostile_segments(void **state)
{
	struct fx *f = *state;
	uint64_t sec[8] = { 0, 1, 2, 3, 4, 5, 6, 7 }, seg, big;
	uint32_t num[8] = { 1, 1, 1, 1, 1, 1, 1, 1 }, fl[8] = { 0 };
	struct done d;

	start(f, 0, 0);
	/* Five segments, max_discard_seg is 4. */
	seg = dwz_data(f, sec, num, fl, 5);
	d = rq(f, VB_VIRTIO_BLK_T_DISCARD, 0, seg, 5 * 16, false);
	assert_int_equal(d.status, VB_VIRTIO_BLK_S_IOERR);
	/* A huge segment count (64 KiB of segments). */
	big = galloc(f, 65536);
	d = rq(f, VB_VIRTIO_BLK_T_WRITE_ZEROES, 0, big, 65536, false);
	assert_int_equal(d.status, VB_VIRTIO_BLK_S_IOERR);
	/* Not a whole number of segments; no segment at all. */
	d = rq(f, VB_VIRTIO_BLK_T_DISCARD, 0, seg, 20, false);
	assert_int_equal(d.status, VB_VIRTIO_BLK_S_IOERR);
	d = rq(f, VB_VIRTIO_BLK_T_DISCARD, 0, 0, 0, false);
	assert_int_equal(d.status, VB_VIRTIO_BLK_S_IOERR);
	/* Unknown flag, on either command; unmap on discard: UNSUPP. */
	fl[1] = 2;
	seg = dwz_data(f, sec, num, fl, 2);
	d = rq(f, VB_VIRTIO_BLK_T_WRITE_ZEROES, 0, seg, 32, false);
	assert_int_equal(d.status, VB_VIRTIO_BLK_S_UNSUPP);
	d = rq(f, VB_VIRTIO_BLK_T_DISCARD, 0, seg, 32, false);
	assert_int_equal(d.status, VB_VIRTIO_BLK_S_UNSUPP);
	fl[1] = VB_VIRTIO_BLK_WRITE_ZEROES_FLAG_UNMAP;
	seg = dwz_data(f, sec, num, fl, 2);
	d = rq(f, VB_VIRTIO_BLK_T_DISCARD, 0, seg, 32, false);
	assert_int_equal(d.status, VB_VIRTIO_BLK_S_UNSUPP);
	/* More sectors than max_discard_sectors; beyond the end; wrapping. */
	fl[1] = 0;
	num[0] = 1025;
	seg = dwz_data(f, sec, num, fl, 1);
	d = rq(f, VB_VIRTIO_BLK_T_DISCARD, 0, seg, 16, false);
	assert_int_equal(d.status, VB_VIRTIO_BLK_S_IOERR);
	sec[0] = DISK_SECTORS - 1;
	num[0] = 2;
	seg = dwz_data(f, sec, num, fl, 1);
	d = rq(f, VB_VIRTIO_BLK_T_WRITE_ZEROES, 0, seg, 16, false);
	assert_int_equal(d.status, VB_VIRTIO_BLK_S_IOERR);
	sec[0] = UINT64_MAX;
	num[0] = 4;
	seg = dwz_data(f, sec, num, fl, 1);
	d = rq(f, VB_VIRTIO_BLK_T_WRITE_ZEROES, 0, seg, 16, false);
	assert_int_equal(d.status, VB_VIRTIO_BLK_S_IOERR);
	/* Nothing above reached the image. */
	check_pattern(f, 0, 16 * 512);
	check_pattern(f, DISK_BYTES - 512u, 512);
}

/* @verify{VB-REQ-BLK-019} unknown and unoffered request types get UNSUPP */
static void test_blk__unknown_type_unsupp(void **state)
{
	struct fx *f = *state;
	uint64_t data;
	struct done d;

	start(f, 0, 0);
	data = galloc(f, 512);
	d = rq(f, VB_VIRTIO_BLK_T_SECURE_ERASE, 0, data, 16, false);
	assert_int_equal(d.status, VB_VIRTIO_BLK_S_UNSUPP);
	d = rq(f, 99, 0, data, 512, true);
	assert_int_equal(d.status, VB_VIRTIO_BLK_S_UNSUPP);
	d = rq(f, 0x80000000u, 0, 0, 0, false);
	assert_int_equal(d.status, VB_VIRTIO_BLK_S_UNSUPP);
	/* LIFETIME is not offered by the file backends. */
	d = rq(f, VB_VIRTIO_BLK_T_GET_LIFETIME, 0, data, 6, true);
	assert_int_equal(d.status, VB_VIRTIO_BLK_S_UNSUPP);
}

/* @verify{VB-REQ-BLK-022} data in more iovecs than a request slot holds gets IOERR; the queue
 * goes on */
static void test_blk__too_many_iovecs_ioerr(void **state)
{
	struct fx *f = *state;
	struct vbt_buf b[14];
	uint64_t st;
	struct done d;

	f->cfg.seg_max = 2;	/* 2 + VB_BLK_IOV_SLACK = 10 data iovecs per request */
	start(f, 0, 0);
	st = galloc(f, 1);
	b[0] = (struct vbt_buf){ header(f, VB_VIRTIO_BLK_T_IN, 0), 16, false };
	for (unsigned int i = 0; i < 12; i++)
		b[1 + i] = (struct vbt_buf){ galloc(f, 512), 512, true };
	b[13] = (struct vbt_buf){ st, 1, true };
	d = post(f, b, 14, st);
	assert_int_equal(d.status, VB_VIRTIO_BLK_S_IOERR);
	/* Ten data iovecs are fine. */
	b[11] = b[13];
	b[0].gpa = header(f, VB_VIRTIO_BLK_T_IN, 0);
	d = post(f, b, 12, st);
	assert_int_equal(d.status, VB_VIRTIO_BLK_S_OK);
	assert_int_equal(vb_vq_error(vb_dev_queue(f->dev, 0)), 0);
}

/* @verify{VB-REQ-BLK-020} @verify{VB-REQ-BLK-031} a batch of requests in one kick completes;
 * every request gets its data whatever order the backend finishes in */
static void test_blk__batch_in_one_kick(void **state)
{
	struct fx *f = *state;
	enum { N = 16 };
	uint64_t data[N], st[N];
	uint32_t id, len;
	unsigned int seen = 0;

	start(f, 0, 0);
	for (unsigned int i = 0; i < N; i++) {
		struct vbt_buf b[3];

		data[i] = galloc(f, 4096);
		st[i] = galloc(f, 1);
		*(uint8_t *)vbt_guest_ptr(&f->g, st[i]) = 0xee;
		b[0] = (struct vbt_buf){ header(f, VB_VIRTIO_BLK_T_IN, 8u * i), 16, false };
		b[1] = (struct vbt_buf){ data[i], 4096, true };
		b[2] = (struct vbt_buf){ st[i], 1, true };
		vbt_split_add(&f->r, b, 3, false);
	}
	f->notifies = 0;
	if (f->uring) {
		/* The host's event loop learns of completions from the registered eventfd. Reads
		 * the page cache holds complete inside submit: drop the image's pages so that
		 * the batch goes through the ring (those still cached complete at once). */
		struct pollfd pfd = { .fd = vb_blk_uring_eventfd(f->uring), .events = POLLIN };

		assert_int_equal(fdatasync(f->fd), 0);
		assert_int_equal(posix_fadvise(f->fd, 0, 0, POSIX_FADV_DONTNEED), 0);
		assert_int_equal(vb_dev_kick(f->dev, 0), 0);
		while (vb_blk_inflight(f->blk)) {
			assert_int_equal(poll(&pfd, 1, 10000), 1);
			assert_true(vb_blk_uring_complete(f->uring, 0) >= 0);
		}
	} else {
		run(f);
	}
	while (vbt_split_get_used(&f->r, &id, &len) == 1) {
		assert_int_equal(len, 4097);
		seen++;
	}
	assert_int_equal(seen, N);
	assert_true(f->notifies >= 1);
	for (unsigned int i = 0; i < N; i++) {
		uint8_t *p = vbt_guest_ptr(&f->g, data[i]);

		assert_int_equal(*(uint8_t *)vbt_guest_ptr(&f->g, st[i]), VB_VIRTIO_BLK_S_OK);
		for (unsigned int j = 0; j < 4096; j += 511)
			assert_int_equal(p[j], pattern(i * 4096u + j));
	}
	assert_int_equal(vb_blk_inflight(f->blk), 0);
}

/* @verify{VB-REQ-BLK-030} @verify{VB-REQ-BLK-031} with O_DIRECT, sector-aligned guest
 * buffers are read and written straight from and to the image */
static void test_blk__direct_io_aligned(void **state)
{
	struct fx *f = *state;
	uint8_t buf[4096];
	uint64_t data;
	struct done d;
	uint8_t *p;

	f->direct = true;
	start(f, 0, 0);
	data = vbt_guest_alloc(&f->g, 8192, 4096);
	p = vbt_guest_ptr(&f->g, data);
	d = rq(f, VB_VIRTIO_BLK_T_IN, 16, data, 8192, true);
	assert_int_equal(d.status, VB_VIRTIO_BLK_S_OK);
	for (unsigned int i = 0; i < 8192; i += 97)
		assert_int_equal(p[i], pattern(16u * 512u + i));
	memset(p, 0x3c, 4096);
	d = rq(f, VB_VIRTIO_BLK_T_OUT, 64, data, 4096, false);
	assert_int_equal(d.status, VB_VIRTIO_BLK_S_OK);
	file_read(f, 64u * 512u, buf, sizeof(buf));
	for (unsigned int i = 0; i < sizeof(buf); i++)
		assert_int_equal(buf[i], 0x3c);
}

/* ---- tests on the model with the fake backend ---- */

/* @verify{VB-REQ-BLK-020} asynchronous completions in reverse order: each chain goes back
 * when its operation completes, with its own status */
static void test_blk__async_completes_out_of_order(void **state)
{
	struct fx *f = *state;
	uint64_t data[3], st[3];
	uint16_t head[3];
	uint32_t id, len;

	f->fake.async = true;
	start(f, 0, 0);
	for (unsigned int i = 0; i < 3; i++) {
		struct vbt_buf b[3];

		data[i] = galloc(f, 512);
		st[i] = galloc(f, 1);
		*(uint8_t *)vbt_guest_ptr(&f->g, st[i]) = 0xee;
		b[0] = (struct vbt_buf){ header(f, VB_VIRTIO_BLK_T_IN, i), 16, false };
		b[1] = (struct vbt_buf){ data[i], 512, true };
		b[2] = (struct vbt_buf){ st[i], 1, true };
		head[i] = vbt_split_add(&f->r, b, 3, false);
	}
	run(f);
	assert_int_equal(f->fake.n_pending, 3);
	assert_int_equal(vb_blk_inflight(f->blk), 3);
	assert_int_equal(f->fake.commits, 1);
	assert_int_equal(vbt_split_get_used(&f->r, &id, &len), 0);
	/* Last first, with an error; then the first; then the middle one. */
	fake_complete(&f->fake, 2, -EIO);
	vb_blk_notify(f->blk);
	assert_int_equal(vbt_split_get_used(&f->r, &id, &len), 1);
	assert_int_equal(id, head[2]);
	assert_int_equal(*(uint8_t *)vbt_guest_ptr(&f->g, st[2]), VB_VIRTIO_BLK_S_IOERR);
	assert_int_equal(*(uint8_t *)vbt_guest_ptr(&f->g, st[0]), 0xee);
	fake_complete(&f->fake, 0, 0);
	fake_complete(&f->fake, 0, 0);
	vb_blk_notify(f->blk);
	assert_int_equal(vbt_split_get_used(&f->r, &id, &len), 1);
	assert_int_equal(id, head[0]);
	assert_int_equal(len, 513);
	assert_int_equal(vbt_split_get_used(&f->r, &id, &len), 1);
	assert_int_equal(id, head[1]);
	for (unsigned int i = 0; i < 2; i++) {
		assert_int_equal(*(uint8_t *)vbt_guest_ptr(&f->g, st[i]), VB_VIRTIO_BLK_S_OK);
		assert_int_equal(((uint8_t *)vbt_guest_ptr(&f->g, data[i]))[3], pattern(i * 512u + 3));
	}
	assert_int_equal(vb_blk_inflight(f->blk), 0);
	assert_true(f->notifies >= 1);	/* EVENT_IDX: used_event stays 0 */
}

/* @verify{VB-REQ-BLK-020} a multi-segment discard runs one segment after another, also when
 * completions are asynchronous */
static void test_blk__async_segments_in_sequence(void **state)
{
	struct fx *f = *state;
	uint64_t sec[3] = { 10, 20, 30 }, seg;
	uint32_t num[3] = { 1, 0, 2 }, fl[3] = { 0 };
	uint32_t id, len;
	uint64_t st;
	struct vbt_buf b[3];

	f->fake.async = true;
	start(f, 0, 0);
	seg = dwz_data(f, sec, num, fl, 3);
	st = galloc(f, 1);
	b[0] = (struct vbt_buf){ header(f, VB_VIRTIO_BLK_T_DISCARD, 0), 16, false };
	b[1] = (struct vbt_buf){ seg, 48, false };
	b[2] = (struct vbt_buf){ st, 1, true };
	vbt_split_add(&f->r, b, 3, false);
	run(f);
	assert_int_equal(f->fake.n_pending, 1);
	assert_int_equal(f->fake.pending[0]->offset, 10u * 512u);
	fake_complete(&f->fake, 0, 0);
	/* The empty segment is skipped. */
	assert_int_equal(f->fake.n_pending, 1);
	assert_int_equal(f->fake.pending[0]->offset, 30u * 512u);
	assert_int_equal(f->fake.pending[0]->len, 1024);
	assert_int_equal(vbt_split_get_used(&f->r, &id, &len), 0);
	fake_complete(&f->fake, 0, 0);
	vb_blk_notify(f->blk);
	assert_int_equal(vbt_split_get_used(&f->r, &id, &len), 1);
	assert_int_equal(*(uint8_t *)vbt_guest_ptr(&f->g, st), VB_VIRTIO_BLK_S_OK);
	check_zero(f, 10u * 512u, 512);
	check_zero(f, 30u * 512u, 1024);
	check_pattern(f, 20u * 512u, 512);
}

/* @verify{VB-REQ-BLK-021} a device reset drains the backend; completions of the old requests
 * return nothing to the driver */
static void test_blk__reset_drops_inflight(void **state)
{
	struct fx *f = *state;
	uint64_t data = 0;
	uint32_t id, len;
	uint16_t used_before;

	f->fake.async = true;
	start(f, 0, 0);
	for (unsigned int i = 0; i < 4; i++) {
		struct vbt_buf b[3];

		data = galloc(f, 512);
		b[0] = (struct vbt_buf){ header(f, VB_VIRTIO_BLK_T_IN, i), 16, false };
		b[1] = (struct vbt_buf){ data, 512, true };
		b[2] = (struct vbt_buf){ galloc(f, 1), 1, true };
		vbt_split_add(&f->r, b, 3, false);
	}
	run(f);
	assert_int_equal(vb_blk_inflight(f->blk), 4);
	used_before = vbt_split_used_idx(&f->r);
	vb_dev_reset(f->dev);
	assert_int_equal(f->fake.drains, 1);
	assert_int_equal(vb_blk_inflight(f->blk), 0);
	assert_int_equal(vbt_split_used_idx(&f->r), used_before);
	assert_int_equal(vbt_split_get_used(&f->r, &id, &len), 0);
}

/* @verify{VB-REQ-BLK-006} writes are FUA exactly when the spec makes them stable on
 * completion: writethrough (writeback 0 with CONFIG_WCE), or neither FLUSH nor CONFIG_WCE
 * negotiated */
static void test_blk__writethrough_writes_are_fua(void **state)
{
	struct fx *f = *state;
	uint64_t data;
	uint8_t v = 0;
	struct done d;

	start(f, 0, 0);
	data = galloc(f, 512);
	d = rq(f, VB_VIRTIO_BLK_T_OUT, 0, data, 512, false);
	assert_int_equal(d.status, VB_VIRTIO_BLK_S_OK);
	assert_int_equal(f->fake.last_flags & VB_BLK_IO_FUA, 0);
	assert_int_equal(vb_dev_config_write(f->dev, VB_VIRTIO_BLK_CONFIG_WRITEBACK, &v, 1), 0);
	d = rq(f, VB_VIRTIO_BLK_T_OUT, 0, data, 512, false);
	assert_int_equal(f->fake.last_flags & VB_BLK_IO_FUA, VB_BLK_IO_FUA);
	d = rq(f, VB_VIRTIO_BLK_T_FLUSH, 0, 0, 0, false);
	assert_int_equal(f->fake.last_op, VB_BLK_OP_FLUSH);
	v = 1;
	assert_int_equal(vb_dev_config_write(f->dev, VB_VIRTIO_BLK_CONFIG_WRITEBACK, &v, 1), 0);
	d = rq(f, VB_VIRTIO_BLK_T_OUT, 0, data, 512, false);
	assert_int_equal(d.status, VB_VIRTIO_BLK_S_OK);
	assert_int_equal(f->fake.last_flags & VB_BLK_IO_FUA, 0);
}

/* @verify{VB-REQ-BLK-006} without FLUSH and CONFIG_WCE negotiated every write is FUA */
static void test_blk__legacy_driver_gets_writethrough(void **state)
{
	struct fx *f = *state;
	uint64_t data;
	struct done d;

	start(f, 0, VB_BIT(VB_VIRTIO_BLK_F_FLUSH) | VB_BIT(VB_VIRTIO_BLK_F_CONFIG_WCE));
	data = galloc(f, 512);
	d = rq(f, VB_VIRTIO_BLK_T_OUT, 0, data, 512, false);
	assert_int_equal(d.status, VB_VIRTIO_BLK_S_OK);
	assert_int_equal(f->fake.last_flags & VB_BLK_IO_FUA, VB_BLK_IO_FUA);
}

/* @verify{VB-REQ-BLK-005} only writeback is writable, only with CONFIG_WCE, only 0 or 1 */
static void test_blk__config_write_only_writeback(void **state)
{
	struct fx *f = *state;
	uint8_t v = 2, c[4] = { 0 };

	start(f, 0, 0);
	assert_int_equal(vb_dev_config_write(f->dev, VB_VIRTIO_BLK_CONFIG_WRITEBACK, &v, 1),
			 -EINVAL);
	assert_int_equal(vb_dev_config_write(f->dev, 0, c, 4), -ENOTSUP);
	assert_int_equal(vb_dev_config_write(f->dev, VB_VIRTIO_BLK_CONFIG_WRITEBACK, c, 2),
			 -ENOTSUP);
	v = 0;
	assert_int_equal(vb_dev_config_write(f->dev, VB_VIRTIO_BLK_CONFIG_WRITEBACK, &v, 1), 0);
	assert_int_equal(vb_dev_config_read(f->dev, VB_VIRTIO_BLK_CONFIG_WRITEBACK, &v, 1), 0);
	assert_int_equal(v, 0);
	/* A reset restores the host's initial mode. */
	vb_dev_reset(f->dev);
	assert_int_equal(vb_dev_config_read(f->dev, VB_VIRTIO_BLK_CONFIG_WRITEBACK, &v, 1), 0);
	assert_int_equal(v, 1);
}

/* @verify{VB-REQ-BLK-005} without CONFIG_WCE negotiated writeback is read-only */
static void test_blk__writeback_needs_config_wce(void **state)
{
	struct fx *f = *state;
	uint8_t v = 0;

	start(f, 0, VB_BIT(VB_VIRTIO_BLK_F_CONFIG_WCE));
	assert_int_equal(vb_dev_config_write(f->dev, VB_VIRTIO_BLK_CONFIG_WRITEBACK, &v, 1),
			 -ENOTSUP);
}

/* @verify{VB-REQ-BLK-004} a resize changes capacity and notifies the driver */
static void test_blk__set_capacity_notifies(void **state)
{
	struct fx *f = *state;
	uint64_t cap;
	uint32_t gen;
	uint64_t data;
	struct done d;

	start(f, 0, 0);
	gen = vb_dev_config_generation(f->dev);
	assert_int_equal(vb_blk_set_capacity(f->blk, 1000), 0);
	assert_int_equal(f->config_changes, 1);
	assert_true(vb_dev_config_generation(f->dev) != gen);
	assert_int_equal(vb_dev_config_read(f->dev, 0, &cap, 8), 0);
	assert_int_equal(cap, 1000);	/* little-endian host */
	data = galloc(f, 512);
	d = rq(f, VB_VIRTIO_BLK_T_IN, 1000, data, 512, true);
	assert_int_equal(d.status, VB_VIRTIO_BLK_S_IOERR);
}

/* @verify{VB-REQ-BLK-023} a backend failure gives IOERR, -ENOTSUP gives UNSUPP */
static void test_blk__backend_error_status(void **state)
{
	struct fx *f = *state;
	uint64_t data;
	struct done d;

	start(f, 0, 0);
	data = galloc(f, 512);
	f->fake.fail = -EIO;
	d = rq(f, VB_VIRTIO_BLK_T_IN, 0, data, 512, true);
	assert_int_equal(d.status, VB_VIRTIO_BLK_S_IOERR);
	f->fake.fail = -ENOTSUP;
	d = rq(f, VB_VIRTIO_BLK_T_FLUSH, 0, 0, 0, false);
	assert_int_equal(d.status, VB_VIRTIO_BLK_S_UNSUPP);
	f->fake.fail = 5;	/* outside the contract */
	d = rq(f, VB_VIRTIO_BLK_T_FLUSH, 0, 0, 0, false);
	assert_int_equal(d.status, VB_VIRTIO_BLK_S_IOERR);
}

/* @verify{VB-REQ-BLK-024} @verify{VB-REQ-BLK-002} GET_LIFETIME with a backend that knows
 * its wear */
static void test_blk__get_lifetime(void **state)
{
	struct fx *f = *state;
	struct vb_virtio_blk_lifetime lt;
	uint64_t data;
	struct done d;

	start(f, 0, 0);
	/* The fake's table gains get_lifetime: a second model over it offers LIFETIME. */
	f->fops.get_lifetime = fake_lifetime;
	vb_blk_destroy(f->blk);
	assert_int_equal(vb_blk_create(&f->cfg, &f->fops, &f->fake, &f->blk), 0);
	assert_int_equal(vb_dev_init(f->dev_storage, sizeof(f->dev_storage),
				     vb_blk_device_ops(f->blk), f->blk, &f->tops, f, &f->g.mem,
				     &f->dev), 0);
	assert_true(vb_dev_get_features(f->dev) & VB_BIT(VB_VIRTIO_BLK_F_LIFETIME));
	vbt_split_init(&f->r, &f->g, QSZ);
	{
		struct vb_queue_config qc = { .num = QSZ, .desc = f->r.desc_gpa,
					      .driver = f->r.avail_gpa, .device = f->r.used_gpa };
		uint64_t feat = vb_dev_get_features(f->dev) & ~VB_BIT(VB_VIRTIO_F_RING_PACKED);

		assert_int_equal(vb_dev_set_status(f->dev, 1), 0);
		assert_int_equal(vb_dev_set_status(f->dev, 3), 0);
		assert_int_equal(vb_dev_set_driver_features(f->dev, feat), 0);
		assert_int_equal(vb_dev_set_status(f->dev, 11), 0);
		assert_int_equal(vb_dev_queue_set_config(f->dev, 0, &qc), 0);
		assert_int_equal(vb_dev_queue_enable(f->dev, 0, true), 0);
		assert_int_equal(vb_dev_set_status(f->dev, 15), 0);
	}
	data = galloc(f, 6);
	d = rq(f, VB_VIRTIO_BLK_T_GET_LIFETIME, 0, data, 6, true);
	assert_int_equal(d.status, VB_VIRTIO_BLK_S_OK);
	assert_int_equal(d.len, 7);
	memcpy(&lt, vbt_guest_ptr(&f->g, data), 6);
	assert_int_equal(vb_le16_to_cpu(lt.pre_eol_info), 1);
	assert_int_equal(vb_le16_to_cpu(lt.device_lifetime_est_typ_b), 3);
	d = rq(f, VB_VIRTIO_BLK_T_GET_LIFETIME, 0, data, 4, true);
	assert_int_equal(d.status, VB_VIRTIO_BLK_S_IOERR);
}

/* @verify{VB-REQ-BLK-002} @verify{VB-REQ-BLK-014} with MQ the second queue serves requests
 * of its own and its chains go back on it */
static void test_blk__second_queue_serves(void **state)
{
	struct fx *f = *state;
	struct vb_queue_config qc;
	struct vbt_split r1;
	struct vbt_buf b[3];
	uint64_t data, st;
	uint32_t id, len;
	uint16_t nq;

	f->cfg.num_queues = 2;
	start(f, 0, 0);
	assert_true(vb_dev_has_feature(f->dev, VB_VIRTIO_BLK_F_MQ));
	assert_int_equal(vb_dev_config_read(f->dev, VB_VIRTIO_BLK_CONFIG_NUM_QUEUES, &nq, 2), 0);
	assert_int_equal(nq, 2);
	vbt_split_init(&r1, &f->g, QSZ);
	qc = (struct vb_queue_config){ .num = QSZ, .desc = r1.desc_gpa, .driver = r1.avail_gpa,
				       .device = r1.used_gpa };
	assert_int_equal(vb_dev_queue_set_config(f->dev, 1, &qc), 0);
	assert_int_equal(vb_dev_queue_enable(f->dev, 1, true), 0);
	data = galloc(f, 512);
	st = galloc(f, 1);
	b[0] = (struct vbt_buf){ header(f, VB_VIRTIO_BLK_T_IN, 3), 16, false };
	b[1] = (struct vbt_buf){ data, 512, true };
	b[2] = (struct vbt_buf){ st, 1, true };
	vbt_split_add(&r1, b, 3, false);
	assert_int_equal(vb_dev_kick(f->dev, 1), 0);
	assert_int_equal(vbt_split_get_used(&r1, &id, &len), 1);
	assert_int_equal(len, 513);
	assert_int_equal(vbt_split_get_used(&f->r, &id, &len), 0);
	assert_int_equal(*(uint8_t *)vbt_guest_ptr(&f->g, st), VB_VIRTIO_BLK_S_OK);
	assert_int_equal(((uint8_t *)vbt_guest_ptr(&f->g, data))[5], pattern(3u * 512u + 5u));
}

/* @verify{VB-REQ-BLK-021} a queue reset (RING_RESET) drains the backend and drops the
 * queue's requests in flight */
static void test_blk__queue_reset_drops_inflight(void **state)
{
	struct fx *f = *state;
	struct vbt_buf b[3];
	uint64_t st;
	uint32_t id, len;

	f->fake.async = true;
	start(f, 0, 0);
	assert_true(vb_dev_has_feature(f->dev, VB_VIRTIO_F_RING_RESET));
	st = galloc(f, 1);
	*(uint8_t *)vbt_guest_ptr(&f->g, st) = 0xee;
	b[0] = (struct vbt_buf){ header(f, VB_VIRTIO_BLK_T_IN, 0), 16, false };
	b[1] = (struct vbt_buf){ galloc(f, 512), 512, true };
	b[2] = (struct vbt_buf){ st, 1, true };
	vbt_split_add(&f->r, b, 3, false);
	run(f);
	assert_int_equal(vb_blk_inflight(f->blk), 1);
	assert_int_equal(vb_dev_queue_reset(f->dev, 0), 0);
	assert_int_equal(f->fake.drains, 1);
	assert_int_equal(vb_blk_inflight(f->blk), 0);
	assert_int_equal(*(uint8_t *)vbt_guest_ptr(&f->g, st), 0xee);
	assert_int_equal(vbt_split_get_used(&f->r, &id, &len), 0);
}

/* @verify{VB-REQ-BLK-020} a driver that publishes one head again and again while it is in
 * flight fills the request table: popping stops, and resumes when completions free slots */
static void test_blk__full_table_resumes_after_completion(void **state)
{
	struct fx *f = *state;
	struct vbt_buf b[3];
	uint32_t id, len;
	uint16_t head;
	unsigned int got = 0;

	f->fake.async = true;
	start(f, 0, 0);
	b[0] = (struct vbt_buf){ header(f, VB_VIRTIO_BLK_T_FLUSH, 0), 16, false };
	b[1] = (struct vbt_buf){ galloc(f, 1), 1, true };
	head = vbt_split_add(&f->r, b, 2, false);
	for (unsigned int i = 1; i < QSZ; i++)
		vbt_split_publish(&f->r, head);
	run(f);
	assert_int_equal(f->fake.n_pending, QSZ);
	/* QSZ more of the same: no slot is free, nothing is popped. */
	for (unsigned int i = 0; i < 3; i++)
		vbt_split_publish(&f->r, head);
	run(f);
	assert_int_equal(f->fake.n_pending, QSZ);
	/* Two completions free two slots; vb_blk_notify() pops again without a kick. */
	fake_complete(&f->fake, 0, 0);
	fake_complete(&f->fake, 0, 0);
	vb_blk_notify(f->blk);
	assert_int_equal(f->fake.n_pending, QSZ);
	fake_drain(&f->fake);
	vb_blk_notify(f->blk);
	fake_drain(&f->fake);
	vb_blk_notify(f->blk);
	while (vbt_split_get_used(&f->r, &id, &len) == 1) {
		assert_int_equal(id, head);
		got++;
	}
	assert_int_equal(got, QSZ + 3);
	assert_int_equal(vb_blk_inflight(f->blk), 0);
}

/* @verify{VB-REQ-BLK-001} bad configurations and short storage are refused */
static void test_blk__init_rejects_bad_config(void **state)
{
	struct fx *f = *state;
	struct vb_blk_config c;
	struct vb_blk_backend_ops ops = { .version = VB_BLK_BACKEND_OPS_V1, .submit = fake_submit };
	struct vb_blk *blk;
	static alignas(8) uint8_t small[256];
	size_t need;

	(void)f;
	default_cfg(&c);
	need = vb_blk_size(&c);
	assert_true(need > sizeof(small));
	assert_int_equal(vb_blk_init(small, sizeof(small), &c, &ops, NULL, &blk), -ENOSPC);
	assert_int_equal(vb_blk_init(small + 1, sizeof(small) - 1, &c, &ops, NULL, &blk), -EINVAL);
	c.version = 0;
	assert_int_equal(vb_blk_size(&c), 0);
	assert_int_equal(vb_blk_create(&c, &ops, NULL, &blk), -EINVAL);
	default_cfg(&c);
	c.num_queues = VB_BLK_MAX_QUEUES + 1;
	assert_int_equal(vb_blk_create(&c, &ops, NULL, &blk), -EINVAL);
	default_cfg(&c);
	c.seg_max = VB_BLK_SEG_MAX_LIMIT + 1;
	assert_int_equal(vb_blk_create(&c, &ops, NULL, &blk), -EINVAL);
	default_cfg(&c);
	c.max_discard_seg = VB_BLK_SEG_MAX_DEFAULT + VB_BLK_IOV_SLACK + 1;
	assert_int_equal(vb_blk_create(&c, &ops, NULL, &blk), -EINVAL);
	default_cfg(&c);
	ops.submit = NULL;
	assert_int_equal(vb_blk_create(&c, &ops, NULL, &blk), -EINVAL);
	ops.submit = fake_submit;
	ops.version = 0;
	assert_int_equal(vb_blk_create(&c, &ops, NULL, &blk), -EINVAL);
	ops.version = VB_BLK_BACKEND_OPS_V1;
	assert_int_equal(vb_blk_create(&c, &ops, NULL, &blk), 0);
	vb_blk_destroy(blk);
}

static enum be_kind k_sync = BE_SYNC, k_uring = BE_URING, k_fake = BE_FAKE;

#define T(name, kind) \
	cmocka_unit_test_prestate_setup_teardown(test_blk__##name, setup, teardown, &(kind))

#define FILE_TESTS(kind) \
	T(config_matches_file_and_options, kind), \
	T(read_returns_file_data, kind), \
	T(write_reaches_file, kind), \
	T(flush_reaches_backend, kind), \
	T(get_id_returns_serial, kind), \
	T(beyond_capacity_ioerr, kind), \
	T(unaligned_length_ioerr, kind), \
	T(read_only_refuses_writes, kind), \
	T(discard_punches_hole, kind), \
	T(write_zeroes_reads_zero, kind), \
	T(split_buffers_across_regions, kind), \
	T(status_byte_shares_data_buffer, kind), \
	T(short_header_ioerr, kind), \
	T(wrong_direction_data_ioerr, kind), \
	T(no_status_byte_pushed_with_zero, kind), \
	T(discard_write_zeroes_hostile_segments, kind), \
	T(unknown_type_unsupp, kind), \
	T(too_many_iovecs_ioerr, kind), \
	T(batch_in_one_kick, kind), \
	T(direct_io_aligned, kind)

int main(void)
{
	const struct CMUnitTest sync_tests[] = { FILE_TESTS(k_sync) };
	const struct CMUnitTest uring_tests[] = { FILE_TESTS(k_uring) };
	const struct CMUnitTest model_tests[] = {
		T(async_completes_out_of_order, k_fake),
		T(async_segments_in_sequence, k_fake),
		T(reset_drops_inflight, k_fake),
		T(writethrough_writes_are_fua, k_fake),
		T(legacy_driver_gets_writethrough, k_fake),
		T(config_write_only_writeback, k_fake),
		T(writeback_needs_config_wce, k_fake),
		T(set_capacity_notifies, k_fake),
		T(backend_error_status, k_fake),
		T(get_lifetime, k_fake),
		T(init_rejects_bad_config, k_fake),
		T(second_queue_serves, k_fake),
		T(queue_reset_drops_inflight, k_fake),
		T(full_table_resumes_after_completion, k_fake),
		T(read_returns_file_data, k_fake),
		T(write_reaches_file, k_fake),
		T(discard_punches_hole, k_fake),
		T(split_buffers_across_regions, k_fake),
	};
	struct vb_blk_uring *u = NULL;
	char path[] = "/tmp/vb-test-blk-probe-XXXXXX";
	int fd = mkstemp(path), ret, fails = 0;

	/* Probe io_uring once: seccomp or an old kernel forbids it in some sandboxes. */
	if (fd >= 0) {
		ret = vb_blk_uring_open(path, 0, 8, &u);
		if (ret < 0) {
			uring_ok = false;
			snprintf(uring_why, sizeof(uring_why), "vb_blk_uring_open: %s",
				 vb_strerror(ret));
		}
		vb_blk_uring_close(u);
		close(fd);
		unlink(path);
	}
	fails += cmocka_run_group_tests_name("blk-model", model_tests, NULL, NULL);
	fails += cmocka_run_group_tests_name("blk-sync", sync_tests, NULL, NULL);
	if (uring_ok)
		fails += cmocka_run_group_tests_name("blk-uring", uring_tests, NULL, NULL);
	else
		printf("blk-uring: SKIPPED, io_uring unavailable (%s)\n", uring_why);
	return fails ? 1 : 0;
}
