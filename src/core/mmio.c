/* SPDX-License-Identifier: MIT */
/*
 * The virtio-mmio (version 2) register file: every trapped driver access becomes a call on the
 * device (dev.h). virtio 1.2, 4.2.2 "MMIO Device Register Layout" and 4.2.3 "MMIO-specific
 * Initialization And Device Operation".
 *
 * The guest is hostile: an access of the wrong size, misaligned, to an unknown offset, against
 * the register's direction, or in the wrong state is refused with an errno and changes nothing
 * (reads then return 0). Nothing the guest writes can make this code crash or touch memory
 * outside the device.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "virtio-backend/dev.h"
#include "virtio-backend/error.h"
#include "virtio-backend/mmio.h"
#include "virtio-backend/spec.h"
#include "internal/compiler.h"
#include "internal/config.h"
#include "vq-internal.h"

#if VB_CONFIG_MMIO

struct vb_mmio {
	struct vb_dev			*dev;
	const struct vb_mmio_host_ops	*host;
	void				*host_ctx;
	uint32_t			device_features_sel;
	uint32_t			driver_features_sel;
	uint32_t			queue_sel;
	uint32_t			shm_sel;
	/* VB_MMIO_INT_*: set from any thread by the transport hooks, cleared by InterruptACK. */
	uint32_t			interrupt_status;
	/* The driver accepted a feature bit above 63 (no device offers one): FEATURES_OK must
	 * be refused until the next reset, as for any bit that was not offered. */
	bool				features_bogus;
};

_Static_assert(sizeof(struct vb_mmio) <= VB_MMIO_STORAGE_MAX,
	       "VB_MMIO_STORAGE_MAX must cover struct vb_mmio");
_Static_assert(_Alignof(struct vb_mmio) <= 8, "vb_mmio_init() promises 8-byte alignment");

/* Interrupt bits defined by virtio 1.2, 4.2.2 (InterruptStatus). */
#define INT_ALL		(VB_MMIO_INT_VRING | VB_MMIO_INT_CONFIG)

/* What a register allows the driver to do (virtio 1.2, 4.2.2, table "MMIO Device Register
 * Layout", column "Direction"). */
#define REG_R		1u
#define REG_W		2u

static unsigned int reg_access(uint32_t off)
{
	switch (off) {
	case VB_MMIO_MAGIC_VALUE:
	case VB_MMIO_VERSION:
	case VB_MMIO_DEVICE_ID:
	case VB_MMIO_VENDOR_ID:
	case VB_MMIO_DEVICE_FEATURES:
	case VB_MMIO_QUEUE_NUM_MAX:
	case VB_MMIO_INTERRUPT_STATUS:
	case VB_MMIO_SHM_LEN_LOW:
	case VB_MMIO_SHM_LEN_HIGH:
	case VB_MMIO_SHM_BASE_LOW:
	case VB_MMIO_SHM_BASE_HIGH:
	case VB_MMIO_CONFIG_GENERATION:
		return REG_R;
	case VB_MMIO_DEVICE_FEATURES_SEL:
	case VB_MMIO_DRIVER_FEATURES:
	case VB_MMIO_DRIVER_FEATURES_SEL:
	case VB_MMIO_QUEUE_SEL:
	case VB_MMIO_QUEUE_NUM:
	case VB_MMIO_QUEUE_NOTIFY:
	case VB_MMIO_INTERRUPT_ACK:
	case VB_MMIO_QUEUE_DESC_LOW:
	case VB_MMIO_QUEUE_DESC_HIGH:
	case VB_MMIO_QUEUE_DRIVER_LOW:
	case VB_MMIO_QUEUE_DRIVER_HIGH:
	case VB_MMIO_QUEUE_DEVICE_LOW:
	case VB_MMIO_QUEUE_DEVICE_HIGH:
	case VB_MMIO_SHM_SEL:
		return REG_W;
	case VB_MMIO_QUEUE_READY:
	case VB_MMIO_STATUS:
	case VB_MMIO_QUEUE_RESET:
		return REG_R | REG_W;
	default:
		return 0;
	}
}

