/* SPDX-License-Identifier: MIT */
/**
 * @file mmio.h
 * @brief The virtio-mmio (version 2) register file as functions over a device.  [transport SDK]
 *
 * Any trap-and-emulate host (a VMM's MMIO exits, a Xen ioreq server, a test) serves a
 * virtio-mmio device by calling vb_mmio_read()/vb_mmio_write() for each trapped access. The
 * register file is itself the device's transport: build it first, then the device with
 * vb_mmio_transport_ops and the register file as transport context, then attach the two.
 *
 * Guest accesses are hostile: a bad size, a misaligned or unknown offset, or a write in the
 * wrong state is refused with an error (reads then return 0) and changes nothing; it never
 * crashes. Per virtio 1.2, 4.2.2, registers are 32-bit; config space allows 8/16/32-bit
 * accesses (and 64-bit as two 32-bit halves by the driver).
 */
#ifndef VIRTIO_BACKEND_MMIO_H
#define VIRTIO_BACKEND_MMIO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "transport.h"

#ifdef __cplusplus
extern "C" {
#endif

struct vb_dev;
struct vb_mmio;

/** @brief First version of struct vb_mmio_host_ops. */
#define VB_MMIO_HOST_OPS_V1 1u

/** @brief What the register file needs from its host. */
struct vb_mmio_host_ops {
	uint32_t version;	/**< VB_MMIO_HOST_OPS_V1 */
	/** Drive the device's interrupt line: level is true while InterruptStatus != 0. Required.
	 *  Called for every event (true) and when the last bit is acknowledged (false); it may
	 *  run on the thread that completes requests as well as on the vCPU's, so the host
	 *  serialises its calls (the register file re-checks the status after lowering). */
	void (*set_irq)(void *host, bool level);
	/** A QueueNotify write: if set, the host decides when to call vb_dev_kick() (e.g. from
	 *  a worker); if NULL the register file calls vb_dev_kick() at once. */
	void (*kick)(void *host, uint16_t qidx);
};

/** @brief The transport hooks a device served through a register file must be built with. */
extern const struct vb_transport_ops vb_mmio_transport_ops;

/** @brief Bytes of storage a register file needs. Context: any. */
size_t vb_mmio_size(void);

/** @brief Upper bound of vb_mmio_size() for static allocation. */
#define VB_MMIO_STORAGE_MAX 64u

/** @brief The VendorID register's value: "VB" (0x56 0x42 in little-endian byte order). */
#define VB_MMIO_VENDOR 0x00004256u

/**
 * @brief Build a register file in caller storage.
 * @param storage      vb_mmio_size() bytes, 8-byte aligned
 * @param storage_len  bytes at @p storage
 * @param host         the host's hooks (kept by reference)
 * @param host_ctx     passed to @p host
 * @param out          receives the register file
 * @return 0; -EINVAL for a NULL/misaligned argument or a host table without set_irq;
 *         -ENOSPC if @p storage_len is too small.
 * Context: control path. @satisfy{VB-REQ-MMIO-001}
 */
int vb_mmio_init(void *storage, size_t storage_len, const struct vb_mmio_host_ops *host,
		 void *host_ctx, struct vb_mmio **out);

/**
 * @brief Attach the device the register file serves (built with vb_mmio_transport_ops and
 * this register file as its transport context).
 *
 * Sets the device's transport feature mask: VIRTIO_F_VERSION_1 forced, VIRTIO_F_SR_IOV and
 * VIRTIO_F_NOTIF_CONFIG_DATA forbidden (a host that changes the mask later keeps these).
 * @return 0, or -EINVAL (NULL argument, or @p dev not built that way).
 * Context: control path.
 */
int vb_mmio_attach(struct vb_mmio *mmio, struct vb_dev *dev);

/**
 * @brief A driver read.
 * @param mmio  the register file
 * @param off   offset from the device's base
 * @param size  access size in bytes (4 for registers; 1, 2 or 4 in config space)
 * @param val   receives the value (0 on error)
 * @return 0; -EINVAL for a bad size, misalignment, an unknown or write-only offset, or
 *         config space out of range; -ENOTSUP for QueueReset without VIRTIO_F_RING_RESET;
 *         the device model's errno for a refused config read.
 * Context: control path (one vCPU at a time per device). @satisfy{VB-REQ-MMIO-002}
 */
int vb_mmio_read(struct vb_mmio *mmio, uint64_t off, unsigned int size, uint32_t *val);

/**
 * @brief A driver write.
 * @return 0; -EINVAL for a bad size, misalignment, an unknown or read-only offset, a queue
 *         register while QueueSel names no queue, QueueNotify of a queue that does not exist,
 *         or config space out of range; -EPROTO for a write in the wrong state or with a
 *         value the spec forbids (e.g. queue setup while the queue is ready, features outside
 *         DRIVER..FEATURES_OK, undefined InterruptACK bits); -ENOTSUP for DriverFeatures with a
 *         bit that was not offered (recorded anyway: FEATURES_OK will be refused) or QueueReset
 *         without VIRTIO_F_RING_RESET; the core's errno for a refused status, queue setup,
 *         queue enable or kick (docs/requirements/MMIO.md lists each case).
 * Context: control path (one vCPU at a time per device). @satisfy{VB-REQ-MMIO-003}
 */
int vb_mmio_write(struct vb_mmio *mmio, uint64_t off, unsigned int size, uint32_t val);

/** @brief Current InterruptStatus bits (VB_MMIO_INT_*). Context: any. */
uint32_t vb_mmio_interrupt_status(const struct vb_mmio *mmio);

#ifdef __cplusplus
}
#endif

#endif /* VIRTIO_BACKEND_MMIO_H */
