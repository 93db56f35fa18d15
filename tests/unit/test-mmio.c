/* SPDX-License-Identifier: MIT */
/*
 * The virtio-mmio register file, register by register: every read and write, the Linux driver's
 * init sequence done by hand, and every bad access a hostile driver can make, each checked to
 * return its errno and to change nothing.
 */
#include <setjmp.h>
#include <stdalign.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "virtio-backend.h"
#include "vbt-mem.h"

#define GUEST_GPA	0x40000000u
#define GUEST_SIZE	(256u * 1024u)
#define NQ		2u
#define QMAX		64u
#define CFG_LEN		12u
#define DEV_ID		42u
#define ARRAY_SIZE(a)	(sizeof(a) / sizeof((a)[0]))
/* Device-specific feature bits the test model offers. */
#define F_DEV0		0
#define F_DEV5		5

struct fix {
	alignas(8) uint8_t	mmio_storage[VB_MMIO_STORAGE_MAX];
	alignas(8) uint8_t	dev_storage[VB_DEV_STORAGE_MAX(NQ)];
	struct vb_device_ops	ops;
	struct vb_mmio_host_ops	host;
	struct vb_mmio		*mmio;
	struct vb_dev		*dev;
	struct vbt_guest	g;
	uint8_t			config[CFG_LEN];
	/* What the host and the model saw. */
	bool			irq;
	unsigned int		irq_calls;
	unsigned int		host_kicks;
	uint16_t		host_kick_q;
	unsigned int		model_kicks;
	uint16_t		model_kick_q;
	unsigned int		queue_resets;
	unsigned int		resets;
	/* Ring areas for queue q: desc, driver, device. */
	uint64_t		ring[NQ][3];
};

/* Host hooks. */
static void host_set_irq(void *ctx, bool level)
{
	struct fix *f = ctx;

	f->irq = level;
	f->irq_calls++;
}

static void host_kick(void *ctx, uint16_t q)
{
	struct fix *f = ctx;

	f->host_kicks++;
	f->host_kick_q = q;
}

/* The device model: config space in f->config, bytes 0..3 read-only. */
static int model_config_read(struct vb_dev *dev, uint32_t off, void *buf, uint32_t len)
{
	struct fix *f = vb_dev_priv(dev);

	memcpy(buf, f->config + off, len);
	return 0;
}

static int model_config_write(struct vb_dev *dev, uint32_t off, const void *buf, uint32_t len)
{
	struct fix *f = vb_dev_priv(dev);

	if (off < 4)
		return -ENOTSUP;
	memcpy(f->config + off, buf, len);
	return 0;
}

static void model_kick(struct vb_dev *dev, struct vb_vq *vq)
{
	struct fix *f = vb_dev_priv(dev);
	struct vb_iov riov[4], wiov[4];
	struct vb_chain c = VB_CHAIN_INIT(riov, wiov);
	int n = 0;

	f->model_kicks++;
	f->model_kick_q = vb_vq_index(vq);
	/* Consume whatever is there (bounded), as a real model would. */
	while (n++ < 64 && vb_vq_pop(vq, &c) > 0)
		vb_vq_push(vq, &c, 0);
	vb_vq_notify(vq);
}

static void model_reset(struct vb_dev *dev)
{
	((struct fix *)vb_dev_priv(dev))->resets++;
}

static void model_queue_reset(struct vb_dev *dev, struct vb_vq *vq)
{
	(void)vq;
	((struct fix *)vb_dev_priv(dev))->queue_resets++;
}

static int setup_features(void **state, uint64_t features)
{
	struct fix *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	assert_int_equal(vbt_guest_init(&f->g, GUEST_GPA, GUEST_SIZE, 0), 0);
	for (unsigned int q = 0; q < NQ; q++) {
		f->ring[q][0] = vbt_guest_alloc(&f->g, 16u * QMAX, 16);
		f->ring[q][1] = vbt_guest_alloc(&f->g, 6u + 2u * QMAX, 2);
		f->ring[q][2] = vbt_guest_alloc(&f->g, 6u + 8u * QMAX, 4);
	}
	for (unsigned int i = 0; i < CFG_LEN; i++)
		f->config[i] = (uint8_t)(0x10 + i);
	f->ops = (struct vb_device_ops){
		.version = VB_DEVICE_OPS_V1,
		.device_id = DEV_ID,
		.features = features,
		.num_queues = NQ,
		.queue_num_max = QMAX,
		.config_len = CFG_LEN,
		.config_read = model_config_read,
		.config_write = model_config_write,
		.kick = model_kick,
		.reset = model_reset,
		.queue_reset = model_queue_reset,
	};
	f->host = (struct vb_mmio_host_ops){
		.version = VB_MMIO_HOST_OPS_V1,
		.set_irq = host_set_irq,
	};
	assert_int_equal(vb_mmio_init(f->mmio_storage, sizeof(f->mmio_storage), &f->host, f,
				      &f->mmio), 0);
	assert_int_equal(vb_dev_init(f->dev_storage, sizeof(f->dev_storage), &f->ops, f,
				     &vb_mmio_transport_ops, f->mmio, &f->g.mem, &f->dev), 0);
	assert_int_equal(vb_mmio_attach(f->mmio, f->dev), 0);
	*state = f;
	return 0;
}

#define BASE_FEATURES	(VB_BIT(VB_VIRTIO_F_VERSION_1) | VB_BIT(F_DEV0) | VB_BIT(F_DEV5))

static int setup(void **state)
{
	return setup_features(state, BASE_FEATURES);
}

static int setup_ring_reset(void **state)
{
	return setup_features(state, BASE_FEATURES | VB_BIT(VB_VIRTIO_F_RING_RESET));
}

static int setup_notif_data(void **state)
{
	return setup_features(state, BASE_FEATURES | VB_BIT(VB_VIRTIO_F_NOTIFICATION_DATA));
}

static int teardown(void **state)
{
	struct fix *f = *state;

	vbt_guest_fini(&f->g);
	free(f);
	return 0;
}

/* Register accessors that must succeed. */
static uint32_t rd(struct fix *f, uint64_t off)
{
	uint32_t v = 0xdeadbeef;

	assert_int_equal(vb_mmio_read(f->mmio, off, 4, &v), 0);
	return v;
}

static void wr(struct fix *f, uint64_t off, uint32_t v)
{
	assert_int_equal(vb_mmio_write(f->mmio, off, 4, v), 0);
}

/* A refused read: errno and a value of 0. */
static void rd_fails(struct fix *f, uint64_t off, unsigned int size, int err)
{
	uint32_t v = 0xdeadbeef;

	assert_int_equal(vb_mmio_read(f->mmio, off, size, &v), err);
	assert_int_equal(v, 0);
}

/*
 * Everything a refused access must leave alone, read through the public API and through the
 * registers (selectors show in DeviceFeatures, QueueNumMax/QueueReady and SHMLen).
 */
struct snap {
	uint8_t			status;
	uint64_t		driver_features;
	struct vb_queue_config	qc[NQ];
	uint32_t		int_status;
	bool			irq;
	unsigned int		irq_calls, host_kicks, model_kicks, queue_resets, resets;
	uint8_t			config[CFG_LEN];
	uint32_t		generation;
	uint32_t		dev_features_at_sel;
	uint32_t		num_max_at_sel;
	uint32_t		ready_at_sel;
};

static void take(struct fix *f, struct snap *s)
{
	memset(s, 0, sizeof(*s));
	s->status = vb_dev_get_status(f->dev);
	s->driver_features = vb_dev_get_driver_features(f->dev);
	for (uint16_t q = 0; q < NQ; q++)
		assert_int_equal(vb_dev_queue_get_config(f->dev, q, &s->qc[q]), 0);
	s->int_status = vb_mmio_interrupt_status(f->mmio);
	s->irq = f->irq;
	s->irq_calls = f->irq_calls;
	s->host_kicks = f->host_kicks;
	s->model_kicks = f->model_kicks;
	s->queue_resets = f->queue_resets;
	s->resets = f->resets;
	memcpy(s->config, f->config, CFG_LEN);
	s->generation = vb_dev_config_generation(f->dev);
	s->dev_features_at_sel = rd(f, VB_MMIO_DEVICE_FEATURES);
	s->num_max_at_sel = rd(f, VB_MMIO_QUEUE_NUM_MAX);
	s->ready_at_sel = rd(f, VB_MMIO_QUEUE_READY);
}

static void assert_unchanged(struct fix *f, const struct snap *before)
{
	struct snap now;

	take(f, &now);
	assert_int_equal(now.status, before->status);
	assert_true(now.driver_features == before->driver_features);
	assert_memory_equal(now.qc, before->qc, sizeof(now.qc));
	assert_int_equal(now.int_status, before->int_status);
	assert_int_equal(now.irq, before->irq);
	assert_int_equal(now.irq_calls, before->irq_calls);
	assert_int_equal(now.host_kicks, before->host_kicks);
	assert_int_equal(now.model_kicks, before->model_kicks);
	assert_int_equal(now.queue_resets, before->queue_resets);
	assert_int_equal(now.resets, before->resets);
	assert_memory_equal(now.config, before->config, CFG_LEN);
	assert_int_equal(now.generation, before->generation);
	assert_int_equal(now.dev_features_at_sel, before->dev_features_at_sel);
	assert_int_equal(now.num_max_at_sel, before->num_max_at_sel);
	assert_int_equal(now.ready_at_sel, before->ready_at_sel);
}

