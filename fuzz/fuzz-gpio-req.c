/* SPDX-License-Identifier: MIT */
/*
 * Fuzz target: the virtio-gpio model (src/devices/gpio/gpio.c): requestq messages and eventq
 * buffers in fuzzed chains over fuzzed guest memory, interleaved with edges the host drives
 * on a simulated chip (wrapped by a backend that checks every call the model makes).
 *
 * Input format (all integers little-endian; a short input reads as zeros):
 *
 *   header, 12 bytes:
 *     0  u8   flags     bit 0 the driver takes VIRTIO_GPIO_F_IRQ; bit 1 chains as indirect
 *                       tables; bit 2 EVENT_IDX; bit 3 line names configured; bit 4 device
 *                       reset at the end; bit 5 eventq reset (RING_RESET) at the end
 *     1  u8   layout    guest layout as in fuzz-vq-split.c (region size, guest address)
 *     2  u8   n_ops     x % 33 operations
 *     3  u8   reserved
 *     4  u32  ro_mask   region i device-read-only / device-write-only as in fuzz-vq-split.c
 *     8  u32  wo_mask   (regions holding the rings are always read-write)
 *   n_ops operations: u8 kind, then
 *     kind % 4 == 0: a requestq chain, 1: an eventq chain: u8 n (1 + n % 4 buffers), then n
 *                    buffers of 4 bytes: u16 off (guest offset, mod the buffer area), u16 x
 *                    (length x & 0x0fff, clipped to the buffer area; bit 15 device-
 *                    writable); the queue is kicked at once;
 *     kind % 4 == 2: a host level: u8 line (x % 8), u8 level (x & 1);
 *     kind % 4 == 3: both queues kicked again.
 *   the rest: the guest memory image (requests, line numbers), copied to guest offset 0.
 *
 * Invariants (an abort is a finding):
 *  - every requestq chain comes back at its kick (unless the core broke the queue), with 0
 *    bytes used exactly when it has no writable byte, else at most 2 bytes or exactly
 *    1 + gpio_names_size, never more than its writable length; its status byte is 0 or 1;
 *  - eventq chains come back at most once, with 0 or 1 byte used, status 0 or 1;
 *  - a status byte only its buffer covers is poisoned (0xff) when the chain is added, so a
 *    status never written is caught;
 *  - nothing in the buffer area changes but the device-writable buffers of added chains;
 *  - the backend only sees lines below ngpio, directions 0..2, values 0..1, valid trigger
 *    types, and trigger types only when VIRTIO_GPIO_F_IRQ was negotiated;
 *  - a line whose eventq buffer is held has an enabled interrupt;
 *  - ASan/UBSan and the guard pages around the guest catch any access outside it.
 *
 * @verify{VB-REQ-GPIO-010} @verify{VB-REQ-GPIO-016} @verify{VB-REQ-GPIO-021}
 */
#include <stdalign.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "vbt-fuzz.h"
#include "vbt-split.h"
#include "virtio-backend/devices/gpio.h"

#define QNUM		32u
#define BUF_AREA	8192u		/* guest bytes buffers may use; rings and tables after */
#define NGPIO		8u
#define MAX_BUFS	4u
#define MAX_OPS		32u

static const char *const names[NGPIO] = { "a", NULL, "", "bb", "ccc", NULL, "d", "e" };
#define NAMES_SIZE	(2u + 1u + 1u + 3u + 4u + 1u + 2u + 2u)

struct chain_desc {
	uint16_t	head;
	uint8_t		q;
	unsigned int	n;
	struct vbt_buf	b[MAX_BUFS];
	uint32_t	write_len;
	bool		added, returned;
};