/*
 * Common check of every access. Returns 0 with *coff set to the config space offset (or
 * UINT32_MAX for a register), or -EINVAL.
 *
 * virtio 1.2, 4.2.2.2 "Driver Requirements: MMIO Device Register Layout": the driver MUST only
 * use 32 bit wide and aligned accesses for the control registers; 8, 16 and 32 bit wide,
 * aligned accesses in config space (64-bit fields as two 32-bit accesses); it MUST NOT access
 * locations not described in the table, write read-only or read write-only registers.
 */
/* @satisfy{VB-REQ-MMIO-002} @satisfy{VB-REQ-MMIO-003} */
static int check_access(uint64_t off, unsigned int size, unsigned int dir, uint32_t *coff)
{
	if (off >= VB_MMIO_CONFIG) {
		if (size != 1 && size != 2 && size != 4)
			return -EINVAL;
		if (off & (size - 1))
			return -EINVAL;
		/* vb_dev_config_read/write check the end against the config length. */
		if (off - VB_MMIO_CONFIG > UINT32_MAX - 4u)
			return -EINVAL;
		*coff = (uint32_t)(off - VB_MMIO_CONFIG);
		return 0;
	}
	if (size != 4 || (off & 3))
		return -EINVAL;
	if (!(reg_access((uint32_t)off) & dir))
		return -EINVAL;
	*coff = UINT32_MAX;
	return 0;
}

/* The interrupt line follows InterruptStatus: virtio 1.2, 4.2.3.4 "Notifications From The
 * Device": the single interrupt is asserted while at least one InterruptStatus bit is set. */
static void raise_irq(struct vb_mmio *mmio, uint32_t bits)
{
	__atomic_fetch_or(&mmio->interrupt_status, bits, __ATOMIC_SEQ_CST);
	/* Called on every event, not only on a 0 -> 1 change, so that a host that injects
	 * edges (irqfd) delivers each notification. */
	mmio->host->set_irq(mmio->host_ctx, true);
}

/* @satisfy{VB-REQ-MMIO-016} */
static void clear_irq(struct vb_mmio *mmio, uint32_t bits)
{
	uint32_t left = __atomic_and_fetch(&mmio->interrupt_status, ~bits, __ATOMIC_SEQ_CST);

	if (left)
		return;
	mmio->host->set_irq(mmio->host_ctx, false);
	/* A notification from another thread may have set a bit between the clear and the
	 * lowering: its set_irq(true) could then be undone. Re-check and raise again. */
	if (__atomic_load_n(&mmio->interrupt_status, __ATOMIC_SEQ_CST))
		mmio->host->set_irq(mmio->host_ctx, true);
}

static int mmio_notify(void *transport, uint16_t qidx)
{
	(void)qidx;	/* one used-buffer bit for all queues (virtio 1.2, 4.2.2 InterruptStatus) */
	raise_irq(transport, VB_MMIO_INT_VRING);
	return 0;
}

static int mmio_config_changed(void *transport)
{
	raise_irq(transport, VB_MMIO_INT_CONFIG);
	return 0;
}

static void mmio_needs_reset(void *transport)
{
	/* The core has already sent config_changed: InterruptStatus shows it. */
	(void)transport;
}

/* @satisfy{VB-REQ-MMIO-014} @satisfy{VB-REQ-MMIO-015} */
VB_EXPORT const struct vb_transport_ops vb_mmio_transport_ops = {
	.version = VB_TRANSPORT_OPS_V1,
	.notify = mmio_notify,
	.config_changed = mmio_config_changed,
	.needs_reset = mmio_needs_reset,
};

VB_EXPORT size_t vb_mmio_size(void)
{
	return sizeof(struct vb_mmio);
}

/* @satisfy{VB-REQ-MMIO-001} */
VB_EXPORT int vb_mmio_init(void *storage, size_t storage_len, const struct vb_mmio_host_ops *host,
			   void *host_ctx, struct vb_mmio **out)
{
	struct vb_mmio *mmio = storage;

	if (!storage || !host || !out || ((uintptr_t)storage & 7u))
		return -EINVAL;
	if (host->version < VB_MMIO_HOST_OPS_V1 || !host->set_irq)
		return -EINVAL;
	if (storage_len < sizeof(*mmio))
		return -ENOSPC;
	*mmio = (struct vb_mmio){ .host = host, .host_ctx = host_ctx };
	*out = mmio;
	return 0;
}

