/* SPDX-License-Identifier: MIT */
/*
 * Fuzz target: the virtio-vsock model (src/devices/vsock/vsock.c) fed fuzzed packets on its
 * tx queue, fuzzed rx buffers, and host-side events on real unix sockets (a listener on
 * <uds>_1, host clients on <uds> with fuzzed "CONNECT" lines, host writes, closes), in a
 * fresh model and guest for every input.
 *
 * Input format (integers little-endian; a short input reads as zeros):
 *
 *   header, 4 bytes:
 *     0  u8  flags   bit 0 EVENT_IDX; bit 1 the event queue is set up
 *     1  u8  nrx     rx buffers posted at start: x % 33
 *     2  u16 rxlen   their length: x % 8192 (some shorter than the 44-byte header)
 *   then steps until the input ends, each a code byte (x % 10) and its arguments:
 *     0 PKT       u8 op, u8 ctl, u8 sport, u8 dport, u16 len, u8 flags, u32 buf_alloc,
 *                 u32 fwd_cnt: a tx packet. op: the header's op as is. ctl bit 0 spoofed
 *                 src_cid, bit 1 dst_cid not the host, bit 2 type SEQPACKET, bit 3 type
 *                 random (op's value), bits 4-5 descriptors - 1, bit 6 header cut to
 *                 (len % 44) bytes, bit 7 header len field = len + 1 (a lie). sport: guest
 *                 port 1000 + x % 4; dport: host port x % 4 (1 has a host listener);
 *                 len % 8192 payload bytes of a pattern.
 *     1 RX_POST   u8 n, u16 len: n % 8 rx buffers of len % 8192 bytes
 *     2 RX_KICK   kick the rx queue
 *     3 ACCEPT    u8 n: accept on the host listener, write n * 37 bytes to the newest
 *     4 CLOSE     u8 i: close (bit 7: shutdown write side of) host socket i % 8
 *     5 CONNECT   u8 sel: a host client on <uds> writing line sel % 6 (valid ports, garbage,
 *                 no newline, an overlong number, "CONNECT 1" then data)
 *     6 PROCESS   vb_vsock_process()
 *     7 RESET     u8 x: bit 0 transport reset, else nothing
 *     8 READ      drain every host socket
 *     9 EVENT     post one 4-byte event buffer and kick the event queue
 *
 * Invariants (an abort is a finding):
 *  - every tx chain comes back with used length 0 (unless the queue broke);
 *  - every rx element is a well-formed packet from CID 2 to the guest's CID: used length =
 *    44 + len, len <= the buffer's payload room and <= 64 KiB, a known op, type STREAM,
 *    payload only on RW, SHUTDOWN flags within RCV|SEND; a buffer shorter than the header
 *    comes back with length 0, and so may one with room for the header only;
 *  - every step returns (a driver posting header-only buffers must not stall the device);
 *  - connections in use never exceed max_conns;
 *  - ASan/UBSan and the guard pages around the guest catch any access outside it.
 *
 * @verify{VB-REQ-VSOCK-050} @verify{VB-REQ-VSOCK-020} @verify{VB-REQ-VSOCK-051}
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdalign.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "vbt-fuzz.h"
#include "vbt-split.h"
#include "virtio-backend/devices/vsock.h"

#define QNUM		32u
#define GUEST_BYTES	(512u * 1024u)
#define CID		3u
#define MAX_CONNS	4u
#define HOST_FDS	8u
#define MAX_STEPS	64u

struct fz {
	struct vbt_guest	g;
	struct vbt_split	r[3];
	struct vb_transport_ops	tops;
	alignas(8) uint8_t	dev_storage[VB_DEV_STORAGE_MAX(3)];
	struct vb_dev		*dev;
	struct vb_vsock		*vs;
	uint64_t		rxgpa[QNUM];
	uint32_t		rxlen[QNUM];
	unsigned int		tx_out, rx_out;	/* chains the device holds */
	uint64_t		area;		/* next free guest byte for buffers */
	int			lfd;
	int			hfd[HOST_FDS];
	bool			rx_busy[QNUM];	/* rx descriptor held by the device */
};

