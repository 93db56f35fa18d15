/* SPDX-License-Identifier: MIT */
/*
 * Fuzz target: the virtio-net transmit header checks and the receive path
 * (src/devices/net/net.c) over fuzzed transmit chains in fuzzed guest memory, through the
 * loopback backend: each transmitted frame is checked, then copied into receive buffers
 * (mergeable or not) with its header checked again against the receive features.
 *
 * Input format (integers little-endian; a short input reads as zeros):
 *   0  u8   drop     features the driver refuses: bit 0 CSUM, bit 1 HOST_TSO4, bit 2
 *                    HOST_TSO6, bit 3 HOST_ECN and HOST_UFO, bit 4 MRG_RXBUF, bit 5
 *                    GUEST_CSUM, bit 6 GUEST_TSO4/6; bit 7: guest cut into 256-byte regions
 *   1  u8   n_rx     x % 17 receive buffers
 *   2  u16  rx_len   each 1 + x % 4096 bytes
 *   4  u8   n_tx     x % 17 transmit chains (while they fit the 32-entry ring)
 *   5  u8   reserved
 *   then n_tx chains: u8 n (1 + n % 4 buffers), then n buffers: u16 off (guest offset mod
 *   the buffer area), u16 x (length x & 0x1fff clipped to the area; bit 15 device-writable)
 *   the rest: the guest image (headers and frames) copied to guest offset 0.
 *
 * Invariants (an abort is a finding):
 *  - every transmit chain comes back once with 0 bytes written, unless the core broke the
 *    queue for a protocol violation;
 *  - frames handed over plus frames refused equal the chains returned (a queue broken
 *    mid-batch keeps the chains popped before the violation);
 *  - receive elements: each used length within its buffer; a frame's first buffer holds a
 *    header whose num_buffers (1 without MRG_RXBUF) covers the following elements, and
 *    whose offload flags the driver accepted;
 *  - no frame comes back that was not sent;
 *  - ASan/UBSan and the guard pages around the guest catch any access outside it.
 *
 * @verify{VB-REQ-NET-010} @verify{VB-REQ-NET-011} @verify{VB-REQ-NET-020}
 * @verify{VB-REQ-NET-021} @verify{VB-REQ-NET-023}
 */
#include <stdalign.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "vbt-fuzz.h"
#include "vbt-split.h"
#include "virtio-backend/devices/net.h"

#define QNUM		32u
#define BUF_AREA	16384u
#define GUEST_SIZE	(256u * 1024u)
#define MAX_RX		16u

static int t_notify(void *t, uint16_t q)
{
	(void)t;
	(void)q;
	return 0;
}

