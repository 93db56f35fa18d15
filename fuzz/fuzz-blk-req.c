/* SPDX-License-Identifier: MIT */
/*
 * Fuzz target: the virtio-blk request parser (src/devices/blk/blk.c) over fuzzed chains in
 * fuzzed guest memory, with an in-memory fake backend that completes at once or later in a
 * fuzzed order.
 *
 * Input format (all integers little-endian; a short input reads as zeros):
 *
 *   header, 16 bytes:
 *     0  u8   flags     bit 0 read-only disk; bit 1 asynchronous backend; bit 2 chains as
 *                       indirect tables; bit 3 EVENT_IDX; bit 4 DISCARD and WRITE_ZEROES
 *                       offered; bit 5 the driver sets writeback to 0; bit 6 device reset
 *                       while requests are in flight; bit 7 the backend fails every other
 *                       operation (-EIO, or -ENOTSUP every third)
 *     1  u8   layout    guest layout as in fuzz-vq-split.c (region size, guest address)
 *     2  u8   seg_max   1 + x % 16
 *     3  u8   n_chains  x % 17 chains the driver adds before the kick (while they fit
 *                       in the 32 descriptors of the ring)
 *     4  u32  ro_mask   region i device-read-only / device-write-only as in fuzz-vq-split.c
 *     8  u32  wo_mask   (regions holding the ring are always read-write)
 *    12  u8   order     seed of the order in which an asynchronous backend completes
 *    13  u8   dseg      max_discard_seg = max_write_zeroes_seg = 1 + x % 8
 *    14  u16  reserved
 *   n_chains chains: u8 n (1 + n % 8 buffers), then n buffers of 4 bytes:
 *     u16 off (guest offset, mod the buffer area), u16 x (length x & 0x1fff, clipped to the
 *     buffer area; bit 15 device-writable)
 *   the rest: the guest memory image (request headers, segments, data), copied to guest
 *   offset 0; the ring and indirect tables live after the buffer area.
 *
 * Invariants (an abort is a finding):
 *  - every chain the driver added comes back exactly once (unless the core broke the queue
 *    for a protocol violation, or the device was reset with requests in flight), with a used
 *    length of 0 (no writable byte) or the chain's whole writable length;
 *  - a chain whose last writable byte no other buffer covers has 0, 1 or 2 there, or is
 *    returned with length 0; that byte is poisoned (0xff) when the chain is added, so a
 *    status never written is caught;
 *  - nothing in the buffer area changes but the device-writable buffers of added chains;
 *  - every operation reaching the backend is one the model validated: known op, data length
 *    a multiple of 512 equal to the sum of at most seg_max + VB_BLK_IOV_SLACK iovecs, each
 *    inside the guest, and the byte range inside the capacity; discard/write zeroes within
 *    their limits; nothing reaches the backend on a read-only disk but reads and flushes;
 *  - nothing is in flight once the backend has completed everything (or after a reset);
 *  - ASan/UBSan and the guard pages around the guest catch any access outside it.
 *
 * @verify{VB-REQ-BLK-010} @verify{VB-REQ-BLK-011} @verify{VB-REQ-BLK-012}
 * @verify{VB-REQ-BLK-013} @verify{VB-REQ-BLK-014} @verify{VB-REQ-BLK-017}
 * @verify{VB-REQ-BLK-019} @verify{VB-REQ-BLK-020} @verify{VB-REQ-BLK-021}
 * @verify{VB-REQ-BLK-022} @verify{VB-REQ-BLK-025} @verify{VB-REQ-BLK-040}
 */
#include <stdalign.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "vbt-fuzz.h"
#include "vbt-split.h"
#include "virtio-backend/devices/blk.h"

#define QNUM		32u
#define BUF_AREA	12288u		/* guest bytes buffers may use; ring and tables after */
#define DISK_SECTORS	64u
#define MAX_BUFS	8u
#define MAX_CHAINS	16u

struct chain_desc {
	uint16_t	head;
	unsigned int	n;
	struct vbt_buf	b[MAX_BUFS];
	uint32_t	write_len;
	bool		returned;
};

struct fz {
	struct vbt_guest	g;
	struct vbt_split	r;
	struct vb_blk_backend_ops ops;
	struct vb_blk_config	cfg;
	struct vb_blk		*blk;
	struct vb_dev		*dev;
	alignas(8) uint8_t	dev_storage[VB_DEV_STORAGE_MAX(1)];
	uint8_t			disk[DISK_SECTORS * 512u];
	uint8_t			flags;
	bool			async;
	unsigned int		ops_seen;
	struct vb_blk_io	*pending[4 * QNUM];
	unsigned int		n_pending;
	struct chain_desc	ch[MAX_CHAINS];
	unsigned int		n_ch;
	uint8_t			shadow[BUF_AREA];	/* the buffer area as the driver left it */
	uint8_t			may_write[BUF_AREA];	/* in a device-writable buffer */
};

