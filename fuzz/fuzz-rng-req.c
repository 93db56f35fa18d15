/* SPDX-License-Identifier: MIT */
/*
 * Fuzz target: the virtio-rng model (src/devices/rng/rng.c) over fuzzed chains in fuzzed
 * guest memory, with a fake entropy backend that checks what it is handed and may fail,
 * answer short, or (a buggy backend) claim more than it was asked.
 *
 * Input format (all integers little-endian; a short input reads as zeros):
 *
 *   header, 12 bytes:
 *     0  u8   flags     bit 0 chains as indirect tables; bit 1 EVENT_IDX; bit 2 the backend
 *                       fails every other fill (-EIO); bit 3 the backend fills only half
 *                       (at least 1 byte); bit 4 max_req_len = 1 + 16 * cap; bit 5 device
 *                       reset after the kick; bit 6 the backend claims len + 1 every third
 *                       fill; bit 7 rate limit of 1000 bytes/s with a 10 ms bucket
 *     1  u8   layout    guest layout as in fuzz-vq-split.c (region size, guest address)
 *     2  u8   n_chains  x % 17 chains the driver adds before the kick (while they fit in
 *                       the 32 descriptors of the ring)
 *     3  u8   cap       see flags bit 4
 *     4  u32  ro_mask   region i device-read-only / device-write-only as in fuzz-vq-split.c
 *     8  u32  wo_mask   (regions holding the ring are always read-write)
 *   n_chains chains: u8 n (1 + n % 8 buffers), then n buffers of 4 bytes:
 *     u16 off (guest offset, mod the buffer area), u16 x (length x & 0x1fff, clipped to the
 *     buffer area; bit 15 device-writable)
 *   the rest: the guest memory image, copied to guest offset 0.
 *
 * Invariants (an abort is a finding):
 *  - the backend is handed only non-empty iovecs inside the guest whose lengths sum to the
 *    len it is asked for, 1..max_req_len bytes;
 *  - every chain comes back exactly once (unless the core broke the queue, the device was
 *    reset, or the rate limit left it waiting in the ring), with used length 0 if it has a
 *    device-readable buffer, no writable byte, or its fill failed or lied, and otherwise
 *    the bytes the backend wrote (at most the writable length and max_req_len);
 *  - ASan/UBSan and the guard pages around the guest catch any access outside it.
 *
 * @verify{VB-REQ-RNG-010} @verify{VB-REQ-RNG-011} @verify{VB-REQ-RNG-012}
 * @verify{VB-REQ-RNG-013}
 */
#include <errno.h>
#include <stdalign.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "vbt-fuzz.h"
#include "vbt-split.h"
#include "virtio-backend/devices/rng.h"

#define QNUM		32u
#define BUF_AREA	12288u	/* guest bytes buffers may use; ring and tables after */
#define MAX_BUFS	8u
#define MAX_CHAINS	16u

struct chain_desc {
	uint16_t	head;
	unsigned int	n;
	struct vbt_buf	b[MAX_BUFS];
	uint32_t	write_len;
	bool		readable;
	bool		returned;
};

struct fz {
	struct vbt_guest	g;
	struct vbt_split	r;
	struct vb_rng_backend_ops ops;
	struct vb_rng_config	cfg;
	struct vb_rng		*rng;
	struct vb_dev		*dev;
	alignas(8) uint8_t	dev_storage[VB_DEV_STORAGE_MAX(1)];
	uint8_t			flags;
	uint32_t		max_req;
	unsigned int		fills;
	uint64_t		filled;		/* bytes the backend reported honestly */
	struct chain_desc	ch[MAX_CHAINS];
	unsigned int		n_ch;
};

static int fake_fill(void *be, const struct vb_iov *iov, unsigned int n, size_t len)
{
	struct fz *f = be;
	size_t sum = 0, want;

	f->fills++;
	VBT_FUZZ_CHECK(n >= 1 && n <= VB_RNG_CHAIN_IOV, "iov count %u", n);
	VBT_FUZZ_CHECK(len >= 1 && len <= f->max_req, "len %zu (max %u)", len, f->max_req);
	for (unsigned int i = 0; i < n; i++) {
		VBT_FUZZ_CHECK(iov[i].len > 0, "empty iovec");
		VBT_FUZZ_CHECK(vbt_fuzz_guest_holds(&f->g, iov[i].base, iov[i].len),
			       "iovec outside the guest");
		sum += iov[i].len;
	}
	VBT_FUZZ_CHECK(sum == len, "iovecs sum %zu != len %zu", sum, len);
	if ((f->flags & 0x04) && f->fills % 2 == 0)
		return -EIO;
	if ((f->flags & 0x40) && f->fills % 3 == 0)
		return (int)len + 1;
	want = (f->flags & 0x08) ? (len + 1) / 2 : len;
	for (unsigned int i = 0, done = 0; i < n && done < want; i++) {
		size_t k = iov[i].len < want - done ? iov[i].len : want - done;

		memset(iov[i].base, 0xa5, k);
		done += (unsigned int)k;
	}
	f->filled += want;
	return (int)want;
}

