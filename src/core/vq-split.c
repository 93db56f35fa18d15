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
	void *desc, *avail, *used;
	int ret;

	/* virtio 1.2, 2.7 "Split Virtqueues", table "Virtqueue Part Alignment": descriptor
	 * table 16, driver area 2, device area 4 bytes. */
	if ((vq->desc_addr & 15u) || (vq->driver_addr & 1u) || (vq->device_addr & 3u))
		return -EPROTO;
	if (num == 0 || (num & (num - 1)))
		return -EPROTO;
	/* Sizes include used_event/avail_event whether or not EVENT_IDX is negotiated, as the
	 * driver allocates them (virtio 1.2, 2.7 "Queue Size" table). */
	ret = vb_mem_map_ring(vq->mem, vq->desc_addr, 16u * num, &desc);
	if (ret == 0)
		ret = vb_mem_map_ring(vq->mem, vq->driver_addr, 6u + 2u * num, &avail);
	if (ret == 0)
		ret = vb_mem_map_ring(vq->mem, vq->device_addr, 6u + 8u * num, &used);
	if (ret < 0)
		return ret;
	/* The ordered helpers need natural alignment in the host mapping too. */
	if (((uintptr_t)desc & 7u) || ((uintptr_t)avail & 1u) || ((uintptr_t)used & 3u))
		return -EFAULT;
	vq->ring.split.desc = desc;
	vq->ring.split.avail = avail;
	vq->ring.split.used = used;
	/* The used ring position comes from vb_vq_set_pos() (or 0 after reset); vhost-user
	 * frontends may instead expect it read back from the ring, which they do themselves. */
	return 0;
}

/*
 * Walk the chain at head into c. Bounded: at most num descriptors in the ring and at most
 * the table's entries inside an indirect table, so a loop ends in -ELOOP.
 */
static int split_walk(struct vb_vq *vq, struct vb_chain *c, uint16_t head)
{
	const struct vb_vring_desc *table = vq->ring.split.desc;
	const struct vb_mem *mem = vq->mem;
	uint32_t table_num = vq->num;
	uint32_t budget = vq->num;
	uint64_t read_len = 0, write_len = 0;
	unsigned int n_read = 0, n_write = 0;
	bool in_table = false, seen_write = false;
	uint32_t i = head;

	for (;;) {
		struct vb_vring_desc d;
		uint16_t flags;
		uint32_t len;
		uint64_t addr;
		int n;

		/* virtio 1.2, 2.7.5.2 "Driver Requirements: The Virtqueue Descriptor Table": a
		 * chain is no longer than the queue (or the indirect table): a loop ends here. */
		if (VB_UNLIKELY(budget-- == 0))
			return vbi_vq_fail(vq, -ELOOP, "descriptor chain loops or is longer than its table");
		INVALIDATE(&table[i], sizeof(d));
		vbi_copy_desc_once(&d, &table[i]);
		flags = vb_le16_to_cpu(d.flags);
		len = vb_le32_to_cpu(d.len);
		addr = vb_le64_to_cpu(d.addr);

		if (VB_UNLIKELY(flags & VB_VRING_DESC_F_INDIRECT)) {
			void *t;
			int ret;

			/* virtio 1.2, 2.7.5.3.1 "Driver Requirements: Indirect Descriptors". */
			if (!(vq->flags & VBI_VQ_INDIRECT))
				return vbi_vq_fail(vq, -EPROTO, "indirect descriptor without VIRTIO_F_INDIRECT_DESC");
			if (in_table)
				return vbi_vq_fail(vq, -EPROTO, "nested indirect descriptor table");
			if (flags & VB_VRING_DESC_F_NEXT)
				return vbi_vq_fail(vq, -EPROTO, "indirect descriptor with NEXT set");
			if (len == 0 || (len & 15u) || len / 16u > VB_VQ_MAX_SIZE)
				return vbi_vq_fail(vq, -EPROTO, "indirect table length invalid");
			ret = vb_mem_map_contig(mem, addr, len, VB_DIR_DEV_READ, &t);
			if (ret < 0)
				return vbi_vq_fail(vq, ret, "indirect table outside guest memory");
			if ((uintptr_t)t & 7u)
				return vbi_vq_fail(vq, -EFAULT, "indirect table misaligned in host memory");
			table = t;
			table_num = len / 16u;
			budget = table_num;
			in_table = true;
			i = 0;
			continue;
		}

		if (flags & VB_VRING_DESC_F_WRITE) {
			seen_write = true;
			if (len) {
				n = vbi_mem_map(mem, addr, len, VB_MEM_F_WRITE, c->write + n_write,
						c->max_write - n_write);
				if (VB_UNLIKELY(n < 0))
					return vbi_vq_fail(vq, n, "writable buffer not in writable guest memory");
				n_write += (unsigned int)n;
				write_len += len;
			}
		} else {
			/* virtio 1.2, 2.7.4.2 "Driver Requirements: Message Framing" / 2.7.5:
			 * device-readable descriptors come before device-writable ones. */
			if (VB_UNLIKELY(seen_write))
				return vbi_vq_fail(vq, -EPROTO, "readable descriptor after a writable one");
			if (len) {
				n = vbi_mem_map(mem, addr, len, VB_MEM_F_READ, c->read + n_read,
						c->max_read - n_read);
				if (VB_UNLIKELY(n < 0))
					return vbi_vq_fail(vq, n, "readable buffer not in guest memory");
				n_read += (unsigned int)n;
				read_len += len;
			}
		}
		if (!(flags & VB_VRING_DESC_F_NEXT))
			break;
		i = vb_le16_to_cpu(d.next);
		if (VB_UNLIKELY(i >= table_num))
			return vbi_vq_fail(vq, -EPROTO, "descriptor next index out of range");
	}
	/* Lengths are reported in 32 bits (used element len); refuse chains over 4 GiB. */
	if (VB_UNLIKELY(read_len > UINT32_MAX || write_len > UINT32_MAX))
		return vbi_vq_fail(vq, -E2BIG, "descriptor chain longer than 4 GiB");
	c->head = head;
	c->ring_slots = 1;
	c->n_read = (uint16_t)n_read;
	c->n_write = (uint16_t)n_write;
	c->read_len = (uint32_t)read_len;
	c->write_len = (uint32_t)write_len;
	return 1;
}

