/* SPDX-License-Identifier: MIT */
/*
 * virtio-blk device model (virtio 1.2, 5.2 "Block Device"): request parsing and validation,
 * config space, and the request table that keeps requests in flight for asynchronous
 * backends. No transport knowledge, no allocation per request, no system calls (the host
 * backends in blk-file-*.c do the I/O).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "virtio-backend.h"
#include "virtio-backend/devices/blk.h"
#include "internal/check.h"
#include "internal/compiler.h"

/* One validated discard / write zeroes segment, copied out of the guest once. */
struct blk_seg {
	uint64_t sector;
	uint32_t num_sectors;
	uint32_t flags;
};

struct blk_queue;

/* A request in flight. The iov[] and seg[] arrays follow it in the request table. */
struct blk_req {
	struct vb_blk_io	io;		/* first: vb_blk_complete() gets this back */
	struct blk_queue	*q;
	struct vb_chain		chain;		/* head, ring_slots, write_len for the push */
	uint8_t			*status;	/* the status byte in guest memory */
	uint32_t		written;	/* used length to report */
	uint32_t		epoch;		/* the queue's epoch when popped */
	uint32_t		type;		/* request type (for counters) */
	uint16_t		seg_next;	/* discard/write zeroes: next segment to submit */
	uint16_t		seg_num;
	uint16_t		slot;		/* its number in the queue's table */
	bool			pending;	/* handed to the backend, not completed */
	struct vb_iov		*iov;		/* data slices (iov_max entries) */
	struct blk_seg		*seg;		/* segments (seg_cap entries) */
};

struct blk_queue {
	struct vb_blk		*blk;
	struct vb_vq		*vq;		/* learnt at the first kick */
	uint16_t		idx;
	uint16_t		n_free;
	uint32_t		epoch;		/* bumped by a queue or device reset */
	bool			dirty;		/* pushed since the last notify */
	bool			starved;	/* stopped popping: no free slot */
	uint16_t		*free;		/* stack of free slot numbers (qmax) */
	struct blk_req		**slot;		/* qmax requests */
	struct vb_iov		*rd, *wr;	/* pop scratch, chain_iov each */
};

struct vb_blk {
	struct vb_device_ops	dops;
	struct vb_blk_config	cfg;
	const struct vb_blk_backend_ops *ops;
	void			*be;
	struct vb_dev		*dev;		/* learnt from the hooks */
	uint64_t		capacity;	/* sectors */
	uint64_t		features;	/* negotiated at activate */
	uint32_t		iov_max;	/* data iovecs per request */
	uint32_t		seg_cap;	/* segments per request */
	uint32_t		chain_iov;	/* pop scratch per direction */
	uint32_t		discard_seg, wz_seg;
	uint32_t		discard_sectors, wz_sectors, discard_align;
	uint16_t		nq, qmax;
	uint8_t			writeback;	/* config field */
	bool			fua_always;	/* writethrough whatever writeback says */
	bool			heap;		/* from vb_blk_create() */
	unsigned int		inflight;
	struct vb_blk_stats	st;
	struct blk_queue	*q;
};

#define ALIGN8(x)	(((x) + 7u) & ~(uint64_t)7u)

/* Sizes of every part of the storage, computed in 64 bits and checked once. */
struct blk_layout {
	uint64_t queues, free, slotp, scratch, req_size, reqs, total;
	uint32_t iov_max, seg_cap, chain_iov;
	uint16_t nq, qmax;
};

static uint32_t cfg_seg_max(const struct vb_blk_config *cfg)
{
	return cfg->seg_max ? cfg->seg_max : VB_BLK_SEG_MAX_DEFAULT;
}

static int layout(const struct vb_blk_config *cfg, struct blk_layout *l)
{
	uint32_t seg_max, dseg, wseg;

	if (!cfg || cfg->version < VB_BLK_CONFIG_V1)
		return -EINVAL;
	seg_max = cfg_seg_max(cfg);
	if (cfg->num_queues > VB_BLK_MAX_QUEUES || cfg->queue_num_max > VB_VQ_MAX_SIZE ||
	    seg_max > VB_BLK_SEG_MAX_LIMIT)
		return -EINVAL;
	l->nq = cfg->num_queues ? cfg->num_queues : 1;
	l->qmax = cfg->queue_num_max ? cfg->queue_num_max : VB_BLK_QUEUE_NUM_DEFAULT;
	l->iov_max = seg_max + VB_BLK_IOV_SLACK;
	dseg = cfg->max_discard_seg ? cfg->max_discard_seg : 1;
	wseg = cfg->max_write_zeroes_seg ? cfg->max_write_zeroes_seg : 1;
	if (dseg > l->iov_max || wseg > l->iov_max)
		return -EINVAL;
	l->seg_cap = dseg > wseg ? dseg : wseg;
	/* A chain holds the header, the data and the status, each possibly split by memory
	 * regions; a driver that uses many more descriptors than seg_max breaks the queue
	 * (vb_vq_pop() returns -E2BIG), which virtio 1.2, 5.2.6.1 forbids it to do anyway. */
	l->chain_iov = l->iov_max + 2u + VB_BLK_IOV_SLACK;
	if (l->chain_iov < l->qmax && l->qmax <= 1024u)
		l->chain_iov = l->qmax + VB_BLK_IOV_SLACK;
	l->queues = ALIGN8(sizeof(struct blk_queue) * (uint64_t)l->nq);
	l->free = ALIGN8(sizeof(uint16_t) * (uint64_t)l->nq * l->qmax);
	l->slotp = ALIGN8(sizeof(struct blk_req *) * (uint64_t)l->nq * l->qmax);
	l->scratch = 2u * sizeof(struct vb_iov) * (uint64_t)l->nq * l->chain_iov;
	l->req_size = ALIGN8(sizeof(struct blk_req)) + sizeof(struct vb_iov) * (uint64_t)l->iov_max +
		      sizeof(struct blk_seg) * (uint64_t)l->seg_cap;
	l->reqs = l->req_size * l->nq * l->qmax;
	l->total = ALIGN8(sizeof(struct vb_blk)) + l->queues + l->free + l->slotp + l->scratch +
		   l->reqs;
	if (l->total > SIZE_MAX)
		return -EINVAL;
	return 0;
}

