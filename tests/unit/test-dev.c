/* SPDX-License-Identifier: MIT */
/*
 * Device state machine (src/core/dev.c): storage, feature negotiation, the status register,
 * config space, queue setup and enable, per-queue reset, remap and kicks, against the
 * recording fake transport of tests/support/vbt-dev.c. See docs/requirements/DEV.md.
 */
#include <setjmp.h>
#include <stdalign.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "virtio-backend.h"
#include "vbt-dev.h"
#include "vbt-split.h"

#define GUEST_GPA	0x100000u
#define GUEST_SIZE	(1u << 20)
#define REGION		(64u << 10)	/* 16 regions: rings can live in different ones */
#define QSZ		8u
#define QMAX		256u

#define S_ACK		VB_VIRTIO_S_ACKNOWLEDGE
#define S_DRV		(S_ACK | VB_VIRTIO_S_DRIVER)
#define S_FOK		(S_DRV | VB_VIRTIO_S_FEATURES_OK)
#define S_DOK		(S_FOK | VB_VIRTIO_S_DRIVER_OK)

#define F_DEV		(VB_BIT(VB_VIRTIO_F_VERSION_1) | VB_BIT(VB_VIRTIO_F_INDIRECT_DESC) | \
			 VB_BIT(VB_VIRTIO_F_EVENT_IDX) | VB_BIT(VB_VIRTIO_F_RING_RESET) | \
			 VB_BIT(0) | VB_BIT(5))

struct fix {
	struct vbt_guest	g;
	struct vbt_split	r[2];	/* r[1] lives in another region than r[0] */
	struct vbt_dev		d;
	struct vb_dev		*dev;
	uint64_t		buf0;	/* scratch buffer in region 0 */
};

static struct fix fixture;

/* Hooks the fake model does not count (set in d.ops / d.tops by the tests that need them). */
static unsigned int queue_resets;
static struct vb_vq *queue_reset_vq;
static struct vb_vq *kicked_vq;

static void count_queue_reset(struct vb_dev *dev, struct vb_vq *vq)
{
	(void)dev;
	queue_resets++;
	queue_reset_vq = vq;
}

static void record_kick(struct vbt_dev *d, struct vb_vq *vq)
{
	(void)d;
	kicked_vq = vq;
}

static int fail_activate(struct vb_dev *dev, uint64_t features)
{
	(void)dev;
	(void)features;
	return -EIO;
}

static int fail_config(struct vb_dev *dev, uint32_t off, void *buf, uint32_t len)
{
	(void)dev;
	(void)off;
	(void)buf;
	(void)len;
	return -EIO;
}

static int fail_config_changed(void *t)
{
	(void)t;
	return -EIO;
}

static int setup(void **state)
{
	struct fix *f = &fixture;

	memset(f, 0, sizeof(*f));
	queue_resets = 0;
	queue_reset_vq = kicked_vq = NULL;
	assert_int_equal(vbt_guest_init(&f->g, GUEST_GPA, GUEST_SIZE, REGION), 0);
	vbt_split_init(&f->r[0], &f->g, QSZ);
	f->buf0 = vbt_guest_alloc(&f->g, 64, 8);
	vbt_guest_alloc(&f->g, 1, REGION);	/* move to the next region */
	vbt_split_init(&f->r[1], &f->g, QSZ);
	assert_int_equal(vbt_dev_init(&f->d, &f->g.mem, F_DEV, 2, QMAX), 0);
	f->d.ops.queue_reset = count_queue_reset;
	f->d.on_kick = record_kick;
	f->dev = f->d.dev;
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fix *f = *state;

	vbt_guest_fini(&f->g);
	return 0;
}

static int queue(struct fix *f, uint16_t q)
{
	return vbt_dev_queue(&f->d, q, QSZ, f->r[q].desc_gpa, f->r[q].avail_gpa, f->r[q].used_gpa);
}

/* Full handshake with both queues live. */
static void up(struct fix *f)
{
	assert_int_equal(vbt_dev_negotiate(&f->d, F_DEV), 0);
	assert_int_equal(queue(f, 0), 0);
	assert_int_equal(queue(f, 1), 0);
	assert_int_equal(vbt_dev_driver_ok(&f->d), 0);
	assert_true(vb_vq_is_ready(vb_dev_queue(f->dev, 0)));
	assert_true(vb_vq_is_ready(vb_dev_queue(f->dev, 1)));
}

/* One chain through queue q: it works. */
static void works(struct fix *f, uint16_t q)
{
	struct vb_vq *vq = vb_dev_queue(f->dev, q);
	struct vb_iov rd[2], wr[2];
	struct vb_chain c = VB_CHAIN_INIT(rd, wr);
	struct vbt_buf b = { f->buf0, 8, true };
	uint32_t id, len;
	uint16_t head = vbt_split_add(&f->r[q], &b, 1, false);

	assert_int_equal(vb_vq_pop(vq, &c), 1);
	assert_int_equal(c.head, head);
	assert_int_equal(vb_vq_push(vq, &c, 8), 0);
	assert_int_equal(vbt_split_get_used(&f->r[q], &id, &len), 1);
	assert_int_equal(id, head);
}

/* ---------------------------------------------------------------------------------------- */

/* @verify{VB-REQ-DEV-001} vb_dev_init() refuses bad arguments with -EINVAL and short storage
 * with -ENOSPC, and keeps what it was given */
