/* SPDX-License-Identifier: MIT */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "virtio-backend/endian.h"
#include "vbt-packed.h"

#define WRAP_BIT	((uint16_t)(1u << VB_VRING_PACKED_EVENT_F_WRAP_CTR))

static void die(const char *why)
{
	fprintf(stderr, "vbt-packed: %s\n", why);
	abort();
}

/* The driver publishes a descriptor's flags with a release store (the write barrier of
 * virtio 1.2, 2.8.21.2 "Updating flags"). */
static void store_flags(struct vb_vring_packed_desc *d, uint16_t flags)
{
	__atomic_store_n(&d->flags.raw, vb_cpu_to_le16(flags).raw, __ATOMIC_RELEASE);
}

void vbt_packed_init(struct vbt_packed *r, struct vbt_guest *g, uint16_t num)
{
	if (num == 0 || num > VB_VQ_MAX_SIZE)
		die("bad queue size");
	memset(r, 0, sizeof(*r));
	r->g = g;
	r->num = num;
	r->desc_gpa = vbt_guest_alloc(g, 16u * (size_t)num, 16);
	r->driver_gpa = vbt_guest_alloc(g, 4, 4);
	r->device_gpa = vbt_guest_alloc(g, 4, 4);
	r->desc = vbt_guest_ptr(g, r->desc_gpa);
	r->driver = vbt_guest_ptr(g, r->driver_gpa);
	r->device = vbt_guest_ptr(g, r->device_gpa);
	r->avail_wrap = true;
	r->used_wrap = true;
	r->free_slots = num;
}

uint16_t vbt_packed_avail_bits(bool wrap)
{
	return wrap ? VBT_PACKED_F_AVAIL : VBT_PACKED_F_USED;
}

static int alloc_id(struct vbt_packed *r, uint16_t slots)
{
	for (unsigned int i = 0; i < r->num; i++) {
		uint16_t id = (uint16_t)((r->next_id + i) % r->num);

		if (r->id_slots[id] == 0) {
			r->id_slots[id] = slots;
			r->next_id = (uint16_t)((id + 1u) % r->num);
			return id;
		}
	}
	return -1;
}

void vbt_packed_advance(struct vbt_packed *r, uint16_t n)
{
	for (uint16_t i = 0; i < n; i++) {
		if (++r->next_avail == r->num) {
			r->next_avail = 0;
			r->avail_wrap = !r->avail_wrap;
		}
	}
}

static void put_desc(struct vb_vring_packed_desc *d, uint64_t addr, uint32_t len, uint16_t id)
{
	d->addr = vb_cpu_to_le64(addr);
	d->len = vb_cpu_to_le32(len);
	d->id = vb_cpu_to_le16(id);
}

uint64_t vbt_packed_indirect_table(struct vbt_packed *r, const struct vbt_buf *bufs,
				   unsigned int n)
{
	uint64_t gpa = vbt_guest_alloc(r->g, 16u * (size_t)n, 16);
	struct vb_vring_packed_desc *t = vbt_guest_ptr(r->g, gpa);

	/* virtio 1.2, 2.8.7: only WRITE is valid in a table; ids are reserved (0). */
	for (unsigned int i = 0; i < n; i++) {
		put_desc(&t[i], bufs[i].gpa, bufs[i].len, 0);
		t[i].flags = vb_cpu_to_le16(bufs[i].write ? VB_VRING_DESC_F_WRITE : 0u);
	}
	return gpa;
}

int vbt_packed_prepare(struct vbt_packed *r, const struct vbt_buf *bufs, unsigned int n,
		       bool indirect, struct vbt_packed_pending *p)
{
	uint16_t slots = indirect ? 1 : (uint16_t)n;
	int id;

	if (n == 0 || slots > r->free_slots)
		return -1;
	id = alloc_id(r, slots);
	if (id < 0)
		return -1;
	r->free_slots = (uint16_t)(r->free_slots - slots);
	p->slot = r->next_avail;
	p->id = (uint16_t)id;
	if (indirect) {
		uint64_t t = vbt_packed_indirect_table(r, bufs, n);

		put_desc(&r->desc[r->next_avail], t, 16u * n, (uint16_t)id);
		p->flags = (uint16_t)(VB_VRING_DESC_F_INDIRECT | vbt_packed_avail_bits(r->avail_wrap));
		vbt_packed_advance(r, 1);
		return 0;
	}
	for (unsigned int i = 0; i < n; i++) {
		struct vb_vring_packed_desc *d = &r->desc[r->next_avail];
		uint16_t f = vbt_packed_avail_bits(r->avail_wrap);

		if (bufs[i].write)
			f |= VB_VRING_DESC_F_WRITE;
		if (i + 1 < n)
			f |= VB_VRING_DESC_F_NEXT;
		/* virtio 1.2, 2.8.6: the id goes in the last descriptor (Linux writes it in
		 * every one; the device must take the last). */
		put_desc(d, bufs[i].gpa, bufs[i].len, (uint16_t)(i + 1 < n ? 0xdeadu : (unsigned int)id));
		if (i == 0)
			p->flags = f;
		else
			store_flags(d, f);
		vbt_packed_advance(r, 1);
	}
	return 0;
}

