/* SPDX-License-Identifier: MIT */
/**
 * @file vhost-user.h
 * @brief vhost-user backend (device side) on a unix socket.   [transport SDK, Linux, EXPERIMENTAL]
 *
 * Serves one virtio device to one vhost-user frontend at a time (QEMU, cloud-hypervisor,
 * crosvm, DPDK's virtio-user), per QEMU's docs/interop/vhost-user.rst. The frontend shares
 * guest memory by file descriptors (SET_MEM_TABLE, ADD_MEM_REG), sets up rings and passes
 * kick and call eventfds; the server maps the memory into a struct vb_mem, drives a struct
 * vb_dev built over the caller's device model, turns kicks into vb_dev_kick() and used-buffer
 * notifications into writes to the call eventfd.
 *
 * No hidden threads: the server exposes one pollable file descriptor (vb_vu_fd(), an epoll
 * instance over the listening socket, the connection and the kick eventfds) and a
 * non-blocking vb_vu_dispatch(); vb_vu_run() is a small loop for daemons. Every message is
 * validated; a bad one gets an error reply (REPLY_ACK) or is refused and logged, and a
 * message that breaks the framing closes the connection. On disconnect the server unmaps
 * everything, resets the device and accepts the next connection.
 *
 * The first half of this header is the wire format (vhost-user.rst "Message Specification"),
 * shared with driver-side test clients; numbers on the wire are in host byte order.
 * The API is in the library's VB_EXPERIMENTAL version node: it may still change.
 */
#ifndef VIRTIO_BACKEND_TRANSPORTS_VHOST_USER_H
#define VIRTIO_BACKEND_TRANSPORTS_VHOST_USER_H

#include <stdbool.h>
#include <stdint.h>

#include "../dev.h"
#include "../device.h"
#include "../port.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- Wire format ------------------------------------------------------------------- */

/** @brief Message header flags: protocol version (bits 0-1), reply, need reply. */
#define VB_VU_VERSION			0x1u
#define VB_VU_FLAG_VERSION_MASK		0x3u
#define VB_VU_FLAG_REPLY		(1u << 2)
#define VB_VU_FLAG_NEED_REPLY		(1u << 3)

/** @brief Bytes of the message header (request, flags, size). */
#define VB_VU_HDR_SIZE			12u

/** @brief Most file descriptors one message carries (VHOST_MEMORY_BASELINE_NREGIONS). */
#define VB_VU_MAX_FDS			8u
/** @brief Most regions in one SET_MEM_TABLE. */
#define VB_VU_MEM_TABLE_MAX		8u
/** @brief Most bytes of config space in one GET_CONFIG / SET_CONFIG. */
#define VB_VU_CONFIG_MAX		256u

/** @brief Front-end requests (vhost-user.rst "Front-end message types"). */
enum vb_vu_request {
	VB_VU_GET_FEATURES = 1,
	VB_VU_SET_FEATURES = 2,
	VB_VU_SET_OWNER = 3,
	VB_VU_RESET_OWNER = 4,
	VB_VU_SET_MEM_TABLE = 5,
	VB_VU_SET_LOG_BASE = 6,
	VB_VU_SET_LOG_FD = 7,
	VB_VU_SET_VRING_NUM = 8,
	VB_VU_SET_VRING_ADDR = 9,
	VB_VU_SET_VRING_BASE = 10,
	VB_VU_GET_VRING_BASE = 11,
	VB_VU_SET_VRING_KICK = 12,
	VB_VU_SET_VRING_CALL = 13,
	VB_VU_SET_VRING_ERR = 14,
	VB_VU_GET_PROTOCOL_FEATURES = 15,
	VB_VU_SET_PROTOCOL_FEATURES = 16,
	VB_VU_GET_QUEUE_NUM = 17,
	VB_VU_SET_VRING_ENABLE = 18,
	VB_VU_SEND_RARP = 19,
	VB_VU_NET_SET_MTU = 20,
	VB_VU_SET_BACKEND_REQ_FD = 21,
	VB_VU_IOTLB_MSG = 22,
	VB_VU_SET_VRING_ENDIAN = 23,
	VB_VU_GET_CONFIG = 24,
	VB_VU_SET_CONFIG = 25,
	VB_VU_GET_INFLIGHT_FD = 31,
	VB_VU_SET_INFLIGHT_FD = 32,
	VB_VU_RESET_DEVICE = 34,
	VB_VU_VRING_KICK = 35,
	VB_VU_GET_MAX_MEM_SLOTS = 36,
	VB_VU_ADD_MEM_REG = 37,
	VB_VU_REM_MEM_REG = 38,
	VB_VU_SET_STATUS = 39,
	VB_VU_GET_STATUS = 40,
};

