/* SPDX-License-Identifier: MIT */
/*
 * Fuzz target: the virtio-mmio register file (src/core/mmio.c) over a device (dev.c) whose
 * queues live in fuzzed guest memory: a sequence of driver accesses (offset, size, value, read
 * or write) to vb_mmio_read()/vb_mmio_write(), interleaved with driver writes to guest memory.
 * A QueueNotify runs the device model's kick handler, which pops every chain, uses its buffers,
 * pushes it back and notifies (with the checks of tests/support/vbt-fuzz.h).
 *
 * Input format (all integers little-endian; a short input reads as zeros):
 *
 *   header, 16 bytes (struct vbt_fuzz_mmio_hdr, tests/support/vbt-fuzz.h):
 *     0  u8   features  the model offers: bit 0 INDIRECT_DESC, 1 EVENT_IDX, 2 RING_PACKED,
 *                       3 IN_ORDER, 4 RING_RESET, 5 NOTIFICATION_DATA, 6 SR_IOV (the register
 *                       file must hide it); bit 7: the model's activate hook fails (-EIO)
 *     1  u8   layout    guest layout as in fuzz-vq-split.c (region size, guest address)
 *     2  u8   options   bits 0-1 queues - 1; bit 2 the host defers kicks (host kick hook);
 *                       bit 3 a config write makes the model call vb_dev_config_changed()
 *     3  u8   n_ops     accesses that follow (at most what the input holds)
 *     4  u16  num_max   queue_num_max = 1 + num_max % 1024
 *     6  u8   iov_cap   iovecs per chain: read 1 + (x & 15), write 1 + (x >> 4)
 *     7  u8   seed      bytes the kick handler writes, and its push/pop style
 *     8  u32  ro_mask   region i device-read-only / device-write-only as in fuzz-vq-split.c
 *    12  u32  wo_mask
 *   n_ops accesses of 8 bytes: kind, a, b (u16), c (u32); kind % 4 selects
 *     0 read  vb_mmio_read(off, size a, &val)   off = b, plus 2^32 if kind bit 7
 *     1 write vb_mmio_write(off, size a, c)
 *     2 the driver writes c (4 bytes) at guest offset b (this is how rings evolve)
 *     3 the host runs the kicks it deferred (options bit 2)
 *   the rest: the guest memory image (copied to guest offset 0; zeroes after it).
 *
 * Invariants checked after every access (an abort is a finding):
 *  - returns in the documented sets (mmio.h): read 0/-EINVAL/-ENOTSUP, write also -EPROTO,
 *    -EFAULT, -EOVERFLOW, -EAGAIN, -ENOTRECOVERABLE and the model's -EIO; a failed read
 *    gives 0;
 *  - every register read agrees with the device (MagicValue, Version, DeviceID, VendorID,
 *    DeviceFeatures window, QueueNumMax/QueueReady of QueueSel, Status, InterruptStatus,
 *    SHM registers, ConfigGeneration, config bytes little-endian); the offered features
 *    include VERSION_1 and never SR_IOV or NOTIF_CONFIG_DATA;
 *  - a refused access (-EINVAL, -EPROTO; -ENOTSUP for QueueReset; -EAGAIN and
 *    -ENOTRECOVERABLE for QueueNotify) changes nothing: status, features, every queue's
 *    configuration, InterruptStatus, the line, config space and generation, and no model
 *    hook runs; except that a QueueReady write the core refuses leaves the queue not ready;
 *  - the interrupt line the host saw is high exactly while InterruptStatus is not 0, and
 *    InterruptStatus has only bits 0 and 1;
 *  - after Status = 0: status 0, InterruptStatus 0, line low, every queue not ready;
 *  - FEATURES_OK is never set with unoffered features (nor after a DriverFeatures bit above
 *    63) and always with VERSION_1;
 *  - a queue that breaks after DRIVER_OK raises the configuration change interrupt;
 *  - the kick handler's pops and pushes keep every invariant of fuzz-vq-split.c.
 *
 * @verify{VB-REQ-MMIO-001} @verify{VB-REQ-MMIO-002} @verify{VB-REQ-MMIO-003}
 * @verify{VB-REQ-MMIO-004} @verify{VB-REQ-MMIO-005} @verify{VB-REQ-MMIO-006}
 * @verify{VB-REQ-MMIO-007} @verify{VB-REQ-MMIO-008} @verify{VB-REQ-MMIO-009}
 * @verify{VB-REQ-MMIO-010} @verify{VB-REQ-MMIO-011} @verify{VB-REQ-MMIO-012}
 * @verify{VB-REQ-MMIO-013} @verify{VB-REQ-MMIO-014} @verify{VB-REQ-MMIO-015}
 * @verify{VB-REQ-MMIO-016} @verify{VB-REQ-MMIO-017} @verify{VB-REQ-MMIO-018}
 * @verify{VB-REQ-MMIO-019} @verify{VB-REQ-MMIO-020} @verify{VB-REQ-MMIO-021}
 * @verify{VB-REQ-VQ-001} @verify{VB-REQ-PVQ-001}
 * @verify{VB-REQ-VQ-100} @verify{VB-REQ-DEV-003} @verify{VB-REQ-DEV-004}
 * @verify{VB-REQ-DEV-005} @verify{VB-REQ-DEV-007} @verify{VB-REQ-DEV-014}
 * @verify{VB-REQ-DEV-015} @verify{VB-REQ-DEV-016} @verify{VB-REQ-DEV-018}
 */
