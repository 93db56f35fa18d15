/* SPDX-License-Identifier: MIT */
/*
 * Split virtqueue, device side (virtio 1.2, 2.7 "Split Virtqueues"). Freestanding.
 *
 * Every descriptor is copied out of guest memory once and checked before use; every walk is
 * bounded by the queue or indirect table size; every violation breaks the queue through
 * vbi_vq_fail() (sticky, NEEDS_RESET). Indices are free-running 16-bit counters masked by
 * num - 1 (split queue sizes are powers of two, checked at enable).
 */
#include <string.h>

#include "vq-internal.h"
#include "mem-internal.h"
#include "virtio-backend/error.h"
#include "internal/atomic.h"

#if VB_CONFIG_NONCOHERENT
#define INVALIDATE(p, len)	vb_port_dcache_invalidate((p), (len))
#define CLEAN(p, len)		vb_port_dcache_clean((p), (len))
#else
#define INVALIDATE(p, len)	((void)0)
#define CLEAN(p, len)		((void)0)
#endif

/* The driver area's ring and used_event, and the device area's ring and avail_event, follow
 * the fixed headers (virtio 1.2, 2.7.6 and 2.7.8). */
static inline const vb_le16 *avail_ring(const struct vb_vq *vq)
{
	return (const vb_le16 *)(vq->ring.split.avail + 1);
}

static inline const vb_le16 *used_event(const struct vb_vq *vq)
{
	return &avail_ring(vq)[vq->num];
}

static inline struct vb_vring_used_elem *used_ring(const struct vb_vq *vq)
{
	return (struct vb_vring_used_elem *)(vq->ring.split.used + 1);
}

static inline vb_le16 *avail_event(const struct vb_vq *vq)
{
	return (vb_le16 *)&used_ring(vq)[vq->num];
}

int vbi_split_map(struct vb_vq *vq)
{
	const uint64_t num = vq->num;
	void *area[3];
	int ret;

	if (num == 0 || (num & (num - 1)))
		return -EPROTO;
	/* virtio 1.2, 2.7 "Split Virtqueues", table "Virtqueue Part Alignment": descriptor
	 * table 16, driver area 2, device area 4 bytes. Sizes include used_event/avail_event
	 * whether or not EVENT_IDX is negotiated, as the driver allocates them (virtio 1.2,
	 * 2.7 "Queue Size" table). */
	ret = vbi_vq_map_rings(vq, 6u + 2u * num, 6u + 8u * num, 2u, area);
	if (ret < 0)
		return ret;
	vq->ring.split.desc = area[0];
	vq->ring.split.avail = area[1];
	vq->ring.split.used = area[2];
	/* The used ring position comes from vb_vq_set_pos() (or 0 after reset); vhost-user
	 * frontends may instead expect it read back from the ring, which they do themselves. */
	return 0;
}

/* Per-chain walk state, small enough to stay in registers; the chain is written once. */
struct walk {
	struct vb_iov	*rd, *wr;	/* next free iovec of each part */
	unsigned int	rd_left, wr_left;	/* free iovecs left in each part */
	uint64_t	read_len, write_len;	/* 64-bit: the 4 GiB check comes at the end */
	bool		seen_write;
};

/*
 * Add one descriptor's buffer to the walk. Returns 0 or a negative errno (not yet recorded:
 * the caller breaks the queue).
 */
static VB_FAST_INLINE int walk_buf(const struct vb_mem *mem, struct walk *w, uint64_t addr,
				     uint32_t len, uint16_t flags)
{
	int n;

	if (flags & VB_VRING_DESC_F_WRITE) {
		w->seen_write = true;
		if (VB_UNLIKELY(len == 0))
			return 0;
		n = vbi_mem_map(mem, addr, len, VB_MEM_F_WRITE, w->wr, w->wr_left);
		if (VB_UNLIKELY(n < 0))
			return n;
		w->wr += n;
		w->wr_left -= (unsigned int)n;
		w->write_len += len;
		return 0;
	}
	/* virtio 1.2, 2.7.4.2 "Driver Requirements: Message Framing" and 2.7.5 "The Virtqueue
	 * Descriptor Table": device-readable descriptors come before device-writable ones. */
	if (VB_UNLIKELY(w->seen_write))
		return -EPROTO;
	if (VB_UNLIKELY(len == 0))
		return 0;
	n = vbi_mem_map(mem, addr, len, VB_MEM_F_READ, w->rd, w->rd_left);
	if (VB_UNLIKELY(n < 0))
		return n;
	w->rd += n;
	w->rd_left -= (unsigned int)n;
	w->read_len += len;
	return 0;
}