/** @brief Back-end requests (vhost-user.rst "Back-end message types"), sent on the channel
 * the front-end passed with SET_BACKEND_REQ_FD (protocol feature BACKEND_REQ). */
enum vb_vu_backend_request {
	VB_VU_BACKEND_IOTLB_MSG = 1,
	VB_VU_BACKEND_CONFIG_CHANGE_MSG = 2,
	VB_VU_BACKEND_VRING_HOST_NOTIFIER_MSG = 3,
};

/** @brief Feature bit 30: the backend speaks protocol features (a vhost bit, not virtio). */
#define VB_VU_F_PROTOCOL_FEATURES	30u
/** @brief Feature bit 26: dirty logging of all memory (VHOST_F_LOG_ALL). */
#define VB_VU_F_LOG_ALL			26u

/** @brief Protocol feature bit numbers (vhost-user.rst "Protocol features"). */
#define VB_VU_PROTOCOL_F_MQ			0u
#define VB_VU_PROTOCOL_F_LOG_SHMFD		1u
#define VB_VU_PROTOCOL_F_RARP			2u
#define VB_VU_PROTOCOL_F_REPLY_ACK		3u
#define VB_VU_PROTOCOL_F_MTU			4u
#define VB_VU_PROTOCOL_F_BACKEND_REQ		5u
#define VB_VU_PROTOCOL_F_CROSS_ENDIAN		6u
#define VB_VU_PROTOCOL_F_CRYPTO_SESSION		7u
#define VB_VU_PROTOCOL_F_PAGEFAULT		8u
#define VB_VU_PROTOCOL_F_CONFIG			9u
#define VB_VU_PROTOCOL_F_BACKEND_SEND_FD	10u
#define VB_VU_PROTOCOL_F_HOST_NOTIFIER		11u
#define VB_VU_PROTOCOL_F_INFLIGHT_SHMFD		12u
#define VB_VU_PROTOCOL_F_RESET_DEVICE		13u
#define VB_VU_PROTOCOL_F_INBAND_NOTIFICATIONS	14u
#define VB_VU_PROTOCOL_F_CONFIGURE_MEM_SLOTS	15u
#define VB_VU_PROTOCOL_F_STATUS			16u

/** @brief The protocol features this implementation supports (and offers by default). */
#define VB_VU_PROTOCOL_FEATURES_SUPPORTED \
	((UINT64_C(1) << VB_VU_PROTOCOL_F_MQ) | \
	 (UINT64_C(1) << VB_VU_PROTOCOL_F_LOG_SHMFD) | \
	 (UINT64_C(1) << VB_VU_PROTOCOL_F_REPLY_ACK) | \
	 (UINT64_C(1) << VB_VU_PROTOCOL_F_BACKEND_REQ) | \
	 (UINT64_C(1) << VB_VU_PROTOCOL_F_CONFIG) | \
	 (UINT64_C(1) << VB_VU_PROTOCOL_F_BACKEND_SEND_FD) | \
	 (UINT64_C(1) << VB_VU_PROTOCOL_F_HOST_NOTIFIER) | \
	 (UINT64_C(1) << VB_VU_PROTOCOL_F_INFLIGHT_SHMFD) | \
	 (UINT64_C(1) << VB_VU_PROTOCOL_F_RESET_DEVICE) | \
	 (UINT64_C(1) << VB_VU_PROTOCOL_F_CONFIGURE_MEM_SLOTS) | \
	 (UINT64_C(1) << VB_VU_PROTOCOL_F_STATUS))

