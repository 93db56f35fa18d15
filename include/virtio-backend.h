/* SPDX-License-Identifier: MIT */
/**
 * @file virtio-backend.h
 * @brief Umbrella header of libvirtio-backend, the device side of virtio.
 */
#ifndef VIRTIO_BACKEND_H
#define VIRTIO_BACKEND_H

#include "virtio-backend/endian.h"
#include "virtio-backend/error.h"
#include "virtio-backend/spec.h"
#include "virtio-backend/chain.h"
#include "virtio-backend/mem.h"
#include "virtio-backend/vq.h"
#include "virtio-backend/device.h"
#include "virtio-backend/transport.h"
#include "virtio-backend/dev.h"
#include "virtio-backend/mmio.h"

#define VB_VERSION_MAJOR 0
#define VB_VERSION_MINOR 1

#ifdef __cplusplus
extern "C" {
#endif

/**
 * @brief The library's run-time version, (major << 16) | minor, to compare with
 * VB_VERSION_MAJOR/MINOR seen at compile time.
 * Context: any.
 */
unsigned int vb_version(void);

#ifdef __cplusplus
}
#endif

#endif /* VIRTIO_BACKEND_H */