/* What the model promises about every operation it hands over. */
static void check_io(struct fz *f, const struct vb_blk_io *io)
{
	uint64_t cap = (uint64_t)DISK_SECTORS * 512u, sum = 0;

	VBT_FUZZ_CHECK(io->op <= VB_BLK_OP_WRITE_ZEROES, "unknown op %u", io->op);
	VBT_FUZZ_CHECK(io->blk == f->blk && io->qidx == 0, "io not from this model");
	if (f->cfg.flags & VB_BLK_CFG_READ_ONLY)
		VBT_FUZZ_CHECK(io->op == VB_BLK_OP_READ || io->op == VB_BLK_OP_FLUSH,
			       "op %u on a read-only disk", io->op);
	VBT_FUZZ_CHECK(io->offset <= cap && io->len <= cap - io->offset,
		       "range %llu+%llu beyond the disk", (unsigned long long)io->offset,
		       (unsigned long long)io->len);
	VBT_FUZZ_CHECK(io->offset % 512u == 0 && io->len % 512u == 0, "not whole sectors");
	if (io->op == VB_BLK_OP_READ || io->op == VB_BLK_OP_WRITE) {
		VBT_FUZZ_CHECK(io->iov_num >= 1 && io->iov_num <= f->cfg.seg_max + VB_BLK_IOV_SLACK,
			       "iov_num %u", io->iov_num);
		for (unsigned int i = 0; i < io->iov_num; i++) {
			VBT_FUZZ_CHECK(io->iov[i].len > 0, "empty iovec");
			VBT_FUZZ_CHECK(vbt_fuzz_guest_holds(&f->g, io->iov[i].base, io->iov[i].len),
				       "iovec outside the guest");
			sum += io->iov[i].len;
		}
		VBT_FUZZ_CHECK(sum == io->len, "iovecs sum %llu != len %llu",
			       (unsigned long long)sum, (unsigned long long)io->len);
	} else if (io->op == VB_BLK_OP_DISCARD || io->op == VB_BLK_OP_WRITE_ZEROES) {
		VBT_FUZZ_CHECK(io->len > 0, "empty segment submitted");
		if (io->op == VB_BLK_OP_DISCARD)
			VBT_FUZZ_CHECK(!(io->flags & VB_BLK_IO_UNMAP), "unmap on discard");
	}
}

static void fake_do(struct fz *f, const struct vb_blk_io *io)
{
	uint64_t off = io->offset;

	switch (io->op) {
	case VB_BLK_OP_READ:
	case VB_BLK_OP_WRITE:
		for (unsigned int i = 0; i < io->iov_num; i++) {
			if (io->op == VB_BLK_OP_READ)
				memcpy(io->iov[i].base, f->disk + off, io->iov[i].len);
			else
				memcpy(f->disk + off, io->iov[i].base, io->iov[i].len);
			off += io->iov[i].len;
		}
		break;
	case VB_BLK_OP_DISCARD:
	case VB_BLK_OP_WRITE_ZEROES:
		memset(f->disk + off, 0, io->len);
		break;
	default:
		break;
	}
}

static int fake_result(struct fz *f)
{
	f->ops_seen++;
	if ((f->flags & 0x80) && f->ops_seen % 2 == 0)
		return f->ops_seen % 3 == 0 ? -ENOTSUP : -EIO;
	return 0;
}

static int fake_submit(void *be, struct vb_blk_io *io)
{
	struct fz *f = be;
	int res;

	check_io(f, io);
	if (f->async) {
		VBT_FUZZ_CHECK(f->n_pending < (sizeof(f->pending) / sizeof(f->pending[0])), "too many in flight");
		f->pending[f->n_pending++] = io;
		return VB_BLK_PENDING;
	}
	res = fake_result(f);
	if (res == 0)
		fake_do(f, io);
	return res;
}

static void complete_one(struct fz *f, unsigned int i)
{
	struct vb_blk_io *io = f->pending[i];
	int res = fake_result(f);

	f->pending[i] = f->pending[--f->n_pending];
	if (res == 0)
		fake_do(f, io);
	vb_blk_complete(io, res);
}

static void fake_drain(void *be)
{
	struct fz *f = be;

	while (f->n_pending)
		complete_one(f, 0);
}

