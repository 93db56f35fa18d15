/* SPDX-License-Identifier: MIT */
/*
 * The virtio-i2c model (src/devices/i2c/) behind a vb_dev, driven by the split-ring driver
 * simulator in fake guest memory, against the simulated bus with a 24c02-like EEPROM (in
 * memory or in a temporary file) and a recording fake bus; plus the i2c-dev backend's
 * checks that need no adapter.
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
#include <unistd.h>
#include <cmocka.h>

#include "virtio-backend.h"
#include "virtio-backend/devices/i2c.h"
#include "vbt-mem.h"
#include "vbt-split.h"

#define GUEST_GPA	0x40000000u
#define GUEST_SIZE	(1u << 20)
#define QSZ		64u
#define EE		0x50u		/* the simulated EEPROM */
#define FAIL_NEXT	VB_VIRTIO_I2C_FLAGS_FAIL_NEXT
#define M_RD		VB_VIRTIO_I2C_FLAGS_M_RD

/* A bus that records what it is asked and fails where told. */
struct rec {
	unsigned int	calls;
	unsigned int	last_n;
	int		ret;		/* returned if >= -1000 and != 1 (1: return n) */
};

struct fx {
	struct vbt_guest	g;
	struct vbt_split	r;
	struct vb_transport_ops	tops;
	unsigned int		notifies;
	alignas(8) uint8_t	dev_storage[VB_DEV_STORAGE_MAX(1)];
	struct vb_dev		*dev;
	struct vb_i2c		*i2c;
	struct vb_i2c_config	cfg;
	struct vb_i2c_sim	*sim;
	struct vb_i2c_host	*host;
	struct vb_i2c_backend_ops rops;
	struct rec		rec;
	char			path[64];
	bool			started;
	bool			use_rec;
	bool			use_host;
};

/* One request as the driver built it. */
struct rq {
	uint64_t	data;		/* device-writable data (reads) */
	uint64_t	st;		/* status byte, 0 if none */
	uint16_t	head;
};

static int t_config_changed(void *t)
{
	(void)t;
	return 0;
}

static int t_notify(void *t, uint16_t q)
{
	(void)q;
	((struct fx *)t)->notifies++;
	return 0;
}

static struct fx *fx_get(void **state)
{
	return *state;
}

static int rec_transfer(void *be, const struct vb_i2c_msg *msgs, unsigned int n)
{
	struct rec *r = be;

	(void)msgs;
	r->calls++;
	r->last_n = n;
	return r->ret == 1 ? (int)n : r->ret;
}

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	f->cfg.version = VB_I2C_CONFIG_V1;
	f->cfg.queue_num_max = QSZ;
	f->rec.ret = 1;
	assert_int_equal(vb_i2c_sim_create(&f->sim), 0);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;

	vb_i2c_destroy(f->i2c);
	vb_i2c_sim_destroy(f->sim);
	vb_i2c_host_destroy(f->host);
	if (f->path[0])
		unlink(f->path);
	if (f->started)
		vbt_guest_fini(&f->g);
	free(f);
	return 0;
}

/* Build the model over the chosen bus and a running device; the driver accepts every offered
 * feature except those in drop (and the packed ring). */