VB_EXPORT size_t vb_blk_size(const struct vb_blk_config *cfg)
{
	struct blk_layout l;

	return layout(cfg, &l) ? 0 : (size_t)l.total;
}

static uint64_t offered_features(const struct vb_blk *blk)
{
	const struct vb_blk_config *c = &blk->cfg;
	bool ro = c->flags & VB_BLK_CFG_READ_ONLY;
	uint64_t f;

	f = VB_BIT(VB_VIRTIO_F_VERSION_1) | VB_BIT(VB_VIRTIO_F_INDIRECT_DESC) |
	    VB_BIT(VB_VIRTIO_F_EVENT_IDX) | VB_BIT(VB_VIRTIO_F_RING_PACKED) |
	    VB_BIT(VB_VIRTIO_F_RING_RESET) | VB_BIT(VB_VIRTIO_BLK_F_SEG_MAX) |
	    VB_BIT(VB_VIRTIO_BLK_F_FLUSH) | VB_BIT(VB_VIRTIO_BLK_F_CONFIG_WCE);
	if (c->size_max)
		f |= VB_BIT(VB_VIRTIO_BLK_F_SIZE_MAX);
	if (c->cylinders)
		f |= VB_BIT(VB_VIRTIO_BLK_F_GEOMETRY);
	if (ro)
		f |= VB_BIT(VB_VIRTIO_BLK_F_RO);
	if (c->blk_size)
		f |= VB_BIT(VB_VIRTIO_BLK_F_BLK_SIZE);
	if (c->physical_block_exp || c->alignment_offset || c->min_io_size || c->opt_io_size)
		f |= VB_BIT(VB_VIRTIO_BLK_F_TOPOLOGY);
	if (blk->nq > 1)
		f |= VB_BIT(VB_VIRTIO_BLK_F_MQ);
	/* A read-only disk has nothing to discard or zero. */
	if ((c->flags & VB_BLK_CFG_DISCARD) && !ro)
		f |= VB_BIT(VB_VIRTIO_BLK_F_DISCARD);
	if ((c->flags & VB_BLK_CFG_WRITE_ZEROES) && !ro)
		f |= VB_BIT(VB_VIRTIO_BLK_F_WRITE_ZEROES);
	if (VB_OPS_HAS(blk->ops, VB_BLK_BACKEND_OPS_V1, get_lifetime))
		f |= VB_BIT(VB_VIRTIO_BLK_F_LIFETIME);
	f &= ~c->features_off;
	/* virtio 1.2, 5.2.5.2 "Device Requirements: Device Initialization": CONFIG_WCE only
	 * with FLUSH. VERSION_1 is not negotiable away. */
	if (!(f & VB_BIT(VB_VIRTIO_BLK_F_FLUSH)))
		f &= ~VB_BIT(VB_VIRTIO_BLK_F_CONFIG_WCE);
	return f | VB_BIT(VB_VIRTIO_F_VERSION_1);
}

static bool has(const struct vb_blk *blk, unsigned int bit)
{
	return (blk->features >> bit) & 1u;
}

static bool offers(const struct vb_blk *blk, unsigned int bit)
{
	return (blk->dops.features >> bit) & 1u;
}

static struct blk_req *slot_get(const struct blk_queue *q, uint16_t i)
{
	return q->slot[i];
}

static void slot_free(struct blk_queue *q, struct blk_req *req)
{
	if (VB_NEVER(q->n_free >= q->blk->qmax))
		return;
	q->free[q->n_free++] = req->slot;
}

/* ---- hooks ------------------------------------------------------------------------------ */