#include <stdalign.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "vbt-fuzz.h"

#define MAX_QUEUES	4u
#define CONFIG_LEN	16u
#define NUM_MAX_CAP	1024u

struct mm {
	struct vbt_guest	g;
	struct vbt_fuzz_mmio_hdr h;
	struct vb_device_ops	ops;
	struct vb_mmio_host_ops	host;
	struct vb_dev		*dev;
	struct vb_mmio		*mmio;
	alignas(8) uint8_t	dev_storage[VB_DEV_STORAGE_MAX(MAX_QUEUES)];
	alignas(8) uint8_t	mmio_storage[VB_MMIO_STORAGE_MAX];
	uint8_t			config[CONFIG_LEN];
	struct vbt_fuzz_q	q[MAX_QUEUES];
	uint16_t		nq;
	/* What the host and the model saw. */
	bool			irq_level;
	unsigned int		irq_raises;
	unsigned int		hooks;		/* model hook calls of any kind */
	uint32_t		pending_kicks;	/* host kick hook: deferred queue bits */
	/* The harness's copy of the selectors (write-only registers). */
	uint32_t		dev_feat_sel, drv_feat_sel, queue_sel;
	bool			bogus_features;	/* a DriverFeatures bit above 63 was written */
	unsigned int		n_ops;
	struct vbt_fuzz_op	ops_list[VBT_FUZZ_MAX_OPS];
};

static struct mm *mm_of(struct vb_dev *dev)
{
	return vb_dev_priv(dev);
}

/* ---- host and device model -------------------------------------------------------------- */

static void host_set_irq(void *ctx, bool level)
{
	struct mm *m = ctx;

	m->irq_level = level;
	if (level)
		m->irq_raises++;
}

static void host_kick(void *ctx, uint16_t qidx)
{
	struct mm *m = ctx;

	VBT_FUZZ_CHECK(qidx < m->nq, "host kick hook for queue %u of %u", qidx, m->nq);
	m->pending_kicks |= 1u << qidx;
}

static int model_config_read(struct vb_dev *dev, uint32_t off, void *buf, uint32_t len)
{
	struct mm *m = mm_of(dev);

	VBT_FUZZ_CHECK(off <= CONFIG_LEN && len <= CONFIG_LEN - off,
		       "config read [%u, +%u) reached the model", off, len);
	memcpy(buf, m->config + off, len);
	return 0;
}