/** @brief SET_VRING_KICK/CALL/ERR payload: queue index bits and "no fd" flag. */
#define VB_VU_VRING_IDX_MASK		0xffu
#define VB_VU_VRING_NOFD		(1u << 8)

/** @brief SET_VRING_ADDR flags: dirty-log the used ring (needs LOG_ALL). */
#define VB_VU_VRING_F_LOG		1u

/** @brief Ring state payload (SET_VRING_NUM/BASE, GET_VRING_BASE, SET_VRING_ENABLE). */
struct vb_vu_vring_state {
	uint32_t index;
	uint32_t num;
};

/** @brief Ring address payload (SET_VRING_ADDR); addresses in the frontend's user space. */
struct vb_vu_vring_addr {
	uint32_t index;
	uint32_t flags;		/**< VB_VU_VRING_F_* */
	uint64_t desc_user_addr;
	uint64_t used_user_addr;
	uint64_t avail_user_addr;
	uint64_t log_guest_addr;
};

/**
 * @brief BACKEND_VRING_HOST_NOTIFIER_MSG payload (vhost-user.rst "Vring area description"):
 * the ring index (VB_VU_VRING_IDX_MASK) and VB_VU_VRING_NOFD in u64, and the area at offset
 * of the fd passed with the message, size bytes (a host page).
 */
struct vb_vu_vring_area {
	uint64_t u64;
	uint64_t size;
	uint64_t offset;
};

/**
 * @brief SET_LOG_BASE payload (vhost-user.rst "Log description"), with the log's fd: the
 * dirty bitmap is mmap_size bytes at mmap_offset in the fd, one bit per 4 KiB guest page
 * (bit n % 8 of byte n / 8 for the page at guest address n * 4096).
 */
struct vb_vu_log {
	uint64_t mmap_size;
	uint64_t mmap_offset;
};

/** @brief Bytes of guest memory one bit of the dirty log covers (VHOST_LOG_PAGE). */
#define VB_VU_LOG_PAGE			4096u

/** @brief One memory region of SET_MEM_TABLE / ADD_MEM_REG / REM_MEM_REG. */
struct vb_vu_mem_region {
	uint64_t guest_addr;	/**< guest physical address (buffer address space) */
	uint64_t size;		/**< bytes */
	uint64_t user_addr;	/**< the frontend's virtual address (ring address space) */
	uint64_t mmap_offset;	/**< offset of the region in the file descriptor */
};

/** @brief SET_MEM_TABLE payload: num_regions, padding, regions (one fd per region). */
struct vb_vu_mem_table {
	uint32_t num_regions;
	uint32_t padding;
	struct vb_vu_mem_region regions[VB_VU_MEM_TABLE_MAX];
};

/** @brief ADD_MEM_REG / REM_MEM_REG payload. */
struct vb_vu_mem_reg {
	uint64_t padding;
	struct vb_vu_mem_region region;
};

/** @brief GET_CONFIG / SET_CONFIG payload (header, then @c size bytes). */
struct vb_vu_config_space {
	uint32_t offset;
	uint32_t size;
	uint32_t flags;
	uint8_t  data[VB_VU_CONFIG_MAX];
};

/** @brief Bytes of struct vb_vu_config_space before the data. */
#define VB_VU_CONFIG_HDR_SIZE		12u

/**
 * @brief GET_INFLIGHT_FD / SET_INFLIGHT_FD payload (vhost-user.rst "Inflight description"),
 * 24 bytes as QEMU sends it. GET: the front-end fills num_queues and queue_size; the reply
 * carries the shared memory's size and offset and its fd. SET: all four, and the fd.
 */
struct vb_vu_inflight {
	uint64_t mmap_size;
	uint64_t mmap_offset;
	uint16_t num_queues;
	uint16_t queue_size;
	uint32_t padding;
};