static void fill_config(const struct vb_blk *blk, struct vb_virtio_blk_config *c)
{
	const struct vb_blk_config *k = &blk->cfg;

	memset(c, 0, sizeof(*c));	/* unused0/unused1 must be 0 (5.2.5.2) */
	c->capacity = vb_cpu_to_le64(blk->capacity);
	c->size_max = vb_cpu_to_le32(k->size_max);
	c->seg_max = vb_cpu_to_le32(cfg_seg_max(k));
	c->geometry_cylinders = vb_cpu_to_le16(k->cylinders);
	c->geometry_heads = k->heads;
	c->geometry_sectors = k->sectors;
	c->blk_size = vb_cpu_to_le32(k->blk_size);
	c->physical_block_exp = k->physical_block_exp;
	c->alignment_offset = k->alignment_offset;
	c->min_io_size = vb_cpu_to_le16(k->min_io_size);
	c->opt_io_size = vb_cpu_to_le32(k->opt_io_size);
	c->writeback = blk->writeback;
	c->num_queues = vb_cpu_to_le16(blk->nq);
	if (offers(blk, VB_VIRTIO_BLK_F_DISCARD)) {
		c->max_discard_sectors = vb_cpu_to_le32(blk->discard_sectors);
		c->max_discard_seg = vb_cpu_to_le32(blk->discard_seg);
		c->discard_sector_alignment = vb_cpu_to_le32(blk->discard_align);
	}
	if (offers(blk, VB_VIRTIO_BLK_F_WRITE_ZEROES)) {
		c->max_write_zeroes_sectors = vb_cpu_to_le32(blk->wz_sectors);
		c->max_write_zeroes_seg = vb_cpu_to_le32(blk->wz_seg);
		c->write_zeroes_may_unmap = (k->flags & VB_BLK_CFG_WZ_MAY_UNMAP) ? 1u : 0u;
	}
}

/* @satisfy{VB-REQ-BLK-003} */
static int blk_config_read(struct vb_dev *dev, uint32_t off, void *buf, uint32_t len)
{
	struct vb_blk *blk = vb_dev_priv(dev);
	struct vb_virtio_blk_config c;

	blk->dev = dev;
	/* The core checked [off, off + len) against config_len. */
	if (VB_NEVER(off > sizeof(c) || len > sizeof(c) - off))
		return -EINVAL;
	fill_config(blk, &c);
	memcpy(buf, (const uint8_t *)&c + off, len);
	return 0;
}

/* Only writeback is writable, and only with CONFIG_WCE (virtio 1.2, 5.2.5 "Device
 * Initialization", item on CONFIG_WCE). @satisfy{VB-REQ-BLK-005} */
static int blk_config_write(struct vb_dev *dev, uint32_t off, const void *buf, uint32_t len)
{
	struct vb_blk *blk = vb_dev_priv(dev);
	uint8_t v;

	blk->dev = dev;
	if (off != VB_VIRTIO_BLK_CONFIG_WRITEBACK || len != 1 ||
	    !vb_dev_has_feature(dev, VB_VIRTIO_BLK_F_CONFIG_WCE))
		return -ENOTSUP;
	memcpy(&v, buf, 1);
	if (v > 1)
		return -EINVAL;
	blk->writeback = v;
	return 0;
}

/* @satisfy{VB-REQ-BLK-006} */
static int blk_activate(struct vb_dev *dev, uint64_t features)
{
	struct vb_blk *blk = vb_dev_priv(dev);
	bool flush = (features >> VB_VIRTIO_BLK_F_FLUSH) & 1u;
	bool wce = (features >> VB_VIRTIO_BLK_F_CONFIG_WCE) & 1u;

	blk->dev = dev;
	blk->features = features;
	/* virtio 1.2, 5.2.6.2 "Device Requirements: Device Operation": with neither
	 * CONFIG_WCE nor FLUSH negotiated but FLUSH offered, a completed write is stable. */
	blk->fua_always = !flush && !wce &&
			  (vb_dev_get_features(dev) >> VB_VIRTIO_BLK_F_FLUSH) & 1u;
	/* virtio 1.2, 5.2.5.2: CONFIG_WCE without FLUSH starts in writethrough. */
	if (wce && !flush)
		blk->writeback = 0;
	return 0;
}

/* ---- completion ------------------------------------------------------------------------- */

static void finish(struct vb_blk *blk, struct blk_req *req, uint8_t status)
{
	struct blk_queue *q = req->q;

	/* The only write of the status byte, the last writable byte of the chain. */
	if (req->status)
		*req->status = status;
	if (status == VB_VIRTIO_BLK_S_OK) {
		blk->st.ok++;
		if (req->type == VB_VIRTIO_BLK_T_IN)
			blk->st.bytes_read += req->io.len;
		else if (req->type == VB_VIRTIO_BLK_T_OUT)
			blk->st.bytes_written += req->io.len;
	} else if (status == VB_VIRTIO_BLK_S_UNSUPP) {
		blk->st.unsupp++;
	} else {
		blk->st.ioerr++;
	}
	/* A push fails only if the queue broke or stopped meanwhile: the driver learns of that
	 * through NEEDS_RESET, so the request is simply dropped. */
	if (q->vq && vb_vq_push(q->vq, &req->chain, req->written) == 0)
		q->dirty = true;
	slot_free(q, req);
}

static uint8_t status_of(int result)
{
	return result == -ENOTSUP ? VB_VIRTIO_BLK_S_UNSUPP : VB_VIRTIO_BLK_S_IOERR;
}

