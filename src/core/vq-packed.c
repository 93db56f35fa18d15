/* SPDX-License-Identifier: MIT */
/*
 * Packed virtqueue, device side (virtio 1.2, 2.8 "Packed Virtqueues"). Freestanding.
 *
 * One descriptor ring shared both ways: the driver marks descriptors available, the device
 * overwrites them with used descriptors, and a wrap counter on each side tells this lap's
 * descriptors from the last one's. Positions are slots in [0, num) plus a wrap bit; the
 * size need not be a power of two, so positions wrap by compare-and-subtract, never '%'.
 *
 * Every descriptor is copied out of guest memory once and checked before use; every walk is
 * bounded (num ring slots, or the indirect table's entries); every violation breaks the queue
 * through vbi_vq_fail() (sticky, NEEDS_RESET).
 */
#include "vq-internal.h"

#if VB_CONFIG_PACKED	/* the whole file: a core without packed rings has none of this */

#include "mem-internal.h"
#include "virtio-backend/error.h"
#include "internal/atomic.h"

#if VB_CONFIG_NONCOHERENT
#include "virtio-backend/port.h"
#define INVALIDATE(p, len)	vb_port_dcache_invalidate((p), (len))
#define CLEAN(p, len)		vb_port_dcache_clean((p), (len))
#else
#define INVALIDATE(p, len)	((void)0)
#define CLEAN(p, len)		((void)0)
#endif

#define F_AVAIL		((uint16_t)(1u << VB_VRING_PACKED_DESC_F_AVAIL))
#define F_USED		((uint16_t)(1u << VB_VRING_PACKED_DESC_F_USED))
#define F_AVAIL_USED	((uint16_t)(F_AVAIL | F_USED))
#define WRAP_BIT	((uint16_t)(1u << VB_VRING_PACKED_EVENT_F_WRAP_CTR))
#define POS_MASK	((uint16_t)(WRAP_BIT - 1u))

/*
 * Most entries an indirect table may hold. The spec bounds lists by the queue size unless the
 * device says otherwise (virtio 1.2, 2.8.5 "Scatter-Gather Support"), but drivers do use
 * indirect tables longer than small queues; this keeps the walk bounded all the same.
 */
#define INDIRECT_MAX	65536u

/*
 * The AVAIL/USED bits of a descriptor the driver made available in the lap with driver wrap
 * counter wrap: AVAIL equal to the counter, USED its inverse (virtio 1.2, 2.8.1 "Driver and
 * Device Ring Wrap Counters"). Anything else (a used descriptor, or last lap's) is not
 * available.
 */
static inline uint16_t avail_bits(unsigned int wrap)
{
	return wrap ? F_AVAIL : F_USED;
}

/* @satisfy{VB-REQ-PVQ-010} @satisfy{VB-REQ-PVQ-011} */
int vbi_packed_map(struct vb_vq *vq)
{
	const uint16_t num = vq->num;
	void *area[3];
	int ret;

	/* virtio 1.2, 2.8 "Packed Virtqueues": up to 2^15 entries, any size. */
	if (num == 0 || num > VB_VQ_MAX_SIZE)
		return -EPROTO;
	/* A restored position (vb_vq_set_pos) must name a slot of this ring. */
	if (vq->last_avail >= num || vq->used_idx >= num)
		return -EPROTO;
	/* virtio 1.2, 2.8.10.1 "Structure Size and Alignment" and 2.8.11 "Driver Requirements:
	 * Virtqueues": descriptor ring 16, both event suppression structures 4 bytes. */
	ret = vbi_vq_map_rings(vq, 4u, 4u, 4u, area);
	if (ret < 0)
		return ret;
	vq->ring.packed.desc = area[0];
	vq->ring.packed.driver = area[1];
	vq->ring.packed.device = area[2];
	/* A live queue starts with kicks wanted; do not inherit a DISABLE a previous backend
	 * left behind (vhost-user reconnect), or the driver would never kick again. */
	if (!(vq->flags & VBI_VQ_KICKS_OFF)) {
		vbi_store_release_le16(&vq->ring.packed.device->flags,
				       VB_VRING_PACKED_EVENT_FLAG_ENABLE);
		CLEAN(vq->ring.packed.device, sizeof(*vq->ring.packed.device));
	}
	return 0;
}

