/* SPDX-License-Identifier: MIT */
/*
 * The virtio-input model (src/devices/input/) behind a vb_dev, driven like Linux's
 * drivers/virtio/virtio_input.c drives it: config read by select/subsel (size first, then
 * the union), eventq filled with 8-byte buffers, one status event per statusq buffer. The
 * evdev source is tested on a uinput device where /dev/uinput exists (skipped otherwise).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/input.h>
#include <linux/uinput.h>
#include <poll.h>
#include <setjmp.h>
#include <stdalign.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>
#include <cmocka.h>

#include "virtio-backend.h"
#include "virtio-backend/devices/input.h"
#include "vbt-mem.h"
#include "vbt-packed.h"
#include "vbt-split.h"

#define GUEST_GPA	0x40000000u
#define GUEST_SIZE	(1u << 20)
#define QSZ		64u

struct fx {
	struct vbt_guest	g;
	struct vbt_split	r[2];
	uint64_t		buf[2][QSZ];
	struct vb_transport_ops	tops;
	unsigned int		notifies[2];
	alignas(8) uint8_t	dev_storage[VB_DEV_STORAGE_MAX(2)];
	struct vb_dev		*dev;
	struct vb_input		*in;
	struct vb_input_info	info;
	struct vb_input_config	cfg;
	struct vb_input_ops	ops;
	struct vb_input_event	status[16];
	unsigned int		n_status;
	bool			started;
};

static int t_notify(void *t, uint16_t q)
{
	if (q < 2)
		((struct fx *)t)->notifies[q]++;
	return 0;
}

static int t_config_changed(void *t)
{
	(void)t;
	return 0;
}

static void f_status(void *ctx, const struct vb_input_event *ev)
{
	struct fx *f = ctx;

	if (f->n_status < 16)
		f->status[f->n_status++] = *ev;
}

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	assert_int_equal(vb_input_synth_info(VB_INPUT_SYNTH_KEYBOARD, &f->info), 0);
	f->ops = (struct vb_input_ops){ .version = VB_INPUT_OPS_V1, .status = f_status };
	f->cfg = (struct vb_input_config){ .version = VB_INPUT_CONFIG_V1, .queue_num_max = QSZ,
					   .info = &f->info, .ops = &f->ops, .ctx = f };
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;

	vb_input_destroy(f->in);
	if (f->started)
		vbt_guest_fini(&f->g);
	free(f);
	return 0;
}

/* Build the model and run the driver's probe up to DRIVER_OK. */
static void start(struct fx *f)
{
	uint64_t feat;

	assert_int_equal(vb_input_create(&f->cfg, &f->in), 0);
	assert_int_equal(vbt_guest_init(&f->g, GUEST_GPA, GUEST_SIZE, 0), 0);
	f->started = true;
	f->tops = (struct vb_transport_ops){ .version = VB_TRANSPORT_OPS_V1,
		.notify = t_notify, .config_changed = t_config_changed };
	assert_int_equal(vb_dev_init(f->dev_storage, sizeof(f->dev_storage),
				     vb_input_device_ops(f->in), f->in, &f->tops, f, &f->g.mem,
				     &f->dev), 0);
	assert_int_equal(vb_dev_set_status(f->dev, VB_VIRTIO_S_ACKNOWLEDGE), 0);
	assert_int_equal(vb_dev_set_status(f->dev, VB_VIRTIO_S_ACKNOWLEDGE | VB_VIRTIO_S_DRIVER), 0);
	feat = vb_dev_get_features(f->dev) & ~VB_BIT(VB_VIRTIO_F_RING_PACKED);
	assert_int_equal(vb_dev_set_driver_features(f->dev, feat), 0);
	assert_int_equal(vb_dev_set_status(f->dev, VB_VIRTIO_S_ACKNOWLEDGE | VB_VIRTIO_S_DRIVER |
					   VB_VIRTIO_S_FEATURES_OK), 0);
	for (uint16_t q = 0; q < 2; q++) {
		struct vb_queue_config qc;

		vbt_split_init(&f->r[q], &f->g, QSZ);
		qc = (struct vb_queue_config){ .num = QSZ, .desc = f->r[q].desc_gpa,
					       .driver = f->r[q].avail_gpa,
					       .device = f->r[q].used_gpa };
		assert_int_equal(vb_dev_queue_set_config(f->dev, q, &qc), 0);
		assert_int_equal(vb_dev_queue_enable(f->dev, q, true), 0);
	}
	assert_int_equal(vb_dev_set_status(f->dev, VB_VIRTIO_S_ACKNOWLEDGE | VB_VIRTIO_S_DRIVER |
					   VB_VIRTIO_S_FEATURES_OK | VB_VIRTIO_S_DRIVER_OK), 0);
}