/* Prepare the io of segment req->seg_next. */
static void seg_io(struct blk_req *req)
{
	const struct blk_seg *s = &req->seg[req->seg_next];

	req->io.offset = s->sector << VB_VIRTIO_BLK_SECTOR_SHIFT;
	req->io.len = (uint64_t)s->num_sectors << VB_VIRTIO_BLK_SECTOR_SHIFT;
	req->io.flags = (req->io.flags & VB_BLK_IO_FUA) | s->flags;
}

/* One backend operation of req ended with result: finish the request, or prepare its next
 * segment and return true. */
static bool io_step(struct vb_blk *blk, struct blk_req *req, int result)
{
	if (result < 0) {
		/* virtio 1.2, 5.2.6: after IOERR the segments' fate is indeterminate. */
		finish(blk, req, status_of(result));
		return false;
	}
	if ((req->io.op == VB_BLK_OP_DISCARD || req->io.op == VB_BLK_OP_WRITE_ZEROES) &&
	    ++req->seg_next < req->seg_num) {
		seg_io(req);
		return true;
	}
	finish(blk, req, VB_VIRTIO_BLK_S_OK);
	return false;
}

/* Hand req's io to the backend until it is pending or finished. */
static void run_io(struct vb_blk *blk, struct blk_req *req)
{
	for (;;) {
		int ret = blk->ops->submit(blk->be, &req->io);

		if (ret == VB_BLK_PENDING) {
			req->pending = true;
			blk->inflight++;
			return;
		}
		if (ret > 0)	/* not in the contract: a backend bug, reported as an error */
			ret = -EIO;
		if (!io_step(blk, req, ret))
			return;
	}
}

/* @satisfy{VB-REQ-BLK-020} @satisfy{VB-REQ-BLK-021} */
VB_EXPORT void vb_blk_complete(struct vb_blk_io *io, int result)
{
	struct blk_req *req = (struct blk_req *)(void *)io;
	struct vb_blk *blk = io->blk;

	if (VB_NEVER(!req->pending))
		return;
	req->pending = false;
	blk->inflight--;
	if (req->epoch != req->q->epoch) {
		/* The queue was reset while the backend worked: nothing goes back. */
		slot_free(req->q, req);
		return;
	}
	if (io_step(blk, req, result > 0 ? -EIO : result)) {
		run_io(blk, req);
		if (blk->ops->commit)
			blk->ops->commit(blk->be);
	}
}

/* ---- requests --------------------------------------------------------------------------- */

/* virtio 1.2, 5.2.6: sector + n within capacity, written so that nothing wraps. */
static bool range_ok(const struct vb_blk *blk, uint64_t sector, uint64_t n)
{
	return vbi_range_inside(sector, n, 0, blk->capacity);
}

/* A write must be stable on completion (virtio 1.2, 5.2.6.2, cases 1 and 2 of "A write
 * becomes stable"). @satisfy{VB-REQ-BLK-006} */
static bool wants_fua(const struct vb_blk *blk)
{
	return blk->fua_always || (has(blk, VB_VIRTIO_BLK_F_CONFIG_WCE) && blk->writeback == 0);
}

/* Describe len bytes of a part, from byte off, as slices of its own iovecs (zero copy). */
static int slice(struct blk_req *req, const struct vb_iov *iov, unsigned int n, size_t off,
		 size_t len)
{
	struct vb_iov_cursor cur;
	int ret;

	vb_iov_cursor_init(&cur, iov, n);
	if (vb_iov_cursor_skip(&cur, off) != off)
		return -E2BIG;
	ret = vb_iov_cursor_slice(&cur, len, req->iov, req->q->blk->iov_max);
	if (ret < 0)
		return ret;
	req->io.iov = req->iov;
	req->io.iov_num = (unsigned int)ret;
	req->io.len = len;
	return 0;
}

/* IN and OUT. @satisfy{VB-REQ-BLK-012} @satisfy{VB-REQ-BLK-013} @satisfy{VB-REQ-BLK-014}
 * @satisfy{VB-REQ-BLK-022} */
static int parse_rw(struct vb_blk *blk, struct blk_req *req, const struct vb_chain *c,
		    uint64_t sector, size_t data_len, bool out)
{
	/* virtio 1.2, 5.2.6 "Device Operation": data comes in multiples of 512 bytes, and the
	 * device "MUST set the status byte to VIRTIO_BLK_S_IOERR for a write request if the
	 * VIRTIO_BLK_F_RO feature if offered, and MUST NOT write any data". */
	if (out && (blk->cfg.flags & VB_BLK_CFG_READ_ONLY))
		return VB_VIRTIO_BLK_S_IOERR;
	if (data_len % VB_VIRTIO_BLK_SECTOR_SIZE ||
	    !range_ok(blk, sector, data_len >> VB_VIRTIO_BLK_SECTOR_SHIFT))
		return VB_VIRTIO_BLK_S_IOERR;
	if (data_len == 0)
		return VB_VIRTIO_BLK_S_OK;
	/* More iovecs than the request table holds (seg_max ignored, or memory regions cut the
	 * buffers very finely): refused, the queue goes on. */
	if (out ? slice(req, c->read, c->n_read, sizeof(struct vb_virtio_blk_req_hdr), data_len)
		: slice(req, c->write, c->n_write, 0, data_len))
		return VB_VIRTIO_BLK_S_IOERR;
	req->io.op = out ? VB_BLK_OP_WRITE : VB_BLK_OP_READ;
	req->io.offset = sector << VB_VIRTIO_BLK_SECTOR_SHIFT;
	if (out && wants_fua(blk))
		req->io.flags = VB_BLK_IO_FUA;
	return -1;
}

