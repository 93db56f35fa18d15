/* SPDX-License-Identifier: MIT */
#include <string.h>

#include "vbt-dev.h"

static int fake_notify(void *t, uint16_t qidx)
{
	struct vbt_dev *d = t;

	if (qidx < VBT_DEV_MAX_QUEUES)
		d->notifies[qidx]++;
	return 0;
}

static int fake_config_changed(void *t)
{
	((struct vbt_dev *)t)->config_changes++;
	return 0;
}

static void fake_needs_reset(void *t)
{
	((struct vbt_dev *)t)->needs_reset++;
}

static int model_config_read(struct vb_dev *dev, uint32_t off, void *buf, uint32_t len)
{
	struct vbt_dev *d = vb_dev_priv(dev);

	memcpy(buf, d->config + off, len);
	return 0;
}

static int model_config_write(struct vb_dev *dev, uint32_t off, const void *buf, uint32_t len)
{
	struct vbt_dev *d = vb_dev_priv(dev);

	memcpy(d->config + off, buf, len);
	return 0;
}

static int model_activate(struct vb_dev *dev, uint64_t features)
{
	(void)features;
	((struct vbt_dev *)vb_dev_priv(dev))->activations++;
	return 0;
}

static void model_kick(struct vb_dev *dev, struct vb_vq *vq)
{
	struct vbt_dev *d = vb_dev_priv(dev);

	d->kicks++;
	if (d->on_kick)
		d->on_kick(d, vq);
}

static void model_reset(struct vb_dev *dev)
{
	((struct vbt_dev *)vb_dev_priv(dev))->resets++;
}

int vbt_dev_init(struct vbt_dev *d, const struct vb_mem *mem, uint64_t features, uint16_t nq,
		 uint16_t qmax)
{
	memset(d, 0, sizeof(*d));
	if (nq > VBT_DEV_MAX_QUEUES)
		return -EINVAL;
	d->ops = (struct vb_device_ops){
		.version = VB_DEVICE_OPS_V1,
		.device_id = VB_VIRTIO_ID_RNG,
		.features = features,
		.num_queues = nq,
		.queue_num_max = qmax,
		.config_len = VBT_DEV_CONFIG_LEN,
		.config_read = model_config_read,
		.config_write = model_config_write,
		.activate = model_activate,
		.kick = model_kick,
		.reset = model_reset,
	};
	d->tops = (struct vb_transport_ops){
		.version = VB_TRANSPORT_OPS_V1,
		.notify = fake_notify,
		.config_changed = fake_config_changed,
		.needs_reset = fake_needs_reset,
	};
	return vb_dev_init(d->storage, sizeof(d->storage), &d->ops, d, &d->tops, d, mem, &d->dev);
}

int vbt_dev_negotiate(struct vbt_dev *d, uint64_t driver_features)
{
	int ret;

	ret = vb_dev_set_status(d->dev, VB_VIRTIO_S_ACKNOWLEDGE);
	if (ret == 0)
		ret = vb_dev_set_status(d->dev, VB_VIRTIO_S_ACKNOWLEDGE | VB_VIRTIO_S_DRIVER);
	if (ret == 0)
		ret = vb_dev_set_driver_features(d->dev, driver_features);
	if (ret == 0)
		ret = vb_dev_set_status(d->dev, VB_VIRTIO_S_ACKNOWLEDGE | VB_VIRTIO_S_DRIVER |
					VB_VIRTIO_S_FEATURES_OK);
	if (ret == 0 && !(vb_dev_get_status(d->dev) & VB_VIRTIO_S_FEATURES_OK))
		ret = -ENOTSUP;
	return ret;
}

int vbt_dev_queue(struct vbt_dev *d, uint16_t q, uint16_t num, uint64_t desc, uint64_t driver,
		  uint64_t device)
{
	struct vb_queue_config cfg = { .num = num, .desc = desc, .driver = driver, .device = device };
	int ret = vb_dev_queue_set_config(d->dev, q, &cfg);

	return ret ? ret : vb_dev_queue_enable(d->dev, q, true);
}

int vbt_dev_driver_ok(struct vbt_dev *d)
{
	return vb_dev_set_status(d->dev, (uint8_t)(vb_dev_get_status(d->dev) |
						   VB_VIRTIO_S_DRIVER_OK));
}
