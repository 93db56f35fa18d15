/* SPDX-License-Identifier: MIT */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vbt-fuzz.h"

#define F_AVAIL		((uint16_t)(1u << VB_VRING_PACKED_DESC_F_AVAIL))
#define F_USED		((uint16_t)(1u << VB_VRING_PACKED_DESC_F_USED))
#define F_AVAIL_USED	((uint16_t)(F_AVAIL | F_USED))
#define WRAP_BIT	((uint16_t)(1u << VB_VRING_PACKED_EVENT_F_WRAP_CTR))

/* ---- failure ---------------------------------------------------------------------------- */

void vbt_fuzz_fail(const char *file, int line, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "vbt-fuzz: invariant failed at %s:%d: ", file, line);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	abort();
}

bool vbt_fuzz_trace_on(void)
{
	static int on = -1;

	if (on < 0)
		on = getenv("VBT_FUZZ_TRACE") != NULL;
	return on != 0;
}

void vbt_fuzz_trace(const char *fmt, ...)
{
	va_list ap;

	if (!vbt_fuzz_trace_on())
		return;
	va_start(ap, fmt);
	fputs("vbt-fuzz: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
}

bool vbt_fuzz_is_violation(int ret)
{
	return ret == -EFAULT || ret == -EOVERFLOW || ret == -ELOOP || ret == -E2BIG ||
	       ret == -EPROTO;
}

/* ---- input ------------------------------------------------------------------------------ */

uint8_t vbt_fuzz_u8(struct vbt_fuzz_in *in)
{
	if (in->left == 0)
		return 0;
	in->left--;
	return *in->p++;
}

uint16_t vbt_fuzz_u16(struct vbt_fuzz_in *in)
{
	uint16_t lo = vbt_fuzz_u8(in);

	return (uint16_t)(lo | (uint16_t)(vbt_fuzz_u8(in) << 8));
}

uint32_t vbt_fuzz_u32(struct vbt_fuzz_in *in)
{
	uint32_t lo = vbt_fuzz_u16(in);

	return lo | (uint32_t)vbt_fuzz_u16(in) << 16;
}

void vbt_fuzz_op_get(struct vbt_fuzz_in *in, struct vbt_fuzz_op *op)
{
	op->code = vbt_fuzz_u8(in);
	op->a = vbt_fuzz_u8(in);
	op->b = vbt_fuzz_u16(in);
	op->c = vbt_fuzz_u32(in);
}

size_t vbt_fuzz_put16(uint8_t *out, uint16_t v)
{
	out[0] = (uint8_t)v;
	out[1] = (uint8_t)(v >> 8);
	return 2;
}

size_t vbt_fuzz_put32(uint8_t *out, uint32_t v)
{
	vbt_fuzz_put16(out, (uint16_t)v);
	vbt_fuzz_put16(out + 2, (uint16_t)(v >> 16));
	return 4;
}

size_t vbt_fuzz_op_put(uint8_t *out, const struct vbt_fuzz_op *op)
{
	out[0] = op->code;
	out[1] = op->a;
	vbt_fuzz_put16(out + 2, op->b);
	vbt_fuzz_put32(out + 4, op->c);
	return VBT_FUZZ_OP_LEN;
}

/* ---- fake guest ------------------------------------------------------------------------- */

size_t vbt_fuzz_region_size(uint8_t layout)
{
	unsigned int k = layout & 7u;

	/* 8 KiB .. 256 bytes; 7 would give 128 regions, more than a vbt_guest holds. */
	if (k == 0)
		return 0;
	if (k == 7)
		k = 6;
	return (size_t)VBT_FUZZ_GUEST_SIZE >> k;
}

uint64_t vbt_fuzz_guest_base(uint8_t layout)
{
	static const uint64_t base[4] = {
		0,				/* small addresses collide with small garbage */
		0x100000,			/* an ordinary place */
		UINT64_MAX - VBT_FUZZ_GUEST_SIZE + 1,	/* ends at 2^64: wrap checks */
		0xffffe000,			/* straddles 4 GiB: 32-bit truncation */
	};

	return base[(layout >> 3) & 3u];
}

int vbt_fuzz_guest_init(struct vbt_guest *g, uint8_t layout, uint32_t ro_mask, uint32_t wo_mask,
			const uint8_t *image, size_t image_len)
{
	int ret = vbt_guest_init(g, vbt_fuzz_guest_base(layout), VBT_FUZZ_GUEST_SIZE,
				 vbt_fuzz_region_size(layout));

	if (ret < 0) {
		vbt_guest_fini(g);
		return ret;
	}
	for (unsigned int i = 0; i < g->mem.n_regions; i++) {
		uint32_t bit = 1u << (i % 32u);
		bool ro = (ro_mask & bit) != 0, wo = (wo_mask & bit) != 0;

		if (ro != wo)
			vbt_guest_set_region_flags(g, i, ro ? VB_MEM_F_READ : VB_MEM_F_WRITE);
	}
	memcpy(g->base, image, image_len < g->size ? image_len : g->size);
	return 0;
}

void *vbt_fuzz_guest_span(const struct vbt_guest *g, uint64_t gpa, size_t len)
{
	uint64_t off = gpa - g->gpa;

	if (gpa < g->gpa || off > g->size || len > g->size - off)
		return NULL;
	return g->base + off;
}

static int quiet_notify(void *t, uint16_t q)
{
	(void)t;
	(void)q;
	return 0;
}

static int quiet_config_changed(void *t)
{
	(void)t;
	return 0;
}

const struct vb_transport_ops vbt_fuzz_quiet_tops = {
	.version = VB_TRANSPORT_OPS_V1,
	.notify = quiet_notify,
	.config_changed = quiet_config_changed,
};

bool vbt_fuzz_guest_holds(const struct vbt_guest *g, const void *p, size_t len)
{
	const uint8_t *b = p;

	return b >= g->base && (size_t)(b - g->base) <= g->size &&
	       len <= g->size - (size_t)(b - g->base);
}

int vbt_fuzz_guest_init_rings(struct vbt_guest *g, uint8_t layout, uint32_t ro_mask,
			      uint32_t wo_mask, const uint8_t *image, size_t image_len,
			      uint32_t buf_area)
{
	size_t step = vbt_fuzz_region_size(layout);
	int ret = vbt_fuzz_guest_init(g, layout, ro_mask, wo_mask, image, image_len);

	if (ret < 0)
		return ret;
	if (step && step < VBT_FUZZ_GUEST_SIZE - buf_area) {
		/* Small regions: replace those after the buffer area by one. */
		struct vb_mem_region tail = { .guest_addr = g->gpa + buf_area,
			.size = VBT_FUZZ_GUEST_SIZE - buf_area, .host_ptr = g->base + buf_area,
			.flags = VB_MEM_F_READ | VB_MEM_F_WRITE };

		for (uint64_t a = buf_area; a < VBT_FUZZ_GUEST_SIZE; a += step)
			VBT_FUZZ_CHECK(vb_mem_remove(&g->mem, g->gpa + a) == 0, "remove");
		VBT_FUZZ_CHECK(vb_mem_add(&g->mem, &tail) == 0, "add tail");
	} else {
		for (unsigned int i = 0; i < g->mem.n_regions; i++)
			if (g->regions[i].guest_addr - g->gpa + g->regions[i].size > buf_area)
				vbt_guest_set_region_flags(g, i, VB_MEM_F_READ | VB_MEM_F_WRITE);
	}
	g->next = buf_area;
	return 0;
}

unsigned int vbt_fuzz_chain_get(struct vbt_fuzz_in *in, struct vbt_buf *b, unsigned int max_bufs,
				uint32_t buf_area, uint16_t len_mask)
{
	unsigned int n = 1u + vbt_fuzz_u8(in) % max_bufs;

	for (unsigned int k = 0; k < n; k++) {
		uint32_t off = vbt_fuzz_u16(in) % buf_area;
		uint16_t x = vbt_fuzz_u16(in);
		uint32_t len = x & len_mask;

		if (len > buf_area - off)
			len = buf_area - off;
		if (len == 0)
			len = 1;
		b[k] = (struct vbt_buf){ off, len, (x & 0x8000u) != 0 };
	}
	return n;
}

int vbt_fuzz_dev_features(struct vb_dev *dev, uint64_t features)
{
	const uint8_t st = VB_VIRTIO_S_ACKNOWLEDGE | VB_VIRTIO_S_DRIVER;

	if (vb_dev_set_status(dev, VB_VIRTIO_S_ACKNOWLEDGE) || vb_dev_set_status(dev, st) ||
	    vb_dev_set_driver_features(dev, features) ||
	    vb_dev_set_status(dev, st | VB_VIRTIO_S_FEATURES_OK))
		return -1;
	return 0;
}

int vbt_fuzz_dev_queue(struct vb_dev *dev, uint16_t q, const struct vbt_split *r)
{
	struct vb_queue_config qc = { .num = r->num, .desc = r->desc_gpa,
				      .driver = r->avail_gpa, .device = r->used_gpa };

	if (vb_dev_queue_set_config(dev, q, &qc) || vb_dev_queue_enable(dev, q, true))
		return -1;
	return 0;
}

int vbt_fuzz_dev_ready(struct vb_dev *dev, const struct vbt_split *r, uint16_t nq)
{
	for (uint16_t q = 0; q < nq; q++)
		if (vbt_fuzz_dev_queue(dev, q, &r[q]) < 0)
			return -1;
	return vb_dev_set_status(dev, VB_VIRTIO_S_ACKNOWLEDGE | VB_VIRTIO_S_DRIVER |
				 VB_VIRTIO_S_FEATURES_OK | VB_VIRTIO_S_DRIVER_OK) ? -1 : 0;
}

bool vbt_fuzz_remap(struct vbt_guest *g, struct vbt_fuzz_remap *rm, uint8_t sel, uint32_t flags)
{
	struct vb_mem_region r;
	unsigned int i;
	int ret;

	if (!(sel & 1u)) {
		if (g->mem.n_regions == 0)
			return false;
		i = (sel >> 1) % g->mem.n_regions;
		r = g->mem.regions[i];
		ret = vb_mem_remove(&g->mem, r.guest_addr);
		VBT_FUZZ_CHECK(ret == 0, "vb_mem_remove of an existing region: %d", ret);
		VBT_FUZZ_CHECK(rm->n < VBT_MAX_REGIONS, "remap bookkeeping overflow");
		rm->removed[rm->n++] = r;
		return true;
	}
	if (rm->n == 0)
		return false;
	i = (sel >> 1) % rm->n;
	r = rm->removed[i];
	if (flags & 3u)
		r.flags = flags & 3u;
	ret = vb_mem_add(&g->mem, &r);
	VBT_FUZZ_CHECK(ret == 0, "vb_mem_add of a removed region: %d", ret);
	rm->removed[i] = rm->removed[--rm->n];
	return true;
}

/* ---- guest field access for the oracles (plain copies; the harness is the driver) ------- */

static uint16_t guest_le16(const struct vbt_guest *g, uint64_t gpa, bool *ok)
{
	const uint8_t *p = vbt_fuzz_guest_span(g, gpa, 2);

	if (!p) {
		*ok = false;
		return 0;
	}
	return (uint16_t)(p[0] | p[1] << 8);
}

static uint32_t guest_le32(const struct vbt_guest *g, uint64_t gpa, bool *ok)
{
	uint32_t lo = guest_le16(g, gpa, ok);

	return lo | (uint32_t)guest_le16(g, gpa + 2, ok) << 16;
}

/* ---- the queue exerciser ---------------------------------------------------------------- */

static uint64_t q_features(const struct vbt_fuzz_q *q)
{
	return vb_dev_get_driver_features(q->dev);
}

static bool q_packed(const struct vbt_fuzz_q *q)
{
	return (q_features(q) & VB_BIT(VB_VIRTIO_F_RING_PACKED)) != 0;
}

static bool q_has(const struct vbt_fuzz_q *q, unsigned int bit)
{
	return (q_features(q) & VB_BIT(bit)) != 0;
}

static void q_config(const struct vbt_fuzz_q *q, struct vb_queue_config *cfg)
{
	int ret = vb_dev_queue_get_config(q->dev, vb_vq_index(q->vq), cfg);

	VBT_FUZZ_CHECK(ret == 0, "vb_dev_queue_get_config: %d", ret);
}

void vbt_fuzz_q_init(struct vbt_fuzz_q *q, struct vb_dev *dev, uint16_t qidx,
		     struct vbt_guest *g, const unsigned int *notify_count, uint8_t iov_cap)
{
	memset(q, 0, sizeof(*q));
	q->dev = dev;
	q->vq = vb_dev_queue(dev, qidx);
	VBT_FUZZ_CHECK(q->vq != NULL, "queue %u missing", qidx);
	q->g = g;
	q->notify_count = notify_count;
	q->max_read = (uint16_t)(1u + (iov_cap & 15u));
	q->max_write = (uint16_t)(1u + (iov_cap >> 4));
	q->pos_exact = true;
}

void vbt_fuzz_q_forget(struct vbt_fuzz_q *q, bool queue_reset)
{
	/* Chains dropped without a push still hold their slots in the core's count. */
	q->lost_slots = queue_reset ? 0 : q->lost_slots + q->out_slots;
	q->n_out = 0;
	q->out_slots = 0;
	/* A reset clears the core's decision too; any other forget (a stop and restart, or a
	 * write that changed nothing) may leave one the oracle no longer knows. */
	q->decision_unknown = q->decided || q->decision_unknown;
	q->decided = false;
	q->used_since = 0;
	q->kicks_off = false;
	if (queue_reset) {
		q->decision_unknown = false;
		q->pos_exact = true;
		if (vb_dev_get_status(q->dev) & VB_VIRTIO_S_NEEDS_RESET)
			q->reset_since_break = true;
	}
}

/* Every piece of a chain: inside the guest's host mapping, inside one region that allows the
 * direction, not empty; the pieces add up to the chain's total. */
static void check_iovs(const struct vbt_fuzz_q *q, const struct vb_iov *iov, unsigned int n,
		       uint32_t need, uint32_t total, const char *what)
{
	const struct vbt_guest *g = q->g;
	uint64_t sum = 0;

	for (unsigned int i = 0; i < n; i++) {
		uintptr_t b = (uintptr_t)iov[i].base, base = (uintptr_t)g->base;
		size_t len = iov[i].len;
		bool found = false;

		VBT_FUZZ_CHECK(len > 0 && len <= UINT32_MAX, "%s iov %u has length %zu", what, i, len);
		VBT_FUZZ_CHECK(b >= base && b - base <= g->size && len <= g->size - (b - base),
			       "%s iov %u [%p, +%zu) outside the guest mapping", what, i,
			       iov[i].base, len);
		for (uint32_t r = 0; r < g->mem.n_regions && !found; r++) {
			const struct vb_mem_region *reg = &g->mem.regions[r];
			uintptr_t h = (uintptr_t)reg->host_ptr;

			if (b < h || b - h >= reg->size || len > reg->size - (b - h))
				continue;
			VBT_FUZZ_CHECK(reg->flags & need, "%s iov %u in region %u of flags %u",
				       what, i, r, reg->flags);
			found = true;
		}
		VBT_FUZZ_CHECK(found, "%s iov %u [%p, +%zu) not inside one mapped region", what, i,
			       iov[i].base, len);
		sum += len;
	}
	VBT_FUZZ_CHECK(sum == total, "%s iovs sum to %llu, chain says %u", what,
		       (unsigned long long)sum, total);
}

static void check_chain(const struct vbt_fuzz_q *q, const struct vb_chain *c)
{
	uint16_t num = vb_vq_num(q->vq);

	VBT_FUZZ_CHECK(c->n_read <= c->max_read && c->n_write <= c->max_write,
		       "chain uses %u/%u read and %u/%u write iovs", c->n_read, c->max_read,
		       c->n_write, c->max_write);
	VBT_FUZZ_CHECK(c->head < num, "chain head/id %u >= queue size %u", c->head, num);
	VBT_FUZZ_CHECK(c->ring_slots >= 1 && c->ring_slots <= num, "chain ring_slots %u (num %u)",
		       c->ring_slots, num);
	if (!q_packed(q))
		VBT_FUZZ_CHECK(c->ring_slots == 1, "split chain ring_slots %u", c->ring_slots);
	check_iovs(q, c->read, c->n_read, VB_MEM_F_READ, c->read_len, "readable");
	check_iovs(q, c->write, c->n_write, VB_MEM_F_WRITE, c->write_len, "writable");
}

/* Advance a ring position by n (split: free-running index; packed: slot and wrap counter). */
static void pos_advance(const struct vbt_fuzz_q *q, uint16_t *idx, bool *wrap, uint32_t n)
{
	uint32_t num = vb_vq_num(q->vq), i;

	if (!q_packed(q)) {
		*idx = (uint16_t)(*idx + n);
		return;
	}
	while (n >= num) {
		n -= num;
		*wrap = !*wrap;
	}
	i = *idx + n;
	if (i >= num) {
		i -= num;
		*wrap = !*wrap;
	}
	*idx = (uint16_t)i;
}

static bool pos_equal(const struct vbt_fuzz_q *q, const struct vb_vq_pos *a,
		      const struct vb_vq_pos *b)
{
	if (a->avail_idx != b->avail_idx || a->used_idx != b->used_idx)
		return false;
	return !q_packed(q) || (a->avail_wrap == b->avail_wrap && a->used_wrap == b->used_wrap);
}

static void check_pos(const struct vbt_fuzz_q *q, const struct vb_vq_pos *want, const char *what)
{
	struct vb_vq_pos now;

	vb_vq_get_pos(q->vq, &now);
	VBT_FUZZ_CHECK(pos_equal(q, &now, want),
		       "%s: position avail %u/%d used %u/%d, expected avail %u/%d used %u/%d",
		       what, now.avail_idx, now.avail_wrap, now.used_idx, now.used_wrap,
		       want->avail_idx, want->avail_wrap, want->used_idx, want->used_wrap);
}

/* A broken queue stays broken: the sticky state the first violation left. */
static void check_broken(struct vbt_fuzz_q *q)
{
	struct vbt_fuzz_chain *s = &q->scratch[0];
	int err = vb_vq_error(q->vq), ret;

	VBT_FUZZ_CHECK(vbt_fuzz_is_violation(err), "sticky error %d is not a violation code", err);
	VBT_FUZZ_CHECK(vb_dev_get_status(q->dev) & VB_VIRTIO_S_NEEDS_RESET,
		       "queue broken (%d) but status 0x%x lacks NEEDS_RESET", err,
		       vb_dev_get_status(q->dev));
	VBT_FUZZ_CHECK(!vb_vq_is_ready(q->vq), "broken queue reports ready");
	s->c = (struct vb_chain)VB_CHAIN_INIT(s->rd, s->wr);
	ret = vb_vq_pop(q->vq, &s->c);
	VBT_FUZZ_CHECK(ret == -ENOTRECOVERABLE, "pop on a broken queue returned %d", ret);
	ret = vb_vq_push(q->vq, &s->c, 0);
	VBT_FUZZ_CHECK(ret == -ENOTRECOVERABLE, "push on a broken queue returned %d", ret);
	VBT_FUZZ_CHECK(!vb_vq_should_notify(q->vq), "broken queue wants to notify");
}

/* Storage for a pop into out[n_out + i], poisoned so that a field the core forgets to fill
 * shows up in the checks. */
#define CANARY	0xa5

static void prep_pop(struct vbt_fuzz_q *q, struct vb_chain *cs, unsigned int n)
{
	for (unsigned int i = 0; i < n; i++) {
		struct vbt_fuzz_chain *o = &q->out[q->n_out + i];

		memset(&cs[i], CANARY, sizeof(cs[i]));
		memset(o->rd, CANARY, sizeof(o->rd));
		memset(o->wr, CANARY, sizeof(o->wr));
		cs[i].read = o->rd;
		cs[i].write = o->wr;
		cs[i].max_read = q->max_read;
		cs[i].max_write = q->max_write;
	}
}

/* VB-REQ-VQ-126 / PVQ-022: nothing written past the capacity the caller gave. */
static void check_canaries(const struct vbt_fuzz_q *q, unsigned int first, unsigned int n)
{
	for (unsigned int i = 0; i < n; i++) {
		const struct vbt_fuzz_chain *o = &q->out[first + i];
		const uint8_t *p;

		p = (const uint8_t *)&o->rd[q->max_read];
		for (size_t k = 0; k < (VBT_FUZZ_MAX_IOV + 1u - q->max_read) * sizeof(o->rd[0]); k++)
			VBT_FUZZ_CHECK(p[k] == CANARY, "pop wrote read iovec %zu, capacity %u",
				       q->max_read + k / sizeof(o->rd[0]), q->max_read);
		p = (const uint8_t *)&o->wr[q->max_write];
		for (size_t k = 0; k < (VBT_FUZZ_MAX_IOV + 1u - q->max_write) * sizeof(o->wr[0]); k++)
			VBT_FUZZ_CHECK(p[k] == CANARY, "pop wrote write iovec %zu, capacity %u",
				       q->max_write + k / sizeof(o->wr[0]), q->max_write);
	}
}

/* VB-REQ-VQ-012: with EVENT_IDX and kicks wanted, an empty pop leaves avail_event at the
 * driver's index, so the driver kicks for its next buffer. */
static void check_empty_pop(const struct vbt_fuzz_q *q)
{
	struct vb_queue_config cfg;
	uint16_t num = vb_vq_num(q->vq), idx, ev;
	bool ok = true;

	if (q_packed(q) || !q_has(q, VB_VIRTIO_F_EVENT_IDX) || q->kicks_off)
		return;
	q_config(q, &cfg);
	idx = guest_le16(q->g, cfg.driver + 2, &ok);
	ev = guest_le16(q->g, cfg.device + 4 + 8u * num, &ok);
	VBT_FUZZ_CHECK(!ok || ev == idx, "empty pop left avail_event %u, avail->idx %u", ev, idx);
}

int vbt_fuzz_q_pop(struct vbt_fuzz_q *q, unsigned int n)
{
	struct vb_chain cs[VBT_FUZZ_MAX_BATCH];
	const bool broken = vb_vq_error(q->vq) != 0;
	const bool ready = vb_vq_is_ready(q->vq);
	unsigned int want = n ? n : 1;
	struct vb_vq_pos before, want_pos;
	uint32_t slots = 0;
	int ret;

	if (want > VBT_FUZZ_MAX_BATCH)
		want = VBT_FUZZ_MAX_BATCH;
	if (want > VBT_FUZZ_MAX_OUT - q->n_out)
		want = VBT_FUZZ_MAX_OUT - q->n_out;
	if (want == 0)
		return 0;	/* the harness holds as many chains as it can */
	prep_pop(q, cs, want);
	vb_vq_get_pos(q->vq, &before);
	ret = n ? vb_vq_pop_batch(q->vq, cs, want) : vb_vq_pop(q->vq, cs);
	vbt_fuzz_trace("pop %u (avail %u/%d used %u/%d, %u out): %d", want, before.avail_idx,
		       before.avail_wrap, before.used_idx, before.used_wrap, q->n_out, ret);

	if (broken) {
		VBT_FUZZ_CHECK(ret == -ENOTRECOVERABLE, "pop on a broken queue returned %d", ret);
	} else if (!ready) {
		VBT_FUZZ_CHECK(ret == -EAGAIN, "pop on a stopped queue returned %d", ret);
	} else {
		VBT_FUZZ_CHECK((ret >= 0 && (unsigned int)ret <= want) || vbt_fuzz_is_violation(ret),
			       "pop of %u returned %d, outside the documented set", want, ret);
	}
	check_canaries(q, q->n_out, want);
	if (ret == 0 && ready && !broken)
		check_empty_pop(q);
	want_pos = before;
	for (int i = 0; i < ret; i++) {
		check_chain(q, &cs[i]);
		q->out[q->n_out].c = cs[i];
		q->n_out++;
		slots += cs[i].ring_slots;
		pos_advance(q, &want_pos.avail_idx, &want_pos.avail_wrap, cs[i].ring_slots);
	}
	q->out_slots += slots;
	q->pops += ret > 0 ? (unsigned int)ret : 0u;
	check_pos(q, &want_pos, "after pop");
	if (broken)
		return ret;
	if (vbt_fuzz_is_violation(ret)) {
		/* The first violation: its errno is the sticky error, the device needs a reset. */
		VBT_FUZZ_CHECK(vb_vq_error(q->vq) == ret, "pop returned %d but vb_vq_error is %d",
			       ret, vb_vq_error(q->vq));
		q->violations++;
		check_broken(q);
	} else if (vb_vq_error(q->vq) != 0) {
		/* Only a batch may hand out chains and leave the error for the next call. */
		VBT_FUZZ_CHECK(n != 0 && ret > 0, "pop returned %d yet broke the queue (%d)", ret,
			       vb_vq_error(q->vq));
		q->violations++;
		check_broken(q);
	}
	return ret;
}

/* Remove out[first .. first + n) and close the gap, re-pointing the moved chains' iovecs. */
static void drop_out(struct vbt_fuzz_q *q, unsigned int first, unsigned int n)
{
	memmove(&q->out[first], &q->out[first + n],
		(q->n_out - first - n) * sizeof(q->out[0]));
	q->n_out -= n;
	for (unsigned int i = first; i < q->n_out; i++) {
		q->out[i].c.read = q->out[i].rd;
		q->out[i].c.write = q->out[i].wr;
	}
}

/* What the driver sees after a successful push of cs[0..n) with written w. */
static void check_pushed(struct vbt_fuzz_q *q, const struct vb_chain *cs, const uint32_t *w,
			 unsigned int n, const struct vb_vq_pos *before, uint32_t total)
{
	struct vb_queue_config cfg;
	uint16_t num = vb_vq_num(q->vq);
	bool ok = true;

	q_config(q, &cfg);
	if (!q_packed(q)) {
		/* virtio 1.2, 2.7.8 "The Virtqueue Used Ring": idx is where the next element goes;
		 * the last element written is the last chain's. */
		uint16_t idx = guest_le16(q->g, cfg.device + 2, &ok);
		uint16_t last = (uint16_t)((idx - 1u) & (num - 1u));
		uint32_t id = guest_le32(q->g, cfg.device + 4 + 8u * last, &ok);
		uint32_t len = guest_le32(q->g, cfg.device + 8 + 8u * last, &ok);

		VBT_FUZZ_CHECK(ok, "used ring outside the guest");
		VBT_FUZZ_CHECK(idx == (uint16_t)(before->used_idx + n),
			       "used->idx %u after pushing %u from %u", idx, n, before->used_idx);
		VBT_FUZZ_CHECK(id == cs[n - 1].head && len == w[n - 1],
			       "used element %u is {%u, %u}, pushed {%u, %u}", last, id, len,
			       cs[n - 1].head, w[n - 1]);
		return;
	}
	if (total > num)
		return;	/* the batch overwrote itself (a hostile driver's doing); nothing to say */
	{
		uint16_t slot = before->used_idx;
		bool wrap = before->used_wrap;

		for (unsigned int i = 0; i < n; i++) {
			uint64_t d = cfg.desc + 16u * (uint64_t)slot;
			uint32_t len = guest_le32(q->g, d + 8, &ok);
			uint16_t id = guest_le16(q->g, d + 12, &ok);
			uint16_t flags = guest_le16(q->g, d + 14, &ok);
			uint16_t want = (uint16_t)((wrap ? F_AVAIL_USED : 0u) |
						   (w[i] ? VB_VRING_DESC_F_WRITE : 0u));

			VBT_FUZZ_CHECK(ok, "descriptor ring outside the guest");
			/* virtio 1.2, 2.8.1 and 2.8.3: AVAIL = USED = the device wrap counter,
			 * WRITE iff the device wrote, len and id as pushed. */
			VBT_FUZZ_CHECK(id == cs[i].head && len == w[i] &&
				       (flags & (F_AVAIL_USED | VB_VRING_DESC_F_WRITE)) == want,
				       "used descriptor %u is {id %u, len %u, flags 0x%x}, pushed {%u, %u, 0x%x}",
				       slot, id, len, flags, cs[i].head, w[i], want);
			pos_advance(q, &slot, &wrap, cs[i].ring_slots);
		}
	}
}

/* One push call of out[first .. first + n): vb_vq_push for n == 1 && !batch. */
static int push_call(struct vbt_fuzz_q *q, unsigned int first, unsigned int n, uint32_t written,
		     bool raw, bool batch)
{
	struct vb_chain cs[VBT_FUZZ_MAX_BATCH];
	uint32_t w[VBT_FUZZ_MAX_BATCH];
	const bool broken = vb_vq_error(q->vq) != 0;
	const bool ready = vb_vq_is_ready(q->vq);
	struct vb_vq_pos before, want_pos;
	bool over = false;
	uint32_t total = 0;
	int ret;

	for (unsigned int i = 0; i < n; i++) {
		cs[i] = q->out[first + i].c;
		if (raw)
			w[i] = written;
		else
			w[i] = cs[i].write_len ? written % (cs[i].write_len + 1u) : 0;
		over |= w[i] > cs[i].write_len;
		total += cs[i].ring_slots;
	}
	vb_vq_get_pos(q->vq, &before);
	ret = (batch || n > 1) ? vb_vq_push_batch(q->vq, cs, w, n) : vb_vq_push(q->vq, cs, w[0]);
	vbt_fuzz_trace("push %u from %u, %u slots (avail %u/%d used %u/%d, %u out, %u slots out): %d",
		       n, first, total, before.avail_idx, before.avail_wrap, before.used_idx,
		       before.used_wrap, q->n_out, q->out_slots, ret);

	if (broken) {
		VBT_FUZZ_CHECK(ret == -ENOTRECOVERABLE, "push on a broken queue returned %d", ret);
	} else if (!ready) {
		VBT_FUZZ_CHECK(ret == -EAGAIN, "push on a stopped queue returned %d", ret);
	} else if (over) {
		VBT_FUZZ_CHECK(ret == -EINVAL, "push with written > write_len returned %d", ret);
		VBT_FUZZ_CHECK(vb_vq_error(q->vq) == 0, "a refused push broke the queue");
	} else if (ret == -EINVAL) {
		/* Allowed only where the caller broke a rule: not the oldest chain under IN_ORDER,
		 * or more chains (packed: slots) than the core counts as popped and not used,
		 * which happens only after a restored position or (packed) a driver that
		 * reused slots. */
		bool ooo = q_has(q, VB_VIRTIO_F_IN_ORDER) && first != 0;
		bool slots = !q->pos_exact ||
			     (q_packed(q) && q->out_slots + q->lost_slots > vb_vq_num(q->vq));

		VBT_FUZZ_CHECK(ooo || slots, "push of %u valid chains refused with -EINVAL", n);
	} else {
		VBT_FUZZ_CHECK(ret == 0, "push returned %d, outside the documented set", ret);
	}
	want_pos = before;
	if (ret == 0) {
		if (q_packed(q))
			pos_advance(q, &want_pos.used_idx, &want_pos.used_wrap, total);
		else
			want_pos.used_idx = (uint16_t)(want_pos.used_idx + n);
	}
	check_pos(q, &want_pos, "after push");
	if (ret == 0) {
		check_pushed(q, cs, w, n, &before, total);
		drop_out(q, first, n);
		q->out_slots -= total;
		q->used_since += total;
		q->pushes += n;
	}
	return ret;
}

int vbt_fuzz_q_push(struct vbt_fuzz_q *q, unsigned int first, unsigned int n, uint32_t written,
		    bool raw, bool batch)
{
	int ret = 0;

	if (q->n_out == 0)
		return 0;
	first %= q->n_out;
	if (n == 0)
		n = 1;
	if (n > q->n_out - first)
		n = q->n_out - first;
	if (n > VBT_FUZZ_MAX_BATCH)
		n = VBT_FUZZ_MAX_BATCH;
	if (batch)
		return push_call(q, first, n, written, raw, true);
	for (unsigned int i = 0; i < n && ret == 0; i++)
		ret = push_call(q, first, 1, written, raw, false);
	return ret;
}

int vbt_fuzz_q_notify(struct vbt_fuzz_q *q, bool decide_only)
{
	const bool ready = vb_vq_is_ready(q->vq);
	const unsigned int calls = *q->notify_count;
	struct vb_queue_config cfg;
	struct vb_vq_pos pos;
	bool ok = true, expect = false, known = false;
	int ret;

	q_config(q, &cfg);
	vb_vq_get_pos(q->vq, &pos);
	if (ready && !q_packed(q)) {
		uint16_t num = vb_vq_num(q->vq);
		uint16_t flags = guest_le16(q->g, cfg.driver, &ok);
		uint16_t event = guest_le16(q->g, cfg.driver + 4 + 2u * num, &ok);

		/* virtio 1.2, 2.7.7 "Used Buffer Notification Suppression" (2.7.7.2 for
		 * EVENT_IDX: vring_need_event(used_event, new, old)). Without a decision on
		 * record the core's answer is known only if it has none either. */
		if (ok && (q->decided || (q->exact && !q->decision_unknown))) {
			known = true;
			if (q_has(q, VB_VIRTIO_F_EVENT_IDX))
				expect = !q->decided ||
					 (uint16_t)(pos.used_idx - event - 1u) <
					 (uint16_t)(pos.used_idx - q->decided_used);
			else
				expect = !(q->decided && q->decided_used == pos.used_idx) &&
					 !(flags & VB_VRING_AVAIL_F_NO_INTERRUPT);
		}
	} else if (ready) {
		uint16_t num = vb_vq_num(q->vq);
		uint16_t ow = guest_le16(q->g, cfg.driver, &ok);
		uint16_t flags = guest_le16(q->g, cfg.driver + 2, &ok) & 3u;
		uint16_t off = ow & (uint16_t)(WRAP_BIT - 1u);

		/* virtio 1.2, 2.8.10: DISABLE never, ENABLE always; DESC (EVENT_IDX only) when
		 * the slot and wrap counter in off_wrap were used since the last decision. */
		if (!ok) {
			known = false;
		} else if (q->decided && q->used_since % (2u * num) == 0) {
			/* Nothing used since the last decision (or a multiple of two laps, which
			 * the core cannot tell from nothing): no notification. */
			known = q->used_since == 0;
			expect = false;
		} else if (flags == VB_VRING_PACKED_EVENT_FLAG_DISABLE) {
			known = true;
			expect = false;
		} else if (flags != VB_VRING_PACKED_EVENT_FLAG_DESC ||
			   !q_has(q, VB_VIRTIO_F_EVENT_IDX)) {
			/* ENABLE: notify, unless the core holds a decision with nothing used
			 * since, which the oracle knows of only when it has one on record. */
			known = q->decided || (q->exact && !q->decision_unknown);
			expect = true;
		} else if (!q->decided) {
			known = q->exact && !q->decision_unknown;
			expect = true;
		} else if (q->used_since <= num && off < num) {
			/* Positions old .. old + used_since - 1 were used; the one for slot off is
			 * d slots after old, in the lap of the wrap counter there. */
			uint32_t d = off >= q->decided_used ? (uint32_t)(off - q->decided_used) :
				     (uint32_t)(off + num - q->decided_used);
			bool wrap = q->decided_wrap != (q->decided_used + d >= num);

			known = true;
			expect = d < q->used_since && wrap == ((ow & WRAP_BIT) != 0);
		}
	}
	if (decide_only)
		ret = vb_vq_should_notify(q->vq) ? 1 : 0;
	else
		ret = vb_vq_notify(q->vq);
	VBT_FUZZ_CHECK(ret == 0 || ret == 1, "notify returned %d", ret);
	VBT_FUZZ_CHECK(*q->notify_count - calls == (decide_only ? 0u : (unsigned int)ret),
		       "notify returned %d but the transport was called %u times", ret,
		       *q->notify_count - calls);
	if (!ready) {
		VBT_FUZZ_CHECK(ret == 0, "a queue that is not ready wants to notify");
		return ret;
	}
	if (known)
		VBT_FUZZ_CHECK(ret == (int)expect, "notify decision %d, the driver asked for %d "
			       "(used %u, last decision at %u)", ret, expect, pos.used_idx,
			       q->decided_used);
	q->decided = true;
	q->decision_unknown = false;
	q->decided_used = pos.used_idx;
	q->decided_wrap = pos.used_wrap;
	q->used_since = 0;
	return ret;
}

void vbt_fuzz_q_kicks(struct vbt_fuzz_q *q, bool enable)
{
	const bool ready = vb_vq_is_ready(q->vq);
	struct vb_queue_config cfg;
	struct vb_vq_pos pos;
	bool ok = true;

	q_config(q, &cfg);
	vb_vq_get_pos(q->vq, &pos);
	if (!enable) {
		bool was_off = q->kicks_off;

		vb_vq_disable_kicks(q->vq);
		if (!ready || was_off)
			return;
		q->kicks_off = true;
		if (q_packed(q)) {
			uint16_t f = guest_le16(q->g, cfg.device + 2, &ok);

			VBT_FUZZ_CHECK(!ok || f == VB_VRING_PACKED_EVENT_FLAG_DISABLE,
				       "device event flags %u after disabling kicks", f);
		} else if (!q_has(q, VB_VIRTIO_F_EVENT_IDX)) {
			uint16_t f = guest_le16(q->g, cfg.device, &ok);

			VBT_FUZZ_CHECK(!ok || f == VB_VRING_USED_F_NO_NOTIFY,
				       "used->flags %u after disabling kicks", f);
		}
		return;
	}
	{
		bool more = vb_vq_enable_kicks(q->vq);

		if (!ready) {
			VBT_FUZZ_CHECK(!more, "a queue that is not ready reports buffers");
			return;
		}
		q->kicks_off = false;
		if (q_packed(q)) {
			uint16_t f = guest_le16(q->g, cfg.device + 2, &ok);
			uint16_t ow = guest_le16(q->g, cfg.device, &ok);
			uint16_t df = guest_le16(q->g, cfg.desc + 16u * pos.avail_idx + 14, &ok);
			bool evidx = q_has(q, VB_VIRTIO_F_EVENT_IDX);
			bool avail = (df & F_AVAIL_USED) == (pos.avail_wrap ? F_AVAIL : F_USED);

			if (!ok)
				return;
			/* virtio 1.2, 2.8.10: ENABLE, or DESC naming the next slot to pop. */
			VBT_FUZZ_CHECK(f == (evidx ? VB_VRING_PACKED_EVENT_FLAG_DESC :
					     VB_VRING_PACKED_EVENT_FLAG_ENABLE),
				       "device event flags %u after enabling kicks", f);
			VBT_FUZZ_CHECK(!evidx || ow == (uint16_t)(pos.avail_idx |
								   (pos.avail_wrap ? WRAP_BIT : 0u)),
				       "device event off_wrap 0x%x, next slot %u wrap %d", ow,
				       pos.avail_idx, pos.avail_wrap);
			VBT_FUZZ_CHECK(more == avail, "enable_kicks says %d, slot %u is %savailable",
				       more, pos.avail_idx, avail ? "" : "not ");
		} else {
			uint16_t idx = guest_le16(q->g, cfg.driver + 2, &ok);

			if (!q_has(q, VB_VIRTIO_F_EVENT_IDX)) {
				uint16_t f = guest_le16(q->g, cfg.device, &ok);

				VBT_FUZZ_CHECK(!ok || f == 0, "used->flags %u after enabling kicks", f);
			}
			/* No buffers reported only if the driver's index is where we are. */
			VBT_FUZZ_CHECK(!ok || more || idx == pos.avail_idx,
				       "enable_kicks says empty, avail->idx %u, position %u", idx,
				       pos.avail_idx);
		}
	}
}

void vbt_fuzz_q_touch(struct vbt_fuzz_q *q, uint32_t seed)
{
	volatile uint8_t sink = 0;

	for (unsigned int i = 0; i < q->n_out; i++) {
		const struct vb_chain *c = &q->out[i].c;

		for (unsigned int j = 0; j < c->n_read; j++)
			for (size_t k = 0; k < c->read[j].len; k++)
				sink = (uint8_t)(sink ^ ((const uint8_t *)c->read[j].base)[k]);
		for (unsigned int j = 0; j < c->n_write; j++)
			memset(c->write[j].base, (int)(seed & 0xffu), c->write[j].len);
	}
	(void)sink;
}

void vbt_fuzz_q_drain(struct vbt_fuzz_q *q, uint32_t seed)
{
	/* A well-formed ring has at most num chains for us; rings the pushes overwrite (hostile
	 * layouts) could refill forever. */
	const unsigned int bound = vb_vq_num(q->vq) + VBT_FUZZ_MAX_BATCH;
	const bool batch = (seed & 0x100u) != 0;

	for (unsigned int i = 0; i < bound; i++) {
		int ret;

		if (q->n_out + VBT_FUZZ_MAX_BATCH > VBT_FUZZ_MAX_OUT) {
			vbt_fuzz_q_touch(q, seed);
			while (q->n_out && vbt_fuzz_q_push(q, 0, VBT_FUZZ_MAX_BATCH, seed >> 16,
							   false, batch) == 0)
				;
			if (q->n_out)
				break;
		}
		ret = vbt_fuzz_q_pop(q, batch ? 1u + (seed >> 9 & 7u) : 0u);
		if (ret <= 0)
			break;
	}
	vbt_fuzz_q_touch(q, seed);
	while (q->n_out && vbt_fuzz_q_push(q, 0, VBT_FUZZ_MAX_BATCH, seed >> 16, false, batch) == 0)
		;
	vbt_fuzz_q_notify(q, false);
}

void vbt_fuzz_q_check(struct vbt_fuzz_q *q)
{
	VBT_FUZZ_CHECK(q->n_out <= VBT_FUZZ_MAX_OUT, "harness holds %u chains", q->n_out);
	if (vb_vq_error(q->vq) != 0) {
		check_broken(q);
		return;
	}
	if (vb_vq_is_ready(q->vq) && q_packed(q)) {
		struct vb_vq_pos pos;
		uint16_t num = vb_vq_num(q->vq);

		vb_vq_get_pos(q->vq, &pos);
		VBT_FUZZ_CHECK(pos.avail_idx < num && pos.used_idx < num,
			       "packed position avail %u used %u outside a ring of %u",
			       pos.avail_idx, pos.used_idx, num);
	}
}

/* ---- virtqueue fuzzers ------------------------------------------------------------------ */

#define VQ_NUM_MAX	1024u	/* queue_num_max of the fuzzed device */

size_t vbt_fuzz_vq_hdr_put(uint8_t *out, const struct vbt_fuzz_vq_hdr *h)
{
	uint8_t *p = out;

	*p++ = h->features;
	*p++ = h->layout;
	p += vbt_fuzz_put16(p, h->num);
	p += vbt_fuzz_put16(p, h->desc_off);
	p += vbt_fuzz_put16(p, h->driver_off);
	p += vbt_fuzz_put16(p, h->device_off);
	*p++ = h->iov_cap;
	*p++ = h->n_ops;
	p += vbt_fuzz_put32(p, h->ro_mask);
	p += vbt_fuzz_put32(p, h->wo_mask);
	return (size_t)(p - out);
}

static uint64_t header_features(uint8_t bits, bool packed)
{
	uint64_t f = VB_BIT(VB_VIRTIO_F_VERSION_1) | VB_BIT(VB_VIRTIO_F_RING_RESET);

	if (bits & (1u << VBT_FUZZ_F_INDIRECT))
		f |= VB_BIT(VB_VIRTIO_F_INDIRECT_DESC);
	if (bits & (1u << VBT_FUZZ_F_EVENT_IDX))
		f |= VB_BIT(VB_VIRTIO_F_EVENT_IDX);
	if (bits & (1u << VBT_FUZZ_F_IN_ORDER))
		f |= VB_BIT(VB_VIRTIO_F_IN_ORDER);
	if (packed)
		f |= VB_BIT(VB_VIRTIO_F_RING_PACKED);
	return f;
}

static struct vbt_fuzz_vq *vq_of(struct vbt_dev *d)
{
	return (struct vbt_fuzz_vq *)((uint8_t *)d - offsetof(struct vbt_fuzz_vq, d));
}

static uint32_t kick_seed;

static void vq_on_kick(struct vbt_dev *d, struct vb_vq *vq)
{
	struct vbt_fuzz_vq *f = vq_of(d);

	VBT_FUZZ_CHECK(vq == f->q.vq, "kick handler called for another queue");
	vbt_fuzz_q_drain(&f->q, kick_seed);
}

static bool vq_packed(const struct vbt_fuzz_vq *f)
{
	return (f->accepted & VB_BIT(VB_VIRTIO_F_RING_PACKED)) != 0;
}

/* The harness's driver restarts from slot 0 (split: descriptor 0). */
static void drv_restart(struct vbt_fuzz_vq *f, uint16_t avail, bool wrap)
{
	f->drv_next_desc = 0;
	f->drv_next_avail = avail;
	f->drv_avail_wrap = wrap;
	f->drv_next_id = 0;
}

/* VB-REQ-PVQ-010: a packed queue that went live asks for kicks (device flags ENABLE). */
static void check_started(struct vbt_fuzz_vq *f)
{
	bool ok = true;
	uint16_t flags;

	if (!vb_vq_is_ready(f->q.vq) || !vq_packed(f))
		return;
	flags = guest_le16(&f->g, f->ring_device + 2, &ok);
	VBT_FUZZ_CHECK(!ok || flags == VB_VRING_PACKED_EVENT_FLAG_ENABLE,
		       "packed queue went live with device event flags %u", flags);
}

/* Queue setup and enable as a driver does after FEATURES_OK (virtio 1.2, 3.1.1 step 7). */
static void queue_setup(struct vbt_fuzz_vq *f)
{
	struct vb_queue_config cfg = {
		.num = f->h.num, .desc = f->ring_desc, .driver = f->ring_driver,
		.device = f->ring_device,
	};
	int ret = vb_dev_queue_set_config(f->d.dev, 0, &cfg);

	VBT_FUZZ_CHECK(ret == 0 || (ret == -EPROTO && f->h.num > VQ_NUM_MAX),
		       "vb_dev_queue_set_config(num %u): %d", f->h.num, ret);
	ret = vb_dev_queue_enable(f->d.dev, 0, true);
	VBT_FUZZ_CHECK(ret == 0 || ret == -EPROTO || ret == -EFAULT || ret == -EOVERFLOW,
		       "vb_dev_queue_enable: %d", ret);
	if (ret < 0)
		VBT_FUZZ_CHECK(!vb_vq_is_ready(f->q.vq), "refused queue is ready");
	check_started(f);
}

static void bring_up(struct vbt_fuzz_vq *f)
{
	unsigned int activations;
	int ret;

	f->needs_reset_base = f->d.needs_reset;
	f->config_changes_base = f->d.config_changes;
	ret = vbt_dev_negotiate(&f->d, f->accepted);

	VBT_FUZZ_CHECK(ret == 0, "negotiation of offered features refused: %d", ret);
	queue_setup(f);
	activations = f->d.activations;
	ret = vbt_dev_driver_ok(&f->d);
	VBT_FUZZ_CHECK(ret == 0 || vbt_fuzz_is_violation(ret), "DRIVER_OK: %d", ret);
	if (ret < 0) {
		/* The rings did not map at DRIVER_OK: the queue is broken, the device says so. */
		VBT_FUZZ_CHECK(vb_vq_error(f->q.vq) == ret, "DRIVER_OK %d, queue error %d", ret,
			       vb_vq_error(f->q.vq));
		VBT_FUZZ_CHECK(vb_dev_get_status(f->d.dev) & VB_VIRTIO_S_NEEDS_RESET,
			       "DRIVER_OK failed without NEEDS_RESET");
		/* VB-REQ-DEV-018: the model is not activated, no queue is live. */
		VBT_FUZZ_CHECK(f->d.activations == activations && !vb_vq_is_ready(f->q.vq),
			       "DRIVER_OK failed yet the model or the queue runs");
	} else {
		VBT_FUZZ_CHECK(f->d.activations == activations + 1, "model activated %u times",
			       f->d.activations - activations);
	}
	check_started(f);
	vbt_fuzz_q_forget(&f->q, true);
	f->q.reset_since_break = false;
	f->q.pos_exact = true;
	drv_restart(f, 0, true);
}

int vbt_fuzz_vq_parse(struct vbt_fuzz_vq *f, const uint8_t *data, size_t size, bool packed)
{
	struct vbt_fuzz_in in = { data, size };
	struct vbt_fuzz_vq_hdr *h = &f->h;
	int ret;

	if (size < VBT_FUZZ_VQ_HDR_LEN)
		return -EINVAL;
	h->features = vbt_fuzz_u8(&in);
	h->layout = vbt_fuzz_u8(&in);
	h->num = vbt_fuzz_u16(&in);
	h->desc_off = vbt_fuzz_u16(&in);
	h->driver_off = vbt_fuzz_u16(&in);
	h->device_off = vbt_fuzz_u16(&in);
	h->iov_cap = vbt_fuzz_u8(&in);
	h->n_ops = vbt_fuzz_u8(&in);
	h->ro_mask = vbt_fuzz_u32(&in);
	h->wo_mask = vbt_fuzz_u32(&in);
	f->n_ops = h->n_ops;
	if (f->n_ops > in.left / VBT_FUZZ_OP_LEN)
		f->n_ops = (unsigned int)(in.left / VBT_FUZZ_OP_LEN);
	for (unsigned int i = 0; i < f->n_ops; i++)
		vbt_fuzz_op_get(&in, &f->ops[i]);
	ret = vbt_fuzz_guest_init(&f->g, h->layout, h->ro_mask, h->wo_mask, in.p, in.left);
	if (ret < 0)
		return ret;
	f->rm.n = 0;
	f->offered = header_features(h->features, packed);
	f->ring_desc = f->g.gpa + h->desc_off % VBT_FUZZ_GUEST_SIZE;
	f->ring_driver = f->g.gpa + h->driver_off % VBT_FUZZ_GUEST_SIZE;
	f->ring_device = f->g.gpa + h->device_off % VBT_FUZZ_GUEST_SIZE;
	ret = vbt_dev_init(&f->d, &f->g.mem, f->offered, 1, VQ_NUM_MAX);
	VBT_FUZZ_CHECK(ret == 0, "vbt_dev_init: %d", ret);
	/* What the build can offer (a core without packed rings drops RING_PACKED). */
	f->offered = vb_dev_get_features(f->d.dev);
	f->accepted = f->offered;
	f->d.on_kick = vq_on_kick;
	vbt_fuzz_q_init(&f->q, f->d.dev, 0, &f->g, &f->d.notifies[0], h->iov_cap);
	f->q.exact = true;
	bring_up(f);
	return 0;
}

void vbt_fuzz_vq_fini(struct vbt_fuzz_vq *f)
{
	vbt_guest_fini(&f->g);
}

/* ---- the harness's driver: valid-looking chains built from one operation ---------------- */

static void put_le16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
}