/* DISCARD and WRITE_ZEROES: every segment is copied out once and checked before the first
 * reaches the backend. @satisfy{VB-REQ-BLK-017} */
static int parse_dwz(struct vb_blk *blk, struct blk_req *req, const struct vb_chain *c,
		     size_t data_len, bool discard)
{
	unsigned int feature = discard ? VB_VIRTIO_BLK_F_DISCARD : VB_VIRTIO_BLK_F_WRITE_ZEROES;
	uint32_t max_seg = discard ? blk->discard_seg : blk->wz_seg;
	uint32_t max_sectors = discard ? blk->discard_sectors : blk->wz_sectors;
	bool unsupp = false, ioerr = false;
	struct vb_iov_cursor cur;
	size_t n;

	if (blk->cfg.flags & VB_BLK_CFG_READ_ONLY)
		return VB_VIRTIO_BLK_S_IOERR;
	if (!has(blk, feature))
		return VB_VIRTIO_BLK_S_UNSUPP;
	/* virtio 1.2, 5.2.6: one or more 16-byte segments, at most max_*_seg of them. */
	if (data_len == 0 || data_len % sizeof(struct vb_virtio_blk_discard_write_zeroes))
		return VB_VIRTIO_BLK_S_IOERR;
	n = data_len / sizeof(struct vb_virtio_blk_discard_write_zeroes);
	if (n > max_seg || VB_NEVER(n > blk->seg_cap))
		return VB_VIRTIO_BLK_S_IOERR;
	req->seg_num = 0;
	/* One walk over the readable part (vb_chain_read() per segment would walk it from the
	 * start each time: quadratic in guest-chosen descriptors). */
	vb_iov_cursor_init(&cur, c->read, c->n_read);
	if (vb_iov_cursor_skip(&cur, sizeof(struct vb_virtio_blk_req_hdr)) !=
	    sizeof(struct vb_virtio_blk_req_hdr))
		return VB_VIRTIO_BLK_S_IOERR;
	for (size_t i = 0; i < n; i++) {
		struct vb_virtio_blk_discard_write_zeroes w;
		struct blk_seg *s = &req->seg[req->seg_num];
		uint32_t flags;

		if (vb_iov_cursor_read(&cur, &w, sizeof(w)) != sizeof(w))
			return VB_VIRTIO_BLK_S_IOERR;
		s->sector = vb_le64_to_cpu(w.sector);
		s->num_sectors = vb_le32_to_cpu(w.num_sectors);
		flags = vb_le32_to_cpu(w.flags);
		/* virtio 1.2, 5.2.6.2: UNSUPP "if any unknown flag is set", and for discard
		 * commands "if the unmap flag is set". UNSUPP wins over IOERR. */
		if ((flags & ~VB_VIRTIO_BLK_WRITE_ZEROES_FLAG_UNMAP) ||
		    (discard && (flags & VB_VIRTIO_BLK_WRITE_ZEROES_FLAG_UNMAP)))
			unsupp = true;
		if (s->num_sectors > max_sectors || !range_ok(blk, s->sector, s->num_sectors))
			ioerr = true;
		s->flags = 0;
		if (!discard && (flags & VB_VIRTIO_BLK_WRITE_ZEROES_FLAG_UNMAP) &&
		    (blk->cfg.flags & VB_BLK_CFG_WZ_MAY_UNMAP))
			s->flags = VB_BLK_IO_UNMAP;
		if (s->num_sectors)
			req->seg_num++;
	}
	if (unsupp)
		return VB_VIRTIO_BLK_S_UNSUPP;
	if (ioerr)
		return VB_VIRTIO_BLK_S_IOERR;
	if (req->seg_num == 0)
		return VB_VIRTIO_BLK_S_OK;
	req->io.op = discard ? VB_BLK_OP_DISCARD : VB_BLK_OP_WRITE_ZEROES;
	req->seg_next = 0;
	seg_io(req);
	if (!discard && wants_fua(blk))
		req->io.flags |= VB_BLK_IO_FUA;
	return -1;
}

/* Bytes the GET_ID answer may take: the 20-byte string, padded with zeroes to at most one
 * sector (a longer buffer is not a GET_ID the spec describes; bounding it bounds the work). */
#define GET_ID_MAX_LEN	VB_VIRTIO_BLK_SECTOR_SIZE

/* @satisfy{VB-REQ-BLK-016} */
static int do_get_id(const struct vb_blk *blk, const struct vb_chain *c, size_t data_len)
{
	uint8_t id[GET_ID_MAX_LEN];

	if (data_len > sizeof(id))
		return VB_VIRTIO_BLK_S_IOERR;
	memset(id, 0, sizeof(id));
	memcpy(id, blk->cfg.serial, VB_VIRTIO_BLK_ID_BYTES);
	if (data_len && vb_chain_write(c, 0, id, data_len) < 0)
		return VB_VIRTIO_BLK_S_IOERR;
	return VB_VIRTIO_BLK_S_OK;
}

