/* SPDX-License-Identifier: MIT */
/**
 * @file net.h
 * @brief virtio-net device model and its host backends.   [users, EXPERIMENTAL]
 *
 * The model implements virtio 1.2, 5.1 "Network Device" as a struct vb_device_ops: N receive
 * / transmit queue pairs (queues 2k and 2k+1) and, with VIRTIO_NET_F_CTRL_VQ, the control
 * queue after them. It knows no transport. A host builds it in caller storage (vb_net_init(),
 * sized by vb_net_size()) or on the heap (vb_net_create()), hands vb_net_device_ops() and the
 * model to vb_dev_init() of its transport, and moves frames through a small host backend
 * table (struct vb_net_backend_ops): a Linux tap device, a loopback, a sink.
 *
 * Frames cross the backend boundary with their 12-byte struct vb_virtio_net_hdr in front
 * (the layout of Linux's IFF_VNET_HDR with TUNSETVNETHDRSZ 12), so offload metadata passes
 * through untouched and a tap backend writes the guest's own iovecs (zero copy).
 *
 * Transmit: a kick pops the transmit queue in batches, checks each header against the
 * negotiated features (a frame the driver may not send is dropped and counted, its chain
 * returned), hands the batch to the backend (tx), returns the batch with one used-index
 * store and notifies once. Receive: the model pops receive chains in batches and keeps the
 * ones a frame did not use for the next frame (no chain is returned empty); with MRG_RXBUF a
 * frame spreads over as many chains as it needs and num_buffers says how many. Frames come
 * from the backend (rx, vb_net_rx_poll()) or are pushed by it (vb_net_rx_copy()).
 *
 * Threading: like vq.h, one consumer per queue; the model's entry points run on the thread
 * that serves the device's queues.
 */
#ifndef VIRTIO_BACKEND_DEVICES_NET_H
#define VIRTIO_BACKEND_DEVICES_NET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../chain.h"
#include "../device.h"
#include "../endian.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- wire format: virtio 1.2, 5.1 "Network Device" ------------------------------------- */

/** @name Feature bits (bit numbers; virtio 1.2, 5.1.3 "Feature bits") */
/** @{ */
#define VB_VIRTIO_NET_F_CSUM			0
#define VB_VIRTIO_NET_F_GUEST_CSUM		1
#define VB_VIRTIO_NET_F_CTRL_GUEST_OFFLOADS	2
#define VB_VIRTIO_NET_F_MTU			3
#define VB_VIRTIO_NET_F_MAC			5
#define VB_VIRTIO_NET_F_GUEST_TSO4		7
#define VB_VIRTIO_NET_F_GUEST_TSO6		8
#define VB_VIRTIO_NET_F_GUEST_ECN		9
#define VB_VIRTIO_NET_F_GUEST_UFO		10
#define VB_VIRTIO_NET_F_HOST_TSO4		11
#define VB_VIRTIO_NET_F_HOST_TSO6		12
#define VB_VIRTIO_NET_F_HOST_ECN		13
#define VB_VIRTIO_NET_F_HOST_UFO		14
#define VB_VIRTIO_NET_F_MRG_RXBUF		15
#define VB_VIRTIO_NET_F_STATUS			16
#define VB_VIRTIO_NET_F_CTRL_VQ			17
#define VB_VIRTIO_NET_F_CTRL_RX			18
#define VB_VIRTIO_NET_F_CTRL_VLAN		19
#define VB_VIRTIO_NET_F_CTRL_RX_EXTRA		20
#define VB_VIRTIO_NET_F_GUEST_ANNOUNCE		21
#define VB_VIRTIO_NET_F_MQ			22
#define VB_VIRTIO_NET_F_CTRL_MAC_ADDR		23
/** @} */