/* @satisfy{VB-REQ-MMIO-001} @satisfy{VB-REQ-MMIO-021} */
VB_EXPORT int vb_mmio_attach(struct vb_mmio *mmio, struct vb_dev *dev)
{
	int ret;

	if (!mmio || !dev)
		return -EINVAL;
	/* The device must send its interrupts to this register file, or they would be lost. */
	if (dev->tops != &vb_mmio_transport_ops || dev->transport != mmio)
		return -EINVAL;
	/*
	 * virtio 1.2, 4.2.2: version 2 is the non-legacy interface, which requires
	 * VIRTIO_F_VERSION_1 (6.1 "Driver Requirements: Reserved Feature Bits"). MMIO has no
	 * per-queue notification data (NOTIF_CONFIG_DATA is PCI's) and no SR-IOV.
	 */
	ret = vb_dev_set_feature_mask(dev, VB_BIT(VB_VIRTIO_F_VERSION_1),
				      VB_BIT(VB_VIRTIO_F_SR_IOV) |
				      VB_BIT(VB_VIRTIO_F_NOTIF_CONFIG_DATA));
	if (ret < 0)
		return -EINVAL;
	mmio->dev = dev;
	return 0;
}

VB_EXPORT uint32_t vb_mmio_interrupt_status(const struct vb_mmio *mmio)
{
	return __atomic_load_n(&mmio->interrupt_status, __ATOMIC_SEQ_CST);
}

/* The queue QueueSel names, or false if there is none (such a queue "is not available"). */
static bool sel_queue(const struct vb_mmio *mmio, uint16_t *qidx)
{
	if (mmio->queue_sel >= vb_dev_num_queues(mmio->dev))
		return false;
	*qidx = (uint16_t)mmio->queue_sel;
	return true;
}

/* A feature is negotiated once the device took FEATURES_OK with it accepted. */
static bool negotiated(const struct vb_mmio *mmio, unsigned int bit)
{
	return (vb_dev_get_status(mmio->dev) & VB_VIRTIO_S_FEATURES_OK) &&
	       vb_dev_has_feature(mmio->dev, bit);
}

/* @satisfy{VB-REQ-MMIO-017} */
static int read_config(struct vb_mmio *mmio, uint32_t coff, unsigned int size, uint32_t *val)
{
	uint8_t b[4];
	int ret = vb_dev_config_read(mmio->dev, coff, b, size);

	if (ret < 0)
		return ret;
	/* Config fields of a VERSION_1 device are little-endian (virtio 1.2, 2.5 "Device
	 * Configuration Space"); assemble without caring about the host's byte order. */
	*val = 0;
	for (unsigned int i = 0; i < size; i++)
		*val |= (uint32_t)b[i] << (8u * i);
	return 0;
}

/* @satisfy{VB-REQ-MMIO-004} @satisfy{VB-REQ-MMIO-005} @satisfy{VB-REQ-MMIO-008}
 * @satisfy{VB-REQ-MMIO-010} @satisfy{VB-REQ-MMIO-016} @satisfy{VB-REQ-MMIO-018}
 * @satisfy{VB-REQ-MMIO-019} @satisfy{VB-REQ-MMIO-020} */
