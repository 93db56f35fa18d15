/* SPDX-License-Identifier: MIT */
/**
 * @file device.h
 * @brief The table a device model implements.   [device SDK]
 *
 * A device model never sees the transport: it implements these hooks and uses vq.h and
 * chain.h on the queues it is handed. The table is versioned: `version` comes first and new
 * members are only appended; the core calls an optional member only if the table's version
 * has it and it is non-NULL (VB_OPS_HAS).
 */
#ifndef VIRTIO_BACKEND_DEVICE_H
#define VIRTIO_BACKEND_DEVICE_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

struct vb_dev;
struct vb_vq;

/** @brief First version of struct vb_device_ops. */
#define VB_DEVICE_OPS_V1 1u

/** @brief True if an ops table of version @p ver or later has a non-NULL @p member. */
#define VB_OPS_HAS(ops, ver, member) ((ops)->version >= (ver) && (ops)->member != NULL)

/** @brief A device model. */
struct vb_device_ops {
	uint32_t version;	/**< VB_DEVICE_OPS_V1 */
	uint32_t device_id;	/**< VB_VIRTIO_ID_* */
	uint64_t features;	/**< device feature bits offered (ring bits included) */
	uint16_t num_queues;	/**< queues the device has */
	uint16_t queue_num_max;	/**< largest queue size it accepts (<= 32768) */
	uint32_t config_len;	/**< bytes of device config space */

	/**
	 * Read config space; [off, off + len) is within config_len (checked by the core).
	 * Return 0 or a negative errno. Required.
	 */
	int  (*config_read)(struct vb_dev *dev, uint32_t off, void *buf, uint32_t len);
	/** Write config space (may be NULL: read-only config). Return 0 or a negative errno. */
	int  (*config_write)(struct vb_dev *dev, uint32_t off, const void *buf, uint32_t len);
	/** DRIVER_OK: features are final; may be NULL. Return 0 or a negative errno (the
	 *  device then shows NEEDS_RESET). */
	int  (*activate)(struct vb_dev *dev, uint64_t features);
	/** The driver kicked @p vq: pop, handle, push, notify. Required. */
	void (*kick)(struct vb_dev *dev, struct vb_vq *vq);
	/** The device is being reset: drop all requests in flight. May be NULL. */
	void (*reset)(struct vb_dev *dev);
	/** One queue is being reset (RING_RESET). May be NULL. */
	void (*queue_reset)(struct vb_dev *dev, struct vb_vq *vq);
};

#ifdef __cplusplus
}
#endif

#endif /* VIRTIO_BACKEND_DEVICE_H */