static char dir[64], uds[128], lpath[160];

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

static uint64_t galloc(struct fz *f, uint32_t len)
{
	uint64_t gpa = f->area;

	if (f->area + len + 8u > f->g.gpa + GUEST_BYTES)
		return 0;
	f->area = (f->area + len + 7u) & ~(uint64_t)7u;
	return gpa;
}

static void rx_post(struct fz *f, uint32_t len)
{
	struct vbt_buf b;
	uint16_t head;

	unsigned int d;

	if (f->rx_out >= QNUM)
		return;
	/* rx chains come back out of order: give the next one a free descriptor. */
	for (d = 0; d < QNUM && f->rx_busy[d]; d++)
		;
	f->r[VB_VSOCK_QUEUE_RX].next_desc = (uint16_t)d;
	b.gpa = galloc(f, len ? len : 1u);
	if (!b.gpa)
		return;
	b.len = len ? len : 1u;
	b.write = true;
	head = vbt_split_add(&f->r[VB_VSOCK_QUEUE_RX], &b, 1, false);
	f->rxgpa[head] = b.gpa;
	f->rxlen[head] = b.len;
	f->rx_busy[head] = true;
	f->rx_out++;
}

static void collect(struct fz *f)
{
	uint32_t id, len;

	while (vbt_split_get_used(&f->r[VB_VSOCK_QUEUE_TX], &id, &len) == 1) {
		VBT_FUZZ_CHECK(len == 0, "tx used length %u", len);
		VBT_FUZZ_CHECK(f->tx_out > 0, "tx chain returned twice");
		f->tx_out--;
	}
	while (vbt_split_get_used(&f->r[VB_VSOCK_QUEUE_RX], &id, &len) == 1) {
		struct vb_virtio_vsock_hdr h;
		uint32_t plen, op, fl;

		VBT_FUZZ_CHECK(id < QNUM && f->rx_busy[id], "rx id %u", id);
		f->rx_busy[id] = false;
		f->rx_out--;
		if (f->rxlen[id] < VB_VIRTIO_VSOCK_HDR_LEN) {
			VBT_FUZZ_CHECK(len == 0, "short rx buffer used with %u", len);
			continue;
		}
		if (len == 0 && f->rxlen[id] == VB_VIRTIO_VSOCK_HDR_LEN)
			continue;	/* header-only buffer returned while data waited */
		VBT_FUZZ_CHECK(len >= VB_VIRTIO_VSOCK_HDR_LEN && len <= f->rxlen[id],
			       "rx used length %u of %u", len, f->rxlen[id]);
		memcpy(&h, vbt_guest_ptr(&f->g, f->rxgpa[id]), sizeof(h));
		plen = vb_le32_to_cpu(h.len);
		op = vb_le16_to_cpu(h.op);
		fl = vb_le32_to_cpu(h.flags);
		VBT_FUZZ_CHECK(len == VB_VIRTIO_VSOCK_HDR_LEN + plen, "len %u vs used %u", plen, len);
		VBT_FUZZ_CHECK(plen <= VB_VIRTIO_VSOCK_MAX_PKT_LEN, "payload %u", plen);
		VBT_FUZZ_CHECK(vb_le64_to_cpu(h.src_cid) == VB_VSOCK_CID_HOST, "src_cid");
		VBT_FUZZ_CHECK(vb_le64_to_cpu(h.dst_cid) == CID, "dst_cid");
		VBT_FUZZ_CHECK(vb_le16_to_cpu(h.type) == VB_VIRTIO_VSOCK_TYPE_STREAM, "type");
		VBT_FUZZ_CHECK(op >= VB_VIRTIO_VSOCK_OP_REQUEST &&
			       op <= VB_VIRTIO_VSOCK_OP_CREDIT_UPDATE, "op %u", op);
		VBT_FUZZ_CHECK(op == VB_VIRTIO_VSOCK_OP_RW || plen == 0, "payload on op %u", op);
		VBT_FUZZ_CHECK(op != VB_VIRTIO_VSOCK_OP_RW || plen > 0, "empty RW");
		VBT_FUZZ_CHECK(op == VB_VIRTIO_VSOCK_OP_SHUTDOWN ? fl <= 3u : fl == 0u,
			       "flags %x on op %u", fl, op);
	}
	VBT_FUZZ_CHECK(vb_vsock_conns(f->vs) <= MAX_CONNS, "too many connections");
}