/* Per-chain walk state: byte totals in 64 bits so that no sum of 32-bit lengths wraps. */
struct walk {
	uint64_t	read_len;
	uint64_t	write_len;
	unsigned int	n_read;
	unsigned int	n_write;
	bool		seen_write;
};

/* A buffer element did not map: say which way (logged once, the queue breaks).
 * @satisfy{VB-REQ-PVQ-018} @satisfy{VB-REQ-PVQ-019} @satisfy{VB-REQ-PVQ-022} */
static VB_COLD int map_fail(struct vb_vq *vq, int err, bool write)
{
	if (err == -E2BIG)
		return vbi_vq_fail(vq, err, "descriptor chain needs more iovecs than the caller gave");
	if (err == -EOVERFLOW)
		return vbi_vq_fail(vq, err, "buffer address + length wraps");
	return vbi_vq_fail(vq, err, write ? "writable buffer not in writable guest memory" :
					    "readable buffer not in guest memory");
}

/* Map one buffer element into the chain's readable or writable list. */
static VB_FAST_INLINE int add_buf(struct vb_vq *vq, struct vb_chain *c, struct walk *w,
				    uint64_t addr, uint32_t len, uint16_t flags)
{
	int n;

	if (flags & VB_VRING_DESC_F_WRITE) {
		w->seen_write = true;
		if (VB_UNLIKELY(len == 0))
			return 0;	/* an empty element maps to nothing */
		n = vbi_mem_map(vq->mem, addr, len, VB_MEM_F_WRITE, c->write + w->n_write,
				c->max_write - w->n_write);
		if (VB_UNLIKELY(n < 0))
			return map_fail(vq, n, true);
		w->n_write += (unsigned int)n;
		w->write_len += len;
		return 0;
	}
	/* virtio 1.2, 2.8.17 "Driver Requirements: Scatter-Gather Support": the driver MUST
	 * place any device-writable elements after any device-readable ones.
	 * @satisfy{VB-REQ-PVQ-020} */
	if (VB_UNLIKELY(w->seen_write))
		return vbi_vq_fail(vq, -EPROTO, "readable descriptor after a writable one");
	if (VB_UNLIKELY(len == 0))
		return 0;
	n = vbi_mem_map(vq->mem, addr, len, VB_MEM_F_READ, c->read + w->n_read,
			c->max_read - w->n_read);
	if (VB_UNLIKELY(n < 0))
		return map_fail(vq, n, false);
	w->n_read += (unsigned int)n;
	w->read_len += len;
	return 0;
}

/*
 * The chain is complete: check what only the whole chain tells, fill in the rest of the chain
 * and move past its slots (idx, expect: the next slot and its lap's available pattern).
 */
static VB_FAST_INLINE int fill_chain(struct vb_vq *vq, struct vb_chain *c, const struct walk *w,
				       uint16_t id, unsigned int slots)
{
	/* virtio 1.2, 2.8.6 "Next Flag: Descriptor Chaining": the buffer id is in the last
	 * descriptor of the list (the indirect descriptor itself for a table); at most queue
	 * size buffers are outstanding. @satisfy{VB-REQ-PVQ-004} */
	if (VB_UNLIKELY(id >= vq->num))
		return vbi_vq_fail(vq, -EPROTO, "buffer id out of range");
	/* Lengths are reported in 32 bits (used descriptor len); refuse chains over 4 GiB.
	 * @satisfy{VB-REQ-PVQ-021} */
	if (VB_UNLIKELY((w->read_len | w->write_len) >> 32))
		return vbi_vq_fail(vq, -E2BIG, "descriptor chain longer than 4 GiB");
	c->head = id;
	c->ring_slots = (uint16_t)slots;
	c->n_read = (uint16_t)w->n_read;
	c->n_write = (uint16_t)w->n_write;
	c->read_len = (uint32_t)w->read_len;
	c->write_len = (uint32_t)w->write_len;
	return 1;
}