struct fz {
	struct vbt_guest	g;
	struct vbt_split	r[2];
	unsigned int		descs[2];
	struct vb_gpio_backend_ops ops;
	struct vb_gpio_sim	*sim;
	struct vb_gpio		*gpio;
	struct vb_dev		*dev;
	alignas(8) uint8_t	dev_storage[VB_DEV_STORAGE_MAX(2)];
	uint8_t			flags;
	bool			irq;
	struct chain_desc	ch[MAX_OPS];
	unsigned int		n_ch;
	uint8_t			shadow[BUF_AREA];	/* the buffer area as the driver left it */
	uint8_t			may_write[BUF_AREA];	/* in a device-writable buffer */
};

/* ---- a checking backend around the simulated chip ---- */

static int c_set_direction(void *be, uint16_t line, uint8_t dir, uint8_t value)
{
	struct fz *f = be;

	VBT_FUZZ_CHECK(line < NGPIO && dir <= 2 && value <= 1, "set_direction %u %u %u", line,
		       dir, value);
	return vb_gpio_sim_ops.set_direction(f->sim, line, dir, value);
}

static int c_get_value(void *be, uint16_t line, uint8_t *value)
{
	struct fz *f = be;

	VBT_FUZZ_CHECK(line < NGPIO, "get_value %u", line);
	return vb_gpio_sim_ops.get_value(f->sim, line, value);
}

static int c_set_value(void *be, uint16_t line, uint8_t value)
{
	struct fz *f = be;

	VBT_FUZZ_CHECK(line < NGPIO && value <= 1, "set_value %u %u", line, value);
	return vb_gpio_sim_ops.set_value(f->sim, line, value);
}

static int c_set_irq_type(void *be, uint16_t line, uint8_t type)
{
	struct fz *f = be;

	VBT_FUZZ_CHECK(line < NGPIO, "set_irq_type line %u", line);
	VBT_FUZZ_CHECK(type <= 4 || type == 8, "set_irq_type type %u", type);
	/* Disabling is how a reset cleans up; enabling needs the feature. */
	VBT_FUZZ_CHECK(type == 0 || f->irq, "set_irq_type %u without VIRTIO_GPIO_F_IRQ", type);
	return vb_gpio_sim_ops.set_irq_type(f->sim, line, type);
}

/* True if byte gpa of chain c's buffer k is covered by any other buffer. */
static bool covered_elsewhere(const struct fz *f, unsigned int c, unsigned int k, uint64_t gpa)
{
	for (unsigned int i = 0; i < f->n_ch; i++)
		for (unsigned int j = 0; j < f->ch[i].n; j++) {
			const struct vbt_buf *b = &f->ch[i].b[j];

			if ((i == c && j == k) || !f->ch[i].added)
				continue;
			if (gpa >= b->gpa && gpa - b->gpa < b->len)
				return true;
		}
	return false;
}

/* The first writable byte of chain ci, if no other buffer covers it: its status byte. */
static int status_of(const struct fz *f, unsigned int ci)
{
	const struct chain_desc *c = &f->ch[ci];

	for (unsigned int k = 0; k < c->n; k++) {
		const struct vbt_buf *b = &c->b[k];

		if (!b->write || b->len == 0)
			continue;
		if (covered_elsewhere(f, ci, k, b->gpa))
			return -1;
		return *(const uint8_t *)vbt_fuzz_guest_span(&f->g, b->gpa, 1);
	}
	return -1;
}

/* Poison chain ci's status byte if only that buffer covers it (the device never reads a
 * writable buffer): a chain returned with it still 0xff was never answered. */
static void poison_status(struct fz *f, unsigned int ci)
{
	const struct chain_desc *c = &f->ch[ci];

	for (unsigned int k = 0; k < c->n; k++) {
		const struct vbt_buf *b = &c->b[k];

		if (!b->write || b->len == 0)
			continue;
		if (!covered_elsewhere(f, ci, k, b->gpa)) {
			*(uint8_t *)vbt_fuzz_guest_span(&f->g, b->gpa, 1) = 0xff;
			f->shadow[b->gpa - f->g.gpa] = 0xff;
		}
		return;
	}
}