/* virtinput_fill_evt(): n buffers of len bytes on the eventq, one kick. */
static void post_events(struct fx *f, unsigned int n, uint32_t len)
{
	for (unsigned int i = 0; i < n; i++) {
		struct vbt_buf b = { vbt_guest_alloc(&f->g, len, 8), len, true };

		f->buf[0][vbt_split_add(&f->r[0], &b, 1, false)] = b.gpa;
	}
	assert_int_equal(vb_dev_kick(f->dev, 0), 0);
}

/* Next event the guest received: 1, or 0 if none. */
static int guest_event(struct fx *f, struct vb_input_event *e, uint32_t *len)
{
	struct vb_virtio_input_event w;
	uint32_t id, l;

	memset(e, 0, sizeof(*e));
	if (vbt_split_get_used(&f->r[0], &id, &l) != 1)
		return 0;
	if (len)
		*len = l;
	if (l >= sizeof(w)) {
		memcpy(&w, vbt_guest_ptr(&f->g, f->buf[0][id]), sizeof(w));
		*e = (struct vb_input_event){ vb_le16_to_cpu(w.type), vb_le16_to_cpu(w.code),
					      vb_le32_to_cpu(w.value) };
	}
	return 1;
}

/* virtinput_status(): one 8-byte readable buffer (or len bytes), kick. */
static void status_event(struct fx *f, uint16_t type, uint16_t code, uint32_t value,
			 uint32_t len)
{
	struct vb_virtio_input_event w = { vb_cpu_to_le16(type), vb_cpu_to_le16(code),
					   vb_cpu_to_le32(value) };
	struct vbt_buf b = { vbt_guest_alloc(&f->g, 8, 8), len, false };
	uint32_t id, l;

	memcpy(vbt_guest_ptr(&f->g, b.gpa), &w, sizeof(w));
	vbt_split_add(&f->r[1], &b, 1, false);
	assert_int_equal(vb_dev_kick(f->dev, 1), 0);
	assert_int_equal(vbt_split_get_used(&f->r[1], &id, &l), 1);
	assert_int_equal(l, 0);
}

/* virtinput_cfg_select(): write select and subsel, read size; then the union. */
static uint8_t cfg_select(struct fx *f, uint8_t sel, uint8_t sub, void *u)
{
	uint8_t size;

	assert_int_equal(vb_dev_config_write(f->dev, VB_VIRTIO_INPUT_CONFIG_SELECT, &sel, 1), 0);
	assert_int_equal(vb_dev_config_write(f->dev, VB_VIRTIO_INPUT_CONFIG_SUBSEL, &sub, 1), 0);
	assert_int_equal(vb_dev_config_read(f->dev, VB_VIRTIO_INPUT_CONFIG_SIZE, &size, 1), 0);
	if (u)
		assert_int_equal(vb_dev_config_read(f->dev, VB_VIRTIO_INPUT_CONFIG_U, u, 128), 0);
	return size;
}

static struct vb_input_event ev(uint16_t t, uint16_t c, uint32_t v)
{
	return (struct vb_input_event){ t, c, v };
}

/* ---- tests ---- */

/* The device table: ID 18, two queues, 136 bytes of config.
 * @verify{VB-REQ-INPUT-002} */
static void test_input__device_table(void **state)
{
	struct fx *f = *state;
	const struct vb_device_ops *o;

	start(f);
	o = vb_input_device_ops(f->in);
	assert_int_equal(o->device_id, VB_VIRTIO_ID_INPUT);
	assert_int_equal(o->num_queues, 2);
	assert_int_equal(o->config_len, 136);
	assert_true(o->features & VB_BIT(VB_VIRTIO_F_VERSION_1));
}