static VB_FAST_INLINE int pop_done(struct vb_vq *vq, struct vb_chain *c, const struct walk *w,
				     uint16_t id, unsigned int slots, uint16_t idx, uint16_t expect)
{
	int ret = fill_chain(vq, c, w, id, slots);

	if (VB_UNLIKELY(ret < 0))
		return ret;
	vq->last_avail = idx;
	vq->avail_wrap = expect == F_AVAIL;
	return 1;
}

/* The indirect table that descriptor d (a private copy) points at, into c. */
static VB_FAST_INLINE int walk_table(struct vb_vq *vq, struct vb_chain *c, struct walk *w,
				     const struct vb_vring_packed_desc *d)
{
	const struct vb_vring_packed_desc *table;
	uint32_t len, entries;
	struct vb_iov t;
	int ret;

	/* virtio 1.2, 2.8.19 "Driver Requirements: Indirect Descriptors": only if negotiated.
	 * @satisfy{VB-REQ-PVQ-014} */
	if (VB_UNLIKELY(!(vq->flags & VBI_VQ_INDIRECT)))
		return vbi_vq_fail(vq, -EPROTO, "indirect descriptor without VIRTIO_F_INDIRECT_DESC");
	len = vb_le32_to_cpu(d->len);
	/* virtio 1.2, 2.8.7 "Indirect Flag: Scatter-Gather Support": the table holds
	 * len / 16 descriptors; an empty or ragged table is not one. */
	if (VB_UNLIKELY(len == 0 || (len & 15u)))
		return vbi_vq_fail(vq, -EPROTO, "indirect table length invalid");
	entries = len / 16u;
	/* virtio 1.2, 2.8.5 "Scatter-Gather Support": the device limits list lengths. */
	if (VB_UNLIKELY(entries > INDIRECT_MAX))
		return vbi_vq_fail(vq, -E2BIG, "indirect table too long");
	/* The table must lie in one region the device may read: a second piece means it
	 * crosses a region edge, as bad as leaving guest memory. */
	ret = vbi_mem_map(vq->mem, vb_le64_to_cpu(d->addr), len, VB_MEM_F_READ, &t, 1);
	if (VB_UNLIKELY(ret < 0))
		return vbi_vq_fail(vq, ret == -E2BIG ? -EFAULT : ret,
				   "indirect table outside guest memory");
	if (VB_UNLIKELY((uintptr_t)t.base & 7u))
		return vbi_vq_fail(vq, -EFAULT, "indirect table misaligned in host memory");
	table = t.base;
	INVALIDATE(table, len);
	/* Entries are sequential: NEXT is reserved in a table and ignored, so the walk is
	 * bounded by the table's own size. */
	for (uint32_t i = 0; i < entries; i++) {
		struct vb_vring_packed_desc e;
		uint16_t ef;

		vbi_copy_desc_once(&e, &table[i]);
		ef = vb_le16_to_cpu(e.flags);
		/* virtio 1.2, 2.8.19 "Driver Requirements: Indirect Descriptors": only WRITE is
		 * valid inside a table; a nested table is refused (it would unbound the walk). */
		if (VB_UNLIKELY(ef & VB_VRING_DESC_F_INDIRECT))
			return vbi_vq_fail(vq, -EPROTO, "nested indirect descriptor table");
		ret = add_buf(vq, c, w, vb_le64_to_cpu(e.addr), vb_le32_to_cpu(e.len), ef);
		if (VB_UNLIKELY(ret < 0))
			return ret;
	}
	return 0;
}

/*
 * One ring descriptor with INDIRECT (flags already acquired): walk the table it points at.
 * @satisfy{VB-REQ-PVQ-005} @satisfy{VB-REQ-PVQ-016} @satisfy{VB-REQ-PVQ-017}
 */
