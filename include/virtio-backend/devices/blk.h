/* SPDX-License-Identifier: MIT */
/**
 * @file blk.h
 * @brief virtio-blk device model and its host backends.   [users]
 *
 * The model implements virtio 1.2, 5.2 "Block Device" as a struct vb_device_ops: it knows no
 * transport. A host builds it in caller storage (vb_blk_init(), sized by vb_blk_size()) or
 * on the heap (vb_blk_create()), hands vb_blk_device_ops() and the model to vb_dev_init()
 * of whatever transport it uses, and the model serves requests through a small host backend
 * table (struct vb_blk_backend_ops).
 *
 * Data path: for each popped chain the model copies the 16-byte request header out of guest
 * memory once, validates it (type, sector range against the capacity without overflow, data
 * length a multiple of 512, buffer directions, the status byte being the last writable byte),
 * and hands the backend the data part as slices of the chain's own iovecs (zero copy).
 * Backends may complete at once (synchronous) or later (asynchronous, vb_blk_complete());
 * each request in flight lives in a slot of the model's request table, allocated once when
 * the model is built (no allocation per request). A malformed request is answered with
 * VIRTIO_BLK_S_IOERR or VIRTIO_BLK_S_UNSUPP in its status byte and never stops the queue;
 * one without any writable byte is returned with 0 bytes written.
 *
 * Threading: like vq.h, one consumer per queue. vb_blk_complete() and vb_blk_notify() must be
 * called by the thread that serves the request's queue.
 */
#ifndef VIRTIO_BACKEND_DEVICES_BLK_H
#define VIRTIO_BACKEND_DEVICES_BLK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../chain.h"
#include "../device.h"
#include "../endian.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- wire format: virtio 1.2, 5.2 "Block Device" -------------------------------------- */

/** @name Feature bits (bit numbers; virtio 1.2, 5.2.3 "Feature bits") */
/** @{ */
#define VB_VIRTIO_BLK_F_SIZE_MAX	1
#define VB_VIRTIO_BLK_F_SEG_MAX		2
#define VB_VIRTIO_BLK_F_GEOMETRY	4
#define VB_VIRTIO_BLK_F_RO		5
#define VB_VIRTIO_BLK_F_BLK_SIZE	6
#define VB_VIRTIO_BLK_F_FLUSH		9
#define VB_VIRTIO_BLK_F_TOPOLOGY	10
#define VB_VIRTIO_BLK_F_CONFIG_WCE	11
#define VB_VIRTIO_BLK_F_MQ		12
#define VB_VIRTIO_BLK_F_DISCARD		13
#define VB_VIRTIO_BLK_F_WRITE_ZEROES	14
#define VB_VIRTIO_BLK_F_LIFETIME	15
#define VB_VIRTIO_BLK_F_SECURE_ERASE	16
#define VB_VIRTIO_BLK_F_ZONED		17
/** @} */

/** @name Request types (virtio 1.2, 5.2.6 "Device Operation") */
/** @{ */
#define VB_VIRTIO_BLK_T_IN		0u
#define VB_VIRTIO_BLK_T_OUT		1u
#define VB_VIRTIO_BLK_T_FLUSH		4u
#define VB_VIRTIO_BLK_T_GET_ID		8u
#define VB_VIRTIO_BLK_T_GET_LIFETIME	10u
#define VB_VIRTIO_BLK_T_DISCARD		11u
#define VB_VIRTIO_BLK_T_WRITE_ZEROES	13u
#define VB_VIRTIO_BLK_T_SECURE_ERASE	14u
/** @} */

/** @name Status byte values */
/** @{ */
#define VB_VIRTIO_BLK_S_OK		0u
#define VB_VIRTIO_BLK_S_IOERR		1u
#define VB_VIRTIO_BLK_S_UNSUPP		2u
/** @} */

/** @brief Sector size of the protocol, whatever blk_size says. */
#define VB_VIRTIO_BLK_SECTOR_SIZE	512u
#define VB_VIRTIO_BLK_SECTOR_SHIFT	9
/** @brief Length of the device ID string (NUL-padded, no terminator at 20 bytes). */
#define VB_VIRTIO_BLK_ID_BYTES		20u
/** @brief flags.unmap of a discard / write zeroes segment. */
#define VB_VIRTIO_BLK_WRITE_ZEROES_FLAG_UNMAP	1u

/** @brief Request header, the first 16 driver-written bytes of every request. */
struct vb_virtio_blk_req_hdr {
	vb_le32	type;
	vb_le32	reserved;	/**< ioprio in the legacy interface */
	vb_le64	sector;
};