/**
 * @brief Shared inflight memory of one split queue (vhost-user.rst "Inflight I/O tracking"):
 * this header, then desc_num struct vb_vu_inflight_desc. Queue regions follow each other at
 * VB_VU_INFLIGHT_QUEUE_SIZE(queue_size) bytes. Packed rings: struct vb_vu_inflight_packed.
 */
struct vb_vu_inflight_split {
	uint64_t features;		/**< 0 */
	uint16_t version;		/**< 0: fresh memory; 1: in use */
	uint16_t desc_num;		/**< entries (the queue size) */
	uint16_t last_batch_head;	/**< head of the last used element being written */
	uint16_t used_idx;		/**< used index once that element was published */
};

/** @brief Per-descriptor state of struct vb_vu_inflight_split. */
struct vb_vu_inflight_desc {
	uint8_t  inflight;		/**< 1: the head was popped and is not used yet */
	uint8_t  padding[5];
	uint16_t next;			/**< unused for split rings */
	uint64_t counter;		/**< pop order */
};

/**
 * @brief Shared inflight memory of one packed queue (vhost-user.rst "Inflight I/O tracking",
 * QueueRegionPacked): this header, then desc_num struct vb_vu_inflight_desc_packed, entries
 * that hold copies of the descriptors popped from the ring, linked in a free list and, per
 * chain, from its head entry.
 */
struct vb_vu_inflight_packed {
	uint64_t features;		/**< 0 */
	uint16_t version;		/**< 0: fresh memory; 1: in use */
	uint16_t desc_num;		/**< entries (the queue size) */
	uint16_t free_head;		/**< first free entry */
	uint16_t old_free_head;		/**< free_head before the update in progress */
	uint16_t used_idx;		/**< next used slot of the descriptor ring */
	uint16_t old_used_idx;		/**< used_idx before the update in progress */
	uint8_t  used_wrap_counter;	/**< device ring wrap counter */
	uint8_t  old_used_wrap_counter;	/**< used_wrap_counter before the update in progress */
	uint8_t  padding[10];		/**< entries start 8-aligned, at byte 32 */
};

/** @brief Per-entry state of struct vb_vu_inflight_packed (DescStatePacked). */
struct vb_vu_inflight_desc_packed {
	uint8_t  inflight;		/**< head entry: 1 while the chain is the device's */
	uint8_t  padding;
	uint16_t next;			/**< next free entry (and next entry of a chain) */
	uint16_t last;			/**< head entry: the chain's last entry */
	uint16_t num;			/**< head entry: descriptors (ring slots) of the chain */
	uint64_t counter;		/**< head entry: pop order */
	uint16_t id;			/**< the descriptor as popped: buffer id, */
	uint16_t flags;			/**< flags, */
	uint32_t len;			/**< length */
	uint64_t addr;			/**< and address */
};

/**
 * @brief Bytes of one queue's inflight region, 64-byte aligned. Room for the packed layout
 * (32-byte header and entries), which also holds the split one: GET_INFLIGHT_FD comes before
 * the front-end sets features (QEMU), so the layout is only known at ring start.
 */
#define VB_VU_INFLIGHT_QUEUE_SIZE(qsz) \
	((32u + 32u * (uint64_t)(qsz) + 63u) & ~(uint64_t)63u)

/* ---- Server API ---------------------------------------------------------------------- */

struct vb_vu_server;

/** @brief First version of struct vb_vu_config. */
#define VB_VU_CONFIG_V1			1u

/** @brief Memory slots the server offers (GET_MAX_MEM_SLOTS) unless told fewer. */
#define VB_VU_MAX_MEM_SLOTS		32u

/** @brief How to build a server. New members are only appended. */
struct vb_vu_config {
	uint32_t version;			/**< VB_VU_CONFIG_V1 */
	uint32_t max_mem_slots;			/**< 0: VB_VU_MAX_MEM_SLOTS; else 8..that */
	uint64_t protocol_features;		/**< offered; masked by ..._SUPPORTED */
	const struct vb_device_ops *ops;	/**< the device model (kept by reference) */
	void	*priv;				/**< its context: vb_dev_priv() */
	/** Optional log sink (connection events, refused messages); NULL: silent. */
	void	(*log)(void *log_ctx, enum vb_log_level level, const char *msg);
	void	*log_ctx;
};