static void put_le32(uint8_t *p, uint32_t v)
{
	put_le16(p, (uint16_t)v);
	put_le16(p + 2, (uint16_t)(v >> 16));
}

static void put_le64(uint8_t *p, uint64_t v)
{
	put_le32(p, (uint32_t)v);
	put_le32(p + 4, (uint32_t)(v >> 32));
}

/* A descriptor in either layout without its last field: split {addr, len, flags, next},
 * packed {addr, len, id, flags}. */
static void put_desc(uint8_t *d, uint64_t addr, uint32_t len, uint16_t w12)
{
	put_le64(d, addr);
	put_le32(d + 8, len);
	put_le16(d + 12, w12);
}

/* The last field; a packed driver publishes its flags with a release store (virtio 1.2,
 * 2.8.21.2 "Updating flags"). */
static void put_w14(uint8_t *d, uint16_t v, bool release)
{
	uint16_t raw;

	put_le16((uint8_t *)&raw, v);
	if (release)
		__atomic_store_n((uint16_t *)(void *)(d + 14), raw, __ATOMIC_RELEASE);
	else
		memcpy(d + 14, &raw, 2);
}

struct drv_chain {
	unsigned int	n;		/* buffers */
	bool		indirect;
	bool		publish;
	uint64_t	gpa[4];
	uint32_t	len[4];
	bool		write[4];
	uint64_t	table;		/* indirect table guest address */
};