/** @brief One segment of a discard or write zeroes request. */
struct vb_virtio_blk_discard_write_zeroes {
	vb_le64	sector;
	vb_le32	num_sectors;
	vb_le32	flags;		/**< bit 0 unmap, bits 1..31 reserved */
};

/** @brief Data of a GET_LIFETIME request. */
struct vb_virtio_blk_lifetime {
	vb_le16	pre_eol_info;
	vb_le16	device_lifetime_est_typ_a;
	vb_le16	device_lifetime_est_typ_b;
};

/** @brief Device configuration layout (virtio 1.2, 5.2.4), 96 bytes, zoned part included. */
struct vb_virtio_blk_config {
	vb_le64	capacity;
	vb_le32	size_max;
	vb_le32	seg_max;
	vb_le16	geometry_cylinders;
	uint8_t	geometry_heads;
	uint8_t	geometry_sectors;
	vb_le32	blk_size;
	uint8_t	physical_block_exp;
	uint8_t	alignment_offset;
	vb_le16	min_io_size;
	vb_le32	opt_io_size;
	uint8_t	writeback;
	uint8_t	unused0;
	vb_le16	num_queues;
	vb_le32	max_discard_sectors;
	vb_le32	max_discard_seg;
	vb_le32	discard_sector_alignment;
	vb_le32	max_write_zeroes_sectors;
	vb_le32	max_write_zeroes_seg;
	uint8_t	write_zeroes_may_unmap;
	uint8_t	unused1[3];
	vb_le32	max_secure_erase_sectors;
	vb_le32	max_secure_erase_seg;
	vb_le32	secure_erase_sector_alignment;
	vb_le32	zone_sectors;
	vb_le32	max_open_zones;
	vb_le32	max_active_zones;
	vb_le32	max_append_sectors;
	vb_le32	write_granularity;
	uint8_t	model;
	uint8_t	unused2[3];
};

/** @name Offsets of config fields the model or a test refers to */
/** @{ */
#define VB_VIRTIO_BLK_CONFIG_CAPACITY	0u
#define VB_VIRTIO_BLK_CONFIG_WRITEBACK	32u
#define VB_VIRTIO_BLK_CONFIG_NUM_QUEUES	34u
#define VB_VIRTIO_BLK_CONFIG_LEN	96u
/** @} */

#if defined(__cplusplus)
static_assert(sizeof(struct vb_virtio_blk_req_hdr) == 16, "request header is 16 bytes");
static_assert(sizeof(struct vb_virtio_blk_discard_write_zeroes) == 16, "segment is 16 bytes");
static_assert(sizeof(struct vb_virtio_blk_lifetime) == 6, "lifetime is 6 bytes");
static_assert(sizeof(struct vb_virtio_blk_config) == 96, "config space is 96 bytes");
#else
_Static_assert(sizeof(struct vb_virtio_blk_req_hdr) == 16, "request header is 16 bytes");
_Static_assert(sizeof(struct vb_virtio_blk_discard_write_zeroes) == 16, "segment is 16 bytes");
_Static_assert(sizeof(struct vb_virtio_blk_lifetime) == 6, "lifetime is 6 bytes");
_Static_assert(sizeof(struct vb_virtio_blk_config) == 96, "config space is 96 bytes");
#endif

/* ---- the model's configuration --------------------------------------------------------- */

/** @brief First version of struct vb_blk_config. */
#define VB_BLK_CONFIG_V1 1u

/** @name struct vb_blk_config flags */
/** @{ */
#define VB_BLK_CFG_READ_ONLY	(1u << 0)	/**< offer VIRTIO_BLK_F_RO; refuse every write */
#define VB_BLK_CFG_WRITETHROUGH	(1u << 1)	/**< writeback starts at 0 (CONFIG_WCE) */
#define VB_BLK_CFG_DISCARD	(1u << 2)	/**< offer VIRTIO_BLK_F_DISCARD */
#define VB_BLK_CFG_WRITE_ZEROES	(1u << 3)	/**< offer VIRTIO_BLK_F_WRITE_ZEROES */
#define VB_BLK_CFG_WZ_MAY_UNMAP	(1u << 4)	/**< write_zeroes_may_unmap = 1 */
/** @} */

/** @brief Most queues a model has. */
#define VB_BLK_MAX_QUEUES	64u
/** @brief seg_max when the configuration leaves it 0. */
#define VB_BLK_SEG_MAX_DEFAULT	126u
/** @brief Largest seg_max (so a request's data fits one preadv/pwritev: IOV_MAX 1024). */
#define VB_BLK_SEG_MAX_LIMIT	1016u
/** @brief iovecs a request's data may take beyond seg_max (buffers split by memory regions). */
#define VB_BLK_IOV_SLACK	8u
/** @brief Queue size when the configuration leaves queue_num_max 0. */
#define VB_BLK_QUEUE_NUM_DEFAULT 256u

