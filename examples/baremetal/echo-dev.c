/* SPDX-License-Identifier: MIT */
/*
 * The example's device model (echo-dev.h). It uses only the device SDK (device.h, vq.h,
 * chain.h): it never sees the transport, guest addresses or the ring layout.
 */
#include <string.h>

#include "echo-dev.h"

void echo_transform(uint8_t *buf, uint32_t len, uint32_t mode)
{
	if (mode & ECHO_MODE_UPPER)
		for (uint32_t i = 0; i < len; i++)
			if (buf[i] >= 'a' && buf[i] <= 'z')
				buf[i] = (uint8_t)(buf[i] - 'a' + 'A');
	if ((mode & ECHO_MODE_REVERSE) && len > 1)
		for (uint32_t i = 0, j = len - 1; i < j; i++, j--) {
			uint8_t t = buf[i];

			buf[i] = buf[j];
			buf[j] = t;
		}
}

/* One request: copy the message out of guest memory once, transform the copy, write it back
 * into the writable part. Returns the bytes written. */
static uint32_t echo_handle(struct echo_dev *e, const struct vb_chain *c)
{
	uint8_t buf[ECHO_MAX_LEN];
	const uint32_t len = c->read_len;

	if (len > sizeof(buf) || len > c->write_len ||
	    vb_chain_read(c, 0, buf, len) < 0) {
		e->refused++;
		return 0;
	}
	echo_transform(buf, len, e->mode);
	if (vb_chain_write(c, 0, buf, len) < 0) {
		e->refused++;
		return 0;
	}
	e->requests++;
	e->bytes += len;
	if (c->n_read > 1 || c->n_write > 1)
		e->scattered++;
	return len;
}

static void echo_kick(struct vb_dev *dev, struct vb_vq *vq)
{
	struct echo_dev *e = vb_dev_priv(dev);
	struct vb_iov rd[ECHO_MAX_IOV], wr[ECHO_MAX_IOV];
	int ret;

	for (;;) {
		struct vb_chain c = VB_CHAIN_INIT(rd, wr);

		ret = vb_vq_pop(vq, &c);
		if (ret <= 0)
			break;
		ret = vb_vq_push(vq, &c, echo_handle(e, &c));
		if (ret < 0)
			break;
	}
	/* A violation has already broken the queue and set NEEDS_RESET: only remember it. */
	if (ret < 0)
		e->last_error = ret;
	vb_vq_notify(vq);
}

static int echo_config_read(struct vb_dev *dev, uint32_t off, void *buf, uint32_t len)
{
	const struct echo_dev *e = vb_dev_priv(dev);
	const vb_le32 cfg[2] = { vb_cpu_to_le32(e->mode), vb_cpu_to_le32(ECHO_MAX_LEN) };

	/* The core checked [off, off + len) against config_len. */
	memcpy(buf, (const uint8_t *)cfg + off, len);
	return 0;
}

static int echo_config_write(struct vb_dev *dev, uint32_t off, const void *buf, uint32_t len)
{
	struct echo_dev *e = vb_dev_priv(dev);
	vb_le32 v;

	/* Only the whole mode field is writable, and only with known bits. */
	if (off != ECHO_CFG_MODE || len != sizeof(v))
		return -EINVAL;
	memcpy(&v, buf, sizeof(v));
	if (vb_le32_to_cpu(v) & ~(uint32_t)(ECHO_MODE_UPPER | ECHO_MODE_REVERSE))
		return -EINVAL;
	e->mode = vb_le32_to_cpu(v);
	return 0;
}

static void echo_reset(struct vb_dev *dev)
{
	struct echo_dev *e = vb_dev_priv(dev);

	e->mode = 0;
	e->last_error = 0;
}

const struct vb_device_ops echo_ops = {
	.version = VB_DEVICE_OPS_V1,
	.device_id = ECHO_DEVICE_ID,
	.features = VB_BIT(VB_VIRTIO_F_VERSION_1) | VB_BIT(VB_VIRTIO_F_INDIRECT_DESC) |
		    VB_BIT(VB_VIRTIO_F_EVENT_IDX),
	.num_queues = 1,
	.queue_num_max = ECHO_QUEUE_MAX,
	.config_len = ECHO_CFG_LEN,
	.config_read = echo_config_read,
	.config_write = echo_config_write,
	.kick = echo_kick,
	.reset = echo_reset,
};
