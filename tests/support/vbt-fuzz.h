/* SPDX-License-Identifier: MIT */
/*
 * Fuzz plumbing shared by fuzz/fuzz-*.c and fuzz/gen-corpus.c (rust-vmm's operation script,
 * in C): a byte reader over the input, the binary formats (so that the seed generator writes
 * exactly what the fuzzers read), a fake guest built from a layout byte, and a "device model"
 * for one queue that pops, pushes and notifies while checking the core's invariants after
 * every call. A broken invariant aborts with a message: libFuzzer reports it as a crash and
 * fuzz/replay.c exits with the signal.
 *
 * Input formats are documented at the top of each fuzz/fuzz-*.c.
 */
#ifndef VBT_FUZZ_H
#define VBT_FUZZ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "virtio-backend.h"
#include "vbt-dev.h"
#include "vbt-mem.h"
#include "vbt-split.h"

/* ---- failure ---------------------------------------------------------------------------- */

/* Print "vbt-fuzz: invariant failed at file:line: message" and abort(). */
__attribute__((noreturn, format(printf, 3, 4)))
void vbt_fuzz_fail(const char *file, int line, const char *fmt, ...);

#define VBT_FUZZ_CHECK(cond, ...) \
	do { \
		if (!(cond)) \
			vbt_fuzz_fail(__FILE__, __LINE__, __VA_ARGS__); \
	} while (0)

/* With VBT_FUZZ_TRACE in the environment, print one line per step (triage of a finding). */
bool vbt_fuzz_trace_on(void);
__attribute__((format(printf, 1, 2))) void vbt_fuzz_trace(const char *fmt, ...);

/* True for the errors that report a driver's protocol violation (vq.h, vb_vq_pop()). */
bool vbt_fuzz_is_violation(int ret);

/* ---- input ------------------------------------------------------------------------------ */

/* A reader over the fuzz input; reads past the end give zeros (a short input is valid). */
struct vbt_fuzz_in {
	const uint8_t	*p;
	size_t		left;
};

uint8_t vbt_fuzz_u8(struct vbt_fuzz_in *in);
uint16_t vbt_fuzz_u16(struct vbt_fuzz_in *in);	/* little-endian */
uint32_t vbt_fuzz_u32(struct vbt_fuzz_in *in);	/* little-endian */

/* One operation of a script: 8 bytes, code a b(le16) c(le32). */
#define VBT_FUZZ_OP_LEN	8u
#define VBT_FUZZ_MAX_OPS 255u

struct vbt_fuzz_op {
	uint8_t		code;
	uint8_t		a;
	uint16_t	b;
	uint32_t	c;
};

void vbt_fuzz_op_get(struct vbt_fuzz_in *in, struct vbt_fuzz_op *op);

/* Little-endian writers for the seed generator; each returns the bytes written. */
size_t vbt_fuzz_put16(uint8_t *out, uint16_t v);
size_t vbt_fuzz_put32(uint8_t *out, uint32_t v);
size_t vbt_fuzz_op_put(uint8_t *out, const struct vbt_fuzz_op *op);

/* ---- fake guest ------------------------------------------------------------------------- */

/* Guest bytes of every fuzzed guest: four pages, so that the guard pages are flush with both
 * ends of the guest (tests/support/vbt-mem.c) and one byte beyond it faults. */
#define VBT_FUZZ_GUEST_SIZE	16384u

/*
 * Layout byte:
 *   bits 0-2: region size k: 0 = one region of the whole guest, 1..6 = regions of
 *             16 KiB >> k bytes (8 KiB .. 256 bytes), 7 = as 6;
 *   bits 3-4: guest address of byte 0 (vbt_fuzz_guest_base()).
 * ro_mask / wo_mask: region i is made device-read-only if bit (i % 32) of ro_mask is set,
 * device-write-only if that bit of wo_mask is set, and stays read-write if both or neither are.
 */
#define VBT_FUZZ_LAYOUT(region_class, base_sel) \
	((uint8_t)(((region_class) & 7u) | (((base_sel) & 3u) << 3)))

size_t vbt_fuzz_region_size(uint8_t layout);	/* 0: one region */
uint64_t vbt_fuzz_guest_base(uint8_t layout);

/* Map the guest, cut it into regions, restrict their directions and copy the image (zeroes
 * after it). Returns 0 or a negative errno (the input is then skipped). */
