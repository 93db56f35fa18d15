/* SPDX-License-Identifier: MIT */
/*
 * The virtio-rng model (src/devices/rng/) behind a vb_dev, driven by the split-ring driver
 * simulator in fake guest memory, with the getrandom backend, the file backend on a
 * temporary file of known bytes, and a fake backend that can fail.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <poll.h>
#include <setjmp.h>
#include <stdalign.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include "virtio-backend.h"
#include "virtio-backend/devices/rng.h"
#include "vbt-mem.h"
#include "vbt-split.h"

#define GUEST_GPA	0x40000000u
#define GUEST_SIZE	(1u << 20)
#define QSZ		64u
#define FILE_LEN	4096u

struct fx {
	struct vbt_guest	g;
	struct vbt_split	r;
	struct vb_transport_ops	tops;
	unsigned int		notifies, needs_reset;
	alignas(8) uint8_t	dev_storage[VB_DEV_STORAGE_MAX(1)];
	struct vb_dev		*dev;
	struct vb_rng		*rng;
	struct vb_rng_config	cfg;
	struct vb_rng_backend_ops fops;
	struct vb_rng_file	*file;
	int			fail;		/* fake backend: result of every fill */
	unsigned int		fills;
	char			path[64];
	uint8_t			data[FILE_LEN];	/* the file's bytes */
	bool			started;
};

static int t_notify(void *t, uint16_t q)
{
	(void)q;
	((struct fx *)t)->notifies++;
	return 0;
}

static int t_config_changed(void *t)
{
	(void)t;
	return 0;
}

static void t_needs_reset(void *t)
{
	((struct fx *)t)->needs_reset++;
}

/* Fake backend: byte i of every fill is (i + 1), or fail. */
static int fake_fill(void *be, const struct vb_iov *iov, unsigned int n, size_t len)
{
	struct fx *f = be;
	size_t done = 0;

	f->fills++;
	if (f->fail)
		return f->fail;
	for (unsigned int i = 0; i < n; i++)
		for (size_t j = 0; j < iov[i].len; j++, done++)
			((uint8_t *)iov[i].base)[j] = (uint8_t)(done + 1);
	assert_int_equal(done, len);
	return (int)done;
}

enum be_kind { BE_GETRANDOM, BE_FILE, BE_FAKE };

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	f->cfg.version = VB_RNG_CONFIG_V1;
	f->cfg.queue_num_max = QSZ;
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;

	vb_rng_destroy(f->rng);
	vb_rng_file_close(f->file);
	if (f->path[0])
		unlink(f->path);
	if (f->started)
		vbt_guest_fini(&f->g);
	free(f);
	return 0;
}

static void make_file(struct fx *f, size_t len)
{
	int fd;

	snprintf(f->path, sizeof(f->path), "/tmp/vb-test-rng-XXXXXX");
	fd = mkstemp(f->path);
	assert_true(fd >= 0);
	for (size_t i = 0; i < len; i++)
		f->data[i] = (uint8_t)(i * 13u + i / 256u + 5u);
	assert_int_equal(write(fd, f->data, len), (ssize_t)len);
	close(fd);
}