static void test_dev__init_argument_checks(void **state)
{
	struct fix *f = *state;
	static alignas(8) uint8_t st[VB_DEV_STORAGE_MAX(2) + 8];
	struct vb_device_ops ops = f->d.ops;
	struct vb_transport_ops tops = f->d.tops;
	const struct vb_mem *mem = &f->g.mem;
	const size_t need = vb_dev_size(2);
	struct vb_dev *dev = NULL;

#define INIT(s, len, o, t, m, out) vb_dev_init((s), (len), (o), &f->d, (t), &f->d, (m), (out))
	assert_int_equal(INIT(NULL, sizeof(st), &ops, &tops, mem, &dev), -EINVAL);
	assert_int_equal(INIT(st + 4, sizeof(st) - 4, &ops, &tops, mem, &dev), -EINVAL);
	assert_int_equal(INIT(st, sizeof(st), NULL, &tops, mem, &dev), -EINVAL);
	assert_int_equal(INIT(st, sizeof(st), &ops, NULL, mem, &dev), -EINVAL);
	assert_int_equal(INIT(st, sizeof(st), &ops, &tops, NULL, &dev), -EINVAL);
	assert_int_equal(INIT(st, sizeof(st), &ops, &tops, mem, NULL), -EINVAL);
	{
		struct vb_device_ops bad;

		bad = ops, bad.version = 0;
		assert_int_equal(INIT(st, sizeof(st), &bad, &tops, mem, &dev), -EINVAL);
		bad = ops, bad.num_queues = 0;
		assert_int_equal(INIT(st, sizeof(st), &bad, &tops, mem, &dev), -EINVAL);
		bad = ops, bad.queue_num_max = 0;
		assert_int_equal(INIT(st, sizeof(st), &bad, &tops, mem, &dev), -EINVAL);
		bad = ops, bad.queue_num_max = 32769;
		assert_int_equal(INIT(st, sizeof(st), &bad, &tops, mem, &dev), -EINVAL);
		bad = ops, bad.config_read = NULL;
		assert_int_equal(INIT(st, sizeof(st), &bad, &tops, mem, &dev), -EINVAL);
		bad = ops, bad.kick = NULL;
		assert_int_equal(INIT(st, sizeof(st), &bad, &tops, mem, &dev), -EINVAL);
	}
	{
		struct vb_transport_ops bad;

		bad = tops, bad.version = 0;
		assert_int_equal(INIT(st, sizeof(st), &ops, &bad, mem, &dev), -EINVAL);
		bad = tops, bad.notify = NULL;
		assert_int_equal(INIT(st, sizeof(st), &ops, &bad, mem, &dev), -EINVAL);
		bad = tops, bad.config_changed = NULL;
		assert_int_equal(INIT(st, sizeof(st), &ops, &bad, mem, &dev), -EINVAL);
	}
	assert_null(dev);
	assert_int_equal(INIT(st, need - 1, &ops, &tops, mem, &dev), -ENOSPC);
	assert_int_equal(INIT(st, 0, &ops, &tops, mem, &dev), -ENOSPC);
	assert_null(dev);

	/* Optional hooks may be NULL; 32768 is the largest queue size. */
	ops.config_write = NULL;
	ops.activate = NULL;
	ops.reset = NULL;
	ops.queue_reset = NULL;
	ops.queue_num_max = 32768;
	tops.needs_reset = NULL;
	assert_int_equal(INIT(st, need, &ops, &tops, mem, &dev), 0);
#undef INIT
	assert_ptr_equal(dev, (void *)st);
	assert_ptr_equal(vb_dev_priv(dev), &f->d);
	assert_ptr_equal(vb_dev_ops(dev), &ops);
	assert_ptr_equal(vb_dev_mem(dev), mem);
	assert_int_equal(vb_dev_num_queues(dev), 2);
	assert_int_equal(vb_dev_get_status(dev), 0);
	for (uint16_t q = 0; q < 2; q++) {
		struct vb_vq *vq = vb_dev_queue(dev, q);
		struct vb_queue_config cfg;

		assert_non_null(vq);
		assert_int_equal(vb_vq_index(vq), q);
		assert_ptr_equal(vb_vq_dev(vq), dev);
		assert_int_equal(vb_vq_num(vq), 0);
		assert_false(vb_vq_is_ready(vq));
		assert_int_equal(vb_dev_queue_get_config(dev, q, &cfg), 0);
		assert_int_equal(cfg.num_max, 32768);
		assert_false(cfg.enabled);
	}
	assert_null(vb_dev_queue(dev, 2));
	assert_null(vb_dev_queue(dev, 0xFFFF));
	/* A device without the optional hooks goes through its life cycle. */
	assert_int_equal(vb_dev_set_status(dev, S_ACK), 0);
	assert_int_equal(vb_dev_set_status(dev, S_DRV), 0);
	assert_int_equal(vb_dev_set_driver_features(dev, VB_BIT(VB_VIRTIO_F_VERSION_1)), 0);
	assert_int_equal(vb_dev_set_status(dev, S_FOK), 0);
	assert_int_equal(vb_dev_set_status(dev, S_DOK), 0);
	vb_dev_set_needs_reset(dev);
	assert_int_equal(vb_dev_queue_reset(dev, 0), 0);
	assert_int_equal(vb_dev_config_write(dev, 0, "x", 1), -ENOTSUP);
	assert_int_equal(vb_dev_set_status(dev, 0), 0);
}

/* @verify{VB-REQ-DEV-001} @verify{VB-REQ-DEV-017} vb_dev_size() is within
 * VB_DEV_STORAGE_MAX() for 1..64 queues, and a device of every such size initialises in
 * exactly that storage without writing past it */
static void test_dev__size_within_storage_max(void **state)
{
	struct fix *f = *state;
	static alignas(8) uint8_t st[VB_DEV_STORAGE_MAX(64) + 64];
	struct vb_device_ops ops = f->d.ops;

	for (uint16_t n = 1; n <= 64; n++) {
		size_t need = vb_dev_size(n);
		struct vb_dev *dev;

		assert_true(need <= VB_DEV_STORAGE_MAX(n));
		assert_true(need > vb_dev_size((uint16_t)(n - 1)));
		ops.num_queues = n;
		memset(st, 0xEE, sizeof(st));
		assert_int_equal(vb_dev_init(st, need - 1, &ops, &f->d, &f->d.tops, &f->d,
					     &f->g.mem, &dev), -ENOSPC);
		assert_int_equal(vb_dev_init(st, need, &ops, &f->d, &f->d.tops, &f->d,
					     &f->g.mem, &dev), 0);
		for (size_t i = need; i < sizeof(st); i++)
			assert_int_equal(st[i], 0xEE);
		assert_int_equal(vb_dev_num_queues(dev), n);
		assert_non_null(vb_dev_queue(dev, (uint16_t)(n - 1)));
		assert_null(vb_dev_queue(dev, n));
		assert_int_equal(vb_vq_index(vb_dev_queue(dev, (uint16_t)(n - 1))), n - 1);
	}
}

/* @verify{VB-REQ-DEV-002} offered = (device | forced) & ~forbidden, forbidden wins; the mask
 * is fixed once FEATURES_OK is set (-EBUSY) and survives a reset */
