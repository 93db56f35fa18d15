/* SPDX-License-Identifier: MIT */
/* Chain helpers: copy-once reads, writes, and a cursor over iovecs (freestanding). */
#include <stdbool.h>
#include <string.h>

#include "virtio-backend/chain.h"
#include "virtio-backend/error.h"
#include "internal/compiler.h"
#include "internal/config.h"

#if VB_CONFIG_CURSOR
VB_EXPORT void vb_iov_cursor_init(struct vb_iov_cursor *cur, const struct vb_iov *iov,
				  unsigned int n)
{
	cur->iov = iov;
	cur->n = n;
	cur->idx = 0;
	cur->off = 0;
	cur->remaining = 0;
	for (unsigned int i = 0; i < n; i++)
		cur->remaining += iov[i].len;
	/* Skip leading empty entries so idx always names a piece with bytes left. */
	while (cur->idx < n && iov[cur->idx].len == 0)
		cur->idx++;
}

VB_EXPORT int vb_iov_cursor_next(struct vb_iov_cursor *cur, size_t len, struct vb_iov *out)
{
	const struct vb_iov *v;
	size_t left;

	if (len == 0 || cur->remaining == 0)
		return 0;
	v = &cur->iov[cur->idx];
	left = v->len - cur->off;
	out->base = (uint8_t *)v->base + cur->off;
	out->len = left < len ? left : len;
	cur->off += out->len;
	cur->remaining -= out->len;
	if (cur->off == v->len) {
		cur->off = 0;
		do
			cur->idx++;
		while (cur->idx < cur->n && cur->iov[cur->idx].len == 0);
	}
	return 1;
}

/* Move the cursor over up to len bytes, copying them to buf (CUR_READ), from buf
 * (CUR_WRITE) or not at all (CUR_SKIP, buf unused). Returns the bytes moved over. */
enum cur_op { CUR_READ, CUR_WRITE, CUR_SKIP };

static VB_SIZE_NOINLINE size_t cursor_move(struct vb_iov_cursor *cur, void *buf, size_t len,
					   enum cur_op op)
{
	struct vb_iov piece;
	size_t done = 0;

	while (done < len && vb_iov_cursor_next(cur, len - done, &piece)) {
		if (op == CUR_READ)
			memcpy((uint8_t *)buf + done, piece.base, piece.len);
		else if (op == CUR_WRITE)
			memcpy(piece.base, (const uint8_t *)buf + done, piece.len);
		done += piece.len;
	}
	return done;
}

VB_EXPORT size_t vb_iov_cursor_read(struct vb_iov_cursor *cur, void *buf, size_t len)
{
	return cursor_move(cur, buf, len, CUR_READ);
}

VB_EXPORT size_t vb_iov_cursor_write(struct vb_iov_cursor *cur, const void *buf, size_t len)
{
	/* cursor_move() only reads buf for CUR_WRITE. */
	return cursor_move(cur, (void *)(uintptr_t)buf, len, CUR_WRITE);
}

VB_EXPORT size_t vb_iov_cursor_skip(struct vb_iov_cursor *cur, size_t len)
{
	return cursor_move(cur, NULL, len, CUR_SKIP);
}

VB_EXPORT int vb_iov_cursor_slice(struct vb_iov_cursor *cur, size_t len, struct vb_iov *out,
				  unsigned int out_num)
{
	struct vb_iov_cursor save = *cur;
	unsigned int n = 0;
	size_t done = 0;

	if (len > cur->remaining)
		return -E2BIG;
	while (done < len) {
		if (n == out_num) {
			*cur = save;
			return -E2BIG;
		}
		vb_iov_cursor_next(cur, len - done, &out[n]);
		done += out[n].len;
		n++;
	}
	return (int)n;
}

#endif /* VB_CONFIG_CURSOR */

/* True if [off, off + len) lies inside a part of total bytes and fits the int return. */
static bool part_range_ok(size_t total, size_t off, size_t len)
{
	return off <= total && len <= total - off && len <= INT32_MAX;
}

/*
 * Copy len bytes at byte off of a chain part (n iovecs, recorded bytes) to buf, or from buf
 * (to_iov), all or nothing. A part really holds what read_len/write_len records, but never
 * more than its iovecs, so a chain built by hand with an overstated length cannot make a copy
 * come up short after success was promised. Returns len, or -EBADMSG (read) / -ENOSPC
 * (write) if the range is not inside the part.
 * @satisfy{VB-REQ-CHAIN-007}
 */
static int part_copy(const struct vb_iov *iov, unsigned int n, uint32_t recorded, size_t off,
		     uint8_t *buf, size_t len, bool to_iov)
{
	size_t total = 0;
	const size_t done = len;

	for (unsigned int i = 0; i < n; i++)
		total += iov[i].len;
	if (total > recorded)
		total = recorded;
	if (!part_range_ok(total, off, len))
		return to_iov ? -ENOSPC : -EBADMSG;
	/* In range: the walk ends before the last iovec runs out. */
	for (; len; iov++) {
		size_t take;

		if (off >= iov->len) {
			off -= iov->len;
			continue;
		}
		take = iov->len - off < len ? iov->len - off : len;
		if (to_iov)
			memcpy((uint8_t *)iov->base + off, buf, take);
		else
			memcpy(buf, (const uint8_t *)iov->base + off, take);
		buf += take;
		len -= take;
		off = 0;
	}
	return (int)done;
}

/* @satisfy{VB-REQ-CHAIN-001}: all or nothing. */
VB_EXPORT int vb_chain_read(const struct vb_chain *c, size_t off, void *buf, size_t len)
{
	return part_copy(c->read, c->n_read, c->read_len, off, buf, len, false);
}

/* @satisfy{VB-REQ-CHAIN-002}: all or nothing, and only ever into the writable part. */
VB_EXPORT int vb_chain_write(const struct vb_chain *c, size_t off, const void *buf, size_t len)
{
	/* part_copy() only reads buf when it copies to the iovecs. */
	return part_copy(c->write, c->n_write, c->write_len, off, (uint8_t *)(uintptr_t)buf, len,
			 true);
}
