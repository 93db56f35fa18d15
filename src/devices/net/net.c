/* SPDX-License-Identifier: MIT */
/*
 * virtio-net device model (virtio 1.2, 5.1 "Network Device"): transmit and receive queue
 * pairs, mergeable receive buffers, the control queue (receive filter, MAC, VLAN, announce,
 * multiqueue, guest offloads), config space. No transport knowledge, no allocation after
 * init, no system calls (the host backends in net-*.c move the frames).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "virtio-backend.h"
#include "virtio-backend/devices/net.h"
#include "internal/check.h"
#include "internal/compiler.h"

/* Chains popped per pop_batch / frames per backend tx call. */
#define NET_BURST	64u
/* iovecs of a transmit chain (header, linear part, MAX_SKB_FRAGS, region splits). */
#define TX_IOV		64u
/* iovecs of a receive chain (Linux "big packets" chains have 2 + MAX_SKB_FRAGS). */
#define RX_IOV		32u
/* Receive chains a queue may hold popped: a 64 KiB frame over 2 KiB buffers, and a burst. */
#define RX_STASH	128u
/* iovecs one frame may be read into (readv: IOV_MAX). */
#define RX_SCATTER	1024u
/* Control queue chain. */
#define CTRL_IOV	16u
/* Largest frame without the header: 64 KiB of GSO payload and headers, as tap takes. */
#define FRAME_MAX	(65535u + 14u + 4u)
/* Ethernet header. */
#define ETH_HLEN	14u

struct net_txq {
	struct vb_vq		*vq;
	struct vb_chain		*ch;		/* NET_BURST chains */
	struct vb_iov		*iov;		/* NET_BURST * (TX_IOV + 1): spare slot first */
	struct vb_iov		*wr;		/* NET_BURST * 4 */
	struct vb_virtio_net_hdr *hdr;		/* checked header copies */
	struct vb_net_frame	*fr;
	uint32_t		*zero;		/* NET_BURST zeroes: bytes written */
};

struct net_rxq {
	struct vb_vq		*vq;
	struct vb_chain		*ch;		/* RX_STASH chains, a FIFO of popped ones */
	struct vb_iov		*iov;		/* RX_STASH * RX_IOV writable iovecs */
	struct vb_iov		*rd;		/* RX_STASH * 2 readable ones (must stay empty) */
	struct vb_iov		*scatter;	/* RX_SCATTER */
	struct vb_chain		*used;		/* RX_STASH chains to push */
	uint32_t		*used_len;
	uint32_t		mem_gen;	/* memory generation the stash was popped under */
	uint16_t		head, n;	/* FIFO */
	uint16_t		n_used;
	bool			dirty;		/* pushed since the last notify */
	bool			starved;	/* backend told to stop: no buffers */
};

struct vb_net {
	struct vb_device_ops	dops;
	struct vb_net_config	cfg;
	const struct vb_net_backend_ops *ops;
	void			*be;
	struct vb_dev		*dev;
	uint64_t		features;	/* negotiated */
	uint64_t		guest_offloads;	/* receive offloads in force */
	uint16_t		pairs, active;
	uint16_t		nq, qmax;
	uint16_t		ctrl_q;		/* index of the control queue, or UINT16_MAX */
	uint16_t		status;		/* config status */
	uint8_t			mac[6];
	bool			mrg;		/* MRG_RXBUF negotiated */
	bool			running;
	bool			heap;
	/* Receive filter (virtio 1.2, 5.1.6.5.1 "Packet Receive Filtering"). */
	bool			promisc, allmulti, alluni, nomulti, nouni, nobcast;
	bool			uni_overflow, multi_overflow;
	uint16_t		n_uni, n_multi;
	uint8_t			uni[VB_NET_MAC_TABLE_MAX][6];
	uint8_t			multi[VB_NET_MAC_TABLE_MAX][6];
	uint32_t		vlans[4096 / 32];
	struct vb_net_stats	st;
	struct net_txq		*txq;
	struct net_rxq		*rxq;
	struct vb_chain		ctrl_chain;
	struct vb_iov		ctrl_rd[CTRL_IOV], ctrl_wr[CTRL_IOV];
};

#define ALIGN8(x)	(((x) + 7u) & ~(uint64_t)7u)

struct net_layout {
	uint64_t tx_one, rx_one, total;
	uint16_t pairs, qmax;
};

static uint64_t tx_bytes_one(void)
{
	return ALIGN8(sizeof(struct vb_chain) * NET_BURST) +
	       ALIGN8(sizeof(struct vb_iov) * NET_BURST * (TX_IOV + 1u)) +
	       ALIGN8(sizeof(struct vb_iov) * NET_BURST * 4u) +
	       ALIGN8(sizeof(struct vb_virtio_net_hdr) * NET_BURST) +
	       ALIGN8(sizeof(struct vb_net_frame) * NET_BURST) +
	       ALIGN8(sizeof(uint32_t) * NET_BURST);
}

static uint64_t rx_bytes_one(void)
{
	return ALIGN8(sizeof(struct vb_chain) * RX_STASH) +
	       ALIGN8(sizeof(struct vb_iov) * RX_STASH * RX_IOV) +
	       ALIGN8(sizeof(struct vb_iov) * RX_STASH * 2u) +
	       ALIGN8(sizeof(struct vb_iov) * RX_SCATTER) +
	       ALIGN8(sizeof(struct vb_chain) * RX_STASH) +
	       ALIGN8(sizeof(uint32_t) * RX_STASH);
}

static int layout(const struct vb_net_config *cfg, struct net_layout *l)
{
	if (!cfg || cfg->version < VB_NET_CONFIG_V1)
		return -EINVAL;
	if (cfg->num_queue_pairs > VB_NET_MAX_QUEUE_PAIRS || cfg->queue_num_max > VB_VQ_MAX_SIZE ||
	    (cfg->mtu && cfg->mtu < 68u))
		return -EINVAL;
	l->pairs = cfg->num_queue_pairs ? cfg->num_queue_pairs : 1;
	l->qmax = cfg->queue_num_max ? cfg->queue_num_max : VB_NET_QUEUE_NUM_DEFAULT;
	l->tx_one = tx_bytes_one();
	l->rx_one = rx_bytes_one();
	l->total = ALIGN8(sizeof(struct vb_net)) +
		   ALIGN8(sizeof(struct net_txq) * l->pairs) +
		   ALIGN8(sizeof(struct net_rxq) * l->pairs) +
		   (l->tx_one + l->rx_one) * l->pairs;
	return 0;
}

VB_EXPORT size_t vb_net_size(const struct vb_net_config *cfg)
{
	struct net_layout l;

	return layout(cfg, &l) ? 0 : (size_t)l.total;
}

static bool has(const struct vb_net *net, unsigned int bit)
{
	return (net->features >> bit) & 1u;
}

/* virtio 1.2, 5.1.3.1 "Feature bit requirements": drop every offered bit whose
 * prerequisite is not offered. */