void vbt_packed_publish(struct vbt_packed *r, const struct vbt_packed_pending *p)
{
	store_flags(&r->desc[p->slot], p->flags);
}

int vbt_packed_add(struct vbt_packed *r, const struct vbt_buf *bufs, unsigned int n,
		   bool indirect)
{
	struct vbt_packed_pending p;

	if (vbt_packed_prepare(r, bufs, n, indirect, &p) < 0)
		return -1;
	vbt_packed_publish(r, &p);
	return p.id;
}

void vbt_packed_put_desc(struct vbt_packed *r, uint16_t i, uint64_t addr, uint32_t len,
			 uint16_t id, uint16_t flags)
{
	if (i >= r->num)
		die("descriptor slot out of range");
	put_desc(&r->desc[i], addr, len, id);
	store_flags(&r->desc[i], flags);
}

void vbt_packed_put_table_desc(struct vbt_packed *r, uint64_t table_gpa, uint16_t i,
			       uint64_t addr, uint32_t len, uint16_t id, uint16_t flags)
{
	struct vb_vring_packed_desc *t = vbt_guest_ptr(r->g, table_gpa + 16u * (uint64_t)i);

	put_desc(t, addr, len, id);
	t->flags = vb_cpu_to_le16(flags);
}

int vbt_packed_get_used(struct vbt_packed *r, uint16_t *id, uint32_t *len, uint16_t *flags)
{
	struct vb_vring_packed_desc *d = &r->desc[r->next_used];
	/* Pairs with the device's release store of the (first) used descriptor's flags. */
	uint16_t f = vb_le16_to_cpu((vb_le16){ __atomic_load_n(&d->flags.raw, __ATOMIC_ACQUIRE) });
	bool avail = (f & VBT_PACKED_F_AVAIL) != 0, used = (f & VBT_PACKED_F_USED) != 0;
	uint16_t i, slots;

	/* virtio 1.2, 2.8.1: used iff AVAIL == USED == the driver's used wrap counter. */
	if (avail != used || used != r->used_wrap)
		return 0;
	i = vb_le16_to_cpu(d->id);
	if (i >= r->num || r->id_slots[i] == 0)
		return -1;
	if (id)
		*id = i;
	if (len)
		*len = vb_le32_to_cpu(d->len);
	if (flags)
		*flags = f;
	slots = r->id_slots[i];
	r->id_slots[i] = 0;
	r->free_slots = (uint16_t)(r->free_slots + slots);
	r->next_used = (uint16_t)(r->next_used + slots);
	if (r->next_used >= r->num) {
		r->next_used = (uint16_t)(r->next_used - r->num);
		r->used_wrap = !r->used_wrap;
	}
	return 1;
}

void vbt_packed_set_driver_event(struct vbt_packed *r, uint16_t flags, uint16_t off, bool wrap)
{
	r->driver->off_wrap = vb_cpu_to_le16((uint16_t)(off | (wrap ? WRAP_BIT : 0u)));
	/* off_wrap before flags, then a full barrier before the driver looks at the ring. */
	__atomic_store_n(&r->driver->flags.raw, vb_cpu_to_le16(flags).raw, __ATOMIC_RELEASE);
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
}

uint16_t vbt_packed_device_event_flags(const struct vbt_packed *r)
{
	return vb_le16_to_cpu((vb_le16){ __atomic_load_n(&r->device->flags.raw, __ATOMIC_ACQUIRE) });
}

uint16_t vbt_packed_device_event_off_wrap(const struct vbt_packed *r)
{
	return vb_le16_to_cpu(r->device->off_wrap);
}

bool vbt_packed_driver_would_kick(const struct vbt_packed *r, uint16_t old, bool old_wrap)
{
	uint16_t flags, off_wrap, event, new_idx = r->next_avail;

	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	flags = vbt_packed_device_event_flags(r);
	if (flags != VB_VRING_PACKED_EVENT_FLAG_DESC)
		return flags != VB_VRING_PACKED_EVENT_FLAG_DISABLE;
	/* Linux's virtqueue_kick_prepare_packed(): positions in 16-bit arithmetic, an event or
	 * old position of the other lap moved back by num. */
	if (old_wrap != r->avail_wrap)
		old = (uint16_t)(old - r->num);
	off_wrap = vbt_packed_device_event_off_wrap(r);
	event = (uint16_t)(off_wrap & (WRAP_BIT - 1u));
	if ((bool)(off_wrap >> 15) != r->avail_wrap)
		event = (uint16_t)(event - r->num);
	return (uint16_t)(new_idx - event - 1u) < (uint16_t)(new_idx - old);
}