/* True if byte gpa of chain c's buffer k is covered by any other buffer. */
static bool covered_elsewhere(const struct fz *f, unsigned int c, unsigned int k, uint64_t gpa)
{
	for (unsigned int i = 0; i < f->n_ch; i++)
		for (unsigned int j = 0; j < f->ch[i].n; j++) {
			const struct vbt_buf *b = &f->ch[i].b[j];

			if ((i == c && j == k) || b->len == 0)
				continue;
			if (gpa >= b->gpa && gpa - b->gpa < b->len)
				return true;
		}
	return false;
}

/* Poison chain ci's status byte if only that buffer covers it (the device never reads a
 * writable buffer): a chain returned with it still 0xff was never answered. */
static void poison_status(struct fz *f, unsigned int ci)
{
	const struct chain_desc *c = &f->ch[ci];

	for (unsigned int k = c->n; k-- > 0;) {
		const struct vbt_buf *b = &c->b[k];
		uint64_t gpa = b->gpa + b->len - 1;

		if (!b->write)
			continue;
		if (!covered_elsewhere(f, ci, k, gpa)) {
			*(uint8_t *)vbt_guest_ptr(&f->g, gpa) = 0xff;
			f->shadow[gpa - f->g.gpa] = 0xff;
		}
		break;
	}
}

/* The device wrote nothing but the device-writable buffers it was given. */
static void check_untouched(const struct fz *f)
{
	for (size_t i = 0; i < BUF_AREA; i++)
		VBT_FUZZ_CHECK(f->may_write[i] || f->g.base[i] == f->shadow[i],
			       "guest byte 0x%zx written outside the writable buffers", i);
}

static void collect(struct fz *f, bool strict)
{
	uint32_t id, len;

	while (vbt_split_get_used(&f->r, &id, &len) == 1) {
		struct chain_desc *c = NULL;
		unsigned int ci = 0;

		for (unsigned int i = 0; i < f->n_ch; i++)
			if (f->ch[i].head == id && !f->ch[i].returned) {
				c = &f->ch[i];
				ci = i;
				break;
			}
		VBT_FUZZ_CHECK(c != NULL, "used id %u was not outstanding", id);
		c->returned = true;
		if (!strict)
			continue;
		VBT_FUZZ_CHECK(len == 0 || len == c->write_len, "used len %u, writable %u", len,
			       c->write_len);
		VBT_FUZZ_CHECK((len == 0) == (c->write_len == 0), "used len %u, writable %u", len,
			       c->write_len);
		if (len) {
			/* The status byte: the last byte of the last non-empty writable buffer. */
			for (unsigned int k = c->n; k-- > 0;) {
				const struct vbt_buf *b = &c->b[k];
				uint64_t gpa;

				if (!b->write || b->len == 0)
					continue;
				gpa = b->gpa + b->len - 1;
				if (!covered_elsewhere(f, ci, k, gpa)) {
					uint8_t s = *(uint8_t *)vbt_guest_ptr(&f->g, gpa);

					VBT_FUZZ_CHECK(s <= VB_VIRTIO_BLK_S_UNSUPP, "status %u", s);
					if (vbt_fuzz_trace_on())
						vbt_fuzz_trace("chain %u: len %u status %u", ci, len, s);
				}
				break;
			}
		}
	}
}

