/* SPDX-License-Identifier: MIT */
/*
 * virtio-gpio device model (virtio 1.2, 5.18 "GPIO Device"): requestq messages, config
 * space, and the eventq buffers the driver queues per line to unmask its interrupt. No
 * transport knowledge, no allocation per request, no system calls (the host backends in
 * gpio-sim.c and gpio-cdev.c touch the lines).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "virtio-backend.h"
#include "virtio-backend/devices/gpio.h"
#include "internal/check.h"
#include "internal/compiler.h"

/* Descriptors per direction a chain may use beyond the queue size (indirect tables). */
#define GPIO_IOV_SLACK	8u
#define GPIO_QUEUE_NUM_LIMIT 1024u

struct gpio_line {
	uint8_t		dir;		/* VB_VIRTIO_GPIO_DIRECTION_* */
	uint8_t		value;		/* output value the driver set */
	uint8_t		irq_type;	/* VB_VIRTIO_GPIO_IRQ_TYPE_* */
	bool		latched;	/* an edge seen while masked */
	bool		held;		/* an eventq buffer is held: the interrupt is unmasked */
	uint16_t	ev_head;	/* the held buffer's head */
};

struct vb_gpio {
	struct vb_device_ops	dops;
	const struct vb_gpio_backend_ops *ops;
	void			*be;
	struct vb_dev		*dev;		/* learnt from the hooks */
	uint64_t		features;	/* negotiated at activate */
	uint32_t		names_size;	/* gpio_names_size */
	uint16_t		ngpio;
	uint16_t		chain_iov;	/* pop scratch per direction */
	bool			heap;
	bool			ev_dirty;	/* pushed on the eventq since the last notify */
	struct vb_gpio_stats	st;
	struct gpio_line	*line;
	uint8_t			*names;		/* names_size bytes */
	struct vb_iov		*rd, *wr;	/* pop scratch */
	struct vb_iov		*ev_rd, *ev_wr;	/* re-walk scratch of held eventq buffers */
};

#define ALIGN8(x)	(((x) + 7u) & ~(uint64_t)7u)

struct gpio_layout {
	uint64_t lines, names, scratch, total;
	uint32_t names_size;
	uint16_t chain_iov;
};

static bool name_ok(const char *s)
{
	size_t n = 0;

	for (; s[n]; n++)
		if ((unsigned char)s[n] > 0x7f || n >= VB_GPIO_NAME_MAX)
			return false;
	return true;
}

static int layout(const struct vb_gpio_config *cfg, struct gpio_layout *l)
{
	uint16_t qmax;
	uint64_t names = 0;

	if (!cfg || cfg->version < VB_GPIO_CONFIG_V1 || cfg->ngpio == 0 ||
	    cfg->queue_num_max > GPIO_QUEUE_NUM_LIMIT)
		return -EINVAL;
	qmax = cfg->queue_num_max ? cfg->queue_num_max : VB_GPIO_QUEUE_NUM_DEFAULT;
	if (cfg->names) {
		bool any = false;

		for (uint32_t i = 0; i < cfg->ngpio; i++) {
			const char *s = cfg->names[i];

			if (!s) {
				names++;
				continue;
			}
			if (!name_ok(s))
				return -EINVAL;
			names += strlen(s) + 1u;
			any |= s[0] != '\0';
			/* virtio 1.2, 5.18.6.1: a name "must be unique within a GPIO Device". */
			for (uint32_t j = 0; s[0] && j < i; j++)
				if (cfg->names[j] && !strcmp(cfg->names[j], s))
					return -EINVAL;
		}
		/* Only empty names: no names block at all (gpio_names_size 0). */
		if (!any)
			names = 0;
	}
	l->names_size = (uint32_t)names;
	l->chain_iov = (uint16_t)(qmax + GPIO_IOV_SLACK);
	l->lines = ALIGN8(sizeof(struct gpio_line) * (uint64_t)cfg->ngpio);
	l->names = ALIGN8(names);
	l->scratch = 4u * sizeof(struct vb_iov) * (uint64_t)l->chain_iov;
	l->total = ALIGN8(sizeof(struct vb_gpio)) + l->lines + l->names + l->scratch;
	if (l->total > SIZE_MAX)
		return -EINVAL;
	return 0;
}

