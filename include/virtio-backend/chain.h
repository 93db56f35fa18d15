/* SPDX-License-Identifier: MIT */
/**
 * @file chain.h
 * @brief Descriptor chains as iovecs into guest memory, and helpers to use them.  [device SDK]
 *
 * A popped chain is a head id plus two iovec lists: the bytes the driver wrote (the device may
 * only read them) and the bytes the device may write. The iovecs point straight into guest
 * memory (zero copy) and stay valid until the chain is pushed back or the memory map changes.
 * Storage for the lists belongs to the caller.
 *
 * The guest may change its buffers at any time. Copy a request header out once with
 * vb_chain_read(), validate the copy, and never read the guest's bytes twice trusting both.
 */
#ifndef VIRTIO_BACKEND_CHAIN_H
#define VIRTIO_BACKEND_CHAIN_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/**
 * @brief One contiguous piece of guest memory, mapped into the host.
 *
 * Same layout as POSIX struct iovec on every supported platform: POSIX code may pass an array
 * of these to preadv() or io_uring (src/port/posix/iov.c asserts it).
 */
struct vb_iov {
	void	*base;
	size_t	len;
};

/**
 * @brief A descriptor chain popped from a virtqueue, in caller storage.
 *
 * Set read/write/max_read/max_write (VB_CHAIN_INIT does it) before popping; the rest is
 * filled by vb_vq_pop().
 */
struct vb_chain {
	uint16_t	head;		/**< id to hand back (split: head index; packed: buffer id) */
	uint16_t	ring_slots;	/**< ring descriptors the chain used (packed ring) */
	uint16_t	n_read;		/**< entries used in read[] */
	uint16_t	n_write;	/**< entries used in write[] */
	uint16_t	max_read;	/**< capacity of read[] */
	uint16_t	max_write;	/**< capacity of write[] */
	uint32_t	read_len;	/**< total bytes the device may read */
	uint32_t	write_len;	/**< total bytes the device may write */
	struct vb_iov	*read;		/**< the driver wrote these; the device only reads them */
	struct vb_iov	*write;		/**< the device may write these */
};

/** @brief Initialiser for a chain over two iovec arrays (not pointers). */
#define VB_CHAIN_INIT(rd, wr) { 0, 0, 0, 0, \
	(uint16_t)(sizeof(rd) / sizeof((rd)[0])), (uint16_t)(sizeof(wr) / sizeof((wr)[0])), \
	0, 0, (rd), (wr) }

/**
 * @brief Copy bytes the driver wrote out of a chain, once.
 * @param c    the chain
 * @param off  offset into the readable part
 * @param buf  destination
 * @param len  bytes to copy
 * @return @p len on success; -EBADMSG if the readable part has fewer than off + len bytes
 *         (nothing is copied then).
 * Context: any. @satisfy{VB-REQ-CHAIN-001}
 */
int vb_chain_read(const struct vb_chain *c, size_t off, void *buf, size_t len);

/**
 * @brief Copy bytes into the device-writable part of a chain.
 * @param c    the chain
 * @param off  offset into the writable part
 * @param buf  source
 * @param len  bytes to copy
 * @return @p len on success; -ENOSPC if the writable part has fewer than off + len bytes
 *         (nothing is copied then).
 * Context: any. @satisfy{VB-REQ-CHAIN-002}
 */
int vb_chain_write(const struct vb_chain *c, size_t off, const void *buf, size_t len);

/**
 * @brief A position in an iovec list, walked without flattening it.
 */
struct vb_iov_cursor {
	const struct vb_iov *iov;	/**< the list */
	unsigned int	n;		/**< entries in the list */
	unsigned int	idx;		/**< current entry */
	size_t		off;		/**< offset into the current entry */
	size_t		remaining;	/**< bytes from here to the end of the list */
};

/**
 * @brief Start a cursor at the beginning of @p n iovecs.
 * Context: any.
 */
void vb_iov_cursor_init(struct vb_iov_cursor *cur, const struct vb_iov *iov, unsigned int n);

/**
 * @brief Copy up to @p len bytes from the cursor into @p buf and advance.
 * @return bytes copied (less than @p len only at the end of the list).
 * Context: any. @satisfy{VB-REQ-CHAIN-003}
 */
size_t vb_iov_cursor_read(struct vb_iov_cursor *cur, void *buf, size_t len);

/**
 * @brief Copy up to @p len bytes from @p buf to the cursor's position and advance.
 * @return bytes copied (less than @p len only at the end of the list).
 * Context: any. @satisfy{VB-REQ-CHAIN-003}
 */
size_t vb_iov_cursor_write(struct vb_iov_cursor *cur, const void *buf, size_t len);

/**
 * @brief Advance the cursor by up to @p len bytes.
 * @return bytes skipped.
 * Context: any.
 */
size_t vb_iov_cursor_skip(struct vb_iov_cursor *cur, size_t len);

/**
 * @brief Take the next zero-copy piece of at most @p len bytes and advance past it.
 * @param cur  the cursor
 * @param len  most bytes wanted
 * @param out  receives a pointer into guest memory and its length (<= @p len)
 * @return 1 if a piece was taken, 0 at the end of the list or if @p len is 0.
 * Context: any. @satisfy{VB-REQ-CHAIN-003}
 */
int vb_iov_cursor_next(struct vb_iov_cursor *cur, size_t len, struct vb_iov *out);

/**
 * @brief Describe the first @p len bytes from the cursor as iovecs into @p out (zero copy),
 * advancing past them; used to hand a request's data part to readv/io_uring.
 * @return number of iovecs written; -E2BIG if more than @p out_num are needed or fewer than
 *         @p len bytes remain (the cursor does not move then).
 * Context: any.
 */
int vb_iov_cursor_slice(struct vb_iov_cursor *cur, size_t len, struct vb_iov *out,
			unsigned int out_num);

#ifdef __cplusplus
}
#endif

#endif /* VIRTIO_BACKEND_CHAIN_H */