static uint64_t feature_deps(uint64_t f)
{
	const uint64_t tso = VB_BIT(VB_VIRTIO_NET_F_GUEST_TSO4) | VB_BIT(VB_VIRTIO_NET_F_GUEST_TSO6);
	const uint64_t htso = VB_BIT(VB_VIRTIO_NET_F_HOST_TSO4) | VB_BIT(VB_VIRTIO_NET_F_HOST_TSO6);

	if (!(f & VB_BIT(VB_VIRTIO_NET_F_GUEST_CSUM)))
		f &= ~(tso | VB_BIT(VB_VIRTIO_NET_F_GUEST_ECN) | VB_BIT(VB_VIRTIO_NET_F_GUEST_UFO));
	if (!(f & tso))
		f &= ~VB_BIT(VB_VIRTIO_NET_F_GUEST_ECN);
	if (!(f & VB_BIT(VB_VIRTIO_NET_F_CSUM)))
		f &= ~(htso | VB_BIT(VB_VIRTIO_NET_F_HOST_ECN) | VB_BIT(VB_VIRTIO_NET_F_HOST_UFO));
	if (!(f & htso))
		f &= ~VB_BIT(VB_VIRTIO_NET_F_HOST_ECN);
	if (!(f & VB_BIT(VB_VIRTIO_NET_F_CTRL_VQ)))
		f &= ~(VB_BIT(VB_VIRTIO_NET_F_CTRL_RX) | VB_BIT(VB_VIRTIO_NET_F_CTRL_VLAN) |
		       VB_BIT(VB_VIRTIO_NET_F_GUEST_ANNOUNCE) | VB_BIT(VB_VIRTIO_NET_F_MQ) |
		       VB_BIT(VB_VIRTIO_NET_F_CTRL_MAC_ADDR) |
		       VB_BIT(VB_VIRTIO_NET_F_CTRL_GUEST_OFFLOADS));
	if (!(f & VB_BIT(VB_VIRTIO_NET_F_CTRL_RX)))
		f &= ~VB_BIT(VB_VIRTIO_NET_F_CTRL_RX_EXTRA);
	return f;
}

/* @satisfy{VB-REQ-NET-003} */
static uint64_t offered_features(const struct vb_net *net)
{
	const struct vb_net_config *c = &net->cfg;
	static const uint8_t zero[6];
	uint64_t f;

	/*
	 * No VIRTIO_F_INDIRECT_DESC: DPDK 22.11's virtio-user builds packed indirect tables
	 * whose first entry (the header) keeps VRING_DESC_F_WRITE from its initialisation
	 * (vring_desc_init_indirect_packed()), a readable-after-writable chain the core refuses
	 * (virtio 1.2, 2.8.19); direct chains cost a frame a few more ring slots, no copies.
	 */
	f = VB_BIT(VB_VIRTIO_F_VERSION_1) |
	    VB_BIT(VB_VIRTIO_F_EVENT_IDX) | VB_BIT(VB_VIRTIO_F_RING_PACKED) |
	    VB_BIT(VB_VIRTIO_F_IN_ORDER) | VB_BIT(VB_VIRTIO_NET_F_MRG_RXBUF) |
	    VB_BIT(VB_VIRTIO_NET_F_STATUS);
	f |= net->ops->offloads & VB_NET_OFFLOAD_FEATURES;
	if (memcmp(c->mac, zero, 6))
		f |= VB_BIT(VB_VIRTIO_NET_F_MAC);
	if (c->mtu)
		f |= VB_BIT(VB_VIRTIO_NET_F_MTU);
	if (!(c->flags & VB_NET_CFG_NO_CTRL_VQ)) {
		f |= VB_BIT(VB_VIRTIO_NET_F_CTRL_VQ) | VB_BIT(VB_VIRTIO_NET_F_CTRL_RX) |
		     VB_BIT(VB_VIRTIO_NET_F_CTRL_RX_EXTRA) | VB_BIT(VB_VIRTIO_NET_F_CTRL_VLAN) |
		     VB_BIT(VB_VIRTIO_NET_F_GUEST_ANNOUNCE) |
		     VB_BIT(VB_VIRTIO_NET_F_CTRL_MAC_ADDR);
		if (net->pairs > 1)
			f |= VB_BIT(VB_VIRTIO_NET_F_MQ);
		if (net->ops->set_offloads)
			f |= VB_BIT(VB_VIRTIO_NET_F_CTRL_GUEST_OFFLOADS);
	}
	f = feature_deps(f & ~c->features_off);
	return f | VB_BIT(VB_VIRTIO_F_VERSION_1);
}

/* The receive offloads of a feature word (what VIRTIO_NET_CTRL_GUEST_OFFLOADS switches). */
static uint64_t guest_offload_bits(uint64_t f)
{
	return f & (VB_BIT(VB_VIRTIO_NET_F_GUEST_CSUM) | VB_BIT(VB_VIRTIO_NET_F_GUEST_TSO4) |
		    VB_BIT(VB_VIRTIO_NET_F_GUEST_TSO6) | VB_BIT(VB_VIRTIO_NET_F_GUEST_ECN) |
		    VB_BIT(VB_VIRTIO_NET_F_GUEST_UFO));
}

static void filter_defaults(struct vb_net *net)
{
	/* Until the driver says otherwise everything is accepted (virtio 1.2, 5.1.6.5.1:
	 * filtering is best effort; a device without CTRL_RX filters nothing). */
	net->promisc = true;
	net->allmulti = net->alluni = net->nomulti = net->nouni = net->nobcast = false;
	net->uni_overflow = net->multi_overflow = false;
	net->n_uni = net->n_multi = 0;
	memset(net->vlans, 0, sizeof(net->vlans));
}

/* ---- queues ---------------------------------------------------------------------------- */

static void rxq_forget(struct net_rxq *q)
{
	q->head = 0;
	q->n = 0;
	q->n_used = 0;
	q->dirty = false;
	q->starved = false;
}

/* Learn the queue objects (the transport hands them to kick; the model needs them for
 * receive outside kicks too). */
static void learn_queues(struct vb_net *net)
{
	if (!net->dev)
		return;
	for (uint16_t i = 0; i < net->pairs; i++) {
		net->rxq[i].vq = vb_dev_queue(net->dev, (uint16_t)(2u * i));
		net->txq[i].vq = vb_dev_queue(net->dev, (uint16_t)(2u * i + 1u));
	}
}

/* Chains popped under an older memory map (the transport changed it) point who knows
 * where: forget them without touching them. */
static void rxq_check_stale(struct vb_net *net, struct net_rxq *q)
{
	uint32_t gen = vb_dev_mem(net->dev)->generation;

	if (q->n && q->mem_gen != gen)
		q->head = q->n = 0;
	q->mem_gen = gen;
}