/* Reason for a failed walk_buf(), for the log. */
static VB_COLD int buf_fail(struct vb_vq *vq, int err)
{
	switch (err) {
	case -EPROTO:
		return vbi_vq_fail(vq, err, "readable descriptor after a writable one");
	case -E2BIG:
		return vbi_vq_fail(vq, err, "descriptor chain needs more iovecs than the device gave");
	case -EOVERFLOW:
		return vbi_vq_fail(vq, err, "descriptor address + length wraps");
	default:
		return vbi_vq_fail(vq, err, "buffer outside guest memory or of the wrong direction");
	}
}

/*
 * Walk the descriptors of an indirect table at addr (len bytes) into w (virtio 1.2, 2.7.5.3
 * "Indirect Descriptors"). Bounded by the table's entries: a loop ends in -ELOOP.
 */
static VB_FAST_INLINE int walk_indirect(struct vb_vq *vq, struct walk *w, uint64_t addr,
				     uint32_t len, uint16_t flags)
{
	const struct vb_vring_desc *table;
	uint32_t table_num, budget, i = 0;
	int err = -EFAULT;

	/* virtio 1.2, 2.7.5.3.1 "Driver Requirements: Indirect Descriptors". */
	if (VB_UNLIKELY(!(vq->flags & VBI_VQ_INDIRECT)))
		return vbi_vq_fail(vq, -EPROTO, "indirect descriptor without VIRTIO_F_INDIRECT_DESC");
	if (VB_UNLIKELY(flags & VB_VRING_DESC_F_NEXT))
		return vbi_vq_fail(vq, -EPROTO, "indirect descriptor with NEXT set");
	/* One test for: zero length (len - 1 wraps), a partial entry, more than 32768 entries. */
	if (VB_UNLIKELY((len & 15u) | (len - 1u >= 16u * VB_VQ_MAX_SIZE)))
		return vbi_vq_fail(vq, -EPROTO, "indirect table length invalid");
	table = vbi_mem_map_contig(vq->mem, addr, len, VB_MEM_F_READ, &err);
	if (VB_UNLIKELY(!table))
		return vbi_vq_fail(vq, err, "indirect table outside guest memory");
	if (VB_UNLIKELY((uintptr_t)table & 7u))
		return vbi_vq_fail(vq, -EFAULT, "indirect table misaligned in host memory");
	table_num = budget = len / 16u;
	for (;;) {
		struct vb_vring_desc d;
		uint16_t f;

		if (VB_UNLIKELY(budget-- == 0))
			return vbi_vq_fail(vq, -ELOOP, "indirect table chain loops");
		INVALIDATE(&table[i], sizeof(d));
		vbi_copy_desc_once(&d, &table[i]);
		f = vb_le16_to_cpu(d.flags);
		if (VB_UNLIKELY(f & VB_VRING_DESC_F_INDIRECT))
			return vbi_vq_fail(vq, -EPROTO, "nested indirect descriptor table");
		err = walk_buf(vq->mem, w, vb_le64_to_cpu(d.addr), vb_le32_to_cpu(d.len), f);
		if (VB_UNLIKELY(err))
			return buf_fail(vq, err);
		if (!(f & VB_VRING_DESC_F_NEXT))
			return 0;
		i = vb_le16_to_cpu(d.next);
		if (VB_UNLIKELY(i >= table_num))
			return vbi_vq_fail(vq, -EPROTO, "descriptor next index out of range");
	}
}

/*
 * Walk the chain at head into c. Bounded: at most num descriptors in the ring (virtio 1.2,
 * 2.7.5.2 "Driver Requirements: The Virtqueue Descriptor Table": a chain is no longer than
 * the queue), so a loop ends in -ELOOP.
 */
