/* SPDX-License-Identifier: MIT */
/*
 * Device state: feature negotiation, the status state machine, config space, queue setup and
 * reset (virtio 1.2, 2.1 "Device Status Field", 2.2 "Feature Bits", 2.5 "Device Configuration
 * Space", 3.1 "Device Initialization"). Freestanding; storage comes from the caller.
 */
#include <string.h>

#include "vq-internal.h"
#include "virtio-backend/error.h"
#include "internal/check.h"

#define STATUS_INIT_BITS (VB_VIRTIO_S_ACKNOWLEDGE | VB_VIRTIO_S_DRIVER | \
			  VB_VIRTIO_S_FEATURES_OK | VB_VIRTIO_S_DRIVER_OK)

/* Forget a queue's configuration, position and error (device or queue reset). */
static void queue_clear(const struct vb_dev *dev, struct vb_vq *vq)
{
	vbi_vq_clear(vq);
	vq->num_max = dev->ops->queue_num_max;
}

VB_EXPORT size_t vb_dev_size(uint16_t num_queues)
{
	return sizeof(struct vb_dev) + (size_t)num_queues * sizeof(struct vb_vq);
}

VB_EXPORT int vb_dev_init(void *storage, size_t storage_len, const struct vb_device_ops *ops,
			  void *priv, const struct vb_transport_ops *tops, void *transport,
			  const struct vb_mem *mem, struct vb_dev **out)
{
	struct vb_dev *dev = storage;

	if (!storage || ((uintptr_t)storage & 7u) || !ops || !tops || !mem || !out)
		return -EINVAL;
	if (ops->version < VB_DEVICE_OPS_V1 || ops->num_queues == 0 || ops->queue_num_max == 0 ||
	    ops->queue_num_max > VB_VQ_MAX_SIZE || !ops->config_read || !ops->kick)
		return -EINVAL;
	if (tops->version < VB_TRANSPORT_OPS_V1 || !tops->notify || !tops->config_changed)
		return -EINVAL;
	if (storage_len < vb_dev_size(ops->num_queues))
		return -ENOSPC;
	memset(dev, 0, vb_dev_size(ops->num_queues));
	dev->ops = ops;
	dev->priv = priv;
	dev->tops = tops;
	dev->transport = transport;
	dev->mem = mem;
	dev->num_queues = ops->num_queues;
	for (unsigned int i = 0; i < dev->num_queues; i++) {
		struct vb_vq *vq = &dev->vqs[i];

		queue_clear(dev, vq);
		vq->dev = dev;
		vq->mem = mem;
		vq->index = (uint16_t)i;
	}
	*out = dev;
	return 0;
}

VB_EXPORT void *vb_dev_priv(const struct vb_dev *dev)
{
	return dev->priv;
}

VB_EXPORT const struct vb_device_ops *vb_dev_ops(const struct vb_dev *dev)
{
	return dev->ops;
}

VB_EXPORT const struct vb_mem *vb_dev_mem(const struct vb_dev *dev)
{
	return dev->mem;
}

VB_EXPORT int vb_dev_set_feature_mask(struct vb_dev *dev, uint64_t forced, uint64_t forbidden)
{
	if (dev->status & VB_VIRTIO_S_FEATURES_OK)
		return -EBUSY;
	dev->forced = forced;
	dev->forbidden = forbidden;
	return 0;
}

static uint64_t offered_features(const struct vb_dev *dev)
{
	uint64_t f = (dev->ops->features | dev->forced) & ~dev->forbidden;

#if !VB_CONFIG_PACKED
	/* This build has no packed ring: never offer it whatever the model says. */
	f &= ~VB_BIT(VB_VIRTIO_F_RING_PACKED);
#endif
#if !VB_CONFIG_RING_RESET
	/* Nor per-queue reset. */
	f &= ~VB_BIT(VB_VIRTIO_F_RING_RESET);
#endif
	return f;
}

VB_EXPORT uint64_t vb_dev_get_features(const struct vb_dev *dev)
{
	return offered_features(dev);
}