static void step_pkt(struct fz *f, struct vbt_fuzz_in *in)
{
	uint8_t op = vbt_fuzz_u8(in), ctl = vbt_fuzz_u8(in), sport = vbt_fuzz_u8(in);
	uint8_t dport = vbt_fuzz_u8(in);
	uint32_t len = vbt_fuzz_u16(in) % 8192u;
	uint8_t flags = vbt_fuzz_u8(in);
	uint32_t buf_alloc = vbt_fuzz_u32(in), fwd_cnt = vbt_fuzz_u32(in);
	unsigned int nd = 1u + ((ctl >> 4) & 3u);
	uint32_t hlen = (ctl & 0x40) ? len % VB_VIRTIO_VSOCK_HDR_LEN : VB_VIRTIO_VSOCK_HDR_LEN;
	uint32_t total = hlen + len, off = 0;
	struct vb_virtio_vsock_hdr h;
	struct vbt_buf b[4];
	uint64_t gpa;
	uint8_t *p;

	if (f->tx_out + 1u > QNUM / 4u)
		return;	/* keep descriptors of chains in flight untouched */
	gpa = galloc(f, total ? total : 1u);
	if (!gpa)
		return;
	memset(&h, 0, sizeof(h));
	h.src_cid = vb_cpu_to_le64((ctl & 1) ? CID + 1u : CID);
	h.dst_cid = vb_cpu_to_le64((ctl & 2) ? 9u : VB_VSOCK_CID_HOST);
	h.src_port = vb_cpu_to_le32(1000u + sport % 4u);
	h.dst_port = vb_cpu_to_le32(dport % 4u);
	h.len = vb_cpu_to_le32((ctl & 0x80) ? len + 1u : len);
	h.type = vb_cpu_to_le16((ctl & 4) ? VB_VIRTIO_VSOCK_TYPE_SEQPACKET :
				(ctl & 8) ? op : VB_VIRTIO_VSOCK_TYPE_STREAM);
	h.op = vb_cpu_to_le16(op % 10u);
	h.flags = vb_cpu_to_le32(flags % 5u == 4u ? flags : flags % 4u);
	h.buf_alloc = vb_cpu_to_le32(buf_alloc);
	h.fwd_cnt = vb_cpu_to_le32(fwd_cnt);
	p = vbt_guest_ptr(&f->g, gpa);
	memcpy(p, &h, hlen);
	for (uint32_t i = 0; i < len; i++)
		p[hlen + i] = (uint8_t)(i * 7u + op);
	/* Split the bytes into nd descriptors (the last takes the rest). */
	if (total == 0)
		nd = 1;
	for (unsigned int i = 0; i < nd; i++) {
		uint32_t piece = i + 1u == nd ? total - off : total / nd;

		b[i].gpa = gpa + off;
		b[i].len = piece ? piece : 1u;
		b[i].write = false;
		off += piece;
	}
	vbt_split_add(&f->r[VB_VSOCK_QUEUE_TX], b, nd, false);
	f->tx_out++;
	(void)vb_dev_kick(f->dev, VB_VSOCK_QUEUE_TX);
}

static void host_add(struct fz *f, int fd)
{
	for (unsigned int i = 0; i < HOST_FDS; i++)
		if (f->hfd[i] < 0) {
			f->hfd[i] = fd;
			return;
		}
	close(fd);
}

