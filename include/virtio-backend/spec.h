/* SPDX-License-Identifier: MIT */
/**
 * @file spec.h
 * @brief Wire formats and constants from the virtio 1.2 specification (no code).
 *
 * Names follow the spec with a VB_ prefix so that a transport may include Linux's
 * <linux/virtio_*.h> beside this header. Feature macros are bit numbers; build masks with
 * VB_BIT().
 */
#ifndef VIRTIO_BACKEND_SPEC_H
#define VIRTIO_BACKEND_SPEC_H

#include <stdint.h>
#include "endian.h"

#ifdef __cplusplus
extern "C" {
#endif

/** @brief A 64-bit mask with bit @p n set (feature words are always 64-bit). */
#define VB_BIT(n) (UINT64_C(1) << (n))

/* virtio 1.2, 5 "Device Types" */
#define VB_VIRTIO_ID_NET	1u
#define VB_VIRTIO_ID_BLOCK	2u
#define VB_VIRTIO_ID_CONSOLE	3u
#define VB_VIRTIO_ID_RNG	4u
#define VB_VIRTIO_ID_INPUT	18u
#define VB_VIRTIO_ID_VSOCK	19u
#define VB_VIRTIO_ID_I2C	34u
#define VB_VIRTIO_ID_GPIO	41u

/* virtio 1.2, 2.1 "Device Status Field" */
#define VB_VIRTIO_S_ACKNOWLEDGE	1u
#define VB_VIRTIO_S_DRIVER	2u
#define VB_VIRTIO_S_DRIVER_OK	4u
#define VB_VIRTIO_S_FEATURES_OK	8u
#define VB_VIRTIO_S_NEEDS_RESET	64u
#define VB_VIRTIO_S_FAILED	128u

/* virtio 1.2, 6 "Reserved Feature Bits" (bit numbers) */
#define VB_VIRTIO_F_INDIRECT_DESC	28
#define VB_VIRTIO_F_EVENT_IDX		29
#define VB_VIRTIO_F_VERSION_1		32
#define VB_VIRTIO_F_ACCESS_PLATFORM	33
#define VB_VIRTIO_F_RING_PACKED		34
#define VB_VIRTIO_F_IN_ORDER		35
#define VB_VIRTIO_F_ORDER_PLATFORM	36
#define VB_VIRTIO_F_SR_IOV		37
#define VB_VIRTIO_F_NOTIFICATION_DATA	38
#define VB_VIRTIO_F_NOTIF_CONFIG_DATA	39
#define VB_VIRTIO_F_RING_RESET		40

/* virtio 1.2, 2.7.5 "The Virtqueue Descriptor Table" */
#define VB_VRING_DESC_F_NEXT		1u
#define VB_VRING_DESC_F_WRITE		2u
#define VB_VRING_DESC_F_INDIRECT	4u
/* virtio 1.2, 2.8.1 "Driver and Device Ring Wrap Counters" (packed ring flags) */
#define VB_VRING_PACKED_DESC_F_AVAIL	7
#define VB_VRING_PACKED_DESC_F_USED	15

/* virtio 1.2, 2.7.6/2.7.8: split ring suppression flags */
#define VB_VRING_AVAIL_F_NO_INTERRUPT	1u
#define VB_VRING_USED_F_NO_NOTIFY	1u

/* virtio 1.2, 2.8.10 "Event Suppression Structure Format" */
#define VB_VRING_PACKED_EVENT_FLAG_ENABLE	0u
#define VB_VRING_PACKED_EVENT_FLAG_DISABLE	1u
#define VB_VRING_PACKED_EVENT_FLAG_DESC		2u
#define VB_VRING_PACKED_EVENT_F_WRAP_CTR	15

/** @brief Largest queue size the spec allows (virtio 1.2, 2.7 and 2.8). */
#define VB_VQ_MAX_SIZE	32768u

/** @brief Split ring descriptor (virtio 1.2, 2.7.5). */
struct vb_vring_desc {
	vb_le64	addr;
	vb_le32	len;
	vb_le16	flags;
	vb_le16	next;
};

/**
 * @brief Split ring driver area header (virtio 1.2, 2.7.6).
 * In guest memory it is followed by `vb_le16 ring[num]` and `vb_le16 used_event`.
 */
struct vb_vring_avail {
	vb_le16	flags;
	vb_le16	idx;
};

/** @brief One used ring element (virtio 1.2, 2.7.8). */
struct vb_vring_used_elem {
	vb_le32	id;
	vb_le32	len;
};

/**
 * @brief Split ring device area header (virtio 1.2, 2.7.8).
 * In guest memory it is followed by `struct vb_vring_used_elem ring[num]` and
 * `vb_le16 avail_event`.
 */
struct vb_vring_used {
	vb_le16	flags;
	vb_le16	idx;
};

/** @brief Packed ring descriptor (virtio 1.2, 2.8.13). */
struct vb_vring_packed_desc {
	vb_le64	addr;
	vb_le32	len;
	vb_le16	id;
	vb_le16	flags;
};

/** @brief Packed ring event suppression structure (virtio 1.2, 2.8.10). */
struct vb_vring_packed_event {
	vb_le16	off_wrap;
	vb_le16	flags;
};

#if defined(__cplusplus)
static_assert(sizeof(struct vb_vring_desc) == 16, "split descriptor is 16 bytes");
static_assert(sizeof(struct vb_vring_packed_desc) == 16, "packed descriptor is 16 bytes");
static_assert(sizeof(struct vb_vring_used_elem) == 8, "used element is 8 bytes");
#else
_Static_assert(sizeof(struct vb_vring_desc) == 16, "split descriptor is 16 bytes");
_Static_assert(sizeof(struct vb_vring_packed_desc) == 16, "packed descriptor is 16 bytes");
_Static_assert(sizeof(struct vb_vring_used_elem) == 8, "used element is 8 bytes");
#endif

/* virtio 1.2, 4.2.2 "MMIO Device Register Layout" (version 2) */
#define VB_MMIO_MAGIC_VALUE		0x000u	/* "virt" */
#define VB_MMIO_VERSION			0x004u
#define VB_MMIO_DEVICE_ID		0x008u
#define VB_MMIO_VENDOR_ID		0x00cu
#define VB_MMIO_DEVICE_FEATURES		0x010u
#define VB_MMIO_DEVICE_FEATURES_SEL	0x014u
#define VB_MMIO_DRIVER_FEATURES		0x020u
#define VB_MMIO_DRIVER_FEATURES_SEL	0x024u
#define VB_MMIO_QUEUE_SEL		0x030u
#define VB_MMIO_QUEUE_NUM_MAX		0x034u
#define VB_MMIO_QUEUE_NUM		0x038u
#define VB_MMIO_QUEUE_READY		0x044u
#define VB_MMIO_QUEUE_NOTIFY		0x050u
#define VB_MMIO_INTERRUPT_STATUS	0x060u
#define VB_MMIO_INTERRUPT_ACK		0x064u
#define VB_MMIO_STATUS			0x070u
#define VB_MMIO_QUEUE_DESC_LOW		0x080u
#define VB_MMIO_QUEUE_DESC_HIGH		0x084u
#define VB_MMIO_QUEUE_DRIVER_LOW	0x090u
#define VB_MMIO_QUEUE_DRIVER_HIGH	0x094u
#define VB_MMIO_QUEUE_DEVICE_LOW	0x0a0u
#define VB_MMIO_QUEUE_DEVICE_HIGH	0x0a4u
#define VB_MMIO_SHM_SEL			0x0acu
#define VB_MMIO_SHM_LEN_LOW		0x0b0u
#define VB_MMIO_SHM_LEN_HIGH		0x0b4u
#define VB_MMIO_SHM_BASE_LOW		0x0b8u
#define VB_MMIO_SHM_BASE_HIGH		0x0bcu
#define VB_MMIO_QUEUE_RESET		0x0c0u
#define VB_MMIO_CONFIG_GENERATION	0x0fcu
#define VB_MMIO_CONFIG			0x100u

#define VB_MMIO_MAGIC			0x74726976u	/* little-endian "virt" */
#define VB_MMIO_INT_VRING		1u	/* InterruptStatus: used buffer notification */
#define VB_MMIO_INT_CONFIG		2u	/* InterruptStatus: configuration change */

#ifdef __cplusplus
}
#endif

#endif /* VIRTIO_BACKEND_SPEC_H */