/* @satisfy{VB-REQ-BLK-024} */
static int do_get_lifetime(const struct vb_blk *blk, const struct vb_chain *c, size_t data_len)
{
	struct vb_virtio_blk_lifetime lt;

	if (!has(blk, VB_VIRTIO_BLK_F_LIFETIME) ||
	    !VB_OPS_HAS(blk->ops, VB_BLK_BACKEND_OPS_V1, get_lifetime))
		return VB_VIRTIO_BLK_S_UNSUPP;
	if (data_len < sizeof(lt))
		return VB_VIRTIO_BLK_S_IOERR;
	memset(&lt, 0, sizeof(lt));
	if (blk->ops->get_lifetime(blk->be, &lt) < 0 || vb_chain_write(c, 0, &lt, sizeof(lt)) < 0)
		return VB_VIRTIO_BLK_S_IOERR;
	return VB_VIRTIO_BLK_S_OK;
}

/* Find the last writable byte: the status byte (virtio 1.2, 5.2.6: "The final status byte
 * is written by the device"). NULL if the chain has no writable byte. */
static uint8_t *find_status(const struct vb_chain *c, size_t *total)
{
	uint8_t *st = NULL;
	size_t sum = 0;

	for (unsigned int i = 0; i < c->n_write; i++) {
		if (c->write[i].len) {
			st = (uint8_t *)c->write[i].base + c->write[i].len - 1;
			sum += c->write[i].len;
		}
	}
	/* The core keeps write_len equal to the iovecs' sum; anything else is a core bug. */
	if (VB_NEVER(sum != c->write_len))
		return NULL;
	*total = sum;
	return st;
}

/* virtio 1.2, 5.2.6 "Device Operation": data[] is device-writable for IN, GET_ID and
 * GET_LIFETIME and device-readable for OUT, DISCARD and WRITE_ZEROES; the header is the only
 * readable part of the former, the status byte the only writable part of the latter. Data in
 * the wrong direction is a malformed request, not a zero-length one. @satisfy{VB-REQ-BLK-025} */
static bool directions_ok(uint32_t type, size_t rdata, size_t wtotal)
{
	switch (type) {
	case VB_VIRTIO_BLK_T_IN:
	case VB_VIRTIO_BLK_T_GET_ID:
	case VB_VIRTIO_BLK_T_GET_LIFETIME:
		return rdata == 0;
	case VB_VIRTIO_BLK_T_OUT:
	case VB_VIRTIO_BLK_T_DISCARD:
	case VB_VIRTIO_BLK_T_WRITE_ZEROES:
		return wtotal == 1;
	case VB_VIRTIO_BLK_T_FLUSH:
		return rdata == 0 && wtotal == 1;
	default:
		return true;	/* answered UNSUPP whatever its shape */
	}
}

/* Parse one popped chain into req and start it. @satisfy{VB-REQ-BLK-010}
 * @satisfy{VB-REQ-BLK-011} @satisfy{VB-REQ-BLK-019} */
static void handle(struct vb_blk *blk, struct blk_req *req, const struct vb_chain *c)
{
	struct vb_virtio_blk_req_hdr hdr;
	size_t wtotal = 0, rdata;
	uint64_t sector;
	int status;

	req->chain = (struct vb_chain){ .head = c->head, .ring_slots = c->ring_slots,
					.write_len = c->write_len };
	req->io.op = VB_BLK_OP_FLUSH;
	req->io.flags = 0;
	req->io.offset = 0;
	req->io.len = 0;
	req->io.iov = NULL;
	req->io.iov_num = 0;
	req->seg_num = 0;
	req->type = UINT32_MAX;
	blk->st.requests++;

	req->status = find_status(c, &wtotal);
	if (!req->status) {
		/* No byte to answer in: return the chain untouched, 0 bytes written. */
		blk->st.no_status++;
		req->written = 0;
		if (req->q->vq && vb_vq_push(req->q->vq, &req->chain, 0) == 0)
			req->q->dirty = true;
		slot_free(req->q, req);
		return;
	}
	/* The used length covers the writable part up to and including the status byte: data
	 * read into the guest plus one for a well-formed request. */
	req->written = (uint32_t)wtotal;

	/* The header is copied out of guest memory once; only the copy is looked at. */
	if (vb_chain_read(c, 0, &hdr, sizeof(hdr)) < 0) {
		finish(blk, req, VB_VIRTIO_BLK_S_IOERR);
		return;
	}
	req->type = vb_le32_to_cpu(hdr.type);
	sector = vb_le64_to_cpu(hdr.sector);
	rdata = c->read_len - sizeof(hdr);
	if (!directions_ok(req->type, rdata, wtotal)) {
		finish(blk, req, VB_VIRTIO_BLK_S_IOERR);
		return;
	}

	switch (req->type) {
	case VB_VIRTIO_BLK_T_IN:
		status = parse_rw(blk, req, c, sector, wtotal - 1, false);
		break;
	case VB_VIRTIO_BLK_T_OUT:
		status = parse_rw(blk, req, c, sector, rdata, true);
		break;
	case VB_VIRTIO_BLK_T_FLUSH:
		/* @satisfy{VB-REQ-BLK-015} */
		if (!offers(blk, VB_VIRTIO_BLK_F_FLUSH))
			status = VB_VIRTIO_BLK_S_UNSUPP;
		else if (blk->cfg.flags & VB_BLK_CFG_READ_ONLY)
			status = VB_VIRTIO_BLK_S_OK;	/* nothing was ever written */
		else
			status = -1;
		break;
	case VB_VIRTIO_BLK_T_GET_ID:
		status = do_get_id(blk, c, wtotal - 1);
		break;
	case VB_VIRTIO_BLK_T_GET_LIFETIME:
		status = do_get_lifetime(blk, c, wtotal - 1);
		break;
	case VB_VIRTIO_BLK_T_DISCARD:
	case VB_VIRTIO_BLK_T_WRITE_ZEROES:
		status = parse_dwz(blk, req, c, rdata, req->type == VB_VIRTIO_BLK_T_DISCARD);
		break;
	default:
		/* Secure erase, zoned and legacy SCSI requests are not offered. */
		status = VB_VIRTIO_BLK_S_UNSUPP;
		break;
	}
	if (status >= 0) {
		finish(blk, req, (uint8_t)status);
		return;
	}
	req->epoch = req->q->epoch;
	run_io(blk, req);
}