static int bring_up(struct fz *f, uint8_t flags)
{
	uint64_t feat = vb_dev_get_features(f->dev) & ~VB_BIT(VB_VIRTIO_F_RING_PACKED);

	if (!(flags & 0x08))
		feat &= ~VB_BIT(VB_VIRTIO_F_EVENT_IDX);
	if (vbt_fuzz_dev_features(f->dev, feat) < 0)
		return -1;
	if (flags & 0x20) {
		uint8_t v = 0;

		VBT_FUZZ_CHECK(vb_dev_config_write(f->dev, VB_VIRTIO_BLK_CONFIG_WRITEBACK, &v, 1)
			       == 0, "writeback refused");
	}
	return vbt_fuzz_dev_ready(f->dev, &f->r, 1);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct vbt_fuzz_in in = { data, size };
	struct fz *f = calloc(1, sizeof(*f));
	uint32_t ro_mask, wo_mask;
	uint8_t layout, seg_max, n_chains, order, dseg;
	bool broken;

	if (!f)
		return 0;
	f->flags = vbt_fuzz_u8(&in);
	layout = vbt_fuzz_u8(&in);
	seg_max = (uint8_t)(1u + vbt_fuzz_u8(&in) % 16u);
	n_chains = (uint8_t)(vbt_fuzz_u8(&in) % (MAX_CHAINS + 1u));
	ro_mask = vbt_fuzz_u32(&in);
	wo_mask = vbt_fuzz_u32(&in);
	order = vbt_fuzz_u8(&in);
	dseg = (uint8_t)(1u + vbt_fuzz_u8(&in) % 8u);
	(void)vbt_fuzz_u16(&in);
	f->async = f->flags & 0x02;

	f->n_ch = n_chains;
	for (unsigned int i = 0; i < n_chains; i++)
		f->ch[i].n = vbt_fuzz_chain_get(&in, f->ch[i].b, MAX_BUFS, BUF_AREA, 0x1fffu);
	/* Rings and indirect tables after the buffer area, in one read-write region. */
	if (vbt_fuzz_guest_init_rings(&f->g, layout, ro_mask, wo_mask, in.p, in.left,
				      BUF_AREA) < 0)
		goto out_free;
	vbt_split_init(&f->r, &f->g, QNUM);
	memcpy(f->shadow, f->g.base, BUF_AREA);

	f->cfg = (struct vb_blk_config){ .version = VB_BLK_CONFIG_V1, .capacity = DISK_SECTORS,
		.num_queues = 1, .queue_num_max = QNUM, .seg_max = seg_max,
		.max_discard_seg = dseg, .max_write_zeroes_seg = dseg,
		.max_discard_sectors = 16, .max_write_zeroes_sectors = 32,
		.serial = "fuzz" };
	if (f->flags & 0x01)
		f->cfg.flags |= VB_BLK_CFG_READ_ONLY;
	if (f->flags & 0x10)
		f->cfg.flags |= VB_BLK_CFG_DISCARD | VB_BLK_CFG_WRITE_ZEROES |
				VB_BLK_CFG_WZ_MAY_UNMAP;
	f->ops = (struct vb_blk_backend_ops){ .version = VB_BLK_BACKEND_OPS_V1,
		.submit = fake_submit, .drain = fake_drain };
	VBT_FUZZ_CHECK(vb_blk_create(&f->cfg, &f->ops, f, &f->blk) == 0, "vb_blk_create");
	VBT_FUZZ_CHECK(vb_dev_init(f->dev_storage, sizeof(f->dev_storage),
				   vb_blk_device_ops(f->blk), f->blk, &vbt_fuzz_quiet_tops, f,
				   &f->g.mem, &f->dev) == 0, "vb_dev_init");
	if (bring_up(f, f->flags) < 0)
		goto out;

	for (unsigned int i = 0, descs = 0; i < n_chains; i++) {
		struct chain_desc *c = &f->ch[i];

		/* The simulator hands out descriptors round-robin: a chain that would reuse
		 * those of an outstanding one is not added (a driver never does that). */
		descs += (f->flags & 0x04) ? 1u : c->n;
		if (descs > QNUM) {
			f->n_ch = i;
			break;
		}
		for (unsigned int k = 0; k < c->n; k++) {
			c->b[k].gpa += f->g.gpa;
			if (c->b[k].write) {
				c->write_len += c->b[k].len;
				memset(f->may_write + (c->b[k].gpa - f->g.gpa), 1, c->b[k].len);
			}
		}
		poison_status(f, i);
		c->head = vbt_split_add(&f->r, c->b, c->n, (f->flags & 0x04) != 0);
	}
	vb_dev_kick(f->dev, 0);
	broken = vb_vq_error(vb_dev_queue(f->dev, 0)) != 0;

	if (f->flags & 0x40) {
		/* Reset with requests in flight: the backend drains, nothing more comes back. */
		vb_dev_reset(f->dev);
		VBT_FUZZ_CHECK(vb_blk_inflight(f->blk) == 0, "in flight after reset");
		VBT_FUZZ_CHECK(f->n_pending == 0, "backend not drained");
		collect(f, false);
		check_untouched(f);
		goto out;
	}
	/* Complete in a fuzzed order. */
	while (f->n_pending) {
		complete_one(f, (unsigned int)(order % f->n_pending));
		order = (uint8_t)(order * 37u + 11u);
		if (order & 1u)
			vb_blk_notify(f->blk);
	}
	vb_blk_notify(f->blk);
	VBT_FUZZ_CHECK(vb_blk_inflight(f->blk) == 0, "%u in flight after completing all",
		       vb_blk_inflight(f->blk));
	broken = broken || vb_vq_error(vb_dev_queue(f->dev, 0)) != 0;
	collect(f, true);
	check_untouched(f);
	if (!broken)
		for (unsigned int i = 0; i < f->n_ch; i++)
			VBT_FUZZ_CHECK(f->ch[i].returned, "chain %u (head %u) never returned", i,
				       f->ch[i].head);
out:
	vb_blk_destroy(f->blk);
	vbt_guest_fini(&f->g);
out_free:
	free(f);
	return 0;
}