/* Every select/subsel of 5.8.4 answers from the description; unsupported ones answer size
 * 0. @verify{VB-REQ-INPUT-003} */
static void test_input__config_select_protocol(void **state)
{
	struct fx *f = *state;
	uint8_t u[128];
	struct vb_virtio_input_devids ids;
	struct vb_virtio_input_absinfo abs;

	assert_int_equal(vb_input_synth_info(VB_INPUT_SYNTH_TABLET, &f->info), 0);
	f->info.abs[0].min = -5;
	f->info.abs[0].res = 7;
	start(f);
	assert_int_equal(cfg_select(f, VB_VIRTIO_INPUT_CFG_ID_NAME, 0, u), 19);
	assert_memory_equal(u, "vb-synthetic-tablet", 19);
	assert_int_equal(cfg_select(f, VB_VIRTIO_INPUT_CFG_ID_SERIAL, 0, u), 7);
	assert_memory_equal(u, "vb-0001", 7);
	assert_int_equal(cfg_select(f, VB_VIRTIO_INPUT_CFG_ID_DEVIDS, 0, u), 8);
	memcpy(&ids, u, sizeof(ids));
	assert_int_equal(vb_le16_to_cpu(ids.bustype), 6);
	assert_int_equal(vb_le16_to_cpu(ids.vendor), 0x1af4);
	assert_int_equal(cfg_select(f, VB_VIRTIO_INPUT_CFG_PROP_BITS, 0, u), 1);
	assert_int_equal(u[0], 1u << 1);	/* INPUT_PROP_DIRECT */
	assert_int_equal(cfg_select(f, VB_VIRTIO_INPUT_CFG_EV_BITS, VB_INPUT_EV_ABS, u), 1);
	assert_int_equal(u[0], 3);		/* ABS_X, ABS_Y */
	assert_int_equal(cfg_select(f, VB_VIRTIO_INPUT_CFG_EV_BITS, VB_INPUT_EV_KEY, u),
			 0x111 / 8 + 1);
	assert_true(u[0x110 / 8] & 1u);		/* BTN_LEFT */
	assert_int_equal(cfg_select(f, VB_VIRTIO_INPUT_CFG_EV_BITS, VB_INPUT_EV_REL, u), 0);
	assert_int_equal(cfg_select(f, VB_VIRTIO_INPUT_CFG_EV_BITS, VB_INPUT_EV_SYN, u), 0);
	assert_int_equal(cfg_select(f, VB_VIRTIO_INPUT_CFG_EV_BITS, 0x20, u), 0);
	assert_int_equal(cfg_select(f, VB_VIRTIO_INPUT_CFG_EV_BITS, 0xff, u), 0);
	assert_int_equal(cfg_select(f, VB_VIRTIO_INPUT_CFG_ABS_INFO, 0, u), 20);
	memcpy(&abs, u, sizeof(abs));
	assert_int_equal((int32_t)vb_le32_to_cpu(abs.min), -5);
	assert_int_equal(vb_le32_to_cpu(abs.max), 32767);
	assert_int_equal(vb_le32_to_cpu(abs.res), 7);
	assert_int_equal(cfg_select(f, VB_VIRTIO_INPUT_CFG_ABS_INFO, 2, u), 0);	/* no ABS_Z */
	assert_int_equal(cfg_select(f, VB_VIRTIO_INPUT_CFG_ABS_INFO, 0xc0, u), 0);
	assert_int_equal(cfg_select(f, VB_VIRTIO_INPUT_CFG_UNSET, 0, u), 0);
	assert_int_equal(cfg_select(f, 0x42, 0, u), 0);
	for (unsigned int i = 0; i < 128; i++)
		assert_int_equal(u[i], 0);	/* an empty answer leaves nothing behind */
	assert_int_equal(cfg_select(f, VB_VIRTIO_INPUT_CFG_ID_NAME, 1, u), 0);
}