static VB_NOINLINE int pop_indirect(struct vb_vq *vq, struct vb_chain *c)
{
	struct vb_vring_packed_desc d;
	struct walk w = { 0, 0, 0, 0, false };
	uint16_t idx = vq->last_avail;
	uint16_t expect = avail_bits(vq->avail_wrap);
	int ret;

	vbi_copy_desc_once(&d, &vq->ring.packed.desc[idx]);
	ret = walk_table(vq, c, &w, &d);
	if (VB_UNLIKELY(ret < 0))
		return ret;
	if (++idx == vq->num) {
		idx = 0;
		expect ^= F_AVAIL_USED;
	}
	return pop_done(vq, c, &w, vb_le16_to_cpu(d.id), 1, idx, expect);
}

/*
 * A list linked by NEXT through consecutive slots; the head (flags already acquired, NEXT
 * set) is at the next slot.
 */
static VB_NOINLINE int pop_list(struct vb_vq *vq, struct vb_chain *c, uint16_t flags)
{
	const struct vb_vring_packed_desc *ring = vq->ring.packed.desc;
	const uint16_t num = vq->num;
	uint16_t idx = vq->last_avail;
	/* AVAIL/USED of an available descriptor in the current lap; toggling both bits moves
	 * it to the next lap's pattern. */
	uint16_t expect = avail_bits(vq->avail_wrap);
	struct walk w = { 0, 0, 0, 0, false };
	struct vb_vring_packed_desc d;
	unsigned int slots = 0;
	int ret;

	/* Copy once. The head's flags are the acquired value (the copy's flags field is not
	 * used for it); a chained descriptor's flags are its copy's. */
	vbi_copy_desc_once(&d, &ring[idx]);
	for (;;) {
		slots++;
		if (++idx == num) {
			idx = 0;
			expect ^= F_AVAIL_USED;
		}
		/* virtio 1.2, 2.8.19 "Driver Requirements: Indirect Descriptors": an indirect
		 * descriptor is never part of a list linked by NEXT, with NEXT itself or as a
		 * later element. @satisfy{VB-REQ-PVQ-015} */
		if (VB_UNLIKELY(flags & VB_VRING_DESC_F_INDIRECT)) {
			if (!(vq->flags & VBI_VQ_INDIRECT))
				return vbi_vq_fail(vq, -EPROTO, "indirect descriptor without VIRTIO_F_INDIRECT_DESC");
			if (flags & VB_VRING_DESC_F_NEXT)
				return vbi_vq_fail(vq, -EPROTO, "indirect descriptor with NEXT set");
			return vbi_vq_fail(vq, -EPROTO, "indirect descriptor inside a chain");
		}
		ret = add_buf(vq, c, &w, vb_le64_to_cpu(d.addr), vb_le32_to_cpu(d.len), flags);
		if (VB_UNLIKELY(ret < 0))
			return ret;
		if (!(flags & VB_VRING_DESC_F_NEXT))
			break;
		/* virtio 1.2, 2.8.17 "Driver Requirements: Scatter-Gather Support": no list is
		 * longer than the queue size (so a list cannot come back to its own head).
		 * @satisfy{VB-REQ-PVQ-012} */
		if (VB_UNLIKELY(slots == num))
			return vbi_vq_fail(vq, -ELOOP, "descriptor chain longer than the queue");
		INVALIDATE(&ring[idx], sizeof(d));
		/* Ordered after the head's acquire: the driver wrote the rest of the list before
		 * making the head available. */
		vbi_copy_desc_once(&d, &ring[idx]);
		flags = vb_le16_to_cpu(d.flags);
		/* virtio 1.2, 2.8.6 "Next Flag: Descriptor Chaining": AVAIL/USED must be set
		 * correctly in every descriptor of the list, for the lap of its own slot.
		 * @satisfy{VB-REQ-PVQ-013} */
		if (VB_UNLIKELY((flags & F_AVAIL_USED) != expect))
			return vbi_vq_fail(vq, -EPROTO, "chained descriptor not available (wrap counter misuse)");
	}
	return pop_done(vq, c, &w, vb_le16_to_cpu(d.id), slots, idx, expect);
}