static VB_FAST_INLINE int split_walk(struct vb_vq *vq, struct vb_chain *c, uint16_t head)
{
	const struct vb_vring_desc *table = vq->ring.split.desc;
	const uint32_t num = vq->num;
	uint32_t budget = num, i = head;
	struct walk w = {
		.rd = c->read, .wr = c->write,
		.rd_left = c->max_read, .wr_left = c->max_write,
	};
	int err;

	for (;;) {
		struct vb_vring_desc d;
		uint16_t flags;

		if (VB_UNLIKELY(budget-- == 0))
			return vbi_vq_fail(vq, -ELOOP, "descriptor chain loops or is longer than the queue");
		INVALIDATE(&table[i], sizeof(d));
		vbi_copy_desc_once(&d, &table[i]);	/* copy, check, then use */
		flags = vb_le16_to_cpu(d.flags);
		if (VB_UNLIKELY(flags & VB_VRING_DESC_F_INDIRECT)) {
			err = walk_indirect(vq, &w, vb_le64_to_cpu(d.addr), vb_le32_to_cpu(d.len),
					    flags);
			if (VB_UNLIKELY(err))
				return err;	/* already recorded */
			break;		/* an indirect descriptor ends the chain (no NEXT) */
		}
		err = walk_buf(vq->mem, &w, vb_le64_to_cpu(d.addr), vb_le32_to_cpu(d.len), flags);
		if (VB_UNLIKELY(err))
			return buf_fail(vq, err);
		if (VB_LIKELY(!(flags & VB_VRING_DESC_F_NEXT)))
			break;
		i = vb_le16_to_cpu(d.next);
		if (VB_UNLIKELY(i >= num))
			return vbi_vq_fail(vq, -EPROTO, "descriptor next index out of range");
	}
	/* Lengths are reported in 32 bits (used element len); refuse chains over 4 GiB. */
	if (VB_UNLIKELY((w.read_len | w.write_len) > UINT32_MAX))
		return vbi_vq_fail(vq, -E2BIG, "descriptor chain longer than 4 GiB");
	c->head = head;
	c->ring_slots = 1;
	c->n_read = (uint16_t)(w.rd - c->read);
	c->n_write = (uint16_t)(w.wr - c->write);
	c->read_len = (uint32_t)w.read_len;
	c->write_len = (uint32_t)w.write_len;
	return 1;
}

/*
 * Refresh the driver's index when the last one read is used up. Returns the number of new
 * entries (> 0), 0 if the ring is empty, or a negative errno (recorded).
 */
static VB_FAST_INLINE int split_refill(struct vb_vq *vq, uint16_t last)
{
	const vb_le16 *idx_p = &vq->ring.split.avail->idx;
	uint16_t idx;

	INVALIDATE(vq->ring.split.avail, 4);
	/* Pairs with the driver's write barrier before it stores avail->idx: ring entries
	 * below idx are visible once idx is. */
	idx = vbi_load_acquire_le16(idx_p);
	if (idx == last) {
		if (!(vq->flags & VBI_VQ_EVENT_IDX) || (vq->flags & VBI_VQ_KICKS_OFF))
			return 0;
		/* Going idle: ask for a kick at the next entry, then look again, so a buffer
		 * added meanwhile is not left without a kick. The fence pairs with the driver's
		 * full barrier between storing avail->idx and reading avail_event (virtio 1.2,
		 * 2.7.10 "Available Buffer Notification Suppression"). */
		vbi_store_relaxed_le16(avail_event(vq), idx);
		CLEAN(avail_event(vq), 2);
		vbi_fence_seq_cst();
		idx = vbi_load_acquire_le16(idx_p);
		if (idx == last)
			return 0;
	}
	/* virtio 1.2, 2.7.6 "The Virtqueue Available Ring": idx runs at most num entries
	 * ahead of what the device consumed. */
	if (VB_UNLIKELY((uint16_t)(idx - last) > vq->num))
		return vbi_vq_fail(vq, -EPROTO, "available index moved by more than the queue size");
	vq->shadow_avail = idx;
	return (uint16_t)(idx - last);
}

/* @satisfy{VB-REQ-VQ-001} @satisfy{VB-REQ-VQ-020} */
int vbi_split_pop_batch(struct vb_vq *vq, struct vb_chain *chains, unsigned int n)
{
	const vb_le16 *ring = avail_ring(vq);
	const uint16_t mask = (uint16_t)(vq->num - 1);
	uint16_t last = vq->last_avail;
	unsigned int got = 0;
	int ret = 0;

	while (got < n) {
		uint16_t head;

		if (last == vq->shadow_avail) {
			ret = split_refill(vq, last);
			if (ret <= 0)
				break;
		}
		INVALIDATE(&ring[last & mask], 2);
		/* One load the compiler cannot repeat: the driver may rewrite the slot. */
		head = vbi_load_relaxed_le16(&ring[last & mask]);
		if (VB_UNLIKELY(head >= vq->num)) {
			ret = vbi_vq_fail(vq, -EPROTO, "available ring head index out of range");
			break;
		}
		ret = split_walk(vq, &chains[got], head);
		if (VB_UNLIKELY(ret < 0))
			break;
		last++;
		got++;
	}
	vq->last_avail = last;
	return got ? (int)got : ret;
}

/* One given head, the ring position untouched (resubmission after a back-end restart). */
#if VB_CONFIG_INFLIGHT
int vbi_split_pop_head(struct vb_vq *vq, struct vb_chain *c, uint16_t head)
{
	if (head >= vq->num)
		return -EINVAL;
	return split_walk(vq, c, head);
}
#endif