/**
 * @brief What the host tells the model about the disk. Zero means "default" or "not
 * offered" for every field but capacity and version.
 */
struct vb_blk_config {
	uint32_t version;		/**< VB_BLK_CONFIG_V1 */
	uint32_t flags;			/**< VB_BLK_CFG_* */
	uint64_t capacity;		/**< disk size in 512-byte sectors (from the backend) */
	uint16_t num_queues;		/**< request queues, 1..VB_BLK_MAX_QUEUES (0: 1); MQ if > 1 */
	uint16_t queue_num_max;		/**< largest queue size (0: VB_BLK_QUEUE_NUM_DEFAULT) */
	uint32_t seg_max;		/**< most data segments per request (0: default) */
	uint32_t size_max;		/**< largest segment in bytes (0: SIZE_MAX not offered) */
	uint32_t blk_size;		/**< logical block size (0: BLK_SIZE not offered) */
	uint8_t	 physical_block_exp;	/**< topology (TOPOLOGY offered if any is non-zero) */
	uint8_t	 alignment_offset;
	uint16_t min_io_size;
	uint32_t opt_io_size;
	uint16_t cylinders;		/**< geometry (GEOMETRY offered if cylinders != 0) */
	uint8_t	 heads;
	uint8_t	 sectors;
	uint32_t max_discard_sectors;	/**< 0: UINT32_MAX */
	uint32_t max_discard_seg;	/**< 0: 1; at most seg_max + VB_BLK_IOV_SLACK */
	uint32_t discard_sector_alignment; /**< 0: blk_size / 512, or 1 */
	uint32_t max_write_zeroes_sectors; /**< 0: UINT32_MAX */
	uint32_t max_write_zeroes_seg;	/**< 0: 1; at most seg_max + VB_BLK_IOV_SLACK */
	char	 serial[VB_VIRTIO_BLK_ID_BYTES]; /**< GET_ID string (NUL-padded) */
	uint64_t features_off;		/**< feature bits never to offer (e.g. FLUSH, packed) */
};

/* ---- host backends --------------------------------------------------------------------- */

/** @brief Backend operations. */
enum vb_blk_op {
	VB_BLK_OP_READ = 0,		/**< fill iov from [offset, offset + len) */
	VB_BLK_OP_WRITE = 1,		/**< write iov to [offset, offset + len) */
	VB_BLK_OP_FLUSH = 2,		/**< make completed writes stable */
	VB_BLK_OP_DISCARD = 3,		/**< may deallocate [offset, offset + len) */
	VB_BLK_OP_WRITE_ZEROES = 4	/**< make [offset, offset + len) read as zeroes */
};

/** @name struct vb_blk_io flags */
/** @{ */
#define VB_BLK_IO_FUA	(1u << 0)	/**< write: stable on completion (writethrough cache) */
#define VB_BLK_IO_UNMAP	(1u << 1)	/**< write zeroes: the range may be deallocated */
/** @} */

struct vb_blk;

/**
 * @brief One backend operation. Lives in the model's request table from submit until
 * vb_blk_complete(); the backend reads it and must not change it.
 */
struct vb_blk_io {
	uint32_t		op;		/**< enum vb_blk_op */
	uint32_t		flags;		/**< VB_BLK_IO_* */
	uint64_t		offset;		/**< bytes (sector * 512) */
	uint64_t		len;		/**< bytes; for READ/WRITE the sum of iov */
	const struct vb_iov	*iov;		/**< READ/WRITE: guest buffers (zero copy) */
	unsigned int		iov_num;	/**< entries of iov, at most seg_max + slack */
	uint16_t		qidx;		/**< request queue, for backends with one ring each */
	struct vb_blk		*blk;		/**< the model, for vb_blk_notify() */
};

/** @brief First version of struct vb_blk_backend_ops. */
#define VB_BLK_BACKEND_OPS_V1 1u

/** @brief submit() return: the backend will call vb_blk_complete() later. */
#define VB_BLK_PENDING 1

/**
 * @brief A host backend. One table serves synchronous backends (every submit completes
 * before it returns) and asynchronous ones (io_uring: submit queues the operation, commit
 * starts a batch, completions arrive through vb_blk_complete()).
 */