int vbt_fuzz_guest_init(struct vbt_guest *g, uint8_t layout, uint32_t ro_mask, uint32_t wo_mask,
			const uint8_t *image, size_t image_len);

/* Host pointer for [gpa, gpa + len) if it lies inside the guest (whatever the regions say),
 * else NULL. The harness's driver writes go through this; the device's never do. */
void *vbt_fuzz_guest_span(const struct vbt_guest *g, uint64_t gpa, size_t len);

/* Regions removed by remap operations, to be added back later. */
struct vbt_fuzz_remap {
	struct vb_mem_region	removed[VBT_MAX_REGIONS];
	unsigned int		n;
};

/*
 * A memory map change as a transport makes it with its queues stopped: with (sel & 1) == 0
 * remove region sel / 2 % n, else add back removed region sel / 2 % n with direction flags
 * (flags & 3, or its original flags if that is 0). The caller then calls vb_dev_remap().
 * Returns true if the map changed.
 */
bool vbt_fuzz_remap(struct vbt_guest *g, struct vbt_fuzz_remap *rm, uint8_t sel, uint32_t flags);

/* ---- device-model fuzzers (fuzz-blk-req.c, fuzz-rng-req.c, ...) ------------------------ */

/* A transport that is told everything and does nothing: notify and config_changed return 0.
 * For targets that read the used rings themselves instead of waiting for interrupts. */
extern const struct vb_transport_ops vbt_fuzz_quiet_tops;

/* Whether host bytes [p, p + len) lie inside the guest's mapping (a backend's check of the
 * iovecs a model hands it). */
bool vbt_fuzz_guest_holds(const struct vbt_guest *g, const void *p, size_t len);

/*
 * vbt_fuzz_guest_init() for a target whose driver puts fuzzed buffers in guest offsets
 * [0, buf_area) and its rings and indirect tables after them: the fuzzed layout and
 * directions stay on the buffer area, while everything from buf_area on becomes read-write,
 * and one region if the layout cut it into several (a ring area must not straddle regions).
 * g->next = buf_area, so that vbt_split_init() places rings there. 0 or a negative errno
 * (the input is then skipped).
 */
int vbt_fuzz_guest_init_rings(struct vbt_guest *g, uint8_t layout, uint32_t ro_mask,
			      uint32_t wo_mask, const uint8_t *image, size_t image_len,
			      uint32_t buf_area);

/*
 * One fuzzed chain of driver buffers into b[]: u8 n (1 + n % max_bufs buffers), then per
 * buffer 4 bytes: u16 off (guest offset, mod buf_area), u16 x (length x & len_mask, clipped
 * to the buffer area and at least 1, since the driver simulator writes the descriptor it is
 * given; bit 15 device-writable). Each gpa is the guest offset: the caller adds the guest's
 * base address once the guest exists. Returns the number of buffers.
 */
unsigned int vbt_fuzz_chain_get(struct vbt_fuzz_in *in, struct vbt_buf *b, unsigned int max_bufs,
				uint32_t buf_area, uint16_t len_mask);

/* The driver's side of device initialisation (virtio 1.2, 3.1.1 "Driver Requirements:
 * Device Initialization") up to FEATURES_OK: ACKNOWLEDGE, DRIVER, features, FEATURES_OK.
 * 0, or -1 if the device refused a step. */
int vbt_fuzz_dev_features(struct vb_dev *dev, uint64_t features);

/* Set up queue q on split ring r (its size, its three areas) and enable it. 0 or -1. */
int vbt_fuzz_dev_queue(struct vb_dev *dev, uint16_t q, const struct vbt_split *r);

/* The rest of initialisation: rings r[0 .. nq) as queues 0 .. nq - 1, then DRIVER_OK.
 * 0, or -1 if the device refused a step. */
int vbt_fuzz_dev_ready(struct vb_dev *dev, const struct vbt_split *r, uint16_t nq);

/* ---- the queue exerciser ---------------------------------------------------------------- */

#define VBT_FUZZ_MAX_OUT	64u	/* chains held between operations */
#define VBT_FUZZ_MAX_IOV	16u	/* iovec capacity per direction and chain */
#define VBT_FUZZ_MAX_BATCH	8u