/*
 * Decode an ADD operation: a bits 0-1 buffers - 1, bits 2-3 how many of them (at the end) are
 * device-writable, bit 4 indirect, bit 5 do not publish; b the first buffer's guest offset;
 * c bits 0-9 length - 1 of each buffer, bits 16-31 the indirect table's slot (16 bytes).
 */
static void drv_decode(const struct vbt_fuzz_vq *f, const struct vbt_fuzz_op *op,
		       struct drv_chain *ch)
{
	const uint32_t size = VBT_FUZZ_GUEST_SIZE;
	unsigned int nw = (op->a >> 2) & 3u;
	uint32_t len = 1u + (op->c & 0x3ffu);

	ch->n = 1u + (op->a & 3u);
	if (nw > ch->n)
		nw = ch->n;
	ch->indirect = (op->a & 0x10u) != 0;
	ch->publish = !(op->a & 0x20u);
	for (unsigned int i = 0; i < ch->n; i++) {
		ch->gpa[i] = f->g.gpa + (op->b + i * (len + 8u)) % (size - len);
		ch->len[i] = len;
		ch->write[i] = i >= ch->n - nw;
	}
	ch->table = f->g.gpa + ((uint64_t)(op->c >> 16) * 16u) % (size - 16u * ch->n);
}