VB_EXPORT size_t vb_gpio_size(const struct vb_gpio_config *cfg)
{
	struct gpio_layout l;

	return layout(cfg, &l) ? 0 : (size_t)l.total;
}

static bool has_irq(const struct vb_gpio *g)
{
	return (g->features >> VB_VIRTIO_GPIO_F_IRQ) & 1u;
}

static struct vb_vq *eventq(struct vb_gpio *g)
{
	struct vb_vq *vq;

	if (!g->dev || !has_irq(g))
		return NULL;
	vq = vb_dev_queue(g->dev, VB_VIRTIO_GPIO_EVENTQ);
	return vq && vb_vq_is_ready(vq) ? vq : NULL;
}

/* ---- eventq ----------------------------------------------------------------------------- */

/* The first writable byte of c: the status of an eventq response. */
static uint8_t *first_writable(const struct vb_chain *c)
{
	for (unsigned int i = 0; i < c->n_write; i++)
		if (c->write[i].len)
			return c->write[i].base;
	return NULL;
}

/* Return line's held buffer with status st (virtio 1.2, 5.18.7 "Device Operation: eventq":
 * VALID for an interrupt, INVALID once the interrupt is disabled). Returning it masks the
 * interrupt until the driver queues the buffer again.
 *
 * A buffer may be held for a long time, across memory table changes: only its head is kept,
 * and the chain is walked again (with every check of a pop) when it goes back, so no stale
 * pointer into guest memory is ever written through. @satisfy{VB-REQ-GPIO-023} */
static void give_back(struct vb_gpio *g, struct gpio_line *ln, uint8_t st)
{
	struct vb_chain c = { .read = g->ev_rd, .write = g->ev_wr, .max_read = g->chain_iov,
			      .max_write = g->chain_iov };
	struct vb_vq *vq = eventq(g);
	uint8_t *status;

	if (!ln->held)
		return;
	ln->held = false;
	/* A queue that broke or stopped meanwhile: the driver learns of it otherwise. */
	if (!vq || vb_vq_pop_head(vq, ln->ev_head, &c) != 1)
		return;
	status = first_writable(&c);
	if (status)
		*status = st;
	if (st == VB_VIRTIO_GPIO_IRQ_STATUS_VALID)
		g->st.irq_valid++;
	else
		g->st.irq_invalid++;
	/* The driver reads exactly sizeof(struct virtio_gpio_irq_response) back; a driver
	 * that rewrote the chain into one without a writable byte gets 0. */
	if (vb_vq_push(vq, &c, status ? sizeof(struct vb_virtio_gpio_irq_response) : 0) == 0)
		g->ev_dirty = true;
}

static void notify_eventq(struct vb_gpio *g)
{
	struct vb_vq *vq = eventq(g);

	if (g->ev_dirty && vq) {
		g->ev_dirty = false;
		vb_vq_notify(vq);
	}
}

static bool is_level(uint8_t type)
{
	return type == VB_VIRTIO_GPIO_IRQ_TYPE_LEVEL_HIGH ||
	       type == VB_VIRTIO_GPIO_IRQ_TYPE_LEVEL_LOW;
}

/* A level interrupt is active while the line sits at its level; sampled only while
 * unmasked (virtio 1.2, 5.18.6 device requirement: the device "MUST NOT latch an level
 * interrupt if the interrupt is enabled but still masked"). */
static bool level_active(struct vb_gpio *g, uint16_t i)
{
	uint8_t v = 0;

	if (g->ops->get_value(g->be, i, &v) < 0)
		return false;
	return g->line[i].irq_type == VB_VIRTIO_GPIO_IRQ_TYPE_LEVEL_HIGH ? v == 1 : v == 0;
}