/** @brief The offload feature bits a backend may support (checksum and segmentation). */
#define VB_NET_OFFLOAD_FEATURES \
	(VB_BIT(VB_VIRTIO_NET_F_CSUM) | VB_BIT(VB_VIRTIO_NET_F_GUEST_CSUM) | \
	 VB_BIT(VB_VIRTIO_NET_F_GUEST_TSO4) | VB_BIT(VB_VIRTIO_NET_F_GUEST_TSO6) | \
	 VB_BIT(VB_VIRTIO_NET_F_GUEST_ECN) | VB_BIT(VB_VIRTIO_NET_F_GUEST_UFO) | \
	 VB_BIT(VB_VIRTIO_NET_F_HOST_TSO4) | VB_BIT(VB_VIRTIO_NET_F_HOST_TSO6) | \
	 VB_BIT(VB_VIRTIO_NET_F_HOST_ECN) | VB_BIT(VB_VIRTIO_NET_F_HOST_UFO))

/** @name struct vb_virtio_net_hdr flags and gso_type (virtio 1.2, 5.1.6 "Device Operation") */
/** @{ */
#define VB_VIRTIO_NET_HDR_F_NEEDS_CSUM		1u
#define VB_VIRTIO_NET_HDR_F_DATA_VALID		2u
#define VB_VIRTIO_NET_HDR_F_RSC_INFO		4u
#define VB_VIRTIO_NET_HDR_GSO_NONE		0u
#define VB_VIRTIO_NET_HDR_GSO_TCPV4		1u
#define VB_VIRTIO_NET_HDR_GSO_UDP		3u
#define VB_VIRTIO_NET_HDR_GSO_TCPV6		4u
#define VB_VIRTIO_NET_HDR_GSO_UDP_L4		5u
#define VB_VIRTIO_NET_HDR_GSO_ECN		0x80u
/** @} */

/**
 * @brief The header in front of every frame (virtio 1.2, 5.1.6 "Device Operation"), 12
 * bytes: the layout with VIRTIO_F_VERSION_1 (or MRG_RXBUF), with or without MRG_RXBUF.
 */
struct vb_virtio_net_hdr {
	uint8_t	flags;
	uint8_t	gso_type;
	vb_le16	hdr_len;
	vb_le16	gso_size;
	vb_le16	csum_start;
	vb_le16	csum_offset;
	vb_le16	num_buffers;
};

/** @brief Bytes of the header with VERSION_1 or MRG_RXBUF; a legacy device without either
 * drops num_buffers (10 bytes). */
#define VB_VIRTIO_NET_HDR_LEN		12u
#define VB_VIRTIO_NET_HDR_LEN_LEGACY	10u

/** @name Config status bits (virtio 1.2, 5.1.4 "Device configuration layout") */
/** @{ */
#define VB_VIRTIO_NET_S_LINK_UP		1u
#define VB_VIRTIO_NET_S_ANNOUNCE	2u
/** @} */

/** @brief Device configuration layout (virtio 1.2, 5.1.4), 24 bytes. */
struct vb_virtio_net_config {
	uint8_t	mac[6];
	vb_le16	status;
	vb_le16	max_virtqueue_pairs;
	vb_le16	mtu;
	vb_le32	speed;
	uint8_t	duplex;
	uint8_t	rss_max_key_size;
	vb_le16	rss_max_indirection_table_length;
	vb_le32	supported_hash_types;
};

/** @brief Bytes of config space the model exposes. */
#define VB_VIRTIO_NET_CONFIG_LEN	24u
/** @brief Offset of the status field. */
#define VB_VIRTIO_NET_CONFIG_STATUS	6u