/** @brief Counters of a server (never reset). */
struct vb_vu_stats {
	uint64_t connections;		/**< connections accepted or attached */
	uint64_t messages;		/**< messages handled */
	uint64_t refused;		/**< messages refused (invalid, or wrong state) */
	uint64_t closed_bad;		/**< connections closed because of a framing error */
	uint64_t kicks;			/**< kick eventfd wake-ups */
	uint64_t calls;			/**< call eventfd writes */
	uint32_t mapped_regions;	/**< memory regions mapped now */
};

/**
 * @brief Create a server for one device.
 *
 * Builds the device (vb_dev_init()) over @p cfg->ops and @p cfg->priv and its memory map in
 * memory it allocates. The device model may keep vb_vu_dev() for the server's lifetime.
 * @return 0; -EINVAL for a NULL or bad argument, or ops that vb_dev_init() refuses (more than
 *         256 queues included: vhost-user has 8-bit ring indices in kick/call messages);
 *         -ENOMEM; a negative errno from epoll_create1() or eventfd().
 * Context: control path; allocates. @satisfy{VB-REQ-VU-001}
 */
int vb_vu_server_new(const struct vb_vu_config *cfg, struct vb_vu_server **out);

/**
 * @brief Close every fd, unmap all guest memory and free the server (the socket file made
 * by vb_vu_listen() is removed). NULL is a no-op.
 * Context: control path.
 */
void vb_vu_server_free(struct vb_vu_server *s);

/**
 * @brief Listen on a new unix socket at @p path (a stale socket file there is replaced).
 * @return 0; -EINVAL (path too long, already listening, or in client mode); -EEXIST (@p
 *         path exists and is not a socket); a negative errno from socket()/bind()/listen().
 * Context: control path.
 */
int vb_vu_listen(struct vb_vu_server *s, const char *path);

/**
 * @brief Listen on an inherited, already listening unix socket (ownership passes).
 * @return 0, or -EINVAL (negative fd, already listening, or in client mode).
 */
int vb_vu_listen_fd(struct vb_vu_server *s, int fd);

/**
 * @brief Serve an inherited, already connected unix socket (ownership passes), e.g. the
 * `--fd` of vhost-user.rst "Backend program conventions".
 * @return 0, or -EINVAL (negative fd), -EBUSY (a connection is being served).
 */
int vb_vu_attach_fd(struct vb_vu_server *s, int fd);

/**
 * @brief Client mode: connect to a front-end that listens at @p path (QEMU's
 * `-chardev socket,server=on`) and, whenever that connection ends, connect again, retrying
 * from vb_vu_dispatch() with a delay that doubles from 50 ms up to 2 s, until the server is
 * freed. A first attempt that fails (the front-end does not listen yet) is retried the same
 * way. Not combined with vb_vu_listen() / vb_vu_listen_fd().
 * @return 0 (connected, or retrying); -EINVAL (NULL or too long @p path, listening, or
 *         already in client mode); -EBUSY (a connection is being served); -ENOMEM; a
 *         negative errno from timerfd_create().
 * Context: control path. @satisfy{VB-REQ-VU-510}
 */
int vb_vu_connect(struct vb_vu_server *s, const char *path);

/**
 * @brief The file descriptor to watch: readable when vb_vu_dispatch() has work.
 * Context: any.
 */
int vb_vu_fd(const struct vb_vu_server *s);

/**
 * @brief Handle whatever is ready (connections, messages, kicks) without blocking.
 * @return number of events handled (0: nothing was ready); a negative errno only if the
 *         server itself failed (epoll). Peer errors are never returned: they are answered,
 *         counted and logged, or end the connection.
 * Context: the thread that owns the server; runs device kick hooks. @satisfy{VB-REQ-VU-002}
 */
int vb_vu_dispatch(struct vb_vu_server *s);