/* Deliver what is pending on line i if it is enabled and unmasked. */
static void irq_check(struct vb_gpio *g, uint16_t i)
{
	struct gpio_line *ln = &g->line[i];

	if (!ln->held || ln->irq_type == VB_VIRTIO_GPIO_IRQ_TYPE_NONE)
		return;
	if (is_level(ln->irq_type)) {
		if (level_active(g, i))
			give_back(g, ln, VB_VIRTIO_GPIO_IRQ_STATUS_VALID);
	} else if (ln->latched) {
		ln->latched = false;
		give_back(g, ln, VB_VIRTIO_GPIO_IRQ_STATUS_VALID);
	}
}

/* Disable line i's interrupt: latched events are discarded and a held buffer goes back
 * INVALID (virtio 1.2, 5.18.7 device requirements). @satisfy{VB-REQ-GPIO-022} */
static void irq_disable(struct vb_gpio *g, uint16_t i)
{
	struct gpio_line *ln = &g->line[i];

	if (ln->irq_type != VB_VIRTIO_GPIO_IRQ_TYPE_NONE && g->ops->set_irq_type)
		(void)g->ops->set_irq_type(g->be, i, VB_VIRTIO_GPIO_IRQ_TYPE_NONE);
	ln->irq_type = VB_VIRTIO_GPIO_IRQ_TYPE_NONE;
	ln->latched = false;
	give_back(g, ln, VB_VIRTIO_GPIO_IRQ_STATUS_INVALID);
}

/* @satisfy{VB-REQ-GPIO-030} @satisfy{VB-REQ-GPIO-031} */
VB_EXPORT void vb_gpio_line_event(struct vb_gpio *g, uint16_t line, unsigned int edges)
{
	struct gpio_line *ln;

	if (line >= g->ngpio)
		return;
	ln = &g->line[line];
	if (ln->irq_type == VB_VIRTIO_GPIO_IRQ_TYPE_NONE)
		return;
	if (!is_level(ln->irq_type)) {
		if (!(edges & ln->irq_type))
			return;
		/* virtio 1.2, 5.18.6: the device "MUST latch an edge interrupt if the
		 * interrupt is enabled but still masked"; one latch holds any number. */
		ln->latched = true;
	}
	irq_check(g, line);
	notify_eventq(g);
}

/* An eventq buffer: the driver unmasks a line's interrupt. @satisfy{VB-REQ-GPIO-020}
 * @satisfy{VB-REQ-GPIO-021} */
static void eventq_buffer(struct vb_gpio *g, struct vb_vq *vq, const struct vb_chain *c)
{
	struct vb_virtio_gpio_irq_request req;
	uint8_t *status = first_writable(c);
	struct gpio_line *ln;
	uint16_t i;

	if (!status) {
		/* Nothing to answer in: back untouched. */
		if (vb_vq_push(vq, c, 0) == 0)
			g->ev_dirty = true;
		return;
	}
	/* virtio 1.2, 5.18.7: struct virtio_gpio_irq_request (2 bytes) then
	 * struct virtio_gpio_irq_response (1 byte). A malformed pair, a line out of range, a
	 * second pair for a held line ("MUST NOT add multiple pairs ... for the same GPIO
	 * line") and a line whose interrupt is not enabled ("unmasked without being enabled
	 * first") go straight back INVALID. */
	if (c->read_len != sizeof(req) || c->write_len != 1 ||
	    vb_chain_read(c, 0, &req, sizeof(req)) < 0 ||
	    (i = vb_le16_to_cpu(req.gpio)) >= g->ngpio || g->line[i].held ||
	    g->line[i].irq_type == VB_VIRTIO_GPIO_IRQ_TYPE_NONE) {
		*status = VB_VIRTIO_GPIO_IRQ_STATUS_INVALID;
		g->st.irq_invalid++;
		if (vb_vq_push(vq, c, 1) == 0)
			g->ev_dirty = true;
		return;
	}
	ln = &g->line[i];
	ln->held = true;
	ln->ev_head = c->head;
	irq_check(g, i);
}