/* The driver writes select and subsel only. @verify{VB-REQ-INPUT-003} */
static void test_input__config_write_only_select(void **state)
{
	struct fx *f = *state;
	uint8_t two[2] = { VB_VIRTIO_INPUT_CFG_EV_BITS, VB_INPUT_EV_LED }, size;

	start(f);
	assert_int_equal(vb_dev_config_write(f->dev, 0, two, 2), 0);
	assert_int_equal(vb_dev_config_read(f->dev, VB_VIRTIO_INPUT_CONFIG_SIZE, &size, 1), 0);
	assert_int_equal(size, 1);
	assert_int_not_equal(vb_dev_config_write(f->dev, VB_VIRTIO_INPUT_CONFIG_SIZE, two, 1), 0);
	assert_int_not_equal(vb_dev_config_write(f->dev, 1, two, 2), 0);
	assert_int_not_equal(vb_dev_config_write(f->dev, VB_VIRTIO_INPUT_CONFIG_U, two, 2), 0);
}

/* A burst goes out one event per buffer, in order, with one notification.
 * @verify{VB-REQ-INPUT-010} */
static void test_input__burst_one_notification(void **state)
{
	struct fx *f = *state;
	struct vb_input_event in[6] = { ev(1, 30, 1), ev(0, 0, 0), ev(1, 30, 0), ev(0, 0, 0),
					ev(1, 48, 1), ev(0, 0, 0) }, got;
	uint32_t len;

	start(f);
	post_events(f, 16, 8);
	assert_int_equal(vb_input_send(f->in, in, 6), 6);
	assert_int_equal(f->notifies[0], 1);
	for (unsigned int i = 0; i < 6; i++) {
		assert_int_equal(guest_event(f, &got, &len), 1);
		assert_int_equal(len, 8);
		assert_memory_equal(&got, &in[i], sizeof(got));
	}
	assert_int_equal(guest_event(f, &got, NULL), 0);
	assert_int_equal(vb_input_pending(f->in), 0);
}

/* Events wait for buffers and go out when the driver posts some.
 * @verify{VB-REQ-INPUT-010} */
static void test_input__events_wait_for_buffers(void **state)
{
	struct fx *f = *state;
	struct vb_input_event in[4] = { ev(2, 0, 5), ev(2, 1, (uint32_t)-3), ev(0, 0, 0),
					ev(1, 272, 1) }, got;

	start(f);
	post_events(f, 1, 8);
	assert_int_equal(vb_input_send(f->in, in, 4), 4);
	assert_int_equal(vb_input_pending(f->in), 3);
	assert_int_equal(guest_event(f, &got, NULL), 1);
	assert_memory_equal(&got, &in[0], sizeof(got));
	post_events(f, 8, 8);
	assert_int_equal(vb_input_pending(f->in), 0);
	for (unsigned int i = 1; i < 4; i++) {
		assert_int_equal(guest_event(f, &got, NULL), 1);
		assert_memory_equal(&got, &in[i], sizeof(got));
	}
}

/* A full ring drops whole packets: the driver never sees part of one.
 * @verify{VB-REQ-INPUT-011} */
static void test_input__overflow_drops_whole_packets(void **state)
{
	struct fx *f = *state;
	struct vb_input_event pkt[3], got;
	struct vb_input_stats st;

	f->cfg.pending_max = 8;
	start(f);
	for (uint32_t p = 0; p < 4; p++) {
		pkt[0] = ev(3, 0, p);
		pkt[1] = ev(3, 1, p);
		pkt[2] = ev(0, 0, 0);
		assert_int_equal(vb_input_send(f->in, pkt, 3), 3);
	}
	/* Packets 0 and 1 (6 events) fit; 2 and 3 could not end and were taken back. */
	assert_int_equal(vb_input_pending(f->in), 6);
	vb_input_get_stats(f->in, &st);
	assert_int_equal(st.dropped, 6);
	post_events(f, 16, 8);
	for (uint32_t p = 0; p < 2; p++) {
		assert_int_equal(guest_event(f, &got, NULL), 1);
		assert_true(got.type == 3 && got.code == 0 && got.value == p);
		assert_int_equal(guest_event(f, &got, NULL), 1);
		assert_true(got.type == 3 && got.code == 1 && got.value == p);
		assert_int_equal(guest_event(f, &got, NULL), 1);
		assert_true(got.type == 0 && got.code == 0);
	}
	assert_int_equal(guest_event(f, &got, NULL), 0);
	/* Afterwards packets flow again. */
	assert_int_equal(vb_input_send(f->in, pkt, 3), 3);
	for (unsigned int i = 0; i < 3; i++)
		assert_int_equal(guest_event(f, &got, NULL), 1);
}