static void test_dev__feature_mask(void **state)
{
	struct fix *f = *state;
	const uint64_t ring_reset = VB_BIT(VB_VIRTIO_F_RING_RESET);
	const uint64_t access = VB_BIT(VB_VIRTIO_F_ACCESS_PLATFORM);

	assert_int_equal(vb_dev_get_features(f->dev), F_DEV);
	assert_int_equal(vb_dev_set_feature_mask(f->dev, access | VB_BIT(7),
						 ring_reset | VB_BIT(7)), 0);
	assert_int_equal(vb_dev_get_features(f->dev), (F_DEV | access) & ~ring_reset);
	/* A forbidden bit cannot be accepted any more. */
	assert_int_equal(vb_dev_set_status(f->dev, S_ACK), 0);
	assert_int_equal(vb_dev_set_status(f->dev, S_DRV), 0);
	assert_int_equal(vb_dev_set_driver_features(f->dev, F_DEV), -ENOTSUP);
	assert_int_equal(vb_dev_set_status(f->dev, S_FOK), -ENOTSUP);
	assert_int_equal(vb_dev_set_driver_features(f->dev, (F_DEV | access) & ~ring_reset), 0);
	assert_int_equal(vb_dev_set_status(f->dev, S_FOK), 0);
	assert_int_equal(vb_dev_set_feature_mask(f->dev, 0, 0), -EBUSY);
	assert_int_equal(vb_dev_get_features(f->dev), (F_DEV | access) & ~ring_reset);
	assert_true(vb_dev_has_feature(f->dev, VB_VIRTIO_F_ACCESS_PLATFORM));
	assert_false(vb_dev_has_feature(f->dev, VB_VIRTIO_F_RING_RESET));
	assert_false(vb_dev_has_feature(f->dev, 64));
	assert_false(vb_dev_has_feature(f->dev, 1000));
	vb_dev_reset(f->dev);
	assert_int_equal(vb_dev_get_features(f->dev), (F_DEV | access) & ~ring_reset);
	assert_int_equal(vb_dev_set_feature_mask(f->dev, 0, 0), 0);
	assert_int_equal(vb_dev_get_features(f->dev), F_DEV);
}

/* @verify{VB-REQ-DEV-003} driver features are taken only between DRIVER and FEATURES_OK
 * (-EPROTO otherwise, ignored); unoffered bits give -ENOTSUP and are recorded */
static void test_dev__set_driver_features_rules(void **state)
{
	struct fix *f = *state;

	assert_int_equal(vb_dev_set_driver_features(f->dev, VB_BIT(0)), -EPROTO);
	assert_int_equal(vb_dev_get_driver_features(f->dev), 0);
	assert_int_equal(vb_dev_set_status(f->dev, S_ACK), 0);
	assert_int_equal(vb_dev_set_driver_features(f->dev, VB_BIT(0)), -EPROTO);
	assert_int_equal(vb_dev_get_driver_features(f->dev), 0);
	assert_int_equal(vb_dev_set_status(f->dev, S_DRV), 0);
	assert_int_equal(vb_dev_set_driver_features(f->dev, VB_BIT(0) | VB_BIT(1)), -ENOTSUP);
	assert_int_equal(vb_dev_get_driver_features(f->dev), VB_BIT(0) | VB_BIT(1));
	assert_int_equal(vb_dev_set_driver_features(f->dev, VB_BIT(63)), -ENOTSUP);
	assert_int_equal(vb_dev_set_driver_features(f->dev, F_DEV), 0);
	assert_int_equal(vb_dev_get_driver_features(f->dev), F_DEV);
	assert_int_equal(vb_dev_set_status(f->dev, S_FOK), 0);
	assert_int_equal(vb_dev_set_driver_features(f->dev, VB_BIT(VB_VIRTIO_F_VERSION_1)),
			 -EPROTO);
	assert_int_equal(vb_dev_get_driver_features(f->dev), F_DEV);
	assert_int_equal(vb_dev_set_status(f->dev, S_DOK), 0);
	assert_int_equal(vb_dev_set_driver_features(f->dev, 0), -EPROTO);
	assert_int_equal(vb_dev_get_driver_features(f->dev), F_DEV);
}

/* @verify{VB-REQ-DEV-005} FEATURES_OK is refused (not set, -ENOTSUP, other bits taken) for
 * unoffered bits or a missing VERSION_1, and taken once the driver fixes its features */
static void test_dev__features_ok_refused(void **state)
{
	struct fix *f = *state;

	assert_int_equal(vb_dev_set_status(f->dev, S_ACK), 0);
	assert_int_equal(vb_dev_set_status(f->dev, S_DRV), 0);
	/* An unoffered bit. */
	assert_int_equal(vb_dev_set_driver_features(f->dev, F_DEV | VB_BIT(3)), -ENOTSUP);
	assert_int_equal(vb_dev_set_status(f->dev, S_FOK), -ENOTSUP);
	assert_int_equal(vb_dev_get_status(f->dev), S_DRV);
	/* FEATURES_OK and DRIVER_OK in one write: neither is taken. */
	assert_int_equal(vb_dev_set_status(f->dev, S_DOK), -ENOTSUP);
	assert_int_equal(vb_dev_get_status(f->dev), S_DRV);
	assert_int_equal(f->d.activations, 0);
	/* VERSION_1 offered but not accepted. */
	assert_int_equal(vb_dev_set_driver_features(f->dev, F_DEV & ~VB_BIT(VB_VIRTIO_F_VERSION_1)),
			 0);
	assert_int_equal(vb_dev_set_status(f->dev, S_FOK), -ENOTSUP);
	assert_int_equal(vb_dev_get_status(f->dev), S_DRV);
	/* DRIVER_OK cannot follow a refused FEATURES_OK. */
	assert_int_equal(vb_dev_set_status(f->dev, S_DRV | VB_VIRTIO_S_DRIVER_OK), -EPROTO);
	assert_int_equal(vb_dev_get_status(f->dev), S_DRV);
	/* Fixed: accepted. */
	assert_int_equal(vb_dev_set_driver_features(f->dev, VB_BIT(VB_VIRTIO_F_VERSION_1)), 0);
	assert_int_equal(vb_dev_set_status(f->dev, S_FOK), 0);
	assert_int_equal(vb_dev_get_status(f->dev), S_FOK);

	/* A device that does not offer VERSION_1 (legacy) accepts a driver without it. */
	vb_dev_reset(f->dev);
	assert_int_equal(vb_dev_set_feature_mask(f->dev, 0, VB_BIT(VB_VIRTIO_F_VERSION_1)), 0);
	assert_int_equal(vb_dev_set_status(f->dev, S_DRV), 0);
	assert_int_equal(vb_dev_set_driver_features(f->dev, VB_BIT(0)), 0);
	assert_int_equal(vb_dev_set_status(f->dev, S_FOK), 0);
}

