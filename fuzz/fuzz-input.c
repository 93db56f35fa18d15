/* SPDX-License-Identifier: MIT */
/*
 * Fuzz target: the virtio-input model (src/devices/input/input.c): the select/subsel config
 * protocol, the statusq parser and the eventq with its pending ring, driven by a fuzzed
 * script of driver and host actions over split rings in fake guest memory.
 *
 * Input format (integers little-endian; a short input reads as zeros):
 *   0  u8  profile   x % 3: synthetic keyboard, mouse, tablet
 *   1  u8  pending   pending_max = 1 + x % 32
 *   then 8-byte operations (vbt_fuzz_op: code a b c), at most VBT_FUZZ_MAX_OPS:
 *     code % 6 = 0  config write of 1 + c % 3 bytes (a, b, a) at offset (c >> 8) % 4, then
 *                   a read of the whole config space
 *                1  post an eventq buffer of b % 16 bytes (c bit 0: driver-readable)
 *                2  host sends a % 8 events: type (c >> 8) % 4 (0 is SYN_REPORT), code b
 *                3  statusq buffer of a % 12 bytes holding {type b, code c, value c >> 16}
 *                4  device reset and a new probe
 *                5  queue reset of queue a % 2 (RING_RESET), rings set up again
 *
 * Invariants (an abort is a finding): a config read answers size <= 128 with every byte of
 * the union after size zero, and echoes select and subsel; an eventq buffer is used with 0
 * or 8 bytes, never more than it can take; events reach the driver in the order the host
 * sent them (values are sequence numbers), never duplicated; the status hook sees only
 * LED/SND/REP/FF events with a code the description has; guard pages and ASan catch any
 * access outside guest memory.
 *
 * @verify{VB-REQ-INPUT-003} @verify{VB-REQ-INPUT-010} @verify{VB-REQ-INPUT-011}
 * @verify{VB-REQ-INPUT-012} @verify{VB-REQ-INPUT-020}
 */
#include <stdalign.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "vbt-fuzz.h"
#include "vbt-split.h"
#include "virtio-backend/devices/input.h"

#define QSZ	16u
#define SLOTS	64u
#define SLOT	32u

struct fz {
	struct vbt_guest	g;
	struct vbt_split	r[2];
	unsigned int		posted[2];
	uint64_t		buf[2][QSZ];
	uint32_t		wlen[2][QSZ];
	unsigned int		slot;
	/* Slots held by posted buffers, per queue: no two buffers the device may still write
	 * share memory, or the order check would read one event over another. */
	uint64_t		busy[2];
	uint8_t			slot_of[2][QSZ];
	struct vb_input_ops	ops;
	struct vb_input_info	info;
	struct vb_input		*in;
	struct vb_dev		*dev;
	alignas(8) uint8_t	dev_storage[VB_DEV_STORAGE_MAX(2)];
	uint64_t		features;
	uint32_t		seq;		/* value of the next event sent */
	int64_t			last;		/* last value the driver received */
};

static void f_status(void *ctx, const struct vb_input_event *e)
{
	struct fz *f = ctx;

	VBT_FUZZ_CHECK(e->type == VB_INPUT_EV_LED || e->type == VB_INPUT_EV_SND ||
		       e->type == VB_INPUT_EV_REP || e->type == VB_INPUT_EV_FF,
		       "status type %u", e->type);
	VBT_FUZZ_CHECK(vb_input_bit_test(f->info.ev[e->type], e->code), "status code %u",
		       e->code);
}

static void reap(struct fz *f, uint16_t q)
{
	uint32_t id, len;

	while (vbt_split_get_used(&f->r[q], &id, &len) == 1) {
		VBT_FUZZ_CHECK(id < QSZ, "used id %u", id);
		VBT_FUZZ_CHECK(len <= f->wlen[q][id], "used len %u > writable %u", len,
			       f->wlen[q][id]);
		if (q == 0) {
			VBT_FUZZ_CHECK(len == 0 || len == 8, "event buffer used with %u", len);
			if (len == 8) {
				struct vb_virtio_input_event e;

				memcpy(&e, vbt_guest_ptr(&f->g, f->buf[q][id]), sizeof(e));
				VBT_FUZZ_CHECK((int64_t)vb_le32_to_cpu(e.value) > f->last,
					       "event %u after %lld", vb_le32_to_cpu(e.value),
					       (long long)f->last);
				f->last = vb_le32_to_cpu(e.value);
			}
		} else {
			VBT_FUZZ_CHECK(len == 0, "status buffer used with %u", len);
		}
		if (f->posted[q])
			f->posted[q]--;
		f->busy[q] &= ~(1ull << f->slot_of[q][id]);
	}
}

static bool add(struct fz *f, uint16_t q, uint32_t len, bool write, const void *data)
{
	struct vbt_buf b;
	uint16_t head;

	unsigned int s;

	if (f->posted[q] >= QSZ - 1u)
		return false;
	/* At most 2 * (QSZ - 1) < SLOTS slots are busy: a free one is always found. */
	do
		s = f->slot++ % SLOTS;
	while ((f->busy[0] | f->busy[1]) & (1ull << s));
	b = (struct vbt_buf){ f->g.gpa + (uint64_t)s * SLOT, len > SLOT ? SLOT : len, write };
	if (data && !write)
		memcpy(vbt_guest_ptr(&f->g, b.gpa), data, b.len);
	head = vbt_split_add(&f->r[q], &b, 1, false);
	f->buf[q][head] = b.gpa;
	f->slot_of[q][head] = (uint8_t)s;
	f->busy[q] |= 1ull << s;
	f->wlen[q][head] = write ? b.len : 0;
	f->posted[q]++;
	return true;
}