/* Backend, model, and a running device over split rings (region_size 0: one region). */
static void start(struct fx *f, enum be_kind kind, size_t region_size)
{
	struct vb_queue_config qc;
	const struct vb_rng_backend_ops *ops;
	void *be = NULL;

	switch (kind) {
	case BE_GETRANDOM:
		ops = &vb_rng_getrandom_ops;
		break;
	case BE_FILE:
		make_file(f, FILE_LEN);
		assert_int_equal(vb_rng_file_open(f->path, &f->file), 0);
		ops = &vb_rng_file_ops;
		be = f->file;
		break;
	case BE_FAKE:
	default:
		f->fops = (struct vb_rng_backend_ops){ .version = VB_RNG_BACKEND_OPS_V1,
						       .fill = fake_fill };
		ops = &f->fops;
		be = f;
		break;
	}
	assert_int_equal(vb_rng_create(&f->cfg, ops, be, &f->rng), 0);
	assert_int_equal(vbt_guest_init(&f->g, GUEST_GPA, region_size ? 64 * region_size :
					GUEST_SIZE, region_size), 0);
	f->started = true;
	vbt_split_init(&f->r, &f->g, QSZ);
	f->tops = (struct vb_transport_ops){ .version = VB_TRANSPORT_OPS_V1,
		.notify = t_notify, .config_changed = t_config_changed,
		.needs_reset = t_needs_reset };
	assert_int_equal(vb_dev_init(f->dev_storage, sizeof(f->dev_storage),
				     vb_rng_device_ops(f->rng), f->rng, &f->tops, f, &f->g.mem,
				     &f->dev), 0);
	assert_int_equal(vb_dev_set_status(f->dev, VB_VIRTIO_S_ACKNOWLEDGE), 0);
	assert_int_equal(vb_dev_set_status(f->dev, VB_VIRTIO_S_ACKNOWLEDGE |
					   VB_VIRTIO_S_DRIVER), 0);
	assert_int_equal(vb_dev_set_driver_features(f->dev, vb_dev_get_features(f->dev) &
						    ~VB_BIT(VB_VIRTIO_F_RING_PACKED)), 0);
	assert_int_equal(vb_dev_set_status(f->dev, VB_VIRTIO_S_ACKNOWLEDGE | VB_VIRTIO_S_DRIVER |
					   VB_VIRTIO_S_FEATURES_OK), 0);
	qc = (struct vb_queue_config){ .num = QSZ, .desc = f->r.desc_gpa,
				       .driver = f->r.avail_gpa, .device = f->r.used_gpa };
	assert_int_equal(vb_dev_queue_set_config(f->dev, 0, &qc), 0);
	assert_int_equal(vb_dev_queue_enable(f->dev, 0, true), 0);
	assert_int_equal(vb_dev_set_status(f->dev, VB_VIRTIO_S_ACKNOWLEDGE | VB_VIRTIO_S_DRIVER |
					   VB_VIRTIO_S_FEATURES_OK | VB_VIRTIO_S_DRIVER_OK), 0);
}

/* A guest buffer of len bytes filled with 0xee (to see what the device wrote). */
static uint64_t gbuf(struct fx *f, size_t len)
{
	uint64_t gpa = vbt_guest_alloc(&f->g, len, 8);

	memset(vbt_guest_ptr(&f->g, gpa), 0xee, len);
	return gpa;
}

/* Post one writable buffer of len bytes; returns its guest address. */
static uint64_t post(struct fx *f, size_t len)
{
	uint64_t gpa = gbuf(f, len);
	struct vbt_buf b = { gpa, (uint32_t)len, true };

	vbt_split_add(&f->r, &b, 1, false);
	return gpa;
}

/* The next used element's length, asserting there is one. */
static uint32_t used_len(struct fx *f)
{
	uint32_t id, len;

	assert_int_equal(vbt_split_get_used(&f->r, &id, &len), 1);
	return len;
}

static bool no_used(struct fx *f)
{
	uint32_t id, len;

	return vbt_split_get_used(&f->r, &id, &len) == 0;
}

/* ---- tests ---- */

/* The device table: ID 4, one queue, no config space, ring features only.
 * @verify{VB-REQ-RNG-002} */
static void test_rng__device_table(void **state)
{
	struct fx *f = *state;
	const struct vb_device_ops *o;
	uint64_t ring = VB_BIT(VB_VIRTIO_F_VERSION_1) | VB_BIT(VB_VIRTIO_F_INDIRECT_DESC) |
			VB_BIT(VB_VIRTIO_F_EVENT_IDX) | VB_BIT(VB_VIRTIO_F_RING_PACKED) |
			VB_BIT(VB_VIRTIO_F_RING_RESET);
	uint8_t b;

	f->cfg.features_off = VB_BIT(VB_VIRTIO_F_RING_PACKED) | VB_BIT(VB_VIRTIO_F_VERSION_1);
	start(f, BE_GETRANDOM, 0);
	o = vb_rng_device_ops(f->rng);
	assert_int_equal(o->device_id, VB_VIRTIO_ID_RNG);
	assert_int_equal(o->num_queues, 1);
	assert_int_equal(o->queue_num_max, QSZ);
	assert_int_equal(o->config_len, 0);
	/* VERSION_1 cannot be switched off; packed can. */
	assert_true(o->features == (ring & ~VB_BIT(VB_VIRTIO_F_RING_PACKED)));
	assert_int_equal(vb_dev_config_read(f->dev, 0, &b, 1), -EINVAL);
	assert_int_equal(vb_rng_timer_fd(f->rng), -1);
}