static void rxq_flush(struct net_rxq *q)
{
	if (!q->n_used)
		return;
	/* A push fails only if the queue broke or stopped meanwhile: the driver learns of that
	 * through NEEDS_RESET. */
	if (vb_vq_push_batch(q->vq, q->used, q->used_len, q->n_used) == 0)
		q->dirty = true;
	q->n_used = 0;
}

static void rxq_notify(struct net_rxq *q)
{
	rxq_flush(q);
	if (q->dirty && q->vq) {
		q->dirty = false;
		vb_vq_notify(q->vq);
	}
}

/* A receive chain the driver made unusable (readable parts, no room for the header):
 * returned at once with nothing written. @satisfy{VB-REQ-NET-023} */
static bool rx_chain_ok(const struct vb_chain *c)
{
	return c->n_read == 0 && c->write_len >= VB_VIRTIO_NET_HDR_LEN;
}

/* Pop receive chains until the stash holds @want (or the ring is empty). */
static void rxq_fill(struct vb_net *net, struct net_rxq *q, unsigned int want)
{
	if (want > RX_STASH)
		want = RX_STASH;
	while (q->n < want) {
		uint16_t tail = (uint16_t)((q->head + q->n) % RX_STASH);
		unsigned int room = RX_STASH - q->n, span = RX_STASH - tail;
		unsigned int ask = room < span ? room : span;
		int got;

		for (unsigned int i = 0; i < ask; i++) {
			struct vb_chain *c = &q->ch[tail + i];

			c->read = &q->rd[(tail + i) * 2u];
			c->write = &q->iov[(size_t)(tail + i) * RX_IOV];
			c->max_read = 2;
			c->max_write = RX_IOV;
		}
		got = vb_vq_pop_batch(q->vq, &q->ch[tail], ask);
		if (got <= 0)
			return;
		/* Unusable chains are returned at once and the rest close ranks, chain and
		 * iovecs (the chains point at their slot's iovec storage). */
		{
			int kept = 0;

			for (int i = 0; i < got; i++) {
				struct vb_chain *c = &q->ch[tail + i];
				uint16_t s = (uint16_t)(tail + kept);

				if (!rx_chain_ok(c)) {
					net->st.rx_dropped++;
					rxq_flush(q);
					if (vb_vq_push(q->vq, c, 0) == 0)
						q->dirty = true;
					continue;
				}
				if (kept != i) {
					memcpy(&q->iov[(size_t)s * RX_IOV], c->write,
					       sizeof(struct vb_iov) * c->n_write);
					q->ch[s] = *c;
					q->ch[s].write = &q->iov[(size_t)s * RX_IOV];
					q->ch[s].read = &q->rd[s * 2u];
				}
				kept++;
			}
			got = kept;
		}
		q->n = (uint16_t)(q->n + got);
		if ((unsigned int)got < ask)
			return;
	}
}

/* The receive features the driver accepts in a header we hand it (virtio 1.2, 5.1.6.4.1
 * "Device Requirements: Processing of Incoming Packets"). */
static bool rx_hdr_ok(const struct vb_net *net, const struct vb_virtio_net_hdr *h)
{
	uint64_t g = net->guest_offloads;
	uint8_t gso = h->gso_type & (uint8_t)~VB_VIRTIO_NET_HDR_GSO_ECN;

	if ((h->flags & VB_VIRTIO_NET_HDR_F_NEEDS_CSUM) &&
	    !(g & VB_BIT(VB_VIRTIO_NET_F_GUEST_CSUM)))
		return false;
	if ((h->gso_type & VB_VIRTIO_NET_HDR_GSO_ECN) && !(g & VB_BIT(VB_VIRTIO_NET_F_GUEST_ECN)))
		return false;
	switch (gso) {
	case VB_VIRTIO_NET_HDR_GSO_NONE:
		return !(h->gso_type & VB_VIRTIO_NET_HDR_GSO_ECN);
	case VB_VIRTIO_NET_HDR_GSO_TCPV4:
		return g & VB_BIT(VB_VIRTIO_NET_F_GUEST_TSO4);
	case VB_VIRTIO_NET_HDR_GSO_TCPV6:
		return g & VB_BIT(VB_VIRTIO_NET_F_GUEST_TSO6);
	case VB_VIRTIO_NET_HDR_GSO_UDP:
		return g & VB_BIT(VB_VIRTIO_NET_F_GUEST_UFO);
	default:
		return false;
	}
}

static bool mac_in(const uint8_t (*tab)[6], uint16_t n, const uint8_t *mac)
{
	for (uint16_t i = 0; i < n; i++)
		if (!memcmp(tab[i], mac, 6))
			return true;
	return false;
}

/* Receive filter on the first 18 bytes of a frame (@len of them valid).
 * @satisfy{VB-REQ-NET-040} */
static bool rx_accept(const struct vb_net *net, const uint8_t *eth, size_t len)
{
	static const uint8_t bcast[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };

	if (len < ETH_HLEN)
		return false;
	/* VLAN filter (CTRL_VLAN): tagged frames pass only for added VLAN ids. */
	if (has(net, VB_VIRTIO_NET_F_CTRL_VLAN) && len >= ETH_HLEN + 4u &&
	    eth[12] == 0x81 && eth[13] == 0x00) {
		uint16_t vid = (uint16_t)(((eth[14] << 8) | eth[15]) & 0xfff);

		if (!(net->vlans[vid / 32u] & (1u << (vid % 32u))))
			return false;
	}
	if (net->promisc)
		return true;
	if (!memcmp(eth, bcast, 6))
		return !net->nobcast;
	if (eth[0] & 1u) {
		if (net->nomulti)
			return false;
		return net->allmulti || net->multi_overflow ||
		       mac_in((const uint8_t (*)[6])net->multi, net->n_multi, eth);
	}
	if (!memcmp(eth, net->mac, 6))
		return true;
	if (net->nouni)
		return false;
	return net->alluni || net->uni_overflow ||
	       mac_in((const uint8_t (*)[6])net->uni, net->n_uni, eth);
}

/* Can pair qp receive now? */
static bool rx_live(struct vb_net *net, uint16_t qp)
{
	struct net_rxq *q;

	if (!net->running || !(net->status & VB_VIRTIO_NET_S_LINK_UP))
		return false;
	/* Pairs beyond VIRTIO_NET_CTRL_MQ's count are off only where the driver's control
	 * queue reaches us; a vhost-user front-end that keeps it (QEMU negotiates CTRL_VQ and
	 * MQ but runs the control queue itself) switches pairs with SET_VRING_ENABLE. */
	if (qp >= net->active && net->ctrl_q != UINT16_MAX &&
	    vb_vq_is_ready(vb_dev_queue(net->dev, net->ctrl_q)))
		return false;
	q = &net->rxq[qp];
	return q->vq && vb_vq_is_ready(q->vq);
}

/* Account @len bytes (header included) over stash chains from the head: append them to the
 * used list and write num_buffers. Returns the chains used. */
