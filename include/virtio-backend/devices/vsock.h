/* SPDX-License-Identifier: MIT */
/**
 * @file vsock.h
 * @brief virtio-vsock device model with the hybrid unix-socket host side.   [users]
 *
 * The model implements virtio 1.2, 5.10 "Socket Device" as a struct vb_device_ops (three
 * queues: rx, tx, event) and connects the guest's stream sockets to unix sockets on the host,
 * the "hybrid" scheme of Firecracker and vhost-device-vsock:
 *
 * - a guest connection to (CID 2, port P) reaches the host unix socket "<uds_path>_P";
 * - a host client connects to the unix socket "<uds_path>" (the model listens there), writes
 *   "CONNECT <port>\n", receives "OK <local-port>\n" once the guest listener on that port
 *   accepted, and then talks to it; if the guest refuses, the unix socket is closed.
 *
 * Data path: guest payload goes from the tx buffers straight to the host socket (sendmsg of
 * the chain's own iovecs after the header); host data is read with one readv into the
 * payload parts of several rx buffers at once (zero copy, batched), limited by the guest's
 * credit. Bytes the host socket does not take at once wait in a per-connection buffer of
 * buf_alloc bytes, which is the credit the model advertises, so a guest that respects
 * credit never makes the model drop or block (virtio 1.2, 5.10.6.3 "Buffer Space
 * Management"). Every connection lives in a table allocated once by vb_vsock_create().
 *
 * Every header field the guest writes is checked (src_cid, dst_cid, type, op, len against
 * the buffer, flags, credit); a bad packet is answered with an RST (never to an RST) and
 * never stops the queue.
 *
 * Only stream sockets: VIRTIO_VSOCK_F_SEQPACKET is not offered; SEQPACKET packets get RST.
 *
 * Host events: the model owns one epoll fd (vb_vsock_fd()) holding its listening socket
 * and every connection's socket; the host polls it and calls vb_vsock_process() when it is
 * readable, on the same thread that kicks the queues.
 */
#ifndef VIRTIO_BACKEND_DEVICES_VSOCK_H
#define VIRTIO_BACKEND_DEVICES_VSOCK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../device.h"
#include "../endian.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- wire format: virtio 1.2, 5.10 "Socket Device" ------------------------------------- */

/** @name Feature bits (bit numbers; virtio 1.2, 5.10.3 "Feature bits") */
/** @{ */
#define VB_VIRTIO_VSOCK_F_STREAM	0
#define VB_VIRTIO_VSOCK_F_SEQPACKET	1
/** @} */

/** @name Queues (virtio 1.2, 5.10.2 "Virtqueues") */
/** @{ */
#define VB_VSOCK_QUEUE_RX	0u
#define VB_VSOCK_QUEUE_TX	1u
#define VB_VSOCK_QUEUE_EVENT	2u
/** @} */

/** @name Well-known CIDs (virtio 1.2, 5.10.4 "Device configuration layout") */
/** @{ */
#define VB_VSOCK_CID_HYPERVISOR	0u
#define VB_VSOCK_CID_LOCAL	1u
#define VB_VSOCK_CID_HOST	2u
/** @} */

/** @name Socket types (virtio 1.2, 5.10.6 "Device Operation") */
/** @{ */
#define VB_VIRTIO_VSOCK_TYPE_STREAM	1u
#define VB_VIRTIO_VSOCK_TYPE_SEQPACKET	2u
/** @} */

/** @name Operations */
/** @{ */
#define VB_VIRTIO_VSOCK_OP_INVALID		0u
#define VB_VIRTIO_VSOCK_OP_REQUEST		1u
#define VB_VIRTIO_VSOCK_OP_RESPONSE		2u
#define VB_VIRTIO_VSOCK_OP_RST			3u
#define VB_VIRTIO_VSOCK_OP_SHUTDOWN		4u
#define VB_VIRTIO_VSOCK_OP_RW			5u
#define VB_VIRTIO_VSOCK_OP_CREDIT_UPDATE	6u
#define VB_VIRTIO_VSOCK_OP_CREDIT_REQUEST	7u
/** @} */