/* ---- requestq --------------------------------------------------------------------------- */

static bool irq_type_ok(uint32_t v)
{
	switch (v) {
	case VB_VIRTIO_GPIO_IRQ_TYPE_NONE:
	case VB_VIRTIO_GPIO_IRQ_TYPE_EDGE_RISING:
	case VB_VIRTIO_GPIO_IRQ_TYPE_EDGE_FALLING:
	case VB_VIRTIO_GPIO_IRQ_TYPE_EDGE_BOTH:
	case VB_VIRTIO_GPIO_IRQ_TYPE_LEVEL_HIGH:
	case VB_VIRTIO_GPIO_IRQ_TYPE_LEVEL_LOW:
		return true;
	default:
		return false;
	}
}

/* @satisfy{VB-REQ-GPIO-012} */
static int set_direction(struct vb_gpio *g, uint16_t i, uint32_t v)
{
	struct gpio_line *ln = &g->line[i];

	if (v > VB_VIRTIO_GPIO_DIRECTION_IN)
		return -EINVAL;
	/* The driver "MUST NOT send IRQ messages for a GPIO line configured for output":
	 * an interrupt does not survive the line becoming an output or being released. */
	if (v != VB_VIRTIO_GPIO_DIRECTION_IN)
		irq_disable(g, i);
	if (g->ops->set_direction(g->be, i, (uint8_t)v, ln->value) < 0)
		return -EIO;
	ln->dir = (uint8_t)v;
	/* virtio 1.2, 5.18.6: the device "MUST discard all state information corresponding
	 * to a GPIO line, once the driver has requested to set its direction to
	 * VIRTIO_GPIO_DIRECTION_NONE". */
	if (v == VB_VIRTIO_GPIO_DIRECTION_NONE)
		ln->value = 0;
	return 0;
}

/* @satisfy{VB-REQ-GPIO-014} */
static int set_value(struct vb_gpio *g, uint16_t i, uint32_t v)
{
	struct gpio_line *ln = &g->line[i];

	if (v > 1)
		return -EINVAL;
	/* virtio 1.2, 5.18.6.5 "Set Value": the line "may already be configured for output
	 * or may get configured to output later, at which point this output value must be
	 * used". */
	if (ln->dir == VB_VIRTIO_GPIO_DIRECTION_OUT && g->ops->set_value(g->be, i, (uint8_t)v) < 0)
		return -EIO;
	ln->value = (uint8_t)v;
	return 0;
}

/* @satisfy{VB-REQ-GPIO-015} */
static int set_irq_type(struct vb_gpio *g, uint16_t i, uint32_t v)
{
	struct gpio_line *ln = &g->line[i];

	/* virtio 1.2, 5.18.6.6 "Set IRQ Type": "allowed only if the VIRTIO_GPIO_F_IRQ
	 * feature has been negotiated"; never on an output line (driver requirements). */
	if (!has_irq(g) || !irq_type_ok(v) || !g->ops->set_irq_type)
		return -EINVAL;
	if (v == VB_VIRTIO_GPIO_IRQ_TYPE_NONE) {
		irq_disable(g, i);
		return 0;
	}
	if (ln->dir == VB_VIRTIO_GPIO_DIRECTION_OUT)
		return -EINVAL;
	if (g->ops->set_irq_type(g->be, i, (uint8_t)v) < 0)
		return -EIO;
	/* A new type starts afresh: edges are latched "from this point onward". */
	ln->irq_type = (uint8_t)v;
	ln->latched = false;
	irq_check(g, i);
	return 0;
}

/* Answer one requestq chain. @satisfy{VB-REQ-GPIO-010} @satisfy{VB-REQ-GPIO-011}
 * @satisfy{VB-REQ-GPIO-013} @satisfy{VB-REQ-GPIO-016} */
