/* SPDX-License-Identifier: MIT */
/* Chain helpers: copy-once reads, writes, and a cursor over iovecs (freestanding). */
#include <stdbool.h>
#include <string.h>

#include "virtio-backend/chain.h"
#include "virtio-backend/error.h"
#include "internal/compiler.h"

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

VB_EXPORT size_t vb_iov_cursor_read(struct vb_iov_cursor *cur, void *buf, size_t len)
{
	struct vb_iov piece;
	size_t done = 0;

	while (done < len && vb_iov_cursor_next(cur, len - done, &piece)) {
		memcpy((uint8_t *)buf + done, piece.base, piece.len);
		done += piece.len;
	}
	return done;
}

VB_EXPORT size_t vb_iov_cursor_write(struct vb_iov_cursor *cur, const void *buf, size_t len)
{
	struct vb_iov piece;
	size_t done = 0;

	while (done < len && vb_iov_cursor_next(cur, len - done, &piece)) {
		memcpy(piece.base, (const uint8_t *)buf + done, piece.len);
		done += piece.len;
	}
	return done;
}

VB_EXPORT size_t vb_iov_cursor_skip(struct vb_iov_cursor *cur, size_t len)
{
	struct vb_iov piece;
	size_t done = 0;

	while (done < len && vb_iov_cursor_next(cur, len - done, &piece))
		done += piece.len;
	return done;
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

/* True if [off, off + len) lies inside a part of total bytes and fits the int return. */
static bool part_range_ok(size_t total, size_t off, size_t len)
{
	return off <= total && len <= total - off && len <= INT32_MAX;
}

/* Bytes a part really holds: read_len/write_len as recorded, but never more than its
 * iovecs, so a chain built by hand with an overstated length cannot make a copy come up
 * short after success was promised. @satisfy{VB-REQ-CHAIN-007} */
static size_t part_len(const struct vb_iov_cursor *cur, uint32_t recorded)
{
	return cur->remaining < recorded ? cur->remaining : recorded;
}

/* @satisfy{VB-REQ-CHAIN-001}: all or nothing. */
VB_EXPORT int vb_chain_read(const struct vb_chain *c, size_t off, void *buf, size_t len)
{
	struct vb_iov_cursor cur;

	vb_iov_cursor_init(&cur, c->read, c->n_read);
	if (!part_range_ok(part_len(&cur, c->read_len), off, len))
		return -EBADMSG;
	vb_iov_cursor_skip(&cur, off);
	vb_iov_cursor_read(&cur, buf, len);
	return (int)len;
}

/* @satisfy{VB-REQ-CHAIN-002}: all or nothing, and only ever into the writable part. */
VB_EXPORT int vb_chain_write(const struct vb_chain *c, size_t off, const void *buf, size_t len)
{
	struct vb_iov_cursor cur;

	vb_iov_cursor_init(&cur, c->write, c->n_write);
	if (!part_range_ok(part_len(&cur, c->write_len), off, len))
		return -ENOSPC;
	vb_iov_cursor_skip(&cur, off);
	vb_iov_cursor_write(&cur, buf, len);
	return (int)len;
}