static void drv_add_split(struct vbt_fuzz_vq *f, const struct vbt_fuzz_op *op)
{
	const uint16_t num = f->h.num;
	struct drv_chain ch;
	uint8_t *desc, *avail;
	uint16_t head, idx;

	if (num == 0 || (num & (num - 1u)) || num > VQ_NUM_MAX)
		return;
	desc = vbt_fuzz_guest_span(&f->g, f->ring_desc, 16u * num);
	avail = vbt_fuzz_guest_span(&f->g, f->ring_driver, 6u + 2u * num);
	if (!desc || !avail)
		return;
	drv_decode(f, op, &ch);
	head = (uint16_t)(f->drv_next_desc & (num - 1u));
	if (ch.indirect) {
		uint8_t *t = vbt_fuzz_guest_span(&f->g, ch.table, 16u * ch.n);

		for (unsigned int i = 0; i < ch.n; i++) {
			put_desc(t + 16u * i, ch.gpa[i], ch.len[i],
				 (uint16_t)((ch.write[i] ? VB_VRING_DESC_F_WRITE : 0u) |
					    (i + 1 < ch.n ? VB_VRING_DESC_F_NEXT : 0u)));
			put_w14(t + 16u * i, (uint16_t)(i + 1 < ch.n ? i + 1 : 0), false);
		}
		put_desc(desc + 16u * head, ch.table, 16u * ch.n, VB_VRING_DESC_F_INDIRECT);
		put_w14(desc + 16u * head, 0, false);
		f->drv_next_desc++;
	} else {
		for (unsigned int i = 0; i < ch.n; i++) {
			uint16_t cur = (uint16_t)(f->drv_next_desc & (num - 1u));
			uint16_t nxt = (uint16_t)((f->drv_next_desc + 1u) & (num - 1u));

			put_desc(desc + 16u * cur, ch.gpa[i], ch.len[i],
				 (uint16_t)((ch.write[i] ? VB_VRING_DESC_F_WRITE : 0u) |
					    (i + 1 < ch.n ? VB_VRING_DESC_F_NEXT : 0u)));
			put_w14(desc + 16u * cur, i + 1 < ch.n ? nxt : 0, false);
			f->drv_next_desc++;
		}
	}
	if (!ch.publish)
		return;
	/* virtio 1.2, 2.7.13 "Supplying Buffers to The Device": ring entry, then idx. */
	idx = (uint16_t)(avail[2] | avail[3] << 8);
	put_le16(avail + 4 + 2u * (idx & (num - 1u)), head);
	{
		uint16_t v;

		put_le16((uint8_t *)&v, (uint16_t)(idx + 1u));
		__atomic_store_n((uint16_t *)(void *)(avail + 2), v, __ATOMIC_RELEASE);
	}
}

