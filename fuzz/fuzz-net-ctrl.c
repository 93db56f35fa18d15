/* SPDX-License-Identifier: MIT */
/*
 * Fuzz target: the virtio-net control queue parser (src/devices/net/net.c: receive mode,
 * MAC table and address, VLAN filter, announce, multiqueue, guest offloads) over fuzzed
 * command chains in fuzzed guest memory, then the receive filter those commands set up on
 * fuzzed frames.
 *
 * Input format (integers little-endian; a short input reads as zeros):
 *   0  u8   flags    bit 0 two queue pairs (MQ); bit 1 the driver refuses CTRL_RX_EXTRA;
 *                    bit 2 refuses CTRL_VLAN; bit 3 guest cut into 4 KiB regions
 *   1  u8   n_cmd    x % 17 command chains (while they fit the 32-entry ring)
 *   then n_cmd chains: u8 n (1 + n % 4 buffers), then n buffers: u16 off (guest offset mod
 *   the command area), u16 x (length x & 0x1fff clipped to the area; bit 15 writable)
 *   then 4 frames for the filter: u16 off (mod the area), u16 len (mod 128)
 *   the rest: the guest image copied to guest offset 0.
 *
 * Invariants (an abort is a finding):
 *  - every command chain comes back once (unless the core broke the queue) with 0 bytes
 *    written (no writable byte) or 1 (the ack);
 *  - the ack counters add up to the chains answered;
 *  - the active queue pairs stay within 1..max_virtqueue_pairs;
 *  - a filtered frame never reaches a receive buffer;
 *  - ASan/UBSan and the guard pages catch any access outside the guest.
 *
 * @verify{VB-REQ-NET-040} @verify{VB-REQ-NET-050} @verify{VB-REQ-NET-051}
 * @verify{VB-REQ-NET-052}
 */
#include <errno.h>
#include <stdalign.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "vbt-fuzz.h"
#include "vbt-split.h"
#include "virtio-backend/devices/net.h"

