/* SPDX-License-Identifier: MIT */
/*
 * virtio-input device model (virtio 1.2, 5.8 "Input Device"): the select/subsel config
 * protocol over a fixed device description, the eventq with a bounded ring of events that
 * wait for driver buffers, the statusq with validation. No transport knowledge, no system
 * calls, no allocation after init.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "virtio-backend.h"
#include "virtio-backend/devices/input.h"
#include "internal/check.h"
#include "internal/compiler.h"

/* Chains popped at once on the eventq (one event each). */
#define BATCH		16u
/* iovecs per chain the model accepts (Linux posts one 8-byte buffer per event). */
#define CHAIN_IOV	4u

#define Q_EVENT		0u
#define Q_STATUS	1u

struct vb_input {
	struct vb_device_ops	dops;
	struct vb_input_info	info;
	const struct vb_input_ops *ops;
	void			*ctx;
	struct vb_dev		*dev;		/* learnt from the hooks */
	uint8_t			select, subsel;
	bool			active;		/* between activate and reset */
	bool			dropping;	/* dropping up to the next SYN_REPORT */
	bool			heap;
	uint32_t		cap;		/* ring entries */
	uint32_t		head;		/* oldest held event */
	uint32_t		count;		/* events held */
	uint32_t		tail_pkt;	/* held events after the last held SYN_REPORT */
	struct vb_input_stats	st;
	struct vb_chain		chains[BATCH];
	uint32_t		written[BATCH];
	struct vb_iov		iov[BATCH][2][CHAIN_IOV];
	struct vb_input_event	ring[];
};

VB_EXPORT void vb_input_bit_set(uint8_t *bitmap, unsigned int code)
{
	if (code < VB_INPUT_BITMAP_BYTES * 8u)
		bitmap[code / 8u] = (uint8_t)(bitmap[code / 8u] | (1u << (code % 8u)));
}

VB_EXPORT bool vb_input_bit_test(const uint8_t *bitmap, unsigned int code)
{
	return code < VB_INPUT_BITMAP_BYTES * 8u && ((bitmap[code / 8u] >> (code % 8u)) & 1u);
}

/* Bytes of a bitmap up to its last non-zero byte. */
static uint8_t bitmap_size(const uint8_t *bitmap)
{
	unsigned int n = VB_INPUT_BITMAP_BYTES;

	while (n && !bitmap[n - 1])
		n--;
	return (uint8_t)n;
}

/* ---- config space ----------------------------------------------------------------------- */

/* The answer to the current select/subsel (virtio 1.2, 5.8.4 "Device configuration layout";
 * 5.8.5.1 "Device Requirements": size 0 for a combination the device does not support).
 * @satisfy{VB-REQ-INPUT-003} */
static void fill_config(const struct vb_input *in, struct vb_virtio_input_config *c)
{
	const struct vb_input_info *i = &in->info;
	uint8_t sub = in->subsel;

	memset(c, 0, sizeof(*c));
	c->select = in->select;
	c->subsel = sub;
	switch (in->select) {
	case VB_VIRTIO_INPUT_CFG_ID_NAME:
	case VB_VIRTIO_INPUT_CFG_ID_SERIAL: {
		const char *s = in->select == VB_VIRTIO_INPUT_CFG_ID_NAME ? i->name : i->serial;
		size_t n = 0;

		if (sub)
			break;
		while (n < sizeof(c->u.string) && s[n])
			n++;
		memcpy(c->u.string, s, n);
		c->size = (uint8_t)n;
		break;
	}
	case VB_VIRTIO_INPUT_CFG_ID_DEVIDS:
		if (sub)
			break;
		c->u.ids.bustype = vb_cpu_to_le16(i->bustype);
		c->u.ids.vendor = vb_cpu_to_le16(i->vendor);
		c->u.ids.product = vb_cpu_to_le16(i->product);
		c->u.ids.version = vb_cpu_to_le16(i->version);
		c->size = sizeof(c->u.ids);
		break;
	case VB_VIRTIO_INPUT_CFG_PROP_BITS:
		if (sub)
			break;
		c->size = bitmap_size(i->prop);
		memcpy(c->u.bitmap, i->prop, c->size);
		break;
	case VB_VIRTIO_INPUT_CFG_EV_BITS:
		/* EV_SYN has no codes to report; types beyond EV_CNT do not exist. */
		if (sub == VB_INPUT_EV_SYN || sub >= VB_INPUT_EV_CNT)
			break;
		c->size = bitmap_size(i->ev[sub]);
		memcpy(c->u.bitmap, i->ev[sub], c->size);
		break;
	case VB_VIRTIO_INPUT_CFG_ABS_INFO:
		if (sub >= VB_INPUT_ABS_CNT || !vb_input_bit_test(i->ev[VB_INPUT_EV_ABS], sub))
			break;
		c->u.abs.min = vb_cpu_to_le32((uint32_t)i->abs[sub].min);
		c->u.abs.max = vb_cpu_to_le32((uint32_t)i->abs[sub].max);
		c->u.abs.fuzz = vb_cpu_to_le32((uint32_t)i->abs[sub].fuzz);
		c->u.abs.flat = vb_cpu_to_le32((uint32_t)i->abs[sub].flat);
		c->u.abs.res = vb_cpu_to_le32((uint32_t)i->abs[sub].res);
		c->size = sizeof(c->u.abs);
		break;
	default:
		break;
	}
}