static uint16_t avail_bits(bool wrap)
{
	return wrap ? F_AVAIL : F_USED;
}

static void drv_advance(struct vbt_fuzz_vq *f, uint16_t num)
{
	if (++f->drv_next_avail >= num) {
		f->drv_next_avail = 0;
		f->drv_avail_wrap = !f->drv_avail_wrap;
	}
}

static void drv_add_packed(struct vbt_fuzz_vq *f, const struct vbt_fuzz_op *op)
{
	const uint16_t num = f->h.num;
	struct drv_chain ch;
	uint16_t id, head_slot, head_flags = 0;
	uint8_t *desc;

	if (num == 0 || num > VQ_NUM_MAX)
		return;
	desc = vbt_fuzz_guest_span(&f->g, f->ring_desc, 16u * num);
	if (!desc)
		return;
	if (f->drv_next_avail >= num)
		drv_restart(f, 0, true);
	drv_decode(f, op, &ch);
	if (!ch.indirect && ch.n > num)
		ch.n = num;
	id = (uint16_t)(f->drv_next_id++ % num);
	head_slot = f->drv_next_avail;
	if (ch.indirect) {
		uint8_t *t = vbt_fuzz_guest_span(&f->g, ch.table, 16u * ch.n);

		/* virtio 1.2, 2.8.7: only WRITE is valid in a table. */
		for (unsigned int i = 0; i < ch.n; i++) {
			put_desc(t + 16u * i, ch.gpa[i], ch.len[i], 0);
			put_w14(t + 16u * i, ch.write[i] ? VB_VRING_DESC_F_WRITE : 0u, false);
		}
		head_flags = (uint16_t)(VB_VRING_DESC_F_INDIRECT | avail_bits(f->drv_avail_wrap));
		put_desc(desc + 16u * head_slot, ch.table, 16u * ch.n, id);
		drv_advance(f, num);
	} else {
		for (unsigned int i = 0; i < ch.n; i++) {
			uint8_t *d = desc + 16u * f->drv_next_avail;
			uint16_t fl = (uint16_t)(avail_bits(f->drv_avail_wrap) |
						 (ch.write[i] ? VB_VRING_DESC_F_WRITE : 0u) |
						 (i + 1 < ch.n ? VB_VRING_DESC_F_NEXT : 0u));

			put_desc(d, ch.gpa[i], ch.len[i], id);
			if (i == 0)
				head_flags = fl;
			else
				put_w14(d, fl, true);
			drv_advance(f, num);
		}
	}
	/* virtio 1.2, 2.8.21.2 "Updating flags": the head's flags last. */
	if (ch.publish)
		put_w14(desc + 16u * head_slot, head_flags, true);
}