static int read_reg(struct vb_mmio *mmio, uint32_t off, uint32_t *val)
{
	struct vb_queue_config qc;
	uint16_t q;

	switch (off) {
	case VB_MMIO_MAGIC_VALUE:
		*val = VB_MMIO_MAGIC;
		return 0;
	case VB_MMIO_VERSION:
		*val = 2;
		return 0;
	case VB_MMIO_DEVICE_ID:
		*val = vb_dev_ops(mmio->dev)->device_id;
		return 0;
	case VB_MMIO_VENDOR_ID:
		*val = VB_MMIO_VENDOR;
		return 0;
	case VB_MMIO_DEVICE_FEATURES:
		/* Bits 32 * sel .. 32 * sel + 31; nothing is offered above bit 63. */
		if (mmio->device_features_sel < 2)
			*val = (uint32_t)(vb_dev_get_features(mmio->dev) >>
					  (32u * mmio->device_features_sel));
		return 0;
	case VB_MMIO_QUEUE_NUM_MAX:
		/* virtio 1.2, 4.2.2: "zero (0x0) if the queue is not available". */
		if (sel_queue(mmio, &q) && vb_dev_queue_get_config(mmio->dev, q, &qc) == 0)
			*val = qc.num_max;
		return 0;
	case VB_MMIO_QUEUE_READY:
		if (sel_queue(mmio, &q) && vb_dev_queue_get_config(mmio->dev, q, &qc) == 0)
			*val = qc.enabled ? 1u : 0u;
		return 0;
	case VB_MMIO_INTERRUPT_STATUS:
		*val = vb_mmio_interrupt_status(mmio);
		return 0;
	case VB_MMIO_STATUS:
		*val = vb_dev_get_status(mmio->dev);
		return 0;
	case VB_MMIO_SHM_LEN_LOW:
	case VB_MMIO_SHM_LEN_HIGH:
	case VB_MMIO_SHM_BASE_LOW:
	case VB_MMIO_SHM_BASE_HIGH:
		/* virtio 1.2, 4.2.2: reading a non-existent region gives a length of -1; this
		 * device has no shared memory regions at all. */
		*val = UINT32_MAX;
		return 0;
	case VB_MMIO_QUEUE_RESET:
		if (!negotiated(mmio, VB_VIRTIO_F_RING_RESET))
			return -ENOTSUP;
		/* vb_dev_queue_reset() completes at once, so a reset is never in progress
		 * (virtio 1.2, 4.2.2.1: QueueReset shows 1 only while a reset is ongoing). */
		return 0;
	case VB_MMIO_CONFIG_GENERATION:
		*val = vb_dev_config_generation(mmio->dev);
		return 0;
	default:
		/* check_access() let only readable registers through. */
		return -EINVAL;
	}
}

/* @satisfy{VB-REQ-MMIO-001} @satisfy{VB-REQ-MMIO-002} @satisfy{VB-REQ-MMIO-003} */
VB_EXPORT int vb_mmio_read(struct vb_mmio *mmio, uint64_t off, unsigned int size, uint32_t *val)
{
	uint32_t coff;
	int ret;

	*val = 0;
	if (!mmio->dev)
		return -EINVAL;
	ret = check_access(off, size, REG_R, &coff);
	if (ret < 0)
		return ret;
	if (coff != UINT32_MAX)
		ret = read_config(mmio, coff, size, val);
	else
		ret = read_reg(mmio, (uint32_t)off, val);
	if (ret < 0)
		*val = 0;
	return ret;
}

/*
 * DriverFeatures: merge the 32-bit half into the features recorded by the device (so a reset
 * from any side clears them) and hand the whole word to the core, which refuses the write
 * outside DRIVER..FEATURES_OK (-EPROTO) and records unoffered bits (-ENOTSUP) so that
 * FEATURES_OK is then refused: virtio 1.2, 3.1.1 "Driver Requirements: Device Initialization"
 * and 2.2.1 "Driver Requirements: Feature Bits".
 * @satisfy{VB-REQ-MMIO-006} @satisfy{VB-REQ-MMIO-007}
 */
static int write_driver_features(struct vb_mmio *mmio, uint32_t val)
{
	uint8_t status = vb_dev_get_status(mmio->dev);
	uint32_t sel = mmio->driver_features_sel;
	uint64_t f;

	if (!(status & VB_VIRTIO_S_DRIVER) || (status & VB_VIRTIO_S_FEATURES_OK))
		return -EPROTO;
	if (sel >= 2) {
		if (val == 0)
			return 0;
		mmio->features_bogus = true;
		return -ENOTSUP;
	}
	f = vb_dev_get_driver_features(mmio->dev);
	f &= ~((uint64_t)UINT32_MAX << (32u * sel));
	f |= (uint64_t)val << (32u * sel);
	return vb_dev_set_driver_features(mmio->dev, f);
}