static int t_config_changed(void *t)
{
	(void)t;
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const struct vb_transport_ops tops = { .version = VB_TRANSPORT_OPS_V1,
		.notify = t_notify, .config_changed = t_config_changed };
	struct vbt_fuzz_in in = { data, size };
	alignas(8) static uint8_t dev_storage[VB_DEV_STORAGE_MAX(3)];
	static struct vbt_guest g;
	struct vbt_split rx, tx;
	struct vb_net_config cfg = { .version = VB_NET_CONFIG_V1, .mac = { 0x52, 0, 0, 0, 0, 1 },
				     .num_queue_pairs = 1, .queue_num_max = QNUM };
	struct vb_net_loop *loop = NULL;
	struct vb_net *net = NULL;
	struct vb_dev *dev;
	struct vb_net_stats st;
	uint64_t feat, drop = 0, rx_gpa[MAX_RX];
	uint32_t rx_len;
	uint8_t flags, n_rx, n_tx, status = VB_VIRTIO_S_ACKNOWLEDGE | VB_VIRTIO_S_DRIVER;
	unsigned int added = 0, chains = 0, back = 0;
	bool mrg;

	flags = vbt_fuzz_u8(&in);
	n_rx = (uint8_t)(vbt_fuzz_u8(&in) % (MAX_RX + 1u));
	rx_len = 1u + vbt_fuzz_u16(&in) % 4096u;
	n_tx = (uint8_t)(vbt_fuzz_u8(&in) % 17u);
	(void)vbt_fuzz_u8(&in);
	if (flags & 0x01)
		drop |= VB_BIT(VB_VIRTIO_NET_F_CSUM);
	if (flags & 0x02)
		drop |= VB_BIT(VB_VIRTIO_NET_F_HOST_TSO4);
	if (flags & 0x04)
		drop |= VB_BIT(VB_VIRTIO_NET_F_HOST_TSO6);
	if (flags & 0x08)
		drop |= VB_BIT(VB_VIRTIO_NET_F_HOST_ECN) | VB_BIT(VB_VIRTIO_NET_F_HOST_UFO);
	if (flags & 0x10)
		drop |= VB_BIT(VB_VIRTIO_NET_F_MRG_RXBUF);
	if (flags & 0x20)
		drop |= VB_BIT(VB_VIRTIO_NET_F_GUEST_CSUM);
	if (flags & 0x40)
		drop |= VB_BIT(VB_VIRTIO_NET_F_GUEST_TSO4) | VB_BIT(VB_VIRTIO_NET_F_GUEST_TSO6);

	if (vbt_guest_init(&g, 0x100000u, GUEST_SIZE, (flags & 0x80) ? 4096u : 0) < 0)
		return 0;
	if (vb_net_loop_create(VB_NET_LOOP_LOOPBACK, &loop) < 0 ||
	    vb_net_create(&cfg, &vb_net_loop_ops, loop, &net) < 0)
		goto out;
	vb_net_loop_attach(loop, net);
	VBT_FUZZ_CHECK(vb_dev_init(dev_storage, sizeof(dev_storage), vb_net_device_ops(net), net,
				   &tops, NULL, &g.mem, &dev) == 0, "dev init");
	g.next = BUF_AREA;
	vbt_split_init(&rx, &g, QNUM);
	vbt_split_init(&tx, &g, QNUM);
	vb_dev_set_status(dev, VB_VIRTIO_S_ACKNOWLEDGE);
	vb_dev_set_status(dev, status);
	feat = vb_dev_get_features(dev) & ~drop & ~VB_BIT(VB_VIRTIO_F_RING_PACKED);
	mrg = feat & VB_BIT(VB_VIRTIO_NET_F_MRG_RXBUF);
	vb_dev_set_driver_features(dev, feat);
	status |= VB_VIRTIO_S_FEATURES_OK;
	vb_dev_set_status(dev, status);
	{
		struct vb_queue_config q0 = { .num = QNUM, .desc = rx.desc_gpa,
					      .driver = rx.avail_gpa, .device = rx.used_gpa };
		struct vb_queue_config q1 = { .num = QNUM, .desc = tx.desc_gpa,
					      .driver = tx.avail_gpa, .device = tx.used_gpa };

		vb_dev_queue_set_config(dev, 0, &q0);
		vb_dev_queue_set_config(dev, 1, &q1);
		vb_dev_queue_enable(dev, 0, true);
		vb_dev_queue_enable(dev, 1, true);
	}
	VBT_FUZZ_CHECK(vb_dev_set_status(dev, status | VB_VIRTIO_S_DRIVER_OK) == 0, "driver ok");

	for (unsigned int i = 0; i < n_rx; i++) {
		struct vbt_buf b;

		rx_gpa[i] = vbt_guest_alloc(&g, rx_len, 8);
		b = (struct vbt_buf){ rx_gpa[i], rx_len, true };
		vbt_split_add(&rx, &b, 1, false);
	}
	for (unsigned int c = 0; c < n_tx; c++) {
		struct vbt_buf b[4];
		unsigned int n = 1u + vbt_fuzz_u8(&in) % 4u;

		for (unsigned int i = 0; i < n; i++) {
			uint16_t off = (uint16_t)(vbt_fuzz_u16(&in) % BUF_AREA);
			uint16_t x = vbt_fuzz_u16(&in);
			uint32_t len = x & 0x1fffu;

			if (len > BUF_AREA - off)
				len = BUF_AREA - off;
			b[i] = (struct vbt_buf){ g.gpa + off, len, (x & 0x8000u) != 0 };
		}
		if (added + n > QNUM)
			break;
		vbt_split_add(&tx, b, n, false);
		added += n;
		chains++;
	}
	/* The guest image last: headers and frames as the input says. */
	memcpy(g.base, in.p, in.left < BUF_AREA ? in.left : BUF_AREA);
	vb_dev_kick(dev, 1);

	{
		uint32_t id, len;

		while (vbt_split_get_used(&tx, &id, &len) == 1) {
			VBT_FUZZ_CHECK(len == 0, "transmit chain returned with %u bytes", len);
			back++;
		}
	}
	if (vb_vq_is_ready(vb_dev_queue(dev, 1)))
		VBT_FUZZ_CHECK(back == chains, "chains back %u of %u", back, chains);
	VBT_FUZZ_CHECK(back <= chains, "chains back %u of %u", back, chains);
	vb_net_get_stats(net, &st);
	/* A queue that broke mid-batch keeps the chains popped before the violation. */
	VBT_FUZZ_CHECK(st.tx_frames + st.tx_errors == back ||
		       (!vb_vq_is_ready(vb_dev_queue(dev, 1)) && st.tx_frames + st.tx_errors >= back),
		       "frames %llu + errors %llu != %u",
		       (unsigned long long)st.tx_frames, (unsigned long long)st.tx_errors, back);
	VBT_FUZZ_CHECK(st.rx_frames <= st.tx_frames, "more frames received than sent");

	/* Receive side: walk frames. Buffers are used in order (one element per chain). */
	{
		uint32_t id, len;
		unsigned int frames = 0;

		while (vbt_split_get_used(&rx, &id, &len) == 1) {
			struct vb_virtio_net_hdr h;
			uint16_t nb;

			VBT_FUZZ_CHECK(id < QNUM, "rx id %u", id);
			if (len == 0)
				continue;	/* an unusable chain given back: cannot happen here */
			VBT_FUZZ_CHECK(len >= sizeof(h) && len <= rx_len, "rx len %u", len);
			memcpy(&h, vbt_guest_ptr(&g, rx_gpa[id]), sizeof(h));
			nb = vb_le16_to_cpu(h.num_buffers);
			VBT_FUZZ_CHECK(nb >= 1 && (mrg || nb == 1), "num_buffers %u", nb);
			if ((h.flags & VB_VIRTIO_NET_HDR_F_NEEDS_CSUM))
				VBT_FUZZ_CHECK(feat & VB_BIT(VB_VIRTIO_NET_F_GUEST_CSUM),
					       "NEEDS_CSUM without GUEST_CSUM");
			if ((h.gso_type & 0x7fu) == VB_VIRTIO_NET_HDR_GSO_TCPV4)
				VBT_FUZZ_CHECK(feat & VB_BIT(VB_VIRTIO_NET_F_GUEST_TSO4),
					       "TSO4 without GUEST_TSO4");
			for (unsigned int k = 1; k < nb; k++) {
				VBT_FUZZ_CHECK(vbt_split_get_used(&rx, &id, &len) == 1,
					       "frame lacks buffer %u of %u", k, nb);
				VBT_FUZZ_CHECK(len >= 1 && len <= rx_len, "rx len %u", len);
			}
			frames++;
		}
		VBT_FUZZ_CHECK(frames == st.rx_frames, "frames %u != %llu", frames,
			       (unsigned long long)st.rx_frames);
	}
	vb_dev_reset(dev);
out:
	vb_net_destroy(net);
	vb_net_loop_destroy(loop);
	vbt_guest_fini(&g);
	return 0;
}