static int model_config_write(struct vb_dev *dev, uint32_t off, const void *buf, uint32_t len)
{
	struct mm *m = mm_of(dev);

	VBT_FUZZ_CHECK(off <= CONFIG_LEN && len <= CONFIG_LEN - off,
		       "config write [%u, +%u) reached the model", off, len);
	m->hooks++;
	memcpy(m->config + off, buf, len);
	if (m->h.options & VBT_FUZZ_MO_CONFIG_CHANGES) {
		int ret = vb_dev_config_changed(dev);

		VBT_FUZZ_CHECK(ret == 0, "vb_dev_config_changed: %d", ret);
	}
	return 0;
}

static int model_activate(struct vb_dev *dev, uint64_t features)
{
	struct mm *m = mm_of(dev);

	(void)features;
	m->hooks++;
	return (m->h.features & (1u << VBT_FUZZ_MF_ACTIVATE_FAILS)) ? -EIO : 0;
}

static void model_kick(struct vb_dev *dev, struct vb_vq *vq)
{
	struct mm *m = mm_of(dev);
	uint16_t i = vb_vq_index(vq);

	VBT_FUZZ_CHECK(i < m->nq && m->q[i].vq == vq, "kick of an unknown queue");
	m->hooks++;
	vbt_fuzz_q_drain(&m->q[i], (uint32_t)m->h.seed * 0x01010101u);
}

static void model_reset(struct vb_dev *dev)
{
	mm_of(dev)->hooks++;
}

static void model_queue_reset(struct vb_dev *dev, struct vb_vq *vq)
{
	(void)vq;
	mm_of(dev)->hooks++;
}

static uint64_t model_features(uint8_t bits)
{
	static const unsigned int map[7] = {
		VB_VIRTIO_F_INDIRECT_DESC, VB_VIRTIO_F_EVENT_IDX, VB_VIRTIO_F_RING_PACKED,
		VB_VIRTIO_F_IN_ORDER, VB_VIRTIO_F_RING_RESET, VB_VIRTIO_F_NOTIFICATION_DATA,
		VB_VIRTIO_F_SR_IOV,
	};
	uint64_t f = 0;

	for (unsigned int i = 0; i < 7; i++)
		if (bits & (1u << i))
			f |= VB_BIT(map[i]);
	return f;
}

/* ---- parse and bring up ----------------------------------------------------------------- */

static int mm_parse(struct mm *m, const uint8_t *data, size_t size)
{
	struct vbt_fuzz_in in = { data, size };
	struct vbt_fuzz_mmio_hdr *h = &m->h;
	int ret;

	if (size < VBT_FUZZ_MMIO_HDR_LEN)
		return -EINVAL;
	h->features = vbt_fuzz_u8(&in);
	h->layout = vbt_fuzz_u8(&in);
	h->options = vbt_fuzz_u8(&in);
	h->n_ops = vbt_fuzz_u8(&in);
	h->num_max = vbt_fuzz_u16(&in);
	h->iov_cap = vbt_fuzz_u8(&in);
	h->seed = vbt_fuzz_u8(&in);
	h->ro_mask = vbt_fuzz_u32(&in);
	h->wo_mask = vbt_fuzz_u32(&in);
	m->n_ops = h->n_ops;
	if (m->n_ops > in.left / VBT_FUZZ_OP_LEN)
		m->n_ops = (unsigned int)(in.left / VBT_FUZZ_OP_LEN);
	for (unsigned int i = 0; i < m->n_ops; i++)
		vbt_fuzz_op_get(&in, &m->ops_list[i]);
	ret = vbt_fuzz_guest_init(&m->g, h->layout, h->ro_mask, h->wo_mask, in.p, in.left);
	if (ret < 0)
		return ret;

	m->nq = (uint16_t)VBT_FUZZ_MO_QUEUES(h->options);
	memset(m->config, 0, sizeof(m->config));
	for (unsigned int i = 0; i < CONFIG_LEN; i++)
		m->config[i] = (uint8_t)(0xc0u + i);
	m->irq_level = false;
	m->irq_raises = 0;
	m->hooks = 0;
	m->pending_kicks = 0;
	m->dev_feat_sel = m->drv_feat_sel = m->queue_sel = 0;
	m->bogus_features = false;
	m->ops = (struct vb_device_ops){
		.version = VB_DEVICE_OPS_V1,
		.device_id = VB_VIRTIO_ID_RNG,
		.features = model_features(h->features),
		.num_queues = m->nq,
		.queue_num_max = (uint16_t)(1u + h->num_max % NUM_MAX_CAP),
		.config_len = CONFIG_LEN,
		.config_read = model_config_read,
		.config_write = model_config_write,
		.activate = model_activate,
		.kick = model_kick,
		.reset = model_reset,
		.queue_reset = model_queue_reset,
	};
	m->host = (struct vb_mmio_host_ops){
		.version = VB_MMIO_HOST_OPS_V1,
		.set_irq = host_set_irq,
		.kick = (h->options & VBT_FUZZ_MO_HOST_KICK) ? host_kick : NULL,
	};
	ret = vb_mmio_init(m->mmio_storage, sizeof(m->mmio_storage), &m->host, m, &m->mmio);
	VBT_FUZZ_CHECK(ret == 0, "vb_mmio_init: %d", ret);
	ret = vb_dev_init(m->dev_storage, sizeof(m->dev_storage), &m->ops, m,
			  &vb_mmio_transport_ops, m->mmio, &m->g.mem, &m->dev);
	VBT_FUZZ_CHECK(ret == 0, "vb_dev_init: %d", ret);
	ret = vb_mmio_attach(m->mmio, m->dev);
	VBT_FUZZ_CHECK(ret == 0, "vb_mmio_attach: %d", ret);
	for (uint16_t i = 0; i < m->nq; i++)
		vbt_fuzz_q_init(&m->q[i], m->dev, i, &m->g, &m->irq_raises, h->iov_cap);
	return 0;
}

