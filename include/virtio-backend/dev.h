/* SPDX-License-Identifier: MIT */
/**
 * @file dev.h
 * @brief A virtio device: features, status, config space, queues, reset.  [transport SDK]
 *
 * The transport creates one struct vb_dev per device in caller storage, binds it to a device
 * model (device.h) and to its own interrupt hooks (transport.h), and then drives it with the
 * setters below as the driver's requests arrive. State machine per virtio 1.2, 2.1 "Device
 * Status Field" and 3.1 "Device Initialization".
 *
 * Features offered = (device features | forced) & ~forbidden, where the transport sets forced
 * and forbidden bits (vb_dev_set_feature_mask()) for what it can or must do.
 */
#ifndef VIRTIO_BACKEND_DEV_H
#define VIRTIO_BACKEND_DEV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "device.h"
#include "mem.h"
#include "transport.h"

#ifdef __cplusplus
extern "C" {
#endif

struct vb_dev;
struct vb_vq;

/**
 * @brief Bytes of storage a device with @p num_queues queues needs.
 * Context: any. @satisfy{VB-REQ-DEV-001}
 */
size_t vb_dev_size(uint16_t num_queues);

/**
 * @brief Upper bound of vb_dev_size() for static allocation; may only grow at a major version.
 */
#define VB_DEV_STORAGE_MAX(num_queues) (256u + 192u * (size_t)(num_queues))

/**
 * @brief Build a device in caller storage.
 * @param storage      at least vb_dev_size(ops->num_queues) bytes, 8-byte aligned
 * @param storage_len  bytes at @p storage
 * @param ops          the device model (kept by reference; version VB_DEVICE_OPS_V1 or later)
 * @param priv         the device model's context, returned by vb_dev_priv()
 * @param tops         the transport's hooks (kept by reference)
 * @param transport    the transport's context, passed to @p tops
 * @param mem          the guest memory map (kept by reference; may be filled later)
 * @param out          receives the device
 * @return 0; -EINVAL for a NULL or misaligned argument, an ops version of 0, no queues, a
 *         queue_num_max of 0 or above 32768, or missing required hooks; -ENOSPC if
 *         @p storage_len is too small.
 * Context: control path; no allocation. @satisfy{VB-REQ-DEV-001}
 */
int vb_dev_init(void *storage, size_t storage_len, const struct vb_device_ops *ops, void *priv,
		const struct vb_transport_ops *tops, void *transport, const struct vb_mem *mem,
		struct vb_dev **out);

/** @brief The device model's context given to vb_dev_init(). Context: any. */
void *vb_dev_priv(const struct vb_dev *dev);

/** @brief The device model of @p dev. Context: any. */
const struct vb_device_ops *vb_dev_ops(const struct vb_dev *dev);

/** @brief The guest memory map of @p dev. Context: any. */
const struct vb_mem *vb_dev_mem(const struct vb_dev *dev);

/**
 * @brief Set the transport's feature mask: @p forced bits are always offered, @p forbidden
 * bits never (forbidden wins).
 * @return 0, or -EBUSY once the driver has set FEATURES_OK.
 * Context: control path. @satisfy{VB-REQ-DEV-002}
 */
int vb_dev_set_feature_mask(struct vb_dev *dev, uint64_t forced, uint64_t forbidden);

/** @brief Feature bits offered to the driver. Context: any. @satisfy{VB-REQ-DEV-002} */
uint64_t vb_dev_get_features(const struct vb_dev *dev);

/**
 * @brief The driver writes its accepted features.
 * @return 0; -EPROTO if DRIVER is not set or FEATURES_OK is already set (the write is
 *         ignored); -ENOTSUP if @p features has a bit that was not offered (recorded anyway;
 *         FEATURES_OK will then be refused).
 * Context: control path. @satisfy{VB-REQ-DEV-003}
 */
int vb_dev_set_driver_features(struct vb_dev *dev, uint64_t features);

/** @brief Features the driver accepted (final once FEATURES_OK is set). Context: any. */
uint64_t vb_dev_get_driver_features(const struct vb_dev *dev);

/** @brief True if feature bit @p bit was negotiated. Context: any. */
bool vb_dev_has_feature(const struct vb_dev *dev, unsigned int bit);

/**
 * @brief The driver writes the status register.
 *
 * 0 resets the device. Otherwise the driver may only add bits, in order: ACKNOWLEDGE, DRIVER,
 * FEATURES_OK (refused, i.e. not set, if the accepted features are not a subset of those
 * offered or VERSION_1 is offered but not accepted), DRIVER_OK (activates the device model;
 * queues that are set up become live). FAILED may be set at any time.
 * @return 0 if the new status was taken whole; -EPROTO if the write clears a bit or skips a
 *         step (the status is left unchanged); -ENOTSUP if FEATURES_OK was refused (the other
 *         bits were taken); if DRIVER_OK was taken but activation failed, the errno of the
 *         first queue whose rings no longer fit the negotiated layout or memory (-EPROTO,
 *         -EFAULT, -EOVERFLOW) or of the device model's activate hook; DRIVER_OK is then
 *         set together with NEEDS_RESET, which tells this case from a refused write
 *         (vb_dev_get_status()).
 * Context: control path. @satisfy{VB-REQ-DEV-004} @satisfy{VB-REQ-DEV-005}
 */
int vb_dev_set_status(struct vb_dev *dev, uint8_t status);

/** @brief The status register as the driver reads it. Context: any. */
uint8_t vb_dev_get_status(const struct vb_dev *dev);

/**
 * @brief Reset the device: status 0, features cleared, every queue disabled and its position
 * zeroed, the device model's reset hook called, sticky errors cleared.
 * Context: control path. @satisfy{VB-REQ-DEV-006}
 */
void vb_dev_reset(struct vb_dev *dev);

/**
 * @brief The device model (or the core) reports that the device needs a reset: sets
 * NEEDS_RESET and, if DRIVER_OK is set, sends a configuration change notification.
 * Context: any (data path included). @satisfy{VB-REQ-DEV-007}
 */
void vb_dev_set_needs_reset(struct vb_dev *dev);

/**
 * @brief Read device config space.
 * @return 0; -EINVAL if [off, off + len) is not inside config space or @p len is 0; the
 *         device model's errno otherwise.
 * Context: control path. @satisfy{VB-REQ-DEV-008}
 */
int vb_dev_config_read(struct vb_dev *dev, uint32_t off, void *buf, uint32_t len);

/**
 * @brief Write device config space.
 * @return 0; -EINVAL if out of range or @p len is 0; -ENOTSUP if the model has no writable
 *         config; the device model's errno otherwise.
 * Context: control path. @satisfy{VB-REQ-DEV-008}
 */
int vb_dev_config_write(struct vb_dev *dev, uint32_t off, const void *buf, uint32_t len);

/** @brief The config generation counter (virtio 1.2, 2.5.1). Context: any. */
uint32_t vb_dev_config_generation(const struct vb_dev *dev);

/**
 * @brief The device model changed its config space: bump the generation and, once the
 * driver has set DRIVER_OK, send a configuration change notification.
 * @return 0 or the transport's negative errno.
 * Context: any. @satisfy{VB-REQ-DEV-009}
 */
int vb_dev_config_changed(struct vb_dev *dev);

/** @brief Number of queues. Context: any. */
uint16_t vb_dev_num_queues(const struct vb_dev *dev);

/** @brief Queue @p qidx, or NULL if out of range. Context: any. */
struct vb_vq *vb_dev_queue(struct vb_dev *dev, uint16_t qidx);

/** @brief A queue's configuration as the driver set it. */
struct vb_queue_config {
	uint16_t num;		/**< queue size; 0 = not set */
	uint16_t num_max;	/**< largest size accepted (read-only) */
	bool	 enabled;	/**< QueueReady / vring enabled */
	uint64_t desc;		/**< descriptor area (ring address space) */
	uint64_t driver;	/**< driver area (split: avail ring) */
	uint64_t device;	/**< device area (split: used ring) */
};

/**
 * @brief Read queue @p qidx's configuration.
 * @return 0, or -EINVAL if @p qidx is out of range.
 * Context: control path.
 */
int vb_dev_queue_get_config(const struct vb_dev *dev, uint16_t qidx, struct vb_queue_config *cfg);

/**
 * @brief Set queue size and ring addresses of a disabled queue (num_max and enabled ignored).
 * @return 0; -EINVAL if @p qidx is out of range; -EBUSY if the queue is enabled; -EPROTO if
 *         num is above num_max, or not a power of two for a split ring (checked at enable
 *         when the ring layout is not yet negotiated).
 * Context: control path. @satisfy{VB-REQ-DEV-010}
 */
int vb_dev_queue_set_config(struct vb_dev *dev, uint16_t qidx, const struct vb_queue_config *cfg);

/**
 * @brief Enable or disable a queue.
 *
 * Enabling checks the size (non-zero, <= num_max, a power of two for split rings) and the
 * ring alignment (virtio 1.2, 2.7 and 2.8 "Virtqueue ... Alignment"), translates the three
 * areas through the memory map and, once DRIVER_OK is set, makes the queue live with the
 * negotiated ring features. Disabling stops the queue and keeps its position.
 * @return 0; -EINVAL (bad index); -EPROTO (bad size or alignment); -EFAULT, -EOVERFLOW (a ring
 *         area outside guest memory): the queue stays disabled.
 * Context: control path. @satisfy{VB-REQ-DEV-010} @satisfy{VB-REQ-DEV-011}
 */
int vb_dev_queue_enable(struct vb_dev *dev, uint16_t qidx, bool enable);

/**
 * @brief Reset one queue (VIRTIO_F_RING_RESET): disable it, forget its configuration and
 * position, clear its error, and call the model's queue_reset hook.
 * @return 0, or -EINVAL if @p qidx is out of range.
 * Context: control path. @satisfy{VB-REQ-DEV-012}
 */
int vb_dev_queue_reset(struct vb_dev *dev, uint16_t qidx);

/**
 * @brief Re-translate every enabled queue's rings after the memory map changed; a queue whose
 * rings no longer map is marked broken (NEEDS_RESET).
 * @return 0, or the first translation error.
 * Context: control path, queues stopped. @satisfy{VB-REQ-DEV-013}
 */
int vb_dev_remap(struct vb_dev *dev);

/**
 * @brief The driver kicked queue @p qidx: call the device model's kick hook if the queue is
 * live.
 * @return 0; -EINVAL if @p qidx is out of range; -EAGAIN if the queue is not live (ignored);
 *         -ENOTRECOVERABLE if the queue is broken.
 * Context: data path. @satisfy{VB-REQ-DEV-014}
 */
int vb_dev_kick(struct vb_dev *dev, uint16_t qidx);

#ifdef __cplusplus
}
#endif

#endif /* VIRTIO_BACKEND_DEV_H */