static int in_config_read(struct vb_dev *dev, uint32_t off, void *buf, uint32_t len)
{
	struct vb_input *in = vb_dev_priv(dev);
	struct vb_virtio_input_config c;

	in->dev = dev;
	if (VB_NEVER(off > sizeof(c) || len > sizeof(c) - off))
		return -EINVAL;
	fill_config(in, &c);
	memcpy(buf, (const uint8_t *)&c + off, len);
	return 0;
}

/* Only select and subsel are written by the driver (virtio 1.2, 5.8.5.2 "Driver
 * Requirements: Device configuration layout"). @satisfy{VB-REQ-INPUT-003} */
static int in_config_write(struct vb_dev *dev, uint32_t off, const void *buf, uint32_t len)
{
	struct vb_input *in = vb_dev_priv(dev);
	const uint8_t *b = buf;

	in->dev = dev;
	if (len == 0 || off + len > VB_VIRTIO_INPUT_CONFIG_SIZE)
		return -ENOTSUP;
	for (uint32_t k = 0; k < len; k++) {
		if (off + k == VB_VIRTIO_INPUT_CONFIG_SELECT)
			in->select = b[k];
		else
			in->subsel = b[k];
	}
	return 0;
}

/* ---- eventq ----------------------------------------------------------------------------- */

static struct vb_vq *queue(struct vb_input *in, uint16_t q)
{
	struct vb_vq *vq = in->dev ? vb_dev_queue(in->dev, q) : NULL;

	return vq && vb_vq_is_ready(vq) ? vq : NULL;
}

/* Move held events into the driver's buffers: pop a batch, write one event into each,
 * push the batch with one index store, notify once. @satisfy{VB-REQ-INPUT-010} */
static void flush(struct vb_input *in)
{
	struct vb_vq *vq = queue(in, Q_EVENT);
	bool pushed = false;

	if (!vq || !in->active)
		return;
	while (in->count) {
		unsigned int want = in->count < BATCH ? in->count : BATCH;
		int n;

		for (unsigned int k = 0; k < want; k++)
			in->chains[k] = (struct vb_chain){ .read = in->iov[k][0],
							   .write = in->iov[k][1],
							   .max_read = CHAIN_IOV,
							   .max_write = CHAIN_IOV };
		n = vb_vq_pop_batch(vq, in->chains, want);
		if (n <= 0)
			break;
		for (int k = 0; k < n; k++) {
			const struct vb_input_event *e = &in->ring[in->head];
			struct vb_virtio_input_event w;

			/* virtio 1.2, 5.8.6: one struct virtio_input_event per buffer. A
			 * buffer too small for it is returned empty, the event kept.
			 * @satisfy{VB-REQ-INPUT-012} */
			if (in->chains[k].write_len < sizeof(w)) {
				in->written[k] = 0;
				in->st.short_bufs++;
				continue;
			}
			if (!in->count) {
				in->written[k] = 0;	/* more buffers than events: cannot be */
				continue;
			}
			w.type = vb_cpu_to_le16(e->type);
			w.code = vb_cpu_to_le16(e->code);
			w.value = vb_cpu_to_le32(e->value);
			(void)vb_chain_write(&in->chains[k], 0, &w, sizeof(w));
			in->written[k] = sizeof(w);
			in->head = (in->head + 1u) % in->cap;
			in->count--;
			if (in->tail_pkt > in->count)
				in->tail_pkt = in->count;
			in->st.events++;
		}
		if (vb_vq_push_batch(vq, in->chains, in->written, (unsigned int)n) == 0)
			pushed = true;
		if ((unsigned int)n < want)
			break;
	}
	if (pushed)
		(void)vb_vq_notify(vq);
}