static void step_connect(struct fz *f, uint8_t sel)
{
	static const char *const lines[] = {
		"CONNECT 1\n", "CONNECT 2\n", "CONNECT x\n", "CONNECT 1",
		"CONNECT 123456789012345678901234\n", "CONNECT 1\ndata after the line",
	};
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	const char *l = lines[sel % 6u];
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return;
	memcpy(sa.sun_path, uds, strlen(uds) + 1u);
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
	    send(fd, l, strlen(l), MSG_NOSIGNAL) < 0) {
		close(fd);
		return;
	}
	host_add(f, fd);
}

static void step_accept(struct fz *f, uint8_t n)
{
	static uint8_t buf[255u * 37u];
	int fd = accept4(f->lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);

	if (fd < 0)
		return;
	memset(buf, n, sizeof(buf));
	(void)send(fd, buf, (size_t)n * 37u, MSG_NOSIGNAL);
	host_add(f, fd);
}

static void drain(struct fz *f)
{
	static uint8_t buf[65536];

	for (unsigned int i = 0; i < HOST_FDS; i++)
		while (f->hfd[i] >= 0 && recv(f->hfd[i], buf, sizeof(buf), MSG_DONTWAIT) > 0)
			;
}

static int start(struct fz *f, uint8_t flags)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct vb_vsock_config cfg = {
		.version = VB_VSOCK_CONFIG_V1, .guest_cid = CID, .uds_path = uds,
		.max_conns = MAX_CONNS, .buf_alloc = 8192, .queue_num_max = QNUM,
	};
	uint8_t st = VB_VIRTIO_S_ACKNOWLEDGE | VB_VIRTIO_S_DRIVER;
	uint64_t feat;

	if (vb_vsock_create(&cfg, &f->vs) < 0)
		return -1;
	VBT_FUZZ_CHECK(vbt_guest_init(&f->g, 0x100000u, GUEST_BYTES, 0) == 0, "guest");
	for (unsigned int q = 0; q < 3; q++)
		vbt_split_init(&f->r[q], &f->g, QNUM);
	f->area = f->g.gpa + f->g.next;
	f->tops = (struct vb_transport_ops){ .version = VB_TRANSPORT_OPS_V1, .notify = t_notify,
					     .config_changed = t_config_changed };
	VBT_FUZZ_CHECK(vb_dev_init(f->dev_storage, sizeof(f->dev_storage),
				   vb_vsock_device_ops(f->vs), f->vs, &f->tops, f, &f->g.mem,
				   &f->dev) == 0, "vb_dev_init");
	feat = VB_BIT(VB_VIRTIO_F_VERSION_1) | ((flags & 1) ? VB_BIT(VB_VIRTIO_F_EVENT_IDX) : 0);
	if (vb_dev_set_status(f->dev, VB_VIRTIO_S_ACKNOWLEDGE) || vb_dev_set_status(f->dev, st) ||
	    vb_dev_set_driver_features(f->dev, feat) ||
	    vb_dev_set_status(f->dev, st | VB_VIRTIO_S_FEATURES_OK))
		return -1;
	for (unsigned int q = 0; q < ((flags & 2) ? 3u : 2u); q++) {
		struct vb_queue_config qc = { .num = QNUM, .desc = f->r[q].desc_gpa,
					      .driver = f->r[q].avail_gpa,
					      .device = f->r[q].used_gpa };

		if (vb_dev_queue_set_config(f->dev, (uint16_t)q, &qc) ||
		    vb_dev_queue_enable(f->dev, (uint16_t)q, true))
			return -1;
	}
	if (vb_dev_set_status(f->dev, st | VB_VIRTIO_S_FEATURES_OK | VB_VIRTIO_S_DRIVER_OK))
		return -1;
	f->lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	VBT_FUZZ_CHECK(f->lfd >= 0, "socket");
	memcpy(sa.sun_path, lpath, strlen(lpath) + 1u);
	(void)unlink(lpath);
	VBT_FUZZ_CHECK(bind(f->lfd, (struct sockaddr *)&sa, sizeof(sa)) == 0 &&
		       listen(f->lfd, 16) == 0, "listener");
	return 0;
}