/* Construction checks. @verify{VB-REQ-RNG-001} */
static void test_rng__init_rejects_bad_config(void **state)
{
	struct fx *f = *state;
	struct vb_rng_backend_ops ops = { .version = VB_RNG_BACKEND_OPS_V1, .fill = fake_fill };
	struct vb_rng_config c = f->cfg;
	size_t sz = vb_rng_size(&c);
	void *mem;
	struct vb_rng *rng = NULL;

	(void)state;
	assert_true(sz > 0);
	mem = aligned_alloc(8, sz + 8);
	assert_non_null(mem);
	assert_int_equal(vb_rng_init(mem, sz - 1, &c, &ops, NULL, &rng), -ENOSPC);
	assert_int_equal(vb_rng_init((uint8_t *)mem + 1, sz, &c, &ops, NULL, &rng), -EINVAL);
	assert_int_equal(vb_rng_init(mem, sz, NULL, &ops, NULL, &rng), -EINVAL);
	ops.fill = NULL;
	assert_int_equal(vb_rng_init(mem, sz, &c, &ops, NULL, &rng), -EINVAL);
	ops.fill = fake_fill;
	ops.version = 0;
	assert_int_equal(vb_rng_init(mem, sz, &c, &ops, NULL, &rng), -EINVAL);
	ops.version = VB_RNG_BACKEND_OPS_V1;
	c.version = 0;
	assert_int_equal(vb_rng_size(&c), 0);
	assert_int_equal(vb_rng_init(mem, sz, &c, &ops, NULL, &rng), -EINVAL);
	c = f->cfg;
	c.rate = VB_RNG_RATE_MAX + 1;
	assert_int_equal(vb_rng_init(mem, sz, &c, &ops, NULL, &rng), -EINVAL);
	c = f->cfg;
	c.period_ms = VB_RNG_PERIOD_MS_MAX + 1;
	assert_int_equal(vb_rng_init(mem, sz, &c, &ops, NULL, &rng), -EINVAL);
	c = f->cfg;
	c.max_req_len = VB_RNG_REQ_MAX_LIMIT + 1;
	assert_int_equal(vb_rng_init(mem, sz, &c, &ops, NULL, &rng), -EINVAL);
	c = f->cfg;
	c.queue_num_max = 0;	/* default */
	c.rate = 1000;
	assert_int_equal(vb_rng_init(mem, sz, &c, &ops, NULL, &rng), 0);
	assert_int_equal(vb_rng_device_ops(rng)->queue_num_max, VB_RNG_QUEUE_NUM_DEFAULT);
	assert_true(vb_rng_timer_fd(rng) >= 0);
	vb_rng_fini(rng);
	assert_int_equal(vb_rng_timer_fd(rng), -1);
	free(mem);
}

/* getrandom fills every byte of a chain of several writable buffers, used length = sum.
 * @verify{VB-REQ-RNG-010} @verify{VB-REQ-RNG-030} */
static void test_rng__fills_writable_buffers(void **state)
{
	struct fx *f = *state;
	uint64_t a, b;
	struct vbt_buf bufs[2];
	uint8_t *pa, *pb;
	unsigned int ee = 0;
	struct vb_rng_stats st;

	start(f, BE_GETRANDOM, 0);
	a = gbuf(f, 1000);
	b = gbuf(f, 24);
	bufs[0] = (struct vbt_buf){ a, 1000, true };
	bufs[1] = (struct vbt_buf){ b, 24, true };
	vbt_split_add(&f->r, bufs, 2, false);
	vbt_split_add(&f->r, bufs, 2, true);	/* the same buffers through an indirect table */
	assert_int_equal(vb_dev_kick(f->dev, 0), 0);
	assert_int_equal(used_len(f), 1024);
	assert_int_equal(used_len(f), 1024);
	assert_true(no_used(f));
	assert_true(f->notifies >= 1);
	pa = vbt_guest_ptr(&f->g, a);
	pb = vbt_guest_ptr(&f->g, b);
	/* 1024 random bytes all equal to the fill pattern: probability 2^-8192 per byte run. */
	for (unsigned int i = 0; i < 1000; i++)
		ee += pa[i] == 0xee;
	for (unsigned int i = 0; i < 24; i++)
		ee += pb[i] == 0xee;
	assert_true(ee < 64);
	vb_rng_get_stats(f->rng, &st);
	assert_int_equal(st.requests, 2);
	assert_int_equal(st.bytes, 2048);
}