/* A buffer under 8 bytes comes back empty and the event goes into the next one.
 * @verify{VB-REQ-INPUT-012} */
static void test_input__short_buffer_returned_empty(void **state)
{
	struct fx *f = *state;
	struct vb_input_event in = ev(1, 2, 1), got;
	struct vb_input_stats st;
	uint32_t len;

	start(f);
	post_events(f, 1, 4);
	post_events(f, 1, 8);
	assert_int_equal(vb_input_send(f->in, &in, 1), 1);
	assert_int_equal(guest_event(f, &got, &len), 1);
	assert_int_equal(len, 0);
	assert_int_equal(guest_event(f, &got, &len), 1);
	assert_int_equal(len, 8);
	assert_memory_equal(&got, &in, sizeof(got));
	vb_input_get_stats(f->in, &st);
	assert_int_equal(st.short_bufs, 1);
	assert_false(vb_dev_get_status(f->dev) & VB_VIRTIO_S_NEEDS_RESET);
}

/* Status events reach the host only for a type and code the device has.
 * @verify{VB-REQ-INPUT-020} */
static void test_input__status_validated(void **state)
{
	struct fx *f = *state;
	struct vb_input_stats st;

	start(f);
	status_event(f, VB_INPUT_EV_LED, 1, 1, 8);	/* CAPS on: fine */
	status_event(f, VB_INPUT_EV_LED, 9, 1, 8);	/* no such LED */
	status_event(f, VB_INPUT_EV_KEY, 30, 1, 8);	/* keys are not status */
	status_event(f, VB_INPUT_EV_SYN, 0, 0, 8);
	status_event(f, 0xffff, 0xffff, 0, 8);
	status_event(f, VB_INPUT_EV_LED, 0, 1, 7);	/* short */
	status_event(f, VB_INPUT_EV_REP, 0, 250, 8);	/* autorepeat delay: fine */
	assert_int_equal(f->n_status, 2);
	assert_true(f->status[0].type == VB_INPUT_EV_LED && f->status[0].code == 1 &&
		    f->status[0].value == 1);
	assert_true(f->status[1].type == VB_INPUT_EV_REP && f->status[1].value == 250);
	vb_input_get_stats(f->in, &st);
	assert_int_equal(st.status, 2);
	assert_int_equal(st.status_bad, 5);
}

/* Without a running driver events are dropped; a reset drops what was held.
 * @verify{VB-REQ-INPUT-013} */
static void test_input__reset_drops_events(void **state)
{
	struct fx *f = *state;
	struct vb_input_event in[2] = { ev(1, 2, 1), ev(0, 0, 0) };
	struct vb_input_stats st;
	uint8_t sel = VB_VIRTIO_INPUT_CFG_ID_NAME, v;

	assert_int_equal(vb_input_create(&f->cfg, &f->in), 0);
	assert_int_equal(vb_input_send(f->in, in, 2), 0);
	vb_input_destroy(f->in);
	f->in = NULL;
	start(f);
	assert_int_equal(vb_dev_config_write(f->dev, 0, &sel, 1), 0);
	assert_int_equal(vb_input_send(f->in, in, 2), 2);
	assert_int_equal(vb_input_pending(f->in), 2);
	vb_dev_reset(f->dev);
	assert_int_equal(vb_input_pending(f->in), 0);
	vb_input_get_stats(f->in, &st);
	assert_int_equal(st.dropped, 2);
	assert_int_equal(vb_input_send(f->in, in, 2), 0);
	/* select is back to UNSET. */
	assert_int_equal(vb_dev_config_read(f->dev, 0, &v, 1), 0);
	assert_int_equal(v, 0);
}

/* The synthetic profiles describe what they claim.
 * @verify{VB-REQ-INPUT-031} */