static uint16_t rx_commit(struct vb_net *net, struct net_rxq *q, uint32_t len)
{
	uint32_t left = len;
	uint16_t n = 0;
	vb_le16 nb;

	while (left && n < q->n) {
		uint32_t wl = q->ch[(q->head + n) % RX_STASH].write_len;

		left -= wl < left ? wl : left;
		n++;
	}
	/* virtio 1.2, 5.1.6.4: num_buffers is the number of chains the frame took (1 without
	 * MRG_RXBUF), written before any of them can be published. The first chain has room
	 * for the header (rx_chain_ok()). */
	nb = vb_cpu_to_le16(n);
	vb_chain_write(&q->ch[q->head], offsetof(struct vb_virtio_net_hdr, num_buffers), &nb,
		       sizeof(nb));
	left = len;
	for (uint16_t i = 0; i < n; i++) {
		const struct vb_chain *c = &q->ch[(q->head + i) % RX_STASH];
		uint32_t take = c->write_len < left ? c->write_len : left;

		/* Used elements go out in batches of up to RX_STASH (one index store each). */
		if (q->n_used == RX_STASH)
			rxq_flush(q);
		q->used[q->n_used] = *c;
		q->used_len[q->n_used] = take;
		q->n_used++;
		left -= take;
	}
	q->head = (uint16_t)((q->head + n) % RX_STASH);
	q->n = (uint16_t)(q->n - n);
	net->st.rx_buffers += n;
	net->st.rx_frames++;
	net->st.rx_bytes += len - VB_VIRTIO_NET_HDR_LEN;
	return n;
}

/* Chains needed for a frame of @len bytes: exact for a known length. Returns 0 if the
 * stash cannot hold it (after popping). */
static unsigned int rx_reserve(struct vb_net *net, struct net_rxq *q, uint32_t len)
{
	uint64_t cap = 0;
	unsigned int n = 0;

	for (;;) {
		if (n == q->n) {
			rxq_fill(net, q, n + 1u);
			if (n == q->n)
				return 0;
		}
		cap += q->ch[(q->head + n) % RX_STASH].write_len;
		n++;
		if (cap >= len)
			return n;
		/* virtio 1.2, 5.1.6.4.1: without MRG_RXBUF one chain per frame. */
		if (!net->mrg)
			return 0;
	}
}

/* @satisfy{VB-REQ-NET-020} @satisfy{VB-REQ-NET-021} */
VB_EXPORT int vb_net_rx_copy(struct vb_net *net, uint16_t qp, const struct vb_iov *iov,
			     unsigned int iov_num)
{
	struct vb_virtio_net_hdr h;
	uint8_t eth[ETH_HLEN + 4u];
	struct vb_iov_cursor src, dst;
	struct net_rxq *q;
	size_t len, elen;
	unsigned int n;

	if (!rx_live(net, qp))
		return -EAGAIN;
	q = &net->rxq[qp];
	vb_iov_cursor_init(&src, iov, iov_num);
	len = src.remaining;
	/* The header is read once; only the copy is looked at and written. */
	if (vb_iov_cursor_read(&src, &h, sizeof(h)) != sizeof(h) || !rx_hdr_ok(net, &h)) {
		net->st.rx_dropped++;
		return -EBADMSG;
	}
	if (len > VB_VIRTIO_NET_HDR_LEN + FRAME_MAX) {
		net->st.rx_dropped++;
		return -EMSGSIZE;
	}
	{
		struct vb_iov_cursor peek = src;

		elen = vb_iov_cursor_read(&peek, eth, sizeof(eth));
	}
	if (!rx_accept(net, eth, elen)) {
		net->st.rx_filtered++;
		return -EPERM;
	}
	rxq_check_stale(net, q);
	n = rx_reserve(net, q, (uint32_t)len);
	if (!n) {
		net->st.rx_dropped++;
		if (!net->mrg && q->n && q->ch[q->head].write_len < len)
			return -EMSGSIZE;
		return -ENOBUFS;
	}
	/* Copy into the chains, then stamp num_buffers (rx_commit). */
	h.num_buffers = vb_cpu_to_le16(1);
	for (unsigned int i = 0; i < n; i++) {
		const struct vb_chain *c = &q->ch[(q->head + i) % RX_STASH];
		size_t want;

		vb_iov_cursor_init(&dst, c->write, c->n_write);
		if (i == 0) {
			vb_iov_cursor_write(&dst, &h, sizeof(h));
		}
		want = dst.remaining < src.remaining ? dst.remaining : src.remaining;
		while (want) {
			struct vb_iov piece;

			if (!vb_iov_cursor_next(&dst, want, &piece))
				break;
			vb_iov_cursor_read(&src, piece.base, piece.len);
			want -= piece.len;
		}
	}
	rx_commit(net, q, (uint32_t)len);
	return 0;
}

/* Largest frame the driver can receive: 64 KiB with receive segmentation offloads, else
 * the MTU (1500 without VIRTIO_NET_F_MTU) with an Ethernet and a VLAN header. */
static uint32_t rx_frame_max(const struct vb_net *net)
{
	if (net->guest_offloads & (VB_BIT(VB_VIRTIO_NET_F_GUEST_TSO4) |
				   VB_BIT(VB_VIRTIO_NET_F_GUEST_TSO6) |
				   VB_BIT(VB_VIRTIO_NET_F_GUEST_UFO)))
		return FRAME_MAX;
	return (has(net, VB_VIRTIO_NET_F_MTU) ? net->cfg.mtu : 1500u) + ETH_HLEN + 4u;
}