struct vb_blk_backend_ops {
	uint32_t version;	/**< VB_BLK_BACKEND_OPS_V1 */
	/**
	 * Start @p io. Return 0 if it completed successfully, a negative errno if it failed
	 * (-ENOTSUP: the model answers VIRTIO_BLK_S_UNSUPP; anything else VIRTIO_BLK_S_IOERR),
	 * or VB_BLK_PENDING if the backend calls vb_blk_complete(@p io, result) later; never
	 * from inside submit. Required.
	 */
	int  (*submit)(void *backend, struct vb_blk_io *io);
	/** End of a kick's batch: an asynchronous backend submits what it queued. May be NULL. */
	void (*commit)(void *backend);
	/**
	 * Device or queue reset: complete every operation in flight (vb_blk_complete()) before
	 * returning, because the guest memory they use may go away. May be NULL if submit never
	 * returns VB_BLK_PENDING.
	 */
	void (*drain)(void *backend);
	/** Storage lifetime for GET_LIFETIME (LIFETIME is offered only if set). May be NULL. */
	int  (*get_lifetime)(void *backend, struct vb_virtio_blk_lifetime *lt);
};

/* ---- the model ------------------------------------------------------------------------- */

/**
 * @brief Bytes of storage vb_blk_init() needs for @p cfg (request table included).
 * @return the size, or 0 if @p cfg is invalid (see vb_blk_init()).
 * Context: any. @satisfy{VB-REQ-BLK-001}
 */
size_t vb_blk_size(const struct vb_blk_config *cfg);

/**
 * @brief Build a model in caller storage.
 * @param storage      at least vb_blk_size(@p cfg) bytes, 8-byte aligned
 * @param storage_len  bytes at @p storage
 * @param cfg          the disk (copied)
 * @param ops          the backend (kept by reference; version VB_BLK_BACKEND_OPS_V1 or later)
 * @param backend      the backend's context, passed to @p ops
 * @param out          receives the model
 * @return 0; -EINVAL for a NULL or misaligned argument, a config or ops version of 0, no
 *         submit, num_queues above VB_BLK_MAX_QUEUES, queue_num_max above 32768, seg_max above
 *         VB_BLK_SEG_MAX_LIMIT, or a discard/write-zeroes segment limit above seg_max +
 *         VB_BLK_IOV_SLACK; -ENOSPC if @p storage_len is too small.
 * Context: control path; no allocation. @satisfy{VB-REQ-BLK-001}
 */
int vb_blk_init(void *storage, size_t storage_len, const struct vb_blk_config *cfg,
		const struct vb_blk_backend_ops *ops, void *backend, struct vb_blk **out);

/**
 * @brief vb_blk_init() in memory from malloc(); free with vb_blk_destroy().
 * @return 0, -ENOMEM, or an error of vb_blk_init().
 * Context: control path; allocates once.
 */
int vb_blk_create(const struct vb_blk_config *cfg, const struct vb_blk_backend_ops *ops,
		  void *backend, struct vb_blk **out);

/** @brief Free a model from vb_blk_create() (NULL is ignored). Context: control path. */
void vb_blk_destroy(struct vb_blk *blk);

/**
 * @brief The model's device table, to pass to vb_dev_init() with @p blk as priv.
 * Context: any. @satisfy{VB-REQ-BLK-002}
 */
const struct vb_device_ops *vb_blk_device_ops(const struct vb_blk *blk);

/**
 * @brief An asynchronous backend finished @p io.
 * @param io      the operation from submit
 * @param result  0 on success, or a negative errno (-ENOTSUP: VIRTIO_BLK_S_UNSUPP, else
 *                VIRTIO_BLK_S_IOERR)
 *
 * Writes the status byte and returns the chain to the driver (pushed, not yet notified:
 * call vb_blk_notify() after a batch of completions), or submits the request's next
 * discard/write-zeroes segment. A completion for a request whose queue was reset meanwhile
 * only frees its slot.
 * Context: data path, the queue's thread; never from inside submit. @satisfy{VB-REQ-BLK-020}
 */
void vb_blk_complete(struct vb_blk_io *io, int result);

/**
 * @brief After a batch of vb_blk_complete() calls: notify the driver of every queue that
 * has new used buffers, and resume queues that ran out of request slots.
 * Context: data path. @satisfy{VB-REQ-BLK-020}
 */
void vb_blk_notify(struct vb_blk *blk);

/**
 * @brief The host resized the disk: set capacity and send a configuration change
 * notification once the driver is running.
 * @return 0 or the transport's negative errno.
 * Context: control path (between kicks). @satisfy{VB-REQ-BLK-004}
 */
int vb_blk_set_capacity(struct vb_blk *blk, uint64_t sectors);

/** @brief Requests handed to the backend and not yet completed. Context: any. */
unsigned int vb_blk_inflight(const struct vb_blk *blk);