/* @verify{VB-REQ-DEV-004} a status write that clears a bit is -EPROTO and changes nothing;
 * NEEDS_RESET is the device's bit */
static void test_dev__status_cannot_clear_bits(void **state)
{
	struct fix *f = *state;

	up(f);
	assert_int_equal(vb_dev_set_status(f->dev, S_FOK), -EPROTO);
	assert_int_equal(vb_dev_set_status(f->dev, S_ACK), -EPROTO);
	assert_int_equal(vb_dev_set_status(f->dev, VB_VIRTIO_S_DRIVER_OK), -EPROTO);
	assert_int_equal(vb_dev_set_status(f->dev, (uint8_t)(S_DOK & ~VB_VIRTIO_S_DRIVER)),
			 -EPROTO);
	assert_int_equal(vb_dev_get_status(f->dev), S_DOK);
	assert_true(vb_vq_is_ready(vb_dev_queue(f->dev, 0)));
	assert_int_equal(f->d.resets, 0);
	/* The driver cannot set NEEDS_RESET ... */
	assert_int_equal(vb_dev_set_status(f->dev, S_DOK | VB_VIRTIO_S_NEEDS_RESET), 0);
	assert_int_equal(vb_dev_get_status(f->dev), S_DOK);
	/* ... and may echo or omit it once the device set it. */
	vb_dev_set_needs_reset(f->dev);
	assert_int_equal(vb_dev_set_status(f->dev, S_DOK | VB_VIRTIO_S_NEEDS_RESET), 0);
	assert_int_equal(vb_dev_set_status(f->dev, S_DOK), 0);
	assert_true(vb_dev_get_status(f->dev) & VB_VIRTIO_S_NEEDS_RESET);
	/* Rewriting the same status is not a new step. */
	assert_int_equal(f->d.activations, 1);
}

/* @verify{VB-REQ-DEV-004} the initialisation steps cannot be skipped (-EPROTO, status
 * unchanged); FAILED may be set at any time */
static void test_dev__status_steps_in_order(void **state)
{
	struct fix *f = *state;

	assert_int_equal(vb_dev_set_status(f->dev, VB_VIRTIO_S_DRIVER), -EPROTO);
	assert_int_equal(vb_dev_set_status(f->dev, S_ACK | VB_VIRTIO_S_FEATURES_OK), -EPROTO);
	assert_int_equal(vb_dev_set_status(f->dev, S_ACK | VB_VIRTIO_S_DRIVER_OK), -EPROTO);
	assert_int_equal(vb_dev_get_status(f->dev), 0);
	assert_int_equal(vb_dev_set_status(f->dev, S_ACK), 0);
	assert_int_equal(vb_dev_set_status(f->dev, S_ACK | VB_VIRTIO_S_FEATURES_OK), -EPROTO);
	assert_int_equal(vb_dev_set_status(f->dev, S_DRV | VB_VIRTIO_S_DRIVER_OK), -EPROTO);
	assert_int_equal(vb_dev_get_status(f->dev), S_ACK);
	assert_int_equal(vb_dev_set_status(f->dev, S_DRV), 0);
	assert_int_equal(vb_dev_set_status(f->dev, S_DRV | VB_VIRTIO_S_DRIVER_OK), -EPROTO);
	assert_int_equal(vb_dev_get_status(f->dev), S_DRV);
	assert_int_equal(f->d.activations, 0);
	/* Several steps in one write, in order, are fine. */
	vb_dev_reset(f->dev);
	assert_int_equal(vb_dev_set_status(f->dev, S_DRV), 0);
	assert_int_equal(vb_dev_set_driver_features(f->dev, F_DEV), 0);
	assert_int_equal(vb_dev_set_status(f->dev, S_DOK), 0);
	assert_int_equal(f->d.activations, 1);
	/* FAILED at any point. */
	assert_int_equal(vb_dev_set_status(f->dev, S_DOK | VB_VIRTIO_S_FAILED), 0);
	assert_true(vb_dev_get_status(f->dev) & VB_VIRTIO_S_FAILED);
	vb_dev_reset(f->dev);
	assert_int_equal(vb_dev_set_status(f->dev, VB_VIRTIO_S_FAILED), 0);
	assert_int_equal(vb_dev_get_status(f->dev), VB_VIRTIO_S_FAILED);
	vb_dev_reset(f->dev);
	assert_int_equal(vb_dev_set_status(f->dev, S_DRV | VB_VIRTIO_S_FAILED), 0);
}

/* @verify{VB-REQ-DEV-015} DRIVER_OK calls the model's activate hook once with the final
 * features and makes the enabled queues live; a queue enabled later goes live at once */
static void test_dev__driver_ok_activates(void **state)
{
	struct fix *f = *state;

	assert_int_equal(vbt_dev_negotiate(&f->d, F_DEV), 0);
	assert_int_equal(queue(f, 0), 0);
	assert_false(vb_vq_is_ready(vb_dev_queue(f->dev, 0)));	/* not before DRIVER_OK */
	assert_int_equal(f->d.activations, 0);
	assert_int_equal(vbt_dev_driver_ok(&f->d), 0);
	assert_int_equal(f->d.activations, 1);
	assert_true(vb_vq_is_ready(vb_dev_queue(f->dev, 0)));
	assert_false(vb_vq_is_ready(vb_dev_queue(f->dev, 1)));
	works(f, 0);
	assert_int_equal(queue(f, 1), 0);
	assert_true(vb_vq_is_ready(vb_dev_queue(f->dev, 1)));
	works(f, 1);
	assert_int_equal(vbt_dev_driver_ok(&f->d), 0);	/* already set: no second activation */
	assert_int_equal(f->d.activations, 1);
	assert_int_equal(f->d.config_changes, 0);
	assert_int_equal(f->d.needs_reset, 0);
}

/* @verify{VB-REQ-DEV-016} a failing activate hook makes DRIVER_OK return its errno and the
 * device show NEEDS_RESET, with a configuration change notification */
