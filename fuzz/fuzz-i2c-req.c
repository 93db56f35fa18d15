/* SPDX-License-Identifier: MIT */
/*
 * Fuzz target: the virtio-i2c request parser and FAIL_NEXT grouping (src/devices/i2c/i2c.c)
 * over fuzzed chains in fuzzed guest memory, with a fake bus that checks every transaction
 * it is handed and fails where the input says.
 *
 * Input format (all integers little-endian; a short input reads as zeros):
 *
 *   header, 12 bytes:
 *     0  u8   flags     bit 0 the driver refuses ZERO_LENGTH_REQUEST; bit 1 chains as
 *                       indirect tables; bit 2 EVENT_IDX; bit 3 the chains are published in
 *                       two kicks (half, then the rest); bit 4 device reset after the first
 *                       kick; bit 5 the bus returns -EIO instead of a count
 *     1  u8   layout    guest layout as in fuzz-vq-split.c (region size, guest address)
 *     2  u8   n_chains  x % 17 chains (while they fit in the 32 descriptors of the ring)
 *     3  u8   nack      the bus fails message (nack % 8) of each transaction, 7: none
 *     4  u32  ro_mask   region i device-read-only / device-write-only as in fuzz-vq-split.c
 *     8  u32  wo_mask
 *   n_chains chains: u8 n (1 + n % 6 buffers), then n buffers of 4 bytes:
 *     u16 off (guest offset, mod the buffer area), u16 x (length x & 0x1fff, clipped to the
 *     buffer area; bit 15 device-writable)
 *   the rest: the guest memory image (request headers and data) at guest offset 0.
 *
 * Invariants (an abort is a finding):
 *  - every transaction the bus sees has 1..VB_I2C_MAX_GROUP messages, 7-bit addresses,
 *    lengths up to VB_I2C_MAX_LEN equal to the sum of their iovecs, each inside the guest;
 *  - chains come back in the order they were added (a prefix of them: the last group may
 *    wait for its end), each once, with a used length of 0 or its whole writable length;
 *  - a status byte no other buffer covers holds 0 or 1 (or the chain came back with 0); it
 *    is poisoned (0xff) when the chain is added, so a status never written is caught;
 *  - nothing in the buffer area changes but the device-writable buffers of added chains;
 *  - ASan/UBSan and the guard pages around the guest catch any access outside it.
 *
 * @verify{VB-REQ-I2C-010} @verify{VB-REQ-I2C-011} @verify{VB-REQ-I2C-012}
 * @verify{VB-REQ-I2C-013} @verify{VB-REQ-I2C-014} @verify{VB-REQ-I2C-015}
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
#include "virtio-backend/devices/i2c.h"

#define QNUM		32u
#define BUF_AREA	12288u
#define MAX_BUFS	6u
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
	struct vb_i2c_backend_ops ops;
	struct vb_i2c		*i2c;
	struct vb_dev		*dev;
	alignas(8) uint8_t	dev_storage[VB_DEV_STORAGE_MAX(1)];
	uint8_t			flags;
	uint8_t			nack;
	unsigned int		transfers;
	struct chain_desc	ch[MAX_CHAINS];
	unsigned int		n_ch;
	unsigned int		n_returned;
	uint8_t			shadow[BUF_AREA];	/* the buffer area as the driver left it */
	uint8_t			may_write[BUF_AREA];	/* in a device-writable buffer */
};

static int fake_transfer(void *be, const struct vb_i2c_msg *msgs, unsigned int n)
{
	struct fz *f = be;

	f->transfers++;
	VBT_FUZZ_CHECK(n >= 1 && n <= VB_I2C_MAX_GROUP, "%u messages", n);
	for (unsigned int i = 0; i < n; i++) {
		const struct vb_i2c_msg *m = &msgs[i];
		size_t sum = 0;

		VBT_FUZZ_CHECK(m->addr <= 0x7f, "address 0x%x", m->addr);
		VBT_FUZZ_CHECK(m->len <= VB_I2C_MAX_LEN, "len %u", m->len);
		VBT_FUZZ_CHECK((m->len == 0) == (m->iov_num == 0), "len %u iov_num %u", m->len,
			       m->iov_num);
		for (unsigned int k = 0; k < m->iov_num; k++) {
			VBT_FUZZ_CHECK(m->iov[k].len > 0, "empty iovec");
			VBT_FUZZ_CHECK(vbt_fuzz_guest_holds(&f->g, m->iov[k].base, m->iov[k].len),
				       "iovec outside the guest");
			sum += m->iov[k].len;
			if (m->flags & VB_I2C_MSG_RD) {
				memset(m->iov[k].base, 0xa5, m->iov[k].len);
			} else {
				volatile const uint8_t *p = m->iov[k].base;

				(void)p[0];
				(void)p[m->iov[k].len - 1];
			}
		}
		VBT_FUZZ_CHECK(sum == m->len, "iovecs sum %zu != len %u", sum, m->len);
	}
	if (f->flags & 0x20)
		return -EIO;
	if (f->nack % 8u < 7u && f->nack % 8u < n)
		return (int)(f->nack % 8u);
	return (int)n;
}

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