#if VB_CONFIG_INFLIGHT
/*
 * A chain given as n private copies of its ring descriptors (resubmission after a back-end
 * restart: the ring slots may hold used descriptors by now), walked with the checks of a pop
 * and without moving the available position. The AVAIL/USED bits of the copies are not
 * looked at: they were checked when the chain was first popped, by the earlier back-end.
 * @satisfy{VB-REQ-VU-304}
 */
int vbi_packed_pop_copy(struct vb_vq *vq, struct vb_chain *c,
			const struct vb_vring_packed_desc *d, unsigned int n)
{
	struct walk w = { 0, 0, 0, 0, false };
	uint16_t flags = vb_le16_to_cpu(d[0].flags);
	int ret;

	if (flags & VB_VRING_DESC_F_INDIRECT) {
		/* virtio 1.2, 2.8.19 "Driver Requirements: Indirect Descriptors": an indirect
		 * descriptor is never part of a list linked by NEXT. */
		if (n != 1 || (flags & VB_VRING_DESC_F_NEXT))
			return vbi_vq_fail(vq, -EPROTO, "indirect descriptor inside a chain");
		ret = walk_table(vq, c, &w, &d[0]);
		if (VB_UNLIKELY(ret < 0))
			return ret;
		return fill_chain(vq, c, &w, vb_le16_to_cpu(d[0].id), 1);
	}
	for (unsigned int i = 0; i < n; i++) {
		flags = vb_le16_to_cpu(d[i].flags);
		if (flags & VB_VRING_DESC_F_INDIRECT)
			return vbi_vq_fail(vq, -EPROTO, "indirect descriptor inside a chain");
		/* virtio 1.2, 2.8.6 "Next Flag: Descriptor Chaining": NEXT on every descriptor
		 * but the last one. */
		if (((flags & VB_VRING_DESC_F_NEXT) != 0) != (i + 1 < n))
			return vbi_vq_fail(vq, -EPROTO, "resubmitted chain length differs from its NEXT flags");
		ret = add_buf(vq, c, &w, vb_le64_to_cpu(d[i].addr), vb_le32_to_cpu(d[i].len), flags);
		if (VB_UNLIKELY(ret < 0))
			return ret;
	}
	return fill_chain(vq, c, &w, vb_le16_to_cpu(d[n - 1].id), n);
}
#endif

/*
 * One direct descriptor (flags already acquired), the common case: no list to walk, no order
 * of readable and writable elements to check, no total over 4 GiB.
 */
#if !defined(__OPTIMIZE_SIZE__)
static VB_NOINLINE int pop_one(struct vb_vq *vq, struct vb_chain *c, uint16_t flags)
{
	struct vb_vring_packed_desc d;
	uint16_t id;
	uint32_t len;

	/* Copy once; the flags are the acquired ones. */
	vbi_copy_desc_once(&d, &vq->ring.packed.desc[vq->last_avail]);
	id = vb_le16_to_cpu(d.id);
	len = vb_le32_to_cpu(d.len);
	/* virtio 1.2, 2.8.6 "Next Flag: Descriptor Chaining": the buffer id of a one-element
	 * list is its only descriptor's. @satisfy{VB-REQ-PVQ-004} */
	if (VB_UNLIKELY(id >= vq->num))
		return vbi_vq_fail(vq, -EPROTO, "buffer id out of range");
	c->n_read = 0;
	c->n_write = 0;
	c->read_len = 0;
	c->write_len = 0;
	if (VB_LIKELY(len)) {
		const bool write = (flags & VB_VRING_DESC_F_WRITE) != 0;
		int n = vbi_mem_map(vq->mem, vb_le64_to_cpu(d.addr), len,
				    write ? VB_MEM_F_WRITE : VB_MEM_F_READ,
				    write ? c->write : c->read, write ? c->max_write : c->max_read);

		if (VB_UNLIKELY(n < 0))
			return map_fail(vq, n, write);
		if (write) {
			c->n_write = (uint16_t)n;
			c->write_len = len;
		} else {
			c->n_read = (uint16_t)n;
			c->read_len = len;
		}
	}
	c->head = id;
	c->ring_slots = 1;
	if (++vq->last_avail == vq->num) {
		vq->last_avail = 0;
		vq->avail_wrap ^= 1u;
	}
	return 1;
}
#endif