static void test_input__synthetic_profiles(void **state)
{
	struct vb_input_info i;

	(void)state;
	assert_int_equal(vb_input_synth_info(VB_INPUT_SYNTH_KEYBOARD, &i), 0);
	assert_string_equal(i.name, "vb-synthetic-keyboard");
	assert_true(vb_input_bit_test(i.ev[VB_INPUT_EV_KEY], 30));	/* KEY_A */
	assert_true(vb_input_bit_test(i.ev[VB_INPUT_EV_LED], 1));
	assert_false(vb_input_bit_test(i.ev[VB_INPUT_EV_REL], 0));
	assert_int_equal(vb_input_synth_info(VB_INPUT_SYNTH_MOUSE, &i), 0);
	assert_true(vb_input_bit_test(i.ev[VB_INPUT_EV_REL], 8));	/* REL_WHEEL */
	assert_true(vb_input_bit_test(i.ev[VB_INPUT_EV_KEY], 0x110));
	assert_int_equal(vb_input_synth_info(VB_INPUT_SYNTH_TABLET, &i), 0);
	assert_int_equal(i.abs[1].max, 32767);
	assert_int_equal(vb_input_synth_info((enum vb_input_synth)3, &i), -EINVAL);
	assert_false(vb_input_bit_test(i.prop, 4096));
}

/* The same burst over a packed eventq (batch pop and push on the packed ring).
 * @verify{VB-REQ-INPUT-010} */
static void test_input__burst_packed_ring(void **state)
{
	struct fx *f = *state;
	struct vbt_packed *pr = calloc(1, sizeof(*pr));
	struct vb_input_event in[5] = { ev(2, 0, 1), ev(2, 1, 2), ev(0, 0, 0), ev(2, 0, 3),
					ev(0, 0, 0) };
	uint64_t gpa[QSZ] = { 0 };
	struct vb_queue_config qc;
	uint64_t feat;

	assert_non_null(pr);
	assert_int_equal(vb_input_create(&f->cfg, &f->in), 0);
	assert_int_equal(vbt_guest_init(&f->g, GUEST_GPA, GUEST_SIZE, 0), 0);
	f->started = true;
	f->tops = (struct vb_transport_ops){ .version = VB_TRANSPORT_OPS_V1,
		.notify = t_notify, .config_changed = t_config_changed };
	assert_int_equal(vb_dev_init(f->dev_storage, sizeof(f->dev_storage),
				     vb_input_device_ops(f->in), f->in, &f->tops, f, &f->g.mem,
				     &f->dev), 0);
	assert_int_equal(vb_dev_set_status(f->dev, VB_VIRTIO_S_ACKNOWLEDGE), 0);
	assert_int_equal(vb_dev_set_status(f->dev, VB_VIRTIO_S_ACKNOWLEDGE | VB_VIRTIO_S_DRIVER), 0);
	feat = vb_dev_get_features(f->dev);
	assert_true(feat & VB_BIT(VB_VIRTIO_F_RING_PACKED));
	assert_int_equal(vb_dev_set_driver_features(f->dev, feat), 0);
	assert_int_equal(vb_dev_set_status(f->dev, VB_VIRTIO_S_ACKNOWLEDGE | VB_VIRTIO_S_DRIVER |
					   VB_VIRTIO_S_FEATURES_OK), 0);
	vbt_packed_init(pr, &f->g, QSZ);
	qc = (struct vb_queue_config){ .num = QSZ, .desc = pr->desc_gpa, .driver = pr->driver_gpa,
				       .device = pr->device_gpa };
	assert_int_equal(vb_dev_queue_set_config(f->dev, 0, &qc), 0);
	assert_int_equal(vb_dev_queue_enable(f->dev, 0, true), 0);
	assert_int_equal(vb_dev_set_status(f->dev, VB_VIRTIO_S_ACKNOWLEDGE | VB_VIRTIO_S_DRIVER |
					   VB_VIRTIO_S_FEATURES_OK | VB_VIRTIO_S_DRIVER_OK), 0);
	for (unsigned int i = 0; i < 3; i++) {
		struct vbt_buf b = { vbt_guest_alloc(&f->g, 8, 8), 8, true };
		int id = vbt_packed_add(pr, &b, 1, false);

		assert_true(id >= 0 && id < (int)QSZ);
		gpa[id] = b.gpa;
	}
	assert_int_equal(vb_dev_kick(f->dev, 0), 0);
	assert_int_equal(vb_input_send(f->in, in, 5), 5);
	assert_int_equal(vb_input_pending(f->in), 2);
	for (unsigned int i = 0; i < 2; i++) {
		struct vbt_buf b = { vbt_guest_alloc(&f->g, 8, 8), 8, true };
		int id = vbt_packed_add(pr, &b, 1, false);

		assert_true(id >= 0 && id < (int)QSZ);
		gpa[id] = b.gpa;
	}
	assert_int_equal(vb_dev_kick(f->dev, 0), 0);
	assert_int_equal(vb_input_pending(f->in), 0);
	for (unsigned int i = 0; i < 5; i++) {
		struct vb_virtio_input_event w;
		uint16_t id;
		uint32_t len;

		assert_int_equal(vbt_packed_get_used(pr, &id, &len, NULL), 1);
		assert_int_equal(len, 8);
		assert_true(id < QSZ && gpa[id]);
		memcpy(&w, vbt_guest_ptr(&f->g, gpa[id]), sizeof(w));
		assert_int_equal(vb_le16_to_cpu(w.type), in[i].type);
		assert_int_equal(vb_le16_to_cpu(w.code), in[i].code);
		assert_int_equal(vb_le32_to_cpu(w.value), in[i].value);
	}
	assert_int_equal(vbt_packed_get_used(pr, NULL, NULL, NULL), 0);
	assert_int_equal(f->notifies[0], 2);
	free(pr);
}

