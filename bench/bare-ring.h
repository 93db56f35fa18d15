/* SPDX-License-Identifier: MIT */
/*
 * The yardstick for bench-vq: device sides of a split and a packed virtqueue with the same
 * memory layout and the same output (struct vb_chain iovecs) as the library's, but with no
 * validation at all. Only what any device must do is here: read the index or the AVAIL bit
 * with acquire, follow NEXT (and INDIRECT) descriptors, turn each address into base + offset,
 * count bytes per direction, and write used entries with one release store per batch.
 *
 * There are no bounds, loop, direction, length, region or sticky-error checks, no address
 * translation beyond base + offset, no dispatch and no counters. A hostile driver can make
 * this code read and write anywhere: it exists only to be measured against.
 */
#ifndef BENCH_BARE_RING_H
#define BENCH_BARE_RING_H

#include <stdint.h>

#include "virtio-backend/chain.h"
#include "virtio-backend/spec.h"

/* Device side of a split ring (virtio 1.2, 2.7), guest memory one block at host base. */
struct bare_split {
	const struct vb_vring_desc	*desc;
	const struct vb_vring_avail	*avail;
	struct vb_vring_used		*used;
	uint8_t				*host_base;	/* host address of guest address gpa_base */
	uint64_t			gpa_base;
	uint16_t			num;		/* power of two */
	uint16_t			last_avail;
	uint16_t			shadow_avail;	/* last avail->idx read */
	uint16_t			used_idx;
};

/* Device side of a packed ring (virtio 1.2, 2.8). */
struct bare_packed {
	struct vb_vring_packed_desc	*desc;
	uint8_t				*host_base;
	uint64_t			gpa_base;
	uint16_t			num;
	uint16_t			last_avail;
	uint16_t			used_idx;
	uint8_t				avail_wrap;
	uint8_t				used_wrap;
};

/* Pop up to n chains; returns how many. Same contract as vb_vq_pop_batch() on good input. */
int bare_split_pop(struct bare_split *r, struct vb_chain *chains, unsigned int n);
/* Pop one chain: 1, or 0 if none (the analogue of vb_vq_pop()). */
int bare_split_pop1(struct bare_split *r, struct vb_chain *c);
/* Push n chains (head and written only) with one used->idx store. */
void bare_split_push(struct bare_split *r, const struct vb_chain *chains,
		     const uint32_t *written, unsigned int n);

int bare_packed_pop(struct bare_packed *r, struct vb_chain *chains, unsigned int n);
int bare_packed_pop1(struct bare_packed *r, struct vb_chain *c);
void bare_packed_push(struct bare_packed *r, const struct vb_chain *chains,
		      const uint32_t *written, unsigned int n);

#endif