/* One spare iovec each way past the largest capacity: a canary the core must never write. */
struct vbt_fuzz_chain {
	struct vb_chain	c;
	struct vb_iov	rd[VBT_FUZZ_MAX_IOV + 1];
	struct vb_iov	wr[VBT_FUZZ_MAX_IOV + 1];
};

/*
 * The device model's side of one queue. Every call checks what the core promises (vq.h,
 * chain.h) and aborts when a promise is broken:
 *  - return values are in the documented set;
 *  - a popped chain's iovecs lie inside a region that allows their direction and inside the
 *    guest's host mapping, n_read <= max_read, n_write <= max_write, read_len/write_len are
 *    the sums of the iovec lengths, head/buffer id < queue size, 1 <= ring_slots <= num;
 *  - the ring position moves exactly by what was popped/pushed (used index monotonic), and
 *    the used ring / used descriptors say what was pushed;
 *  - a violation returns its errno once, becomes vb_vq_error(), sets NEEDS_RESET, and every
 *    later pop returns -ENOTRECOVERABLE;
 *  - suppression: notify iff the driver asked (split: 2.7.7 with vring_need_event; packed:
 *    2.8.10 flags, and DESC with EVENT_IDX: the named slot and wrap counter were used since
 *    the last decision), kick suppression fields written as requested, avail_event published
 *    when a pop finds the ring empty (EVENT_IDX);
 *  - no iovec is written beyond the chain's max_read/max_write.
 */
struct vbt_fuzz_q {
	struct vb_dev		*dev;
	struct vb_vq		*vq;
	struct vbt_guest	*g;
	const unsigned int	*notify_count;	/* transport notify calls for this queue */
	uint16_t		max_read, max_write;	/* iovec capacity given to pops */
	unsigned int		n_out;		/* outstanding chains, out[0] the oldest */
	uint32_t		out_slots;	/* their ring slots (packed) */
	uint32_t		lost_slots;	/* slots of chains dropped unpushed (packed) */
	bool			pos_exact;	/* no set_pos since the last reset (packed room) */
	bool			exact;		/* every control change goes through forget():
						 * no decision on record means none in the core */
	bool			decided;	/* a notify decision is on record */
	bool			decision_unknown; /* forgotten without a reset: the core may
						 * still hold a decision the oracle does not */
	uint16_t		decided_used;	/* used index (packed: slot) at that decision */
	bool			decided_wrap;	/* packed: used wrap counter at that decision */
	uint32_t		used_since;	/* packed: slots used since that decision */
	bool			kicks_off;	/* vb_vq_disable_kicks() in effect */
	bool			reset_since_break; /* a queue reset hid an earlier violation */
	uint64_t		pops, pushes, violations;	/* statistics for debugging */
	struct vbt_fuzz_chain	out[VBT_FUZZ_MAX_OUT];
	struct vbt_fuzz_chain	scratch[VBT_FUZZ_MAX_BATCH];
};

void vbt_fuzz_q_init(struct vbt_fuzz_q *q, struct vb_dev *dev, uint16_t qidx,
		     struct vbt_guest *g, const unsigned int *notify_count, uint8_t iov_cap);

/* The control path moved the queue (reset, set_pos, remap, enable): drop outstanding chains
 * and every oracle's memory. queue_reset: the queue itself was reset. */
void vbt_fuzz_q_forget(struct vbt_fuzz_q *q, bool queue_reset);

/* Pop one chain (n == 0: vb_vq_pop) or a batch of n. Returns the core's result. */
int vbt_fuzz_q_pop(struct vbt_fuzz_q *q, unsigned int n);

/*
 * Push n outstanding chains starting at index first (first == 0: oldest first) in one batch
 * (batch) or one call per chain. written: raw (may exceed write_len: -EINVAL expected) if
 * raw, else reduced to [0, write_len]. Returns the core's result of the last call.
 */
int vbt_fuzz_q_push(struct vbt_fuzz_q *q, unsigned int first, unsigned int n, uint32_t written,
		    bool raw, bool batch);

/* vb_vq_notify() (decide_only: vb_vq_should_notify()) with the suppression oracle. */
int vbt_fuzz_q_notify(struct vbt_fuzz_q *q, bool decide_only);

/* vb_vq_enable_kicks()/vb_vq_disable_kicks() and the fields they must write. */
void vbt_fuzz_q_kicks(struct vbt_fuzz_q *q, bool enable);

/* Use every outstanding chain's buffers as a device would: read each readable byte, write
 * each writable one (a bad iovec faults on a guard page or trips ASan). */