/* @satisfy{VB-REQ-VQ-001} */
int vbi_split_pop(struct vb_vq *vq, struct vb_chain *c)
{
	const uint16_t last = vq->last_avail;
	uint16_t head;
	int ret;

	if (last == vq->shadow_avail) {
		const vb_le16 *idx_p = &vq->ring.split.avail->idx;
		uint16_t idx;

		INVALIDATE(vq->ring.split.avail, 4);
		/* Pairs with the driver's write barrier before it stores avail->idx: ring
		 * entries below idx are visible once idx is. */
		idx = vbi_load_acquire_le16(idx_p);
		if (idx == last) {
			if (!(vq->flags & VBI_VQ_EVENT_IDX) || (vq->flags & VBI_VQ_KICKS_OFF))
				return 0;
			/* Going idle: ask for a kick at the next entry, then look again, so a
			 * buffer added meanwhile is not left without a kick. The fence pairs with
			 * the driver's full barrier between storing avail->idx and reading
			 * avail_event (virtio 1.2, 2.7.10 "Available Buffer Notification
			 * Suppression"). */
			vbi_store_relaxed_le16(avail_event(vq), idx);
			CLEAN(avail_event(vq), 2);
			vbi_fence_seq_cst();
			idx = vbi_load_acquire_le16(idx_p);
			if (idx == last)
				return 0;
		}
		/* virtio 1.2, 2.7.6 "The Virtqueue Available Ring": idx runs at most num
		 * entries ahead of what the device consumed. */
		if (VB_UNLIKELY((uint16_t)(idx - last) > vq->num))
			return vbi_vq_fail(vq, -EPROTO, "available index moved by more than the queue size");
		vq->shadow_avail = idx;
	}
	INVALIDATE(&avail_ring(vq)[last & (vq->num - 1)], 2);
	head = vb_le16_to_cpu(avail_ring(vq)[last & (vq->num - 1)]);
	if (VB_UNLIKELY(head >= vq->num))
		return vbi_vq_fail(vq, -EPROTO, "available ring head index out of range");
	ret = split_walk(vq, c, head);
	if (VB_LIKELY(ret > 0))
		vq->last_avail = (uint16_t)(last + 1);
	return ret;
}

/* @satisfy{VB-REQ-VQ-002} @satisfy{VB-REQ-VQ-020} */
int vbi_split_push(struct vb_vq *vq, const struct vb_chain *chains, const uint32_t *written,
		   unsigned int n)
{
	struct vb_vring_used_elem *ring = used_ring(vq);
	const uint16_t mask = (uint16_t)(vq->num - 1);
	uint16_t idx = vq->used_idx;

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