/* PUBLISH: split: put head b in the next avail entry and bump idx; packed: make slot b % num
 * available in the lap of the driver's wrap counter (a bit 7 inverts it) with flags a & 7. */
static void drv_publish(struct vbt_fuzz_vq *f, const struct vbt_fuzz_op *op)
{
	const uint16_t num = f->h.num;

	if (num == 0 || num > VQ_NUM_MAX)
		return;
	if (!vq_packed(f)) {
		uint8_t *avail = vbt_fuzz_guest_span(&f->g, f->ring_driver, 6u + 2u * num);
		uint16_t idx;

		if (!avail || (num & (num - 1u)))
			return;
		idx = (uint16_t)(avail[2] | avail[3] << 8);
		put_le16(avail + 4 + 2u * (idx & (num - 1u)), op->b);
		put_le16(avail + 2, (uint16_t)(idx + 1u));
		return;
	}
	{
		uint16_t slot = (uint16_t)(op->b % num);
		uint8_t *d = vbt_fuzz_guest_span(&f->g, f->ring_desc + 16u * slot, 16);
		bool wrap = f->drv_avail_wrap != ((op->a & 0x80u) != 0);

		if (!d)
			return;
		put_le16(d + 12, (uint16_t)op->c);
		put_le16(d + 14, (uint16_t)(avail_bits(wrap) | (op->a & 7u)));
	}
}