/* @satisfy{VB-REQ-NET-022} */
VB_EXPORT int vb_net_rx_poll(struct vb_net *net, uint16_t qp, unsigned int budget)
{
	struct net_rxq *q;
	int done = 0;

	if (!net->ops->rx || qp >= net->pairs)
		return -EAGAIN;
	q = &net->rxq[qp];
	if (!rx_live(net, qp)) {
		/* Nowhere to put frames until the queue runs: the backend stops polling, and the
		 * next receive kick or activation resumes it. */
		if (!q->starved && net->ops->rx_enable)
			net->ops->rx_enable(net->be, qp, false);
		q->starved = true;
		return -EAGAIN;
	}
	rxq_check_stale(net, q);
	while ((unsigned int)done < budget) {
		unsigned int n_iov = 0, nch = 0;
		uint64_t cap = 0;
		uint64_t want = VB_VIRTIO_NET_HDR_LEN + rx_frame_max(net);
		uint8_t eth[ETH_HLEN + 4u];
		struct vb_iov_cursor cur;
		size_t elen;
		int len;

		/* Without MRG_RXBUF a frame takes one chain; with it, enough for the largest
		 * frame (tap cannot tell a frame's length before it is read). The ring is read
		 * only when the chains held fall short, and then for as many as fit. */
		while (cap < want) {
			const struct vb_chain *c;

			if (nch == q->n) {
				rxq_fill(net, q, RX_STASH);
				/* Tiny buffers: all the model can hold is all it can offer. */
				if (nch == q->n && q->n == RX_STASH)
					break;
				if (nch == q->n) {
					/* Not enough room for the largest frame: a read now could
					 * truncate one. Wait for the next receive kick. */
					if (!q->starved && net->ops->rx_enable)
						net->ops->rx_enable(net->be, qp, false);
					q->starved = true;
					rxq_notify(q);
					return done ? done : -ENOBUFS;
				}
			}
			c = &q->ch[(q->head + nch) % RX_STASH];

			if (n_iov + c->n_write > RX_SCATTER)
				break;
			memcpy(&q->scatter[n_iov], c->write, sizeof(struct vb_iov) * c->n_write);
			n_iov += c->n_write;
			cap += c->write_len;
			nch++;
			if (!net->mrg)
				break;
		}
		len = net->ops->rx(net->be, qp, q->scatter, n_iov);
		if (len <= 0) {
			rxq_notify(q);
			return done ? done : len;
		}
		if ((uint64_t)len > cap || (unsigned int)len < VB_VIRTIO_NET_HDR_LEN) {
			net->st.rx_dropped++;
			continue;	/* a backend bug or a runt: the chains are reused */
		}
		vb_iov_cursor_init(&cur, q->scatter, n_iov);
		vb_iov_cursor_skip(&cur, VB_VIRTIO_NET_HDR_LEN);
		elen = vb_iov_cursor_read(&cur, eth, sizeof(eth));
		if ((size_t)len - VB_VIRTIO_NET_HDR_LEN < elen)
			elen = (size_t)len - VB_VIRTIO_NET_HDR_LEN;
		if (!rx_accept(net, eth, elen)) {
			net->st.rx_filtered++;
			continue;
		}
		rx_commit(net, q, (uint32_t)len);
		done++;
	}
	rxq_notify(q);
	return done;
}

VB_EXPORT void vb_net_notify(struct vb_net *net)
{
	for (uint16_t i = 0; i < net->pairs; i++)
		rxq_notify(&net->rxq[i]);
}

static void rx_kick(struct vb_net *net, uint16_t qp)
{
	struct net_rxq *q = &net->rxq[qp];

	if (q->starved) {
		q->starved = false;
		if (net->ops->rx_enable)
			net->ops->rx_enable(net->be, qp, true);
	}
	/* Until the backend has nothing more or the ring is empty: with EVENT_IDX the driver
	 * kicks again only once the device found the ring empty (vq.h). */
	if (net->ops->rx)
		while (vb_net_rx_poll(net, qp, 256) == 256)
			;
}

/* ---- transmit -------------------------------------------------------------------------- */

/* Check a transmitted header against the negotiated features (virtio 1.2, 5.1.6.2
 * "Packet Transmission" and 5.1.6.2.1 "Driver Requirements"): a frame the driver may not
 * send is dropped. @satisfy{VB-REQ-NET-010} */
static bool tx_hdr_ok(const struct vb_net *net, const struct vb_virtio_net_hdr *h, uint32_t flen)
{
	uint8_t gso = h->gso_type & (uint8_t)~VB_VIRTIO_NET_HDR_GSO_ECN;

	if (h->flags & VB_VIRTIO_NET_HDR_F_NEEDS_CSUM) {
		uint32_t start = vb_le16_to_cpu(h->csum_start);
		uint32_t off = vb_le16_to_cpu(h->csum_offset);

		if (!has(net, VB_VIRTIO_NET_F_CSUM) || start + off + 2u > flen)
			return false;
	}
	if ((h->gso_type & VB_VIRTIO_NET_HDR_GSO_ECN) && !has(net, VB_VIRTIO_NET_F_HOST_ECN))
		return false;
	switch (gso) {
	case VB_VIRTIO_NET_HDR_GSO_NONE:
		return !(h->gso_type & VB_VIRTIO_NET_HDR_GSO_ECN) && flen <= FRAME_MAX;
	case VB_VIRTIO_NET_HDR_GSO_TCPV4:
		if (!has(net, VB_VIRTIO_NET_F_HOST_TSO4))
			return false;
		break;
	case VB_VIRTIO_NET_HDR_GSO_TCPV6:
		if (!has(net, VB_VIRTIO_NET_F_HOST_TSO6))
			return false;
		break;
	case VB_VIRTIO_NET_HDR_GSO_UDP:
		if (!has(net, VB_VIRTIO_NET_F_HOST_UFO))
			return false;
		break;
	default:
		return false;
	}
	return vb_le16_to_cpu(h->gso_size) != 0 && flen <= FRAME_MAX;
}

/* Prepare frame i of the burst from chain c: the checked header copy, then the guest's
 * iovecs after the header (zero copy). @satisfy{VB-REQ-NET-011} */
static bool tx_prepare(struct vb_net *net, struct net_txq *t, unsigned int i)
{
	struct vb_chain *c = &t->ch[i];
	struct vb_iov *base = &t->iov[(size_t)i * (TX_IOV + 1u)];	/* spare slot, then read[] */
	struct vb_virtio_net_hdr *h = &t->hdr[i];
	size_t skip = VB_VIRTIO_NET_HDR_LEN;
	unsigned int k = 0;
	uint32_t flen;

	if (c->read_len < VB_VIRTIO_NET_HDR_LEN + ETH_HLEN ||
	    vb_chain_read(c, 0, h, sizeof(*h)) < 0)
		return false;
	flen = c->read_len - VB_VIRTIO_NET_HDR_LEN;
	if (!tx_hdr_ok(net, h, flen))
		return false;
	/* num_buffers means nothing on transmit (virtio 1.2, 5.1.6.2: the driver sets it 0). */
	h->num_buffers = vb_cpu_to_le16(0);
	while (skip && k < c->n_read) {
		if (c->read[k].len > skip) {
			c->read[k].base = (uint8_t *)c->read[k].base + skip;
			c->read[k].len -= skip;
			skip = 0;
			break;
		}
		skip -= c->read[k].len;
		k++;
	}
	/* read[k] is the first byte after the header; base[k] (just before it in the same
	 * array, the spare slot or a header piece) takes the copy. */
	base[k].base = h;
	base[k].len = sizeof(*h);
	t->fr[i].iov = &base[k];
	t->fr[i].iov_num = c->n_read - k + 1u;
	t->fr[i].len = c->read_len;
	return true;
}

