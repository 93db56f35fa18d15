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
#include <string.h>

#include "virtio-backend/dev.h"
#include "virtio-backend/endian.h"
#include "virtio-backend/error.h"
#include "virtio-backend/mmio.h"
#include "virtio-backend/spec.h"
#include "internal/compiler.h"
#include "internal/config.h"
#include "vq-internal.h"

#if VB_CONFIG_MMIO

/* mmio->sel[]: the selector registers, as the driver wrote them. */
#define SEL_DEVICE_FEATURES	0u
#define SEL_DRIVER_FEATURES	1u
#define SEL_QUEUE		2u
#define SEL_SHM			3u

struct vb_mmio {
	struct vb_dev			*dev;
	const struct vb_mmio_host_ops	*host;
	void				*host_ctx;
	uint32_t			sel[4];		/* SEL_* */
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

/*
 * Register decode: one byte per 32-bit word below the config space, KIND | ARG << 5. Registers
 * that behave alike share a kind and differ by ARG (which selector, which ring area and half).
 * A word not in virtio 1.2, 4.2.2 "MMIO Device Register Layout" is K_NONE. The table's
 * "Direction" column is the two switches: vb_mmio_read() lists the readable kinds,
 * vb_mmio_write() the writable ones, and every other kind is refused by their default.
 */
enum {
	K_NONE,
	K_MAGIC, K_VERSION, K_DEVICE_ID, K_VENDOR_ID, K_DEVICE_FEATURES,	/* R */
	K_QUEUE_NUM_MAX, K_INTERRUPT_STATUS, K_SHM, K_CONFIG_GENERATION,	/* R */
	K_QUEUE_READY, K_STATUS, K_QUEUE_RESET,					/* RW */
	K_SEL, K_DRIVER_FEATURES, K_QUEUE_NUM, K_QUEUE_ADDR,			/* W */
	K_QUEUE_NOTIFY, K_INTERRUPT_ACK,					/* W */
};
#define KIND_BITS	5u
#define REG(kind, arg)	((uint8_t)((kind) | (arg) << KIND_BITS))
/* K_QUEUE_ADDR's ARG: area (0 descriptor, 1 driver, 2 device) * 2 + high half. */
#define ADDR_HIGH	1u

_Static_assert(K_INTERRUPT_ACK < (1u << KIND_BITS), "kinds fit below ARG");

static const uint8_t reg_table[VB_MMIO_CONFIG / 4] = {
	[VB_MMIO_MAGIC_VALUE / 4]		= REG(K_MAGIC, 0),
	[VB_MMIO_VERSION / 4]			= REG(K_VERSION, 0),
	[VB_MMIO_DEVICE_ID / 4]			= REG(K_DEVICE_ID, 0),
	[VB_MMIO_VENDOR_ID / 4]			= REG(K_VENDOR_ID, 0),
	[VB_MMIO_DEVICE_FEATURES / 4]		= REG(K_DEVICE_FEATURES, 0),
	[VB_MMIO_DEVICE_FEATURES_SEL / 4]	= REG(K_SEL, SEL_DEVICE_FEATURES),
	[VB_MMIO_DRIVER_FEATURES / 4]		= REG(K_DRIVER_FEATURES, 0),
	[VB_MMIO_DRIVER_FEATURES_SEL / 4]	= REG(K_SEL, SEL_DRIVER_FEATURES),
	[VB_MMIO_QUEUE_SEL / 4]			= REG(K_SEL, SEL_QUEUE),
	[VB_MMIO_QUEUE_NUM_MAX / 4]		= REG(K_QUEUE_NUM_MAX, 0),
	[VB_MMIO_QUEUE_NUM / 4]			= REG(K_QUEUE_NUM, 0),
	[VB_MMIO_QUEUE_READY / 4]		= REG(K_QUEUE_READY, 0),
	[VB_MMIO_QUEUE_NOTIFY / 4]		= REG(K_QUEUE_NOTIFY, 0),
	[VB_MMIO_INTERRUPT_STATUS / 4]		= REG(K_INTERRUPT_STATUS, 0),
	[VB_MMIO_INTERRUPT_ACK / 4]		= REG(K_INTERRUPT_ACK, 0),
	[VB_MMIO_STATUS / 4]			= REG(K_STATUS, 0),
	[VB_MMIO_QUEUE_DESC_LOW / 4]		= REG(K_QUEUE_ADDR, 0),
	[VB_MMIO_QUEUE_DESC_HIGH / 4]		= REG(K_QUEUE_ADDR, ADDR_HIGH),
	[VB_MMIO_QUEUE_DRIVER_LOW / 4]		= REG(K_QUEUE_ADDR, 2),
	[VB_MMIO_QUEUE_DRIVER_HIGH / 4]		= REG(K_QUEUE_ADDR, 2 | ADDR_HIGH),
	[VB_MMIO_QUEUE_DEVICE_LOW / 4]		= REG(K_QUEUE_ADDR, 4),
	[VB_MMIO_QUEUE_DEVICE_HIGH / 4]		= REG(K_QUEUE_ADDR, 4 | ADDR_HIGH),
	[VB_MMIO_SHM_SEL / 4]			= REG(K_SEL, SEL_SHM),
	[VB_MMIO_SHM_LEN_LOW / 4]		= REG(K_SHM, 0),
	[VB_MMIO_SHM_LEN_HIGH / 4]		= REG(K_SHM, 0),
	[VB_MMIO_SHM_BASE_LOW / 4]		= REG(K_SHM, 0),
	[VB_MMIO_SHM_BASE_HIGH / 4]		= REG(K_SHM, 0),
	[VB_MMIO_QUEUE_RESET / 4]		= REG(K_QUEUE_RESET, 0),
	[VB_MMIO_CONFIG_GENERATION / 4]		= REG(K_CONFIG_GENERATION, 0),
};

/* decode() result for an access to device config space (above every table entry). */
#define CONFIG_SPACE	0x100u

/*
 * Common check of every access: returns the register's table entry, CONFIG_SPACE, or 0 (K_NONE,
 * refused with -EINVAL) for a bad access.
 *
 * virtio 1.2, 4.2.2.2 "Driver Requirements: MMIO Device Register Layout": the driver MUST only
 * use 32 bit wide and aligned accesses for the control registers; 8, 16 and 32 bit wide,
 * aligned accesses in config space (64-bit fields as two 32-bit accesses); it MUST NOT access
 * locations not described in the table, write read-only or read write-only registers.
 */
/* @satisfy{VB-REQ-MMIO-002} @satisfy{VB-REQ-MMIO-003} */
static unsigned int decode(const struct vb_mmio *mmio, uint64_t off, unsigned int size)
{
	/* Bit n set: an n-byte access is allowed there. */
	unsigned int sizes = off >= VB_MMIO_CONFIG ? 0x16u : 0x10u;

	if (!mmio->dev || size > 4 || !((sizes >> size) & 1u) || (off & (size - 1u)))
		return K_NONE;
	if (off < VB_MMIO_CONFIG)
		return reg_table[off / 4];
	/* vb_dev_config_read/write check the end against the config length. */
	if (off - VB_MMIO_CONFIG > UINT32_MAX - 4u)
		return K_NONE;
	return CONFIG_SPACE;
}

/* v with its low (high == false) or high 32 bits replaced: the driver writes 64-bit values as
 * two 32-bit halves (virtio 1.2, 4.2.2: QueueDesc*, QueueDriver*, QueueDevice*, the feature
 * windows). */
static uint64_t set_half(uint64_t v, bool high, uint32_t val)
{
	uint32_t lo = (uint32_t)v, hi = (uint32_t)(v >> 32);

	if (high)
		hi = val;
	else
		lo = val;
	return (uint64_t)hi << 32 | lo;
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

/* @satisfy{VB-REQ-MMIO-014} @satisfy{VB-REQ-MMIO-015} */
VB_EXPORT const struct vb_transport_ops vb_mmio_transport_ops = {
	.version = VB_TRANSPORT_OPS_V1,
	.notify = mmio_notify,
	.config_changed = mmio_config_changed,
	/* No needs_reset hook: the core has already sent config_changed, and InterruptStatus
	 * shows it. */
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
	if (vb_dev_set_feature_mask(dev, VB_BIT(VB_VIRTIO_F_VERSION_1),
				    VB_BIT(VB_VIRTIO_F_SR_IOV) |
				    VB_BIT(VB_VIRTIO_F_NOTIF_CONFIG_DATA)) < 0)
		return -EINVAL;
	mmio->dev = dev;
	return 0;
}

VB_EXPORT uint32_t vb_mmio_interrupt_status(const struct vb_mmio *mmio)
{
	return __atomic_load_n(&mmio->interrupt_status, __ATOMIC_SEQ_CST);
}

/* The queue QueueSel names, or NULL if there is none (such a queue "is not available"). */
static struct vb_vq *sel_queue(const struct vb_mmio *mmio)
{
	uint32_t q = mmio->sel[SEL_QUEUE];

	return q < mmio->dev->num_queues ? &mmio->dev->vqs[q] : NULL;
}

/* A feature is negotiated once the device took FEATURES_OK with it accepted. */
static bool negotiated(const struct vb_mmio *mmio, unsigned int bit)
{
	return (mmio->dev->status & VB_VIRTIO_S_FEATURES_OK) &&
	       vb_dev_has_feature(mmio->dev, bit);
}

/*
 * Config fields of a VERSION_1 device are little-endian (virtio 1.2, 2.5 "Device
 * Configuration Space"): an access of size bytes moves the low size bytes of the value, which
 * are the first size bytes of its little-endian form on any host.
 * @satisfy{VB-REQ-MMIO-017}
 */
static int read_config(struct vb_mmio *mmio, uint32_t coff, unsigned int size, uint32_t *val)
{
	vb_le32 le = { 0 };
	int ret = vb_dev_config_read(mmio->dev, coff, &le, size);

	if (ret < 0)
		return ret;
	*val = vb_le32_to_cpu(le);
	return 0;
}

/* @satisfy{VB-REQ-MMIO-001} @satisfy{VB-REQ-MMIO-002} @satisfy{VB-REQ-MMIO-003}
 * @satisfy{VB-REQ-MMIO-004} @satisfy{VB-REQ-MMIO-005} @satisfy{VB-REQ-MMIO-008}
 * @satisfy{VB-REQ-MMIO-010} @satisfy{VB-REQ-MMIO-016} @satisfy{VB-REQ-MMIO-018}
 * @satisfy{VB-REQ-MMIO-019} @satisfy{VB-REQ-MMIO-020} */
VB_EXPORT int vb_mmio_read(struct vb_mmio *mmio, uint64_t off, unsigned int size, uint32_t *val)
{
	unsigned int reg = decode(mmio, off, size);
	const struct vb_vq *vq;
	uint64_t f;

	*val = 0;	/* also what every refused read returns */
	if (reg == CONFIG_SPACE)
		return read_config(mmio, (uint32_t)(off - VB_MMIO_CONFIG), size, val);
	switch (reg) {
	case K_MAGIC:
		*val = VB_MMIO_MAGIC;
		break;
	case K_VERSION:
		*val = 2;
		break;
	case K_DEVICE_ID:
		*val = mmio->dev->ops->device_id;
		break;
	case K_VENDOR_ID:
		*val = VB_MMIO_VENDOR;
		break;
	case K_DEVICE_FEATURES:
		/* Bits 32 * sel .. 32 * sel + 31; nothing is offered above bit 63. */
		f = vb_dev_get_features(mmio->dev);
		if (mmio->sel[SEL_DEVICE_FEATURES] == 0)
			*val = (uint32_t)f;
		else if (mmio->sel[SEL_DEVICE_FEATURES] == 1)
			*val = (uint32_t)(f >> 32);
		break;
	case K_QUEUE_NUM_MAX:
	case K_QUEUE_READY:
		/* virtio 1.2, 4.2.2: "zero (0x0) if the queue is not available". */
		vq = sel_queue(mmio);
		if (vq)
			*val = reg == K_QUEUE_READY ? (vq->flags & VBI_VQ_ENABLED) != 0 :
						      vq->num_max;
		break;
	case K_INTERRUPT_STATUS:
		*val = vb_mmio_interrupt_status(mmio);
		break;
	case K_STATUS:
		*val = mmio->dev->status;
		break;
	case K_SHM:
		/* virtio 1.2, 4.2.2: reading a non-existent region gives a length of -1; this
		 * device has no shared memory regions at all. */
		*val = UINT32_MAX;
		break;
	case K_QUEUE_RESET:
		if (!negotiated(mmio, VB_VIRTIO_F_RING_RESET))
			return -ENOTSUP;
		/* vb_dev_queue_reset() completes at once, so a reset is never in progress
		 * (virtio 1.2, 4.2.2.1: QueueReset shows 1 only while a reset is ongoing). */
		break;
	case K_CONFIG_GENERATION:
		*val = mmio->dev->config_generation;
		break;
	default:
		/* A bad access, no register, or a write-only one. */
		return -EINVAL;
	}
	return 0;
}

/*
 * DriverFeatures: merge the 32-bit half into the features recorded by the device (so a reset
 * from any side clears them) and hand the whole word to the core, which refuses the write
 * outside DRIVER..FEATURES_OK (-EPROTO) and records unoffered bits (-ENOTSUP) so that
 * FEATURES_OK is then refused: virtio 1.2, 3.1.1 "Driver Requirements: Device Initialization"
 * and 2.2.1 "Driver Requirements: Feature Bits". A window above bit 63 leaves the word as it
 * is, so the core only checks the state.
 * @satisfy{VB-REQ-MMIO-006} @satisfy{VB-REQ-MMIO-007}
 */
static int write_driver_features(struct vb_mmio *mmio, uint32_t val)
{
	uint32_t sel = mmio->sel[SEL_DRIVER_FEATURES];
	uint64_t f = mmio->dev->driver_features;
	int ret;

	if (sel < 2)
		f = set_half(f, sel != 0, val);
	ret = vb_dev_set_driver_features(mmio->dev, f);
	if (sel < 2 || ret == -EPROTO)
		return ret;
	if (val == 0)
		return 0;
	mmio->features_bogus = true;
	return -ENOTSUP;
}

/* @satisfy{VB-REQ-MMIO-007} @satisfy{VB-REQ-MMIO-008} @satisfy{VB-REQ-MMIO-009} */
static int write_status(struct vb_mmio *mmio, uint32_t val)
{
	int ret;

	/* virtio 1.2, 2.1 "Device Status Field": only the low 8 bits exist. */
	if (val > UINT8_MAX)
		return -EPROTO;
	if (val == 0) {
		/* virtio 1.2, 4.2.2.1 "Device Requirements: MMIO Device Register Layout": upon
		 * reset the device MUST clear all bits in InterruptStatus and the ready bits of
		 * all queues (vb_dev_set_status(0) disables the queues). */
		ret = vb_dev_set_status(mmio->dev, 0);
		memset(mmio->sel, 0, sizeof(mmio->sel));
		mmio->features_bogus = false;
		clear_irq(mmio, UINT32_MAX);
		return ret;
	}
	if (mmio->features_bogus && (val & VB_VIRTIO_S_FEATURES_OK) &&
	    !(mmio->dev->status & VB_VIRTIO_S_FEATURES_OK)) {
		/* Refuse FEATURES_OK as the core does for an unoffered bit: the other bits are
		 * taken, FEATURES_OK stays clear (virtio 1.2, 3.1.1 step 6). */
		ret = vb_dev_set_status(mmio->dev, (uint8_t)(val & ~VB_VIRTIO_S_FEATURES_OK));
		return ret < 0 ? ret : -ENOTSUP;
	}
	return vb_dev_set_status(mmio->dev, (uint8_t)val);
}

/*
 * QueueNum and the ring addresses of the selected queue, stored as
 * vb_dev_queue_set_config() would. @satisfy{VB-REQ-MMIO-011}
 */
static int write_queue_config(struct vb_mmio *mmio, unsigned int reg, uint32_t val)
{
	struct vb_vq *vq = sel_queue(mmio);
	unsigned int arg = reg >> KIND_BITS;
	uint64_t *addr;

	if (!vq)
		return -EINVAL;
	/* virtio 1.2, 4.2.2.2: when QueueReady is not zero, the driver MUST NOT access QueueNum
	 * and the ring address registers. */
	if (vq->flags & VBI_VQ_ENABLED)
		return -EPROTO;
	if ((reg & ((1u << KIND_BITS) - 1)) == K_QUEUE_NUM) {
		/* virtio 1.2, 4.2.2.2: QueueNum MUST be <= QueueNumMax (at most 32768, so a
		 * value above 16 bits is refused too); enabling checks the rest. */
		if (val > vq->num_max)
			return -EPROTO;
		vq->num_set = (uint16_t)val;
		return 0;
	}
	addr = arg < 2 ? &vq->desc_addr : arg < 4 ? &vq->driver_addr : &vq->device_addr;
	*addr = set_half(*addr, arg & ADDR_HIGH, val);
	return 0;
}

/* @satisfy{VB-REQ-MMIO-012} */
static int write_queue_ready(struct vb_mmio *mmio, uint32_t val)
{
	if (!sel_queue(mmio))
		return -EINVAL;
	if (val > 1)
		return -EPROTO;
	/* virtio 1.2, 3.1.1 "Driver Requirements: Device Initialization": queues are set up
	 * (step 7) after FEATURES_OK (steps 5-6); before it the ring layout is not known. */
	if (val && !(mmio->dev->status & VB_VIRTIO_S_FEATURES_OK))
		return -EPROTO;
	return vb_dev_queue_enable(mmio->dev, (uint16_t)mmio->sel[SEL_QUEUE], val != 0);
}

/* @satisfy{VB-REQ-MMIO-013} */
static int write_queue_notify(struct vb_mmio *mmio, uint32_t val)
{
	uint32_t idx = val;

	/* virtio 1.2, 4.2.3.3 "Available Buffer Notifications": the value is the queue index,
	 * or with VIRTIO_F_NOTIFICATION_DATA { vqn:16, next_off:15, next_wrap:1 }. */
	if (negotiated(mmio, VB_VIRTIO_F_NOTIFICATION_DATA))
		idx = val & UINT16_MAX;
	if (idx >= mmio->dev->num_queues)
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
	/* virtio 1.2, 4.2.2: QueueReset exists only if VIRTIO_F_RING_RESET was negotiated
	 * (never, when VB_CONFIG_RING_RESET is 0: the core does not offer it). */
	if (!VB_CONFIG_RING_RESET || !negotiated(mmio, VB_VIRTIO_F_RING_RESET))
		return -ENOTSUP;
	if (!sel_queue(mmio))
		return -EINVAL;
	/* virtio 1.2, 4.2.2.1: the device resets the queue when 1 is written. */
	if (val != 1)
		return -EPROTO;
#if VB_CONFIG_RING_RESET
	return vb_dev_queue_reset(mmio->dev, (uint16_t)mmio->sel[SEL_QUEUE]);
#else
	return -ENOTSUP;	/* not reached */
#endif
}

/* As read_config(); bits above the access size must be 0. @satisfy{VB-REQ-MMIO-017} */
static int write_config(struct vb_mmio *mmio, uint32_t coff, unsigned int size, uint32_t val)
{
	vb_le32 le = vb_cpu_to_le32(val);

	if (size < 4 && (val >> (8u * size)))
		return -EINVAL;
	return vb_dev_config_write(mmio->dev, coff, &le, size);
}

/* @satisfy{VB-REQ-MMIO-001} @satisfy{VB-REQ-MMIO-002} @satisfy{VB-REQ-MMIO-003} */
VB_EXPORT int vb_mmio_write(struct vb_mmio *mmio, uint64_t off, unsigned int size, uint32_t val)
{
	unsigned int reg = decode(mmio, off, size);

	if (reg == CONFIG_SPACE)
		return write_config(mmio, (uint32_t)(off - VB_MMIO_CONFIG), size, val);
	switch (reg & ((1u << KIND_BITS) - 1)) {
	case K_SEL:
		/* Any value: a queue that does not exist reads as not available, a feature
		 * window above bit 63 as 0, and there are no shared memory regions. */
		mmio->sel[reg >> KIND_BITS] = val;
		return 0;
	case K_DRIVER_FEATURES:
		return write_driver_features(mmio, val);
	case K_QUEUE_NUM:
	case K_QUEUE_ADDR:
		return write_queue_config(mmio, reg, val);
	case K_QUEUE_READY:
		return write_queue_ready(mmio, val);
	case K_QUEUE_NOTIFY:
		return write_queue_notify(mmio, val);
	case K_INTERRUPT_ACK:
		/* virtio 1.2, 4.2.2.2: the driver MUST NOT set undefined bits in InterruptACK. */
		if (val & ~INT_ALL)
			return -EPROTO;
		clear_irq(mmio, val);
		return 0;
	case K_STATUS:
		return write_status(mmio, val);
	case K_QUEUE_RESET:
		return write_queue_reset(mmio, val);
	default:
		/* A bad access, no register, or a read-only one. */
		return -EINVAL;
	}
}

#else /* !VB_CONFIG_MMIO */

/* ISO C wants a declaration in every translation unit; the register file is compiled out. */
typedef int vbi_mmio_disabled;

#endif