/* @satisfy{VB-REQ-INPUT-011} */
static void hold(struct vb_input *in, const struct vb_input_event *e)
{
	bool syn = e->type == VB_INPUT_EV_SYN && e->code == VB_INPUT_SYN_REPORT;

	if (in->dropping) {
		in->st.dropped++;
		in->dropping = !syn;
		return;
	}
	if (in->count == in->cap) {
		flush(in);
		if (in->count == in->cap) {
			/* Take the undelivered part of this packet back and drop the rest of
			 * it as it comes. */
			in->count -= in->tail_pkt;
			in->st.dropped += in->tail_pkt + 1u;
			in->tail_pkt = 0;
			in->dropping = !syn;
			return;
		}
	}
	in->ring[(in->head + in->count) % in->cap] = *e;
	in->count++;
	in->tail_pkt = syn ? 0 : in->tail_pkt + 1u;
}

VB_EXPORT int vb_input_send(struct vb_input *in, const struct vb_input_event *ev, unsigned int n)
{
	if (!in || (!ev && n))
		return -EINVAL;
	if (!in->active) {
		/* No driver: nobody to hold the events for (a reset would drop them). */
		in->st.dropped += n;
		return 0;
	}
	for (unsigned int k = 0; k < n; k++)
		hold(in, &ev[k]);
	flush(in);
	return (int)n;
}

VB_EXPORT unsigned int vb_input_pending(const struct vb_input *in)
{
	return in->count;
}

/* ---- statusq ---------------------------------------------------------------------------- */

/* virtio 1.2, 5.8.6.2 "Driver Requirements: Device Operation": the driver sends status
 * events for what the device reported. A type/code the description does not have is
 * refused. @satisfy{VB-REQ-INPUT-020} */
static bool status_ok(const struct vb_input *in, const struct vb_input_event *e)
{
	switch (e->type) {
	case VB_INPUT_EV_LED:
	case VB_INPUT_EV_SND:
	case VB_INPUT_EV_REP:
	case VB_INPUT_EV_FF:
		return vb_input_bit_test(in->info.ev[e->type], e->code);
	default:
		return false;
	}
}

static void run_status(struct vb_input *in, struct vb_vq *vq)
{
	struct vb_chain c;
	bool pushed = false;

	for (;;) {
		struct vb_virtio_input_event w;
		struct vb_input_event e;

		c = (struct vb_chain){ .read = in->iov[0][0], .write = in->iov[0][1],
				       .max_read = CHAIN_IOV, .max_write = CHAIN_IOV };
		if (vb_vq_pop(vq, &c) <= 0)
			break;
		if (vb_chain_read(&c, 0, &w, sizeof(w)) < 0) {
			in->st.status_bad++;
		} else {
			e.type = vb_le16_to_cpu(w.type);
			e.code = vb_le16_to_cpu(w.code);
			e.value = vb_le32_to_cpu(w.value);
			if (!status_ok(in, &e)) {
				in->st.status_bad++;
			} else {
				in->st.status++;
				if (in->ops && in->ops->status)
					in->ops->status(in->ctx, &e);
			}
		}
		(void)vb_vq_push(vq, &c, 0);
		pushed = true;
	}
	if (pushed)
		(void)vb_vq_notify(vq);
}

/* ---- hooks ------------------------------------------------------------------------------ */

static int in_activate(struct vb_dev *dev, uint64_t features)
{
	struct vb_input *in = vb_dev_priv(dev);

	(void)features;
	in->dev = dev;
	in->active = true;
	return 0;
}