/* The file backend delivers the file's bytes in order, zero copy across memory regions, and
 * starts over at the end of a regular file. @verify{VB-REQ-RNG-010} @verify{VB-REQ-RNG-031} */
static void test_rng__file_bytes_in_order(void **state)
{
	struct fx *f = *state;
	uint64_t gpa[3];
	size_t lens[3] = { 3000, 1096, 100 };	/* 3000 + 1096 = the file, then it wraps */

	start(f, BE_FILE, 4096);		/* 4 KiB regions: buffers split */
	for (int i = 0; i < 3; i++)
		gpa[i] = post(f, lens[i]);
	assert_int_equal(vb_dev_kick(f->dev, 0), 0);
	assert_int_equal(used_len(f), 3000);
	assert_memory_equal(vbt_guest_ptr(&f->g, gpa[0]), f->data, 3000);
	/* Split by a region boundary: readv stopped nowhere short of the iovecs' end. */
	assert_int_equal(used_len(f), 1096);
	assert_memory_equal(vbt_guest_ptr(&f->g, gpa[1]), f->data + 3000, 1096);
	assert_int_equal(used_len(f), 100);
	assert_memory_equal(vbt_guest_ptr(&f->g, gpa[2]), f->data, 100);
}

/* The file backend refuses what cannot give bytes. @verify{VB-REQ-RNG-031} */
static void test_rng__file_open_errors(void **state)
{
	struct fx *f = *state;
	struct vb_rng_file *x = NULL;

	assert_int_equal(vb_rng_file_open("/nonexistent/vb-rng", &x), -ENOENT);
	assert_int_equal(vb_rng_file_open("/tmp", &x), -EINVAL);
	make_file(f, 0);
	assert_int_equal(vb_rng_file_open(f->path, &x), -EINVAL);
	assert_int_equal(vb_rng_file_open("/dev/urandom", &x), 0);
	vb_rng_file_close(x);
	vb_rng_file_close(NULL);
}

/* A chain with a device-readable buffer: nothing written, used 0, the queue goes on without
 * NEEDS_RESET. @verify{VB-REQ-RNG-011} */
static void test_rng__readable_buffer_refused(void **state)
{
	struct fx *f = *state;
	struct vbt_buf bufs[2], ro;
	struct vb_rng_stats st;
	uint64_t r, w, ok;

	start(f, BE_FAKE, 0);
	r = gbuf(f, 16);
	w = gbuf(f, 32);
	bufs[0] = (struct vbt_buf){ r, 16, false };
	bufs[1] = (struct vbt_buf){ w, 32, true };
	ro = bufs[0];
	vbt_split_add(&f->r, bufs, 2, false);
	vbt_split_add(&f->r, &ro, 1, false);
	ok = post(f, 8);
	assert_int_equal(vb_dev_kick(f->dev, 0), 0);
	assert_int_equal(used_len(f), 0);
	assert_int_equal(used_len(f), 0);
	for (int i = 0; i < 32; i++)
		assert_int_equal(((uint8_t *)vbt_guest_ptr(&f->g, w))[i], 0xee);
	assert_int_equal(used_len(f), 8);
	assert_int_equal(((uint8_t *)vbt_guest_ptr(&f->g, ok))[7], 8);
	assert_int_equal(f->needs_reset, 0);
	assert_int_equal(vb_dev_get_status(f->dev) & VB_VIRTIO_S_NEEDS_RESET, 0);
	assert_int_equal(f->fills, 1);
	vb_rng_get_stats(f->rng, &st);
	assert_int_equal(st.readable, 2);
	assert_int_equal(st.requests, 3);
}