/* Driver steps done with raw register accesses. */
static void add_status(struct fix *f, uint32_t bit)
{
	wr(f, VB_MMIO_STATUS, rd(f, VB_MMIO_STATUS) | bit);
}

static void write_features(struct fix *f, uint64_t features)
{
	wr(f, VB_MMIO_DRIVER_FEATURES_SEL, 1);
	wr(f, VB_MMIO_DRIVER_FEATURES, (uint32_t)(features >> 32));
	wr(f, VB_MMIO_DRIVER_FEATURES_SEL, 0);
	wr(f, VB_MMIO_DRIVER_FEATURES, (uint32_t)features);
}

/* Reset, ACKNOWLEDGE, DRIVER, features, FEATURES_OK (checked). */
static void negotiate(struct fix *f, uint64_t features)
{
	wr(f, VB_MMIO_STATUS, 0);
	add_status(f, VB_VIRTIO_S_ACKNOWLEDGE);
	add_status(f, VB_VIRTIO_S_DRIVER);
	write_features(f, features);
	add_status(f, VB_VIRTIO_S_FEATURES_OK);
	assert_true(rd(f, VB_MMIO_STATUS) & VB_VIRTIO_S_FEATURES_OK);
}

static void setup_queue(struct fix *f, uint32_t q, uint32_t num)
{
	wr(f, VB_MMIO_QUEUE_SEL, q);
	assert_int_equal(rd(f, VB_MMIO_QUEUE_READY), 0);
	assert_int_equal(rd(f, VB_MMIO_QUEUE_NUM_MAX), QMAX);
	wr(f, VB_MMIO_QUEUE_NUM, num);
	wr(f, VB_MMIO_QUEUE_DESC_LOW, (uint32_t)f->ring[q][0]);
	wr(f, VB_MMIO_QUEUE_DESC_HIGH, (uint32_t)(f->ring[q][0] >> 32));
	wr(f, VB_MMIO_QUEUE_DRIVER_LOW, (uint32_t)f->ring[q][1]);
	wr(f, VB_MMIO_QUEUE_DRIVER_HIGH, (uint32_t)(f->ring[q][1] >> 32));
	wr(f, VB_MMIO_QUEUE_DEVICE_LOW, (uint32_t)f->ring[q][2]);
	wr(f, VB_MMIO_QUEUE_DEVICE_HIGH, (uint32_t)(f->ring[q][2] >> 32));
	wr(f, VB_MMIO_QUEUE_READY, 1);
	assert_int_equal(rd(f, VB_MMIO_QUEUE_READY), 1);
}

static void bring_up(struct fix *f, uint64_t features)
{
	negotiate(f, features);
	for (uint32_t q = 0; q < NQ; q++)
		setup_queue(f, q, QMAX);
	add_status(f, VB_VIRTIO_S_DRIVER_OK);
	assert_true(rd(f, VB_MMIO_STATUS) & VB_VIRTIO_S_DRIVER_OK);
}

/* The register table of virtio 1.2, 4.2.2 with its Direction column. */
static const uint32_t regs_r[] = {
	VB_MMIO_MAGIC_VALUE, VB_MMIO_VERSION, VB_MMIO_DEVICE_ID, VB_MMIO_VENDOR_ID,
	VB_MMIO_DEVICE_FEATURES, VB_MMIO_QUEUE_NUM_MAX, VB_MMIO_INTERRUPT_STATUS,
	VB_MMIO_SHM_LEN_LOW, VB_MMIO_SHM_LEN_HIGH, VB_MMIO_SHM_BASE_LOW, VB_MMIO_SHM_BASE_HIGH,
	VB_MMIO_CONFIG_GENERATION,
};
static const uint32_t regs_w[] = {
	VB_MMIO_DEVICE_FEATURES_SEL, VB_MMIO_DRIVER_FEATURES, VB_MMIO_DRIVER_FEATURES_SEL,
	VB_MMIO_QUEUE_SEL, VB_MMIO_QUEUE_NUM, VB_MMIO_QUEUE_NOTIFY, VB_MMIO_INTERRUPT_ACK,
	VB_MMIO_QUEUE_DESC_LOW, VB_MMIO_QUEUE_DESC_HIGH, VB_MMIO_QUEUE_DRIVER_LOW,
	VB_MMIO_QUEUE_DRIVER_HIGH, VB_MMIO_QUEUE_DEVICE_LOW, VB_MMIO_QUEUE_DEVICE_HIGH,
	VB_MMIO_SHM_SEL,
};
static const uint32_t regs_rw[] = {
	VB_MMIO_QUEUE_READY, VB_MMIO_STATUS, VB_MMIO_QUEUE_RESET,
};

static bool is_register(uint32_t off)
{
	for (size_t i = 0; i < ARRAY_SIZE(regs_r); i++)
		if (regs_r[i] == off)
			return true;
	for (size_t i = 0; i < ARRAY_SIZE(regs_w); i++)
		if (regs_w[i] == off)
			return true;
	for (size_t i = 0; i < ARRAY_SIZE(regs_rw); i++)
		if (regs_rw[i] == off)
			return true;
	return false;
}

/* @verify{VB-REQ-MMIO-001} storage, arguments, and accesses before a device is attached */
static void test_mmio__init_checks_arguments(void **state)
{
	struct fix *f = *state;
	alignas(8) uint8_t st[VB_MMIO_STORAGE_MAX + 8];
	struct vb_mmio_host_ops no_irq = { .version = VB_MMIO_HOST_OPS_V1 };
	struct vb_mmio_host_ops v0 = { .version = 0, .set_irq = host_set_irq };
	struct vb_mmio *m = NULL;
	uint32_t v = 1;

	assert_true(vb_mmio_size() <= VB_MMIO_STORAGE_MAX);
	assert_int_equal(vb_mmio_init(NULL, sizeof(st), &f->host, f, &m), -EINVAL);
	assert_int_equal(vb_mmio_init(st + 4, sizeof(st) - 4, &f->host, f, &m), -EINVAL);
	assert_int_equal(vb_mmio_init(st, sizeof(st), NULL, f, &m), -EINVAL);
	assert_int_equal(vb_mmio_init(st, sizeof(st), &no_irq, f, &m), -EINVAL);
	assert_int_equal(vb_mmio_init(st, sizeof(st), &v0, f, &m), -EINVAL);
	assert_int_equal(vb_mmio_init(st, sizeof(st), &f->host, f, NULL), -EINVAL);
	assert_int_equal(vb_mmio_init(st, vb_mmio_size() - 1, &f->host, f, &m), -ENOSPC);
	assert_null(m);
	assert_int_equal(vb_mmio_init(st, vb_mmio_size(), &f->host, f, &m), 0);
	assert_non_null(m);
	assert_int_equal(vb_mmio_attach(m, NULL), -EINVAL);
	assert_int_equal(vb_mmio_attach(NULL, f->dev), -EINVAL);
	/* f->dev sends its interrupts to f->mmio, not to m. */
	assert_int_equal(vb_mmio_attach(m, f->dev), -EINVAL);
	/* Nothing attached yet: even MagicValue is refused. */
	assert_int_equal(vb_mmio_read(m, VB_MMIO_MAGIC_VALUE, 4, &v), -EINVAL);
	assert_int_equal(v, 0);
	assert_int_equal(vb_mmio_write(m, VB_MMIO_STATUS, 4, 1), -EINVAL);
	assert_int_equal(vb_mmio_interrupt_status(m), 0);
}

/* @verify{VB-REQ-MMIO-004} MagicValue, Version, DeviceID, VendorID */
static void test_mmio__identification_registers(void **state)
{
	struct fix *f = *state;

	assert_int_equal(rd(f, VB_MMIO_MAGIC_VALUE), 0x74726976);
	assert_int_equal(rd(f, VB_MMIO_VERSION), 2);
	assert_int_equal(rd(f, VB_MMIO_DEVICE_ID), DEV_ID);
	assert_int_equal(rd(f, VB_MMIO_VENDOR_ID), VB_MMIO_VENDOR);
}

/* @verify{VB-REQ-MMIO-005} @verify{VB-REQ-MMIO-021} the two feature halves, the transport's
 * forced and forbidden bits, and selectors above 1 */
static void test_mmio__device_features_halves(void **state)
{
	struct fix *f = *state;
	uint64_t offered;

	/* The model offers SR_IOV and NOTIF_CONFIG_DATA but not VERSION_1: MMIO fixes all three. */
	f->ops.features = VB_BIT(F_DEV0) | VB_BIT(VB_VIRTIO_F_SR_IOV) |
			  VB_BIT(VB_VIRTIO_F_NOTIF_CONFIG_DATA) | VB_BIT(VB_VIRTIO_F_RING_RESET);
	offered = VB_BIT(F_DEV0) | VB_BIT(VB_VIRTIO_F_VERSION_1) | VB_BIT(VB_VIRTIO_F_RING_RESET);
	assert_true(vb_dev_get_features(f->dev) == offered);
	wr(f, VB_MMIO_DEVICE_FEATURES_SEL, 0);
	assert_int_equal(rd(f, VB_MMIO_DEVICE_FEATURES), (uint32_t)offered);
	wr(f, VB_MMIO_DEVICE_FEATURES_SEL, 1);
	assert_int_equal(rd(f, VB_MMIO_DEVICE_FEATURES), (uint32_t)(offered >> 32));
	wr(f, VB_MMIO_DEVICE_FEATURES_SEL, 2);
	assert_int_equal(rd(f, VB_MMIO_DEVICE_FEATURES), 0);
	wr(f, VB_MMIO_DEVICE_FEATURES_SEL, UINT32_MAX);
	assert_int_equal(rd(f, VB_MMIO_DEVICE_FEATURES), 0);
}