/** @name Control queue (virtio 1.2, 5.1.6.5 "Control Virtqueue") */
/** @{ */
#define VB_VIRTIO_NET_OK			0u
#define VB_VIRTIO_NET_ERR			1u
#define VB_VIRTIO_NET_CTRL_RX			0u
#define VB_VIRTIO_NET_CTRL_RX_PROMISC		0u
#define VB_VIRTIO_NET_CTRL_RX_ALLMULTI		1u
#define VB_VIRTIO_NET_CTRL_RX_ALLUNI		2u
#define VB_VIRTIO_NET_CTRL_RX_NOMULTI		3u
#define VB_VIRTIO_NET_CTRL_RX_NOUNI		4u
#define VB_VIRTIO_NET_CTRL_RX_NOBCAST		5u
#define VB_VIRTIO_NET_CTRL_MAC			1u
#define VB_VIRTIO_NET_CTRL_MAC_TABLE_SET	0u
#define VB_VIRTIO_NET_CTRL_MAC_ADDR_SET		1u
#define VB_VIRTIO_NET_CTRL_VLAN			2u
#define VB_VIRTIO_NET_CTRL_VLAN_ADD		0u
#define VB_VIRTIO_NET_CTRL_VLAN_DEL		1u
#define VB_VIRTIO_NET_CTRL_ANNOUNCE		3u
#define VB_VIRTIO_NET_CTRL_ANNOUNCE_ACK		0u
#define VB_VIRTIO_NET_CTRL_MQ			4u
#define VB_VIRTIO_NET_CTRL_MQ_VQ_PAIRS_SET	0u
#define VB_VIRTIO_NET_CTRL_MQ_VQ_PAIRS_MIN	1u
#define VB_VIRTIO_NET_CTRL_MQ_VQ_PAIRS_MAX	0x8000u
#define VB_VIRTIO_NET_CTRL_GUEST_OFFLOADS	5u
#define VB_VIRTIO_NET_CTRL_GUEST_OFFLOADS_SET	0u
/** @} */

#if defined(__cplusplus)
static_assert(sizeof(struct vb_virtio_net_hdr) == 12, "net header is 12 bytes");
static_assert(sizeof(struct vb_virtio_net_config) == 24, "config space is 24 bytes");
#else
_Static_assert(sizeof(struct vb_virtio_net_hdr) == 12, "net header is 12 bytes");
_Static_assert(sizeof(struct vb_virtio_net_config) == 24, "config space is 24 bytes");
#endif

/* ---- the model's configuration --------------------------------------------------------- */

/** @brief First version of struct vb_net_config. */
#define VB_NET_CONFIG_V1 1u

/** @name struct vb_net_config flags */
/** @{ */
#define VB_NET_CFG_LINK_DOWN	(1u << 0)	/**< start with the link down */
#define VB_NET_CFG_NO_CTRL_VQ	(1u << 1)	/**< no control queue (nor the features it needs) */
/** @} */

/** @brief Most queue pairs a model has. */
#define VB_NET_MAX_QUEUE_PAIRS	64u
/** @brief Queue size when the configuration leaves queue_num_max 0. */
#define VB_NET_QUEUE_NUM_DEFAULT 256u
/** @brief Entries of each of the two MAC filter tables (more: the table overflows into
 * "accept all" for its kind, as virtio 1.2, 5.1.6.5.2 lets a device do). */
#define VB_NET_MAC_TABLE_MAX	64u

/** @brief What the host tells the model about the interface. */
struct vb_net_config {
	uint32_t version;		/**< VB_NET_CONFIG_V1 */
	uint32_t flags;			/**< VB_NET_CFG_* */
	uint8_t	 mac[6];		/**< offered with VIRTIO_NET_F_MAC unless all zero */
	uint16_t num_queue_pairs;	/**< 1..VB_NET_MAX_QUEUE_PAIRS (0: 1); MQ if > 1 */
	uint16_t queue_num_max;		/**< largest queue size (0: VB_NET_QUEUE_NUM_DEFAULT) */
	uint16_t mtu;			/**< offered with VIRTIO_NET_F_MTU if non-zero (68..65535) */
	uint64_t features_off;		/**< feature bits never to offer */
};

/* ---- host backends --------------------------------------------------------------------- */

/** @brief One frame to transmit: its header and data as iovecs into guest memory. */
struct vb_net_frame {
	const struct vb_iov	*iov;	/**< the 12-byte header first, then the frame */
	unsigned int		iov_num;
	uint32_t		len;	/**< bytes, header included */
};