/* At most max_req_len bytes per chain. @verify{VB-REQ-RNG-012} */
static void test_rng__request_capped(void **state)
{
	struct fx *f = *state;
	uint64_t gpa;
	uint8_t *p;

	f->cfg.max_req_len = 100;
	start(f, BE_FAKE, 0);
	gpa = post(f, 256);
	assert_int_equal(vb_dev_kick(f->dev, 0), 0);
	assert_int_equal(used_len(f), 100);
	p = vbt_guest_ptr(&f->g, gpa);
	assert_int_equal(p[99], 100);
	assert_int_equal(p[100], 0xee);
}

/* A failing backend: used length 0, the next request is served. @verify{VB-REQ-RNG-013} */
static void test_rng__backend_error_used_zero(void **state)
{
	struct fx *f = *state;
	struct vb_rng_stats st;

	start(f, BE_FAKE, 0);
	f->fail = -EIO;
	post(f, 16);
	assert_int_equal(vb_dev_kick(f->dev, 0), 0);
	assert_int_equal(used_len(f), 0);
	f->fail = 0;
	post(f, 16);
	assert_int_equal(vb_dev_kick(f->dev, 0), 0);
	assert_int_equal(used_len(f), 16);
	f->fail = 17;		/* a backend claiming more than asked is not believed */
	post(f, 16);
	assert_int_equal(vb_dev_kick(f->dev, 0), 0);
	assert_int_equal(used_len(f), 0);
	vb_rng_get_stats(f->rng, &st);
	assert_int_equal(st.errors, 2);
	assert_int_equal(vb_dev_get_status(f->dev) & VB_VIRTIO_S_NEEDS_RESET, 0);
}

static uint64_t mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* The bucket: a full bucket at once, then nothing popped until the timer fd fires, then
 * the waiting buffers served; bytes over time stay within burst + rate * t.
 * @verify{VB-REQ-RNG-020} @verify{VB-REQ-RNG-021} */
static void test_rng__rate_limit_waits_for_timer(void **state)
{
	struct fx *f = *state;
	struct pollfd pfd;
	uint64_t t0, total = 0, elapsed;
	struct vb_rng_stats st;
	struct vb_vq_pos pos;
	int fd;

	f->cfg.rate = 2000;		/* bytes/s: 400 bytes take 200 ms to come back */
	f->cfg.period_ms = 500;		/* bucket: 1000 bytes */
	start(f, BE_FAKE, 0);
	t0 = mono_ms();
	fd = vb_rng_timer_fd(f->rng);
	assert_true(fd >= 0);
	for (int i = 0; i < 8; i++)
		post(f, 400);
	assert_int_equal(vb_dev_kick(f->dev, 0), 0);
	/* 400 + 400 from the bucket's 1000 bytes; the third chain waits in the ring until the
	 * bucket holds 400 again (whole buffers for same-size requests). */
	assert_int_equal(used_len(f), 400);
	assert_int_equal(used_len(f), 400);
	assert_true(no_used(f));
	vb_vq_get_pos(vb_dev_queue(f->dev, 0), &pos);
	assert_int_equal(pos.avail_idx, 2);
	total = 800;
	pfd = (struct pollfd){ .fd = fd, .events = POLLIN };
	for (unsigned int chains = 2; chains < 8;) {
		uint32_t id, len;

		assert_int_equal(poll(&pfd, 1, 2000), 1);
		assert_int_equal(vb_rng_process(f->rng), 0);
		while (vbt_split_get_used(&f->r, &id, &len) == 1) {
			assert_int_equal(len, 400);
			total += len;
			chains++;
		}
	}
	elapsed = mono_ms() - t0;
	/* Served bytes stay within the bucket plus rate * time (2 bytes per ms, + 2 for the
	 * millisecond rounding): 2200 bytes after the bucket take at least 1100 ms. */
	assert_true(total <= 1000 + 2 * elapsed + 2);
	assert_true(elapsed >= 1000);
	assert_true(elapsed < 6000);
	vb_rng_get_stats(f->rng, &st);
	assert_true(st.throttled >= 2);
	assert_int_equal(st.bytes, 3200);
	assert_int_equal(total, 3200);
	/* With nothing waiting, a timer expiry serves nothing and is harmless. */
	assert_int_equal(vb_rng_process(f->rng), 0);
	assert_true(no_used(f));
}

/* Throttled buffers stay in the ring: a device reset drops nothing in flight, and after
 * re-initialisation the queue is served again. @verify{VB-REQ-RNG-020} */
