/* SPDX-License-Identifier: MIT */
/**
 * @file i2c.h
 * @brief virtio-i2c device model and its host backends.   [users]
 *
 * The model implements virtio 1.2, 5.19 "I2C Adapter Device" as a struct vb_device_ops: one
 * request queue, no config space, VIRTIO_I2C_F_ZERO_LENGTH_REQUEST offered. A host builds it
 * in caller storage (vb_i2c_init(), sized by vb_i2c_size()) or on the heap
 * (vb_i2c_create()), hands vb_i2c_device_ops() and the model to vb_dev_init() of its
 * transport, and the model sends I2C transactions to a small host backend table
 * (struct vb_i2c_backend_ops): Linux i2c-dev adapters (vb_i2c_host_*) or a simulated bus
 * with simulated chips (vb_i2c_sim_*).
 *
 * Data path: each request is an 8-byte out header (addr, padding, flags), an optional buffer
 * (device-readable for a write, device-writable for a read) and a status byte, the last
 * writable byte. The model copies the header out once, validates it and the chain's shape,
 * and collects requests into a *group*: requests carrying VIRTIO_I2C_FLAGS_FAIL_NEXT and the
 * first one after them without it. A group is one I2C transaction (repeated starts between
 * its messages, one stop at the end), handed to the backend in one call with the message
 * buffers as iovecs into guest memory (zero copy). A group with any malformed request is
 * answered VIRTIO_I2C_MSG_ERR as a whole without touching the bus; when the bus fails message
 * k, messages before k are answered OK and k and the rest ERR (virtio 1.2, 5.19.6:
 * FAIL_NEXT). A group still open when the ring runs empty waits for its remaining requests
 * (the driver publishes them one by one); one longer than VB_I2C_MAX_GROUP messages or than
 * the queue is failed, a device or queue reset forgets it, and one whose guest memory map
 * changed before its end arrived is returned untouched (used length 0). No allocation per
 * request.
 *
 * Threading: like vq.h, one consumer per queue; backends are called from the kick.
 */
#ifndef VIRTIO_BACKEND_DEVICES_I2C_H
#define VIRTIO_BACKEND_DEVICES_I2C_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../chain.h"
#include "../device.h"
#include "../endian.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- wire format: virtio 1.2, 5.19 "I2C Adapter Device" -------------------------------- */

/** @brief Feature bit (bit number; virtio 1.2, 5.19.3 "Feature bits"). */
#define VB_VIRTIO_I2C_F_ZERO_LENGTH_REQUEST	0

/** @name out_hdr.flags (virtio 1.2, 5.19.6 "Device Operation") */
/** @{ */
#define VB_VIRTIO_I2C_FLAGS_FAIL_NEXT	(1u << 0)	/**< the next request belongs to this group */
#define VB_VIRTIO_I2C_FLAGS_M_RD	(1u << 1)	/**< a read (ZERO_LENGTH_REQUEST) */
/** @} */

/** @name in_hdr.status */
/** @{ */
#define VB_VIRTIO_I2C_MSG_OK	0u
#define VB_VIRTIO_I2C_MSG_ERR	1u
/** @} */

/** @brief The driver-written header of every request. */
struct vb_virtio_i2c_out_hdr {
	vb_le16	addr;		/**< 7-bit address in bits 7..1 (I2C 3.1.10) */
	vb_le16	padding;
	vb_le32	flags;		/**< VB_VIRTIO_I2C_FLAGS_* */
};

/** @brief The device-written trailer of every request. */
struct vb_virtio_i2c_in_hdr {
	uint8_t	status;		/**< VB_VIRTIO_I2C_MSG_* */
};

#if defined(__cplusplus)
static_assert(sizeof(struct vb_virtio_i2c_out_hdr) == 8, "out header is 8 bytes");
#else
_Static_assert(sizeof(struct vb_virtio_i2c_out_hdr) == 8, "out header is 8 bytes");
#endif

/* ---- the model ------------------------------------------------------------------------- */

/** @brief Most messages in one transaction (Linux's I2C_RDWR_IOCTL_MAX_MSGS). */
#define VB_I2C_MAX_GROUP	42u
/** @brief Longest message (the length field of Linux's struct i2c_msg is 16 bits). */
#define VB_I2C_MAX_LEN		65535u
/** @brief iovecs a request may use per direction (header, buffer and status, each possibly
 *  split by guest memory regions); a chain with more breaks the queue (vb_vq_pop()). */
#define VB_I2C_CHAIN_IOV	16u
/** @brief Queue size when the configuration leaves queue_num_max 0. */
#define VB_I2C_QUEUE_NUM_DEFAULT 64u

/** @brief First version of struct vb_i2c_config. */
#define VB_I2C_CONFIG_V1 1u