/* @satisfy{VB-REQ-MMIO-007} @satisfy{VB-REQ-MMIO-008} @satisfy{VB-REQ-MMIO-009} */
static int write_status(struct vb_mmio *mmio, uint32_t val)
{
	uint8_t old = vb_dev_get_status(mmio->dev);
	int ret;

	/* virtio 1.2, 2.1 "Device Status Field": only the low 8 bits exist. */
	if (val > UINT8_MAX)
		return -EPROTO;
	if (val == 0) {
		/* virtio 1.2, 4.2.2.1 "Device Requirements: MMIO Device Register Layout": upon
		 * reset the device MUST clear all bits in InterruptStatus and the ready bits of
		 * all queues (vb_dev_set_status(0) disables the queues). */
		ret = vb_dev_set_status(mmio->dev, 0);
		mmio->device_features_sel = 0;
		mmio->driver_features_sel = 0;
		mmio->queue_sel = 0;
		mmio->shm_sel = 0;
		mmio->features_bogus = false;
		clear_irq(mmio, UINT32_MAX);
		return ret;
	}
	if (mmio->features_bogus && (val & VB_VIRTIO_S_FEATURES_OK) &&
	    !(old & VB_VIRTIO_S_FEATURES_OK)) {
		/* Refuse FEATURES_OK as the core does for an unoffered bit: the other bits are
		 * taken, FEATURES_OK stays clear (virtio 1.2, 3.1.1 step 6). */
		ret = vb_dev_set_status(mmio->dev, (uint8_t)(val & ~VB_VIRTIO_S_FEATURES_OK));
		return ret < 0 ? ret : -ENOTSUP;
	}
	return vb_dev_set_status(mmio->dev, (uint8_t)val);
}

/* QueueNum and the ring addresses of the selected queue. @satisfy{VB-REQ-MMIO-011} */
static int write_queue_config(struct vb_mmio *mmio, uint32_t off, uint32_t val)
{
	struct vb_queue_config qc;
	uint16_t q;
	int ret;

	if (!sel_queue(mmio, &q))
		return -EINVAL;
	ret = vb_dev_queue_get_config(mmio->dev, q, &qc);
	if (ret < 0)
		return ret;
	/* virtio 1.2, 4.2.2.2: when QueueReady is not zero, the driver MUST NOT access QueueNum
	 * and the ring address registers. */
	if (qc.enabled)
		return -EPROTO;
	switch (off) {
	case VB_MMIO_QUEUE_NUM:
		/* virtio 1.2, 4.2.2.2: QueueNum MUST be <= QueueNumMax (the core checks the
		 * rest); a value above 16 bits cannot be a queue size. */
		if (val > UINT16_MAX)
			return -EPROTO;
		qc.num = (uint16_t)val;
		break;
	case VB_MMIO_QUEUE_DESC_LOW:
		qc.desc = (qc.desc & ~(uint64_t)UINT32_MAX) | val;
		break;
	case VB_MMIO_QUEUE_DESC_HIGH:
		qc.desc = (qc.desc & UINT32_MAX) | (uint64_t)val << 32;
		break;
	case VB_MMIO_QUEUE_DRIVER_LOW:
		qc.driver = (qc.driver & ~(uint64_t)UINT32_MAX) | val;
		break;
	case VB_MMIO_QUEUE_DRIVER_HIGH:
		qc.driver = (qc.driver & UINT32_MAX) | (uint64_t)val << 32;
		break;
	case VB_MMIO_QUEUE_DEVICE_LOW:
		qc.device = (qc.device & ~(uint64_t)UINT32_MAX) | val;
		break;
	case VB_MMIO_QUEUE_DEVICE_HIGH:
		qc.device = (qc.device & UINT32_MAX) | (uint64_t)val << 32;
		break;
	default:
		return -EINVAL;
	}
	return vb_dev_queue_set_config(mmio->dev, q, &qc);
}

/* @satisfy{VB-REQ-MMIO-012} */
static int write_queue_ready(struct vb_mmio *mmio, uint32_t val)
{
	uint16_t q;

	if (!sel_queue(mmio, &q))
		return -EINVAL;
	if (val > 1)
		return -EPROTO;
	/* virtio 1.2, 3.1.1 "Driver Requirements: Device Initialization": queues are set up
	 * (step 7) after FEATURES_OK (steps 5-6); before it the ring layout is not known. */
	if (val && !(vb_dev_get_status(mmio->dev) & VB_VIRTIO_S_FEATURES_OK))
		return -EPROTO;
	return vb_dev_queue_enable(mmio->dev, q, val != 0);
}

/* @satisfy{VB-REQ-MMIO-013} */
static int write_queue_notify(struct vb_mmio *mmio, uint32_t val)
{
	uint32_t idx = val;

	/* virtio 1.2, 4.2.3.3 "Available Buffer Notifications": the value is the queue index,
	 * or with VIRTIO_F_NOTIFICATION_DATA { vqn:16, next_off:15, next_wrap:1 }. */
	if (negotiated(mmio, VB_VIRTIO_F_NOTIFICATION_DATA))
		idx = val & UINT16_MAX;
	if (idx >= vb_dev_num_queues(mmio->dev))
		return -EINVAL;
	if (mmio->host->kick) {
		mmio->host->kick(mmio->host_ctx, (uint16_t)idx);
		return 0;
	}
	return vb_dev_kick(mmio->dev, (uint16_t)idx);
}

