/* SPDX-License-Identifier: MIT */
/*
 * Unvalidated split and packed device rings: the baseline bench-vq divides by. See
 * bare-ring.h. Deliberately unsafe; never use outside the benchmark.
 *
 * Kept in its own translation unit, with the hot functions out of line, so that it pays the
 * same call overhead per batch as the library's API and the compiler cannot specialise it for
 * the benchmark's constant arguments.
 */
#include "bare-ring.h"

#include "virtio-backend/endian.h"

#define NOINLINE __attribute__((noinline))

static inline uint16_t load_acquire16(const vb_le16 *p)
{
	vb_le16 v = { __atomic_load_n(&p->raw, __ATOMIC_ACQUIRE) };

	return vb_le16_to_cpu(v);
}

static inline void store_release16(vb_le16 *p, uint16_t x)
{
	__atomic_store_n(&p->raw, vb_cpu_to_le16(x).raw, __ATOMIC_RELEASE);
}

/* Per-chain walk state, kept in registers: the chain is written once at the end. */
struct walk {
	struct vb_iov	*rd, *wr;
	unsigned int	nr, nw;
	uint32_t	rl, wl;
};

/* Append one buffer: host address is base + offset, nothing is checked. */
static inline void add_buf(struct walk *w, uint8_t *host_base, uint64_t gpa_base,
			   uint64_t addr, uint32_t len, uint16_t flags)
{
	struct vb_iov *iov;

	if (flags & VB_VRING_DESC_F_WRITE) {
		iov = &w->wr[w->nw++];
		w->wl += len;
	} else {
		iov = &w->rd[w->nr++];
		w->rl += len;
	}
	iov->base = host_base + (addr - gpa_base);
	iov->len = len;
}

static inline void walk_done(struct vb_chain *c, const struct walk *w, uint16_t head,
			     uint16_t slots)
{
	c->head = head;
	c->ring_slots = slots;
	c->n_read = (uint16_t)w->nr;
	c->n_write = (uint16_t)w->nw;
	c->read_len = w->rl;
	c->write_len = w->wl;
}

/* Walk the chain at head into c: follow NEXT, and INDIRECT into a table, unchecked. */
static inline __attribute__((always_inline)) void
split_walk(const struct vb_vring_desc *table, uint8_t *host_base, uint64_t gpa_base,
	   struct vb_chain *c, uint16_t head)
{
	struct walk w = { c->read, c->write, 0, 0, 0, 0 };

	for (uint16_t i = head;;) {
		const struct vb_vring_desc *d = &table[i];
		uint16_t flags = vb_le16_to_cpu(d->flags);
		uint64_t addr = vb_le64_to_cpu(d->addr);
		uint32_t len = vb_le32_to_cpu(d->len);

		if (flags & VB_VRING_DESC_F_INDIRECT) {
			table = (const struct vb_vring_desc *)(host_base + (addr - gpa_base));
			i = 0;
			continue;
		}
		add_buf(&w, host_base, gpa_base, addr, len, flags);
		if (!(flags & VB_VRING_DESC_F_NEXT))
			break;
		i = vb_le16_to_cpu(d->next);
	}
	walk_done(c, &w, head, 1);
}

NOINLINE int bare_split_pop(struct bare_split *r, struct vb_chain *chains, unsigned int n)
{
	const vb_le16 *ring = (const vb_le16 *)(r->avail + 1);
	const struct vb_vring_desc *desc = r->desc;
	uint8_t *const host_base = r->host_base;
	const uint64_t gpa_base = r->gpa_base;
	const uint16_t mask = (uint16_t)(r->num - 1);
	uint16_t last = r->last_avail, shadow = r->shadow_avail;
	unsigned int got;

	for (got = 0; got < n; got++, last++) {
		/* Read the driver's index only when the last one read is used up. */
		if (last == shadow) {
			shadow = load_acquire16(&r->avail->idx);
			if (last == shadow)
				break;
		}
		split_walk(desc, host_base, gpa_base, &chains[got],
			   vb_le16_to_cpu(ring[last & mask]));
	}
	r->last_avail = last;
	r->shadow_avail = shadow;
	return (int)got;
}

NOINLINE int bare_split_pop1(struct bare_split *r, struct vb_chain *c)
{
	const vb_le16 *ring = (const vb_le16 *)(r->avail + 1);
	const uint16_t last = r->last_avail;

	if (last == r->shadow_avail) {
		r->shadow_avail = load_acquire16(&r->avail->idx);
		if (last == r->shadow_avail)
			return 0;
	}
	split_walk(r->desc, r->host_base, r->gpa_base, c,
		   vb_le16_to_cpu(ring[last & (uint16_t)(r->num - 1)]));
	r->last_avail = (uint16_t)(last + 1);
	return 1;
}