/* @verify{VB-REQ-MMIO-006} DriverFeatures halves merge into the accepted 64-bit word */
static void test_mmio__driver_features_halves(void **state)
{
	struct fix *f = *state;

	wr(f, VB_MMIO_STATUS, VB_VIRTIO_S_ACKNOWLEDGE);
	wr(f, VB_MMIO_STATUS, VB_VIRTIO_S_ACKNOWLEDGE | VB_VIRTIO_S_DRIVER);
	wr(f, VB_MMIO_DRIVER_FEATURES_SEL, 1);
	wr(f, VB_MMIO_DRIVER_FEATURES, 1);	/* bit 32: VERSION_1 */
	assert_true(vb_dev_get_driver_features(f->dev) == VB_BIT(VB_VIRTIO_F_VERSION_1));
	wr(f, VB_MMIO_DRIVER_FEATURES_SEL, 0);
	wr(f, VB_MMIO_DRIVER_FEATURES, (uint32_t)VB_BIT(F_DEV5));
	assert_true(vb_dev_get_driver_features(f->dev) ==
		    (VB_BIT(VB_VIRTIO_F_VERSION_1) | VB_BIT(F_DEV5)));
	/* Rewriting a half replaces only that half. */
	wr(f, VB_MMIO_DRIVER_FEATURES, (uint32_t)VB_BIT(F_DEV0));
	assert_true(vb_dev_get_driver_features(f->dev) ==
		    (VB_BIT(VB_VIRTIO_F_VERSION_1) | VB_BIT(F_DEV0)));
	/* A zero above the two halves is harmless. */
	wr(f, VB_MMIO_DRIVER_FEATURES_SEL, 2);
	wr(f, VB_MMIO_DRIVER_FEATURES, 0);
	wr(f, VB_MMIO_STATUS, VB_VIRTIO_S_ACKNOWLEDGE | VB_VIRTIO_S_DRIVER |
	   VB_VIRTIO_S_FEATURES_OK);
	assert_int_equal(rd(f, VB_MMIO_STATUS), VB_VIRTIO_S_ACKNOWLEDGE | VB_VIRTIO_S_DRIVER |
			 VB_VIRTIO_S_FEATURES_OK);
	assert_true(vb_dev_has_feature(f->dev, F_DEV0));
	assert_false(vb_dev_has_feature(f->dev, F_DEV5));
}

/* @verify{VB-REQ-MMIO-006} DriverFeatures before DRIVER or after FEATURES_OK: -EPROTO, no
 * change */
static void test_mmio__driver_features_outside_window_refused(void **state)
{
	struct fix *f = *state;
	struct snap s;

	take(f, &s);
	assert_int_equal(vb_mmio_write(f->mmio, VB_MMIO_DRIVER_FEATURES, 4, 1), -EPROTO);
	assert_unchanged(f, &s);
	wr(f, VB_MMIO_STATUS, VB_VIRTIO_S_ACKNOWLEDGE);
	take(f, &s);
	assert_int_equal(vb_mmio_write(f->mmio, VB_MMIO_DRIVER_FEATURES, 4, 1), -EPROTO);
	assert_unchanged(f, &s);

	negotiate(f, VB_BIT(VB_VIRTIO_F_VERSION_1) | VB_BIT(F_DEV0));
	take(f, &s);
	wr(f, VB_MMIO_DRIVER_FEATURES_SEL, 0);
	assert_int_equal(vb_mmio_write(f->mmio, VB_MMIO_DRIVER_FEATURES, 4, 0), -EPROTO);
	wr(f, VB_MMIO_DRIVER_FEATURES_SEL, 1);
	assert_int_equal(vb_mmio_write(f->mmio, VB_MMIO_DRIVER_FEATURES, 4, 0), -EPROTO);
	wr(f, VB_MMIO_DRIVER_FEATURES_SEL, 7);
	assert_int_equal(vb_mmio_write(f->mmio, VB_MMIO_DRIVER_FEATURES, 4, 1), -EPROTO);
	assert_unchanged(f, &s);
	assert_true(vb_dev_get_driver_features(f->dev) ==
		    (VB_BIT(VB_VIRTIO_F_VERSION_1) | VB_BIT(F_DEV0)));
}

/* @verify{VB-REQ-MMIO-007} a driver accepting a bit that was not offered: FEATURES_OK refused */
static void test_mmio__features_ok_refused_for_unoffered_bit(void **state)
{
	struct fix *f = *state;
	const uint32_t drv = VB_VIRTIO_S_ACKNOWLEDGE | VB_VIRTIO_S_DRIVER;

	wr(f, VB_MMIO_STATUS, VB_VIRTIO_S_ACKNOWLEDGE);
	wr(f, VB_MMIO_STATUS, drv);
	wr(f, VB_MMIO_DRIVER_FEATURES_SEL, 1);
	wr(f, VB_MMIO_DRIVER_FEATURES, 1);
	wr(f, VB_MMIO_DRIVER_FEATURES_SEL, 0);
	/* Bit 3 was never offered. */
	assert_int_equal(vb_mmio_write(f->mmio, VB_MMIO_DRIVER_FEATURES, 4,
				       (uint32_t)(VB_BIT(F_DEV0) | VB_BIT(3))), -ENOTSUP);
	assert_int_equal(vb_mmio_write(f->mmio, VB_MMIO_STATUS, 4, drv | VB_VIRTIO_S_FEATURES_OK),
			 -ENOTSUP);
	/* The driver reads Status back and finds FEATURES_OK clear (virtio 1.2, 3.1.1 step 6). */
	assert_int_equal(rd(f, VB_MMIO_STATUS), drv);
	/* DRIVER_OK cannot follow. */
	assert_int_equal(vb_mmio_write(f->mmio, VB_MMIO_STATUS, 4,
				       drv | VB_VIRTIO_S_FEATURES_OK | VB_VIRTIO_S_DRIVER_OK),
			 -ENOTSUP);
	assert_false(rd(f, VB_MMIO_STATUS) & VB_VIRTIO_S_DRIVER_OK);
	/* Accepting a subset is fine again. */
	wr(f, VB_MMIO_DRIVER_FEATURES, (uint32_t)VB_BIT(F_DEV0));
	wr(f, VB_MMIO_STATUS, drv | VB_VIRTIO_S_FEATURES_OK);
	assert_int_equal(rd(f, VB_MMIO_STATUS), drv | VB_VIRTIO_S_FEATURES_OK);
}

/* @verify{VB-REQ-MMIO-007} VERSION_1 offered but not accepted is refused as well */
static void test_mmio__features_ok_refused_without_version_1(void **state)
{
	struct fix *f = *state;
	const uint32_t drv = VB_VIRTIO_S_ACKNOWLEDGE | VB_VIRTIO_S_DRIVER;

	wr(f, VB_MMIO_STATUS, VB_VIRTIO_S_ACKNOWLEDGE);
	wr(f, VB_MMIO_STATUS, drv);
	wr(f, VB_MMIO_DRIVER_FEATURES_SEL, 0);
	wr(f, VB_MMIO_DRIVER_FEATURES, (uint32_t)VB_BIT(F_DEV0));
	assert_int_equal(vb_mmio_write(f->mmio, VB_MMIO_STATUS, 4, drv | VB_VIRTIO_S_FEATURES_OK),
			 -ENOTSUP);
	assert_int_equal(rd(f, VB_MMIO_STATUS), drv);
}

/* @verify{VB-REQ-MMIO-007} a non-zero DriverFeatures above bit 63 refuses FEATURES_OK until
 * reset */
static void test_mmio__features_ok_refused_for_bit_above_63(void **state)
{
	struct fix *f = *state;
	const uint32_t drv = VB_VIRTIO_S_ACKNOWLEDGE | VB_VIRTIO_S_DRIVER;

	wr(f, VB_MMIO_STATUS, VB_VIRTIO_S_ACKNOWLEDGE);
	wr(f, VB_MMIO_STATUS, drv);
	write_features(f, VB_BIT(VB_VIRTIO_F_VERSION_1));
	wr(f, VB_MMIO_DRIVER_FEATURES_SEL, 2);
	assert_int_equal(vb_mmio_write(f->mmio, VB_MMIO_DRIVER_FEATURES, 4, 1), -ENOTSUP);
	assert_true(vb_dev_get_driver_features(f->dev) == VB_BIT(VB_VIRTIO_F_VERSION_1));
	assert_int_equal(vb_mmio_write(f->mmio, VB_MMIO_STATUS, 4, drv | VB_VIRTIO_S_FEATURES_OK),
			 -ENOTSUP);
	assert_int_equal(rd(f, VB_MMIO_STATUS), drv);
	/* A reset forgets it. */
	negotiate(f, VB_BIT(VB_VIRTIO_F_VERSION_1));
}