void vbt_fuzz_q_touch(struct vbt_fuzz_q *q, uint32_t seed);

/* A device model's kick handler: pop until empty (bounded), touch, push all, notify. */
void vbt_fuzz_q_drain(struct vbt_fuzz_q *q, uint32_t seed);

/* State invariants, after every operation. */
void vbt_fuzz_q_check(struct vbt_fuzz_q *q);

/* ---- virtqueue fuzzers (fuzz-vq-split.c, fuzz-vq-packed.c) ------------------------------ */

/* Header feature bits (bit numbers of the first header byte). */
#define VBT_FUZZ_F_INDIRECT	0	/* offer VIRTIO_F_INDIRECT_DESC */
#define VBT_FUZZ_F_EVENT_IDX	1	/* offer VIRTIO_F_EVENT_IDX */
#define VBT_FUZZ_F_IN_ORDER	2	/* offer VIRTIO_F_IN_ORDER */

#define VBT_FUZZ_VQ_HDR_LEN	20u

struct vbt_fuzz_vq_hdr {
	uint8_t		features;	/* VBT_FUZZ_F_* bits */
	uint8_t		layout;		/* VBT_FUZZ_LAYOUT() */
	uint16_t	num;		/* queue size the driver sets */
	uint16_t	desc_off;	/* ring areas: guest offsets (mod guest size) */
	uint16_t	driver_off;
	uint16_t	device_off;
	uint8_t		iov_cap;	/* max_read = 1 + (x & 15), max_write = 1 + (x >> 4) */
	uint8_t		n_ops;
	uint32_t	ro_mask;
	uint32_t	wo_mask;
};

size_t vbt_fuzz_vq_hdr_put(uint8_t *out, const struct vbt_fuzz_vq_hdr *h);

/* Operation codes (code % VBT_FUZZ_OP_COUNT). */
enum vbt_fuzz_opcode {
	VBT_FUZZ_OP_POP,		/* vb_vq_pop */
	VBT_FUZZ_OP_POP_BATCH,		/* vb_vq_pop_batch, n = 1 + a % 8 */
	VBT_FUZZ_OP_PUSH,		/* push one: a bit 7 raw written, a bit 6 out of order
					 * (index b), written c */
	VBT_FUZZ_OP_PUSH_BATCH,		/* vb_vq_push_batch of the 1 + a % 8 oldest, written c */
	VBT_FUZZ_OP_NOTIFY,		/* a bit 0: should_notify only, else vb_vq_notify */
	VBT_FUZZ_OP_KICKS,		/* a bit 0: enable kicks, else disable */
	VBT_FUZZ_OP_SET_POS,		/* stop, set_pos(avail b, used c & 0xffff, wraps a bits
					 * 0/1), start again unless a bit 2 */
	VBT_FUZZ_OP_QUEUE_RESET,	/* vb_dev_queue_reset, then set up and enable again */
	VBT_FUZZ_OP_DEVICE_RESET,	/* vb_dev_reset, renegotiate without the features of a
					 * (VBT_FUZZ_F_* bits, bit 3: RING_PACKED), set up */
	VBT_FUZZ_OP_REMAP,		/* vbt_fuzz_remap(a, c) then vb_dev_remap */
	VBT_FUZZ_OP_WRITE,		/* driver writes 1 << (a & 3) bytes of c (c twice for
					 * 8) at guest offset b */
	VBT_FUZZ_OP_ADD,		/* the mini driver adds a chain (see vbt-fuzz.c) */
	VBT_FUZZ_OP_PUBLISH,		/* split: avail ring[idx] = b, idx++; packed: make slot
					 * b % num available with buffer id c */
	VBT_FUZZ_OP_DRIVER_EVENT,	/* split: a bit 0 ? avail->flags : used_event = b;
					 * packed: driver event flags = a & 3, off_wrap = b */
	VBT_FUZZ_OP_KICK,		/* vb_dev_kick: the model's handler drains the queue */
	VBT_FUZZ_OP_TOUCH,		/* use the outstanding chains' buffers */
	VBT_FUZZ_OP_COUNT
};