static void test_rng__reset_while_throttled(void **state)
{
	struct fx *f = *state;
	struct vb_vq_pos pos;

	f->cfg.rate = 10;
	f->cfg.period_ms = 1000;	/* bucket: 10 bytes; 8 more take 800 ms */
	start(f, BE_FAKE, 0);
	post(f, 8);
	post(f, 8);
	post(f, 8);
	assert_int_equal(vb_dev_kick(f->dev, 0), 0);
	assert_int_equal(used_len(f), 8);
	assert_true(no_used(f));
	vb_vq_get_pos(vb_dev_queue(f->dev, 0), &pos);
	assert_int_equal(pos.avail_idx, 1);	/* the others were never popped */
	vb_dev_reset(f->dev);
	/* The timer may fire after the reset: no queue is live, nothing happens. */
	assert_int_equal(vb_rng_process(f->rng), 0);
	assert_int_equal(vb_dev_get_status(f->dev), 0);
}

/* A Linux-like driver under the rate limit: one 64-byte buffer posted at a time, EVENT_IDX,
 * a kick only when avail_event asks for one, and the used ring looked at only after an
 * interrupt. Every buffer comes back, with no kick while the queue is throttled.
 * @verify{VB-REQ-RNG-021} */
static void test_rng__rate_limit_event_idx_driver(void **state)
{
	struct fx *f = *state;
	struct pollfd pfd;
	unsigned int seen = 0, got = 0;
	uint64_t total = 0;

	f->cfg.rate = 4096;
	f->cfg.period_ms = 50;		/* bucket: 204 bytes */
	start(f, BE_FAKE, 0);
	assert_true(vb_dev_has_feature(f->dev, VB_VIRTIO_F_EVENT_IDX));
	vbt_split_set_used_event(&f->r, 0);
	pfd = (struct pollfd){ .fd = vb_rng_timer_fd(f->rng), .events = POLLIN };
	while (got < 24) {
		uint16_t old = f->r.avail_idx;
		uint32_t id, len;

		post(f, 64);
		if (vbt_split_driver_would_kick(&f->r, true, old, f->r.avail_idx))
			assert_int_equal(vb_dev_kick(f->dev, 0), 0);
		/* Wait for the interrupt, serving the timer meanwhile. */
		while (f->notifies == seen) {
			if (poll(&pfd, 1, 2000) != 1)
				fail_msg("buffer %u: no interrupt and no timer (stalled)", got);
			assert_int_equal(vb_rng_process(f->rng), 0);
		}
		seen = f->notifies;
		assert_int_equal(vbt_split_get_used(&f->r, &id, &len), 1);
		assert_int_equal(len, 64);	/* whole buffers: no short answer */
		total += len;
		got++;
		/* Linux: virtqueue_get_buf() asks for an interrupt at the next entry. */
		vbt_split_set_used_event(&f->r, f->r.last_used);
	}
	assert_true(total > 0);
}

/* A buffer larger than the bucket gets a full bucket's worth (a short answer, virtio 1.2,
 * 5.4.6.2), never more. @verify{VB-REQ-RNG-020} */
static void test_rng__rate_limit_big_buffer_short(void **state)
{
	struct fx *f = *state;
	uint64_t gpa;

	f->cfg.rate = 1000;
	f->cfg.period_ms = 100;		/* bucket: 100 bytes */
	start(f, BE_FAKE, 0);
	gpa = post(f, 4096);
	assert_int_equal(vb_dev_kick(f->dev, 0), 0);
	assert_int_equal(used_len(f), 100);
	assert_int_equal(((uint8_t *)vbt_guest_ptr(&f->g, gpa))[100], 0xee);
}

#define T(name) cmocka_unit_test_setup_teardown(test_rng__##name, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(device_table),
		T(init_rejects_bad_config),
		T(fills_writable_buffers),
		T(file_bytes_in_order),
		T(file_open_errors),
		T(readable_buffer_refused),
		T(request_capped),
		T(backend_error_used_zero),
		T(rate_limit_waits_for_timer),
		T(reset_while_throttled),
		T(rate_limit_event_idx_driver),
		T(rate_limit_big_buffer_short),
	};

	return cmocka_run_group_tests_name("rng", tests, NULL, NULL);
}