static uint32_t request(struct vb_gpio *g, const struct vb_chain *c)
{
	struct vb_virtio_gpio_response res = { VB_VIRTIO_GPIO_STATUS_ERR, 0 };
	struct vb_virtio_gpio_request req;
	uint32_t type, value, written;
	uint16_t i;
	int ret = -EINVAL;

	g->st.requests++;
	if (c->write_len == 0) {
		g->st.no_status++;
		return 0;
	}
	/* virtio 1.2, 5.18.6: an 8-byte request, device-readable, then the response,
	 * device-writable: 2 bytes, or 1 + gpio_names_size for GET_NAMES. */
	written = c->write_len < sizeof(res) ? c->write_len : (uint32_t)sizeof(res);
	if (c->read_len != sizeof(req) || vb_chain_read(c, 0, &req, sizeof(req)) < 0)
		goto out;
	type = vb_le16_to_cpu(req.type);
	i = vb_le16_to_cpu(req.gpio);
	value = vb_le32_to_cpu(req.value);
	if (type == VB_VIRTIO_GPIO_MSG_GET_NAMES) {
		/* gpio 0, value 0; only if the device has names; the buffer holds them all. */
		if (i != 0 || value != 0 || g->names_size == 0 ||
		    c->write_len != 1u + g->names_size)
			goto out;
		if (vb_chain_write(c, 1, g->names, g->names_size) < 0)
			goto out;
		res.status = VB_VIRTIO_GPIO_STATUS_OK;
		g->st.ok++;
		(void)vb_chain_write(c, 0, &res.status, 1);
		return c->write_len;
	}
	/* "0 <= gpio < ngpio"; every other message answers 2 bytes. */
	if (i >= g->ngpio || c->write_len != sizeof(res))
		goto out;
	switch (type) {
	case VB_VIRTIO_GPIO_MSG_GET_DIRECTION:
		if (value == 0) {
			res.value = g->line[i].dir;
			ret = 0;
		}
		break;
	case VB_VIRTIO_GPIO_MSG_SET_DIRECTION:
		ret = set_direction(g, i, value);
		break;
	case VB_VIRTIO_GPIO_MSG_GET_VALUE:
		if (value == 0) {
			ret = g->ops->get_value(g->be, i, &res.value);
			if (res.value > 1)	/* a backend bug, not the guest's problem */
				ret = -EIO;
		}
		break;
	case VB_VIRTIO_GPIO_MSG_SET_VALUE:
		ret = set_value(g, i, value);
		break;
	case VB_VIRTIO_GPIO_MSG_SET_IRQ_TYPE:
		ret = set_irq_type(g, i, value);
		break;
	default:
		break;
	}
	if (ret == 0)
		res.status = VB_VIRTIO_GPIO_STATUS_OK;
	else
		res.value = 0;
out:
	if (res.status == VB_VIRTIO_GPIO_STATUS_OK)
		g->st.ok++;
	else
		g->st.err++;
	/* virtio 1.2, 5.18.6 device requirement: "MUST set all the fields of the struct
	 * virtio_gpio_response" (as many of them as the driver gave room for). */
	(void)vb_chain_write(c, 0, &res, written);
	return written;
}

static void run_requestq(struct vb_gpio *g, struct vb_vq *vq)
{
	bool dirty = false;

	for (;;) {
		struct vb_chain c = { .read = g->rd, .write = g->wr, .max_read = g->chain_iov,
				      .max_write = g->chain_iov };
		uint32_t written;

		if (vb_vq_pop(vq, &c) <= 0)
			break;	/* empty, or broken (the device asked for a reset) */
		written = request(g, &c);
		/* Messages are answered in order, so those for one line are sequential
		 * (virtio 1.2, 5.18.6 device requirements). */
		if (vb_vq_push(vq, &c, written) == 0)
			dirty = true;
	}
	if (dirty)
		vb_vq_notify(vq);
	/* SET_IRQ_TYPE / SET_DIRECTION may have returned eventq buffers. */
	notify_eventq(g);
}