/* @verify{VB-REQ-INPUT-001} */
static void test_input__init_rejects_bad_config(void **state)
{
	struct fx *f = *state;
	struct vb_input_config c = f->cfg;
	struct vb_input_ops o = f->ops;
	struct vb_input *in;
	alignas(8) static uint8_t small[64];

	assert_int_equal(vb_input_init(small, sizeof(small), &c, &in), -ENOSPC);
	assert_int_equal(vb_input_init(small + 1, sizeof(small), &c, &in), -EINVAL);
	c.version = 0;
	assert_int_equal(vb_input_create(&c, &in), -EINVAL);
	c.version = VB_INPUT_CONFIG_V1;
	c.info = NULL;
	assert_int_equal(vb_input_create(&c, &in), -EINVAL);
	c.info = &f->info;
	c.pending_max = VB_INPUT_PENDING_MAX + 1;
	assert_int_equal(vb_input_size(&c), 0);
	c.pending_max = 0;
	c.queue_num_max = 40000;
	assert_int_equal(vb_input_create(&c, &in), -EINVAL);
	c.queue_num_max = 0;
	o.version = 0;
	c.ops = &o;
	assert_int_equal(vb_input_create(&c, &in), -EINVAL);
	c.ops = NULL;
	assert_int_equal(vb_input_create(&c, &in), 0);
	vb_input_destroy(in);
}

/* ---- evdev on a uinput device ---- */

static int uinput_keyboard(char *evdev, size_t len)
{
	struct uinput_setup us;
	char sys[64];
	int fd = open("/dev/uinput", O_WRONLY | O_NONBLOCK | O_CLOEXEC);

	if (fd < 0)
		return -errno;
	ioctl(fd, UI_SET_EVBIT, EV_KEY);
	ioctl(fd, UI_SET_EVBIT, EV_LED);
	ioctl(fd, UI_SET_KEYBIT, KEY_A);
	ioctl(fd, UI_SET_KEYBIT, KEY_B);
	ioctl(fd, UI_SET_LEDBIT, LED_CAPSL);
	memset(&us, 0, sizeof(us));
	us.id.bustype = BUS_USB;
	us.id.vendor = 0x1234;
	us.id.product = 0x5678;
	snprintf(us.name, sizeof(us.name), "vbt-uinput-kbd");
	if (ioctl(fd, UI_DEV_SETUP, &us) < 0 || ioctl(fd, UI_DEV_CREATE) < 0 ||
	    ioctl(fd, UI_GET_SYSNAME(sizeof(sys)), sys) < 0) {
		close(fd);
		return -EIO;
	}
	/* /sys/devices/virtual/input/inputN/eventM: find the event node. */
	for (int i = 0; i < 100; i++) {
		char path[160];

		for (int n = 0; n < 64; n++) {
			snprintf(path, sizeof(path), "/sys/devices/virtual/input/%s/event%d", sys, n);
			if (access(path, F_OK) == 0) {
				snprintf(evdev, len, "/dev/input/event%d", n);
				if (access(evdev, R_OK) == 0)
					return fd;
			}
		}
		usleep(10000);
	}
	close(fd);
	return -ENOENT;
}