/** @name SHUTDOWN flags */
/** @{ */
#define VB_VIRTIO_VSOCK_SHUTDOWN_F_RECEIVE	1u
#define VB_VIRTIO_VSOCK_SHUTDOWN_F_SEND		2u
/** @} */

/** @brief Event id of struct vb_virtio_vsock_event (virtio 1.2, 5.10.6.7 "Device Events"). */
#define VB_VIRTIO_VSOCK_EVENT_TRANSPORT_RESET	0u

/**
 * @brief Packet header, first in every rx and tx buffer (44 bytes, no padding: the
 * structure is packed because the CIDs are 64-bit and the header ends on a 4-byte boundary).
 */
struct __attribute__((packed)) vb_virtio_vsock_hdr {
	vb_le64	src_cid;
	vb_le64	dst_cid;
	vb_le32	src_port;
	vb_le32	dst_port;
	vb_le32	len;		/**< payload bytes after the header */
	vb_le16	type;		/**< VB_VIRTIO_VSOCK_TYPE_* */
	vb_le16	op;		/**< VB_VIRTIO_VSOCK_OP_* */
	vb_le32	flags;
	vb_le32	buf_alloc;	/**< sender's receive buffer for this connection */
	vb_le32	fwd_cnt;	/**< bytes the sender has consumed of it */
};

/** @brief Event queue element. */
struct vb_virtio_vsock_event {
	vb_le32	id;
};

/** @brief Device configuration layout (8 bytes). */
struct vb_virtio_vsock_config {
	vb_le64	guest_cid;
};

#define VB_VIRTIO_VSOCK_HDR_LEN		44u
#define VB_VIRTIO_VSOCK_CONFIG_LEN	8u
/** @brief Largest payload a packet may carry (Linux's VIRTIO_VSOCK_MAX_PKT_BUF_SIZE). */
#define VB_VIRTIO_VSOCK_MAX_PKT_LEN	(64u * 1024u)

#if defined(__cplusplus)
static_assert(sizeof(struct vb_virtio_vsock_hdr) == 44, "packet header is 44 bytes");
static_assert(sizeof(struct vb_virtio_vsock_config) == 8, "config space is 8 bytes");
#else
_Static_assert(sizeof(struct vb_virtio_vsock_hdr) == 44, "packet header is 44 bytes");
_Static_assert(sizeof(struct vb_virtio_vsock_config) == 8, "config space is 8 bytes");
#endif

/* ---- the model ------------------------------------------------------------------------- */

/** @brief First version of struct vb_vsock_config. */
#define VB_VSOCK_CONFIG_V1 1u

/** @name struct vb_vsock_config flags */
/** @{ */
/** Queue a TRANSPORT_RESET event at the first activation: for a back-end that restarts
 *  under a running guest, whose connections are gone. */
#define VB_VSOCK_CFG_RESET_ON_START	(1u << 0)
/** @} */

/** @brief max_conns when the configuration leaves it 0. */
#define VB_VSOCK_MAX_CONNS_DEFAULT	128u
/** @brief Largest max_conns. */
#define VB_VSOCK_MAX_CONNS_LIMIT	4096u
/** @brief buf_alloc when the configuration leaves it 0. */
#define VB_VSOCK_BUF_ALLOC_DEFAULT	(256u * 1024u)
/** @brief Queue size when the configuration leaves queue_num_max 0. */
#define VB_VSOCK_QUEUE_NUM_DEFAULT	256u
/** @brief Longest uds_path (sun_path less room for "_4294967295"). */
#define VB_VSOCK_UDS_PATH_MAX		(107u - 11u)

/** @brief What the host tells the model. Zero means "default" for every field but version,
 *  guest_cid and uds_path. */