/** @brief The model's configuration; zero means default for every field but version. */
struct vb_i2c_config {
	uint32_t version;		/**< VB_I2C_CONFIG_V1 */
	uint16_t queue_num_max;		/**< largest queue size (0: VB_I2C_QUEUE_NUM_DEFAULT) */
	uint16_t max_group;		/**< messages per transaction (0: VB_I2C_MAX_GROUP) */
	uint64_t features_off;		/**< feature bits never to offer (e.g. packed ring) */
};

/** @brief struct vb_i2c_msg flags: the message reads from the chip. */
#define VB_I2C_MSG_RD	(1u << 0)

/** @brief One message of a transaction, handed to the backend. */
struct vb_i2c_msg {
	uint16_t		addr;		/**< 7-bit address, 0..0x7f */
	uint16_t		flags;		/**< VB_I2C_MSG_* */
	uint32_t		len;		/**< bytes, 0..VB_I2C_MAX_LEN */
	const struct vb_iov	*iov;		/**< the buffer in guest memory (write: read it;
						     read: fill it) */
	unsigned int		iov_num;	/**< entries of iov (0 if len is 0) */
};

/** @brief First version of struct vb_i2c_backend_ops. */
#define VB_I2C_BACKEND_OPS_V1 1u

/** @brief A host backend: an I2C bus. */
struct vb_i2c_backend_ops {
	uint32_t version;	/**< VB_I2C_BACKEND_OPS_V1 */
	/**
	 * Run @p n messages as one transaction (start, repeated starts, one stop). Return @p n
	 * if all succeeded, k < @p n if message k failed (a NACK) and the rest were not sent,
	 * or a negative errno if the transaction failed at an unknown message (all are
	 * answered ERR). Synchronous. Required.
	 */
	int (*transfer)(void *backend, const struct vb_i2c_msg *msgs, unsigned int n);
};

struct vb_i2c;

/**
 * @brief Bytes of storage vb_i2c_init() needs for @p cfg.
 * @return the size, or 0 if @p cfg is invalid (see vb_i2c_init()).
 * Context: any. @satisfy{VB-REQ-I2C-001}
 */
size_t vb_i2c_size(const struct vb_i2c_config *cfg);

/**
 * @brief Build a model in caller storage.
 * @param storage      at least vb_i2c_size(@p cfg) bytes, 8-byte aligned
 * @param storage_len  bytes at @p storage
 * @param cfg          the configuration (copied)
 * @param ops          the backend (kept by reference)
 * @param backend      the backend's context, passed to @p ops
 * @param out          receives the model
 * @return 0; -EINVAL for a NULL or misaligned argument, a config or ops version of 0, no
 *         transfer, queue_num_max above 32768 or max_group above VB_I2C_MAX_GROUP; -ENOSPC
 *         if @p storage_len is too small.
 * Context: control path; no allocation. @satisfy{VB-REQ-I2C-001}
 */
int vb_i2c_init(void *storage, size_t storage_len, const struct vb_i2c_config *cfg,
		const struct vb_i2c_backend_ops *ops, void *backend, struct vb_i2c **out);

/**
 * @brief vb_i2c_init() in memory from malloc(); free with vb_i2c_destroy().
 * @return 0, -ENOMEM, or an error of vb_i2c_init().
 * Context: control path; allocates once.
 */
int vb_i2c_create(const struct vb_i2c_config *cfg, const struct vb_i2c_backend_ops *ops,
		  void *backend, struct vb_i2c **out);

/** @brief Free a model from vb_i2c_create() (NULL is ignored). Context: control path. */
void vb_i2c_destroy(struct vb_i2c *i2c);

/**
 * @brief The model's device table, to pass to vb_dev_init() with @p i2c as priv.
 * Context: any. @satisfy{VB-REQ-I2C-001}
 */
const struct vb_device_ops *vb_i2c_device_ops(const struct vb_i2c *i2c);

/** @brief Counters of a model (reset only by vb_i2c_init()). */
struct vb_i2c_stats {
	uint64_t requests;	/**< chains popped */
	uint64_t ok;		/**< answered VIRTIO_I2C_MSG_OK */
	uint64_t err;		/**< answered VIRTIO_I2C_MSG_ERR */
	uint64_t malformed;	/**< of those, malformed requests */
	uint64_t no_status;	/**< returned without a status byte (no writable byte) */
	uint64_t transfers;	/**< transactions handed to the backend */
};

/** @brief Copy the model's counters. Context: any. */
void vb_i2c_get_stats(const struct vb_i2c *i2c, struct vb_i2c_stats *st);

/* ---- simulated bus --------------------------------------------------------------------- */

struct vb_i2c_sim;

/** @brief Bytes of a simulated 24c02 EEPROM. */
#define VB_I2C_SIM_EEPROM_SIZE	256u
/** @brief Page of a simulated 24c02 EEPROM: a write wraps inside its page. */
#define VB_I2C_SIM_EEPROM_PAGE	8u