static void tx_kick(struct vb_net *net, uint16_t qp)
{
	struct net_txq *t = &net->txq[qp];

	for (;;) {
		unsigned int nf = 0;
		int n;

		for (unsigned int i = 0; i < NET_BURST; i++) {
			struct vb_chain *c = &t->ch[i];

			c->read = &t->iov[(size_t)i * (TX_IOV + 1u) + 1u];
			c->write = &t->wr[i * 4u];
			c->max_read = TX_IOV;
			c->max_write = 4;
		}
		n = vb_vq_pop_batch(t->vq, t->ch, NET_BURST);
		if (n <= 0)
			break;
		for (int i = 0; i < n; i++) {
			if (!tx_prepare(net, t, (unsigned int)i)) {
				net->st.tx_errors++;
				continue;
			}
			net->st.tx_frames++;
			net->st.tx_bytes += t->fr[i].len - VB_VIRTIO_NET_HDR_LEN;
			t->fr[nf++] = t->fr[i];
		}
		if (nf)
			(void)net->ops->tx(net->be, qp, t->fr, nf);
		/* Transmit buffers are only read: 0 bytes written (virtio 1.2, 5.1.6.2). */
		if (vb_vq_push_batch(t->vq, t->ch, t->zero, (unsigned int)n) == 0)
			vb_vq_notify(t->vq);
		/* The loopback delivered into receive queues meanwhile. */
		vb_net_notify(net);
	}
}

/* ---- control queue ----------------------------------------------------------------------- */

/* Copy a MAC table out of the command: le32 entries, then entries * 6 bytes. Returns false
 * if the command is malformed. */
static bool read_mac_table(struct vb_iov_cursor *cur, uint8_t (*tab)[6], uint16_t *n,
			   bool *overflow)
{
	vb_le32 le;
	uint32_t entries;

	if (vb_iov_cursor_read(cur, &le, sizeof(le)) != sizeof(le))
		return false;
	entries = vb_le32_to_cpu(le);
	if ((uint64_t)entries * 6u > cur->remaining)
		return false;
	*n = 0;
	*overflow = entries > VB_NET_MAC_TABLE_MAX;
	for (uint32_t i = 0; i < entries; i++) {
		uint8_t mac[6];

		vb_iov_cursor_read(cur, mac, 6);
		if (i < VB_NET_MAC_TABLE_MAX)
			memcpy(tab[(*n)++], mac, 6);
	}
	return true;
}

/* One command; returns VIRTIO_NET_OK or VIRTIO_NET_ERR (virtio 1.2, 5.1.6.5 "Control
 * Virtqueue"). @satisfy{VB-REQ-NET-050} */
static uint8_t ctrl_do(struct vb_net *net, uint8_t cls, uint8_t cmd, struct vb_iov_cursor *cur)
{
	size_t dlen = cur->remaining;

	switch (cls) {
	case VB_VIRTIO_NET_CTRL_RX: {
		uint8_t on;
		bool *flag;

		if (!has(net, VB_VIRTIO_NET_F_CTRL_RX) || dlen != 1)
			return VB_VIRTIO_NET_ERR;
		switch (cmd) {
		case VB_VIRTIO_NET_CTRL_RX_PROMISC: flag = &net->promisc; break;
		case VB_VIRTIO_NET_CTRL_RX_ALLMULTI: flag = &net->allmulti; break;
		case VB_VIRTIO_NET_CTRL_RX_ALLUNI: flag = &net->alluni; break;
		case VB_VIRTIO_NET_CTRL_RX_NOMULTI: flag = &net->nomulti; break;
		case VB_VIRTIO_NET_CTRL_RX_NOUNI: flag = &net->nouni; break;
		case VB_VIRTIO_NET_CTRL_RX_NOBCAST: flag = &net->nobcast; break;
		default: return VB_VIRTIO_NET_ERR;
		}
		/* Commands 2..5 need CTRL_RX_EXTRA (virtio 1.2, 5.1.6.5.1). */
		if (cmd > VB_VIRTIO_NET_CTRL_RX_ALLMULTI && !has(net, VB_VIRTIO_NET_F_CTRL_RX_EXTRA))
			return VB_VIRTIO_NET_ERR;
		vb_iov_cursor_read(cur, &on, 1);
		*flag = on != 0;
		return VB_VIRTIO_NET_OK;
	}
	case VB_VIRTIO_NET_CTRL_MAC:
		if (cmd == VB_VIRTIO_NET_CTRL_MAC_ADDR_SET) {
			/* @satisfy{VB-REQ-NET-051} */
			if (!has(net, VB_VIRTIO_NET_F_CTRL_MAC_ADDR) || dlen != 6)
				return VB_VIRTIO_NET_ERR;
			vb_iov_cursor_read(cur, net->mac, 6);
			return VB_VIRTIO_NET_OK;
		}
		if (cmd == VB_VIRTIO_NET_CTRL_MAC_TABLE_SET && has(net, VB_VIRTIO_NET_F_CTRL_RX)) {
			uint8_t uni[VB_NET_MAC_TABLE_MAX][6], multi[VB_NET_MAC_TABLE_MAX][6];
			uint16_t nu, nm;
			bool ou, om;

			/* Both tables, exactly (virtio 1.2, 5.1.6.5.2 "Setting MAC Address
			 * Filtering"); nothing changes on a malformed command. */
			if (!read_mac_table(cur, uni, &nu, &ou) ||
			    !read_mac_table(cur, multi, &nm, &om) || cur->remaining)
				return VB_VIRTIO_NET_ERR;
			memcpy(net->uni, uni, sizeof(uni));
			memcpy(net->multi, multi, sizeof(multi));
			net->n_uni = nu;
			net->n_multi = nm;
			net->uni_overflow = ou;
			net->multi_overflow = om;
			return VB_VIRTIO_NET_OK;
		}
		return VB_VIRTIO_NET_ERR;
	case VB_VIRTIO_NET_CTRL_VLAN: {
		vb_le16 le;
		uint16_t vid;

		if (!has(net, VB_VIRTIO_NET_F_CTRL_VLAN) || dlen != 2 ||
		    cmd > VB_VIRTIO_NET_CTRL_VLAN_DEL)
			return VB_VIRTIO_NET_ERR;
		vb_iov_cursor_read(cur, &le, 2);
		vid = vb_le16_to_cpu(le);
		if (vid >= 4096u)
			return VB_VIRTIO_NET_ERR;
		if (cmd == VB_VIRTIO_NET_CTRL_VLAN_ADD)
			net->vlans[vid / 32u] |= 1u << (vid % 32u);
		else
			net->vlans[vid / 32u] &= ~(1u << (vid % 32u));
		return VB_VIRTIO_NET_OK;
	}
	case VB_VIRTIO_NET_CTRL_ANNOUNCE:
		/* @satisfy{VB-REQ-NET-004} */
		if (!has(net, VB_VIRTIO_NET_F_GUEST_ANNOUNCE) || dlen != 0 ||
		    cmd != VB_VIRTIO_NET_CTRL_ANNOUNCE_ACK)
			return VB_VIRTIO_NET_ERR;
		net->status &= (uint16_t)~VB_VIRTIO_NET_S_ANNOUNCE;
		return VB_VIRTIO_NET_OK;
	case VB_VIRTIO_NET_CTRL_MQ: {
		vb_le16 le;
		uint16_t n;

		/* @satisfy{VB-REQ-NET-052} */
		if (!has(net, VB_VIRTIO_NET_F_MQ) || dlen != 2 ||
		    cmd != VB_VIRTIO_NET_CTRL_MQ_VQ_PAIRS_SET)
			return VB_VIRTIO_NET_ERR;
		vb_iov_cursor_read(cur, &le, 2);
		n = vb_le16_to_cpu(le);
		if (n < VB_VIRTIO_NET_CTRL_MQ_VQ_PAIRS_MIN || n > net->pairs)
			return VB_VIRTIO_NET_ERR;
		net->active = n;
		return VB_VIRTIO_NET_OK;
	}
	case VB_VIRTIO_NET_CTRL_GUEST_OFFLOADS: {
		vb_le64 le;
		uint64_t want;

		/* @satisfy{VB-REQ-NET-053} */
		if (!has(net, VB_VIRTIO_NET_F_CTRL_GUEST_OFFLOADS) || dlen != 8 ||
		    cmd != VB_VIRTIO_NET_CTRL_GUEST_OFFLOADS_SET)
			return VB_VIRTIO_NET_ERR;
		vb_iov_cursor_read(cur, &le, 8);
		want = vb_le64_to_cpu(le);
		/* Only offloads that were negotiated (virtio 1.2, 5.1.6.5.6.1). */
		if (want & ~guest_offload_bits(net->features))
			return VB_VIRTIO_NET_ERR;
		if (net->ops->set_offloads &&
		    net->ops->set_offloads(net->be, (net->features & ~guest_offload_bits(~0ull)) |
					   want) < 0)
			return VB_VIRTIO_NET_ERR;
		net->guest_offloads = want;
		return VB_VIRTIO_NET_OK;
	}
	default:
		return VB_VIRTIO_NET_ERR;
	}
}

