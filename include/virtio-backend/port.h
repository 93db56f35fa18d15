/* SPDX-License-Identifier: MIT */
/**
 * @file port.h
 * @brief Hooks a platform supplies to the core.   [porters]
 *
 * The core calls these and nothing else of its environment. src/port/posix/ and
 * src/port/baremetal/ provide them; src/port/template/ documents a new port.
 */
#ifndef VIRTIO_BACKEND_PORT_H
#define VIRTIO_BACKEND_PORT_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/** @brief Log levels for vb_port_log(). */
enum vb_log_level {
	VB_LOG_ERR = 3,
	VB_LOG_WARN = 4,
	VB_LOG_INFO = 6,
	VB_LOG_DEBUG = 7,
};

/**
 * @brief Log one message (no trailing newline). The core logs at most once per queue
 * and condition, never per request.
 * Context: any, data path included: must not block for long.
 */
void vb_port_log(enum vb_log_level level, const char *msg);

/**
 * @brief Make the CPU's writes to [p, p + len) visible to the other side of non-coherent
 * shared memory. Called only in builds with VB_CONFIG_NONCOHERENT.
 */
void vb_port_dcache_clean(const void *p, size_t len);

/**
 * @brief Discard stale cached copies of [p, p + len) before reading what the other side wrote.
 * Called only in builds with VB_CONFIG_NONCOHERENT.
 */
void vb_port_dcache_invalidate(const void *p, size_t len);

#ifdef __cplusplus
}
#endif

#endif /* VIRTIO_BACKEND_PORT_H */