/*
 * Look at the next slot and hand the chain to the walker for its shape. Kept free of locals
 * so that it compiles to a few loads and a tail call.
 * Every violation goes through vbi_vq_fail(): @satisfy{VB-REQ-PVQ-023}.
 * @satisfy{VB-REQ-PVQ-001} @satisfy{VB-REQ-PVQ-003}
 */
int vbi_packed_pop(struct vb_vq *vq, struct vb_chain *c)
{
	const struct vb_vring_packed_desc *head = &vq->ring.packed.desc[vq->last_avail];
	uint16_t flags;

	INVALIDATE(head, sizeof(*head));
	/* Pairs with the driver's write barrier before it stores the head's flags (virtio 1.2,
	 * 2.8.21.2 "Updating flags"): the whole chain is visible once the head is available. */
	flags = vbi_load_acquire_le16(&head->flags);
	/* virtio 1.2, 2.8.15 "Device Requirements: The Virtqueue Descriptor Table": use a
	 * descriptor only once its AVAIL bit shows this lap. */
	if ((flags & F_AVAIL_USED) != avail_bits(vq->avail_wrap))
		return 0;
#if !defined(__OPTIMIZE_SIZE__)
	/* Speed builds: a one-descriptor chain has its own short path; size builds let
	 * pop_list() take it (a list of one). */
	if (VB_LIKELY(!(flags & (VB_VRING_DESC_F_NEXT | VB_VRING_DESC_F_INDIRECT))))
		return pop_one(vq, c, flags);
#endif
	if (!(flags & VB_VRING_DESC_F_INDIRECT) || (flags & VB_VRING_DESC_F_NEXT))
		return pop_list(vq, c, flags);
	return pop_indirect(vq, c);
}

/* Slots popped and not yet used: from the used position to the avail position. A used
 * descriptor is written only over a slot the device popped. */
static inline uint32_t popped_slots(const struct vb_vq *vq)
{
	uint32_t room = (uint32_t)vq->last_avail - vq->used_idx;

	if (vq->avail_wrap != vq->used_wrap)
		room += vq->num;
	return room;
}

uint32_t vbi_packed_popped_slots(const struct vb_vq *vq)
{
	return popped_slots(vq);
}

/*
 * The used descriptors of a batch but the first one's flags, which the caller stores last.
 * Every chain is checked before anything is written. Returns the first's AVAIL/USED bits, or
 * -EINVAL.
 */
static VB_NOINLINE int push_many(struct vb_vq *vq, const struct vb_chain *chains,
				 const uint32_t *written, unsigned int n)
{
	struct vb_vring_packed_desc *ring = vq->ring.packed.desc;
	const uint16_t num = vq->num;
	const uint16_t first_bits = vq->used_wrap ? F_AVAIL_USED : 0;
	uint16_t idx = vq->used_idx, bits = first_bits;
	const uint32_t room = popped_slots(vq);
	uint32_t total = 0;

	for (unsigned int i = 0; i < n; i++) {
		total += chains[i].ring_slots;
		/* Stops before total can wrap: room is at most 32768. */
		if (VB_UNLIKELY(chains[i].ring_slots == 0 || total > room))
			return -EINVAL;
	}
	for (unsigned int i = 0; i < n; i++) {
		struct vb_vring_packed_desc *u = &ring[idx];

		u->id = vb_cpu_to_le16(chains[i].head);
		u->len = vb_cpu_to_le32(written[i]);
		/* virtio 1.2, 2.8.1 "Driver and Device Ring Wrap Counters": AVAIL and USED both
		 * equal to the device wrap counter; 2.8.3 "Write Flag". */
		if (i)
			vbi_store_relaxed_le16(&u->flags, (uint16_t)(bits |
					       (written[i] ? VB_VRING_DESC_F_WRITE : 0u)));
		CLEAN(u, sizeof(*u));
		idx = (uint16_t)(idx + chains[i].ring_slots);
		if (idx >= num) {
			idx = (uint16_t)(idx - num);
			bits ^= F_AVAIL_USED;
		}
	}
	vq->used_idx = idx;
	vq->used_wrap = bits ? 1u : 0u;
	return first_bits;
}