/* The device wrote nothing but the device-writable buffers it was given. */
static void check_untouched(const struct fz *f)
{
	for (size_t i = 0; i < BUF_AREA; i++)
		VBT_FUZZ_CHECK(f->may_write[i] || f->g.base[i] == f->shadow[i],
			       "guest byte 0x%zx written outside the writable buffers", i);
}

static void collect(struct fz *f, uint8_t q)
{
	uint32_t id, len;

	while (vbt_split_get_used(&f->r[q], &id, &len) == 1) {
		struct chain_desc *c = NULL;
		unsigned int ci = 0;
		int st;

		for (unsigned int i = 0; i < f->n_ch; i++)
			if (f->ch[i].q == q && f->ch[i].added && f->ch[i].head == id &&
			    !f->ch[i].returned) {
				c = &f->ch[i];
				ci = i;
				break;
			}
		VBT_FUZZ_CHECK(c != NULL, "queue %u: used id %u was not outstanding", q, id);
		c->returned = true;
		VBT_FUZZ_CHECK(len <= c->write_len, "used len %u > writable %u", len, c->write_len);
		VBT_FUZZ_CHECK((len == 0) == (c->write_len == 0),
			       "used len %u, writable %u", len, c->write_len);
		if (q == 0)
			VBT_FUZZ_CHECK(len <= 2 || len == 1u + NAMES_SIZE, "requestq used len %u",
				       len);
		else
			VBT_FUZZ_CHECK(len <= 1, "eventq used len %u", len);
		st = len ? status_of(f, ci) : -1;
		VBT_FUZZ_CHECK(st <= 1, "queue %u: status %d", q, st);
	}
}

static void check_lines(struct fz *f)
{
	for (uint16_t i = 0; i < NGPIO; i++) {
		struct vb_gpio_line_info li;

		VBT_FUZZ_CHECK(vb_gpio_get_line(f->gpio, i, &li) == 0, "get_line");
		VBT_FUZZ_CHECK(!li.unmasked || li.irq_type != 0, "line %u held without irq", i);
		VBT_FUZZ_CHECK(li.direction <= 2 && li.value <= 1, "line %u state", i);
	}
}