/* @verify{VB-REQ-MMIO-008} Status: forward steps taken, bad ones refused without change */
static void test_mmio__status_transitions(void **state)
{
	struct fix *f = *state;
	struct snap s;

	assert_int_equal(rd(f, VB_MMIO_STATUS), 0);
	take(f, &s);
	/* Skipping ACKNOWLEDGE, DRIVER_OK before FEATURES_OK, a value above 8 bits. */
	assert_int_equal(vb_mmio_write(f->mmio, VB_MMIO_STATUS, 4, VB_VIRTIO_S_DRIVER), -EPROTO);
	assert_int_equal(vb_mmio_write(f->mmio, VB_MMIO_STATUS, 4, 0x100), -EPROTO);
	assert_int_equal(vb_mmio_write(f->mmio, VB_MMIO_STATUS, 4, 0x101), -EPROTO);
	assert_unchanged(f, &s);
	wr(f, VB_MMIO_STATUS, VB_VIRTIO_S_ACKNOWLEDGE);
	assert_int_equal(rd(f, VB_MMIO_STATUS), VB_VIRTIO_S_ACKNOWLEDGE);
	take(f, &s);
	assert_int_equal(vb_mmio_write(f->mmio, VB_MMIO_STATUS, 4,
				       VB_VIRTIO_S_ACKNOWLEDGE | VB_VIRTIO_S_DRIVER_OK), -EPROTO);
	assert_unchanged(f, &s);
	wr(f, VB_MMIO_STATUS, VB_VIRTIO_S_ACKNOWLEDGE | VB_VIRTIO_S_DRIVER);
	take(f, &s);
	/* Clearing a bit. */
	assert_int_equal(vb_mmio_write(f->mmio, VB_MMIO_STATUS, 4, VB_VIRTIO_S_DRIVER), -EPROTO);
	assert_unchanged(f, &s);
	/* FAILED may be set at any time. */
	wr(f, VB_MMIO_STATUS, VB_VIRTIO_S_ACKNOWLEDGE | VB_VIRTIO_S_DRIVER | VB_VIRTIO_S_FAILED);
	assert_true(rd(f, VB_MMIO_STATUS) & VB_VIRTIO_S_FAILED);
}

/* @verify{VB-REQ-MMIO-008} @verify{VB-REQ-MMIO-010} @verify{VB-REQ-MMIO-022} the Linux driver's
 * sequence (virtio_mmio.c + virtio.c), access by access */
static void test_mmio__linux_init_sequence(void **state)
{
	struct fix *f = *state;
	uint64_t features;

	/* vm_probe: magic, version, device id (0 would mean "no device"), vendor. */
	assert_int_equal(rd(f, VB_MMIO_MAGIC_VALUE), VB_MMIO_MAGIC);
	assert_int_equal(rd(f, VB_MMIO_VERSION), 2);
	assert_int_not_equal(rd(f, VB_MMIO_DEVICE_ID), 0);
	(void)rd(f, VB_MMIO_VENDOR_ID);
	/* virtio_dev_probe: reset (and wait for Status to read 0), ACKNOWLEDGE, DRIVER. */
	wr(f, VB_MMIO_STATUS, 0);
	assert_int_equal(rd(f, VB_MMIO_STATUS), 0);
	add_status(f, VB_VIRTIO_S_ACKNOWLEDGE);
	add_status(f, VB_VIRTIO_S_DRIVER);
	/* vm_get_features: high half first. */
	wr(f, VB_MMIO_DEVICE_FEATURES_SEL, 1);
	features = (uint64_t)rd(f, VB_MMIO_DEVICE_FEATURES) << 32;
	wr(f, VB_MMIO_DEVICE_FEATURES_SEL, 0);
	features |= rd(f, VB_MMIO_DEVICE_FEATURES);
	assert_true(features == BASE_FEATURES);
	/* The driver knows VERSION_1 and bit 5 only. */
	features &= VB_BIT(VB_VIRTIO_F_VERSION_1) | VB_BIT(F_DEV5);
	write_features(f, features);
	add_status(f, VB_VIRTIO_S_FEATURES_OK);
	assert_true(rd(f, VB_MMIO_STATUS) & VB_VIRTIO_S_FEATURES_OK);
	/* find_vqs -> vm_setup_vq for each queue, then a queue that does not exist. */
	setup_queue(f, 0, 16);
	setup_queue(f, 1, 32);
	wr(f, VB_MMIO_QUEUE_SEL, NQ);
	assert_int_equal(rd(f, VB_MMIO_QUEUE_READY), 0);
	assert_int_equal(rd(f, VB_MMIO_QUEUE_NUM_MAX), 0);
	/* virtio_device_ready. */
	add_status(f, VB_VIRTIO_S_DRIVER_OK);
	assert_int_equal(rd(f, VB_MMIO_STATUS), VB_VIRTIO_S_ACKNOWLEDGE | VB_VIRTIO_S_DRIVER |
			 VB_VIRTIO_S_FEATURES_OK | VB_VIRTIO_S_DRIVER_OK);
	assert_true(vb_vq_is_ready(vb_dev_queue(f->dev, 0)));
	assert_true(vb_vq_is_ready(vb_dev_queue(f->dev, 1)));
	assert_int_equal(vb_vq_num(vb_dev_queue(f->dev, 1)), 32);
	assert_true(vb_dev_get_driver_features(f->dev) == features);
	/* vm_notify on an empty ring: the model runs, nothing is used, no interrupt. */
	wr(f, VB_MMIO_QUEUE_NOTIFY, 0);
	assert_int_equal(f->model_kicks, 1);
	/* vm_del_vqs: QueueReady 0 and read back. */
	for (uint32_t q = 0; q < NQ; q++) {
		wr(f, VB_MMIO_QUEUE_SEL, q);
		wr(f, VB_MMIO_QUEUE_READY, 0);
		assert_int_equal(rd(f, VB_MMIO_QUEUE_READY), 0);
	}
	/* Driver removal resets the device. */
	wr(f, VB_MMIO_STATUS, 0);
	assert_int_equal(rd(f, VB_MMIO_STATUS), 0);
	assert_true(f->resets >= 2);
}

/* @verify{VB-REQ-MMIO-009} Status 0: device reset, InterruptStatus cleared, line low, queues not
 * ready, selectors back to 0 */
static void test_mmio__reset_clears_interrupts_and_queues(void **state)
{
	struct fix *f = *state;
	unsigned int resets;

	bring_up(f, BASE_FEATURES);
	vb_mmio_transport_ops.notify(f->mmio, 0);
	assert_int_equal(vb_dev_config_changed(f->dev), 0);
	assert_int_equal(rd(f, VB_MMIO_INTERRUPT_STATUS), VB_MMIO_INT_VRING | VB_MMIO_INT_CONFIG);
	assert_true(f->irq);
	wr(f, VB_MMIO_DEVICE_FEATURES_SEL, 1);
	wr(f, VB_MMIO_DRIVER_FEATURES_SEL, 1);
	wr(f, VB_MMIO_QUEUE_SEL, 1);
	wr(f, VB_MMIO_SHM_SEL, 3);
	resets = f->resets;

	wr(f, VB_MMIO_STATUS, 0);
	assert_int_equal(f->resets, resets + 1);
	assert_int_equal(rd(f, VB_MMIO_STATUS), 0);
	assert_int_equal(rd(f, VB_MMIO_INTERRUPT_STATUS), 0);
	assert_int_equal(vb_mmio_interrupt_status(f->mmio), 0);
	assert_false(f->irq);
	assert_true(vb_dev_get_driver_features(f->dev) == 0);
	for (uint32_t q = 0; q < NQ; q++) {
		wr(f, VB_MMIO_QUEUE_SEL, q);
		assert_int_equal(rd(f, VB_MMIO_QUEUE_READY), 0);
		assert_false(vb_vq_is_ready(vb_dev_queue(f->dev, (uint16_t)q)));
	}
	/* A reset puts QueueSel and DeviceFeaturesSel back to 0. */
	wr(f, VB_MMIO_QUEUE_SEL, 1);
	wr(f, VB_MMIO_STATUS, 0);
	assert_int_equal(rd(f, VB_MMIO_DEVICE_FEATURES), (uint32_t)BASE_FEATURES);
	wr(f, VB_MMIO_QUEUE_NUM, 8);
	{
		struct vb_queue_config qc0, qc1;

		assert_int_equal(vb_dev_queue_get_config(f->dev, 0, &qc0), 0);
		assert_int_equal(vb_dev_queue_get_config(f->dev, 1, &qc1), 0);
		assert_int_equal(qc0.num, 8);
		assert_int_equal(qc1.num, 0);
	}
}

/* @verify{VB-REQ-MMIO-010} QueueNumMax and QueueReady of existing and missing queues */
static void test_mmio__queue_availability(void **state)
{
	struct fix *f = *state;
	static const uint32_t sels[] = { NQ, NQ + 1, 0xffff, 0x10000, UINT32_MAX };

	for (uint32_t q = 0; q < NQ; q++) {
		wr(f, VB_MMIO_QUEUE_SEL, q);
		assert_int_equal(rd(f, VB_MMIO_QUEUE_NUM_MAX), QMAX);
		assert_int_equal(rd(f, VB_MMIO_QUEUE_READY), 0);
	}
	for (size_t i = 0; i < ARRAY_SIZE(sels); i++) {
		wr(f, VB_MMIO_QUEUE_SEL, sels[i]);
		assert_int_equal(rd(f, VB_MMIO_QUEUE_NUM_MAX), 0);
		assert_int_equal(rd(f, VB_MMIO_QUEUE_READY), 0);
	}
}