VB_EXPORT int vb_dev_set_driver_features(struct vb_dev *dev, uint64_t features)
{
	/* virtio 1.2, 3.1.1 "Driver Requirements: Device Initialization": features are written
	 * after DRIVER and before FEATURES_OK, and are final after it. */
	if (!(dev->status & VB_VIRTIO_S_DRIVER) || (dev->status & VB_VIRTIO_S_FEATURES_OK))
		return -EPROTO;
	dev->driver_features = features;
	return (features & ~offered_features(dev)) ? -ENOTSUP : 0;
}

VB_EXPORT uint64_t vb_dev_get_driver_features(const struct vb_dev *dev)
{
	return dev->driver_features;
}

VB_EXPORT bool vb_dev_has_feature(const struct vb_dev *dev, unsigned int bit)
{
	/* One 32-bit half and a 32-bit shift: cheaper than a 64-bit shift on 32-bit cores. */
	return bit < 64 &&
	       (((uint32_t)(bit < 32 ? dev->driver_features : dev->driver_features >> 32) >>
		 (bit & 31)) & 1u);
}

/* virtio 1.2, 2.2.1 "Driver Requirements: Feature Bits" and 6.1 "Driver Requirements:
 * Reserved Feature Bits": only offered bits may be accepted, and a device offering
 * VERSION_1 may refuse a driver that does not accept it. */
static bool features_acceptable(const struct vb_dev *dev)
{
	uint64_t offered = offered_features(dev);

	if (dev->driver_features & ~offered)
		return false;
	if ((offered & VB_BIT(VB_VIRTIO_F_VERSION_1)) &&
	    !(dev->driver_features & VB_BIT(VB_VIRTIO_F_VERSION_1)))
		return false;
	return true;
}

static int activate(struct vb_dev *dev)
{
	int ret = 0;

	for (unsigned int i = 0; i < dev->num_queues; i++) {
		struct vb_vq *vq = &dev->vqs[i];

		if (!(vq->flags & VBI_VQ_ENABLED) || (vq->flags & VBI_VQ_LIVE))
			continue;
		ret = vbi_vq_start(vq, dev->driver_features);
		if (ret < 0) {
			vbi_vq_fail(vq, ret, "queue rings do not map at DRIVER_OK");
			break;
		}
	}
	if (ret == 0 && dev->ops->activate)
		ret = dev->ops->activate(dev, dev->driver_features);
	if (ret < 0) {
		/* The model is not active: stop every queue so that no kick reaches it. */
		for (unsigned int i = 0; i < dev->num_queues; i++)
			vbi_vq_stop(&dev->vqs[i]);
		vb_dev_set_needs_reset(dev);
	}
	return ret;
}

VB_EXPORT int vb_dev_set_status(struct vb_dev *dev, uint8_t status)
{
	uint8_t old = dev->status;
	uint8_t added = (uint8_t)(status & ~old);
	unsigned int need = 0;
	int ret = 0;

	if (status == 0) {
		vb_dev_reset(dev);
		return 0;
	}
	/* virtio 1.2, 2.1.1 "Driver Requirements: Device Status Field": the driver must not
	 * clear a status bit. NEEDS_RESET is the device's bit: the driver echoing it is fine,
	 * and it cannot set it. */
	if ((old & ~status & (uint8_t)~VB_VIRTIO_S_NEEDS_RESET) != 0)
		return -EPROTO;
	added &= (uint8_t)~VB_VIRTIO_S_NEEDS_RESET;
	/* virtio 1.2, 3.1.1: each step needs the previous one in the new status (bits are
	 * never cleared, so that holds the old ones): DRIVER needs ACKNOWLEDGE, FEATURES_OK
	 * needs DRIVER, DRIVER_OK needs FEATURES_OK. */
	if (added & VB_VIRTIO_S_DRIVER)
		need |= VB_VIRTIO_S_ACKNOWLEDGE;
	if (added & VB_VIRTIO_S_FEATURES_OK)
		need |= VB_VIRTIO_S_DRIVER;
	if (added & VB_VIRTIO_S_DRIVER_OK)
		need |= VB_VIRTIO_S_FEATURES_OK;
	if (need & ~status)
		return -EPROTO;
	/* virtio 1.2, 2.2.2 "Device Requirements: Feature Bits": the device must not set
	 * FEATURES_OK for features it cannot accept; the driver reads the status back. */
	if ((added & VB_VIRTIO_S_FEATURES_OK) && !features_acceptable(dev)) {
		added &= (uint8_t)~(VB_VIRTIO_S_FEATURES_OK | VB_VIRTIO_S_DRIVER_OK);
		ret = -ENOTSUP;
	}
	dev->status = (uint8_t)(old | added);
	if (added & VB_VIRTIO_S_DRIVER_OK) {
		int aret = activate(dev);

		if (aret < 0)
			return aret;
	}
	return ret;
}