static void test_dev__activate_failure_needs_reset(void **state)
{
	struct fix *f = *state;

	f->d.ops.activate = fail_activate;
	assert_int_equal(vbt_dev_negotiate(&f->d, F_DEV), 0);
	assert_int_equal(queue(f, 0), 0);
	assert_int_equal(vbt_dev_driver_ok(&f->d), -EIO);
	assert_int_equal(vb_dev_get_status(f->dev), S_DOK | VB_VIRTIO_S_NEEDS_RESET);
	assert_int_equal(f->d.config_changes, 1);
	assert_int_equal(f->d.needs_reset, 1);
	/* The model is not active: a kick must not reach it. */
	assert_false(vb_vq_is_ready(vb_dev_queue(f->dev, 0)));
	assert_true(vb_dev_kick(f->dev, 0) < 0);
	assert_int_equal(f->d.kicks, 0);
	/* A reset clears it. */
	assert_int_equal(vb_dev_set_status(f->dev, 0), 0);
	assert_int_equal(vb_dev_get_status(f->dev), 0);
}

/* @verify{VB-REQ-DEV-006} status 0 (and vb_dev_reset) resets everything: status, driver
 * features, every queue's configuration, position and error; the model's reset hook runs */
static void test_dev__reset_clears_everything(void **state)
{
	struct fix *f = *state;
	struct vb_vq_pos pos = { .avail_idx = 77, .used_idx = 70 };
	struct vb_queue_config cfg;

	up(f);
	works(f, 0);
	assert_int_equal(vb_vq_set_pos(vb_dev_queue(f->dev, 1), &pos), 0);
	vbt_split_publish(&f->r[0], QSZ);			/* break queue 0 */
	assert_int_equal(vb_vq_pop(vb_dev_queue(f->dev, 0), &(struct vb_chain){ 0 }), -EPROTO);
	assert_true(vb_dev_get_status(f->dev) & VB_VIRTIO_S_NEEDS_RESET);

	assert_int_equal(vb_dev_set_status(f->dev, 0), 0);
	assert_int_equal(f->d.resets, 1);
	assert_int_equal(vb_dev_get_status(f->dev), 0);
	assert_int_equal(vb_dev_get_driver_features(f->dev), 0);
	assert_false(vb_dev_has_feature(f->dev, VB_VIRTIO_F_VERSION_1));
	for (uint16_t q = 0; q < 2; q++) {
		struct vb_vq *vq = vb_dev_queue(f->dev, q);

		assert_false(vb_vq_is_ready(vq));
		assert_int_equal(vb_vq_error(vq), 0);
		assert_int_equal(vb_vq_num(vq), 0);
		vb_vq_get_pos(vq, &pos);
		assert_int_equal(pos.avail_idx, 0);
		assert_int_equal(pos.used_idx, 0);
		assert_int_equal(vb_dev_queue_get_config(f->dev, q, &cfg), 0);
		assert_int_equal(cfg.num, 0);
		assert_int_equal(cfg.num_max, QMAX);
		assert_false(cfg.enabled);
		assert_int_equal(cfg.desc, 0);
		assert_int_equal(cfg.driver, 0);
		assert_int_equal(cfg.device, 0);
		assert_int_equal(vb_vq_pop(vq, &(struct vb_chain){ 0 }), -EAGAIN);
	}
	/* Works again after a new handshake on fresh rings. */
	vbt_split_init(&f->r[0], &f->g, QSZ);
	vbt_split_init(&f->r[1], &f->g, QSZ);
	up(f);
	works(f, 0);
	works(f, 1);
	vb_dev_reset(f->dev);
	assert_int_equal(f->d.resets, 2);
	assert_int_equal(vb_dev_get_status(f->dev), 0);
	assert_false(vb_vq_is_ready(vb_dev_queue(f->dev, 1)));
}

/* @verify{VB-REQ-DEV-007} NEEDS_RESET is set once; the configuration change notification is
 * sent only after DRIVER_OK; the transport's needs_reset hook is called */
static void test_dev__set_needs_reset(void **state)
{
	struct fix *f = *state;

	assert_int_equal(vbt_dev_negotiate(&f->d, F_DEV), 0);
	vb_dev_set_needs_reset(f->dev);
	assert_true(vb_dev_get_status(f->dev) & VB_VIRTIO_S_NEEDS_RESET);
	assert_int_equal(f->d.config_changes, 0);
	assert_int_equal(f->d.needs_reset, 1);
	vb_dev_set_needs_reset(f->dev);
	assert_int_equal(f->d.needs_reset, 1);
	vb_dev_reset(f->dev);
	assert_false(vb_dev_get_status(f->dev) & VB_VIRTIO_S_NEEDS_RESET);
	up(f);
	vb_dev_set_needs_reset(f->dev);
	assert_int_equal(vb_dev_get_status(f->dev), S_DOK | VB_VIRTIO_S_NEEDS_RESET);
	assert_int_equal(f->d.config_changes, 1);
	assert_int_equal(f->d.needs_reset, 2);
	vb_dev_set_needs_reset(f->dev);
	assert_int_equal(f->d.config_changes, 1);
	assert_int_equal(f->d.needs_reset, 2);
}

/* @verify{VB-REQ-DEV-008} config accesses must lie inside config space (overflow-safe) and
 * have a length; out of range is -EINVAL and the buffer is untouched */
static void test_dev__config_bounds(void **state)
{
	struct fix *f = *state;
	static const struct { uint32_t off, len; } bad[] = {
		{ 0, 0 }, { 16, 1 }, { 0, 17 }, { 15, 2 }, { 0xFFFFFFFFu, 2 }, { 0xFFFFFFFFu, 1 },
		{ 8, 0xFFFFFFFFu }, { 0xFFFFFFF0u, 0x20 }, { 17, 0 },
	};
	uint8_t buf[32], canary[32];

	for (unsigned int i = 0; i < 16; i++)
		f->d.config[i] = (uint8_t)(0x10 + i);
	memset(canary, 0xCC, sizeof(canary));
	for (unsigned int i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		memcpy(buf, canary, sizeof(buf));
		assert_int_equal(vb_dev_config_read(f->dev, bad[i].off, buf, bad[i].len), -EINVAL);
		assert_memory_equal(buf, canary, sizeof(buf));
		assert_int_equal(vb_dev_config_write(f->dev, bad[i].off, buf, bad[i].len), -EINVAL);
	}
	assert_int_equal(vb_dev_config_read(f->dev, 0, buf, 16), 0);
	assert_memory_equal(buf, f->d.config, 16);
	assert_int_equal(vb_dev_config_read(f->dev, 15, buf, 1), 0);
	assert_int_equal(buf[0], 0x1F);
	assert_int_equal(vb_dev_config_write(f->dev, 4, "abcd", 4), 0);
	assert_memory_equal(f->d.config + 4, "abcd", 4);
	assert_int_equal(vb_dev_config_write(f->dev, 15, "z", 1), 0);
	assert_int_equal(f->d.config[15], 'z');
	/* The model's errno comes back; a model without config_write is read-only. */
	f->d.ops.config_read = fail_config;
	assert_int_equal(vb_dev_config_read(f->dev, 0, buf, 4), -EIO);
	f->d.ops.config_write = NULL;
	assert_int_equal(vb_dev_config_write(f->dev, 0, "x", 1), -ENOTSUP);
}