/* @verify{VB-REQ-MMIO-011} QueueNum and the six address halves land in the selected queue */
static void test_mmio__queue_config_registers(void **state)
{
	struct fix *f = *state;
	struct vb_queue_config qc;

	wr(f, VB_MMIO_QUEUE_SEL, 1);
	wr(f, VB_MMIO_QUEUE_NUM, 32);
	wr(f, VB_MMIO_QUEUE_DESC_LOW, 0x11112222);
	wr(f, VB_MMIO_QUEUE_DESC_HIGH, 0x33334444);
	wr(f, VB_MMIO_QUEUE_DRIVER_LOW, 0x55556666);
	wr(f, VB_MMIO_QUEUE_DRIVER_HIGH, 0x77778888);
	wr(f, VB_MMIO_QUEUE_DEVICE_LOW, 0x9999aaaa);
	wr(f, VB_MMIO_QUEUE_DEVICE_HIGH, 0xbbbbcccc);
	assert_int_equal(vb_dev_queue_get_config(f->dev, 1, &qc), 0);
	assert_int_equal(qc.num, 32);
	assert_true(qc.desc == 0x3333444411112222ull);
	assert_true(qc.driver == 0x7777888855556666ull);
	assert_true(qc.device == 0xbbbbcccc9999aaaaull);
	assert_false(qc.enabled);
	/* Rewriting a low half keeps the high half. */
	wr(f, VB_MMIO_QUEUE_DESC_LOW, 0x1000);
	assert_int_equal(vb_dev_queue_get_config(f->dev, 1, &qc), 0);
	assert_true(qc.desc == 0x3333444400001000ull);
	/* Queue 0 untouched. */
	assert_int_equal(vb_dev_queue_get_config(f->dev, 0, &qc), 0);
	assert_int_equal(qc.num, 0);
	assert_true(qc.desc == 0 && qc.driver == 0 && qc.device == 0);
}

static const uint32_t queue_cfg_regs[] = {
	VB_MMIO_QUEUE_NUM, VB_MMIO_QUEUE_DESC_LOW, VB_MMIO_QUEUE_DESC_HIGH,
	VB_MMIO_QUEUE_DRIVER_LOW, VB_MMIO_QUEUE_DRIVER_HIGH, VB_MMIO_QUEUE_DEVICE_LOW,
	VB_MMIO_QUEUE_DEVICE_HIGH,
};

/* @verify{VB-REQ-MMIO-011} queue setup while QueueReady is 1: -EPROTO, nothing changes (before
 * and after DRIVER_OK) */
static void test_mmio__queue_config_while_ready_refused(void **state)
{
	struct fix *f = *state;
	struct snap s;

	negotiate(f, BASE_FEATURES);
	setup_queue(f, 0, 16);
	wr(f, VB_MMIO_QUEUE_SEL, 0);
	take(f, &s);
	for (size_t i = 0; i < ARRAY_SIZE(queue_cfg_regs); i++)
		assert_int_equal(vb_mmio_write(f->mmio, queue_cfg_regs[i], 4, 8), -EPROTO);
	assert_unchanged(f, &s);
	add_status(f, VB_VIRTIO_S_DRIVER_OK);
	wr(f, VB_MMIO_QUEUE_SEL, 0);
	take(f, &s);
	for (size_t i = 0; i < ARRAY_SIZE(queue_cfg_regs); i++)
		assert_int_equal(vb_mmio_write(f->mmio, queue_cfg_regs[i], 4, 0), -EPROTO);
	assert_unchanged(f, &s);
	assert_true(vb_vq_is_ready(vb_dev_queue(f->dev, 0)));
}

/* @verify{VB-REQ-MMIO-011} no queue selected (-EINVAL), QueueNum too large (-EPROTO) */
static void test_mmio__queue_config_bad_values_refused(void **state)
{
	struct fix *f = *state;
	struct snap s;

	wr(f, VB_MMIO_QUEUE_SEL, NQ);
	take(f, &s);
	for (size_t i = 0; i < ARRAY_SIZE(queue_cfg_regs); i++)
		assert_int_equal(vb_mmio_write(f->mmio, queue_cfg_regs[i], 4, 8), -EINVAL);
	assert_int_equal(vb_mmio_write(f->mmio, VB_MMIO_QUEUE_READY, 4, 1), -EINVAL);
	assert_unchanged(f, &s);

	wr(f, VB_MMIO_QUEUE_SEL, 0);
	wr(f, VB_MMIO_QUEUE_NUM, 16);
	take(f, &s);
	assert_int_equal(vb_mmio_write(f->mmio, VB_MMIO_QUEUE_NUM, 4, QMAX + 1), -EPROTO);
	assert_int_equal(vb_mmio_write(f->mmio, VB_MMIO_QUEUE_NUM, 4, 0x10000), -EPROTO);
	assert_int_equal(vb_mmio_write(f->mmio, VB_MMIO_QUEUE_NUM, 4, 0x10010), -EPROTO);
	assert_int_equal(vb_mmio_write(f->mmio, VB_MMIO_QUEUE_NUM, 4, UINT32_MAX), -EPROTO);
	assert_unchanged(f, &s);
}

/* @verify{VB-REQ-MMIO-012} QueueReady 1 enables, 0 disables and reads back 0; core refusals
 * leave the queue not ready; other values refused */
static void test_mmio__queue_ready(void **state)
{
	struct fix *f = *state;
	struct snap s;

	negotiate(f, BASE_FEATURES);
	wr(f, VB_MMIO_QUEUE_SEL, 0);
	/* Size never written: the core refuses the enable. */
	assert_int_equal(vb_mmio_write(f->mmio, VB_MMIO_QUEUE_READY, 4, 1), -EPROTO);
	assert_int_equal(rd(f, VB_MMIO_QUEUE_READY), 0);
	/* Not a power of two (split ring). */
	wr(f, VB_MMIO_QUEUE_NUM, 24);
	assert_int_equal(vb_mmio_write(f->mmio, VB_MMIO_QUEUE_READY, 4, 1), -EPROTO);
	assert_int_equal(rd(f, VB_MMIO_QUEUE_READY), 0);
	/* Rings outside guest memory: refused once the device maps them at DRIVER_OK or at
	 * enable; here DRIVER_OK is not set yet, so try with the device live. */
	wr(f, VB_MMIO_QUEUE_NUM, 16);
	wr(f, VB_MMIO_QUEUE_DESC_LOW, 0x1000);
	wr(f, VB_MMIO_QUEUE_DESC_HIGH, 0);
	wr(f, VB_MMIO_QUEUE_DRIVER_LOW, 0x2000);
	wr(f, VB_MMIO_QUEUE_DEVICE_LOW, 0x3000);
	setup_queue(f, 1, 16);
	add_status(f, VB_VIRTIO_S_DRIVER_OK);
	wr(f, VB_MMIO_QUEUE_SEL, 0);
	assert_int_equal(vb_mmio_write(f->mmio, VB_MMIO_QUEUE_READY, 4, 1), -EFAULT);
	assert_int_equal(rd(f, VB_MMIO_QUEUE_READY), 0);
	assert_false(vb_vq_is_ready(vb_dev_queue(f->dev, 0)));
	/* Values other than 0 and 1. */
	take(f, &s);
	assert_int_equal(vb_mmio_write(f->mmio, VB_MMIO_QUEUE_READY, 4, 2), -EPROTO);
	assert_int_equal(vb_mmio_write(f->mmio, VB_MMIO_QUEUE_READY, 4, UINT32_MAX), -EPROTO);
	assert_unchanged(f, &s);
	/* Good addresses: the queue goes live at once (DRIVER_OK is set). */
	setup_queue(f, 0, 16);
	assert_true(vb_vq_is_ready(vb_dev_queue(f->dev, 0)));
	/* 0 stops it, and it reads back 0 (virtio 1.2, 4.2.2.2). */
	wr(f, VB_MMIO_QUEUE_READY, 0);
	assert_int_equal(rd(f, VB_MMIO_QUEUE_READY), 0);
	assert_false(vb_vq_is_ready(vb_dev_queue(f->dev, 0)));
	/* Now it can be set up again. */
	wr(f, VB_MMIO_QUEUE_NUM, 8);
	wr(f, VB_MMIO_QUEUE_READY, 1);
	assert_true(vb_vq_is_ready(vb_dev_queue(f->dev, 0)));
	assert_int_equal(vb_vq_num(vb_dev_queue(f->dev, 0)), 8);
}