static void drv_event(struct vbt_fuzz_vq *f, const struct vbt_fuzz_op *op)
{
	uint8_t *p;

	if (!vq_packed(f)) {
		uint64_t at = (op->a & 1u) ? f->ring_driver : f->ring_driver + 4u + 2u * f->h.num;

		p = vbt_fuzz_guest_span(&f->g, at, 2);
		if (p)
			put_le16(p, op->b);
		return;
	}
	p = vbt_fuzz_guest_span(&f->g, f->ring_driver, 4);
	if (p) {
		put_le16(p, op->b);
		put_le16(p + 2, (uint16_t)(op->a & 3u));
	}
}

static void drv_write(struct vbt_fuzz_vq *f, const struct vbt_fuzz_op *op)
{
	const size_t len = (size_t)1 << (op->a & 3u);
	size_t off = op->b % VBT_FUZZ_GUEST_SIZE;
	uint8_t v[8];

	if (off > VBT_FUZZ_GUEST_SIZE - len)
		off = VBT_FUZZ_GUEST_SIZE - len;
	put_le32(v, op->c);
	put_le32(v + 4, op->c);
	memcpy(f->g.base + off, v, len);
}

/* ---- control path ----------------------------------------------------------------------- */

static void op_set_pos(struct vbt_fuzz_vq *f, const struct vbt_fuzz_op *op)
{
	struct vb_vq_pos pos = {
		.avail_idx = op->b, .used_idx = (uint16_t)op->c,
		.avail_wrap = (op->a & 1u) != 0, .used_wrap = (op->a & 2u) != 0,
	};
	struct vb_vq_pos now, old;
	int ret;

	/* The transport stops the queue to restore a position (vhost-user SET_VRING_BASE). */
	ret = vb_dev_queue_enable(f->d.dev, 0, false);
	VBT_FUZZ_CHECK(ret == 0, "disabling the queue: %d", ret);
	vb_vq_get_pos(f->q.vq, &old);
	ret = vb_vq_set_pos(f->q.vq, &pos);
	VBT_FUZZ_CHECK(ret == 0 || (ret == -EINVAL && vq_packed(f)), "vb_vq_set_pos: %d", ret);
	if (ret < 0) {
		/* VB-REQ-PVQ-011: refused, nothing changed. */
		vb_vq_get_pos(f->q.vq, &now);
		VBT_FUZZ_CHECK(now.avail_idx == old.avail_idx && now.used_idx == old.used_idx &&
			       now.avail_wrap == old.avail_wrap && now.used_wrap == old.used_wrap,
			       "a refused set_pos moved the position");
	} else {
		vb_vq_get_pos(f->q.vq, &now);
		VBT_FUZZ_CHECK(now.avail_idx == pos.avail_idx && now.used_idx == pos.used_idx,
			       "position not restored");
	}
	vbt_fuzz_q_forget(&f->q, false);
	f->q.pos_exact = false;
	if (!(op->a & 4u)) {
		/* ... and starts it again (a vhost-user backend: SET_VRING_ENABLE). */
		ret = vb_dev_queue_enable(f->d.dev, 0, true);
		VBT_FUZZ_CHECK(ret == 0 || ret == -EPROTO || ret == -EFAULT || ret == -EOVERFLOW,
			       "re-enabling the queue: %d", ret);
		check_started(f);
	}
	vb_vq_get_pos(f->q.vq, &now);
	drv_restart(f, now.avail_idx, now.avail_wrap);
}

static void zero_rings(struct vbt_fuzz_vq *f)
{
	const uint32_t num = f->h.num;
	struct {
		uint64_t gpa;
		size_t len;
	} area[3] = {
		{ f->ring_desc, 16u * num },
		{ f->ring_driver, vq_packed(f) ? 4u : 6u + 2u * num },
		{ f->ring_device, vq_packed(f) ? 4u : 6u + 8u * num },
	};

	for (unsigned int i = 0; i < 3; i++) {
		void *p = vbt_fuzz_guest_span(&f->g, area[i].gpa, area[i].len);

		if (p)
			memset(p, 0, area[i].len);
	}
}

static void op_queue_reset(struct vbt_fuzz_vq *f, const struct vbt_fuzz_op *op)
{
	struct vb_queue_config cfg;
	int ret = vb_dev_queue_reset(f->d.dev, 0);

	VBT_FUZZ_CHECK(ret == 0, "vb_dev_queue_reset: %d", ret);
	/* virtio 1.2, 2.6.1 "Virtqueue Reset": the queue forgets everything. */
	ret = vb_dev_queue_get_config(f->d.dev, 0, &cfg);
	VBT_FUZZ_CHECK(ret == 0 && !cfg.enabled && cfg.num == 0 && cfg.desc == 0,
		       "queue configuration survived a queue reset");
	VBT_FUZZ_CHECK(vb_vq_error(f->q.vq) == 0 && !vb_vq_is_ready(f->q.vq),
		       "queue state survived a queue reset");
	vbt_fuzz_q_forget(&f->q, true);
	if (op->a & 0x80u)
		zero_rings(f);
	queue_setup(f);
	drv_restart(f, 0, true);
}