/** @brief First version of struct vb_net_backend_ops. */
#define VB_NET_BACKEND_OPS_V1 1u

struct vb_net;

/** @brief A host backend. */
struct vb_net_backend_ops {
	uint32_t version;	/**< VB_NET_BACKEND_OPS_V1 */
	/** Offload feature bits (within VB_NET_OFFLOAD_FEATURES) the backend can take and
	 *  produce; the model offers no others. */
	uint64_t offloads;
	/**
	 * Send @p n frames of queue pair @p qp (each header already checked against the
	 * negotiated features). Return the frames handled (sent or dropped by the backend),
	 * or a negative errno; the model returns every chain to the driver either way.
	 * Required.
	 */
	int  (*tx)(void *backend, uint16_t qp, const struct vb_net_frame *frames, unsigned int n);
	/**
	 * Receive one frame into @p iov (header first, @p iov_num entries): return its length
	 * in bytes, header included, 0 if no frame is waiting, or a negative errno. May be
	 * NULL (frames only arrive through vb_net_rx_copy()).
	 */
	int  (*rx)(void *backend, uint16_t qp, const struct vb_iov *iov, unsigned int iov_num);
	/** The model has (@p on) or lacks receive buffers for @p qp: a backend that polls a
	 *  host fd stops polling it while there is nowhere to put a frame. May be NULL. */
	void (*rx_enable)(void *backend, uint16_t qp, bool on);
	/** The driver's offload features (negotiated, or changed with
	 *  VIRTIO_NET_CTRL_GUEST_OFFLOADS): what frames may carry. May be NULL. */
	int  (*set_offloads)(void *backend, uint64_t features);
	/** The device was reset: drop per-queue state. May be NULL. */
	void (*reset)(void *backend);
};

/* ---- the model ------------------------------------------------------------------------- */

/**
 * @brief Bytes of storage vb_net_init() needs for @p cfg.
 * @return the size, or 0 if @p cfg is invalid (see vb_net_init()).
 * Context: any. @satisfy{VB-REQ-NET-001}
 */
size_t vb_net_size(const struct vb_net_config *cfg);

/**
 * @brief Build a model in caller storage.
 * @param storage      at least vb_net_size(@p cfg) bytes, 8-byte aligned
 * @param storage_len  bytes at @p storage
 * @param cfg          the interface (copied)
 * @param ops          the backend (kept by reference; version VB_NET_BACKEND_OPS_V1 or later)
 * @param backend      the backend's context, passed to @p ops
 * @param out          receives the model
 * @return 0; -EINVAL for a NULL or misaligned argument, a config or ops version of 0, no tx
 *         hook, num_queue_pairs above VB_NET_MAX_QUEUE_PAIRS, queue_num_max above 32768, or
 *         an mtu below 68; -ENOSPC if @p storage_len is too small.
 * Context: control path; no allocation. @satisfy{VB-REQ-NET-001}
 */
int vb_net_init(void *storage, size_t storage_len, const struct vb_net_config *cfg,
		const struct vb_net_backend_ops *ops, void *backend, struct vb_net **out);

/**
 * @brief vb_net_init() in memory from malloc(); free with vb_net_destroy().
 * @return 0, -ENOMEM, or an error of vb_net_init().
 * Context: control path; allocates once.
 */
int vb_net_create(const struct vb_net_config *cfg, const struct vb_net_backend_ops *ops,
		  void *backend, struct vb_net **out);

/** @brief Free a model from vb_net_create() (NULL is ignored). Context: control path. */
void vb_net_destroy(struct vb_net *net);

/**
 * @brief The model's device table, to pass to vb_dev_init() with @p net as priv.
 * Context: any. @satisfy{VB-REQ-NET-002}
 */
const struct vb_device_ops *vb_net_device_ops(const struct vb_net *net);

