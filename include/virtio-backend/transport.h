/* SPDX-License-Identifier: MIT */
/**
 * @file transport.h
 * @brief What the core needs from a transport: interrupts out.   [transport SDK]
 *
 * Everything else flows into the core as calls the transport makes on struct vb_dev (dev.h).
 * Versioned like struct vb_device_ops.
 */
#ifndef VIRTIO_BACKEND_TRANSPORT_H
#define VIRTIO_BACKEND_TRANSPORT_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/** @brief First version of struct vb_transport_ops. */
#define VB_TRANSPORT_OPS_V1 1u

/** @brief A transport's hooks; @p transport is the pointer given to vb_dev_init(). */
struct vb_transport_ops {
	uint32_t version;	/**< VB_TRANSPORT_OPS_V1 */
	/** Used buffers on queue @p qidx: interrupt the driver. Required. */
	int  (*notify)(void *transport, uint16_t qidx);
	/** Config space (or NEEDS_RESET) changed: configuration change notification. Required. */
	int  (*config_changed)(void *transport);
	/** The device set NEEDS_RESET (after config_changed was sent). May be NULL. */
	void (*needs_reset)(void *transport);
};

#ifdef __cplusplus
}
#endif

#endif /* VIRTIO_BACKEND_TRANSPORT_H */