static void collect(struct fz *f, bool strict)
{
	uint32_t id, len;

	while (vbt_split_get_used(&f->r, &id, &len) == 1) {
		struct chain_desc *c = NULL;

		for (unsigned int i = 0; i < f->n_ch; i++)
			if (f->ch[i].head == id && !f->ch[i].returned) {
				c = &f->ch[i];
				break;
			}
		VBT_FUZZ_CHECK(c != NULL, "used id %u was not outstanding", id);
		c->returned = true;
		VBT_FUZZ_CHECK(len <= c->write_len && len <= f->max_req, "used len %u, writable %u",
			       len, c->write_len);
		if (strict && c->readable)
			VBT_FUZZ_CHECK(len == 0, "readable chain answered %u bytes", len);
	}
}

static int bring_up(struct fz *f)
{
	uint64_t feat = vb_dev_get_features(f->dev) & ~VB_BIT(VB_VIRTIO_F_RING_PACKED);

	if (!(f->flags & 0x02))
		feat &= ~VB_BIT(VB_VIRTIO_F_EVENT_IDX);
	if (vbt_fuzz_dev_features(f->dev, feat) < 0)
		return -1;
	return vbt_fuzz_dev_ready(f->dev, &f->r, 1);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct vbt_fuzz_in in = { data, size };
	struct fz *f = calloc(1, sizeof(*f));
	uint32_t ro_mask, wo_mask;
	uint8_t layout, n_chains, cap;
	struct vb_rng_stats st;
	bool broken;

	if (!f)
		return 0;
	f->flags = vbt_fuzz_u8(&in);
	layout = vbt_fuzz_u8(&in);
	n_chains = (uint8_t)(vbt_fuzz_u8(&in) % (MAX_CHAINS + 1u));
	cap = vbt_fuzz_u8(&in);
	ro_mask = vbt_fuzz_u32(&in);
	wo_mask = vbt_fuzz_u32(&in);

	f->n_ch = n_chains;
	for (unsigned int i = 0; i < n_chains; i++)
		f->ch[i].n = vbt_fuzz_chain_get(&in, f->ch[i].b, MAX_BUFS, BUF_AREA, 0x1fffu);
	/* Rings and indirect tables after the buffer area, in one read-write region. */
	if (vbt_fuzz_guest_init_rings(&f->g, layout, ro_mask, wo_mask, in.p, in.left,
				      BUF_AREA) < 0)
		goto out_free;
	vbt_split_init(&f->r, &f->g, QNUM);

	f->cfg = (struct vb_rng_config){ .version = VB_RNG_CONFIG_V1, .queue_num_max = QNUM };
	if (f->flags & 0x10)
		f->cfg.max_req_len = 1u + 16u * cap;
	if (f->flags & 0x80) {
		f->cfg.rate = 1000;
		f->cfg.period_ms = 10;
	}
	f->max_req = f->cfg.max_req_len ? f->cfg.max_req_len : VB_RNG_REQ_MAX_DEFAULT;
	f->ops = (struct vb_rng_backend_ops){ .version = VB_RNG_BACKEND_OPS_V1,
					      .fill = fake_fill };
	VBT_FUZZ_CHECK(vb_rng_create(&f->cfg, &f->ops, f, &f->rng) == 0, "vb_rng_create");
	VBT_FUZZ_CHECK(vb_dev_init(f->dev_storage, sizeof(f->dev_storage),
				   vb_rng_device_ops(f->rng), f->rng, &vbt_fuzz_quiet_tops, f,
				   &f->g.mem, &f->dev) == 0, "vb_dev_init");
	if (bring_up(f) < 0)
		goto out;

	for (unsigned int i = 0, descs = 0; i < n_chains; i++) {
		struct chain_desc *c = &f->ch[i];

		/* The simulator hands out descriptors round-robin: a chain that would reuse
		 * those of an outstanding one is not added (a driver never does that). */
		descs += (f->flags & 0x01) ? 1u : c->n;
		if (descs > QNUM) {
			f->n_ch = i;
			break;
		}
		for (unsigned int k = 0; k < c->n; k++) {
			c->b[k].gpa += f->g.gpa;
			if (c->b[k].write)
				c->write_len += c->b[k].len;
			else
				c->readable = true;
		}
		c->head = vbt_split_add(&f->r, c->b, c->n, (f->flags & 0x01) != 0);
	}
	vb_dev_kick(f->dev, 0);
	broken = vb_vq_error(vb_dev_queue(f->dev, 0)) != 0;
	if (f->flags & 0x20) {
		/* Nothing is ever in flight: a reset drops nothing, and a late timer expiry
		 * finds no live queue. */
		vb_dev_reset(f->dev);
		VBT_FUZZ_CHECK(vb_rng_process(f->rng) == 0, "process after reset");
		collect(f, false);
		goto out;
	}
	vb_rng_process(f->rng);
	collect(f, true);
	vb_rng_get_stats(f->rng, &st);
	VBT_FUZZ_CHECK(st.bytes <= f->filled, "%llu bytes counted, %llu filled",
		       (unsigned long long)st.bytes, (unsigned long long)f->filled);
	if (!broken && !(f->flags & 0x80))
		for (unsigned int i = 0; i < f->n_ch; i++)
			VBT_FUZZ_CHECK(f->ch[i].returned, "chain %u (head %u) never returned", i,
				       f->ch[i].head);
out:
	vb_rng_destroy(f->rng);
	vbt_guest_fini(&f->g);
out_free:
	free(f);
	return 0;
}