/* @verify{VB-REQ-DEV-009} a config change bumps the generation always and notifies the
 * driver only after DRIVER_OK, returning the transport's errno */
static void test_dev__config_generation(void **state)
{
	struct fix *f = *state;
	uint32_t gen = vb_dev_config_generation(f->dev);

	assert_int_equal(vb_dev_config_changed(f->dev), 0);
	assert_int_equal(vb_dev_config_generation(f->dev), gen + 1);
	assert_int_equal(f->d.config_changes, 0);
	assert_int_equal(vbt_dev_negotiate(&f->d, F_DEV), 0);
	assert_int_equal(vb_dev_config_changed(f->dev), 0);
	assert_int_equal(f->d.config_changes, 0);
	assert_int_equal(vbt_dev_driver_ok(&f->d), 0);
	assert_int_equal(vb_dev_config_changed(f->dev), 0);
	assert_int_equal(vb_dev_config_generation(f->dev), gen + 3);
	assert_int_equal(f->d.config_changes, 1);
	f->d.tops.config_changed = fail_config_changed;
	assert_int_equal(vb_dev_config_changed(f->dev), -EIO);
	assert_int_equal(vb_dev_config_generation(f->dev), gen + 4);
	/* Reads do not change it. */
	assert_int_equal(vb_dev_config_read(f->dev, 0, (uint8_t[4]){ 0 }, 4), 0);
	assert_int_equal(vb_dev_config_generation(f->dev), gen + 4);
}

/* @verify{VB-REQ-DEV-010} queue configuration: -EINVAL for a bad index, -EBUSY while enabled,
 * -EPROTO above num_max; sizes 0 and non-powers of two are refused at enable */
static void test_dev__queue_config_rules(void **state)
{
	struct fix *f = *state;
	struct vb_queue_config cfg = { .num = QSZ, .desc = f->r[0].desc_gpa,
				       .driver = f->r[0].avail_gpa, .device = f->r[0].used_gpa };
	struct vb_queue_config got;

	assert_int_equal(vbt_dev_negotiate(&f->d, F_DEV), 0);
	assert_int_equal(vb_dev_queue_set_config(f->dev, 2, &cfg), -EINVAL);
	assert_int_equal(vb_dev_queue_get_config(f->dev, 2, &got), -EINVAL);
	assert_int_equal(vb_dev_queue_enable(f->dev, 2, true), -EINVAL);
	assert_int_equal(vb_dev_queue_reset(f->dev, 2), -EINVAL);
	assert_int_equal(vb_dev_queue_reset(f->dev, 0xFFFF), -EINVAL);

	cfg.num = QMAX + 1;
	assert_int_equal(vb_dev_queue_set_config(f->dev, 0, &cfg), -EPROTO);
	assert_int_equal(vb_dev_queue_get_config(f->dev, 0, &got), 0);
	assert_int_equal(got.num, 0);
	/* Size 0, or not a power of two (split ring): refused at enable, stays disabled. */
	cfg.num = 0;
	assert_int_equal(vb_dev_queue_set_config(f->dev, 0, &cfg), 0);
	assert_int_equal(vb_dev_queue_enable(f->dev, 0, true), -EPROTO);
	cfg.num = 12;
	assert_int_equal(vb_dev_queue_set_config(f->dev, 0, &cfg), 0);
	assert_int_equal(vb_dev_queue_enable(f->dev, 0, true), -EPROTO);
	assert_int_equal(vb_dev_queue_get_config(f->dev, 0, &got), 0);
	assert_false(got.enabled);
	/* The largest size is fine; what was set reads back. */
	cfg.num = QSZ;
	cfg.enabled = true;		/* ignored */
	cfg.num_max = 1;		/* ignored */
	assert_int_equal(vb_dev_queue_set_config(f->dev, 0, &cfg), 0);
	assert_int_equal(vb_dev_queue_get_config(f->dev, 0, &got), 0);
	assert_int_equal(got.num, QSZ);
	assert_int_equal(got.num_max, QMAX);
	assert_false(got.enabled);
	assert_int_equal(got.desc, f->r[0].desc_gpa);
	assert_int_equal(got.driver, f->r[0].avail_gpa);
	assert_int_equal(got.device, f->r[0].used_gpa);
	assert_int_equal(vb_dev_queue_enable(f->dev, 0, true), 0);
	assert_int_equal(vb_dev_queue_get_config(f->dev, 0, &got), 0);
	assert_true(got.enabled);
	/* Enabled: no changes. */
	cfg.num = 4;
	assert_int_equal(vb_dev_queue_set_config(f->dev, 0, &cfg), -EBUSY);
	assert_int_equal(vb_dev_queue_get_config(f->dev, 0, &got), 0);
	assert_int_equal(got.num, QSZ);
	assert_int_equal(vbt_dev_driver_ok(&f->d), 0);
	assert_int_equal(vb_dev_queue_set_config(f->dev, 0, &cfg), -EBUSY);
	works(f, 0);
	/* Disabled again: changes allowed. */
	assert_int_equal(vb_dev_queue_enable(f->dev, 0, false), 0);
	assert_int_equal(vb_dev_queue_set_config(f->dev, 0, &cfg), 0);
	assert_int_equal(vb_vq_num(vb_dev_queue(f->dev, 0)), 4);
}