/* The model removes <uds> and each input <uds>_1: the directory is empty at exit. */
static void remove_dir(void)
{
	(void)rmdir(dir);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct fz fz;
	struct fz *f = &fz;
	struct vbt_fuzz_in in = { data, size };
	uint8_t flags, nrx;
	uint32_t rxlen;

	if (!dir[0]) {
		signal(SIGPIPE, SIG_IGN);
		snprintf(dir, sizeof(dir), "/tmp/vb-fuzz-vsock-XXXXXX");
		VBT_FUZZ_CHECK(mkdtemp(dir) != NULL, "mkdtemp");
		atexit(remove_dir);
		snprintf(uds, sizeof(uds), "%s/v", dir);
		snprintf(lpath, sizeof(lpath), "%s_1", uds);
	}
	memset(f, 0, sizeof(*f));
	f->lfd = -1;
	for (unsigned int i = 0; i < HOST_FDS; i++)
		f->hfd[i] = -1;
	flags = vbt_fuzz_u8(&in);
	nrx = vbt_fuzz_u8(&in) % 33u;
	rxlen = vbt_fuzz_u16(&in) % 8192u;
	if (start(f, flags) == 0) {
		for (unsigned int i = 0; i < nrx; i++)
			rx_post(f, rxlen);
		(void)vb_dev_kick(f->dev, VB_VSOCK_QUEUE_RX);
		for (unsigned int s = 0; s < MAX_STEPS && in.left > 0; s++) {
			uint8_t code = vbt_fuzz_u8(&in) % 10u, x;
			uint32_t n;

			switch (code) {
			case 0:
				step_pkt(f, &in);
				break;
			case 1:
				x = vbt_fuzz_u8(&in) % 8u;
				n = vbt_fuzz_u16(&in) % 8192u;
				for (unsigned int i = 0; i < x; i++)
					rx_post(f, n);
				break;
			case 2:
				(void)vb_dev_kick(f->dev, VB_VSOCK_QUEUE_RX);
				break;
			case 3:
				step_accept(f, vbt_fuzz_u8(&in));
				break;
			case 4:
				x = vbt_fuzz_u8(&in);
				if (f->hfd[x % HOST_FDS] >= 0) {
					if (x & 0x80) {
						(void)shutdown(f->hfd[x % HOST_FDS], SHUT_WR);
					} else {
						close(f->hfd[x % HOST_FDS]);
						f->hfd[x % HOST_FDS] = -1;
					}
				}
				break;
			case 5:
				step_connect(f, vbt_fuzz_u8(&in));
				break;
			case 6:
				VBT_FUZZ_CHECK(vb_vsock_process(f->vs) == 0, "process");
				break;
			case 7:
				if (vbt_fuzz_u8(&in) & 1)
					vb_vsock_transport_reset(f->vs);
				break;
			case 8:
				drain(f);
				break;
			default: {
				struct vbt_buf b = { .len = 4, .write = true };

				b.gpa = galloc(f, 4);
				if (b.gpa && f->r[2].num) {
					vbt_split_add(&f->r[2], &b, 1, false);
					(void)vb_dev_kick(f->dev, VB_VSOCK_QUEUE_EVENT);
				}
				break;
			}
			}
			collect(f);
		}
		(void)vb_vsock_process(f->vs);
		collect(f);
	}
	vb_vsock_destroy(f->vs);
	for (unsigned int i = 0; i < HOST_FDS; i++)
		if (f->hfd[i] >= 0)
			close(f->hfd[i]);
	if (f->lfd >= 0) {
		close(f->lfd);
		(void)unlink(lpath);
	}
	if (f->dev)
		vbt_guest_fini(&f->g);
	return 0;
}
