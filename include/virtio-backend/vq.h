/* SPDX-License-Identifier: MIT */
/**
 * @file vq.h
 * @brief Device side of a virtqueue (split or packed): pop, push, notify.   [device SDK]
 *
 * One API for both ring layouts; the layout and the negotiated ring features are fixed when
 * the queue is enabled. Queues belong to a struct vb_dev (dev.h) and are reached with
 * vb_dev_queue().
 *
 * Hostile drivers: every protocol violation found while popping (a loop, an index out of range,
 * a bad indirect table, a buffer outside guest memory, a readable descriptor after a writable
 * one, ...) returns its specific negative errno once, marks the queue broken, and sets
 * VIRTIO_S_NEEDS_RESET on the device (the transport is told through
 * vb_transport_ops::needs_reset). Later calls on a broken queue return -ENOTRECOVERABLE until
 * the queue or the device is reset. Nothing outside the mapped regions is ever accessed.
 *
 * Threading: one consumer per queue; pop/push/notify of one queue must not run concurrently.
 * Control-path calls (dev.h) happen with the queue stopped.
 */
#ifndef VIRTIO_BACKEND_VQ_H
#define VIRTIO_BACKEND_VQ_H

#include <stdbool.h>
#include <stdint.h>
#include "chain.h"

#ifdef __cplusplus
extern "C" {
#endif

struct vb_vq;
struct vb_dev;
struct vb_vring_packed_desc;

/**
 * @brief Take the next available descriptor chain.
 * @param vq     an enabled queue
 * @param chain  caller storage (read/write/max_* set); receives the head id and the mapped
 *               buffers, readable ones in chain->read, writable ones in chain->write
 * @return 1 if a chain was popped, 0 if none is available, or a negative errno:
 *   -EFAULT (a buffer or indirect table outside guest memory or in a region of the wrong
 *   direction), -EOVERFLOW (address + length wraps), -ELOOP (chain longer than the queue or
 *   the indirect table), -E2BIG (more iovecs than the chain's storage, or over 4 GiB in
 *   total), -EPROTO (head/next/buffer id out of range, avail index jumped by more than the
 *   queue size, nested indirect, INDIRECT with NEXT, indirect length 0 or not a multiple of
 *   16, INDIRECT not negotiated, readable after writable, packed wrap misuse): the queue is now
 *   broken and the device needs a reset; -ENOTRECOVERABLE: the queue was already broken;
 *   -EAGAIN: the queue is not enabled.
 * Kicks: with EVENT_IDX the device asks for the next kick only when pop finds the ring
 * empty, so a device model that stops popping before vb_vq_pop() returns 0 (a batch limit)
 * must come back to the queue without waiting for a kick.
 * Context: data path; no allocation, no locks, no blocking.
 * @satisfy{VB-REQ-VQ-001} @satisfy{VB-REQ-PVQ-001}
 */
int vb_vq_pop(struct vb_vq *vq, struct vb_chain *chain);

/**
 * @brief Pop up to @p n chains into @p chains[0..n).
 *
 * Reads the driver's index once for the whole batch.
 * @return number of chains popped (0..n). If a violation is found after some chains were
 *         popped, those are returned, the queue is broken, and the next call returns
 *         -ENOTRECOVERABLE (vb_vq_error() gives the violation's errno); with no chain
 *         popped the error is returned as for vb_vq_pop().
 * Context: data path. @satisfy{VB-REQ-VQ-020}
 */
int vb_vq_pop_batch(struct vb_vq *vq, struct vb_chain *chains, unsigned int n);

/**
 * @brief Return a chain to the driver as used.
 * @param vq       the queue it was popped from
 * @param chain    the popped chain (only head and ring_slots are read)
 * @param written  bytes the device wrote into the chain's writable part
 * @return 0; -EINVAL if @p written exceeds chain->write_len, or more chains (packed: ring
 *         slots) would be used than were popped; -ENOTRECOVERABLE if the queue is broken; -EAGAIN if
 *         the queue is not enabled.
 * With VIRTIO_F_IN_ORDER negotiated the device model promises to push chains in the order
 * it popped them; the core writes one used element per chain (virtio 1.2, 2.7.9 and 2.8.20
 * allow, but do not require, one element per batch).
 * Context: data path. Does not interrupt the driver: call vb_vq_notify() after a batch.
 * @satisfy{VB-REQ-VQ-002} @satisfy{VB-REQ-PVQ-002}
 */
int vb_vq_push(struct vb_vq *vq, const struct vb_chain *chain, uint32_t written);

/**
 * @brief Return @p n chains as used with one index store.
 * @param written  bytes written into each chain, @p n entries
 * @return 0, or an error as for vb_vq_push() (then nothing was pushed).
 * Context: data path. @satisfy{VB-REQ-VQ-020}
 */
int vb_vq_push_batch(struct vb_vq *vq, const struct vb_chain *chains,
		     const uint32_t *written, unsigned int n);

/**
 * @brief Decide whether the driver wants a used-buffer notification now.
 *
 * Applies VRING_AVAIL_F_NO_INTERRUPT, EVENT_IDX (used_event) or the packed ring's driver event
 * suppression, and records the decision point, so call it once per batch of pushes.
 * @return true if the driver must be notified.
 * Context: data path. @satisfy{VB-REQ-VQ-010} @satisfy{VB-REQ-VQ-011}
 */
bool vb_vq_should_notify(struct vb_vq *vq);

/**
 * @brief Notify the driver through the transport if vb_vq_should_notify() says so.
 * @return 1 if notified, 0 if suppressed, or the transport's negative errno.
 * Context: data path.
 */
int vb_vq_notify(struct vb_vq *vq);

/**
 * @brief Ask the driver not to kick (VRING_USED_F_NO_NOTIFY or packed DISABLE); for polling.
 *
 * With EVENT_IDX negotiated on a split ring this only stops refreshing avail_event.
 * Context: data path.
 */
void vb_vq_disable_kicks(struct vb_vq *vq);

/**
 * @brief Ask the driver to kick again for new buffers.
 * @return true if buffers became available meanwhile (pop again before waiting), else false.
 * Context: data path. @satisfy{VB-REQ-VQ-012}
 */
bool vb_vq_enable_kicks(struct vb_vq *vq);

/**
 * @brief Ring position: where the device will pop and push next.
 *
 * Split rings ignore the wrap counters. vhost-user saves it with GET_VRING_BASE and restores
 * it with SET_VRING_BASE.
 */
struct vb_vq_pos {
	uint16_t avail_idx;	/**< next available entry (split: free-running; packed: slot) */
	uint16_t used_idx;	/**< next used entry (split: free-running; packed: slot) */
	bool	 avail_wrap;	/**< packed: driver ring wrap counter */
	bool	 used_wrap;	/**< packed: device ring wrap counter */
};

/**
 * @brief Read the ring position.
 * Context: control path, queue stopped or one consumer. @satisfy{VB-REQ-VQ-030}
 */
void vb_vq_get_pos(const struct vb_vq *vq, struct vb_vq_pos *pos);

/**
 * @brief Set the ring position (before or after enabling).
 * @return 0, or -EINVAL if an index is not below the queue size (packed).
 * Context: control path, queue stopped. @satisfy{VB-REQ-VQ-030}
 */
int vb_vq_set_pos(struct vb_vq *vq, const struct vb_vq_pos *pos);

/**
 * @brief The queue's sticky error: 0 while healthy, else the first violation's errno.
 * Context: any.
 */
int vb_vq_error(const struct vb_vq *vq);

/** @brief Index of the queue in its device. Context: any. */
uint16_t vb_vq_index(const struct vb_vq *vq);

/** @brief Queue size chosen by the driver (0 before setup). Context: any. */
uint16_t vb_vq_num(const struct vb_vq *vq);

/** @brief The device the queue belongs to. Context: any. */
struct vb_dev *vb_vq_dev(const struct vb_vq *vq);

/** @brief True if the queue is enabled and not broken. Context: any. */
bool vb_vq_is_ready(const struct vb_vq *vq);

/** @brief Per-queue counters (never reset except by vb_dev_init()). */
struct vb_vq_stats {
	uint64_t popped;	/**< chains popped */
	uint64_t pushed;	/**< chains pushed */
	uint64_t notified;	/**< notifications sent */
	uint64_t suppressed;	/**< notifications suppressed */
	uint64_t errors;	/**< violations found */
};

/** @brief Copy the queue's counters. Context: any. */
void vb_vq_get_stats(const struct vb_vq *vq, struct vb_vq_stats *st);

/**
 * @brief Addresses of a legacy (virtio 0.9.5 / remoteproc) split ring laid out contiguously.
 *
 * Descriptor table at @p base, driver area right after it, device area at the next multiple
 * of @p align (virtio 1.2, 2.7.2 "Legacy Interfaces: A Note on Virtqueue Layout").
 * @param num    queue size (power of two)
 * @param align  device area alignment (power of two, >= 4; 4096 for legacy PCI and MMIO v1)
 * @param base   guest address of the ring
 * @param desc, driver, device  receive the three area addresses
 * @return total bytes of the ring; 0 if @p num or @p align is invalid or the ring would wrap.
 * Context: any. @satisfy{VB-REQ-VQ-040}
 */
uint64_t vb_vq_legacy_layout(uint16_t num, uint32_t align, uint64_t base, uint64_t *desc,
			     uint64_t *driver, uint64_t *device);

/**
 * @brief Inflight tracking hooks of a split queue (EXPERIMENTAL), set by a transport that
 * keeps a record of the chains the device holds, e.g. vhost-user's INFLIGHT_SHMFD, so that a
 * restarted back-end can serve them again.
 *
 * Called on the queue's data path, on the thread that pops and pushes; none may fail; any
 * may be NULL. Split queues call popped and resubmit, packed queues popped_packed and
 * resubmit_packed; pre_push, post_push and log_push are called for both layouts (packed:
 * @c head is the buffer id, @c used_idx the next used slot).
 */
struct vb_vq_inflight_ops {
	/** A chain with this head was taken from the available ring (vb_vq_pop(),
	 *  vb_vq_pop_batch()); not called for resubmitted heads nor by vb_vq_pop_head(). */
	void (*popped)(void *ctx, struct vb_vq *vq, uint16_t head);
	/** The used element for @p head is about to be written (one chain at a time). */
	void (*pre_push)(void *ctx, struct vb_vq *vq, uint16_t head);
	/** The used index covering @p head is published; @p used_idx is its new value. */
	void (*post_push)(void *ctx, struct vb_vq *vq, uint16_t head, uint16_t used_idx);
	/** Next head to hand out again before anything new from the available ring, or -1.
	 *  May be NULL. */
	int  (*resubmit)(void *ctx, struct vb_vq *vq);
	/** The used element and index for @p chain are published (after post_push): the
	 *  device wrote the first @p written bytes of chain->write[], the used element at
	 *  used ring slot (used_idx - 1) % num and the used index. For a transport that logs
	 *  the guest memory the device writes (vhost-user dirty logging for migration). May
	 *  be NULL. @satisfy{VB-REQ-VU-403} */
	void (*log_push)(void *ctx, struct vb_vq *vq, const struct vb_chain *chain,
			 uint32_t written);
	/** Packed queues: a chain was taken from the descriptor ring; its chain->ring_slots
	 *  descriptors are at slots @p first, @p first + 1, ... (modulo the queue size) of
	 *  @p ring, guest memory the driver does not rewrite before the chain is used. Not
	 *  called for resubmitted chains. @satisfy{VB-REQ-VU-304} */
	void (*popped_packed)(void *ctx, struct vb_vq *vq, const struct vb_chain *chain,
			      const struct vb_vring_packed_desc *ring, uint16_t first);
	/** Packed queues: the next chain to hand out again before anything new from the ring,
	 *  as *@p n private copies of its descriptors (head first; valid until the next call),
	 *  or NULL when there is none. Walked as vb_vq_pop_descs() does. */
	const struct vb_vring_packed_desc *(*resubmit_packed)(void *ctx, struct vb_vq *vq,
							      unsigned int *n);
};

/**
 * @brief Set (or clear, with NULL) the inflight hooks of a queue. With hooks, pushes write
 * one used element and index at a time (pre_push, push, post_push per chain); without them
 * pop and push cost one more predictable branch. Context: control path, queue not in use.
 * @satisfy{VB-REQ-VU-301}
 */
void vb_vq_set_inflight_ops(struct vb_vq *vq, const struct vb_vq_inflight_ops *ops, void *ctx);

/**
 * @brief Walk the split descriptor chain at @p head into @p chain as vb_vq_pop() would, with
 * the same checks, without touching the available ring position (resubmission of a chain
 * popped before a back-end restart).
 * @return 1; -EINVAL (@p head not below the queue size); -ENOTSUP (packed queue); -EAGAIN
 *         (not live); -ENOTRECOVERABLE (broken); or the errno a bad chain breaks the queue with.
 * Context: data path. @satisfy{VB-REQ-VU-302}
 */
int vb_vq_pop_head(struct vb_vq *vq, uint16_t head, struct vb_chain *chain);

/**
 * @brief Walk a packed chain given as @p n copies of its descriptors (head first, as they
 * were in the ring) into @p chain with the checks of vb_vq_pop(), without touching the ring
 * or its position (resubmission of a chain popped before a back-end restart, whose ring
 * slots may hold used descriptors by now). The AVAIL/USED bits are not looked at; NEXT must
 * be set on all but the last copy; one INDIRECT copy walks its table.
 * @return 1; -EINVAL (@p n is 0 or above the queue size); -ENOTSUP (split queue); -EAGAIN
 *         (not live); -ENOTRECOVERABLE (broken); or the errno a bad chain breaks the queue with.
 * Context: data path. @satisfy{VB-REQ-VU-304}
 */
int vb_vq_pop_descs(struct vb_vq *vq, const struct vb_vring_packed_desc *descs, unsigned int n,
		    struct vb_chain *chain);

#ifdef __cplusplus
}
#endif

#endif /* VIRTIO_BACKEND_VQ_H */