/**
 * @brief Copy one frame (header first) into the receive queue of pair @p qp, as a backend
 * that produces frames in host memory does (the loopback copies a transmitted frame).
 *
 * The header's offload fields must fit the driver's receive features (GUEST_CSUM,
 * GUEST_TSO4/6, GUEST_UFO, GUEST_ECN); num_buffers is written by the model.
 * @return 0 (the frame is in guest memory; call vb_net_notify() after a batch), or
 *         -ENOBUFS (no receive buffer: dropped), -EMSGSIZE (larger than the buffers a frame
 *         may take), -EBADMSG (shorter than the header, or offloads the driver did not
 *         accept: dropped), -EAGAIN (the queue is not running, or the pair is not enabled
 *         by VIRTIO_NET_CTRL_MQ, or the link is down), -EPERM (the receive filter refused it).
 * Context: data path. @satisfy{VB-REQ-NET-020} @satisfy{VB-REQ-NET-021}
 */
int vb_net_rx_copy(struct vb_net *net, uint16_t qp, const struct vb_iov *iov,
		   unsigned int iov_num);

/**
 * @brief Pull up to @p budget frames from the backend's rx hook into the receive queue of
 * pair @p qp (when the host fd of that pair is readable).
 * @return frames received; -ENOBUFS if the receive queue ran out of buffers (the backend's
 *         rx_enable(false) was called; the next receive kick calls rx_enable(true)); -EAGAIN
 *         if the queue is not running; a backend errno.
 * Context: data path. @satisfy{VB-REQ-NET-022}
 */
int vb_net_rx_poll(struct vb_net *net, uint16_t qp, unsigned int budget);

/**
 * @brief Notify the driver of every queue with new used buffers (after vb_net_rx_copy()).
 * Context: data path.
 */
void vb_net_notify(struct vb_net *net);

/**
 * @brief Set the link state (STATUS) and tell the driver with a configuration change.
 * @return 0 or the transport's negative errno. Context: control path. @satisfy{VB-REQ-NET-004}
 */
int vb_net_set_link(struct vb_net *net, bool up);

/**
 * @brief Ask the driver to announce itself (GUEST_ANNOUNCE: STATUS bit ANNOUNCE, cleared
 * by VIRTIO_NET_CTRL_ANNOUNCE_ACK), e.g. after a migration.
 * @return 0; -ENOTSUP if GUEST_ANNOUNCE was not negotiated; the transport's errno.
 * Context: control path. @satisfy{VB-REQ-NET-004}
 */
int vb_net_announce(struct vb_net *net);

/** @brief Queue pairs the driver enabled (VIRTIO_NET_CTRL_MQ; 1 without MQ). */
uint16_t vb_net_active_pairs(const struct vb_net *net);

/** @brief The MAC address in config space now (it changes with CTRL_MAC_ADDR_SET). */
void vb_net_get_mac(const struct vb_net *net, uint8_t mac[6]);

/** @brief Counters of a model (never reset except by vb_net_init()). */
struct vb_net_stats {
	uint64_t tx_frames;	/**< frames handed to the backend */
	uint64_t tx_bytes;	/**< their bytes, headers excluded */
	uint64_t tx_errors;	/**< chains dropped: malformed header or chain */
	uint64_t rx_frames;	/**< frames put into receive buffers */
	uint64_t rx_bytes;	/**< their bytes, headers excluded */
	uint64_t rx_dropped;	/**< frames dropped: no buffer, too large, bad offloads */
	uint64_t rx_filtered;	/**< frames the receive filter refused */
	uint64_t rx_buffers;	/**< receive chains used (more than frames with MRG_RXBUF) */
	uint64_t ctrl_ok;	/**< control commands answered VIRTIO_NET_OK */
	uint64_t ctrl_err;	/**< control commands answered VIRTIO_NET_ERR */
};

/** @brief Copy the model's counters. Context: any. */
void vb_net_get_stats(const struct vb_net *net, struct vb_net_stats *st);