static void op_device_reset(struct vbt_fuzz_vq *f, const struct vbt_fuzz_op *op)
{
	uint64_t drop = 0;
	int ret;

	ret = vb_dev_set_status(f->d.dev, 0);
	VBT_FUZZ_CHECK(ret == 0, "status 0: %d", ret);
	VBT_FUZZ_CHECK(vb_dev_get_status(f->d.dev) == 0 && vb_vq_error(f->q.vq) == 0 &&
		       !vb_vq_is_ready(f->q.vq), "device state survived a reset");
	if (op->a & (1u << VBT_FUZZ_F_INDIRECT))
		drop |= VB_BIT(VB_VIRTIO_F_INDIRECT_DESC);
	if (op->a & (1u << VBT_FUZZ_F_EVENT_IDX))
		drop |= VB_BIT(VB_VIRTIO_F_EVENT_IDX);
	if (op->a & (1u << VBT_FUZZ_F_IN_ORDER))
		drop |= VB_BIT(VB_VIRTIO_F_IN_ORDER);
	if (op->a & 8u)
		drop |= VB_BIT(VB_VIRTIO_F_RING_PACKED);
	f->accepted = f->offered & ~drop;
	if (op->a & 0x80u)
		zero_rings(f);
	bring_up(f);
}

static void op_remap(struct vbt_fuzz_vq *f, const struct vbt_fuzz_op *op)
{
	bool was_broken = vb_vq_error(f->q.vq) != 0;
	struct vb_vq_pos before, after;
	int ret;

	if (!vbt_fuzz_remap(&f->g, &f->rm, op->a, op->c))
		return;
	vb_vq_get_pos(f->q.vq, &before);
	ret = vb_dev_remap(f->d.dev);
	/* VB-REQ-DEV-013: the rings are translated again, the position is kept. */
	vb_vq_get_pos(f->q.vq, &after);
	VBT_FUZZ_CHECK(before.avail_idx == after.avail_idx && before.used_idx == after.used_idx &&
		       before.avail_wrap == after.avail_wrap && before.used_wrap == after.used_wrap,
		       "remap moved the ring position");
	VBT_FUZZ_CHECK(ret == 0 || ret == -EFAULT || ret == -EOVERFLOW || ret == -EPROTO,
		       "vb_dev_remap: %d", ret);
	if (ret < 0) {
		VBT_FUZZ_CHECK(vb_vq_error(f->q.vq) == (was_broken ? vb_vq_error(f->q.vq) : ret),
			       "remap failed with %d, queue error %d", ret, vb_vq_error(f->q.vq));
		VBT_FUZZ_CHECK(vb_dev_get_status(f->d.dev) & VB_VIRTIO_S_NEEDS_RESET,
			       "remap broke the rings without NEEDS_RESET");
	}
	/* The chains' iovecs belonged to the old map. */
	vbt_fuzz_q_forget(&f->q, false);
}

static void op_kick(struct vbt_fuzz_vq *f, const struct vbt_fuzz_op *op)
{
	bool broken = vb_vq_error(f->q.vq) != 0, ready = vb_vq_is_ready(f->q.vq);
	unsigned int kicks = f->d.kicks;
	int ret;

	kick_seed = op->c ^ (uint32_t)op->b << 8;
	ret = vb_dev_kick(f->d.dev, 0);
	if (broken)
		VBT_FUZZ_CHECK(ret == -ENOTRECOVERABLE, "kick of a broken queue: %d", ret);
	else if (!ready)
		VBT_FUZZ_CHECK(ret == -EAGAIN, "kick of a stopped queue: %d", ret);
	else
		VBT_FUZZ_CHECK(ret == 0 && f->d.kicks == kicks + 1, "kick: %d", ret);
	if (ret != 0)
		VBT_FUZZ_CHECK(f->d.kicks == kicks, "refused kick ran the model");
}

void vbt_fuzz_vq_step(struct vbt_fuzz_vq *f, const struct vbt_fuzz_op *op)
{
	vbt_fuzz_trace("op %u a 0x%x b 0x%x c 0x%x", op->code % VBT_FUZZ_OP_COUNT, op->a, op->b,
		       op->c);
	switch ((enum vbt_fuzz_opcode)(op->code % VBT_FUZZ_OP_COUNT)) {
	case VBT_FUZZ_OP_POP:
		vbt_fuzz_q_pop(&f->q, 0);
		break;
	case VBT_FUZZ_OP_POP_BATCH:
		vbt_fuzz_q_pop(&f->q, 1u + op->a % VBT_FUZZ_MAX_BATCH);
		break;
	case VBT_FUZZ_OP_PUSH: {
		bool ooo = (op->a & 0x40u) != 0;

		vbt_fuzz_q_push(&f->q, ooo ? op->b : 0u, 1, op->c, (op->a & 0x80u) != 0, false);
		break;
	}
	case VBT_FUZZ_OP_PUSH_BATCH:
		vbt_fuzz_q_push(&f->q, 0, 1u + op->a % VBT_FUZZ_MAX_BATCH, op->c,
				(op->a & 0x80u) != 0, true);
		break;
	case VBT_FUZZ_OP_NOTIFY:
		vbt_fuzz_q_notify(&f->q, (op->a & 1u) != 0);
		break;
	case VBT_FUZZ_OP_KICKS:
		vbt_fuzz_q_kicks(&f->q, (op->a & 1u) != 0);
		break;
	case VBT_FUZZ_OP_SET_POS:
		op_set_pos(f, op);
		break;
	case VBT_FUZZ_OP_QUEUE_RESET:
		op_queue_reset(f, op);
		break;
	case VBT_FUZZ_OP_DEVICE_RESET:
		op_device_reset(f, op);
		break;
	case VBT_FUZZ_OP_REMAP:
		op_remap(f, op);
		break;
	case VBT_FUZZ_OP_WRITE:
		drv_write(f, op);
		break;
	case VBT_FUZZ_OP_ADD:
		if (vq_packed(f))
			drv_add_packed(f, op);
		else
			drv_add_split(f, op);
		break;
	case VBT_FUZZ_OP_PUBLISH:
		drv_publish(f, op);
		break;
	case VBT_FUZZ_OP_DRIVER_EVENT:
		drv_event(f, op);
		break;
	case VBT_FUZZ_OP_KICK:
		op_kick(f, op);
		break;
	case VBT_FUZZ_OP_TOUCH:
		vbt_fuzz_q_touch(&f->q, op->c);
		break;
	case VBT_FUZZ_OP_COUNT:
		break;
	}
}

void vbt_fuzz_vq_check_invariants(struct vbt_fuzz_vq *f)
{
	uint8_t status = vb_dev_get_status(f->d.dev);

	vbt_fuzz_q_check(&f->q);
	/* NEEDS_RESET comes only from a violation on the one queue (the model never fails
	 * activation), which a queue reset may since have cleared. */
	if ((status & VB_VIRTIO_S_NEEDS_RESET) && vb_vq_error(f->q.vq) == 0)
		VBT_FUZZ_CHECK(f->q.reset_since_break, "NEEDS_RESET with a healthy queue");
	/* The transport hears of NEEDS_RESET once per device lifetime (since the last reset). */
	VBT_FUZZ_CHECK(f->d.needs_reset - f->needs_reset_base ==
		       ((status & VB_VIRTIO_S_NEEDS_RESET) ? 1u : 0u),
		       "transport told of NEEDS_RESET %u times, status 0x%x",
		       f->d.needs_reset - f->needs_reset_base, status);
	/* VB-REQ-VQ-100: with DRIVER_OK set (always, from the first break on), NEEDS_RESET comes
	 * with one configuration change notification. */
	VBT_FUZZ_CHECK(f->d.config_changes - f->config_changes_base ==
		       f->d.needs_reset - f->needs_reset_base,
		       "%u config change notifications for %u NEEDS_RESET",
		       f->d.config_changes - f->config_changes_base,
		       f->d.needs_reset - f->needs_reset_base);
	VBT_FUZZ_CHECK(f->q.n_out <= VBT_FUZZ_MAX_OUT, "outstanding overflow");
}

int vbt_fuzz_vq_run(struct vbt_fuzz_vq *f, const uint8_t *data, size_t size, bool packed)
{
	if (vbt_fuzz_vq_parse(f, data, size, packed) < 0)
		return 0;
	for (unsigned int i = 0; i < f->n_ops; i++) {
		vbt_fuzz_vq_step(f, &f->ops[i]);
		vbt_fuzz_vq_check_invariants(f);
	}
	vbt_fuzz_vq_fini(f);
	return 0;
}

/* ---- virtio-mmio fuzzer ----------------------------------------------------------------- */

size_t vbt_fuzz_mmio_hdr_put(uint8_t *out, const struct vbt_fuzz_mmio_hdr *h)
{
	uint8_t *p = out;

	*p++ = h->features;
	*p++ = h->layout;
	*p++ = h->options;
	*p++ = h->n_ops;
	p += vbt_fuzz_put16(p, h->num_max);
	*p++ = h->iov_cap;
	*p++ = h->seed;
	p += vbt_fuzz_put32(p, h->ro_mask);
	p += vbt_fuzz_put32(p, h->wo_mask);
	return (size_t)(p - out);
}