static void collect(struct fz *f)
{
	uint32_t id, len;

	while (vbt_split_get_used(&f->r, &id, &len) == 1) {
		struct chain_desc *c;
		unsigned int ci = f->n_returned;

		/* In order: the next chain returned is the oldest outstanding one. */
		VBT_FUZZ_CHECK(ci < f->n_ch, "used id %u was not outstanding", id);
		c = &f->ch[ci];
		VBT_FUZZ_CHECK(c->head == id, "used id %u, expected chain %u (head %u)", id, ci,
			       c->head);
		c->returned = true;
		f->n_returned++;
		VBT_FUZZ_CHECK(len == 0 || len == c->write_len, "used len %u, writable %u", len,
			       c->write_len);
		if (!len)
			continue;
		for (unsigned int k = c->n; k-- > 0;) {
			const struct vbt_buf *b = &c->b[k];
			uint64_t gpa;

			if (!b->write || b->len == 0)
				continue;
			gpa = b->gpa + b->len - 1;
			if (!covered_elsewhere(f, ci, k, gpa)) {
				uint8_t s = *(uint8_t *)vbt_guest_ptr(&f->g, gpa);

				VBT_FUZZ_CHECK(s <= VB_VIRTIO_I2C_MSG_ERR, "status %u", s);
			}
			break;
		}
	}
}

static int bring_up(struct fz *f)
{
	uint64_t feat = vb_dev_get_features(f->dev) & ~VB_BIT(VB_VIRTIO_F_RING_PACKED);

	if (!(f->flags & 0x04))
		feat &= ~VB_BIT(VB_VIRTIO_F_EVENT_IDX);
	if (f->flags & 0x01)
		feat &= ~VB_BIT(VB_VIRTIO_I2C_F_ZERO_LENGTH_REQUEST);
	if (vbt_fuzz_dev_features(f->dev, feat) < 0)
		return -1;
	return vbt_fuzz_dev_ready(f->dev, &f->r, 1);
}

static void add_chain(struct fz *f, unsigned int i)
{
	struct chain_desc *c = &f->ch[i];

	for (unsigned int k = 0; k < c->n; k++) {
		c->b[k].gpa += f->g.gpa;
		if (c->b[k].write) {
			c->write_len += c->b[k].len;
			memset(f->may_write + (c->b[k].gpa - f->g.gpa), 1, c->b[k].len);
		}
	}
	/* Poison the status byte that only this buffer covers (the device never reads a
	 * writable buffer): a chain returned with it still 0xff was never answered. */
	for (unsigned int k = c->n; k-- > 0;) {
		const struct vbt_buf *b = &c->b[k];
		uint64_t gpa = b->gpa + b->len - 1;

		if (!b->write)
			continue;
		if (!covered_elsewhere(f, i, k, gpa)) {
			*(uint8_t *)vbt_guest_ptr(&f->g, gpa) = 0xff;
			f->shadow[gpa - f->g.gpa] = 0xff;
		}
		break;
	}
	c->head = vbt_split_add(&f->r, c->b, c->n, (f->flags & 0x02) != 0);
}

/* The device wrote nothing but the device-writable buffers it was given. */
static void check_untouched(const struct fz *f)
{
	for (size_t i = 0; i < BUF_AREA; i++)
		VBT_FUZZ_CHECK(f->may_write[i] || f->g.base[i] == f->shadow[i],
			       "guest byte 0x%zx written outside the writable buffers", i);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct vbt_fuzz_in in = { data, size };
	struct vb_i2c_config cfg = { .version = VB_I2C_CONFIG_V1, .queue_num_max = QNUM };
	struct fz *f = calloc(1, sizeof(*f));
	uint32_t ro_mask, wo_mask;
	uint8_t layout, n_chains;
	unsigned int first;

	if (!f)
		return 0;
	f->flags = vbt_fuzz_u8(&in);
	layout = vbt_fuzz_u8(&in);
	n_chains = (uint8_t)(vbt_fuzz_u8(&in) % (MAX_CHAINS + 1u));
	f->nack = vbt_fuzz_u8(&in);
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
	memcpy(f->shadow, f->g.base, BUF_AREA);

	f->ops = (struct vb_i2c_backend_ops){ .version = VB_I2C_BACKEND_OPS_V1,
					      .transfer = fake_transfer };
	VBT_FUZZ_CHECK(vb_i2c_create(&cfg, &f->ops, f, &f->i2c) == 0, "vb_i2c_create");
	VBT_FUZZ_CHECK(vb_dev_init(f->dev_storage, sizeof(f->dev_storage),
				   vb_i2c_device_ops(f->i2c), f->i2c, &vbt_fuzz_quiet_tops, f,
				   &f->g.mem, &f->dev) == 0, "vb_dev_init");
	if (bring_up(f) < 0)
		goto out;

	/* The simulator hands out descriptors round-robin: stop before reusing any. */
	for (unsigned int i = 0, descs = 0; i < n_chains; i++) {
		descs += (f->flags & 0x02) ? 1u : f->ch[i].n;
		if (descs > QNUM) {
			f->n_ch = i;
			break;
		}
	}
	first = (f->flags & 0x08) ? f->n_ch / 2u : f->n_ch;
	for (unsigned int i = 0; i < first; i++)
		add_chain(f, i);
	vb_dev_kick(f->dev, 0);
	if (f->flags & 0x10) {
		/* A reset forgets an open group: nothing of it comes back. */
		vb_dev_reset(f->dev);
		collect(f);
		check_untouched(f);
		goto out;
	}
	for (unsigned int i = first; i < f->n_ch; i++)
		add_chain(f, i);
	vb_dev_kick(f->dev, 0);
	collect(f);
	if (vb_vq_error(vb_dev_queue(f->dev, 0)) == 0)
		VBT_FUZZ_CHECK(f->n_ch - f->n_returned < VB_I2C_MAX_GROUP,
			       "%u chains never returned", f->n_ch - f->n_returned);
	check_untouched(f);
out:
	vb_i2c_destroy(f->i2c);
	vbt_guest_fini(&f->g);
out_free:
	free(f);
	return 0;
}