VB_EXPORT uint8_t vb_dev_get_status(const struct vb_dev *dev)
{
	return dev->status;
}

VB_EXPORT void vb_dev_reset(struct vb_dev *dev)
{
	for (unsigned int i = 0; i < dev->num_queues; i++)
		queue_clear(dev, &dev->vqs[i]);
	if (dev->ops->reset)
		dev->ops->reset(dev);
	dev->status = 0;
	dev->driver_features = 0;
}

VB_EXPORT void vb_dev_set_needs_reset(struct vb_dev *dev)
{
	if (dev->status & VB_VIRTIO_S_NEEDS_RESET)
		return;
	dev->status |= VB_VIRTIO_S_NEEDS_RESET;
	/* virtio 1.2, 2.1.2 "Device Requirements: Device Status Field": after DRIVER_OK the
	 * device must send a configuration change notification when it sets NEEDS_RESET. */
	if (dev->status & VB_VIRTIO_S_DRIVER_OK)
		dev->tops->config_changed(dev->transport);
	if (VB_OPS_HAS(dev->tops, VB_TRANSPORT_OPS_V1, needs_reset))
		dev->tops->needs_reset(dev->transport);
}

static bool config_range_ok(const struct vb_dev *dev, uint32_t off, uint32_t len)
{
	return len != 0 && off <= dev->ops->config_len && len <= dev->ops->config_len - off;
}

VB_EXPORT int vb_dev_config_read(struct vb_dev *dev, uint32_t off, void *buf, uint32_t len)
{
	if (!config_range_ok(dev, off, len))
		return -EINVAL;
	return dev->ops->config_read(dev, off, buf, len);
}

VB_EXPORT int vb_dev_config_write(struct vb_dev *dev, uint32_t off, const void *buf,
				  uint32_t len)
{
	if (!config_range_ok(dev, off, len))
		return -EINVAL;
	if (!dev->ops->config_write)
		return -ENOTSUP;
	return dev->ops->config_write(dev, off, buf, len);
}

VB_EXPORT uint32_t vb_dev_config_generation(const struct vb_dev *dev)
{
	return dev->config_generation;
}

VB_EXPORT int vb_dev_config_changed(struct vb_dev *dev)
{
	dev->config_generation++;
	if (!(dev->status & VB_VIRTIO_S_DRIVER_OK))
		return 0;
	return dev->tops->config_changed(dev->transport);
}

VB_EXPORT uint16_t vb_dev_num_queues(const struct vb_dev *dev)
{
	return dev->num_queues;
}

VB_EXPORT struct vb_vq *vb_dev_queue(struct vb_dev *dev, uint16_t qidx)
{
	return qidx < dev->num_queues ? &dev->vqs[qidx] : NULL;
}

VB_EXPORT int vb_dev_queue_get_config(const struct vb_dev *dev, uint16_t qidx,
				      struct vb_queue_config *cfg)
{
	const struct vb_vq *vq;

	if (qidx >= dev->num_queues)
		return -EINVAL;
	vq = &dev->vqs[qidx];
	cfg->num = vq->num_set;
	cfg->num_max = vq->num_max;
	cfg->enabled = (vq->flags & VBI_VQ_ENABLED) != 0;
	cfg->desc = vq->desc_addr;
	cfg->driver = vq->driver_addr;
	cfg->device = vq->device_addr;
	return 0;
}