/* @satisfy{VB-REQ-PVQ-002} @satisfy{VB-REQ-PVQ-006} */
int vbi_packed_push(struct vb_vq *vq, const struct vb_chain *chains, const uint32_t *written,
		    unsigned int n)
{
	struct vb_vring_packed_desc *ring = vq->ring.packed.desc;
	const uint16_t first = vq->used_idx;
	int bits;

	if (VB_LIKELY(n == 1)) {
		const uint16_t slots = chains[0].ring_slots;
		uint16_t idx;

		if (VB_UNLIKELY(slots == 0 || slots > popped_slots(vq)))
			return -EINVAL;
		ring[first].id = vb_cpu_to_le16(chains[0].head);
		ring[first].len = vb_cpu_to_le32(written[0]);
		bits = vq->used_wrap ? F_AVAIL_USED : 0;
		idx = (uint16_t)(first + slots);
		if (idx >= vq->num) {
			idx = (uint16_t)(idx - vq->num);
			vq->used_wrap ^= 1u;
		}
		vq->used_idx = idx;
	} else {
		bits = push_many(vq, chains, written, n);
		if (VB_UNLIKELY(bits < 0))
			return bits;
	}
	/* The batch is published by its first descriptor's flags, stored last with release:
	 * pairs with the driver's read barrier after it sees a used descriptor's flags (virtio
	 * 1.2, 2.8.22 "Receiving Used Buffers From The Device"). The driver reads used
	 * descriptors in ring order from the first, so it sees all of the batch or none of it
	 * (as 2.8.9 "Multi-buffer requests" does for one request). A used descriptor has AVAIL
	 * and USED equal to the device wrap counter (2.8.1 "Driver and Device Ring Wrap
	 * Counters") and WRITE if the device wrote (2.8.3 "Write Flag"). */
	vbi_store_release_le16(&ring[first].flags,
			       (uint16_t)(bits | (written[0] ? VB_VRING_DESC_F_WRITE : 0u)));
	CLEAN(&ring[first], sizeof(ring[first]));
	return 0;
}

/*
 * Linear positions for the notification decision: slot p of the current device lap is p, a
 * slot tagged with the other wrap value is taken from the previous lap, p - num.
 */
static inline int32_t lap_pos(uint16_t pos_wrap, unsigned int cur_wrap, uint16_t num)
{
	int32_t p = pos_wrap & POS_MASK;

	return ((unsigned int)(pos_wrap >> 15) == cur_wrap) ? p : p - num;
}