/* ---- "nothing changes" ------------------------------------------------------------------ */

struct snap {
	uint8_t			status;
	uint64_t		driver_features;
	struct vb_queue_config	qc[MAX_QUEUES];
	uint32_t		int_status;
	bool			irq_level;
	unsigned int		irq_raises;
	uint8_t			config[CONFIG_LEN];
	uint32_t		generation;
	unsigned int		hooks;
	int			qerr[MAX_QUEUES];
};

static void snap_take(const struct mm *m, struct snap *s)
{
	memset(s, 0, sizeof(*s));
	s->status = vb_dev_get_status(m->dev);
	s->driver_features = vb_dev_get_driver_features(m->dev);
	for (uint16_t i = 0; i < m->nq; i++) {
		int ret = vb_dev_queue_get_config(m->dev, i, &s->qc[i]);

		VBT_FUZZ_CHECK(ret == 0, "vb_dev_queue_get_config(%u): %d", i, ret);
		s->qerr[i] = vb_vq_error(m->q[i].vq);
	}
	s->int_status = vb_mmio_interrupt_status(m->mmio);
	s->irq_level = m->irq_level;
	s->irq_raises = m->irq_raises;
	memcpy(s->config, m->config, CONFIG_LEN);
	s->generation = vb_dev_config_generation(m->dev);
	s->hooks = m->hooks;
}

/* except_ready: a queue whose readiness may have dropped (QueueReady refused by the core). */
static void snap_same(const struct mm *m, const struct snap *a, int except_ready,
		      const char *what)
{
	struct snap b;

	snap_take(m, &b);
	if (except_ready >= 0 && except_ready < (int)m->nq) {
		VBT_FUZZ_CHECK(!b.qc[except_ready].enabled,
			       "%s: the core refused QueueReady but the queue reads ready", what);
		b.qc[except_ready].enabled = a->qc[except_ready].enabled;
	}
	VBT_FUZZ_CHECK(a->status == b.status, "%s changed status 0x%x -> 0x%x", what, a->status,
		       b.status);
	VBT_FUZZ_CHECK(a->driver_features == b.driver_features, "%s changed driver features", what);
	VBT_FUZZ_CHECK(memcmp(a->qc, b.qc, sizeof(a->qc)) == 0 &&
		       memcmp(a->qerr, b.qerr, sizeof(a->qerr)) == 0,
		       "%s changed a queue", what);
	VBT_FUZZ_CHECK(a->int_status == b.int_status && a->irq_level == b.irq_level &&
		       a->irq_raises == b.irq_raises, "%s changed the interrupt state", what);
	VBT_FUZZ_CHECK(memcmp(a->config, b.config, CONFIG_LEN) == 0 &&
		       a->generation == b.generation, "%s changed config space", what);
	VBT_FUZZ_CHECK(a->hooks == b.hooks, "%s ran a model hook", what);
}