static void in_kick(struct vb_dev *dev, struct vb_vq *vq)
{
	struct vb_input *in = vb_dev_priv(dev);

	in->dev = dev;
	if (vb_vq_index(vq) == Q_EVENT)
		flush(in);
	else
		run_status(in, vq);
}

static void drop_held(struct vb_input *in)
{
	in->st.dropped += in->count;
	in->count = 0;
	in->head = 0;
	in->tail_pkt = 0;
	in->dropping = false;
}

/* @satisfy{VB-REQ-INPUT-013} */
static void in_reset(struct vb_dev *dev)
{
	struct vb_input *in = vb_dev_priv(dev);

	in->dev = dev;
	in->active = false;
	in->select = 0;
	in->subsel = 0;
	drop_held(in);
}

static void in_queue_reset(struct vb_dev *dev, struct vb_vq *vq)
{
	struct vb_input *in = vb_dev_priv(dev);

	in->dev = dev;
	(void)vq;	/* nothing held per queue: events wait in the model's ring */
}

/* ---- construction ----------------------------------------------------------------------- */

static uint32_t cfg_cap(const struct vb_input_config *cfg)
{
	return cfg->pending_max ? cfg->pending_max : VB_INPUT_PENDING_DEFAULT;
}

VB_EXPORT size_t vb_input_size(const struct vb_input_config *cfg)
{
	if (!cfg || cfg->version < VB_INPUT_CONFIG_V1 || !cfg->info ||
	    cfg->queue_num_max > VB_VQ_MAX_SIZE || cfg->pending_max > VB_INPUT_PENDING_MAX ||
	    (cfg->ops && cfg->ops->version < VB_INPUT_OPS_V1))
		return 0;
	return sizeof(struct vb_input) + sizeof(struct vb_input_event) * cfg_cap(cfg);
}

VB_EXPORT int vb_input_init(void *storage, size_t storage_len, const struct vb_input_config *cfg,
			    struct vb_input **out)
{
	struct vb_input *in;
	size_t need;

	if (!storage || ((uintptr_t)storage & 7u) || !out)
		return -EINVAL;
	need = vb_input_size(cfg);
	if (!need)
		return -EINVAL;
	if (storage_len < need)
		return -ENOSPC;
	memset(storage, 0, sizeof(struct vb_input));
	in = storage;
	in->info = *cfg->info;
	in->ops = cfg->ops;
	in->ctx = cfg->ctx;
	in->cap = cfg_cap(cfg);
	in->dops = (struct vb_device_ops){
		.version = VB_DEVICE_OPS_V1,
		.device_id = VB_VIRTIO_ID_INPUT,
		.features = (VB_BIT(VB_VIRTIO_F_VERSION_1) | VB_BIT(VB_VIRTIO_F_INDIRECT_DESC) |
			     VB_BIT(VB_VIRTIO_F_EVENT_IDX) | VB_BIT(VB_VIRTIO_F_RING_PACKED) |
			     VB_BIT(VB_VIRTIO_F_RING_RESET)) & ~cfg->features_off,
		/* virtio 1.2, 5.8.2 "Virtqueues": eventq, statusq. */
		.num_queues = 2,
		.queue_num_max = cfg->queue_num_max ? cfg->queue_num_max :
						      VB_INPUT_QUEUE_NUM_DEFAULT,
		.config_len = VB_VIRTIO_INPUT_CONFIG_LEN,
		.config_read = in_config_read,
		.config_write = in_config_write,
		.activate = in_activate,
		.kick = in_kick,
		.reset = in_reset,
		.queue_reset = in_queue_reset,
	};
	in->dops.features |= VB_BIT(VB_VIRTIO_F_VERSION_1);
	*out = in;
	return 0;
}

VB_EXPORT int vb_input_create(const struct vb_input_config *cfg, struct vb_input **out)
{
	size_t len = vb_input_size(cfg);
	void *mem;
	int ret;

	if (!len || !out)
		return -EINVAL;
	mem = malloc(len);
	if (!mem)
		return -ENOMEM;
	ret = vb_input_init(mem, len, cfg, out);
	if (ret) {
		free(mem);
		return ret;
	}
	(*out)->heap = true;
	return 0;
}