/* Try to enable queue 0 with the given areas; return the errno and check it stays off. */
static int try_enable(struct fix *f, uint64_t desc, uint64_t driver, uint64_t device)
{
	struct vb_queue_config cfg = { .num = QSZ, .desc = desc, .driver = driver,
				       .device = device };
	int ret;

	assert_int_equal(vb_dev_queue_enable(f->dev, 0, false), 0);
	assert_int_equal(vb_dev_queue_set_config(f->dev, 0, &cfg), 0);
	ret = vb_dev_queue_enable(f->dev, 0, true);
	if (ret < 0) {
		struct vb_queue_config got;

		assert_int_equal(vb_dev_queue_get_config(f->dev, 0, &got), 0);
		assert_false(got.enabled);
		assert_false(vb_vq_is_ready(vb_dev_queue(f->dev, 0)));
	}
	return ret;
}

static void enable_checks(struct fix *f)
{
	const struct vbt_split *r = &f->r[0];
	const uint64_t end = GUEST_GPA + GUEST_SIZE;

	/* virtio 1.2, 2.7: descriptor table 16, driver area 2, device area 4 bytes aligned. */
	assert_int_equal(try_enable(f, r->desc_gpa + 8, r->avail_gpa, r->used_gpa), -EPROTO);
	assert_int_equal(try_enable(f, r->desc_gpa, r->avail_gpa + 1, r->used_gpa), -EPROTO);
	assert_int_equal(try_enable(f, r->desc_gpa, r->avail_gpa, r->used_gpa + 2), -EPROTO);
	/* Outside guest memory, straddling its end, or across two regions. */
	assert_int_equal(try_enable(f, 0, r->avail_gpa, r->used_gpa), -EFAULT);
	assert_int_equal(try_enable(f, r->desc_gpa, end, r->used_gpa), -EFAULT);
	assert_int_equal(try_enable(f, r->desc_gpa, r->avail_gpa, end - 8), -EFAULT);
	assert_int_equal(try_enable(f, GUEST_GPA + REGION - 64, r->avail_gpa, r->used_gpa),
			 -EFAULT);
	/* Wrapping 64 bits. */
	assert_int_equal(try_enable(f, UINT64_MAX - 15, r->avail_gpa, r->used_gpa), -EOVERFLOW);
	/* And it still works with good values. */
	assert_int_equal(try_enable(f, r->desc_gpa, r->avail_gpa, r->used_gpa), 0);
}

/* @verify{VB-REQ-DEV-011} enabling before DRIVER_OK checks ring alignment (-EPROTO) and that
 * the rings map (-EFAULT, -EOVERFLOW); the queue then stays disabled */
static void test_dev__enable_checks_rings_before_driver_ok(void **state)
{
	struct fix *f = *state;

	assert_int_equal(vbt_dev_negotiate(&f->d, F_DEV), 0);
	enable_checks(f);
	assert_int_equal(vbt_dev_driver_ok(&f->d), 0);
	works(f, 0);
	assert_int_equal(f->d.needs_reset, 0);
}

/* @verify{VB-REQ-DEV-011} the same checks after DRIVER_OK, where enabling makes the queue
 * live; no violation is recorded against the device */
static void test_dev__enable_checks_rings_after_driver_ok(void **state)
{
	struct fix *f = *state;

	assert_int_equal(vbt_dev_negotiate(&f->d, F_DEV), 0);
	assert_int_equal(vbt_dev_driver_ok(&f->d), 0);
	enable_checks(f);
	assert_true(vb_vq_is_ready(vb_dev_queue(f->dev, 0)));
	works(f, 0);
	assert_int_equal(f->d.needs_reset, 0);
	assert_false(vb_dev_get_status(f->dev) & VB_VIRTIO_S_NEEDS_RESET);
}

/* @verify{VB-REQ-DEV-011} regression (fuzz-mmio): a second enable of an enabled queue that
 * the core refuses (its rings stopped mapping) leaves the queue disabled, so the driver never
 * reads back a queue the device refused */
static void test_dev__refused_reenable_disables(void **state)
{
	struct fix *f = *state;
	struct vb_queue_config cfg;
	uint64_t region1 = f->r[1].desc_gpa & ~(uint64_t)(REGION - 1);

	assert_int_equal(vbt_dev_negotiate(&f->d, F_DEV), 0);
	assert_int_equal(queue(f, 1), 0);
	assert_int_equal(vb_dev_queue_get_config(f->dev, 1, &cfg), 0);
	assert_true(cfg.enabled);
	assert_int_equal(vb_mem_remove(&f->g.mem, region1), 0);
	assert_int_equal(vb_dev_queue_enable(f->dev, 1, true), -EFAULT);
	assert_int_equal(vb_dev_queue_get_config(f->dev, 1, &cfg), 0);
	assert_false(cfg.enabled);
	assert_false(vb_dev_get_status(f->dev) & VB_VIRTIO_S_NEEDS_RESET);
}

/* @verify{VB-REQ-DEV-018} rings that stopped mapping between enable and DRIVER_OK: DRIVER_OK
 * returns the errno, the queue is broken and the device needs a reset */
static void test_dev__driver_ok_with_unmapped_ring(void **state)
{
	struct fix *f = *state;
	uint64_t region1 = f->r[1].desc_gpa & ~(uint64_t)(REGION - 1);

	assert_int_equal(vbt_dev_negotiate(&f->d, F_DEV), 0);
	assert_int_equal(queue(f, 0), 0);
	assert_int_equal(queue(f, 1), 0);
	assert_int_equal(vb_mem_remove(&f->g.mem, region1), 0);
	assert_int_equal(vbt_dev_driver_ok(&f->d), -EFAULT);
	assert_true(vb_dev_get_status(f->dev) & VB_VIRTIO_S_NEEDS_RESET);
	assert_true(vb_dev_get_status(f->dev) & VB_VIRTIO_S_DRIVER_OK);
	assert_int_equal(vb_vq_error(vb_dev_queue(f->dev, 1)), -EFAULT);
	assert_int_equal(vb_dev_kick(f->dev, 1), -ENOTRECOVERABLE);
	assert_int_equal(f->d.config_changes, 1);
	assert_int_equal(f->d.needs_reset, 1);
	/* The model was not activated, so the good queue must not reach its kick hook. */
	assert_int_equal(f->d.activations, 0);
	assert_false(vb_vq_is_ready(vb_dev_queue(f->dev, 0)));
	assert_true(vb_dev_kick(f->dev, 0) < 0);
	assert_int_equal(f->d.kicks, 0);
}