/* ---- one access ------------------------------------------------------------------------- */

static bool negotiated(const struct mm *m, unsigned int bit)
{
	return (vb_dev_get_status(m->dev) & VB_VIRTIO_S_FEATURES_OK) &&
	       vb_dev_has_feature(m->dev, bit);
}

/* What a successful register read must give (virtio 1.2, 4.2.2, table 4.1). */
static void check_read_value(struct mm *m, uint64_t off, unsigned int size, uint32_t val)
{
	struct vb_queue_config qc = { 0 };
	uint32_t want = 0;
	bool have_q = m->queue_sel < m->nq;

	if (off >= VB_MMIO_CONFIG) {
		uint64_t c = off - VB_MMIO_CONFIG;

		VBT_FUZZ_CHECK(c + size <= CONFIG_LEN, "config read at 0x%llx accepted",
			       (unsigned long long)off);
		for (unsigned int i = 0; i < size; i++)
			want |= (uint32_t)m->config[c + i] << (8u * i);
		VBT_FUZZ_CHECK(val == want, "config 0x%llx/%u reads 0x%x, holds 0x%x",
			       (unsigned long long)off, size, val, want);
		return;
	}
	VBT_FUZZ_CHECK(size == 4 && !(off & 3u), "register read of size %u at 0x%llx accepted",
		       size, (unsigned long long)off);
	if (have_q)
		vb_dev_queue_get_config(m->dev, (uint16_t)m->queue_sel, &qc);
	switch (off) {
	case VB_MMIO_MAGIC_VALUE:
		want = VB_MMIO_MAGIC;
		break;
	case VB_MMIO_VERSION:
		want = 2;
		break;
	case VB_MMIO_DEVICE_ID:
		want = m->ops.device_id;
		break;
	case VB_MMIO_VENDOR_ID:
		want = VB_MMIO_VENDOR;
		break;
	case VB_MMIO_DEVICE_FEATURES: {
		uint64_t f = vb_dev_get_features(m->dev);

		VBT_FUZZ_CHECK((f & VB_BIT(VB_VIRTIO_F_VERSION_1)) &&
			       !(f & (VB_BIT(VB_VIRTIO_F_SR_IOV) |
				      VB_BIT(VB_VIRTIO_F_NOTIF_CONFIG_DATA))),
			       "offered features 0x%llx break the transport mask",
			       (unsigned long long)f);
		want = m->dev_feat_sel < 2 ? (uint32_t)(f >> (32u * m->dev_feat_sel)) : 0;
		break;
	}
	case VB_MMIO_QUEUE_NUM_MAX:
		want = have_q ? qc.num_max : 0;
		break;
	case VB_MMIO_QUEUE_READY:
		want = have_q && qc.enabled;
		break;
	case VB_MMIO_INTERRUPT_STATUS:
		want = vb_mmio_interrupt_status(m->mmio);
		break;
	case VB_MMIO_STATUS:
		want = vb_dev_get_status(m->dev);
		break;
	case VB_MMIO_SHM_LEN_LOW:
	case VB_MMIO_SHM_LEN_HIGH:
	case VB_MMIO_SHM_BASE_LOW:
	case VB_MMIO_SHM_BASE_HIGH:
		want = UINT32_MAX;
		break;
	case VB_MMIO_QUEUE_RESET:
		VBT_FUZZ_CHECK(negotiated(m, VB_VIRTIO_F_RING_RESET),
			       "QueueReset readable without RING_RESET");
		want = 0;
		break;
	case VB_MMIO_CONFIG_GENERATION:
		want = vb_dev_config_generation(m->dev);
		break;
	default:
		VBT_FUZZ_CHECK(0, "read of offset 0x%llx accepted", (unsigned long long)off);
	}
	VBT_FUZZ_CHECK(val == want, "register 0x%llx reads 0x%x, expected 0x%x",
		       (unsigned long long)off, val, want);
}