static void ctrl_kick(struct vb_net *net, struct vb_vq *vq)
{
	bool pushed = false;

	for (;;) {
		struct vb_chain *c = &net->ctrl_chain;
		struct vb_iov_cursor cur;
		uint8_t head[2], ack;
		uint32_t written = 0;

		*c = (struct vb_chain){ .read = net->ctrl_rd, .write = net->ctrl_wr,
					.max_read = CTRL_IOV, .max_write = CTRL_IOV };
		if (vb_vq_pop(vq, c) <= 0)
			break;
		/* class, command, data (driver-readable), then ack (device-writable). */
		vb_iov_cursor_init(&cur, c->read, c->n_read);
		if (vb_iov_cursor_read(&cur, head, 2) != 2)
			ack = VB_VIRTIO_NET_ERR;
		else
			ack = ctrl_do(net, head[0], head[1], &cur);
		if (ack == VB_VIRTIO_NET_OK)
			net->st.ctrl_ok++;
		else
			net->st.ctrl_err++;
		if (c->write_len >= 1 && vb_chain_write(c, 0, &ack, 1) == 1)
			written = 1;
		if (vb_vq_push(vq, c, written) == 0)
			pushed = true;
	}
	if (pushed)
		vb_vq_notify(vq);
}

/* ---- hooks ------------------------------------------------------------------------------ */

/* @satisfy{VB-REQ-NET-005} */
static int net_config_read(struct vb_dev *dev, uint32_t off, void *buf, uint32_t len)
{
	struct vb_net *net = vb_dev_priv(dev);
	struct vb_virtio_net_config c;

	net->dev = dev;
	if (VB_NEVER(off > sizeof(c) || len > sizeof(c) - off))
		return -EINVAL;
	memset(&c, 0, sizeof(c));
	memcpy(c.mac, net->mac, 6);
	c.status = vb_cpu_to_le16(net->status);
	c.max_virtqueue_pairs = vb_cpu_to_le16(net->pairs);
	c.mtu = vb_cpu_to_le16(net->cfg.mtu);
	c.speed = vb_cpu_to_le32(UINT32_MAX);	/* unknown (virtio 1.2, 5.1.4) */
	c.duplex = 0xff;			/* unknown */
	memcpy(buf, (const uint8_t *)&c + off, len);
	return 0;
}

/* @satisfy{VB-REQ-NET-006} */
static int net_activate(struct vb_dev *dev, uint64_t features)
{
	struct vb_net *net = vb_dev_priv(dev);

	net->dev = dev;
	/* Frames carry the 12-byte header (VERSION_1 or MRG_RXBUF); the 10-byte legacy one
	 * is not supported. */
	if (!(features & (VB_BIT(VB_VIRTIO_F_VERSION_1) | VB_BIT(VB_VIRTIO_NET_F_MRG_RXBUF))))
		return -ENOTSUP;
	net->features = features;
	net->mrg = has(net, VB_VIRTIO_NET_F_MRG_RXBUF);
	net->guest_offloads = guest_offload_bits(features);
	/* virtio 1.2, 5.1.6.5.5 "Automatic receive steering in multiqueue mode": with MQ the
	 * driver starts on one pair and enables more with VIRTIO_NET_CTRL_MQ. A vhost-user
	 * front-end that keeps the control queue to itself (QEMU, DPDK's virtio-user) does not
	 * negotiate CTRL_VQ and enables rings with SET_VRING_ENABLE instead: every pair whose
	 * rings are live is in use then. */
	net->active = (has(net, VB_VIRTIO_NET_F_MQ) && has(net, VB_VIRTIO_NET_F_CTRL_VQ)) ?
		      1 : net->pairs;
	if (net->ops->set_offloads && net->ops->set_offloads(net->be, features) < 0)
		return -EIO;
	learn_queues(net);
	for (uint16_t i = 0; i < net->pairs; i++) {
		rxq_forget(&net->rxq[i]);
		if (net->ops->rx_enable)
			net->ops->rx_enable(net->be, i, true);
	}
	net->running = true;
	return 0;
}

static void net_kick(struct vb_dev *dev, struct vb_vq *vq)
{
	struct vb_net *net = vb_dev_priv(dev);
	uint16_t qi = vb_vq_index(vq);

	net->dev = dev;
	if (!net->running)
		return;
	if (qi == net->ctrl_q) {
		ctrl_kick(net, vq);
		return;
	}
	if (VB_NEVER(qi / 2u >= net->pairs))
		return;
	if (qi & 1u) {
		net->txq[qi / 2u].vq = vq;
		tx_kick(net, (uint16_t)(qi / 2u));
	} else {
		net->rxq[qi / 2u].vq = vq;
		rx_kick(net, (uint16_t)(qi / 2u));
	}
}

/* @satisfy{VB-REQ-NET-007} */
static void net_reset(struct vb_dev *dev)
{
	struct vb_net *net = vb_dev_priv(dev);

	net->dev = dev;
	net->running = false;
	for (uint16_t i = 0; i < net->pairs; i++)
		rxq_forget(&net->rxq[i]);
	net->features = 0;
	net->guest_offloads = 0;
	net->mrg = false;
	net->active = 1;
	memcpy(net->mac, net->cfg.mac, 6);
	net->status &= (uint16_t)~VB_VIRTIO_NET_S_ANNOUNCE;
	filter_defaults(net);
	if (net->ops->reset)
		net->ops->reset(net->be);
}