VB_EXPORT int vb_dev_queue_set_config(struct vb_dev *dev, uint16_t qidx,
				      const struct vb_queue_config *cfg)
{
	struct vb_vq *vq;

	if (qidx >= dev->num_queues)
		return -EINVAL;
	vq = &dev->vqs[qidx];
	if (vq->flags & VBI_VQ_ENABLED)
		return -EBUSY;
	if (cfg->num > vq->num_max)
		return -EPROTO;
	vq->num_set = cfg->num;
	vq->desc_addr = cfg->desc;
	vq->driver_addr = cfg->driver;
	vq->device_addr = cfg->device;
	return 0;
}

VB_EXPORT int vb_dev_queue_enable(struct vb_dev *dev, uint16_t qidx, bool enable)
{
	/* Ring layout is known once features are; before FEATURES_OK it is split. */
	const uint64_t f = (dev->status & VB_VIRTIO_S_FEATURES_OK) ? dev->driver_features : 0;
	struct vb_vq *vq;
	uint16_t num;
	int ret = 0;

	if (qidx >= dev->num_queues)
		return -EINVAL;
	vq = &dev->vqs[qidx];
	if (!enable) {
		vbi_vq_stop(vq);
		vq->flags &= (uint16_t)~VBI_VQ_ENABLED;
		return 0;
	}
	num = vq->num_set;
	/* virtio 1.2, 2.7 "Split Virtqueues": the queue size is a power of 2 (packed rings,
	 * 2.8, allow any size up to 32768). */
	if (num == 0 || num > vq->num_max ||
	    (!(f & VB_BIT(VB_VIRTIO_F_RING_PACKED)) && (num & (num - 1)) != 0))
		ret = -EPROTO;
	else if (!(vq->flags & VBI_VQ_LIVE)) {
		/* dev.h: enabling checks the alignment and that the rings map now, so a bad
		 * address fails here and the queue stays disabled. Before DRIVER_OK (features,
		 * if any, are final after FEATURES_OK) the queue goes live only at DRIVER_OK
		 * (activate()), which maps the rings again in case the memory map changed. */
		ret = vbi_vq_start(vq, f);
		if (!(dev->status & VB_VIRTIO_S_DRIVER_OK))
			vbi_vq_stop(vq);
	}
	/* A refused enable leaves the queue disabled, even if it was enabled before: the
	 * driver reads back QueueReady and must not see a queue the device refused. */
	if (ret == 0) {
		vq->flags |= VBI_VQ_ENABLED;
	} else {
		vbi_vq_stop(vq);
		vq->flags &= (uint16_t)~VBI_VQ_ENABLED;
	}
	return ret;
}

#if VB_CONFIG_RING_RESET
VB_EXPORT int vb_dev_queue_reset(struct vb_dev *dev, uint16_t qidx)
{
	struct vb_vq *vq;

	if (qidx >= dev->num_queues)
		return -EINVAL;
	vq = &dev->vqs[qidx];
	queue_clear(dev, vq);
	if (VB_OPS_HAS(dev->ops, VB_DEVICE_OPS_V1, queue_reset))
		dev->ops->queue_reset(dev, vq);
	return 0;
}
#endif /* VB_CONFIG_RING_RESET */

#if VB_CONFIG_REMAP
VB_EXPORT int vb_dev_remap(struct vb_dev *dev)
{
	int first = 0;

	for (unsigned int i = 0; i < dev->num_queues; i++) {
		struct vb_vq *vq = &dev->vqs[i];
		int ret;

		if (!(vq->flags & VBI_VQ_LIVE))
			continue;
		vbi_vq_stop(vq);
		ret = vbi_vq_start(vq, dev->driver_features);
		if (ret < 0) {
			vbi_vq_fail(vq, ret, "queue rings no longer map after a memory change");
			if (!first)
				first = ret;
		}
	}
	return first;
}
#endif /* VB_CONFIG_REMAP */

VB_EXPORT int vb_dev_kick(struct vb_dev *dev, uint16_t qidx)
{
	struct vb_vq *vq;

	if (qidx >= dev->num_queues)
		return -EINVAL;
	vq = &dev->vqs[qidx];
	if (VB_UNLIKELY(vq->flags & VBI_VQ_BROKEN))
		return -ENOTRECOVERABLE;
	if (!(vq->flags & VBI_VQ_LIVE))
		return -EAGAIN;
	dev->ops->kick(dev, vq);
	return 0;
}