/* @verify{VB-REQ-DEV-012} a queue reset clears that queue only (configuration, position,
 * error), calls the queue_reset hook, and the queue can be set up again */
static void test_dev__queue_reset(void **state)
{
	struct fix *f = *state;
	struct vb_vq *vq1 = vb_dev_queue(f->dev, 1);
	struct vb_queue_config got;
	struct vb_vq_pos pos;

	up(f);
	works(f, 0);
	works(f, 1);
	vbt_split_publish(&f->r[1], QSZ);		/* break queue 1 */
	assert_int_equal(vb_vq_pop(vq1, &(struct vb_chain){ 0 }), -EPROTO);
	assert_int_equal(vb_dev_queue_reset(f->dev, 1), 0);
	assert_int_equal(queue_resets, 1);
	assert_ptr_equal(queue_reset_vq, vq1);
	assert_int_equal(vb_vq_error(vq1), 0);
	assert_false(vb_vq_is_ready(vq1));
	assert_int_equal(vb_dev_queue_get_config(f->dev, 1, &got), 0);
	assert_int_equal(got.num, 0);
	assert_int_equal(got.num_max, QMAX);
	assert_false(got.enabled);
	assert_int_equal(got.desc + got.driver + got.device, 0);
	vb_vq_get_pos(vq1, &pos);
	assert_int_equal(pos.avail_idx + pos.used_idx, 0);
	assert_int_equal(vb_dev_kick(f->dev, 1), -EAGAIN);
	/* Queue 0 is untouched. */
	assert_true(vb_vq_is_ready(vb_dev_queue(f->dev, 0)));
	works(f, 0);
	vb_vq_get_pos(vb_dev_queue(f->dev, 0), &pos);
	assert_int_equal(pos.avail_idx, 2);
	/* Set up again (DRIVER_OK is still set): live at once. */
	vbt_split_init(&f->r[1], &f->g, QSZ);
	assert_int_equal(queue(f, 1), 0);
	assert_true(vb_vq_is_ready(vq1));
	works(f, 1);
	assert_int_equal(f->d.resets, 0);
}

/* @verify{VB-REQ-DEV-013} remap re-translates live queues: unchanged maps keep working with
 * their position, a queue whose rings left the map is broken and the device needs a reset */
static void test_dev__remap(void **state)
{
	struct fix *f = *state;
	uint64_t region1 = f->r[1].desc_gpa & ~(uint64_t)(REGION - 1);
	struct vb_vq_pos pos;

	assert_int_not_equal(region1, f->r[0].desc_gpa & ~(uint64_t)(REGION - 1));
	up(f);
	works(f, 0);
	works(f, 1);
	assert_int_equal(vb_dev_remap(f->dev), 0);
	vb_vq_get_pos(vb_dev_queue(f->dev, 1), &pos);
	assert_int_equal(pos.avail_idx, 1);
	works(f, 0);
	works(f, 1);
	assert_int_equal(vb_mem_remove(&f->g.mem, region1), 0);
	assert_int_equal(vb_dev_remap(f->dev), -EFAULT);
	assert_int_equal(vb_vq_error(vb_dev_queue(f->dev, 1)), -EFAULT);
	assert_false(vb_vq_is_ready(vb_dev_queue(f->dev, 1)));
	assert_true(vb_dev_get_status(f->dev) & VB_VIRTIO_S_NEEDS_RESET);
	assert_int_equal(f->d.config_changes, 1);
	assert_int_equal(f->d.needs_reset, 1);
	assert_true(vb_vq_is_ready(vb_dev_queue(f->dev, 0)));
	works(f, 0);
}

/* @verify{VB-REQ-DEV-014} a kick reaches the model's kick hook only for a live queue:
 * -EINVAL out of range, -EAGAIN not live, -ENOTRECOVERABLE broken */
static void test_dev__kick(void **state)
{
	struct fix *f = *state;

	assert_int_equal(vb_dev_kick(f->dev, 0), -EAGAIN);
	assert_int_equal(vbt_dev_negotiate(&f->d, F_DEV), 0);
	assert_int_equal(queue(f, 0), 0);
	assert_int_equal(vb_dev_kick(f->dev, 0), -EAGAIN);	/* enabled, not live */
	assert_int_equal(vbt_dev_driver_ok(&f->d), 0);
	assert_int_equal(vb_dev_kick(f->dev, 1), -EAGAIN);	/* never enabled */
	assert_int_equal(f->d.kicks, 0);
	assert_int_equal(vb_dev_kick(f->dev, 0), 0);
	assert_int_equal(f->d.kicks, 1);
	assert_ptr_equal(kicked_vq, vb_dev_queue(f->dev, 0));
	assert_int_equal(vb_dev_kick(f->dev, 2), -EINVAL);
	assert_int_equal(vb_dev_kick(f->dev, 0xFFFF), -EINVAL);
	assert_int_equal(vb_dev_queue_enable(f->dev, 0, false), 0);
	assert_int_equal(vb_dev_kick(f->dev, 0), -EAGAIN);
	assert_int_equal(vb_dev_queue_enable(f->dev, 0, true), 0);
	vbt_split_publish(&f->r[0], QSZ);
	assert_int_equal(vb_vq_pop(vb_dev_queue(f->dev, 0), &(struct vb_chain){ 0 }), -EPROTO);
	assert_int_equal(vb_dev_kick(f->dev, 0), -ENOTRECOVERABLE);
	assert_int_equal(f->d.kicks, 1);
}

int main(void)
{
#define T(name) cmocka_unit_test_setup_teardown(test_dev__##name, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(init_argument_checks),
		T(size_within_storage_max),
		T(feature_mask),
		T(set_driver_features_rules),
		T(features_ok_refused),
		T(status_cannot_clear_bits),
		T(status_steps_in_order),
		T(driver_ok_activates),
		T(activate_failure_needs_reset),
		T(reset_clears_everything),
		T(set_needs_reset),
		T(config_bounds),
		T(config_generation),
		T(queue_config_rules),
		T(enable_checks_rings_before_driver_ok),
		T(enable_checks_rings_after_driver_ok),
		T(refused_reenable_disables),
		T(driver_ok_with_unmapped_ring),
		T(queue_reset),
		T(remap),
		T(kick),
	};
#undef T

	return cmocka_run_group_tests(tests, NULL, NULL);
}