struct vb_vsock_config {
	uint32_t	version;	/**< VB_VSOCK_CONFIG_V1 */
	uint32_t	flags;		/**< VB_VSOCK_CFG_* */
	uint64_t	guest_cid;	/**< 3..UINT32_MAX-1 (CIDs 0-2 and U32_MAX are reserved) */
	const char	*uds_path;	/**< listening socket; guest connections go to _PORT */
	uint32_t	max_conns;	/**< connections at once (0: default) */
	uint32_t	buf_alloc;	/**< per-connection guest->host buffer, 4 KiB..64 MiB */
	uint16_t	queue_num_max;	/**< largest queue size (0: default) */
	uint64_t	features_off;	/**< feature bits never to offer */
};

struct vb_vsock;

/**
 * @brief Build a model: allocate its connection table, bind and listen on cfg->uds_path
 * (an existing socket file there is replaced), create its epoll fd.
 * @return 0; -EINVAL for a NULL argument, a config version of 0, a reserved guest_cid, a
 *         missing or too long uds_path, or a size out of range; -ENOMEM; the negative errno
 *         of socket()/bind()/listen()/epoll_create1().
 * Context: control path; the only allocation of the model. @satisfy{VB-REQ-VSOCK-001}
 */
int vb_vsock_create(const struct vb_vsock_config *cfg, struct vb_vsock **out);

/** @brief Close every connection and the listening socket (its file is removed) and free
 *  the model (NULL is ignored). Context: control path, after the transport let go. */
void vb_vsock_destroy(struct vb_vsock *vs);

/**
 * @brief The model's device table, to pass to vb_dev_init() (or a transport) with @p vs
 * as priv. Context: any. @satisfy{VB-REQ-VSOCK-002}
 */
const struct vb_device_ops *vb_vsock_device_ops(const struct vb_vsock *vs);

/** @brief The epoll fd the host polls for readability. Context: any. */
int vb_vsock_fd(const struct vb_vsock *vs);

/**
 * @brief Handle host socket events (new host clients, data, hang-ups) and move what can move
 * to the guest.
 * @return 0, or a negative errno of epoll_wait() (-EINTR is returned as 0).
 * Context: data path, the queues' thread; never blocks. @satisfy{VB-REQ-VSOCK-030}
 */
int vb_vsock_process(struct vb_vsock *vs);

/**
 * @brief Drop every connection (host sockets closed) and send the guest a TRANSPORT_RESET
 * event (as soon as the event queue has a buffer), e.g. when the host side restarted.
 * Context: data path, the queues' thread. @satisfy{VB-REQ-VSOCK-040}
 */
void vb_vsock_transport_reset(struct vb_vsock *vs);

/** @brief Counters of a model (never reset). */
struct vb_vsock_stats {
	uint64_t tx_packets;	/**< packets from the guest */
	uint64_t rx_packets;	/**< packets to the guest */
	uint64_t bytes_to_host;	/**< payload bytes written to host sockets */
	uint64_t bytes_to_guest; /**< payload bytes read from host sockets */
	uint64_t bad_packets;	/**< guest packets refused by a check */
	uint64_t rst_sent;	/**< RST packets to the guest */
	uint64_t conns_guest;	/**< connections the guest opened */
	uint64_t conns_host;	/**< connections host clients opened */
	uint64_t events;	/**< event queue elements sent */
	uint64_t rx_short;	/**< rx buffers returned empty: no room for a header, or
				     only for a header while data waited */
};

/** @brief Copy the counters. Context: any. */
void vb_vsock_get_stats(const struct vb_vsock *vs, struct vb_vsock_stats *st);

/** @brief Connections in use (any state). Context: any. */
unsigned int vb_vsock_conns(const struct vb_vsock *vs);

#ifdef __cplusplus
}
#endif

#endif /* VIRTIO_BACKEND_DEVICES_VSOCK_H */