/**
 * @brief A simulated bus with no chip on it; every message to an empty address is NACKed.
 * @return 0 or -ENOMEM. Context: control path. @satisfy{VB-REQ-I2C-030}
 */
int vb_i2c_sim_create(struct vb_i2c_sim **out);

/** @brief Free a simulated bus and its chips (NULL is ignored). */
void vb_i2c_sim_destroy(struct vb_i2c_sim *sim);

/**
 * @brief Put a 24c02-like EEPROM at @p addr: 256 bytes, a 1-byte address pointer that the
 * first byte of a write sets, page writes wrapping inside 8-byte pages, sequential reads
 * wrapping at 256, zero-length messages ACKed.
 * @param sim   the bus
 * @param addr  7-bit address, not yet used on the bus
 * @param path  backing file or NULL (memory, filled with 0xff). An existing file gives the
 *              initial content (a short or new file is padded with 0xff and written so at
 *              once); every transaction that wrote bytes is written back to it before the
 *              transfer returns.
 * @return 0; -EINVAL for a bad or used address; -ENOMEM; the negative errno of open()/pread().
 * Context: control path. @satisfy{VB-REQ-I2C-030}
 */
int vb_i2c_sim_add_eeprom(struct vb_i2c_sim *sim, uint16_t addr, const char *path);

/**
 * @brief Put a plain register file at @p addr: 256 byte registers reset to 0, a register
 * pointer that the first byte of a write sets, reads and writes auto-incrementing it and
 * wrapping at 256 (no pages), zero-length messages ACKed. The host may change registers under
 * the guest with vb_i2c_sim_write() (a sensor's reading, a status bit).
 * @param path  backing file or NULL, as for vb_i2c_sim_add_eeprom() (padding: 0)
 * @return as vb_i2c_sim_add_eeprom(). Context: control path. @satisfy{VB-REQ-I2C-030}
 */
int vb_i2c_sim_add_regs(struct vb_i2c_sim *sim, uint16_t addr, const char *path);

/**
 * @brief Copy @p len bytes of the chip at @p addr from offset @p off (tests, tools).
 * @return 0, or -EINVAL (no chip there, range outside its 256 bytes).
 * Context: between transfers.
 */
int vb_i2c_sim_read(const struct vb_i2c_sim *sim, uint16_t addr, uint32_t off, void *buf,
		    uint32_t len);

/**
 * @brief The host changes @p len bytes of the chip at @p addr from offset @p off (its file
 * too, if it has one); the chip's pointer does not move.
 * @return 0, -EINVAL (no chip there, range outside its 256 bytes), or the file's errno.
 * Context: between transfers (the thread that serves the queue).
 */
int vb_i2c_sim_write(struct vb_i2c_sim *sim, uint16_t addr, uint32_t off, const void *buf,
		     uint32_t len);

/** @brief True if a simulated chip answers at @p addr. */
bool vb_i2c_sim_has(const struct vb_i2c_sim *sim, uint16_t addr);

/** @brief The table to pass to vb_i2c_init() with the simulated bus as context. */
extern const struct vb_i2c_backend_ops vb_i2c_sim_ops;

/* ---- Linux i2c-dev adapters ------------------------------------------------------------ */

struct vb_i2c_host;

/**
 * @brief An empty set of host I2C clients; add them with vb_i2c_host_add().
 * @return 0 or -ENOMEM. Context: control path.
 */
int vb_i2c_host_create(struct vb_i2c_host **out);

/** @brief Close every adapter and free the set (NULL is ignored). */
void vb_i2c_host_destroy(struct vb_i2c_host *host);

/**
 * @brief Let the guest reach the client @p addr on the i2c-dev adapter @p path
 * (e.g. "/dev/i2c-1"). Each adapter is opened once and must support plain I2C transfers
 * (I2C_FUNC_I2C); a transaction is one I2C_RDWR ioctl, so all its messages must go to
 * clients of one adapter.
 * @return 0; -EINVAL for a bad address or one already added; -ENOTSUP if the adapter cannot
 *         do I2C_RDWR; -ENOMEM; the negative errno of open() or ioctl(I2C_FUNCS).
 * Context: control path. @satisfy{VB-REQ-I2C-031}
 */
int vb_i2c_host_add(struct vb_i2c_host *host, const char *path, uint16_t addr);

/** @brief True if @p addr was added. */
bool vb_i2c_host_has(const struct vb_i2c_host *host, uint16_t addr);

/** @brief The table to pass to vb_i2c_init() with the host set as context. */
extern const struct vb_i2c_backend_ops vb_i2c_host_ops;

#ifdef __cplusplus
}
#endif

#endif /* VIRTIO_BACKEND_DEVICES_I2C_H */