static void start(struct fx *f, uint64_t drop)
{
	const struct vb_i2c_backend_ops *ops = &vb_i2c_sim_ops;
	void *be = f->sim;
	struct vb_queue_config qc;
	uint64_t feat;

	if (f->use_rec) {
		f->rops = (struct vb_i2c_backend_ops){ .version = VB_I2C_BACKEND_OPS_V1,
						       .transfer = rec_transfer };
		ops = &f->rops;
		be = &f->rec;
	} else if (f->use_host) {
		ops = &vb_i2c_host_ops;
		be = f->host;
	}
	assert_int_equal(vb_i2c_create(&f->cfg, ops, be, &f->i2c), 0);
	assert_int_equal(vbt_guest_init(&f->g, GUEST_GPA, GUEST_SIZE, 0), 0);
	f->started = true;
	vbt_split_init(&f->r, &f->g, QSZ);
	f->tops = (struct vb_transport_ops){ .version = VB_TRANSPORT_OPS_V1, .notify = t_notify,
					     .config_changed = t_config_changed };
	assert_int_equal(vb_dev_init(f->dev_storage, sizeof(f->dev_storage),
				     vb_i2c_device_ops(f->i2c), f->i2c, &f->tops, f, &f->g.mem,
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

static void start_eeprom(struct fx *f, bool file)
{
	if (file) {
		int fd;

		snprintf(f->path, sizeof(f->path), "/tmp/vb-test-i2c-XXXXXX");
		fd = mkstemp(f->path);
		assert_true(fd >= 0);
		close(fd);
	}
	assert_int_equal(vb_i2c_sim_add_eeprom(f->sim, EE, file ? f->path : NULL), 0);
	start(f, 0);
}

static uint64_t galloc(struct fx *f, size_t len)
{
	return vbt_guest_alloc(&f->g, len ? len : 1, 8);
}

/*
 * Queue one request (not kicked): header (addr field as given), then out data (out_len
 * bytes from out), then in data (in_len bytes), then st_len status bytes (usually 1).
 */
static struct rq add(struct fx *f, uint16_t addr_field, uint32_t flags, const void *out,
		     uint32_t out_len, uint32_t in_len, uint32_t st_len)
{
	struct vb_virtio_i2c_out_hdr h = { vb_cpu_to_le16(addr_field), vb_cpu_to_le16(0),
					   vb_cpu_to_le32(flags) };
	struct vbt_buf b[4];
	struct rq q = { 0, 0, 0 };
	unsigned int n = 0;
	uint64_t hg = galloc(f, sizeof(h));

	memcpy(vbt_guest_ptr(&f->g, hg), &h, sizeof(h));
	b[n++] = (struct vbt_buf){ hg, sizeof(h), false };
	if (out_len) {
		uint64_t d = galloc(f, out_len);

		memcpy(vbt_guest_ptr(&f->g, d), out, out_len);
		b[n++] = (struct vbt_buf){ d, out_len, false };
	}
	if (in_len) {
		q.data = galloc(f, in_len);
		memset(vbt_guest_ptr(&f->g, q.data), 0xee, in_len);
		b[n++] = (struct vbt_buf){ q.data, in_len, true };
	}
	if (st_len) {
		q.st = galloc(f, st_len);
		memset(vbt_guest_ptr(&f->g, q.st), 0xee, st_len);
		b[n++] = (struct vbt_buf){ q.st, st_len, true };
	}
	q.head = vbt_split_add(&f->r, b, n, false);
	return q;
}

static void kick(struct fx *f)
{
	assert_int_equal(vb_dev_kick(f->dev, 0), 0);
}

/* The next used element must be q's; returns its used length. */
static uint32_t used(struct fx *f, const struct rq *q)
{
	uint32_t id, len;

	assert_int_equal(vbt_split_get_used(&f->r, &id, &len), 1);
	assert_int_equal(id, q->head);
	return len;
}

static int status(struct fx *f, const struct rq *q)
{
	return *(uint8_t *)vbt_guest_ptr(&f->g, q->st);
}

static void no_used(struct fx *f)
{
	uint32_t id, len;

	assert_int_equal(vbt_split_get_used(&f->r, &id, &len), 0);
}

/* Write bytes at EEPROM offset off as the guest's at24/i2cset would: one write message. */
static struct rq ee_write(struct fx *f, uint8_t off, const uint8_t *b, uint32_t n,
			  uint32_t flags)
{
	uint8_t buf[64];

	buf[0] = off;
	memcpy(buf + 1, b, n);
	return add(f, EE << 1, flags, buf, n + 1, 0, 1);
}

/* ---- construction ---- */

/* @verify{VB-REQ-I2C-001} the device table: ID 34, one queue, no config space,
 * ZERO_LENGTH_REQUEST offered; bad configurations and tables are refused */
static void test_i2c__init_and_device_table(void **state)
{
	struct fx *f = fx_get(state);
	const struct vb_device_ops *d;
	struct vb_i2c_config bad = f->cfg;
	struct vb_i2c_backend_ops no_xfer = { .version = VB_I2C_BACKEND_OPS_V1 };
	alignas(8) static uint8_t small[64];
	struct vb_i2c *x;

	assert_int_equal(vb_i2c_create(&f->cfg, &vb_i2c_sim_ops, f->sim, &f->i2c), 0);
	d = vb_i2c_device_ops(f->i2c);
	assert_int_equal(d->device_id, VB_VIRTIO_ID_I2C);
	assert_int_equal(d->num_queues, 1);
	assert_int_equal(d->config_len, 0);
	assert_int_equal(d->queue_num_max, QSZ);
	assert_true(d->features & VB_BIT(VB_VIRTIO_I2C_F_ZERO_LENGTH_REQUEST));
	assert_true(d->features & VB_BIT(VB_VIRTIO_F_VERSION_1));

	bad.version = 0;
	assert_int_equal(vb_i2c_size(&bad), 0);
	assert_int_equal(vb_i2c_create(&bad, &vb_i2c_sim_ops, f->sim, &x), -EINVAL);
	bad = f->cfg;
	bad.max_group = VB_I2C_MAX_GROUP + 1;
	assert_int_equal(vb_i2c_create(&bad, &vb_i2c_sim_ops, f->sim, &x), -EINVAL);
	assert_int_equal(vb_i2c_create(&f->cfg, &no_xfer, f->sim, &x), -EINVAL);
	assert_int_equal(vb_i2c_init(small, sizeof(small), &f->cfg, &vb_i2c_sim_ops, f->sim, &x),
			 -ENOSPC);
	assert_int_equal(vb_i2c_init(small + 1, sizeof(small) - 1, &f->cfg, &vb_i2c_sim_ops,
				     f->sim, &x), -EINVAL);
}

/* ---- data path on the simulated EEPROM ---- */

/* @verify{VB-REQ-I2C-010} @verify{VB-REQ-I2C-013} @verify{VB-REQ-I2C-030} a write, then a
 * write-then-read group (FAIL_NEXT on the first) reads back what was written; the used length
 * covers data and status */
static void test_i2c__write_then_read_group(void **state)
{
	struct fx *f = fx_get(state);
	const uint8_t data[4] = { 0x11, 0x22, 0x33, 0x44 };
	uint8_t off = 0x20, got[4];
	struct rq w, a, r;

	start_eeprom(f, false);
	w = ee_write(f, 0x20, data, 4, 0);
	kick(f);
	assert_int_equal(used(f, &w), 1);
	assert_int_equal(status(f, &w), VB_VIRTIO_I2C_MSG_OK);
	assert_int_equal(vb_i2c_sim_read(f->sim, EE, 0x20, got, 4), 0);
	assert_memory_equal(got, data, 4);

	a = add(f, EE << 1, FAIL_NEXT, &off, 1, 0, 1);
	r = add(f, EE << 1, M_RD, NULL, 0, 4, 1);
	kick(f);
	assert_int_equal(used(f, &a), 1);
	assert_int_equal(used(f, &r), 5);
	assert_int_equal(status(f, &a), VB_VIRTIO_I2C_MSG_OK);
	assert_int_equal(status(f, &r), VB_VIRTIO_I2C_MSG_OK);
	assert_memory_equal(vbt_guest_ptr(&f->g, r.data), data, 4);
	assert_true(f->notifies >= 1);
}

/* @verify{VB-REQ-I2C-030} page writes wrap inside their 8-byte page, reads wrap at 256, and a
 * file-backed EEPROM holds the bytes when the transfer returns */
static void test_i2c__eeprom_pages_and_file(void **state)
{
	struct fx *f = fx_get(state);
	const uint8_t data[4] = { 1, 2, 3, 4 };
	uint8_t file[256], off = 0xfe;
	struct rq w, a, r;
	int fd;

	start_eeprom(f, true);
	fd = open(f->path, O_RDONLY);
	assert_true(fd >= 0);
	assert_int_equal(lseek(fd, 0, SEEK_END), 256);	/* padded at once */
	close(fd);
	w = ee_write(f, 0x06, data, 4, 0);	/* 0x06 0x07, then wraps to 0x00 0x01 */
	kick(f);
	assert_int_equal(used(f, &w), 1);
	assert_int_equal(status(f, &w), VB_VIRTIO_I2C_MSG_OK);
	fd = open(f->path, O_RDONLY);
	assert_true(fd >= 0);
	assert_int_equal(pread(fd, file, sizeof(file), 0), 256);
	close(fd);
	assert_int_equal(file[6], 1);
	assert_int_equal(file[7], 2);
	assert_int_equal(file[0], 3);
	assert_int_equal(file[1], 4);
	assert_int_equal(file[8], 0xff);

	a = add(f, EE << 1, FAIL_NEXT, &off, 1, 0, 1);
	r = add(f, EE << 1, M_RD, NULL, 0, 4, 1);
	kick(f);
	used(f, &a);
	used(f, &r);
	assert_int_equal(status(f, &r), VB_VIRTIO_I2C_MSG_OK);
	assert_memory_equal(vbt_guest_ptr(&f->g, r.data), ((uint8_t[]){ 0xff, 0xff, 3, 4 }), 4);

	/* A new bus over the same file starts from its content. */
	vb_i2c_sim_destroy(f->sim);
	assert_int_equal(vb_i2c_sim_create(&f->sim), 0);
	assert_int_equal(vb_i2c_sim_add_eeprom(f->sim, EE, f->path), 0);
	assert_int_equal(vb_i2c_sim_read(f->sim, EE, 0, file, 8), 0);
	assert_int_equal(file[0], 3);
	assert_int_equal(vb_i2c_sim_add_eeprom(f->sim, EE, NULL), -EINVAL);
	assert_int_equal(vb_i2c_sim_add_eeprom(f->sim, 0x80, NULL), -EINVAL);
	assert_false(vb_i2c_sim_has(f->sim, 0x51));
	assert_int_equal(vb_i2c_sim_read(f->sim, EE, 250, file, 8), -EINVAL);
}

/* @verify{VB-REQ-I2C-030} a register file: writes and reads auto-increment across 256 with no
 * pages, the host changes a register under the guest, a file keeps the registers */
static void test_i2c__regs_auto_increment_and_host_write(void **state)
{
	struct fx *f = fx_get(state);
	const uint8_t w3[4] = { 0xfe, 1, 2, 3 }, reg = 0x10, v = 0x42;
	uint8_t file[256], got[3];
	struct rq w, a, r, z;
	int fd;

	snprintf(f->path, sizeof(f->path), "/tmp/vb-test-i2c-XXXXXX");
	fd = mkstemp(f->path);
	assert_true(fd >= 0);
	close(fd);
	assert_int_equal(vb_i2c_sim_add_regs(f->sim, 0x20, f->path), 0);
	assert_int_equal(vb_i2c_sim_add_regs(f->sim, 0x20, NULL), -EINVAL);
	start(f, 0);
	w = add(f, 0x20 << 1, 0, w3, sizeof(w3), 0, 1);	/* 0xfe, 0xff, then 0x00 */
	kick(f);
	used(f, &w);
	assert_int_equal(status(f, &w), VB_VIRTIO_I2C_MSG_OK);
	assert_int_equal(vb_i2c_sim_read(f->sim, 0x20, 0xfe, got, 2), 0);
	assert_int_equal(got[0], 1);
	assert_int_equal(got[1], 2);
	assert_int_equal(vb_i2c_sim_read(f->sim, 0x20, 0, got, 2), 0);
	assert_int_equal(got[0], 3);
	assert_int_equal(got[1], 0);		/* registers reset to 0 */

	assert_int_equal(vb_i2c_sim_write(f->sim, 0x20, reg, &v, 1), 0);
	assert_int_equal(vb_i2c_sim_write(f->sim, 0x20, 255, got, 2), -EINVAL);
	assert_int_equal(vb_i2c_sim_write(f->sim, 0x21, 0, got, 1), -EINVAL);
	a = add(f, 0x20 << 1, FAIL_NEXT, &reg, 1, 0, 1);
	r = add(f, 0x20 << 1, M_RD, NULL, 0, 3, 1);
	z = add(f, 0x20 << 1, M_RD, NULL, 0, 0, 1);
	kick(f);
	used(f, &a);
	assert_int_equal(used(f, &r), 4);
	used(f, &z);
	assert_int_equal(status(f, &r), VB_VIRTIO_I2C_MSG_OK);
	assert_int_equal(status(f, &z), VB_VIRTIO_I2C_MSG_OK);
	assert_memory_equal(vbt_guest_ptr(&f->g, r.data), ((uint8_t[]){ 0x42, 0, 0 }), 3);

	fd = open(f->path, O_RDONLY);
	assert_true(fd >= 0);
	assert_int_equal(pread(fd, file, sizeof(file), 0), 256);
	close(fd);
	assert_int_equal(file[0xfe], 1);
	assert_int_equal(file[0], 3);
	assert_int_equal(file[0x10], 0x42);
}

/* @verify{VB-REQ-I2C-011} zero-length requests (i2cdetect's quick command) in both directions:
 * ACK where a chip answers, MSG_ERR where none does */
static void test_i2c__zero_length_probe(void **state)
{
	struct fx *f = fx_get(state);
	struct rq a, b, c, d;

	start_eeprom(f, false);
	a = add(f, EE << 1, 0, NULL, 0, 0, 1);
	b = add(f, EE << 1, M_RD, NULL, 0, 0, 1);
	c = add(f, 0x51 << 1, 0, NULL, 0, 0, 1);
	d = add(f, 0x51 << 1, M_RD, NULL, 0, 0, 1);
	kick(f);
	assert_int_equal(used(f, &a), 1);
	assert_int_equal(used(f, &b), 1);
	assert_int_equal(used(f, &c), 1);
	assert_int_equal(used(f, &d), 1);
	assert_int_equal(status(f, &a), VB_VIRTIO_I2C_MSG_OK);
	assert_int_equal(status(f, &b), VB_VIRTIO_I2C_MSG_OK);
	assert_int_equal(status(f, &c), VB_VIRTIO_I2C_MSG_ERR);
	assert_int_equal(status(f, &d), VB_VIRTIO_I2C_MSG_ERR);
}

/* @verify{VB-REQ-I2C-013} a failed message fails the rest of its group (FAIL_NEXT), the ones
 * before it stand, and the next group is independent */
static void test_i2c__fail_next_chain(void **state)
{
	struct fx *f = fx_get(state);
	const uint8_t v = 0x5a;
	struct rq a, b, c, d;
	uint8_t got[3];

	start_eeprom(f, false);
	a = ee_write(f, 0x30, &v, 1, FAIL_NEXT);		/* OK */
	b = add(f, 0x51 << 1, FAIL_NEXT, &v, 1, 0, 1);	/* NACK */
	c = ee_write(f, 0x31, &v, 1, 0);		/* failed by FAIL_NEXT, not sent */
	d = ee_write(f, 0x32, &v, 1, 0);		/* next group: OK */
	kick(f);
	used(f, &a);
	used(f, &b);
	used(f, &c);
	used(f, &d);
	assert_int_equal(status(f, &a), VB_VIRTIO_I2C_MSG_OK);
	assert_int_equal(status(f, &b), VB_VIRTIO_I2C_MSG_ERR);
	assert_int_equal(status(f, &c), VB_VIRTIO_I2C_MSG_ERR);
	assert_int_equal(status(f, &d), VB_VIRTIO_I2C_MSG_OK);
	assert_int_equal(vb_i2c_sim_read(f->sim, EE, 0x30, got, 3), 0);
	assert_int_equal(got[0], v);
	assert_int_equal(got[1], 0xff);
	assert_int_equal(got[2], v);
}

/* @verify{VB-REQ-I2C-012} malformed requests get MSG_ERR and their whole group stays off the
 * bus: short header, reserved flag bits, 10-bit or R/W-bit addresses, data on the wrong side,
 * both sides, an over-long message; a chain without a writable byte comes back with 0 bytes */
static void test_i2c__malformed_requests_err(void **state)
{
	struct fx *f = fx_get(state);
	const uint8_t v[2] = { 0x40, 0x77 };
	struct rq q[9], a, b, n;
	struct vb_i2c_stats st;

	f->use_rec = true;
	start(f, 0);
	/* short header: 4 bytes only */
	{
		struct vbt_buf bb[2];
		uint64_t h = galloc(f, 4), s = galloc(f, 1);

		bb[0] = (struct vbt_buf){ h, 4, false };
		bb[1] = (struct vbt_buf){ s, 1, true };
		q[0] = (struct rq){ 0, s, vbt_split_add(&f->r, bb, 2, false) };
	}
	q[1] = add(f, EE << 1, 1u << 5, v, 2, 0, 1);		/* reserved flag */
	q[2] = add(f, 0xf0u | 0x0200u, 0, v, 2, 0, 1);		/* 10-bit form */
	q[3] = add(f, (EE << 1) | 1u, 0, v, 2, 0, 1);		/* R/W bit set */
	q[4] = add(f, EE << 1, M_RD, v, 2, 0, 1);		/* read with out data */
	q[5] = add(f, EE << 1, 0, NULL, 0, 2, 1);		/* write with in data */
	q[6] = add(f, EE << 1, 0, v, 2, 2, 1);			/* both sides */
	q[7] = add(f, EE << 1, M_RD, NULL, 0, VB_I2C_MAX_LEN + 1u, 1);	/* too long */
	q[8] = add(f, EE << 1, 0, v, 1, 0, 0);			/* no status byte */
	kick(f);
	for (unsigned int i = 0; i < 8; i++) {
		used(f, &q[i]);
		if (status(f, &q[i]) != VB_VIRTIO_I2C_MSG_ERR)
			fail_msg("request %u: status %d", i, status(f, &q[i]));
	}
	assert_int_equal(used(f, &q[8]), 0);
	assert_int_equal(f->rec.calls, 0);

	/* A malformed request inside a group fails the group without a transfer. */
	a = add(f, EE << 1, FAIL_NEXT, v, 1, 0, 1);
	b = add(f, EE << 1, M_RD | (1u << 9), NULL, 0, 1, 1);
	n = add(f, EE << 1, 0, v, 2, 0, 1);
	kick(f);
	used(f, &a);
	used(f, &b);
	used(f, &n);
	assert_int_equal(status(f, &a), VB_VIRTIO_I2C_MSG_ERR);
	assert_int_equal(status(f, &b), VB_VIRTIO_I2C_MSG_ERR);
	assert_int_equal(status(f, &n), VB_VIRTIO_I2C_MSG_OK);
	assert_int_equal(f->rec.calls, 1);
	assert_int_equal(f->rec.last_n, 1);
	vb_i2c_get_stats(f->i2c, &st);
	assert_int_equal(st.requests, 12);
	assert_int_equal(st.no_status, 1);
	assert_int_equal(st.ok, 1);
	assert_int_equal(st.err, 10);
}

/* @verify{VB-REQ-I2C-012} the backend's answer decides: a negative errno fails the whole
 * group, a count k answers k messages OK and the rest ERR */
static void test_i2c__backend_result_maps_to_status(void **state)
{
	struct fx *f = fx_get(state);
	const uint8_t v = 1;
	struct rq a, b, c;

	f->use_rec = true;
	start(f, 0);
	f->rec.ret = -EIO;
	a = add(f, EE << 1, FAIL_NEXT, &v, 1, 0, 1);
	b = add(f, EE << 1, 0, &v, 1, 0, 1);
	kick(f);
	used(f, &a);
	used(f, &b);
	assert_int_equal(status(f, &a), VB_VIRTIO_I2C_MSG_ERR);
	assert_int_equal(status(f, &b), VB_VIRTIO_I2C_MSG_ERR);
	f->rec.ret = 2;		/* 2 of 3 */
	a = add(f, EE << 1, FAIL_NEXT, &v, 1, 0, 1);
	b = add(f, EE << 1, FAIL_NEXT, &v, 1, 0, 1);
	c = add(f, EE << 1, 0, &v, 1, 0, 1);
	kick(f);
	used(f, &a);
	used(f, &b);
	used(f, &c);
	assert_int_equal(f->rec.last_n, 3);
	assert_int_equal(status(f, &a), VB_VIRTIO_I2C_MSG_OK);
	assert_int_equal(status(f, &b), VB_VIRTIO_I2C_MSG_OK);
	assert_int_equal(status(f, &c), VB_VIRTIO_I2C_MSG_ERR);
}

/* @verify{VB-REQ-I2C-014} a group whose last request is not yet published waits for it (one
 * transaction, not two); a group longer than max_group is failed; an open group whose memory
 * map changed comes back with used length 0 */
static void test_i2c__open_group_waits_and_is_bounded(void **state)
{
	struct fx *f = fx_get(state);
	const uint8_t v = 1;
	struct rq a, b, g[5];

	f->use_rec = true;
	f->cfg.max_group = 4;
	start(f, 0);
	a = add(f, EE << 1, FAIL_NEXT, &v, 1, 0, 1);
	kick(f);
	no_used(f);
	assert_int_equal(f->rec.calls, 0);
	b = add(f, EE << 1, M_RD, NULL, 0, 1, 1);
	kick(f);
	used(f, &a);
	used(f, &b);
	assert_int_equal(f->rec.calls, 1);
	assert_int_equal(f->rec.last_n, 2);

	for (unsigned int i = 0; i < 5; i++)
		g[i] = add(f, EE << 1, FAIL_NEXT, &v, 1, 0, 1);
	kick(f);
	for (unsigned int i = 0; i < 4; i++) {
		used(f, &g[i]);
		assert_int_equal(status(f, &g[i]), VB_VIRTIO_I2C_MSG_ERR);
	}
	no_used(f);	/* the fifth opened a new group */
	assert_int_equal(f->rec.calls, 1);

	/* The guest memory map changes under the open group: it comes back untouched. */
	{
		struct vb_mem_region reg = f->g.regions[0];
		uint8_t *st = vbt_guest_ptr(&f->g, g[4].st);

		assert_int_equal(vb_mem_remove(&f->g.mem, reg.guest_addr), 0);
		assert_int_equal(vb_mem_add(&f->g.mem, &reg), 0);
		assert_int_equal(vb_dev_remap(f->dev), 0);
		b = add(f, EE << 1, 0, &v, 1, 0, 1);
		kick(f);
		assert_int_equal(used(f, &g[4]), 0);
		assert_int_equal(*st, 0xee);
		used(f, &b);
		assert_int_equal(status(f, &b), VB_VIRTIO_I2C_MSG_OK);
		assert_int_equal(f->rec.calls, 2);
		assert_int_equal(f->rec.last_n, 1);
	}
}

/* @verify{VB-REQ-I2C-015} a device reset and a queue reset forget an open group; the ring
 * works afterwards */
static void test_i2c__reset_drops_open_group(void **state)
{
	struct fx *f = fx_get(state);
	const uint8_t v = 1;
	struct vb_queue_config qc;
	struct rq b;

	f->use_rec = true;
	start(f, 0);
	add(f, EE << 1, FAIL_NEXT, &v, 1, 0, 1);
	kick(f);
	no_used(f);
	vb_dev_reset(f->dev);
	assert_int_equal(f->rec.calls, 0);
	/* The driver sets the device up again on fresh rings. */
	vbt_guest_fini(&f->g);
	f->started = false;
	vb_i2c_destroy(f->i2c);
	f->i2c = NULL;
	start(f, 0);
	b = add(f, EE << 1, 0, &v, 1, 0, 1);
	kick(f);
	used(f, &b);
	assert_int_equal(status(f, &b), VB_VIRTIO_I2C_MSG_OK);
	assert_int_equal(f->rec.calls, 1);
	assert_int_equal(f->rec.last_n, 1);

	/* The same with a queue reset (RING_RESET): had the open group survived, the next
	 * request would have joined it (a transfer of 2). */
	assert_true(vb_dev_get_driver_features(f->dev) & VB_BIT(VB_VIRTIO_F_RING_RESET));
	add(f, EE << 1, FAIL_NEXT, &v, 1, 0, 1);
	kick(f);
	no_used(f);
	assert_int_equal(vb_dev_queue_reset(f->dev, 0), 0);
	vbt_split_init(&f->r, &f->g, QSZ);
	qc = (struct vb_queue_config){ .num = QSZ, .desc = f->r.desc_gpa,
				       .driver = f->r.avail_gpa, .device = f->r.used_gpa };
	assert_int_equal(vb_dev_queue_set_config(f->dev, 0, &qc), 0);
	assert_int_equal(vb_dev_queue_enable(f->dev, 0, true), 0);
	b = add(f, EE << 1, 0, &v, 1, 0, 1);
	kick(f);
	used(f, &b);
	assert_int_equal(status(f, &b), VB_VIRTIO_I2C_MSG_OK);
	assert_int_equal(f->rec.calls, 2);
	assert_int_equal(f->rec.last_n, 1);
}

/* @verify{VB-REQ-I2C-011} without ZERO_LENGTH_REQUEST the buffer's direction decides, M_RD
 * is a reserved bit and a request without a buffer is malformed */
static void test_i2c__legacy_direction_from_buffer(void **state)
{
	struct fx *f = fx_get(state);
	const uint8_t data[2] = { 0x10, 0xab };
	struct rq w, a, r, z, m;

	assert_int_equal(vb_i2c_sim_add_eeprom(f->sim, EE, NULL), 0);
	start(f, VB_BIT(VB_VIRTIO_I2C_F_ZERO_LENGTH_REQUEST));
	w = add(f, EE << 1, 0, data, 2, 0, 1);
	a = add(f, EE << 1, FAIL_NEXT, data, 1, 0, 1);
	r = add(f, EE << 1, 0, NULL, 0, 1, 1);
	z = add(f, EE << 1, 0, NULL, 0, 0, 1);
	m = add(f, EE << 1, M_RD, NULL, 0, 1, 1);
	kick(f);
	used(f, &w);
	used(f, &a);
	assert_int_equal(used(f, &r), 2);
	used(f, &z);
	used(f, &m);
	assert_int_equal(status(f, &w), VB_VIRTIO_I2C_MSG_OK);
	assert_int_equal(status(f, &r), VB_VIRTIO_I2C_MSG_OK);
	assert_int_equal(*(uint8_t *)vbt_guest_ptr(&f->g, r.data), 0xab);
	assert_int_equal(status(f, &z), VB_VIRTIO_I2C_MSG_ERR);
	assert_int_equal(status(f, &m), VB_VIRTIO_I2C_MSG_ERR);
}

/* @verify{VB-REQ-I2C-031} the i2c-dev backend refuses what is not an I2C adapter and bad
 * addresses, and NACKs (MSG_ERR) an address the host did not hand out */
static void test_i2c__host_backend_checks(void **state)
{
	struct fx *f = fx_get(state);
	const uint8_t v = 1;
	struct rq a;
	int ret;

	assert_int_equal(vb_i2c_host_create(&f->host), 0);
	assert_int_equal(vb_i2c_host_add(f->host, "/nonexistent/i2c-9", 0x20), -ENOENT);
	ret = vb_i2c_host_add(f->host, "/dev/null", 0x20);
	assert_true(ret == -ENOTTY || ret == -EINVAL);
	assert_int_equal(vb_i2c_host_add(f->host, "/dev/null", 0x80), -EINVAL);
	assert_false(vb_i2c_host_has(f->host, 0x20));
	f->use_host = true;
	start(f, 0);
	a = add(f, EE << 1, 0, &v, 1, 0, 1);
	kick(f);
	used(f, &a);
	assert_int_equal(status(f, &a), VB_VIRTIO_I2C_MSG_ERR);
}

#define T(name) cmocka_unit_test_setup_teardown(test_i2c__##name, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(init_and_device_table),
		T(write_then_read_group),
		T(eeprom_pages_and_file),
		T(zero_length_probe),
		T(regs_auto_increment_and_host_write),
		T(fail_next_chain),
		T(malformed_requests_err),
		T(backend_result_maps_to_status),
		T(open_group_waits_and_is_bounded),
		T(reset_drops_open_group),
		T(legacy_direction_from_buffer),
		T(host_backend_checks),
	};

	return cmocka_run_group_tests_name("i2c", tests, NULL, NULL);
}