static void notify_queue(struct blk_queue *q)
{
	if (q->dirty && q->vq) {
		q->dirty = false;
		vb_vq_notify(q->vq);
	}
}

/* Pop and start requests until the ring is empty or the request table is full. */
static void run_queue(struct vb_blk *blk, struct blk_queue *q)
{
	struct vb_chain c;

	q->starved = false;
	for (;;) {
		struct blk_req *req;

		if (q->n_free == 0) {
			/* Only a driver that reuses chains in flight gets here: come back when
			 * a completion frees a slot (vb_blk_notify()). */
			q->starved = true;
			break;
		}
		c = (struct vb_chain){ .read = q->rd, .write = q->wr,
				       .max_read = (uint16_t)blk->chain_iov,
				       .max_write = (uint16_t)blk->chain_iov };
		if (vb_vq_pop(q->vq, &c) <= 0)
			break;	/* empty, or the queue broke and the device asked for a reset */
		req = slot_get(q, q->free[--q->n_free]);
		handle(blk, req, &c);
	}
	if (blk->ops->commit)
		blk->ops->commit(blk->be);
	notify_queue(q);
}

static void blk_kick(struct vb_dev *dev, struct vb_vq *vq)
{
	struct vb_blk *blk = vb_dev_priv(dev);
	uint16_t qi = vb_vq_index(vq);
	struct blk_queue *q;

	blk->dev = dev;
	if (VB_NEVER(qi >= blk->nq))
		return;
	q = &blk->q[qi];
	q->vq = vq;
	run_queue(blk, q);
}

VB_EXPORT void vb_blk_notify(struct vb_blk *blk)
{
	for (uint16_t i = 0; i < blk->nq; i++) {
		struct blk_queue *q = &blk->q[i];

		notify_queue(q);
		if (q->starved && q->n_free && q->vq && vb_vq_is_ready(q->vq))
			run_queue(blk, q);
	}
}

/* Forget the requests of queue q: their completions will only free their slots. */
static void forget_queue(struct blk_queue *q)
{
	q->epoch++;
	q->dirty = false;
	q->starved = false;
}

static void drain(struct vb_blk *blk)
{
	if (blk->inflight && blk->ops->drain)
		blk->ops->drain(blk->be);
}

/* @satisfy{VB-REQ-BLK-021} */
static void blk_reset(struct vb_dev *dev)
{
	struct vb_blk *blk = vb_dev_priv(dev);

	blk->dev = dev;
	for (uint16_t i = 0; i < blk->nq; i++)
		forget_queue(&blk->q[i]);
	/* The guest memory the backend reads and writes may be unmapped after a reset. */
	drain(blk);
	blk->features = 0;
	blk->fua_always = false;
	blk->writeback = (blk->cfg.flags & VB_BLK_CFG_WRITETHROUGH) ? 0 : 1;
}

static void blk_queue_reset(struct vb_dev *dev, struct vb_vq *vq)
{
	struct vb_blk *blk = vb_dev_priv(dev);
	uint16_t qi = vb_vq_index(vq);

	blk->dev = dev;
	if (VB_NEVER(qi >= blk->nq))
		return;
	forget_queue(&blk->q[qi]);
	drain(blk);
	/* Requests of the other queues may have completed while draining. */
	for (uint16_t i = 0; i < blk->nq; i++)
		notify_queue(&blk->q[i]);
}

/* ---- construction ----------------------------------------------------------------------- */