static void do_read(struct mm *m, uint64_t off, unsigned int size)
{
	struct snap s;
	uint32_t val = 0xdeadbeef;
	int ret;

	snap_take(m, &s);
	ret = vb_mmio_read(m->mmio, off, size, &val);
	vbt_fuzz_trace("read 0x%llx/%u: %d 0x%x", (unsigned long long)off, size, ret, val);
	VBT_FUZZ_CHECK(ret == 0 || ret == -EINVAL || ret == -ENOTSUP,
		       "read 0x%llx/%u returned %d", (unsigned long long)off, size, ret);
	if (ret < 0) {
		VBT_FUZZ_CHECK(val == 0, "failed read gives 0x%x", val);
		VBT_FUZZ_CHECK(ret != -ENOTSUP || off == VB_MMIO_QUEUE_RESET,
			       "-ENOTSUP from a read of 0x%llx", (unsigned long long)off);
	} else {
		check_read_value(m, off, size, val);
	}
	snap_same(m, &s, -1, "a read");
}

/* The queue reset, device reset and restart paths the write may have taken. */
static void forget_after_write(struct mm *m, uint64_t off, uint32_t val, int ret,
			       uint8_t status_before)
{
	bool dev_reset = off == VB_MMIO_STATUS && val == 0 && ret == 0;

	for (uint16_t i = 0; i < m->nq; i++) {
		bool qreset = off == VB_MMIO_QUEUE_RESET && ret == 0 && m->queue_sel == i;

		if (dev_reset)
			m->q[i].reset_since_break = false;
		vbt_fuzz_q_forget(&m->q[i], dev_reset || qreset);
	}
	(void)status_before;
}