static int bring_up(struct fz *f)
{
	uint64_t feat = vb_dev_get_features(f->dev) & ~VB_BIT(VB_VIRTIO_F_RING_PACKED);

	if (!(f->flags & 0x04))
		feat &= ~VB_BIT(VB_VIRTIO_F_EVENT_IDX);
	if (!f->irq)
		feat &= ~VB_BIT(VB_VIRTIO_GPIO_F_IRQ);
	if (vbt_fuzz_dev_features(f->dev, feat) < 0)
		return -1;
	return vbt_fuzz_dev_ready(f->dev, f->r, 2);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct vbt_fuzz_in in = { data, size };
	struct fz *f = calloc(1, sizeof(*f));
	struct vb_gpio_config cfg = { .version = VB_GPIO_CONFIG_V1, .ngpio = NGPIO,
				      .queue_num_max = QNUM };
	uint8_t kinds[MAX_OPS], lines[MAX_OPS], levels[MAX_OPS];
	uint32_t ro_mask, wo_mask;
	uint8_t layout, n_ops;

	if (!f)
		return 0;
	f->flags = vbt_fuzz_u8(&in);
	f->irq = f->flags & 0x01;
	layout = vbt_fuzz_u8(&in);
	n_ops = (uint8_t)(vbt_fuzz_u8(&in) % (MAX_OPS + 1u));
	(void)vbt_fuzz_u8(&in);
	ro_mask = vbt_fuzz_u32(&in);
	wo_mask = vbt_fuzz_u32(&in);
	for (unsigned int i = 0; i < n_ops; i++) {
		struct chain_desc *c = &f->ch[i];

		kinds[i] = vbt_fuzz_u8(&in) % 4u;
		if (kinds[i] == 2) {
			lines[i] = vbt_fuzz_u8(&in) % NGPIO;
			levels[i] = vbt_fuzz_u8(&in) & 1u;
		}
		if (kinds[i] > 1)
			continue;
		c->q = kinds[i];
		c->n = vbt_fuzz_chain_get(&in, c->b, MAX_BUFS, BUF_AREA, 0x0fffu);
	}
	f->n_ch = n_ops;
	/* Rings and indirect tables after the buffer area, in one read-write region. */
	if (vbt_fuzz_guest_init_rings(&f->g, layout, ro_mask, wo_mask, in.p, in.left,
				      BUF_AREA) < 0)
		goto out_free;
	memcpy(f->shadow, f->g.base, BUF_AREA);
	vbt_split_init(&f->r[0], &f->g, QNUM);
	vbt_split_init(&f->r[1], &f->g, QNUM);
	if (f->flags & 0x08)
		cfg.names = names;
	VBT_FUZZ_CHECK(vb_gpio_sim_create(NGPIO, &f->sim) == 0, "sim");
	f->ops = (struct vb_gpio_backend_ops){ .version = VB_GPIO_BACKEND_OPS_V1,
		.set_direction = c_set_direction, .get_value = c_get_value,
		.set_value = c_set_value, .set_irq_type = c_set_irq_type };
	VBT_FUZZ_CHECK(vb_gpio_create(&cfg, &f->ops, f, &f->gpio) == 0, "vb_gpio_create");
	vb_gpio_sim_bind(f->sim, f->gpio);
	VBT_FUZZ_CHECK(vb_dev_init(f->dev_storage, sizeof(f->dev_storage),
				   vb_gpio_device_ops(f->gpio), f->gpio, &vbt_fuzz_quiet_tops, f,
				   &f->g.mem, &f->dev) == 0, "vb_dev_init");
	if (bring_up(f) < 0)
		goto out;
	for (unsigned int i = 0; i < n_ops; i++) {
		struct chain_desc *c = &f->ch[i];

		if (kinds[i] == 2) {
			VBT_FUZZ_CHECK(vb_gpio_sim_set_input(f->sim, lines[i], levels[i]) == 0, "set");
		} else if (kinds[i] == 3) {
			vb_dev_kick(f->dev, 0);
			vb_dev_kick(f->dev, 1);
		} else {
			bool broken;

			/* Descriptors are handed out round-robin: never reuse those of a chain
			 * that may still be outstanding (held eventq buffers). */
			f->descs[c->q] += (f->flags & 0x02) ? 1u : c->n;
			if (f->descs[c->q] > QNUM)
				continue;
			for (unsigned int k = 0; k < c->n; k++) {
				c->b[k].gpa += f->g.gpa;
				if (c->b[k].write) {
					c->write_len += c->b[k].len;
					memset(f->may_write + (c->b[k].gpa - f->g.gpa), 1,
					       c->b[k].len);
				}
			}
			c->added = true;
			poison_status(f, i);
			c->head = vbt_split_add(&f->r[c->q], c->b, c->n, (f->flags & 0x02) != 0);
			vb_dev_kick(f->dev, c->q);
			broken = vb_vq_error(vb_dev_queue(f->dev, c->q)) != 0;
			collect(f, 0);
			collect(f, 1);
			if (c->q == 0 && !broken)
				VBT_FUZZ_CHECK(c->returned, "request %u not answered at its kick", i);
		}
		collect(f, 1);
		check_lines(f);
	}
	if (f->flags & 0x20) {
		vb_dev_queue_reset(f->dev, 1);
		check_lines(f);
	}
	if (f->flags & 0x10) {
		vb_dev_reset(f->dev);
		check_lines(f);
	}
	check_untouched(f);
out:
	vb_gpio_destroy(f->gpio);
	vb_gpio_sim_destroy(f->sim);
	vbt_guest_fini(&f->g);
out_free:
	free(f);
	return 0;
}