struct vbt_fuzz_vq {
	struct vbt_guest	g;
	struct vbt_dev		d;
	struct vbt_fuzz_q	q;
	struct vbt_fuzz_remap	rm;
	struct vbt_fuzz_vq_hdr	h;
	uint64_t		offered;	/* features the device offers */
	uint64_t		accepted;	/* features the driver took at the last negotiation */
	uint64_t		ring_desc, ring_driver, ring_device;	/* guest addresses */
	/* The harness's own driver state (VBT_FUZZ_OP_ADD / PUBLISH). */
	uint16_t		drv_next_desc;	/* split: round-robin descriptor allocator */
	uint16_t		drv_next_avail;	/* packed: next slot and driver wrap counter */
	bool			drv_avail_wrap;
	uint16_t		drv_next_id;
	unsigned int		needs_reset_base;	/* transport needs_reset and */
	unsigned int		config_changes_base;	/* config_changed calls before the
							 * last reset */
	unsigned int		n_ops;
	struct vbt_fuzz_op	ops[VBT_FUZZ_MAX_OPS];
};

/* Parse header, script and guest image, and bring the device up (ACKNOWLEDGE .. DRIVER_OK).
 * Returns 0, or a negative errno if the input cannot run (nothing to fini then). */
int vbt_fuzz_vq_parse(struct vbt_fuzz_vq *f, const uint8_t *data, size_t size, bool packed);
void vbt_fuzz_vq_step(struct vbt_fuzz_vq *f, const struct vbt_fuzz_op *op);
void vbt_fuzz_vq_check_invariants(struct vbt_fuzz_vq *f);
void vbt_fuzz_vq_fini(struct vbt_fuzz_vq *f);

/* The whole run of one input (what LLVMFuzzerTestOneInput does). */
int vbt_fuzz_vq_run(struct vbt_fuzz_vq *f, const uint8_t *data, size_t size, bool packed);

/* ---- virtio-mmio fuzzer (fuzz-mmio.c) -------------------------------------------------- */

/* Header feature bits: what the device model offers (the register file adds VERSION_1 and
 * hides SR_IOV and NOTIF_CONFIG_DATA); bit 7 makes the model's activate hook fail. */
#define VBT_FUZZ_MF_INDIRECT		0
#define VBT_FUZZ_MF_EVENT_IDX		1
#define VBT_FUZZ_MF_PACKED		2
#define VBT_FUZZ_MF_IN_ORDER		3
#define VBT_FUZZ_MF_RING_RESET		4
#define VBT_FUZZ_MF_NOTIFICATION_DATA	5
#define VBT_FUZZ_MF_SR_IOV		6
#define VBT_FUZZ_MF_ACTIVATE_FAILS	7

/* Header option bits. */
#define VBT_FUZZ_MO_QUEUES(x)		(((x) & 3u) + 1u)	/* bits 0-1: queues - 1 */
#define VBT_FUZZ_MO_HOST_KICK		4u	/* the host defers kicks (vb_mmio_host_ops.kick) */
#define VBT_FUZZ_MO_CONFIG_CHANGES	8u	/* a config write makes the model signal a change */

#define VBT_FUZZ_MMIO_HDR_LEN	16u

struct vbt_fuzz_mmio_hdr {
	uint8_t		features;	/* VBT_FUZZ_MF_* bits */
	uint8_t		layout;		/* VBT_FUZZ_LAYOUT() */
	uint8_t		options;	/* VBT_FUZZ_MO_* */
	uint8_t		n_ops;
	uint16_t	num_max;	/* queue_num_max = 1 + num_max % 1024 */
	uint8_t		iov_cap;	/* as in struct vbt_fuzz_vq_hdr */
	uint8_t		seed;		/* written values of the kick handler */
	uint32_t	ro_mask;
	uint32_t	wo_mask;
};

size_t vbt_fuzz_mmio_hdr_put(uint8_t *out, const struct vbt_fuzz_mmio_hdr *h);

/* Access kinds (op code % 4; bit 7 of the code adds 2^32 to the offset). */
enum vbt_fuzz_mmio_kind {
	VBT_FUZZ_MMIO_READ,		/* vb_mmio_read(off = b, size = a) */
	VBT_FUZZ_MMIO_WRITE,		/* vb_mmio_write(off = b, size = a, value c) */
	VBT_FUZZ_MMIO_GUEST_WRITE,	/* the driver writes c (4 bytes) at guest offset b */
	VBT_FUZZ_MMIO_RUN_KICKS,	/* the host runs the kicks it deferred */
};

#endif