/* @verify{VB-REQ-MMIO-012} QueueReady 1 before FEATURES_OK: -EPROTO, nothing changes */
static void test_mmio__queue_ready_refused_before_features_ok(void **state)
{
	struct fix *f = *state;
	struct snap s;

	wr(f, VB_MMIO_STATUS, VB_VIRTIO_S_ACKNOWLEDGE);
	wr(f, VB_MMIO_STATUS, VB_VIRTIO_S_ACKNOWLEDGE | VB_VIRTIO_S_DRIVER);
	wr(f, VB_MMIO_QUEUE_SEL, 0);
	wr(f, VB_MMIO_QUEUE_NUM, 16);
	wr(f, VB_MMIO_QUEUE_DESC_LOW, (uint32_t)f->ring[0][0]);
	wr(f, VB_MMIO_QUEUE_DRIVER_LOW, (uint32_t)f->ring[0][1]);
	wr(f, VB_MMIO_QUEUE_DEVICE_LOW, (uint32_t)f->ring[0][2]);
	take(f, &s);
	assert_int_equal(vb_mmio_write(f->mmio, VB_MMIO_QUEUE_READY, 4, 1), -EPROTO);
	assert_unchanged(f, &s);
	/* Writing 0 (already not ready) is harmless. */
	wr(f, VB_MMIO_QUEUE_READY, 0);
	assert_unchanged(f, &s);
}

/* @verify{VB-REQ-MMIO-013} QueueNotify kicks the named queue through vb_dev_kick() */
static void test_mmio__queue_notify(void **state)
{
	struct fix *f = *state;

	/* Before DRIVER_OK the queue is not live: vb_dev_kick()'s -EAGAIN, no kick. */
	assert_int_equal(vb_mmio_write(f->mmio, VB_MMIO_QUEUE_NOTIFY, 4, 0), -EAGAIN);
	assert_int_equal(f->model_kicks, 0);
	bring_up(f, BASE_FEATURES);
	wr(f, VB_MMIO_QUEUE_NOTIFY, 1);
	assert_int_equal(f->model_kicks, 1);
	assert_int_equal(f->model_kick_q, 1);
	wr(f, VB_MMIO_QUEUE_NOTIFY, 0);
	assert_int_equal(f->model_kicks, 2);
	assert_int_equal(f->model_kick_q, 0);
}

/* @verify{VB-REQ-MMIO-013} QueueNotify of a queue that does not exist: -EINVAL, no kick */
static void test_mmio__queue_notify_out_of_range_refused(void **state)
{
	struct fix *f = *state;
	static const uint32_t bad[] = { NQ, 0xffff, 0x10000, 0x10001, UINT32_MAX };
	struct snap s;

	bring_up(f, BASE_FEATURES);
	take(f, &s);
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++)
		assert_int_equal(vb_mmio_write(f->mmio, VB_MMIO_QUEUE_NOTIFY, 4, bad[i]), -EINVAL);
	assert_unchanged(f, &s);
	f->host.kick = host_kick;
	take(f, &s);
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++)
		assert_int_equal(vb_mmio_write(f->mmio, VB_MMIO_QUEUE_NOTIFY, 4, bad[i]), -EINVAL);
	assert_unchanged(f, &s);
}

/* @verify{VB-REQ-MMIO-013} with a host kick hook the host decides when to run the model */
static void test_mmio__queue_notify_host_hook(void **state)
{
	struct fix *f = *state;

	f->host.kick = host_kick;
	bring_up(f, BASE_FEATURES);
	wr(f, VB_MMIO_QUEUE_NOTIFY, 1);
	assert_int_equal(f->host_kicks, 1);
	assert_int_equal(f->host_kick_q, 1);
	assert_int_equal(f->model_kicks, 0);
	assert_int_equal(vb_dev_kick(f->dev, f->host_kick_q), 0);
	assert_int_equal(f->model_kicks, 1);
}

/* @verify{VB-REQ-MMIO-013} with NOTIFICATION_DATA the queue index is the low 16 bits */
static void test_mmio__queue_notify_data(void **state)
{
	struct fix *f = *state;

	bring_up(f, BASE_FEATURES | VB_BIT(VB_VIRTIO_F_NOTIFICATION_DATA));
	wr(f, VB_MMIO_QUEUE_NOTIFY, 0x80050001u);	/* vqn 1, next_off 5, next_wrap 1 */
	assert_int_equal(f->model_kicks, 1);
	assert_int_equal(f->model_kick_q, 1);
	assert_int_equal(vb_mmio_write(f->mmio, VB_MMIO_QUEUE_NOTIFY, 4, 0x00050000u | NQ),
			 -EINVAL);
	assert_int_equal(f->model_kicks, 1);
}

/* @verify{VB-REQ-MMIO-014} @verify{VB-REQ-MMIO-016} InterruptStatus bits, partial and full
 * acknowledgement, and the line level */
static void test_mmio__interrupt_status_and_ack(void **state)
{
	struct fix *f = *state;

	bring_up(f, BASE_FEATURES);
	assert_int_equal(rd(f, VB_MMIO_INTERRUPT_STATUS), 0);
	assert_false(f->irq);
	assert_int_equal(vb_mmio_transport_ops.notify(f->mmio, 1), 0);
	assert_int_equal(rd(f, VB_MMIO_INTERRUPT_STATUS), VB_MMIO_INT_VRING);
	assert_true(f->irq);
	assert_int_equal(vb_mmio_transport_ops.config_changed(f->mmio), 0);
	assert_int_equal(rd(f, VB_MMIO_INTERRUPT_STATUS), VB_MMIO_INT_VRING | VB_MMIO_INT_CONFIG);
	/* Acknowledge one event: the other keeps the line high. */
	wr(f, VB_MMIO_INTERRUPT_ACK, VB_MMIO_INT_VRING);
	assert_int_equal(rd(f, VB_MMIO_INTERRUPT_STATUS), VB_MMIO_INT_CONFIG);
	assert_true(f->irq);
	wr(f, VB_MMIO_INTERRUPT_ACK, VB_MMIO_INT_CONFIG);
	assert_int_equal(rd(f, VB_MMIO_INTERRUPT_STATUS), 0);
	assert_false(f->irq);
	/* Acknowledging nothing that is set leaves the line low. */
	wr(f, VB_MMIO_INTERRUPT_ACK, VB_MMIO_INT_VRING);
	assert_false(f->irq);
	/* Each event asserts the line (edge-injecting hosts need every one). */
	f->irq_calls = 0;
	vb_mmio_transport_ops.notify(f->mmio, 0);
	vb_mmio_transport_ops.notify(f->mmio, 0);
	assert_int_equal(f->irq_calls, 2);
	assert_true(f->irq);
	wr(f, VB_MMIO_INTERRUPT_ACK, VB_MMIO_INT_VRING | VB_MMIO_INT_CONFIG);
	assert_false(f->irq);
	assert_int_equal(vb_mmio_interrupt_status(f->mmio), 0);
}

/* @verify{VB-REQ-MMIO-016} InterruptACK with undefined bits: -EPROTO, nothing changes */
static void test_mmio__interrupt_ack_undefined_bits_refused(void **state)
{
	struct fix *f = *state;
	struct snap s;

	vb_mmio_transport_ops.notify(f->mmio, 0);
	take(f, &s);
	assert_int_equal(vb_mmio_write(f->mmio, VB_MMIO_INTERRUPT_ACK, 4, 4), -EPROTO);
	assert_int_equal(vb_mmio_write(f->mmio, VB_MMIO_INTERRUPT_ACK, 4, VB_MMIO_INT_VRING | 8),
			 -EPROTO);
	assert_int_equal(vb_mmio_write(f->mmio, VB_MMIO_INTERRUPT_ACK, 4, UINT32_MAX), -EPROTO);
	assert_unchanged(f, &s);
	assert_true(f->irq);
}

/* @verify{VB-REQ-MMIO-015} @verify{VB-REQ-MMIO-018} ConfigGeneration changes after
 * vb_dev_config_changed(), which interrupts once DRIVER_OK is set */
static void test_mmio__config_generation_and_interrupt(void **state)
{
	struct fix *f = *state;
	uint32_t g0, g1, g2;

	g0 = rd(f, VB_MMIO_CONFIG_GENERATION);
	assert_int_equal(rd(f, VB_MMIO_CONFIG_GENERATION), g0);
	/* Before DRIVER_OK: the generation moves, no interrupt. */
	assert_int_equal(vb_dev_config_changed(f->dev), 0);
	g1 = rd(f, VB_MMIO_CONFIG_GENERATION);
	assert_int_not_equal(g1, g0);
	assert_int_equal(rd(f, VB_MMIO_INTERRUPT_STATUS), 0);
	assert_false(f->irq);
	bring_up(f, BASE_FEATURES);
	assert_int_equal(vb_dev_config_changed(f->dev), 0);
	g2 = rd(f, VB_MMIO_CONFIG_GENERATION);
	assert_int_not_equal(g2, g1);
	assert_int_equal(rd(f, VB_MMIO_INTERRUPT_STATUS), VB_MMIO_INT_CONFIG);
	assert_true(f->irq);
	wr(f, VB_MMIO_INTERRUPT_ACK, VB_MMIO_INT_CONFIG);
	assert_false(f->irq);
}

/* @verify{VB-REQ-MMIO-015} the core's NEEDS_RESET shows as a configuration change interrupt */
static void test_mmio__needs_reset_raises_config_interrupt(void **state)
{
	struct fix *f = *state;

	bring_up(f, BASE_FEATURES);
	vb_dev_set_needs_reset(f->dev);
	assert_true(rd(f, VB_MMIO_STATUS) & VB_VIRTIO_S_NEEDS_RESET);
	assert_int_equal(rd(f, VB_MMIO_INTERRUPT_STATUS), VB_MMIO_INT_CONFIG);
	assert_true(f->irq);
	/* Linux then resets the device. */
	wr(f, VB_MMIO_INTERRUPT_ACK, VB_MMIO_INT_CONFIG);
	wr(f, VB_MMIO_STATUS, 0);
	assert_int_equal(rd(f, VB_MMIO_STATUS), 0);
}

