/* SPDX-License-Identifier: MIT */
/*
 * Driver side of a split virtqueue in fake guest memory (virtio 1.2, 2.7), as a Linux driver
 * lays it out, plus raw accessors to build hostile rings. Shared by unit tests, fuzzers and
 * benchmarks.
 */
#ifndef VBT_SPLIT_H
#define VBT_SPLIT_H

#include <stdbool.h>
#include <stdint.h>

#include "virtio-backend/spec.h"
#include "vbt-mem.h"

/* One buffer of a chain as the driver describes it. */
struct vbt_buf {
	uint64_t gpa;
	uint32_t len;
	bool	 write;		/* device-writable */
};

struct vbt_split {
	struct vbt_guest	*g;
	uint16_t		num;
	uint64_t		desc_gpa, avail_gpa, used_gpa;
	struct vb_vring_desc	*desc;
	struct vb_vring_avail	*avail;
	vb_le16			*avail_ring;	/* num entries, then used_event */
	struct vb_vring_used	*used;
	struct vb_vring_used_elem *used_ring;	/* num entries, then avail_event */
	uint16_t		avail_idx;	/* driver's next avail index */
	uint16_t		last_used;	/* driver's next used index to read */
	uint16_t		next_desc;	/* round-robin descriptor allocator */
};

/* Lay out a ring of num entries (power of two) in g, Linux-style: descriptors 16-aligned,
 * driver area 2-aligned, device area 4-aligned (or legacy layout with align != 0). */
void vbt_split_init(struct vbt_split *r, struct vbt_guest *g, uint16_t num);

/* Same, over ring areas the caller placed (e.g. by vb_vq_legacy_layout()); the memory must
 * be inside g and zeroed. */
void vbt_split_init_at(struct vbt_split *r, struct vbt_guest *g, uint16_t num,
		       uint64_t desc_gpa, uint64_t avail_gpa, uint64_t used_gpa);

/* Write descriptors for bufs (direct, or one indirect descriptor pointing at a table
 * allocated in guest memory), publish the head (release store of avail->idx). Returns the
 * head. */
uint16_t vbt_split_add(struct vbt_split *r, const struct vbt_buf *bufs, unsigned int n,
		       bool indirect);

/* Write only the descriptors (no publish); returns the head. */
uint16_t vbt_split_write_chain(struct vbt_split *r, const struct vbt_buf *bufs, unsigned int n,
			       bool indirect);

/* Allocate and fill an indirect table for bufs; returns its guest address. */
uint64_t vbt_split_indirect_table(struct vbt_split *r, const struct vbt_buf *bufs,
				  unsigned int n);

/* Raw descriptor write at index i of the ring's table (hostile rings). */
void vbt_split_put_desc(struct vbt_split *r, uint16_t i, uint64_t addr, uint32_t len,
			uint16_t flags, uint16_t next);

/* Raw descriptor write in a table at guest address table_gpa. */
void vbt_split_put_table_desc(struct vbt_split *r, uint64_t table_gpa, uint16_t i,
			      uint64_t addr, uint32_t len, uint16_t flags, uint16_t next);

/* Put head (any value) in the next avail slot and advance avail->idx by one. */
void vbt_split_publish(struct vbt_split *r, uint16_t head);

/* Store avail->idx directly (hostile index jumps). */
void vbt_split_set_avail_idx(struct vbt_split *r, uint16_t idx);

/* Read the next used element: 1 and id/len if there is one, 0 otherwise. */
int vbt_split_get_used(struct vbt_split *r, uint32_t *id, uint32_t *len);

/* Driver-side suppression controls and the device's published fields. */
void vbt_split_set_no_interrupt(struct vbt_split *r, bool on);
void vbt_split_set_used_event(struct vbt_split *r, uint16_t v);
uint16_t vbt_split_avail_event(const struct vbt_split *r);
bool vbt_split_device_no_notify(const struct vbt_split *r);
uint16_t vbt_split_used_idx(const struct vbt_split *r);

/* Would a Linux driver kick now, having moved avail->idx from old to new? */
bool vbt_split_driver_would_kick(const struct vbt_split *r, bool event_idx, uint16_t old_idx,
				 uint16_t new_idx);

#endif