static void net_queue_reset(struct vb_dev *dev, struct vb_vq *vq)
{
	struct vb_net *net = vb_dev_priv(dev);
	uint16_t qi = vb_vq_index(vq);

	if (qi != net->ctrl_q && !(qi & 1u) && qi / 2u < net->pairs)
		rxq_forget(&net->rxq[qi / 2u]);
}

/* ---- construction ----------------------------------------------------------------------- */

VB_EXPORT int vb_net_init(void *storage, size_t storage_len, const struct vb_net_config *cfg,
			  const struct vb_net_backend_ops *ops, void *backend, struct vb_net **out)
{
	struct net_layout l;
	struct vb_net *net;
	uint8_t *p;
	int ret;

	if (!storage || ((uintptr_t)storage & 7u) || !ops || !out ||
	    ops->version < VB_NET_BACKEND_OPS_V1 || !ops->tx)
		return -EINVAL;
	ret = layout(cfg, &l);
	if (ret)
		return ret;
	if (storage_len < l.total)
		return -ENOSPC;
	memset(storage, 0, (size_t)l.total);
	net = storage;
	p = (uint8_t *)storage + ALIGN8(sizeof(*net));
	net->cfg = *cfg;
	net->ops = ops;
	net->be = backend;
	net->pairs = l.pairs;
	net->active = 1;
	net->qmax = l.qmax;
	memcpy(net->mac, cfg->mac, 6);
	net->status = (cfg->flags & VB_NET_CFG_LINK_DOWN) ? 0 : (uint16_t)VB_VIRTIO_NET_S_LINK_UP;
	filter_defaults(net);
	net->txq = (struct net_txq *)(void *)p;
	p += ALIGN8(sizeof(struct net_txq) * l.pairs);
	net->rxq = (struct net_rxq *)(void *)p;
	p += ALIGN8(sizeof(struct net_rxq) * l.pairs);
	for (uint16_t i = 0; i < l.pairs; i++) {
		struct net_txq *t = &net->txq[i];
		struct net_rxq *q = &net->rxq[i];

		t->ch = (struct vb_chain *)(void *)p;
		p += ALIGN8(sizeof(struct vb_chain) * NET_BURST);
		t->iov = (struct vb_iov *)(void *)p;
		p += ALIGN8(sizeof(struct vb_iov) * NET_BURST * (TX_IOV + 1u));
		t->wr = (struct vb_iov *)(void *)p;
		p += ALIGN8(sizeof(struct vb_iov) * NET_BURST * 4u);
		t->hdr = (struct vb_virtio_net_hdr *)(void *)p;
		p += ALIGN8(sizeof(struct vb_virtio_net_hdr) * NET_BURST);
		t->fr = (struct vb_net_frame *)(void *)p;
		p += ALIGN8(sizeof(struct vb_net_frame) * NET_BURST);
		t->zero = (uint32_t *)(void *)p;
		p += ALIGN8(sizeof(uint32_t) * NET_BURST);

		q->ch = (struct vb_chain *)(void *)p;
		p += ALIGN8(sizeof(struct vb_chain) * RX_STASH);
		q->iov = (struct vb_iov *)(void *)p;
		p += ALIGN8(sizeof(struct vb_iov) * RX_STASH * RX_IOV);
		q->rd = (struct vb_iov *)(void *)p;
		p += ALIGN8(sizeof(struct vb_iov) * RX_STASH * 2u);
		q->scatter = (struct vb_iov *)(void *)p;
		p += ALIGN8(sizeof(struct vb_iov) * RX_SCATTER);
		q->used = (struct vb_chain *)(void *)p;
		p += ALIGN8(sizeof(struct vb_chain) * RX_STASH);
		q->used_len = (uint32_t *)(void *)p;
		p += ALIGN8(sizeof(uint32_t) * RX_STASH);
	}
	net->ctrl_q = (cfg->flags & VB_NET_CFG_NO_CTRL_VQ) ? UINT16_MAX : (uint16_t)(2u * l.pairs);
	net->nq = (uint16_t)(2u * l.pairs + (net->ctrl_q != UINT16_MAX ? 1u : 0u));
	net->dops = (struct vb_device_ops){
		.version = VB_DEVICE_OPS_V1,
		.device_id = VB_VIRTIO_ID_NET,
		.num_queues = net->nq,
		.queue_num_max = l.qmax,
		.config_len = VB_VIRTIO_NET_CONFIG_LEN,
		.config_read = net_config_read,
		.activate = net_activate,
		.kick = net_kick,
		.reset = net_reset,
		.queue_reset = net_queue_reset,
	};
	net->dops.features = offered_features(net);
	*out = net;
	return 0;
}

VB_EXPORT int vb_net_create(const struct vb_net_config *cfg, const struct vb_net_backend_ops *ops,
			    void *backend, struct vb_net **out)
{
	size_t len = vb_net_size(cfg);
	void *mem;
	int ret;

	if (!len || !out)
		return -EINVAL;
	mem = malloc(len);
	if (!mem)
		return -ENOMEM;
	ret = vb_net_init(mem, len, cfg, ops, backend, out);
	if (ret) {
		free(mem);
		return ret;
	}
	(*out)->heap = true;
	return 0;
}

VB_EXPORT void vb_net_destroy(struct vb_net *net)
{
	if (net && net->heap)
		free(net);
}

VB_EXPORT const struct vb_device_ops *vb_net_device_ops(const struct vb_net *net)
{
	return &net->dops;
}

/* @satisfy{VB-REQ-NET-004} */
VB_EXPORT int vb_net_set_link(struct vb_net *net, bool up)
{
	if (up)
		net->status |= VB_VIRTIO_NET_S_LINK_UP;
	else
		net->status &= (uint16_t)~VB_VIRTIO_NET_S_LINK_UP;
	return net->dev ? vb_dev_config_changed(net->dev) : 0;
}

VB_EXPORT int vb_net_announce(struct vb_net *net)
{
	if (!has(net, VB_VIRTIO_NET_F_GUEST_ANNOUNCE))
		return -ENOTSUP;
	net->status |= VB_VIRTIO_NET_S_ANNOUNCE;
	return net->dev ? vb_dev_config_changed(net->dev) : 0;
}

VB_EXPORT uint16_t vb_net_active_pairs(const struct vb_net *net)
{
	return net->active;
}

VB_EXPORT void vb_net_get_mac(const struct vb_net *net, uint8_t mac[6])
{
	memcpy(mac, net->mac, 6);
}

VB_EXPORT void vb_net_get_stats(const struct vb_net *net, struct vb_net_stats *st)
{
	*st = net->st;
}
