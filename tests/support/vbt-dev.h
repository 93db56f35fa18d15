/* SPDX-License-Identifier: MIT */
/*
 * A vb_dev wired to a recording fake transport and a minimal device model, plus the
 * driver's side of the status/feature/queue handshake: what ring tests need around a queue.
 */
#ifndef VBT_DEV_H
#define VBT_DEV_H

#include <stdalign.h>
#include <stdint.h>

#include "virtio-backend.h"

#define VBT_DEV_MAX_QUEUES 4u
#define VBT_DEV_CONFIG_LEN 16u

struct vbt_dev {
	struct vb_device_ops	ops;
	struct vb_transport_ops	tops;
	struct vb_dev		*dev;
	alignas(8) uint8_t	storage[VB_DEV_STORAGE_MAX(VBT_DEV_MAX_QUEUES)];
	uint8_t			config[VBT_DEV_CONFIG_LEN];
	/* What the fake transport and model saw. */
	unsigned int		notifies[VBT_DEV_MAX_QUEUES];
	unsigned int		config_changes;
	unsigned int		needs_reset;
	unsigned int		kicks;
	unsigned int		resets;
	unsigned int		activations;
	/* Optional: called on a kick (default: count only). */
	void (*on_kick)(struct vbt_dev *d, struct vb_vq *vq);
};

/* Build a device offering features with nq queues of at most qmax entries over mem. */
int vbt_dev_init(struct vbt_dev *d, const struct vb_mem *mem, uint64_t features, uint16_t nq,
		 uint16_t qmax);

/* The driver's handshake: ACKNOWLEDGE, DRIVER, features, FEATURES_OK (checked). */
int vbt_dev_negotiate(struct vbt_dev *d, uint64_t driver_features);

/* Configure and enable queue q with the given size and ring addresses. */
int vbt_dev_queue(struct vbt_dev *d, uint16_t q, uint16_t num, uint64_t desc, uint64_t driver,
		  uint64_t device);

/* Set DRIVER_OK. */
int vbt_dev_driver_ok(struct vbt_dev *d);

#endif