static void do_write(struct mm *m, uint64_t off, unsigned int size, uint32_t val)
{
	const uint8_t status = vb_dev_get_status(m->dev);
	const bool reg = off < VB_MMIO_CONFIG;
	const uint32_t gen = vb_dev_config_generation(m->dev);
	int qerr[MAX_QUEUES];
	struct snap s;
	int ret;

	snap_take(m, &s);
	for (uint16_t i = 0; i < m->nq; i++)
		qerr[i] = vb_vq_error(m->q[i].vq);
	ret = vb_mmio_write(m->mmio, off, size, val);
	vbt_fuzz_trace("write 0x%llx/%u 0x%x: %d", (unsigned long long)off, size, val, ret);
	VBT_FUZZ_CHECK(ret == 0 || ret == -EINVAL || ret == -EPROTO || ret == -ENOTSUP ||
		       ret == -EFAULT || ret == -EOVERFLOW || ret == -EAGAIN ||
		       ret == -ENOTRECOVERABLE || ret == -EIO,
		       "write 0x%llx/%u 0x%x returned %d", (unsigned long long)off, size, val, ret);

	if (off == VB_MMIO_QUEUE_READY && size == 4 && ret < 0 && ret != -EINVAL && val == 1 &&
	    m->queue_sel < m->nq && (status & VB_VIRTIO_S_FEATURES_OK)) {
		/* MMIO-012: the core refused the size, alignment or rings: the queue reads not
		 * ready, nothing else moved. */
		snap_same(m, &s, (int)m->queue_sel, "a refused QueueReady");
	} else if (off == VB_MMIO_STATUS && ret < 0 && (val & VB_VIRTIO_S_DRIVER_OK) &&
		   !(status & VB_VIRTIO_S_DRIVER_OK) &&
		   (vb_dev_get_status(m->dev) & VB_VIRTIO_S_DRIVER_OK)) {
		/* DRIVER_OK was taken but activation failed (a queue's rings, or the model):
		 * the device must say it needs a reset. */
		VBT_FUZZ_CHECK(vb_dev_get_status(m->dev) & VB_VIRTIO_S_NEEDS_RESET,
			       "activation failed (%d) without NEEDS_RESET", ret);
		/* DEV-016, DEV-018: every queue stopped, no kick reaches the model. */
		for (uint16_t i = 0; i < m->nq; i++)
			VBT_FUZZ_CHECK(!vb_vq_is_ready(m->q[i].vq),
				       "queue %u live after a failed activation", i);
	} else if (ret == -EINVAL || ret == -EPROTO ||
		   (ret == -ENOTSUP && off == VB_MMIO_QUEUE_RESET) ||
		   (off == VB_MMIO_QUEUE_NOTIFY && ret < 0)) {
		snap_same(m, &s, -1, "a refused write");
	}
	if (ret == -EFAULT || ret == -EOVERFLOW)
		VBT_FUZZ_CHECK(off == VB_MMIO_QUEUE_READY || off == VB_MMIO_STATUS,
			       "%d from a write of 0x%llx", ret, (unsigned long long)off);
	if (ret == -EIO)
		VBT_FUZZ_CHECK(off == VB_MMIO_STATUS && (m->h.features &
							 (1u << VBT_FUZZ_MF_ACTIVATE_FAILS)),
			       "-EIO from a write of 0x%llx", (unsigned long long)off);

	/* Track the write-only selectors and the bogus-feature latch. */
	if (ret == 0 && reg) {
		if (off == VB_MMIO_DEVICE_FEATURES_SEL)
			m->dev_feat_sel = val;
		else if (off == VB_MMIO_DRIVER_FEATURES_SEL)
			m->drv_feat_sel = val;
		else if (off == VB_MMIO_QUEUE_SEL)
			m->queue_sel = val;
	}
	if (off == VB_MMIO_DRIVER_FEATURES && ret == -ENOTSUP && m->drv_feat_sel >= 2)
		m->bogus_features = true;
	if (off == VB_MMIO_STATUS && val == 0 && ret == 0) {
		/* MMIO-009: reset clears the interrupt state, every queue and the selectors. */
		VBT_FUZZ_CHECK(vb_dev_get_status(m->dev) == 0, "status 0x%x after reset",
			       vb_dev_get_status(m->dev));
		VBT_FUZZ_CHECK(vb_mmio_interrupt_status(m->mmio) == 0 && !m->irq_level,
			       "interrupt state survived a reset");
		for (uint16_t i = 0; i < m->nq; i++) {
			struct vb_queue_config qc;

			vb_dev_queue_get_config(m->dev, i, &qc);
			VBT_FUZZ_CHECK(!qc.enabled && vb_vq_error(m->q[i].vq) == 0,
				       "queue %u survived a reset", i);
		}
		m->dev_feat_sel = m->drv_feat_sel = m->queue_sel = 0;
		m->bogus_features = false;
	}
	if (!reg && ret == 0 && (m->h.options & VBT_FUZZ_MO_CONFIG_CHANGES)) {
		/* MMIO-015/018: the model's change bumps the generation and, after DRIVER_OK,
		 * raises the configuration interrupt. */
		VBT_FUZZ_CHECK(vb_dev_config_generation(m->dev) == gen + 1,
			       "config change did not bump the generation");
		if (vb_dev_get_status(m->dev) & VB_VIRTIO_S_DRIVER_OK)
			VBT_FUZZ_CHECK(vb_mmio_interrupt_status(m->mmio) & VB_MMIO_INT_CONFIG,
				       "config change after DRIVER_OK without interrupt");
	}
	/* A queue the driver just broke (pop violation, rings not mapping at DRIVER_OK) raised
	 * the configuration change interrupt if DRIVER_OK is set (virtio 1.2, 2.1.2). */
	for (uint16_t i = 0; i < m->nq; i++) {
		if (qerr[i] == 0 && vb_vq_error(m->q[i].vq) != 0 &&
		    (vb_dev_get_status(m->dev) & VB_VIRTIO_S_DRIVER_OK) &&
		    !(status & VB_VIRTIO_S_NEEDS_RESET))
			VBT_FUZZ_CHECK(vb_mmio_interrupt_status(m->mmio) & VB_MMIO_INT_CONFIG,
				       "queue %u broke after DRIVER_OK without a config interrupt", i);
	}
	if (off != VB_MMIO_QUEUE_NOTIFY && off != VB_MMIO_INTERRUPT_ACK)
		forget_after_write(m, off, val, ret, status);
}

