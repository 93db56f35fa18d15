/* SPDX-License-Identifier: MIT */
/* "demo-echo" device model (see demo-device.h). */
#include <stdio.h>
#include <string.h>

#include "demo-device.h"

void demo_device_init(struct demo_device *d)
{
	memset(d, 0, sizeof(*d));
	d->mode = DEMO_MODE_UPPER;
	d->max_len = 64;
}

static void put_le32(uint8_t *p, uint32_t v)
{
	for (unsigned int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static uint32_t get_le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	       (uint32_t)p[3] << 24;
}

static int demo_config_read(struct vb_dev *dev, uint32_t off, void *buf, uint32_t len)
{
	struct demo_device *d = vb_dev_priv(dev);
	uint8_t cfg[DEMO_CONFIG_LEN];

	/* The core checked [off, off + len) against config_len. */
	put_le32(cfg + DEMO_CONFIG_MODE, d->mode);
	put_le32(cfg + DEMO_CONFIG_MAX_LEN, d->max_len);
	memcpy(buf, cfg + off, len);
	return 0;
}

static int demo_config_write(struct vb_dev *dev, uint32_t off, const void *buf, uint32_t len)
{
	struct demo_device *d = vb_dev_priv(dev);
	uint8_t cfg[4];
	uint32_t mode;

	/* Only the whole mode field is writable; max_len is the device's. */
	if (off != DEMO_CONFIG_MODE || len != 4)
		return -ENOTSUP;
	memcpy(cfg, buf, 4);
	mode = get_le32(cfg);
	if (mode != DEMO_MODE_UPPER && mode != DEMO_MODE_REVERSE)
		return -EINVAL;
	d->mode = mode;
	return 0;
}

static void transform(uint32_t mode, uint8_t *b, size_t n)
{
	if (mode == DEMO_MODE_REVERSE) {
		for (size_t i = 0; i < n / 2; i++) {
			uint8_t t = b[i];

			b[i] = b[n - 1 - i];
			b[n - 1 - i] = t;
		}
		return;
	}
	for (size_t i = 0; i < n; i++)
		if (b[i] >= 'a' && b[i] <= 'z')
			b[i] = (uint8_t)(b[i] - 'a' + 'A');
}

/* One request: copy it out of guest memory once, transform the copy, write it back. */
static uint32_t handle(struct demo_device *d, const struct vb_chain *c)
{
	uint8_t buf[DEMO_MAX_LEN];
	size_t n = c->read_len;

	if (n > d->max_len)
		n = d->max_len;
	if (n > c->write_len)
		n = c->write_len;
	if (n == 0 || vb_chain_read(c, 0, buf, n) < 0)
		return 0;
	transform(d->mode, buf, n);
	if (vb_chain_write(c, 0, buf, n) < 0)
		return 0;
	return (uint32_t)n;
}

static void demo_kick(struct vb_dev *dev, struct vb_vq *vq)
{
	struct demo_device *d = vb_dev_priv(dev);
	struct vb_iov rd[8], wr[8];
	struct vb_chain c = VB_CHAIN_INIT(rd, wr);
	int ret;

	while ((ret = vb_vq_pop(vq, &c)) > 0) {
		uint32_t written = handle(d, &c);

		if (vb_vq_push(vq, &c, written) < 0)
			break;
		d->served++;
		if (d->log) {
			char line[128];

			snprintf(line, sizeof(line),
				 "chain %u popped: %u bytes readable, %u writable; pushed with %u written",
				 c.head, c.read_len, c.write_len, written);
			d->log(d->log_ctx, line);
		}
	}
	/* ret < 0: the queue is broken; the core already asked the driver for a reset. */
	vb_vq_notify(vq);
}

static void demo_reset(struct vb_dev *dev)
{
	struct demo_device *d = vb_dev_priv(dev);

	d->mode = DEMO_MODE_UPPER;
	d->resets++;
}

const struct vb_device_ops demo_device_ops = {
	.version = VB_DEVICE_OPS_V1,
	.device_id = DEMO_DEVICE_ID,
	.features = VB_BIT(VB_VIRTIO_F_VERSION_1) | VB_BIT(VB_VIRTIO_F_INDIRECT_DESC) |
		    VB_BIT(VB_VIRTIO_F_EVENT_IDX),
	.num_queues = 1,
	.queue_num_max = DEMO_QUEUE_NUM_MAX,
	.config_len = DEMO_CONFIG_LEN,
	.config_read = demo_config_read,
	.config_write = demo_config_write,
	.kick = demo_kick,
	.reset = demo_reset,
};

int demo_device_set_max_len(struct demo_device *d, uint32_t max_len)
{
	if (max_len == 0 || max_len > DEMO_MAX_LEN)
		return -EINVAL;
	d->max_len = max_len;
	return d->dev ? vb_dev_config_changed(d->dev) : 0;
}