NOINLINE void bare_split_push(struct bare_split *r, const struct vb_chain *chains,
			      const uint32_t *written, unsigned int n)
{
	struct vb_vring_used_elem *ring = (struct vb_vring_used_elem *)(r->used + 1);
	const uint16_t mask = (uint16_t)(r->num - 1);
	uint16_t idx = r->used_idx;

	for (unsigned int i = 0; i < n; i++, idx++) {
		ring[idx & mask].id = vb_cpu_to_le32(chains[i].head);
		ring[idx & mask].len = vb_cpu_to_le32(written[i]);
	}
	store_release16(&r->used->idx, idx);
	r->used_idx = idx;
}

#define F_AVAIL		((uint16_t)(1u << VB_VRING_PACKED_DESC_F_AVAIL))
#define F_USED		((uint16_t)(1u << VB_VRING_PACKED_DESC_F_USED))

/* Take the chain at *idx if available: 1, or 0 if the slot is not available yet. */
static inline __attribute__((always_inline)) int
packed_pop_one(struct vb_vring_packed_desc *ring, uint16_t num, uint8_t *host_base,
	       uint64_t gpa_base, struct vb_chain *c, uint16_t *idx_p, unsigned int *wrap_p)
{
	struct walk w = { c->read, c->write, 0, 0, 0, 0 };
	uint16_t idx = *idx_p, flags, id, slots = 0;
	unsigned int wrap = *wrap_p;

	flags = load_acquire16(&ring[idx].flags);
	if ((flags & (F_AVAIL | F_USED)) != (wrap ? F_AVAIL : F_USED))
		return 0;
	for (;;) {
		const struct vb_vring_packed_desc *d = &ring[idx];
		uint64_t addr = vb_le64_to_cpu(d->addr);
		uint32_t len = vb_le32_to_cpu(d->len);

		id = vb_le16_to_cpu(d->id);
		slots++;
		if (++idx == num) {
			idx = 0;
			wrap ^= 1u;
		}
		if (flags & VB_VRING_DESC_F_INDIRECT) {
			const struct vb_vring_packed_desc *t =
				(const struct vb_vring_packed_desc *)(host_base + (addr - gpa_base));

			for (uint32_t k = 0; k < len / 16u; k++)
				add_buf(&w, host_base, gpa_base, vb_le64_to_cpu(t[k].addr),
					vb_le32_to_cpu(t[k].len), vb_le16_to_cpu(t[k].flags));
			break;
		}
		add_buf(&w, host_base, gpa_base, addr, len, flags);
		if (!(flags & VB_VRING_DESC_F_NEXT))
			break;
		flags = vb_le16_to_cpu(ring[idx].flags);
	}
	walk_done(c, &w, id, slots);
	*idx_p = idx;
	*wrap_p = wrap;
	return 1;
}

NOINLINE int bare_packed_pop(struct bare_packed *r, struct vb_chain *chains, unsigned int n)
{
	struct vb_vring_packed_desc *ring = r->desc;
	uint8_t *const host_base = r->host_base;
	const uint64_t gpa_base = r->gpa_base;
	const uint16_t num = r->num;
	uint16_t idx = r->last_avail;
	unsigned int wrap = r->avail_wrap;
	unsigned int got;

	for (got = 0; got < n; got++)
		if (!packed_pop_one(ring, num, host_base, gpa_base, &chains[got], &idx, &wrap))
			break;
	r->last_avail = idx;
	r->avail_wrap = (uint8_t)wrap;
	return (int)got;
}

NOINLINE int bare_packed_pop1(struct bare_packed *r, struct vb_chain *c)
{
	uint16_t idx = r->last_avail;
	unsigned int wrap = r->avail_wrap;

	if (!packed_pop_one(r->desc, r->num, r->host_base, r->gpa_base, c, &idx, &wrap))
		return 0;
	r->last_avail = idx;
	r->avail_wrap = (uint8_t)wrap;
	return 1;
}

NOINLINE void bare_packed_push(struct bare_packed *r, const struct vb_chain *chains,
			       const uint32_t *written, unsigned int n)
{
	struct vb_vring_packed_desc *ring = r->desc;
	const uint16_t first = r->used_idx;
	uint16_t idx = first;
	uint16_t bits = r->used_wrap ? (uint16_t)(F_AVAIL | F_USED) : 0;
	uint16_t first_flags = 0;

	if (n == 0)
		return;
	for (unsigned int i = 0; i < n; i++) {
		uint16_t f = (uint16_t)(bits | (written[i] ? VB_VRING_DESC_F_WRITE : 0u));

		ring[idx].id = vb_cpu_to_le16(chains[i].head);
		ring[idx].len = vb_cpu_to_le32(written[i]);
		if (i == 0)
			first_flags = f;
		else
			__atomic_store_n(&ring[idx].flags.raw, vb_cpu_to_le16(f).raw,
					 __ATOMIC_RELAXED);
		idx = (uint16_t)(idx + chains[i].ring_slots);
		if (idx >= r->num) {
			idx = (uint16_t)(idx - r->num);
			bits ^= (uint16_t)(F_AVAIL | F_USED);
		}
	}
	/* The first used descriptor's flags publish the batch (as the library does). */
	store_release16(&ring[first].flags, first_flags);
	r->used_idx = idx;
	r->used_wrap = bits ? 1u : 0u;
}