static void run_eventq(struct vb_gpio *g, struct vb_vq *vq)
{
	for (;;) {
		struct vb_chain c = { .read = g->rd, .write = g->wr, .max_read = g->chain_iov,
				      .max_write = g->chain_iov };

		if (vb_vq_pop(vq, &c) <= 0)
			break;
		eventq_buffer(g, vq, &c);
	}
	notify_eventq(g);
}

/* ---- hooks ------------------------------------------------------------------------------ */

/* @satisfy{VB-REQ-GPIO-003} */
static int gpio_config_read(struct vb_dev *dev, uint32_t off, void *buf, uint32_t len)
{
	struct vb_gpio *g = vb_dev_priv(dev);
	struct vb_virtio_gpio_config c;

	g->dev = dev;
	if (VB_NEVER(off > sizeof(c) || len > sizeof(c) - off))
		return -EINVAL;
	memset(&c, 0, sizeof(c));	/* padding "set to zero by the device" */
	c.ngpio = vb_cpu_to_le16(g->ngpio);
	c.gpio_names_size = vb_cpu_to_le32(g->names_size);
	memcpy(buf, (const uint8_t *)&c + off, len);
	return 0;
}

static int gpio_activate(struct vb_dev *dev, uint64_t features)
{
	struct vb_gpio *g = vb_dev_priv(dev);

	g->dev = dev;
	g->features = features;
	return 0;
}

static void gpio_kick(struct vb_dev *dev, struct vb_vq *vq)
{
	struct vb_gpio *g = vb_dev_priv(dev);

	g->dev = dev;
	if (vb_vq_index(vq) == VB_VIRTIO_GPIO_REQUESTQ)
		run_requestq(g, vq);
	else if (has_irq(g))
		run_eventq(g, vq);
	/* An eventq without VIRTIO_GPIO_F_IRQ does not exist (5.18.2): its kicks are
	 * ignored and its buffers never used. */
}

/* Forget every held eventq buffer (the ring they came from is gone). */
static void drop_held(struct vb_gpio *g)
{
	for (uint32_t i = 0; i < g->ngpio; i++)
		g->line[i].held = false;
	g->ev_dirty = false;
}

/* Device reset: every line back to its initial state, released at the host. */
static void gpio_reset(struct vb_dev *dev)
{
	struct vb_gpio *g = vb_dev_priv(dev);

	g->dev = dev;
	drop_held(g);
	for (uint16_t i = 0; i < g->ngpio; i++) {
		struct gpio_line *ln = &g->line[i];

		if (ln->irq_type != VB_VIRTIO_GPIO_IRQ_TYPE_NONE && g->ops->set_irq_type)
			(void)g->ops->set_irq_type(g->be, i, VB_VIRTIO_GPIO_IRQ_TYPE_NONE);
		if (ln->dir != VB_VIRTIO_GPIO_DIRECTION_NONE)
			(void)g->ops->set_direction(g->be, i, VB_VIRTIO_GPIO_DIRECTION_NONE, 0);
		memset(ln, 0, sizeof(*ln));
	}
	g->features = 0;
}

static void gpio_queue_reset(struct vb_dev *dev, struct vb_vq *vq)
{
	struct vb_gpio *g = vb_dev_priv(dev);

	g->dev = dev;
	if (vb_vq_index(vq) == VB_VIRTIO_GPIO_EVENTQ)
		drop_held(g);
}

/* ---- construction ----------------------------------------------------------------------- */

VB_EXPORT int vb_gpio_init(void *storage, size_t storage_len, const struct vb_gpio_config *cfg,
			   const struct vb_gpio_backend_ops *ops, void *backend,
			   struct vb_gpio **out)
{
	struct gpio_layout l;
	struct vb_gpio *g;
	uint8_t *p;
	int ret;

