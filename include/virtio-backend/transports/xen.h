/* SPDX-License-Identifier: MIT */
/**
 * @file xen.h
 * @brief Xen ioreq-server transport: virtio-mmio devices of a Xen guest.   [users]
 *
 * One server serves the virtio-mmio devices of one Xen domain from dom0 or a driver domain.
 * It creates an ioreq server for the domain, claims each device's MMIO window, and answers
 * every access the guest's vCPUs make there through the core's virtio-mmio register file
 * (mmio.h): the synchronous ioreq of each vCPU (READY, INPROCESS, IORESP_READY, then the
 * vCPU's event channel is notified) and the buffered ring. A device's interrupt is raised
 * with XEN_DMOP_set_irq_level (Arm; the GIC SPI the device tree gives the guest) or
 * XEN_DMOP_set_isa_irq_level (x86 HVM guests only: on a PVH guest the ISA-IRQ call crashes
 * Xen 4.17, so the server refuses it).
 *
 * Guest memory is reached on demand through the memory map's fault handler (mem.h):
 * - foreign mappings of guest frames (xenforeignmemory), kept in a cache bounded by
 *   vb_xen_config::map_cache_bytes; mappings the cache drops, and all of them when Xen sends
 *   IOREQ_TYPE_INVALIDATE (the guest's memory map changed), are unmapped once no request is
 *   in flight; a ring stays mapped while its queue is enabled;
 * - grant mappings (xengnttab) for a device with VB_XEN_DEV_F_GRANTS (the guest's
 *   xen,grant-dma: a bus address with bit 63 set is (grant reference << 12) + offset;
 *   VIRTIO_F_ACCESS_PLATFORM is offered): mapped when a request needs them, unmapped when
 *   no request is in flight any more, all of them on reset.
 *
 * No hidden threads: the server exposes one pollable fd (vb_xen_fd()) and a non-blocking
 * vb_xen_dispatch(); device models with fds of their own (blk's io_uring) are polled by the
 * program beside it. Every ioreq field is checked (type, size, count, direction, data_is_ptr,
 * address): a bad access is answered harmlessly (reads return all ones, writes are dropped)
 * and counted, never trusted.
 *
 * Threading: one thread calls everything, the device models' completions included.
 */
#ifndef VIRTIO_BACKEND_TRANSPORTS_XEN_H
#define VIRTIO_BACKEND_TRANSPORTS_XEN_H

#include <stdbool.h>
#include <stdint.h>

#include "../device.h"
#include "../port.h"

#ifdef __cplusplus
extern "C" {
#endif

struct vb_dev;
struct vb_xen_server;

/** @brief First version of struct vb_xen_config. */
#define VB_XEN_CONFIG_V1 1u

/** @brief How the server raises device interrupts. */
enum vb_xen_irq_kind {
	VB_XEN_IRQ_ARM = 1,	/**< XEN_DMOP_set_irq_level: a GIC SPI (Arm guests) */
	VB_XEN_IRQ_ISA = 2,	/**< XEN_DMOP_set_isa_irq_level: x86 HVM guests only */
	VB_XEN_IRQ_NONE = 3,	/**< no interrupt (the driver polls; tests) */
};

/** @brief Server configuration. */
struct vb_xen_config {
	uint32_t version;		/**< VB_XEN_CONFIG_V1 */
	uint32_t domid;			/**< the guest served */
	enum vb_xen_irq_kind irq_kind;	/**< how interrupts are raised */
	uint32_t map_cache_bytes;	/**< bound of foreign mappings; 0: 64 MiB */
	/** Log sink (connection events, refused ioreqs); may be NULL. */
	void (*log)(void *ctx, enum vb_log_level level, const char *msg);
	void *log_ctx;			/**< given to log */
};

/** @brief Device flag: buffers are grant references (xen,grant-dma; ACCESS_PLATFORM). */
#define VB_XEN_DEV_F_GRANTS	1u

/** @brief Most devices one server serves. */
#define VB_XEN_MAX_DEVICES	16u

/** @brief One virtio-mmio device to serve. */
struct vb_xen_device {
	uint64_t base;			/**< guest physical address of the MMIO window */
	uint64_t size;			/**< window bytes, >= 0x100 (the register file) */
	uint32_t irq;			/**< interrupt (GIC SPI ID on Arm, ISA IRQ on x86) */
	uint32_t flags;			/**< VB_XEN_DEV_F_* */
	const struct vb_device_ops *ops;	/**< the device model */
	void *model;			/**< its context */
};

/** @brief Counters of a server. */
struct vb_xen_stats {
	uint64_t ioreqs;		/**< synchronous ioreqs answered */
	uint64_t buffered;		/**< buffered ioreqs handled */
	uint64_t refused;		/**< ioreqs answered harmlessly (bad fields, no device) */
	uint64_t invalidates;		/**< IOREQ_TYPE_INVALIDATE requests */
	uint64_t foreign_maps;		/**< foreign mappings made */
	uint64_t grant_maps;		/**< grant mappings made */
	uint32_t mapped_foreign;	/**< foreign mappings now held */
	uint32_t mapped_grants;		/**< grant mappings now held */
	uint64_t mapped_bytes;		/**< bytes of foreign mappings now held */
};

/**
 * @brief Create a server for domain cfg->domid on the host's Xen libraries (no hypercall yet).
 * @return 0 and *@p out, or -EINVAL (bad config), -ENOMEM, -ENOTSUP (built without Xen) or
 *         the error of opening the Xen interfaces (-EPERM, -ENOENT: no privcmd here).
 * Context: control path. Free with vb_xen_server_free(). @satisfy{VB-REQ-XEN-001}
 */
int vb_xen_server_new(const struct vb_xen_config *cfg, struct vb_xen_server **out);

/**
 * @brief Add a device before vb_xen_start().
 * @param dev_out  receives the core device (may be NULL), valid for the server's lifetime
 * @return 0; -EINVAL (window smaller than 0x100, wrapping, overlapping another, a NULL or
 *         unsupported model); -ENOSPC (VB_XEN_MAX_DEVICES); -EBUSY (already started).
 * Context: control path.
 */
int vb_xen_add_device(struct vb_xen_server *s, const struct vb_xen_device *dev,
		      struct vb_dev **dev_out);

/**
 * @brief Create the ioreq server, map its pages, claim every device's window, enable it and
 * bind each vCPU's event channel (and the buffered one). The guest may be running.
 * @return 0, or the negative errno of the step that failed (everything done is undone).
 * Context: control path. @satisfy{VB-REQ-XEN-002}
 */
int vb_xen_start(struct vb_xen_server *s);

/** @brief The fd to poll (readable when vb_xen_dispatch() has work), or -1 before start. */
int vb_xen_fd(const struct vb_xen_server *s);

/**
 * @brief Serve what is pending: every ready ioreq, the buffered ring, the kicks they made.
 * Never blocks.
 * @return 0, or a negative errno when the event channel device fails (the server is
 *         unusable; a bad ioreq is never an error here).
 */
int vb_xen_dispatch(struct vb_xen_server *s);

/** @brief Counters. Context: any (the serving thread). */
void vb_xen_get_stats(const struct vb_xen_server *s, struct vb_xen_stats *st);

/**
 * @brief Stop: reset every device (its model drops what is in flight), unmap all guest
 * memory, destroy the ioreq server, close the Xen interfaces, free. NULL is a no-op.
 */
void vb_xen_server_free(struct vb_xen_server *s);

#ifdef __cplusplus
}
#endif

#endif /* VIRTIO_BACKEND_TRANSPORTS_XEN_H */