#define QNUM		32u
#define AREA		8192u
#define GUEST_SIZE	(128u * 1024u)
#define MAXQ		5u

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
	alignas(8) static uint8_t dev_storage[VB_DEV_STORAGE_MAX(MAXQ)];
	static struct vbt_guest g;
	static struct vbt_split r[MAXQ];
	struct vb_net_config cfg = { .version = VB_NET_CONFIG_V1, .mac = { 0x52, 0, 0, 0, 0, 1 },
				     .num_queue_pairs = 1, .queue_num_max = QNUM };
	struct vb_net *net = NULL;
	struct vb_dev *dev;
	struct vb_net_stats st;
	uint64_t feat, drop = 0;
	uint8_t flags, n_cmd, status = VB_VIRTIO_S_ACKNOWLEDGE | VB_VIRTIO_S_DRIVER;
	uint16_t nq, cq, foff[4], flen[4];
	unsigned int added = 0, chains = 0, back = 0;

	flags = vbt_fuzz_u8(&in);
	n_cmd = (uint8_t)(vbt_fuzz_u8(&in) % 17u);
	if (flags & 0x01)
		cfg.num_queue_pairs = 2;
	if (flags & 0x02)
		drop |= VB_BIT(VB_VIRTIO_NET_F_CTRL_RX_EXTRA);
	if (flags & 0x04)
		drop |= VB_BIT(VB_VIRTIO_NET_F_CTRL_VLAN);
	if (vbt_guest_init(&g, 0x100000u, GUEST_SIZE, (flags & 0x08) ? 4096u : 0) < 0)
		return 0;
	if (vb_net_create(&cfg, &vb_net_loop_ops, NULL, &net) < 0)
		goto out;
	nq = vb_net_device_ops(net)->num_queues;
	cq = (uint16_t)(nq - 1u);
	VBT_FUZZ_CHECK(vb_dev_init(dev_storage, sizeof(dev_storage), vb_net_device_ops(net), net,
				   &tops, NULL, &g.mem, &dev) == 0, "dev init");
	g.next = AREA;
	vb_dev_set_status(dev, VB_VIRTIO_S_ACKNOWLEDGE);
	vb_dev_set_status(dev, status);
	feat = vb_dev_get_features(dev) & ~drop & ~VB_BIT(VB_VIRTIO_F_RING_PACKED);
	vb_dev_set_driver_features(dev, feat);
	status |= VB_VIRTIO_S_FEATURES_OK;
	vb_dev_set_status(dev, status);
	for (uint16_t q = 0; q < nq; q++) {
		struct vb_queue_config qc = { .num = QNUM };

		vbt_split_init(&r[q], &g, QNUM);
		qc.desc = r[q].desc_gpa;
		qc.driver = r[q].avail_gpa;
		qc.device = r[q].used_gpa;
		vb_dev_queue_set_config(dev, q, &qc);
		vb_dev_queue_enable(dev, q, true);
	}
	VBT_FUZZ_CHECK(vb_dev_set_status(dev, status | VB_VIRTIO_S_DRIVER_OK) == 0, "driver ok");

	for (unsigned int c = 0; c < n_cmd; c++) {
		struct vbt_buf b[4];
		unsigned int n = 1u + vbt_fuzz_u8(&in) % 4u;

		for (unsigned int i = 0; i < n; i++) {
			uint16_t off = (uint16_t)(vbt_fuzz_u16(&in) % AREA);
			uint16_t x = vbt_fuzz_u16(&in);
			uint32_t len = x & 0x1fffu;

			if (len > AREA - off)
				len = AREA - off;
			b[i] = (struct vbt_buf){ g.gpa + off, len, (x & 0x8000u) != 0 };
		}
		if (added + n > QNUM)
			break;
		vbt_split_add(&r[cq], b, n, false);
		added += n;
		chains++;
	}
	for (unsigned int i = 0; i < 4; i++) {
		foff[i] = (uint16_t)(vbt_fuzz_u16(&in) % (AREA - 128u));
		flen[i] = (uint16_t)(vbt_fuzz_u16(&in) % 128u);
	}
	memcpy(g.base, in.p, in.left < AREA ? in.left : AREA);
	vb_dev_kick(dev, cq);
	{
		uint32_t id, len;

		while (vbt_split_get_used(&r[cq], &id, &len) == 1) {
			VBT_FUZZ_CHECK(len <= 1, "control chain returned with %u bytes", len);
			back++;
		}
	}
	VBT_FUZZ_CHECK(back <= chains, "chains back %u of %u", back, chains);
	if (vb_vq_is_ready(vb_dev_queue(dev, cq)))
		VBT_FUZZ_CHECK(back == chains, "chains back %u of %u", back, chains);
	vb_net_get_stats(net, &st);
	VBT_FUZZ_CHECK(st.ctrl_ok + st.ctrl_err == back, "acks %llu + %llu != %u",
		       (unsigned long long)st.ctrl_ok, (unsigned long long)st.ctrl_err, back);
	VBT_FUZZ_CHECK(vb_net_active_pairs(net) >= 1 &&
		       vb_net_active_pairs(net) <= cfg.num_queue_pairs, "active pairs %u",
		       vb_net_active_pairs(net));

	/* The filter on fuzzed frames: a refused frame uses no buffer. */
	for (unsigned int i = 0; i < 4; i++) {
		uint64_t gpa = vbt_guest_alloc(&g, 256, 8);
		struct vbt_buf b = { gpa, 256, true };
		struct vb_iov iov = { g.base + foff[i], flen[i] };
		uint32_t id, len;
		int ret;

		vbt_split_add(&r[0], &b, 1, false);
		ret = vb_net_rx_copy(net, 0, &iov, 1);
		vb_net_notify(net);
		if (ret == 0) {
			VBT_FUZZ_CHECK(vbt_split_get_used(&r[0], &id, &len) == 1, "frame not used");
			VBT_FUZZ_CHECK(len == flen[i], "used %u for a %u-byte frame", len, flen[i]);
		} else {
			VBT_FUZZ_CHECK(ret == -EPERM || ret == -EBADMSG || ret == -EAGAIN ||
				       ret == -ENOBUFS, "rx_copy %d", ret);
			VBT_FUZZ_CHECK(vbt_split_get_used(&r[0], &id, &len) == 0,
				       "refused frame used a buffer");
		}
	}
	vb_dev_reset(dev);
out:
	vb_net_destroy(net);
	vbt_guest_fini(&g);
	return 0;
}