/* ---- backends (Linux) -------------------------------------------------------------------- */

struct vb_net_loop;

/** @name vb_net_loop_create() modes */
/** @{ */
#define VB_NET_LOOP_LOOPBACK	0u	/**< transmitted frames come back on the same pair */
#define VB_NET_LOOP_SINK	1u	/**< transmitted frames are counted and dropped */
#define VB_NET_LOOP_SOURCE	2u	/**< like SINK, and receive queues are filled with
					 *   generated frames (vb_net_source_ops) */
/** @} */

/**
 * @brief Loopback or sink backend (for tests and benchmarks). Call vb_net_loop_attach()
 * with the model before traffic (the loopback delivers into it).
 * @return 0, -EINVAL (unknown mode), -ENOMEM. @satisfy{VB-REQ-NET-030}
 */
int vb_net_loop_create(unsigned int mode, struct vb_net_loop **out);

/** @brief Give the loopback its model. */
void vb_net_loop_attach(struct vb_net_loop *l, struct vb_net *net);

/** @brief Free a loopback backend (NULL is ignored). */
void vb_net_loop_destroy(struct vb_net_loop *l);

/** @brief Frames the backend took (transmitted) and frames it could not loop back. */
void vb_net_loop_counts(const struct vb_net_loop *l, uint64_t *frames, uint64_t *dropped);

/** @brief The table to pass to vb_net_init() with the loopback as context. */
extern const struct vb_net_backend_ops vb_net_loop_ops;

/**
 * @brief Length of the frames a VB_NET_LOOP_SOURCE backend generates (Ethernet header
 * included, no FCS), 60..65535; the default is 60.
 * @return 0, or -EINVAL. @satisfy{VB-REQ-NET-030}
 */
int vb_net_loop_set_frame_len(struct vb_net_loop *l, uint32_t len);

/** @brief The table of a VB_NET_LOOP_SOURCE backend (a receive benchmark's traffic source:
 * every receive buffer the driver posts gets a frame). */
extern const struct vb_net_backend_ops vb_net_source_ops;

struct vb_net_tap;

/**
 * @brief Linux tap backend: opens /dev/net/tun as tap @p name with IFF_TAP | IFF_NO_PI |
 * IFF_VNET_HDR (| IFF_MULTI_QUEUE with several pairs), one fd per queue pair, header size
 * 12 (TUNSETVNETHDRSZ); offloads follow the driver (TUNSETOFFLOAD). Transmit writes the
 * guest's iovecs (header included) with writev; receive reads with readv straight into
 * receive buffers.
 * @param name   interface name (created if absent; needs CAP_NET_ADMIN or an owned tap)
 * @param pairs  queue pairs (fds)
 * @param out    receives the backend
 * @return 0, -ENOMEM, -EINVAL, or the negative errno of open()/ioctl().
 * Context: control path. @satisfy{VB-REQ-NET-031}
 */
int vb_net_tap_open(const char *name, uint16_t pairs, struct vb_net_tap **out);

/** @brief Give the tap backend its model (it calls vb_net_rx_poll() in vb_net_tap_event()). */
void vb_net_tap_attach(struct vb_net_tap *t, struct vb_net *net);

/** @brief Close a tap backend (NULL is ignored). */
void vb_net_tap_close(struct vb_net_tap *t);

/** @brief An epoll fd that is readable when a tap queue has frames for the guest. */
int vb_net_tap_fd(const struct vb_net_tap *t);

/**
 * @brief Serve readable tap queues: vb_net_rx_poll() on each, then vb_net_notify().
 * @return 0 or a negative errno. Context: data path.
 */
int vb_net_tap_event(struct vb_net_tap *t);

/** @brief The table to pass to vb_net_init() with the tap backend as context. */
extern const struct vb_net_backend_ops vb_net_tap_ops;

#ifdef __cplusplus
}
#endif

#endif /* VIRTIO_BACKEND_DEVICES_NET_H */
