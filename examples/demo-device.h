/* SPDX-License-Identifier: MIT */
/*
 * "demo-echo": the smallest useful device model, for examples and end-to-end tests.
 *
 * One queue. For every descriptor chain the driver posts, the device reads the readable part
 * (the request: up to max_len bytes), and writes a transformed copy into the writable part
 * (the response): the bytes upper-cased (mode 0) or reversed (mode 1). It then returns the
 * chain with the number of bytes written and notifies the driver.
 *
 * Config space (little-endian, virtio 1.2, 2.5):
 *   0x00  le32 mode     driver-writable: DEMO_MODE_UPPER or DEMO_MODE_REVERSE
 *   0x04  le32 max_len  read-only: most request bytes the device looks at; the host changes it
 *                       with demo_device_set_max_len(), which bumps the config generation and
 *                       sends a configuration change notification.
 *
 * The model knows nothing of the transport: it is a struct vb_device_ops and uses only the
 * device SDK (vq.h, chain.h) and vb_dev_config_changed().
 */
#ifndef VB_EXAMPLES_DEMO_DEVICE_H
#define VB_EXAMPLES_DEMO_DEVICE_H

#include <stdint.h>

#include "virtio-backend.h"

/* Not a device type of the virtio spec: a demo only ever meets our own driver simulator. */
#define DEMO_DEVICE_ID		0xffffu
#define DEMO_QUEUE_NUM_MAX	256u
#define DEMO_CONFIG_MODE	0u
#define DEMO_CONFIG_MAX_LEN	4u
#define DEMO_CONFIG_LEN		8u

#define DEMO_MODE_UPPER		0u
#define DEMO_MODE_REVERSE	1u

/* Largest max_len: the device copies a request into a local buffer of this size. */
#define DEMO_MAX_LEN		256u

struct demo_device {
	struct vb_dev	*dev;		/* set by the host after vb_dev_init() */
	uint32_t	mode;
	uint32_t	max_len;
	unsigned long	served;		/* chains returned */
	unsigned long	resets;
	/* Optional: one line per request handled (no newline). */
	void		(*log)(void *ctx, const char *line);
	void		*log_ctx;
};

/* The model's ops table; pass a struct demo_device as vb_dev_init()'s priv. */
extern const struct vb_device_ops demo_device_ops;

/* Initial state: mode UPPER, max_len 64. */
void demo_device_init(struct demo_device *d);

/* Host side: change max_len (1..DEMO_MAX_LEN) and tell the driver. 0 or a negative errno. */
int demo_device_set_max_len(struct demo_device *d, uint32_t max_len);

#endif