/* @verify{VB-REQ-MMIO-017} 8, 16 and 32-bit config accesses, little-endian */
static void test_mmio__config_space_access(void **state)
{
	struct fix *f = *state;
	uint32_t v;

	assert_int_equal(vb_mmio_read(f->mmio, VB_MMIO_CONFIG + 0, 4, &v), 0);
	assert_int_equal(v, 0x13121110);
	assert_int_equal(vb_mmio_read(f->mmio, VB_MMIO_CONFIG + 4, 4, &v), 0);
	assert_int_equal(v, 0x17161514);
	assert_int_equal(vb_mmio_read(f->mmio, VB_MMIO_CONFIG + 2, 2, &v), 0);
	assert_int_equal(v, 0x1312);
	assert_int_equal(vb_mmio_read(f->mmio, VB_MMIO_CONFIG + 11, 1, &v), 0);
	assert_int_equal(v, 0x1b);
	assert_int_equal(vb_mmio_write(f->mmio, VB_MMIO_CONFIG + 8, 4, 0xa1b2c3d4), 0);
	assert_int_equal(f->config[8], 0xd4);
	assert_int_equal(f->config[11], 0xa1);
	assert_int_equal(vb_mmio_write(f->mmio, VB_MMIO_CONFIG + 6, 2, 0xbeef), 0);
	assert_int_equal(f->config[6], 0xef);
	assert_int_equal(f->config[7], 0xbe);
	assert_int_equal(vb_mmio_write(f->mmio, VB_MMIO_CONFIG + 5, 1, 0x5a), 0);
	assert_int_equal(f->config[5], 0x5a);
	assert_int_equal(vb_mmio_read(f->mmio, VB_MMIO_CONFIG + 4, 4, &v), 0);
	assert_int_equal(v, 0xbeef5a14);
	/* A 64-bit field is read as two 32-bit halves by the driver. */
	assert_int_equal(vb_mmio_read(f->mmio, VB_MMIO_CONFIG + 8, 4, &v), 0);
	assert_int_equal(v, 0xa1b2c3d4);
}

/* @verify{VB-REQ-MMIO-017} config out of range, size 8 or 3, misaligned, value too wide,
 * refused by the model: errno, nothing changes */
static void test_mmio__config_space_bad_access_refused(void **state)
{
	struct fix *f = *state;
	static const struct {
		uint64_t off;
		unsigned int size;
	} bad[] = {
		{ VB_MMIO_CONFIG + CFG_LEN, 1 },	/* one past the end */
		{ VB_MMIO_CONFIG + CFG_LEN, 4 },
		{ VB_MMIO_CONFIG + CFG_LEN - 2, 4 },	/* misaligned and past the end */
		{ VB_MMIO_CONFIG + 8, 8 },		/* 64-bit: the driver splits it */
		{ VB_MMIO_CONFIG + 0, 8 },
		{ VB_MMIO_CONFIG + 0, 3 },
		{ VB_MMIO_CONFIG + 0, 0 },
		{ VB_MMIO_CONFIG + 1, 2 },		/* misaligned */
		{ VB_MMIO_CONFIG + 2, 4 },
		{ VB_MMIO_CONFIG + 5, 4 },
		{ VB_MMIO_CONFIG + 0x1000, 4 },
		{ 0xfffffffcull, 4 },
		{ 0x100000100ull, 4 },
		{ UINT64_MAX - 3, 4 },
		{ UINT64_MAX, 1 },
	};
	struct snap s;

	take(f, &s);
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		rd_fails(f, bad[i].off, bad[i].size, -EINVAL);
		assert_int_equal(vb_mmio_write(f->mmio, bad[i].off, bad[i].size, 0), -EINVAL);
	}
	/* Value wider than the access. */
	assert_int_equal(vb_mmio_write(f->mmio, VB_MMIO_CONFIG + 4, 1, 0x100), -EINVAL);
	assert_int_equal(vb_mmio_write(f->mmio, VB_MMIO_CONFIG + 4, 2, 0x10000), -EINVAL);
	/* The model's refusal (bytes 0..3 are read-only) comes through. */
	assert_int_equal(vb_mmio_write(f->mmio, VB_MMIO_CONFIG + 0, 4, 0), -ENOTSUP);
	assert_int_equal(vb_mmio_write(f->mmio, VB_MMIO_CONFIG + 3, 1, 0), -ENOTSUP);
	assert_unchanged(f, &s);
}

/* @verify{VB-REQ-MMIO-019} no shared memory regions: length and base read as -1 */
static void test_mmio__no_shared_memory(void **state)
{
	struct fix *f = *state;

	for (uint32_t sel = 0; sel < 3; sel++) {
		wr(f, VB_MMIO_SHM_SEL, sel);
		assert_int_equal(rd(f, VB_MMIO_SHM_LEN_LOW), UINT32_MAX);
		assert_int_equal(rd(f, VB_MMIO_SHM_LEN_HIGH), UINT32_MAX);
		assert_int_equal(rd(f, VB_MMIO_SHM_BASE_LOW), UINT32_MAX);
		assert_int_equal(rd(f, VB_MMIO_SHM_BASE_HIGH), UINT32_MAX);
	}
	wr(f, VB_MMIO_SHM_SEL, UINT32_MAX);
	assert_int_equal(rd(f, VB_MMIO_SHM_LEN_LOW), UINT32_MAX);
}

/* @verify{VB-REQ-MMIO-020} QueueReset without VIRTIO_F_RING_RESET: -ENOTSUP, nothing changes */
static void test_mmio__queue_reset_needs_ring_reset(void **state)
{
	struct fix *f = *state;
	struct snap s;

	/* Not offered at all. */
	bring_up(f, BASE_FEATURES);
	wr(f, VB_MMIO_QUEUE_SEL, 0);
	take(f, &s);
	rd_fails(f, VB_MMIO_QUEUE_RESET, 4, -ENOTSUP);
	assert_int_equal(vb_mmio_write(f->mmio, VB_MMIO_QUEUE_RESET, 4, 1), -ENOTSUP);
	assert_unchanged(f, &s);
	assert_true(vb_vq_is_ready(vb_dev_queue(f->dev, 0)));
}

/* @verify{VB-REQ-MMIO-020} QueueReset with VIRTIO_F_RING_RESET: 1 resets the selected queue,
 * which then reads not ready and can be set up again */
static void test_mmio__queue_reset(void **state)
{
	struct fix *f = *state;
	struct vb_queue_config qc;
	struct snap s;

	/* Offered but not accepted: still refused. */
	bring_up(f, BASE_FEATURES);
	wr(f, VB_MMIO_QUEUE_SEL, 1);
	rd_fails(f, VB_MMIO_QUEUE_RESET, 4, -ENOTSUP);
	assert_int_equal(vb_mmio_write(f->mmio, VB_MMIO_QUEUE_RESET, 4, 1), -ENOTSUP);

	bring_up(f, BASE_FEATURES | VB_BIT(VB_VIRTIO_F_RING_RESET));
	wr(f, VB_MMIO_QUEUE_SEL, 1);
	assert_int_equal(rd(f, VB_MMIO_QUEUE_RESET), 0);
	take(f, &s);
	assert_int_equal(vb_mmio_write(f->mmio, VB_MMIO_QUEUE_RESET, 4, 0), -EPROTO);
	assert_int_equal(vb_mmio_write(f->mmio, VB_MMIO_QUEUE_RESET, 4, 2), -EPROTO);
	wr(f, VB_MMIO_QUEUE_SEL, NQ);
	assert_int_equal(vb_mmio_write(f->mmio, VB_MMIO_QUEUE_RESET, 4, 1), -EINVAL);
	assert_int_equal(rd(f, VB_MMIO_QUEUE_RESET), 0);
	wr(f, VB_MMIO_QUEUE_SEL, 1);
	assert_unchanged(f, &s);

	wr(f, VB_MMIO_QUEUE_RESET, 1);
	assert_int_equal(f->queue_resets, 1);
	/* virtio 1.2, 4.2.2.1: 0 in both QueueReset and QueueReady once the reset is done. */
	assert_int_equal(rd(f, VB_MMIO_QUEUE_RESET), 0);
	assert_int_equal(rd(f, VB_MMIO_QUEUE_READY), 0);
	assert_int_equal(vb_dev_queue_get_config(f->dev, 1, &qc), 0);
	assert_int_equal(qc.num, 0);
	assert_true(qc.desc == 0);
	assert_false(vb_vq_is_ready(vb_dev_queue(f->dev, 1)));
	assert_true(vb_vq_is_ready(vb_dev_queue(f->dev, 0)));
	/* Re-enable it (DRIVER_OK still set): live again. */
	setup_queue(f, 1, 16);
	assert_true(vb_vq_is_ready(vb_dev_queue(f->dev, 1)));
}