static void emit(int fd, uint16_t type, uint16_t code, int32_t value)
{
	struct input_event e;

	memset(&e, 0, sizeof(e));
	e.type = type;
	e.code = code;
	e.value = value;
	assert_int_equal(write(fd, &e, sizeof(e)), (ssize_t)sizeof(e));
}

/* The evdev source describes a uinput keyboard and forwards exactly its events.
 * @verify{VB-REQ-INPUT-030} */
static void test_input__evdev_uinput(void **state)
{
	struct fx *f = *state;
	struct vb_input_evdev *e;
	struct vb_input_event got;
	char evdev[64];
	int ui = uinput_keyboard(evdev, sizeof(evdev));
	uint8_t u[128];

	if (ui < 0) {
		printf("no usable /dev/uinput (%s): skipped\n", strerror(-ui));
		skip();
	}
	assert_int_equal(vb_input_evdev_open(evdev, 0, &f->info, &e), 0);
	assert_string_equal(f->info.name, "vbt-uinput-kbd");
	assert_int_equal(f->info.vendor, 0x1234);
	assert_true(vb_input_bit_test(f->info.ev[EV_KEY], KEY_A));
	assert_false(vb_input_bit_test(f->info.ev[EV_KEY], KEY_C));
	f->cfg.ops = &vb_input_evdev_ops;
	f->cfg.ctx = e;
	start(f);
	vb_input_evdev_attach(e, f->in);
	assert_int_equal(cfg_select(f, VB_VIRTIO_INPUT_CFG_ID_NAME, 0, u), 14);
	post_events(f, 16, 8);
	emit(ui, EV_KEY, KEY_A, 1);
	emit(ui, EV_SYN, SYN_REPORT, 0);
	emit(ui, EV_KEY, KEY_A, 0);
	emit(ui, EV_SYN, SYN_REPORT, 0);
	for (int i = 0; i < 100 && vb_input_evdev_dispatch(e) < 4; i++) {
		struct pollfd p = { vb_input_evdev_fd(e), POLLIN, 0 };

		(void)poll(&p, 1, 10);
	}
	assert_int_equal(guest_event(f, &got, NULL), 1);
	assert_true(got.type == EV_KEY && got.code == KEY_A && got.value == 1);
	assert_int_equal(guest_event(f, &got, NULL), 1);
	assert_true(got.type == EV_SYN);
	assert_int_equal(guest_event(f, &got, NULL), 1);
	assert_true(got.type == EV_KEY && got.value == 0);
	assert_int_equal(guest_event(f, &got, NULL), 1);
	assert_int_equal(guest_event(f, &got, NULL), 0);
	vb_input_evdev_close(e);
	ioctl(ui, UI_DEV_DESTROY);
	close(ui);
}

/* A missing device is an error, not a crash. @verify{VB-REQ-INPUT-030} */
static void test_input__evdev_missing_device(void **state)
{
	struct fx *f = *state;
	struct vb_input_evdev *e;

	assert_int_equal(vb_input_evdev_open("/nonexistent/event0", 0, &f->info, &e), -ENOENT);
	/* A file that is not an evdev device: the first ioctl fails. */
	assert_true(vb_input_evdev_open("/dev/null", 0, &f->info, &e) < 0);
}

#define T(name) cmocka_unit_test_setup_teardown(test_input__##name, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(device_table),
		T(config_select_protocol),
		T(config_write_only_select),
		T(burst_one_notification),
		T(burst_packed_ring),
		T(events_wait_for_buffers),
		T(overflow_drops_whole_packets),
		T(short_buffer_returned_empty),
		T(status_validated),
		T(reset_drops_events),
		T(synthetic_profiles),
		T(init_rejects_bad_config),
		T(evdev_uinput),
		T(evdev_missing_device),
	};

	return cmocka_run_group_tests_name("input", tests, NULL, NULL);
}