/** @brief Counters of a model (never reset except by vb_blk_init()). */
struct vb_blk_stats {
	uint64_t requests;	/**< chains popped */
	uint64_t ok;		/**< answered VIRTIO_BLK_S_OK */
	uint64_t ioerr;		/**< answered VIRTIO_BLK_S_IOERR */
	uint64_t unsupp;	/**< answered VIRTIO_BLK_S_UNSUPP */
	uint64_t no_status;	/**< returned without a status byte (no writable byte) */
	uint64_t bytes_read;	/**< data bytes read into the guest */
	uint64_t bytes_written;	/**< data bytes written from the guest */
};

/** @brief Copy the model's counters. Context: any. */
void vb_blk_get_stats(const struct vb_blk *blk, struct vb_blk_stats *st);

/* ---- file backends (Linux) ------------------------------------------------------------- */

/** @name vb_blk_file_open() flags */
/** @{ */
#define VB_BLK_FILE_READ_ONLY	(1u << 0)	/**< open O_RDONLY */
#define VB_BLK_FILE_DIRECT	(1u << 1)	/**< O_DIRECT (guest buffers must be aligned) */
/** @} */

struct vb_blk_file;

/**
 * @brief Synchronous file backend: preadv/pwritev2/fdatasync/fallocate on a regular file or
 * block device.
 * @param path   the image
 * @param flags  VB_BLK_FILE_*
 * @param out    receives the backend (free with vb_blk_file_close())
 * @return 0, -ENOMEM, or the negative errno of open()/fstat().
 * Context: control path. @satisfy{VB-REQ-BLK-030}
 */
int vb_blk_file_open(const char *path, unsigned int flags, struct vb_blk_file **out);

/** @brief Close a file backend (NULL is ignored). */
void vb_blk_file_close(struct vb_blk_file *f);

/** @brief The image size in 512-byte sectors (rounded down), for vb_blk_config.capacity. */
uint64_t vb_blk_file_capacity(const struct vb_blk_file *f);

/** @brief The table to pass to vb_blk_init() with the file backend as context. */
extern const struct vb_blk_backend_ops vb_blk_file_ops;

struct vb_blk_uring;

/**
 * @brief io_uring file backend (built when liburing is found): the guest's iovecs go to
 * IORING_OP_READV/WRITEV/FSYNC/FALLOCATE directly, submitted once per kick (commit), and
 * completions are reaped by vb_blk_uring_complete() when the eventfd of
 * vb_blk_uring_eventfd() is readable. Without VB_BLK_FILE_DIRECT, reads the page cache holds
 * and writes that need not wait for the disk complete inside submit, on the caller's thread
 * (preadv2/pwritev2 with RWF_NOWAIT; where the file system has no non-blocking buffered
 * writes, a non-FUA write of at most 128 KiB while nothing is in flight on the ring).
 * @param path     the image
 * @param flags    VB_BLK_FILE_*
 * @param entries  submission queue size (at least the requests the model can have in
 *                 flight, i.e. num_queues * queue_num_max; 0: 256)
 * @param out      receives the backend (free with vb_blk_uring_close())
 * @return 0; -ENOMEM; -ENOTSUP if io_uring is not built in; the negative errno of open()
 *         or io_uring_queue_init() (e.g. -ENOSYS or -EPERM when io_uring is forbidden).
 * Context: control path. @satisfy{VB-REQ-BLK-031}
 */
int vb_blk_uring_open(const char *path, unsigned int flags, unsigned int entries,
		      struct vb_blk_uring **out);

/** @brief Close an io_uring backend after draining it (NULL is ignored). */
void vb_blk_uring_close(struct vb_blk_uring *u);

/** @brief The image size in 512-byte sectors (rounded down). */
uint64_t vb_blk_uring_capacity(const struct vb_blk_uring *u);

/** @brief An eventfd that becomes readable when completions are ready (the host polls it). */
int vb_blk_uring_eventfd(const struct vb_blk_uring *u);

/**
 * @brief Reap completions: wait until at least @p min_wait are ready (0: do not block),
 * call vb_blk_complete() for each and vb_blk_notify() for their models.
 * @return completions reaped, or a negative errno from io_uring.
 * Context: data path, the queues' thread.
 */
int vb_blk_uring_complete(struct vb_blk_uring *u, unsigned int min_wait);

/** @brief The table to pass to vb_blk_init() with the io_uring backend as context. */
extern const struct vb_blk_backend_ops vb_blk_uring_ops;

#ifdef __cplusplus
}
#endif

#endif /* VIRTIO_BACKEND_DEVICES_BLK_H */