static void run_kicks(struct mm *m)
{
	uint32_t pending = m->pending_kicks;

	m->pending_kicks = 0;
	for (uint16_t i = 0; i < m->nq; i++) {
		bool broken, ready;
		int ret;

		if (!(pending & (1u << i)))
			continue;
		broken = vb_vq_error(m->q[i].vq) != 0;
		ready = vb_vq_is_ready(m->q[i].vq);
		ret = vb_dev_kick(m->dev, i);
		VBT_FUZZ_CHECK(broken ? ret == -ENOTRECOVERABLE : ready ? ret == 0 : ret == -EAGAIN,
			       "deferred kick of queue %u: %d", i, ret);
	}
}

static void guest_write(struct mm *m, uint16_t off, uint32_t val)
{
	size_t o = off % VBT_FUZZ_GUEST_SIZE;
	uint8_t v[4] = { (uint8_t)val, (uint8_t)(val >> 8), (uint8_t)(val >> 16),
			 (uint8_t)(val >> 24) };

	if (o > VBT_FUZZ_GUEST_SIZE - 4)
		o = VBT_FUZZ_GUEST_SIZE - 4;
	memcpy(m->g.base + o, v, 4);
}

static void check_invariants(struct mm *m)
{
	uint32_t is = vb_mmio_interrupt_status(m->mmio);
	uint8_t status = vb_dev_get_status(m->dev);
	uint64_t df = vb_dev_get_driver_features(m->dev);

	/* MMIO-016: the line is high exactly while InterruptStatus is not 0. */
	VBT_FUZZ_CHECK(!(is & ~(uint32_t)(VB_MMIO_INT_VRING | VB_MMIO_INT_CONFIG)),
		       "InterruptStatus 0x%x has undefined bits", is);
	VBT_FUZZ_CHECK(m->irq_level == (is != 0), "line %d with InterruptStatus 0x%x",
		       m->irq_level, is);
	/* MMIO-007, DEV-004: FEATURES_OK only for acceptable features. */
	if (status & VB_VIRTIO_S_FEATURES_OK) {
		VBT_FUZZ_CHECK(!(df & ~vb_dev_get_features(m->dev)) &&
			       (df & VB_BIT(VB_VIRTIO_F_VERSION_1)) && !m->bogus_features,
			       "FEATURES_OK with driver features 0x%llx (offered 0x%llx)%s",
			       (unsigned long long)df,
			       (unsigned long long)vb_dev_get_features(m->dev),
			       m->bogus_features ? " after a bit above 63" : "");
	}
	if (status & VB_VIRTIO_S_DRIVER_OK)
		VBT_FUZZ_CHECK(status & VB_VIRTIO_S_FEATURES_OK, "DRIVER_OK without FEATURES_OK");
	for (uint16_t i = 0; i < m->nq; i++)
		vbt_fuzz_q_check(&m->q[i]);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct mm m;

	if (mm_parse(&m, data, size) < 0)
		return 0;
	for (unsigned int i = 0; i < m.n_ops; i++) {
		const struct vbt_fuzz_op *op = &m.ops_list[i];
		uint64_t off = op->b | ((op->code & 0x80u) ? UINT64_C(1) << 32 : 0);

		switch ((enum vbt_fuzz_mmio_kind)(op->code & 3u)) {
		case VBT_FUZZ_MMIO_READ:
			do_read(&m, off, op->a);
			break;
		case VBT_FUZZ_MMIO_WRITE:
			do_write(&m, off, op->a, op->c);
			break;
		case VBT_FUZZ_MMIO_GUEST_WRITE:
			guest_write(&m, op->b, op->c);
			break;
		case VBT_FUZZ_MMIO_RUN_KICKS:
			run_kicks(&m);
			break;
		}
		check_invariants(&m);
	}
	vbt_guest_fini(&m.g);
	return 0;
}
