/* SPDX-License-Identifier: MIT */
#include <string.h>

#include "vbt-split.h"

void vbt_split_init(struct vbt_split *r, struct vbt_guest *g, uint16_t num)
{
	memset(r, 0, sizeof(*r));
	r->g = g;
	r->num = num;
	r->desc_gpa = vbt_guest_alloc(g, 16u * num, 16);
	r->avail_gpa = vbt_guest_alloc(g, 6u + 2u * num, 2);
	r->used_gpa = vbt_guest_alloc(g, 6u + 8u * num, 4);
	r->desc = vbt_guest_ptr(g, r->desc_gpa);
	r->avail = vbt_guest_ptr(g, r->avail_gpa);
	r->avail_ring = (vb_le16 *)(r->avail + 1);
	r->used = vbt_guest_ptr(g, r->used_gpa);
	r->used_ring = (struct vb_vring_used_elem *)(r->used + 1);
}

void vbt_split_init_at(struct vbt_split *r, struct vbt_guest *g, uint16_t num,
		       uint64_t desc_gpa, uint64_t avail_gpa, uint64_t used_gpa)
{
	memset(r, 0, sizeof(*r));
	r->g = g;
	r->num = num;
	r->desc_gpa = desc_gpa;
	r->avail_gpa = avail_gpa;
	r->used_gpa = used_gpa;
	r->desc = vbt_guest_ptr(g, desc_gpa);
	r->avail = vbt_guest_ptr(g, avail_gpa);
	r->avail_ring = (vb_le16 *)(r->avail + 1);
	r->used = vbt_guest_ptr(g, used_gpa);
	r->used_ring = (struct vb_vring_used_elem *)(r->used + 1);
}

static void put(struct vb_vring_desc *d, uint64_t addr, uint32_t len, uint16_t flags,
		uint16_t next)
{
	d->addr = vb_cpu_to_le64(addr);
	d->len = vb_cpu_to_le32(len);
	d->flags = vb_cpu_to_le16(flags);
	d->next = vb_cpu_to_le16(next);
}

void vbt_split_put_desc(struct vbt_split *r, uint16_t i, uint64_t addr, uint32_t len,
			uint16_t flags, uint16_t next)
{
	put(&r->desc[i], addr, len, flags, next);
}

void vbt_split_put_table_desc(struct vbt_split *r, uint64_t table_gpa, uint16_t i,
			      uint64_t addr, uint32_t len, uint16_t flags, uint16_t next)
{
	struct vb_vring_desc *t = vbt_guest_ptr(r->g, table_gpa);

	put(&t[i], addr, len, flags, next);
}

uint64_t vbt_split_indirect_table(struct vbt_split *r, const struct vbt_buf *bufs,
				  unsigned int n)
{
	uint64_t gpa = vbt_guest_alloc(r->g, 16u * n, 16);

	for (unsigned int i = 0; i < n; i++)
		vbt_split_put_table_desc(r, gpa, (uint16_t)i, bufs[i].gpa, bufs[i].len,
					 (uint16_t)((bufs[i].write ? VB_VRING_DESC_F_WRITE : 0) |
						    (i + 1 < n ? VB_VRING_DESC_F_NEXT : 0)),
					 (uint16_t)(i + 1 < n ? i + 1 : 0));
	return gpa;
}

uint16_t vbt_split_write_chain(struct vbt_split *r, const struct vbt_buf *bufs, unsigned int n,
			       bool indirect)
{
	const uint16_t mask = (uint16_t)(r->num - 1);
	uint16_t head = r->next_desc & mask;

	if (indirect) {
		uint64_t t = vbt_split_indirect_table(r, bufs, n);

		put(&r->desc[head], t, 16u * n, VB_VRING_DESC_F_INDIRECT, 0);
		r->next_desc++;
		return head;
	}
	for (unsigned int i = 0; i < n; i++) {
		uint16_t cur = r->next_desc & mask;
		uint16_t nxt = (uint16_t)(r->next_desc + 1) & mask;

		put(&r->desc[cur], bufs[i].gpa, bufs[i].len,
		    (uint16_t)((bufs[i].write ? VB_VRING_DESC_F_WRITE : 0) |
			       (i + 1 < n ? VB_VRING_DESC_F_NEXT : 0)),
		    i + 1 < n ? nxt : 0);
		r->next_desc++;
	}
	return head;
}

void vbt_split_publish(struct vbt_split *r, uint16_t head)
{
	r->avail_ring[r->avail_idx & (r->num - 1)] = vb_cpu_to_le16(head);
	r->avail_idx++;
	/* Release: the ring entry (and descriptors) are visible before the index. */
	__atomic_store_n(&r->avail->idx.raw, vb_cpu_to_le16(r->avail_idx).raw, __ATOMIC_RELEASE);
}

uint16_t vbt_split_add(struct vbt_split *r, const struct vbt_buf *bufs, unsigned int n,
		       bool indirect)
{
	uint16_t head = vbt_split_write_chain(r, bufs, n, indirect);

	vbt_split_publish(r, head);
	return head;
}

void vbt_split_set_avail_idx(struct vbt_split *r, uint16_t idx)
{
	r->avail_idx = idx;
	__atomic_store_n(&r->avail->idx.raw, vb_cpu_to_le16(idx).raw, __ATOMIC_RELEASE);
}

int vbt_split_get_used(struct vbt_split *r, uint32_t *id, uint32_t *len)
{
	vb_le16 idx = { __atomic_load_n(&r->used->idx.raw, __ATOMIC_ACQUIRE) };
	const struct vb_vring_used_elem *e;

	if (vb_le16_to_cpu(idx) == r->last_used)
		return 0;
	e = &r->used_ring[r->last_used & (r->num - 1)];
	*id = vb_le32_to_cpu(e->id);
	*len = vb_le32_to_cpu(e->len);
	r->last_used++;
	return 1;
}

void vbt_split_set_no_interrupt(struct vbt_split *r, bool on)
{
	r->avail->flags = vb_cpu_to_le16(on ? VB_VRING_AVAIL_F_NO_INTERRUPT : 0);
}

void vbt_split_set_used_event(struct vbt_split *r, uint16_t v)
{
	r->avail_ring[r->num] = vb_cpu_to_le16(v);
}

uint16_t vbt_split_avail_event(const struct vbt_split *r)
{
	return vb_le16_to_cpu(*(const vb_le16 *)&r->used_ring[r->num]);
}

bool vbt_split_device_no_notify(const struct vbt_split *r)
{
	return vb_le16_to_cpu(r->used->flags) & VB_VRING_USED_F_NO_NOTIFY;
}

uint16_t vbt_split_used_idx(const struct vbt_split *r)
{
	return vb_le16_to_cpu(r->used->idx);
}

bool vbt_split_driver_would_kick(const struct vbt_split *r, bool event_idx, uint16_t old_idx,
				 uint16_t new_idx)
{
	if (!event_idx)
		return !vbt_split_device_no_notify(r);
	/* virtio 1.2, 2.7.10: vring_need_event(avail_event, new, old). */
	return (uint16_t)(new_idx - vbt_split_avail_event(r) - 1) < (uint16_t)(new_idx - old_idx);
}