VB_EXPORT int vb_blk_init(void *storage, size_t storage_len, const struct vb_blk_config *cfg,
			  const struct vb_blk_backend_ops *ops, void *backend, struct vb_blk **out)
{
	struct blk_layout l;
	struct vb_blk *blk;
	uint8_t *p;
	int ret;

	if (!storage || ((uintptr_t)storage & 7u) || !ops || !out ||
	    ops->version < VB_BLK_BACKEND_OPS_V1 || !ops->submit)
		return -EINVAL;
	ret = layout(cfg, &l);
	if (ret)
		return ret;
	if (storage_len < l.total)
		return -ENOSPC;
	memset(storage, 0, (size_t)l.total);
	blk = storage;
	p = (uint8_t *)storage + ALIGN8(sizeof(*blk));
	blk->cfg = *cfg;
	blk->ops = ops;
	blk->be = backend;
	blk->capacity = cfg->capacity;
	blk->nq = l.nq;
	blk->qmax = l.qmax;
	blk->iov_max = l.iov_max;
	blk->seg_cap = l.seg_cap;
	blk->chain_iov = l.chain_iov;
	blk->discard_seg = cfg->max_discard_seg ? cfg->max_discard_seg : 1;
	blk->wz_seg = cfg->max_write_zeroes_seg ? cfg->max_write_zeroes_seg : 1;
	blk->discard_sectors = cfg->max_discard_sectors ? cfg->max_discard_sectors : UINT32_MAX;
	blk->wz_sectors = cfg->max_write_zeroes_sectors ? cfg->max_write_zeroes_sectors :
							  UINT32_MAX;
	blk->discard_align = cfg->discard_sector_alignment;
	if (!blk->discard_align)
		blk->discard_align = cfg->blk_size >= VB_VIRTIO_BLK_SECTOR_SIZE ?
				     cfg->blk_size / VB_VIRTIO_BLK_SECTOR_SIZE : 1;
	blk->writeback = (cfg->flags & VB_BLK_CFG_WRITETHROUGH) ? 0 : 1;

	blk->q = (struct blk_queue *)(void *)p;
	p += l.queues;
	for (uint16_t i = 0; i < l.nq; i++) {
		struct blk_queue *q = &blk->q[i];

		q->blk = blk;
		q->idx = i;
		q->free = (uint16_t *)(void *)p + (size_t)i * l.qmax;
	}
	p += l.free;
	for (uint16_t i = 0; i < l.nq; i++)
		blk->q[i].slot = (struct blk_req **)(void *)p + (size_t)i * l.qmax;
	p += l.slotp;
	for (uint16_t i = 0; i < l.nq; i++) {
		blk->q[i].rd = (struct vb_iov *)(void *)p + (size_t)i * 2u * l.chain_iov;
		blk->q[i].wr = blk->q[i].rd + l.chain_iov;
	}
	p += l.scratch;
	for (uint16_t i = 0; i < l.nq; i++) {
		struct blk_queue *q = &blk->q[i];

		for (uint16_t s = 0; s < l.qmax; s++) {
			struct blk_req *req = (struct blk_req *)(void *)p;

			req->q = q;
			req->io.blk = blk;
			req->io.qidx = i;
			req->slot = s;
			req->iov = (struct vb_iov *)(void *)(p + ALIGN8(sizeof(*req)));
			req->seg = (struct blk_seg *)(void *)(req->iov + l.iov_max);
			q->slot[s] = req;
			/* Lowest slot numbers first out of the stack. */
			q->free[s] = (uint16_t)(l.qmax - 1u - s);
			p += l.req_size;
		}
		q->n_free = l.qmax;
	}

	blk->dops = (struct vb_device_ops){
		.version = VB_DEVICE_OPS_V1,
		.device_id = VB_VIRTIO_ID_BLOCK,
		.num_queues = l.nq,
		.queue_num_max = l.qmax,
		.config_len = VB_VIRTIO_BLK_CONFIG_LEN,
		.config_read = blk_config_read,
		.config_write = blk_config_write,
		.activate = blk_activate,
		.kick = blk_kick,
		.reset = blk_reset,
		.queue_reset = blk_queue_reset,
	};
	blk->dops.features = offered_features(blk);
	*out = blk;
	return 0;
}

VB_EXPORT int vb_blk_create(const struct vb_blk_config *cfg, const struct vb_blk_backend_ops *ops,
			    void *backend, struct vb_blk **out)
{
	size_t len = vb_blk_size(cfg);
	void *mem;
	int ret;

	if (!len || !out)
		return -EINVAL;
	mem = malloc(len);
	if (!mem)
		return -ENOMEM;
	ret = vb_blk_init(mem, len, cfg, ops, backend, out);
	if (ret) {
		free(mem);
		return ret;
	}
	(*out)->heap = true;
	return 0;
}

VB_EXPORT void vb_blk_destroy(struct vb_blk *blk)
{
	if (blk && blk->heap)
		free(blk);
}

VB_EXPORT const struct vb_device_ops *vb_blk_device_ops(const struct vb_blk *blk)
{
	return &blk->dops;
}

/* @satisfy{VB-REQ-BLK-004} */
VB_EXPORT int vb_blk_set_capacity(struct vb_blk *blk, uint64_t sectors)
{
	blk->capacity = sectors;
	return blk->dev ? vb_dev_config_changed(blk->dev) : 0;
}

VB_EXPORT unsigned int vb_blk_inflight(const struct vb_blk *blk)
{
	return blk->inflight;
}

VB_EXPORT void vb_blk_get_stats(const struct vb_blk *blk, struct vb_blk_stats *st)
{
	*st = blk->st;
}