VB_EXPORT void vb_input_destroy(struct vb_input *in)
{
	if (in && in->heap)
		free(in);
}

/* @satisfy{VB-REQ-INPUT-002} */
VB_EXPORT const struct vb_device_ops *vb_input_device_ops(const struct vb_input *in)
{
	return &in->dops;
}

VB_EXPORT void vb_input_get_stats(const struct vb_input *in, struct vb_input_stats *st)
{
	*st = in->st;
}

/* ---- synthetic profiles ----------------------------------------------------------------- */

/* Linux input-event-codes.h values used by the profiles. */
#define KEY_ESC		1u
#define KEY_MAX_SYNTH	248u
#define BTN_LEFT	0x110u
#define BTN_RIGHT	0x111u
#define BTN_MIDDLE	0x112u
#define REL_X		0u
#define REL_Y		1u
#define REL_WHEEL	8u
#define ABS_X		0u
#define ABS_Y		1u
#define LED_NUML	0u
#define LED_CAPSL	1u
#define LED_SCROLLL	2u
#define REP_DELAY	0u
#define REP_PERIOD	1u
#define INPUT_PROP_DIRECT 1u
#define BUS_VIRTUAL	0x06u

/* @satisfy{VB-REQ-INPUT-031} */
VB_EXPORT int vb_input_synth_info(enum vb_input_synth kind, struct vb_input_info *info)
{
	static const char *const names[] = { "keyboard", "mouse", "tablet" };
	const char *n;

	if (!info || (unsigned int)kind > VB_INPUT_SYNTH_TABLET)
		return -EINVAL;
	n = names[kind];
	memset(info, 0, sizeof(*info));
	memcpy(info->name, "vb-synthetic-", 13);
	memcpy(info->name + 13, n, strlen(n));
	memcpy(info->serial, "vb-0001", 7);
	info->bustype = BUS_VIRTUAL;
	info->vendor = 0x1af4;	/* the virtio vendor id */
	info->product = (uint16_t)(0x1100u + (unsigned int)kind);
	info->version = 1;
	switch (kind) {
	case VB_INPUT_SYNTH_KEYBOARD:
		for (unsigned int k = KEY_ESC; k <= KEY_MAX_SYNTH; k++)
			vb_input_bit_set(info->ev[VB_INPUT_EV_KEY], k);
		vb_input_bit_set(info->ev[VB_INPUT_EV_LED], LED_NUML);
		vb_input_bit_set(info->ev[VB_INPUT_EV_LED], LED_CAPSL);
		vb_input_bit_set(info->ev[VB_INPUT_EV_LED], LED_SCROLLL);
		vb_input_bit_set(info->ev[VB_INPUT_EV_REP], REP_DELAY);
		vb_input_bit_set(info->ev[VB_INPUT_EV_REP], REP_PERIOD);
		break;
	case VB_INPUT_SYNTH_MOUSE:
		vb_input_bit_set(info->ev[VB_INPUT_EV_KEY], BTN_LEFT);
		vb_input_bit_set(info->ev[VB_INPUT_EV_KEY], BTN_RIGHT);
		vb_input_bit_set(info->ev[VB_INPUT_EV_KEY], BTN_MIDDLE);
		vb_input_bit_set(info->ev[VB_INPUT_EV_REL], REL_X);
		vb_input_bit_set(info->ev[VB_INPUT_EV_REL], REL_Y);
		vb_input_bit_set(info->ev[VB_INPUT_EV_REL], REL_WHEEL);
		break;
	case VB_INPUT_SYNTH_TABLET:
		vb_input_bit_set(info->ev[VB_INPUT_EV_KEY], BTN_LEFT);
		vb_input_bit_set(info->ev[VB_INPUT_EV_KEY], BTN_RIGHT);
		vb_input_bit_set(info->ev[VB_INPUT_EV_ABS], ABS_X);
		vb_input_bit_set(info->ev[VB_INPUT_EV_ABS], ABS_Y);
		info->abs[ABS_X].max = 32767;
		info->abs[ABS_Y].max = 32767;
		vb_input_bit_set(info->prop, INPUT_PROP_DIRECT);
		break;
	}
	return 0;
}