static bool setup_queue(struct fz *f, uint16_t q)
{
	f->posted[q] = 0;
	f->busy[q] = 0;
	vbt_split_init(&f->r[q], &f->g, QSZ);
	return vbt_fuzz_dev_queue(f->dev, q, &f->r[q]) == 0;
}

static bool probe(struct fz *f)
{
	f->features = vb_dev_get_features(f->dev) & ~VB_BIT(VB_VIRTIO_F_RING_PACKED);
	if (vbt_fuzz_dev_features(f->dev, f->features) < 0)
		return false;
	for (uint16_t q = 0; q < 2; q++) {
		f->posted[q] = 0;
		f->busy[q] = 0;
		vbt_split_init(&f->r[q], &f->g, QSZ);
	}
	return vbt_fuzz_dev_ready(f->dev, f->r, 2) == 0;
}

static void check_config(struct fz *f)
{
	struct vb_virtio_input_config c;
	uint8_t sel, sub;

	memset(&c, 0xa5, sizeof(c));
	VBT_FUZZ_CHECK(vb_dev_config_read(f->dev, 0, &c, sizeof(c)) == 0, "config read");
	VBT_FUZZ_CHECK(c.size <= 128, "size %u", c.size);
	for (unsigned int i = c.size; i < 128; i++)
		VBT_FUZZ_CHECK(c.u.bitmap[i] == 0, "byte %u after size %u not zero", i, c.size);
	/* The same answer byte by byte (a driver reading it in pieces). */
	VBT_FUZZ_CHECK(vb_dev_config_read(f->dev, 0, &sel, 1) == 0 &&
		       vb_dev_config_read(f->dev, 1, &sub, 1) == 0, "config read");
	VBT_FUZZ_CHECK(sel == c.select && sub == c.subsel, "select/subsel not echoed");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct vbt_fuzz_in in = { data, size };
	struct vb_input_config cfg;
	struct fz *f = calloc(1, sizeof(*f));
	uint8_t profile, pending;

	if (!f)
		return 0;
	profile = vbt_fuzz_u8(&in);
	pending = vbt_fuzz_u8(&in);
	(void)vb_input_synth_info((enum vb_input_synth)(profile % 3u), &f->info);
	f->ops = (struct vb_input_ops){ .version = VB_INPUT_OPS_V1, .status = f_status };
	f->last = -1;
	cfg = (struct vb_input_config){ .version = VB_INPUT_CONFIG_V1, .queue_num_max = QSZ,
		.pending_max = 1u + pending % 32u, .info = &f->info, .ops = &f->ops, .ctx = f };
	if (vbt_guest_init(&f->g, 0x10000, SLOTS * SLOT + 16384u, 0) ||
	    vb_input_create(&cfg, &f->in)) {
		free(f);
		return 0;
	}
	f->g.next = SLOTS * SLOT;
	if (vb_dev_init(f->dev_storage, sizeof(f->dev_storage), vb_input_device_ops(f->in), f->in,
			&vbt_fuzz_quiet_tops, f, &f->g.mem, &f->dev) || !probe(f))
		goto out;
	for (unsigned int n = 0; n < VBT_FUZZ_MAX_OPS && in.left; n++) {
		struct vbt_fuzz_op op;

		vbt_fuzz_op_get(&in, &op);
		switch (op.code % 6u) {
		case 0: {
			uint8_t w[3] = { op.a, (uint8_t)op.b, op.a };
			uint32_t off = (op.c >> 8) % 4u, len = 1u + op.c % 3u;

			if (off + len <= VB_VIRTIO_INPUT_CONFIG_LEN)
				(void)vb_dev_config_write(f->dev, off, w, len);
			check_config(f);
			break;
		}
		case 1:
			if (add(f, 0, op.b % 16u, !(op.c & 1u), NULL))
				(void)vb_dev_kick(f->dev, 0);
			break;
		case 2: {
			struct vb_input_event ev[8];
			unsigned int k = op.a % 8u;

			for (unsigned int i = 0; i < k; i++) {
				unsigned int t = ((op.c >> 8) + i) % 4u;

				ev[i] = (struct vb_input_event){ (uint16_t)(t == 0 ? 0 : t),
					(uint16_t)(t == 0 ? 0 : op.b), f->seq++ };
			}
			(void)vb_input_send(f->in, ev, k);
			break;
		}
		case 3: {
			struct vb_virtio_input_event e = { vb_cpu_to_le16(op.b),
				vb_cpu_to_le16((uint16_t)op.c), vb_cpu_to_le32(op.c >> 16) };
			uint8_t raw[12] = { 0 };

			memcpy(raw, &e, sizeof(e));
			if (add(f, 1, op.a % 12u, false, raw))
				(void)vb_dev_kick(f->dev, 1);
			break;
		}
		case 4:
			reap(f, 0);
			reap(f, 1);
			vb_dev_reset(f->dev);
			if (!probe(f))
				goto out;
			break;
		default:
			if (f->features & VB_BIT(VB_VIRTIO_F_RING_RESET)) {
				uint16_t q = op.a % 2u;

				reap(f, q);
				if (vb_dev_queue_reset(f->dev, q) == 0 && !setup_queue(f, q))
					goto out;
			}
			break;
		}
		reap(f, 0);
		reap(f, 1);
		if (f->g.next > f->g.size - 2048u)
			break;
	}
out:
	if (f->dev)
		vb_dev_reset(f->dev);
	vb_input_destroy(f->in);
	vbt_guest_fini(&f->g);
	free(f);
	return 0;
}