	if (!storage || ((uintptr_t)storage & 7u) || !ops || !out ||
	    ops->version < VB_GPIO_BACKEND_OPS_V1 || !ops->set_direction || !ops->get_value ||
	    !ops->set_value)
		return -EINVAL;
	ret = layout(cfg, &l);
	if (ret)
		return ret;
	if (storage_len < l.total)
		return -ENOSPC;
	memset(storage, 0, (size_t)l.total);
	g = storage;
	p = (uint8_t *)storage + ALIGN8(sizeof(*g));
	g->ops = ops;
	g->be = backend;
	g->ngpio = cfg->ngpio;
	g->names_size = l.names_size;
	g->chain_iov = l.chain_iov;
	g->line = (struct gpio_line *)(void *)p;
	p += l.lines;
	g->names = p;
	if (l.names_size) {
		uint8_t *n = g->names;

		for (uint32_t i = 0; i < cfg->ngpio; i++) {
			size_t len = cfg->names[i] ? strlen(cfg->names[i]) : 0;

			memcpy(n, cfg->names[i] ? cfg->names[i] : "", len + 1u);
			n += len + 1u;
		}
	}
	p += l.names;
	g->rd = (struct vb_iov *)(void *)p;
	g->wr = g->rd + l.chain_iov;
	g->ev_rd = g->wr + l.chain_iov;
	g->ev_wr = g->ev_rd + l.chain_iov;

	g->dops = (struct vb_device_ops){
		.version = VB_DEVICE_OPS_V1,
		.device_id = VB_VIRTIO_ID_GPIO,
		.num_queues = 2,
		.queue_num_max = (uint16_t)(l.chain_iov - GPIO_IOV_SLACK),
		.config_len = sizeof(struct vb_virtio_gpio_config),
		.config_read = gpio_config_read,
		.activate = gpio_activate,
		.kick = gpio_kick,
		.reset = gpio_reset,
		.queue_reset = gpio_queue_reset,
	};
	/* No RING_PACKED: held eventq buffers are walked again by head when they go back
	 * (give_back()), which vb_vq_pop_head() does for split rings only. */
	g->dops.features = VB_BIT(VB_VIRTIO_F_VERSION_1) | VB_BIT(VB_VIRTIO_F_INDIRECT_DESC) |
			   VB_BIT(VB_VIRTIO_F_EVENT_IDX) | VB_BIT(VB_VIRTIO_F_RING_RESET);
	if (ops->set_irq_type && !(cfg->flags & VB_GPIO_CFG_NO_IRQ))
		g->dops.features |= VB_BIT(VB_VIRTIO_GPIO_F_IRQ);
	g->dops.features &= ~cfg->features_off;
	g->dops.features |= VB_BIT(VB_VIRTIO_F_VERSION_1);
	*out = g;
	return 0;
}

VB_EXPORT int vb_gpio_create(const struct vb_gpio_config *cfg,
			     const struct vb_gpio_backend_ops *ops, void *backend,
			     struct vb_gpio **out)
{
	size_t len = vb_gpio_size(cfg);
	void *mem;
	int ret;

	if (!len || !out)
		return -EINVAL;
	mem = malloc(len);
	if (!mem)
		return -ENOMEM;
	ret = vb_gpio_init(mem, len, cfg, ops, backend, out);
	if (ret) {
		free(mem);
		return ret;
	}
	(*out)->heap = true;
	return 0;
}

VB_EXPORT void vb_gpio_destroy(struct vb_gpio *g)
{
	if (g && g->heap)
		free(g);
}

VB_EXPORT const struct vb_device_ops *vb_gpio_device_ops(const struct vb_gpio *g)
{
	return &g->dops;
}

VB_EXPORT int vb_gpio_get_line(const struct vb_gpio *g, uint16_t line,
			       struct vb_gpio_line_info *info)
{
	const struct gpio_line *ln;

	if (line >= g->ngpio)
		return -EINVAL;
	ln = &g->line[line];
	*info = (struct vb_gpio_line_info){ .direction = ln->dir, .value = ln->value,
					    .irq_type = ln->irq_type, .unmasked = ln->held,
					    .latched = ln->latched };
	return 0;
}

VB_EXPORT void vb_gpio_get_stats(const struct vb_gpio *g, struct vb_gpio_stats *st)
{
	*st = g->st;
}