/* @verify{VB-REQ-MMIO-002} every register with sizes 0, 1, 2, 3, 8: -EINVAL, nothing changes */
static void test_mmio__bad_size_refused(void **state)
{
	struct fix *f = *state;
	static const unsigned int sizes[] = { 0, 1, 2, 3, 8, 16 };
	struct snap s;

	bring_up(f, BASE_FEATURES);
	vb_mmio_transport_ops.notify(f->mmio, 0);
	take(f, &s);
	for (uint32_t off = 0; off < VB_MMIO_CONFIG; off += 4) {
		if (!is_register(off))
			continue;
		for (size_t i = 0; i < ARRAY_SIZE(sizes); i++) {
			rd_fails(f, off, sizes[i], -EINVAL);
			/* Values that would do something if taken. */
			assert_int_equal(vb_mmio_write(f->mmio, off, sizes[i], 0), -EINVAL);
			assert_int_equal(vb_mmio_write(f->mmio, off, sizes[i], 1), -EINVAL);
		}
	}
	assert_unchanged(f, &s);
}

/* @verify{VB-REQ-MMIO-002} misaligned register accesses: -EINVAL, nothing changes */
static void test_mmio__misaligned_refused(void **state)
{
	struct fix *f = *state;
	struct snap s;

	bring_up(f, BASE_FEATURES);
	take(f, &s);
	for (uint32_t off = 0; off < VB_MMIO_CONFIG; off++) {
		if ((off & 3) == 0)
			continue;
		rd_fails(f, off, 4, -EINVAL);
		assert_int_equal(vb_mmio_write(f->mmio, off, 4, 0), -EINVAL);
		assert_int_equal(vb_mmio_write(f->mmio, off, 4, 1), -EINVAL);
	}
	assert_unchanged(f, &s);
}

/* @verify{VB-REQ-MMIO-002} offsets table 4.1 does not define: -EINVAL, nothing changes */
static void test_mmio__unknown_offset_refused(void **state)
{
	struct fix *f = *state;
	unsigned int n = 0;
	struct snap s;

	bring_up(f, BASE_FEATURES);
	take(f, &s);
	for (uint32_t off = 0; off < VB_MMIO_CONFIG; off += 4) {
		if (is_register(off))
			continue;
		n++;
		rd_fails(f, off, 4, -EINVAL);
		assert_int_equal(vb_mmio_write(f->mmio, off, 4, 0), -EINVAL);
		assert_int_equal(vb_mmio_write(f->mmio, off, 4, 1), -EINVAL);
	}
	assert_unchanged(f, &s);
	/* 64 words below config space, 29 of them registers. */
	assert_int_equal(n, 64 - 29);
}

/* @verify{VB-REQ-MMIO-003} reading a write-only register: -EINVAL, value 0, nothing changes */
static void test_mmio__read_of_write_only_refused(void **state)
{
	struct fix *f = *state;
	struct snap s;

	bring_up(f, BASE_FEATURES);
	take(f, &s);
	for (size_t i = 0; i < ARRAY_SIZE(regs_w); i++)
		rd_fails(f, regs_w[i], 4, -EINVAL);
	assert_unchanged(f, &s);
}

/* @verify{VB-REQ-MMIO-003} writing a read-only register: -EINVAL, nothing changes */
static void test_mmio__write_of_read_only_refused(void **state)
{
	struct fix *f = *state;
	struct snap s;

	bring_up(f, BASE_FEATURES);
	vb_mmio_transport_ops.notify(f->mmio, 0);
	take(f, &s);
	for (size_t i = 0; i < ARRAY_SIZE(regs_r); i++) {
		assert_int_equal(vb_mmio_write(f->mmio, regs_r[i], 4, 0), -EINVAL);
		assert_int_equal(vb_mmio_write(f->mmio, regs_r[i], 4, UINT32_MAX), -EINVAL);
	}
	assert_unchanged(f, &s);
	/* The register file still works. */
	wr(f, VB_MMIO_INTERRUPT_ACK, VB_MMIO_INT_VRING);
	assert_false(f->irq);
}

/* Small deterministic generator: the sequence is the same on every run. */
static uint64_t xorshift(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

/* @verify{VB-REQ-MMIO-002} @verify{VB-REQ-MMIO-016} random accesses of every kind never crash,
 * reads of refused accesses give 0, and the line is high exactly while InterruptStatus != 0 */
static void test_mmio__random_accesses_never_crash(void **state)
{
	struct fix *f = *state;
	static const unsigned int sizes[] = { 1, 2, 4, 4, 4, 4, 8 };
	uint64_t seed = 0x9e3779b97f4a7c15ull;
	unsigned int ok_writes = 0, ok_reads = 0;

	for (unsigned int i = 0; i < 200000; i++) {
		uint64_t r = xorshift(&seed), r2 = xorshift(&seed);
		uint64_t off = r % (VB_MMIO_CONFIG + CFG_LEN + 8);
		unsigned int size = (r2 & 7) < 5 ? 4 : sizes[(r2 >> 3) % ARRAY_SIZE(sizes)];
		uint32_t val = (uint32_t)(r2 >> 32);
		uint32_t v;
		int ret;

		/* Start from a live device now and then, so hostile accesses also hit queues
		 * that are running. */
		if (i % 5000 == 0)
			bring_up(f, BASE_FEATURES);
		/* Registers are aligned words: hit them often. */
		if ((r2 >> 8) & 3)
			off &= ~3ull;
		switch ((r2 >> 10) & 7) {
		case 0:		/* values the state machine wants */
			val &= 0xff;
			break;
		case 1:		/* ring addresses that map */
			val = (uint32_t)f->ring[val & 1][(val >> 1) % 3];
			break;
		case 2:
		case 3:
			val &= 0x3;
			break;
		default:
			break;
		}
		if ((r2 >> 13) & 1) {
			ret = vb_mmio_read(f->mmio, off, size, &v);
			if (ret < 0)
				assert_int_equal(v, 0);
			else
				ok_reads++;
		} else {
			ret = vb_mmio_write(f->mmio, off, size, val);
			ok_writes += ret == 0;
		}
		assert_true(ret <= 0);
		if (((r2 >> 14) & 0xff) == 0x12)
			vb_mmio_transport_ops.notify(f->mmio, 0);
		if (((r2 >> 14) & 0xff) == 0x45)
			vb_dev_config_changed(f->dev);
		assert_int_equal(f->irq, vb_mmio_interrupt_status(f->mmio) != 0);
		assert_int_equal(vb_mmio_interrupt_status(f->mmio) & ~3u, 0);
	}
	/* The sequence did reach the registers and the model, not only the error paths. */
	print_message("random: %u reads and %u writes taken, %u kicks, %u resets\n", ok_reads,
		      ok_writes, f->model_kicks, f->resets);
	assert_true(ok_reads > 10000 && ok_writes > 5000);
	assert_true(f->model_kicks > 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_mmio__init_checks_arguments, setup, teardown),
		cmocka_unit_test_setup_teardown(test_mmio__identification_registers, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_mmio__device_features_halves, setup, teardown),
		cmocka_unit_test_setup_teardown(test_mmio__driver_features_halves, setup, teardown),
		cmocka_unit_test_setup_teardown(test_mmio__driver_features_outside_window_refused,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_mmio__features_ok_refused_for_unoffered_bit,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_mmio__features_ok_refused_without_version_1,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_mmio__features_ok_refused_for_bit_above_63,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_mmio__status_transitions, setup, teardown),
		cmocka_unit_test_setup_teardown(test_mmio__linux_init_sequence, setup, teardown),
		cmocka_unit_test_setup_teardown(test_mmio__reset_clears_interrupts_and_queues, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_mmio__queue_availability, setup, teardown),
		cmocka_unit_test_setup_teardown(test_mmio__queue_config_registers, setup, teardown),
		cmocka_unit_test_setup_teardown(test_mmio__queue_config_while_ready_refused, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_mmio__queue_config_bad_values_refused, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_mmio__queue_ready, setup, teardown),
		cmocka_unit_test_setup_teardown(test_mmio__queue_ready_refused_before_features_ok,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_mmio__queue_notify, setup, teardown),
		cmocka_unit_test_setup_teardown(test_mmio__queue_notify_out_of_range_refused, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_mmio__queue_notify_host_hook, setup, teardown),
		cmocka_unit_test_setup_teardown(test_mmio__queue_notify_data, setup_notif_data,
						teardown),
		cmocka_unit_test_setup_teardown(test_mmio__interrupt_status_and_ack, setup, teardown),
		cmocka_unit_test_setup_teardown(test_mmio__interrupt_ack_undefined_bits_refused,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_mmio__config_generation_and_interrupt, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_mmio__needs_reset_raises_config_interrupt, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_mmio__config_space_access, setup, teardown),
		cmocka_unit_test_setup_teardown(test_mmio__config_space_bad_access_refused, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_mmio__no_shared_memory, setup, teardown),
		cmocka_unit_test_setup_teardown(test_mmio__queue_reset_needs_ring_reset, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_mmio__queue_reset, setup_ring_reset, teardown),
		cmocka_unit_test_setup_teardown(test_mmio__bad_size_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_mmio__misaligned_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_mmio__unknown_offset_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_mmio__read_of_write_only_refused, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_mmio__write_of_read_only_refused, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_mmio__random_accesses_never_crash, setup,
						teardown),
	};

	return cmocka_run_group_tests_name("mmio", tests, NULL, NULL);
}
