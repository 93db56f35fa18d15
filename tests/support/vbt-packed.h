/* SPDX-License-Identifier: MIT */
/*
 * Driver side of a packed virtqueue in fake guest memory (virtio 1.2, 2.8), as a Linux driver
 * lays it out and uses it, plus raw accessors to build hostile rings. Shared by unit tests,
 * fuzzers and benchmarks.
 *
 * Buffer descriptions are struct vbt_buf from vbt-split.h (address, length, device-writable).
 */
#ifndef VBT_PACKED_H
#define VBT_PACKED_H

#include <stdbool.h>
#include <stdint.h>

#include "virtio-backend/spec.h"
#include "vbt-mem.h"
#include "vbt-split.h"

/* AVAIL and USED flag bits of a packed descriptor (virtio 1.2, 2.8.1). */
#define VBT_PACKED_F_AVAIL	((uint16_t)(1u << VB_VRING_PACKED_DESC_F_AVAIL))
#define VBT_PACKED_F_USED	((uint16_t)(1u << VB_VRING_PACKED_DESC_F_USED))

struct vbt_packed {
	struct vbt_guest	*g;
	uint16_t		num;
	uint64_t		desc_gpa, driver_gpa, device_gpa;
	struct vb_vring_packed_desc *desc;
	struct vb_vring_packed_event *driver;	/* driver event suppression (the driver writes) */
	struct vb_vring_packed_event *device;	/* device event suppression (the device writes) */
	/* Driver state, as in virtio 1.2, 2.8.21 and 2.8.22 (both wrap counters start at 1). */
	uint16_t		next_avail;
	bool			avail_wrap;
	uint16_t		next_used;
	bool			used_wrap;
	uint16_t		free_slots;	/* ring descriptors not owned by the device */
	uint16_t		next_id;	/* where the buffer id search starts */
	uint16_t		id_slots[VB_VQ_MAX_SIZE];	/* ring slots per id; 0: id free */
};

/* A chain written but not yet made available: its head's flags are still to be stored. */
struct vbt_packed_pending {
	uint16_t slot;		/* ring slot of the head */
	uint16_t flags;		/* the head's flags */
	uint16_t id;		/* buffer id of the chain */
};

/* Lay out a ring of num entries (1..32768, any size) in g: descriptors 16-aligned, the two
 * event suppression structures 4-aligned; everything zeroed as a driver does. */
void vbt_packed_init(struct vbt_packed *r, struct vbt_guest *g, uint16_t num);

/* The AVAIL/USED bits a driver sets to make a descriptor available in the lap with
 * driver wrap counter wrap. */
uint16_t vbt_packed_avail_bits(bool wrap);

/* Write a chain for bufs (n direct descriptors, or one indirect descriptor pointing at a
 * table allocated in guest memory) and make it available (head flags last, release store).
 * Returns the buffer id, or -1 if the ring has no room. */
int vbt_packed_add(struct vbt_packed *r, const struct vbt_buf *bufs, unsigned int n,
		   bool indirect);

/* Like vbt_packed_add() but leave the head unpublished; vbt_packed_publish() exposes it.
 * Returns 0 or -1 (no room). */
int vbt_packed_prepare(struct vbt_packed *r, const struct vbt_buf *bufs, unsigned int n,
		       bool indirect, struct vbt_packed_pending *p);
void vbt_packed_publish(struct vbt_packed *r, const struct vbt_packed_pending *p);

/* Allocate and fill a packed indirect table for bufs; returns its guest address. */
uint64_t vbt_packed_indirect_table(struct vbt_packed *r, const struct vbt_buf *bufs,
				   unsigned int n);

/* Raw descriptor write at ring slot i (flags stored last, release) for hostile rings. The
 * driver's position is not moved: see vbt_packed_advance(). */
void vbt_packed_put_desc(struct vbt_packed *r, uint16_t i, uint64_t addr, uint32_t len,
			 uint16_t id, uint16_t flags);

/* Raw descriptor write in a table at guest address table_gpa. */
void vbt_packed_put_table_desc(struct vbt_packed *r, uint64_t table_gpa, uint16_t i,
			       uint64_t addr, uint32_t len, uint16_t id, uint16_t flags);

/* Move the driver's next_avail by n slots (wrapping and toggling avail_wrap) without writing
 * anything: used after raw writes. */
void vbt_packed_advance(struct vbt_packed *r, uint16_t n);

/* Read the next used descriptor: 1 and its id/len/flags (any pointer may be NULL) if there is
 * one, 0 if none; -1 if the id is not one the driver has outstanding. Skips as many slots as
 * the chain had and frees the id. */
int vbt_packed_get_used(struct vbt_packed *r, uint16_t *id, uint32_t *len, uint16_t *flags);

/* The driver's event suppression structure (virtio 1.2, 2.8.14): flags, and for
 * VB_VRING_PACKED_EVENT_FLAG_DESC the slot and wrap counter of the event. */
void vbt_packed_set_driver_event(struct vbt_packed *r, uint16_t flags, uint16_t off, bool wrap);

/* The device's event suppression structure as the driver reads it. */
uint16_t vbt_packed_device_event_flags(const struct vbt_packed *r);
uint16_t vbt_packed_device_event_off_wrap(const struct vbt_packed *r);

/* Would a Linux driver kick now, having moved next_avail from (old, old_wrap) to the
 * current position (virtqueue_kick_prepare_packed)? */
bool vbt_packed_driver_would_kick(const struct vbt_packed *r, uint16_t old, bool old_wrap);

#endif