/**
 * @brief Default loop: wait on vb_vu_fd() and dispatch, until *@p stop becomes non-zero
 * (checked after every wake-up and at least every 100 ms, so it may be set by a signal
 * handler or another thread), or until an attached connection ended and no listening
 * socket is left.
 * @return 0, or a negative errno if the server failed.
 */
int vb_vu_run(struct vb_vu_server *s, const volatile int *stop);

/** @brief Longest poll window vb_vu_set_poll() takes, in microseconds (1 s). */
#define VB_VU_POLL_MAX_US		1000000u

/**
 * @brief Busy-poll the rings for @p usecs microseconds after the last progress (0: off, the
 * default).
 *
 * Once a ring pops or pushes a chain (a kick came, or the model completed requests), the
 * server turns the kicks of the live rings off (VRING_USED_F_NO_NOTIFY, or a stale
 * avail_event with EVENT_IDX) and each vb_vu_dispatch() hands them to the device model as
 * kicks would, without waiting for the driver's eventfd write. While polling, vb_vu_polling() is
 * true: the caller calls vb_vu_dispatch() again at once instead of sleeping on vb_vu_fd()
 * (vb_vu_run() does). After @p usecs without any ring popping or pushing, kicks are turned
 * back on, buffers that came meanwhile are served, and vb_vu_polling() becomes false: the
 * server never spins while idle. Kicks that still come during a window are served as
 * usual. A window costs a CPU for its length; it saves the kick's wake-up latency (and the
 * driver's kick write) for requests that follow each other closely.
 * @return 0; -EINVAL (NULL @p s, or @p usecs above VB_VU_POLL_MAX_US); -ENOMEM.
 * Context: the thread that owns the server. @satisfy{VB-REQ-VU-520}
 */
int vb_vu_set_poll(struct vb_vu_server *s, uint32_t usecs);

/**
 * @brief True during a poll window (vb_vu_set_poll()): call vb_vu_dispatch() again without
 * blocking (e.g. epoll_wait() with a zero timeout over vb_vu_fd() and the caller's other
 * fds, then vb_vu_dispatch() whether vb_vu_fd() was readable or not).
 * Context: the thread that owns the server.
 */
bool vb_vu_polling(const struct vb_vu_server *s);

/** @brief True while a frontend is connected. Context: any. */
bool vb_vu_connected(const struct vb_vu_server *s);

/** @brief The served device (lives as long as the server). Context: any. */
struct vb_dev *vb_vu_dev(const struct vb_vu_server *s);

/** @brief Copy the server's counters. Context: any. */
void vb_vu_get_stats(const struct vb_vu_server *s, struct vb_vu_stats *st);

/**
 * @brief Register (or withdraw) a host notifier for ring @p q: send
 * BACKEND_VRING_HOST_NOTIFIER_MSG on the back-end channel, telling the front-end to map
 * @p size bytes at @p offset of @p fd as the ring's notify area in the guest (a doorbell page
 * the back-end polls, e.g. a device BAR), or with @p fd < 0 to go back to kick eventfds.
 *
 * Needs HOST_NOTIFIER negotiated, a back-end channel (BACKEND_REQ) and, to pass an fd,
 * BACKEND_SEND_FD. With REPLY_ACK the message asks for an ack, read (and a failure logged) by
 * vb_vu_dispatch() when it comes, never awaited. @p fd is not consumed.
 * @return 0 once sent; -EINVAL (@p q not a ring of the device; with an fd: @p size 0 or
 *         @p offset + @p size wrapping); -ENOTSUP (HOST_NOTIFIER, or with an fd
 *         BACKEND_SEND_FD, not negotiated); -ENOTCONN (no connection or no channel); a
 *         negative errno from sending (-EAGAIN: the front-end does not read the channel).
 * Context: the thread that owns the server. @satisfy{VB-REQ-VU-530}
 */
int vb_vu_set_host_notifier(struct vb_vu_server *s, uint16_t q, int fd, uint64_t offset,
			    uint64_t size);

#ifdef __cplusplus
}
#endif

#endif /* VIRTIO_BACKEND_TRANSPORTS_VHOST_USER_H */
