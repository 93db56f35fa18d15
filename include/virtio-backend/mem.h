/* SPDX-License-Identifier: MIT */
/**
 * @file mem.h
 * @brief Guest memory map: regions and bounds-checked translation.   [transport SDK]
 *
 * A transport records where guest memory is mapped in the host (vhost-user memory table, Xen
 * foreign mappings, a static carve-out) as regions. The core translates every guest address
 * through the map with its length and direction; no byte outside a region is ever touched.
 *
 * Rings and buffers may live in different address spaces: vhost-user gives ring addresses as
 * the frontend's virtual addresses and buffer addresses as guest physical addresses. Each region
 * therefore carries both a guest address and a ring address; transports without the
 * distinction leave VB_MEM_F_RING_ADDR clear and the ring address equals the guest address.
 */
#ifndef VIRTIO_BACKEND_MEM_H
#define VIRTIO_BACKEND_MEM_H

#include <stddef.h>
#include <stdint.h>
#include "chain.h"

#ifdef __cplusplus
extern "C" {
#endif

/** @brief Region flag: the device may read the region. */
#define VB_MEM_F_READ		1u
/** @brief Region flag: the device may write the region. */
#define VB_MEM_F_WRITE		2u
/** @brief Region flag: vb_mem_region::ring_addr is valid (else it equals guest_addr). */
#define VB_MEM_F_RING_ADDR	4u

/** @brief Direction of a device access to a guest buffer. */
enum vb_dir {
	VB_DIR_DEV_READ = 1,	/**< the device only reads the bytes (driver-written buffer) */
	VB_DIR_DEV_WRITE = 2,	/**< the device writes the bytes (device-writable buffer) */
};

/** @brief One mapped piece of guest memory. */
struct vb_mem_region {
	uint64_t guest_addr;	/**< first guest (buffer) address of the region */
	uint64_t size;		/**< bytes; non-zero */
	uint64_t ring_addr;	/**< ring address of the first byte (VB_MEM_F_RING_ADDR) */
	void	*host_ptr;	/**< where the region is mapped in this process */
	uint32_t flags;		/**< VB_MEM_F_* */
};

/** @brief vb_mem_fault_fn flag: the area must lie wholly in one region (rings, indirect tables). */
#define VB_MEM_FAULT_CONTIG	1u
/** @brief vb_mem_fault_fn flag: the address is in ring address space (vb_mem_map_ring()). */
#define VB_MEM_FAULT_RING	2u

/**
 * @brief A map's handler for addresses it does not hold, set with vb_mem_set_fault().
 *
 * Transports that map guest memory on demand (Xen: foreign mappings in a bounded cache, grant
 * mappings) add the regions a translation needs when it needs them. The core calls the
 * handler when [addr, addr + len) is not in any region (or, with VB_MEM_FAULT_CONTIG, not
 * wholly in one region) and retries the translation once if it returns 0; an error, or a
 * second miss, fails the translation with -EFAULT as without a handler. A region that holds
 * the address but lacks the access asked for is a permission fault: no handler call.
 *
 * The handler runs on the translating thread, inside the queue's pop. It may add regions and
 * remove regions from the map, but must keep the host memory of a removed region mapped
 * while iovecs obtained earlier may point into it (e.g. unmap only when no chain is in
 * flight), and must never unmap a ring's memory while its queue is enabled.
 * @param ctx    the context given to vb_mem_set_fault()
 * @param addr   first byte missing (guest or ring address space, see @p flags)
 * @param len    bytes from @p addr the translation needs, >= 1, not wrapping
 * @param need   VB_MEM_F_READ and/or VB_MEM_F_WRITE
 * @param flags  VB_MEM_FAULT_*
 * @return 0 when regions were added, else a negative errno.
 */
typedef int (*vb_mem_fault_fn)(void *ctx, uint64_t addr, uint64_t len, uint32_t need,
			       uint32_t flags);

/**
 * @brief A guest memory map in caller storage.
 *
 * Initialise with vb_mem_init(); the fields are the library's to maintain. generation changes
 * whenever a region is added or removed, so holders of iovecs can tell that the map moved.
 */
struct vb_mem {
	struct vb_mem_region *regions;	/**< caller storage */
	uint32_t n_regions;		/**< regions in use */
	uint32_t max_regions;		/**< capacity of regions[] */
	uint32_t generation;		/**< bumped by every add/remove/clear */
	vb_mem_fault_fn fault;		/**< vb_mem_set_fault(); NULL: none */
	void *fault_ctx;		/**< its context */
};

/**
 * @brief Initialise an empty map over caller storage.
 * @param mem      the map
 * @param regions  storage for up to @p max regions
 * @param max      capacity of @p regions (>= 1)
 * @return 0, or -EINVAL if @p mem or @p regions is NULL or @p max is 0.
 * Context: any; no allocation. @satisfy{VB-REQ-MEM-001}
 */
int vb_mem_init(struct vb_mem *mem, struct vb_mem_region *regions, uint32_t max);

/**
 * @brief Add a region to the map.
 * @param mem  the map
 * @param r    the region; copied. Its guest range, and its ring range when
 *             VB_MEM_F_RING_ADDR is set, must not wrap 64 bits nor overlap an existing region.
 * @return 0; -EINVAL for a zero size, a NULL host pointer, no READ/WRITE flag, or an overlap;
 *         -EOVERFLOW if a range wraps; -ENOSPC if the map is full.
 * Context: control path; queues using the map must be stopped. @satisfy{VB-REQ-MEM-002}
 */
int vb_mem_add(struct vb_mem *mem, const struct vb_mem_region *r);

/**
 * @brief Set (or clear, with NULL) the handler called for addresses the map does not hold.
 * Context: control path; queues using the map must be stopped. @satisfy{VB-REQ-MEM-017}
 */
void vb_mem_set_fault(struct vb_mem *mem, vb_mem_fault_fn fault, void *ctx);

/**
 * @brief Remove the region that starts at guest address @p guest_addr.
 * @return 0, or -EINVAL if no region starts there.
 * Context: control path; queues using the map must be stopped.
 */
int vb_mem_remove(struct vb_mem *mem, uint64_t guest_addr);

/**
 * @brief Remove every region.
 * Context: control path; queues using the map must be stopped.
 */
void vb_mem_clear(struct vb_mem *mem);

/**
 * @brief Translate the buffer [gpa, gpa + len) into host iovecs, one per region crossed.
 * @param mem      the map
 * @param gpa      guest (buffer) address
 * @param len      bytes, >= 1
 * @param dir      how the device will access the bytes; every region crossed must allow it
 * @param iov      receives the pieces
 * @param iov_num  capacity of @p iov
 * @return number of iovecs written (>= 1); -EINVAL if @p len is 0; -EOVERFLOW if gpa + len
 *         wraps; -EFAULT if any byte is outside every region or in a region that does not allow
 *         @p dir; -E2BIG if more than @p iov_num pieces are needed.
 * Context: any; no allocation. @satisfy{VB-REQ-MEM-003} @satisfy{VB-REQ-MEM-004}
 */
int vb_mem_map(const struct vb_mem *mem, uint64_t gpa, uint32_t len, enum vb_dir dir,
	       struct vb_iov *iov, unsigned int iov_num);

/**
 * @brief Translate a ring area [addr, addr + len) in ring address space to one host pointer.
 *
 * Rings must be contiguous in one region that the device may both read and write.
 * @param mem   the map
 * @param addr  ring address (vb_mem_region::ring_addr space)
 * @param len   bytes, >= 1
 * @param out   receives the host pointer
 * @return 0; -EINVAL if @p len is 0; -EOVERFLOW if addr + len wraps; -EFAULT if the area is
 *         not inside one read-write region.
 * Context: control path. @satisfy{VB-REQ-MEM-005}
 */
int vb_mem_map_ring(const struct vb_mem *mem, uint64_t addr, uint64_t len, void **out);

/**
 * @brief Translate a buffer-space area that must be contiguous in one region (indirect
 * descriptor tables, for instance) to one host pointer.
 * @return 0; -EINVAL if @p len is 0; -EOVERFLOW if gpa + len wraps; -EFAULT if the area is
 *         not inside one region that allows @p dir.
 * Context: any; no allocation. @satisfy{VB-REQ-MEM-006}
 */
int vb_mem_map_contig(const struct vb_mem *mem, uint64_t gpa, uint64_t len, enum vb_dir dir,
		      void **out);

#ifdef __cplusplus
}
#endif

#endif /* VIRTIO_BACKEND_MEM_H */