/* @satisfy{VB-REQ-VQ-002} */
int vbi_split_push1(struct vb_vq *vq, uint16_t head, uint32_t written)
{
	struct vb_vring_used_elem *e;
	const uint16_t idx = vq->used_idx;

	/* A used element is only written for a chain the device popped. */
	if (VB_UNLIKELY(vq->last_avail == idx))
		return -EINVAL;
	e = &used_ring(vq)[idx & (uint16_t)(vq->num - 1)];
	e->id = vb_cpu_to_le32(head);
	e->len = vb_cpu_to_le32(written);
	CLEAN(e, sizeof(*e));
	/* Release pairs with the driver's read barrier after it loads used->idx. */
	vbi_store_release_le16(&vq->ring.split.used->idx, (uint16_t)(idx + 1));
	CLEAN(&vq->ring.split.used->idx, 2);
	vq->used_idx = (uint16_t)(idx + 1);
	return 0;
}

/* @satisfy{VB-REQ-VQ-002} @satisfy{VB-REQ-VQ-020} */
int vbi_split_push(struct vb_vq *vq, const struct vb_chain *chains, const uint32_t *written,
		   unsigned int n)
{
	struct vb_vring_used_elem *ring = used_ring(vq);
	const uint16_t mask = (uint16_t)(vq->num - 1);
	uint16_t idx = vq->used_idx;

	/* A used element is only written for a chain the device popped. */
	if (VB_UNLIKELY(n > (uint16_t)(vq->last_avail - idx)))
		return -EINVAL;
	for (unsigned int i = 0; i < n; i++) {
		struct vb_vring_used_elem *e = &ring[idx & mask];

		e->id = vb_cpu_to_le32(chains[i].head);
		e->len = vb_cpu_to_le32(written[i]);
		CLEAN(e, sizeof(*e));
		idx++;
	}
	/* One index store per batch. Release pairs with the driver's read barrier after it
	 * loads used->idx: the elements above are visible before the index that covers them. */
	vbi_store_release_le16(&vq->ring.split.used->idx, idx);
	CLEAN(&vq->ring.split.used->idx, 2);
	vq->used_idx = idx;
	return 0;
}

/* @satisfy{VB-REQ-VQ-010} @satisfy{VB-REQ-VQ-011} */
bool vbi_split_should_notify(struct vb_vq *vq)
{
	const uint16_t old = vq->signalled_used, now = vq->used_idx;
	const bool valid = (vq->flags & VBI_VQ_SIGNALLED_VALID) != 0;

	vq->signalled_used = now;
	vq->flags |= VBI_VQ_SIGNALLED_VALID;
	if (valid && old == now)
		return false;	/* nothing used since the last decision */
	/* Orders our used->idx store before the loads below; pairs with the driver's full
	 * barrier between updating used_event / avail->flags and re-reading used->idx. */
	vbi_fence_seq_cst();
	INVALIDATE(vq->ring.split.avail, 4);
	if (!(vq->flags & VBI_VQ_EVENT_IDX))
		/* virtio 1.2, 2.7.7 "Used Buffer Notification Suppression". */
		return !(vbi_load_relaxed_le16(&vq->ring.split.avail->flags) &
			 VB_VRING_AVAIL_F_NO_INTERRUPT);
	if (!valid)
		return true;
	INVALIDATE(used_event(vq), 2);
	{
		const uint16_t event = vbi_load_relaxed_le16(used_event(vq));

		/* virtio 1.2, 2.7.7.2: notify if used_event lies in [old, now). */
		return (uint16_t)(now - event - 1) < (uint16_t)(now - old);
	}
}

void vbi_split_set_kicks(struct vb_vq *vq, bool enable)
{
	/* virtio 1.2, 2.7.10 "Available Buffer Notification Suppression". */
	if (vq->flags & VBI_VQ_EVENT_IDX) {
		if (enable)
			vbi_store_relaxed_le16(avail_event(vq), vq->shadow_avail);
		/* Disabling with EVENT_IDX: the stale avail_event already suppresses kicks. */
	} else {
		vbi_store_relaxed_le16(&vq->ring.split.used->flags,
				       (uint16_t)(enable ? 0 : VB_VRING_USED_F_NO_NOTIFY));
	}
	CLEAN(vq->ring.split.used, 4);
}

bool vbi_split_has_avail(struct vb_vq *vq)
{
	if (vq->last_avail != vq->shadow_avail)
		return true;
	/* Pairs with the driver's full barrier between storing avail->idx and reading
	 * used->flags / avail_event: either it sees kicks enabled or we see its entry. */
	vbi_fence_seq_cst();
	INVALIDATE(vq->ring.split.avail, 4);
	return vbi_load_acquire_le16(&vq->ring.split.avail->idx) != vq->shadow_avail;
}