/* @satisfy{VB-REQ-PVQ-007} @satisfy{VB-REQ-PVQ-008} */
bool vbi_packed_should_notify(struct vb_vq *vq)
{
	const struct vb_vring_packed_event *ev = vq->ring.packed.driver;
	const unsigned int cur_wrap = vq->used_wrap;
	/* used_idx < 2^15: bit 15 of signalled_used keeps the device wrap counter, so "nothing
	 * used since the last decision" and "a whole lap used" stay distinct. */
	const uint16_t now = (uint16_t)(vq->used_idx | (cur_wrap ? WRAP_BIT : 0u));
	const uint16_t old = vq->signalled_used;
	const bool valid = (vq->flags & VBI_VQ_SIGNALLED_VALID) != 0;
	int32_t old_pos, new_pos, off_pos;
	uint16_t flags;

	vq->signalled_used = now;
	vq->flags |= VBI_VQ_SIGNALLED_VALID;
	if (valid && old == now)
		return false;	/* nothing used since the last decision (as the split ring) */
	/* Orders our used flags stores before the loads below; pairs with the driver's full
	 * barrier between writing its event suppression structure and re-reading the next
	 * used descriptor's flags (virtio 1.2, 2.8.22): either it sees our used descriptors or
	 * we see its request. */
	vbi_fence_seq_cst();
	INVALIDATE(ev, sizeof(*ev));
	/* Acquire pairs with the driver's write barrier between off_wrap and flags. */
	flags = vbi_load_acquire_le16(&ev->flags) & 3u;
	/* virtio 1.2, 2.8.10 "Driver and Device Event Suppression" / 2.8.14 "Event Suppression
	 * Structure Format": DISABLE, ENABLE, or DESC (EVENT_IDX only; 3 is reserved and
	 * treated as ENABLE so that a confused driver is not starved of interrupts). */
	if (flags == VB_VRING_PACKED_EVENT_FLAG_DISABLE)
		return false;
	if (flags != VB_VRING_PACKED_EVENT_FLAG_DESC || !(vq->flags & VBI_VQ_EVENT_IDX))
		return true;
	if (!valid)
		return true;
	/* Notify if the descriptor the driver names was used in [old, now). */
	new_pos = now & POS_MASK;
	old_pos = lap_pos(old, cur_wrap, vq->num);
	off_pos = lap_pos(vbi_load_relaxed_le16(&ev->off_wrap), cur_wrap, vq->num);
	if (old_pos > new_pos)
		return true;	/* more than a lap since the last decision: do not risk a miss */
	return off_pos >= old_pos && off_pos < new_pos;
}

/* @satisfy{VB-REQ-PVQ-009} */
void vbi_packed_set_kicks(struct vb_vq *vq, bool enable)
{
	struct vb_vring_packed_event *ev = vq->ring.packed.device;
	uint16_t flags = VB_VRING_PACKED_EVENT_FLAG_DISABLE;

	/* virtio 1.2, 2.8.10 "Driver and Device Event Suppression": with EVENT_IDX, ask for a
	 * kick when the next descriptor to pop becomes available. */
	if (enable && (vq->flags & VBI_VQ_EVENT_IDX)) {
		vbi_store_relaxed_le16(&ev->off_wrap,
				       (uint16_t)(vq->last_avail | (vq->avail_wrap ? WRAP_BIT : 0u)));
		flags = VB_VRING_PACKED_EVENT_FLAG_DESC;
	} else if (enable) {
		flags = VB_VRING_PACKED_EVENT_FLAG_ENABLE;
	}
	/* Release: off_wrap before flags, for a driver that reads flags then off_wrap after
	 * its full barrier (virtio 1.2, 2.8.21.3 "Sending Available Buffer Notifications").
	 * Ordering against our later look at the ring is vbi_packed_has_avail()'s fence. */
	vbi_store_release_le16(&ev->flags, flags);
	CLEAN(ev, sizeof(*ev));
}

bool vbi_packed_has_avail(struct vb_vq *vq)
{
	const struct vb_vring_packed_desc *d = &vq->ring.packed.desc[vq->last_avail];

	/* Orders our event suppression store before the load below; pairs with the driver's
	 * full barrier between making a descriptor available and reading the device event
	 * suppression structure: either it kicks or we see its descriptor. */
	vbi_fence_seq_cst();
	INVALIDATE(d, sizeof(*d));
	return (vbi_load_acquire_le16(&d->flags) & F_AVAIL_USED) == avail_bits(vq->avail_wrap);
}

#endif /* VB_CONFIG_PACKED */