/* @satisfy{VB-REQ-MMIO-020} */
static int write_queue_reset(struct vb_mmio *mmio, uint32_t val)
{
	uint16_t q;

	/* virtio 1.2, 4.2.2: QueueReset exists only if VIRTIO_F_RING_RESET was negotiated. */
	if (!negotiated(mmio, VB_VIRTIO_F_RING_RESET))
		return -ENOTSUP;
	if (!sel_queue(mmio, &q))
		return -EINVAL;
	/* virtio 1.2, 4.2.2.1: the device resets the queue when 1 is written. */
	if (val != 1)
		return -EPROTO;
	return vb_dev_queue_reset(mmio->dev, q);
}

static int write_reg(struct vb_mmio *mmio, uint32_t off, uint32_t val)
{
	switch (off) {
	case VB_MMIO_DEVICE_FEATURES_SEL:
		mmio->device_features_sel = val;
		return 0;
	case VB_MMIO_DRIVER_FEATURES:
		return write_driver_features(mmio, val);
	case VB_MMIO_DRIVER_FEATURES_SEL:
		mmio->driver_features_sel = val;
		return 0;
	case VB_MMIO_QUEUE_SEL:
		/* Any value: a queue that does not exist reads as not available. */
		mmio->queue_sel = val;
		return 0;
	case VB_MMIO_QUEUE_NUM:
	case VB_MMIO_QUEUE_DESC_LOW:
	case VB_MMIO_QUEUE_DESC_HIGH:
	case VB_MMIO_QUEUE_DRIVER_LOW:
	case VB_MMIO_QUEUE_DRIVER_HIGH:
	case VB_MMIO_QUEUE_DEVICE_LOW:
	case VB_MMIO_QUEUE_DEVICE_HIGH:
		return write_queue_config(mmio, off, val);
	case VB_MMIO_QUEUE_READY:
		return write_queue_ready(mmio, val);
	case VB_MMIO_QUEUE_NOTIFY:
		return write_queue_notify(mmio, val);
	case VB_MMIO_INTERRUPT_ACK:
		/* virtio 1.2, 4.2.2.2: the driver MUST NOT set undefined bits in InterruptACK. */
		if (val & ~INT_ALL)
			return -EPROTO;
		clear_irq(mmio, val);
		return 0;
	case VB_MMIO_STATUS:
		return write_status(mmio, val);
	case VB_MMIO_SHM_SEL:
		mmio->shm_sel = val;
		return 0;
	case VB_MMIO_QUEUE_RESET:
		return write_queue_reset(mmio, val);
	default:
		/* check_access() let only writable registers through. */
		return -EINVAL;
	}
}

/* @satisfy{VB-REQ-MMIO-017} */
static int write_config(struct vb_mmio *mmio, uint32_t coff, unsigned int size, uint32_t val)
{
	uint8_t b[4];

	if (size < 4 && (val >> (8u * size)))
		return -EINVAL;
	for (unsigned int i = 0; i < size; i++)
		b[i] = (uint8_t)(val >> (8u * i));
	return vb_dev_config_write(mmio->dev, coff, b, size);
}

/* @satisfy{VB-REQ-MMIO-001} @satisfy{VB-REQ-MMIO-002} @satisfy{VB-REQ-MMIO-003} */
VB_EXPORT int vb_mmio_write(struct vb_mmio *mmio, uint64_t off, unsigned int size, uint32_t val)
{
	uint32_t coff;
	int ret;

	if (!mmio->dev)
		return -EINVAL;
	ret = check_access(off, size, REG_W, &coff);
	if (ret < 0)
		return ret;
	if (coff != UINT32_MAX)
		return write_config(mmio, coff, size, val);
	return write_reg(mmio, (uint32_t)off, val);
}

#else /* !VB_CONFIG_MMIO */

/* ISO C wants a declaration in every translation unit; the register file is compiled out. */
typedef int vbi_mmio_disabled;

#endif
