/* SPDX-License-Identifier: MIT */
/*
 * The virtio-gpio model (src/devices/gpio/) behind a vb_dev, over the simulated chip,
 * driven by the split-ring driver simulator in fake guest memory the way Linux's
 * gpio-virtio driver drives it: requestq messages, eventq buffers per line, edges and levels
 * the test drives on the simulated lines; plus hostile requests and the control protocol.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdalign.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "virtio-backend.h"
#include "virtio-backend/devices/gpio.h"
#include "vbt-mem.h"
#include "vbt-split.h"

#define GUEST_GPA	0x40000000u
#define GUEST_SIZE	(1u << 20)
#define QSZ		64u
#define NGPIO		8u

static const char *const names8[NGPIO] = { "led", NULL, "", "button", "reset", NULL, NULL,
					    "irq" };
/* "led\0" "\0" "\0" "button\0" "reset\0" "\0" "\0" "irq\0" */
#define NAMES_SIZE	(4u + 1u + 1u + 7u + 6u + 1u + 1u + 4u)

struct fx {
	struct vbt_guest	g;
	struct vbt_split	rq, eq;
	struct vb_transport_ops	tops;
	unsigned int		notifies[2];
	alignas(8) uint8_t	dev_storage[VB_DEV_STORAGE_MAX(2)];
	struct vb_dev		*dev;
	struct vb_gpio		*gpio;
	struct vb_gpio_sim	*sim;
	struct vb_gpio_config	cfg;
	uint64_t		ev_status[QSZ];	/* status gpa of each eventq head */
	bool			started;
};

static int t_notify(void *t, uint16_t q)
{
	struct fx *f = t;

	if (q < 2)
		f->notifies[q]++;
	return 0;
}

static int t_config_changed(void *t)
{
	(void)t;
	return 0;
}

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	f->cfg = (struct vb_gpio_config){ .version = VB_GPIO_CONFIG_V1, .ngpio = NGPIO,
					  .queue_num_max = QSZ, .names = names8 };
	assert_int_equal(vb_gpio_sim_create(NGPIO, &f->sim), 0);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;

	vb_gpio_destroy(f->gpio);
	vb_gpio_sim_destroy(f->sim);
	if (f->started)
		vbt_guest_fini(&f->g);
	free(f);
	return 0;
}

/* Model, device and both queues running; the driver takes every feature but drop. */
static void start(struct fx *f, uint64_t drop)
{
	struct vb_queue_config qc;
	uint64_t feat;
	uint8_t st = VB_VIRTIO_S_ACKNOWLEDGE | VB_VIRTIO_S_DRIVER;

	assert_int_equal(vb_gpio_create(&f->cfg, &vb_gpio_sim_ops, f->sim, &f->gpio), 0);
	vb_gpio_sim_bind(f->sim, f->gpio);
	assert_int_equal(vbt_guest_init(&f->g, GUEST_GPA, GUEST_SIZE, 0), 0);
	f->started = true;
	vbt_split_init(&f->rq, &f->g, QSZ);
	vbt_split_init(&f->eq, &f->g, QSZ);
	f->tops = (struct vb_transport_ops){ .version = VB_TRANSPORT_OPS_V1, .notify = t_notify,
					    .config_changed = t_config_changed };
	assert_int_equal(vb_dev_init(f->dev_storage, sizeof(f->dev_storage),
				     vb_gpio_device_ops(f->gpio), f->gpio, &f->tops, f, &f->g.mem,
				     &f->dev), 0);
	assert_int_equal(vb_dev_set_status(f->dev, VB_VIRTIO_S_ACKNOWLEDGE), 0);
	assert_int_equal(vb_dev_set_status(f->dev, st), 0);
	feat = vb_dev_get_features(f->dev) & ~(drop | VB_BIT(VB_VIRTIO_F_RING_PACKED));
	assert_int_equal(vb_dev_set_driver_features(f->dev, feat), 0);
	st |= VB_VIRTIO_S_FEATURES_OK;
	assert_int_equal(vb_dev_set_status(f->dev, st), 0);
	qc = (struct vb_queue_config){ .num = QSZ, .desc = f->rq.desc_gpa,
				       .driver = f->rq.avail_gpa, .device = f->rq.used_gpa };
	assert_int_equal(vb_dev_queue_set_config(f->dev, 0, &qc), 0);
	assert_int_equal(vb_dev_queue_enable(f->dev, 0, true), 0);
	qc = (struct vb_queue_config){ .num = QSZ, .desc = f->eq.desc_gpa,
				       .driver = f->eq.avail_gpa, .device = f->eq.used_gpa };
	assert_int_equal(vb_dev_queue_set_config(f->dev, 1, &qc), 0);
	assert_int_equal(vb_dev_queue_enable(f->dev, 1, true), 0);
	assert_int_equal(vb_dev_set_status(f->dev, st | VB_VIRTIO_S_DRIVER_OK), 0);
}

/* One requestq message with rlen readable bytes (the request first) and wlen writable
 * ones; returns the used length and fills status/value (0xee if not written). */
static uint32_t msg_raw(struct fx *f, uint16_t type, uint16_t gpio, uint32_t value,
			uint32_t rlen, uint32_t wlen, uint8_t *status, uint8_t *out)
{
	struct vb_virtio_gpio_request r = { vb_cpu_to_le16(type), vb_cpu_to_le16(gpio),
					    vb_cpu_to_le32(value) };
	uint64_t rg = vbt_guest_alloc(&f->g, rlen ? rlen : 1, 8);
	uint64_t wg = vbt_guest_alloc(&f->g, wlen ? wlen : 1, 8);
	struct vbt_buf b[2];
	unsigned int n = 0;
	uint32_t id, len;
	uint8_t *w = vbt_guest_ptr(&f->g, wg);
	uint16_t head;

	memcpy(vbt_guest_ptr(&f->g, rg), &r, rlen < sizeof(r) ? rlen : sizeof(r));
	memset(w, 0xee, wlen ? wlen : 1);
	if (rlen)
		b[n++] = (struct vbt_buf){ rg, rlen, false };
	if (wlen)
		b[n++] = (struct vbt_buf){ wg, wlen, true };
	head = vbt_split_add(&f->rq, b, n, false);
	assert_int_equal(vb_dev_kick(f->dev, 0), 0);
	assert_int_equal(vbt_split_get_used(&f->rq, &id, &len), 1);
	assert_int_equal(id, head);
	if (status)
		*status = w[0];
	if (out)
		memcpy(out, w + 1, wlen > 1 ? wlen - 1 : 0);
	return len;
}

/* A well-formed message; returns the status, stores the value. */
static uint8_t msg(struct fx *f, uint16_t type, uint16_t gpio, uint32_t value, uint8_t *val)
{
	uint8_t st, v;

	assert_int_equal(msg_raw(f, type, gpio, value, 8, 2, &st, &v), 2);
	if (val)
		*val = v;
	return st;
}

/* Queue the eventq buffer pair for line; returns its head. */
static uint16_t unmask(struct fx *f, uint16_t line)
{
	vb_le16 r = vb_cpu_to_le16(line);
	uint64_t rg = vbt_guest_alloc(&f->g, 2, 2), wg = vbt_guest_alloc(&f->g, 1, 1);
	struct vbt_buf b[2] = { { rg, 2, false }, { wg, 1, true } };
	uint16_t head;

	memcpy(vbt_guest_ptr(&f->g, rg), &r, 2);
	*(uint8_t *)vbt_guest_ptr(&f->g, wg) = 0xee;
	head = vbt_split_add(&f->eq, b, 2, false);
	f->ev_status[head % QSZ] = wg;
	assert_int_equal(vb_dev_kick(f->dev, 1), 0);
	return head;
}

/* The next returned eventq buffer: 1 and its head and status, or 0 if none. */
static int ev_used(struct fx *f, uint16_t *head, uint8_t *status)
{
	uint32_t id, len;

	if (vbt_split_get_used(&f->eq, &id, &len) != 1)
		return 0;
	assert_int_equal(len, 1);
	*head = (uint16_t)id;
	*status = *(uint8_t *)vbt_guest_ptr(&f->g, f->ev_status[id % QSZ]);
	return 1;
}

static void expect_irq(struct fx *f, uint16_t want_head, uint8_t want_status)
{
	uint16_t h;
	uint8_t st;

	assert_int_equal(ev_used(f, &h, &st), 1);
	assert_int_equal(h, want_head);
	assert_int_equal(st, want_status);
}

static void expect_no_irq(struct fx *f)
{
	uint16_t h;
	uint8_t st;

	assert_int_equal(ev_used(f, &h, &st), 0);
}

static void input_with_irq(struct fx *f, uint16_t line, uint8_t type)
{
	assert_int_equal(msg(f, VB_VIRTIO_GPIO_MSG_SET_DIRECTION, line,
			     VB_VIRTIO_GPIO_DIRECTION_IN, NULL), VB_VIRTIO_GPIO_STATUS_OK);
	assert_int_equal(msg(f, VB_VIRTIO_GPIO_MSG_SET_IRQ_TYPE, line, type, NULL),
			 VB_VIRTIO_GPIO_STATUS_OK);
}

/* ---- construction and config ---- */

/* @verify{VB-REQ-GPIO-001} invalid configurations and storage are refused. */
static void test_gpio__init_validates(void **state)
{
	struct fx *f = *state;
	static const char *const dup[2] = { "a", "a" };
	static const char *const high[2] = { "a", "\xc3\xa9" };
	char longname[VB_GPIO_NAME_MAX + 2];
	const char *lng[2] = { "a", longname };
	struct vb_gpio_config c = f->cfg;
	alignas(8) static uint8_t small[64];
	struct vb_gpio *g;

	memset(longname, 'x', sizeof(longname) - 1);
	longname[sizeof(longname) - 1] = '\0';
	c.ngpio = 0;
	assert_int_equal(vb_gpio_size(&c), 0);
	assert_int_equal(vb_gpio_create(&c, &vb_gpio_sim_ops, f->sim, &g), -EINVAL);
	c.ngpio = 2;
	c.names = dup;
	assert_int_equal(vb_gpio_create(&c, &vb_gpio_sim_ops, f->sim, &g), -EINVAL);
	c.names = high;
	assert_int_equal(vb_gpio_create(&c, &vb_gpio_sim_ops, f->sim, &g), -EINVAL);
	c.names = lng;
	assert_int_equal(vb_gpio_create(&c, &vb_gpio_sim_ops, f->sim, &g), -EINVAL);
	c = f->cfg;
	c.queue_num_max = 2048;
	assert_int_equal(vb_gpio_create(&c, &vb_gpio_sim_ops, f->sim, &g), -EINVAL);
	c.queue_num_max = 0;
	c.version = 0;
	assert_int_equal(vb_gpio_create(&c, &vb_gpio_sim_ops, f->sim, &g), -EINVAL);
	assert_int_equal(vb_gpio_init(small, sizeof(small), &f->cfg, &vb_gpio_sim_ops, f->sim, &g),
			 -ENOSPC);
	assert_int_equal(vb_gpio_init(small + 1, sizeof(small) - 1, &f->cfg, &vb_gpio_sim_ops,
				      f->sim, &g), -EINVAL);
}

/* @verify{VB-REQ-GPIO-002} @verify{VB-REQ-GPIO-003} device id, queues, features, config. */
static void test_gpio__device_and_config(void **state)
{
	struct fx *f = *state;
	struct vb_virtio_gpio_config c;
	const struct vb_device_ops *ops;
	struct vb_gpio_config nc = f->cfg;
	struct vb_gpio *g;

	start(f, 0);
	ops = vb_gpio_device_ops(f->gpio);
	assert_int_equal(ops->device_id, 41);
	assert_int_equal(ops->num_queues, 2);
	assert_true(ops->features & VB_BIT(VB_VIRTIO_GPIO_F_IRQ));
	assert_false(ops->features & VB_BIT(VB_VIRTIO_F_RING_PACKED));
	assert_true(ops->features & VB_BIT(VB_VIRTIO_F_VERSION_1));
	memset(&c, 0xff, sizeof(c));
	assert_int_equal(vb_dev_config_read(f->dev, 0, &c, sizeof(c)), 0);
	assert_int_equal(vb_le16_to_cpu(c.ngpio), NGPIO);
	assert_int_equal(c.padding[0], 0);
	assert_int_equal(c.padding[1], 0);
	assert_int_equal(vb_le32_to_cpu(c.gpio_names_size), NAMES_SIZE);

	/* No names, no IRQ: gpio_names_size 0 and VIRTIO_GPIO_F_IRQ not offered. */
	nc.names = NULL;
	nc.flags = VB_GPIO_CFG_NO_IRQ;
	assert_int_equal(vb_gpio_create(&nc, &vb_gpio_sim_ops, f->sim, &g), 0);
	assert_false(vb_gpio_device_ops(g)->features & VB_BIT(VB_VIRTIO_GPIO_F_IRQ));
	vb_gpio_destroy(g);
}

/* ---- requestq ---- */

/* @verify{VB-REQ-GPIO-011} GET_NAMES answers the names block in a 1 + gpio_names_size
 * buffer; anything else is an error. */
static void test_gpio__get_names(void **state)
{
	struct fx *f = *state;
	static const char want[NAMES_SIZE] = "led\0\0\0button\0reset\0\0\0irq";
	uint8_t st, names[NAMES_SIZE + 8];

	start(f, 0);
	assert_int_equal(msg_raw(f, VB_VIRTIO_GPIO_MSG_GET_NAMES, 0, 0, 8, 1 + NAMES_SIZE, &st,
				 names), 1 + NAMES_SIZE);
	assert_int_equal(st, VB_VIRTIO_GPIO_STATUS_OK);
	assert_memory_equal(names, want, NAMES_SIZE);
	/* Buffer too short, too long, gpio or value non-zero: ERR in 2 bytes. */
	assert_int_equal(msg_raw(f, VB_VIRTIO_GPIO_MSG_GET_NAMES, 0, 0, 8, NAMES_SIZE, &st, NULL),
			 2);
	assert_int_equal(st, VB_VIRTIO_GPIO_STATUS_ERR);
	assert_int_equal(msg_raw(f, VB_VIRTIO_GPIO_MSG_GET_NAMES, 0, 0, 8, 2 + NAMES_SIZE, &st,
				 NULL), 2);
	assert_int_equal(st, VB_VIRTIO_GPIO_STATUS_ERR);
	assert_int_equal(msg_raw(f, VB_VIRTIO_GPIO_MSG_GET_NAMES, 1, 0, 8, 1 + NAMES_SIZE, &st,
				 NULL), 2);
	assert_int_equal(st, VB_VIRTIO_GPIO_STATUS_ERR);
	assert_int_equal(msg_raw(f, VB_VIRTIO_GPIO_MSG_GET_NAMES, 0, 1, 8, 1 + NAMES_SIZE, &st,
				 NULL), 2);
	assert_int_equal(st, VB_VIRTIO_GPIO_STATUS_ERR);
}

/* @verify{VB-REQ-GPIO-011} a device without names refuses GET_NAMES. */
static void test_gpio__get_names_none(void **state)
{
	struct fx *f = *state;
	uint8_t st;

	f->cfg.names = NULL;
	start(f, 0);
	assert_int_equal(msg_raw(f, VB_VIRTIO_GPIO_MSG_GET_NAMES, 0, 0, 8, 2, &st, NULL), 2);
	assert_int_equal(st, VB_VIRTIO_GPIO_STATUS_ERR);
}

/* @verify{VB-REQ-GPIO-012} @verify{VB-REQ-GPIO-013} @verify{VB-REQ-GPIO-014} directions and
 * values as Linux sets them: SET_VALUE, then SET_DIRECTION OUT drives that value; inputs
 * read the level the host drives; NONE forgets the line. */
static void test_gpio__direction_and_value(void **state)
{
	struct fx *f = *state;
	uint8_t v;

	start(f, 0);
	assert_int_equal(msg(f, VB_VIRTIO_GPIO_MSG_GET_DIRECTION, 0, 0, &v),
			 VB_VIRTIO_GPIO_STATUS_OK);
	assert_int_equal(v, VB_VIRTIO_GPIO_DIRECTION_NONE);
	/* Output: the value set before the direction is the one driven. */
	assert_int_equal(msg(f, VB_VIRTIO_GPIO_MSG_SET_VALUE, 0, 1, &v), VB_VIRTIO_GPIO_STATUS_OK);
	assert_int_equal(v, 0);
	assert_int_equal(vb_gpio_sim_get_level(f->sim, 0), 0);
	assert_int_equal(msg(f, VB_VIRTIO_GPIO_MSG_SET_DIRECTION, 0, VB_VIRTIO_GPIO_DIRECTION_OUT,
			     NULL), VB_VIRTIO_GPIO_STATUS_OK);
	assert_int_equal(vb_gpio_sim_get_level(f->sim, 0), 1);
	assert_int_equal(msg(f, VB_VIRTIO_GPIO_MSG_GET_DIRECTION, 0, 0, &v),
			 VB_VIRTIO_GPIO_STATUS_OK);
	assert_int_equal(v, VB_VIRTIO_GPIO_DIRECTION_OUT);
	assert_int_equal(msg(f, VB_VIRTIO_GPIO_MSG_SET_VALUE, 0, 0, NULL), VB_VIRTIO_GPIO_STATUS_OK);
	assert_int_equal(vb_gpio_sim_get_level(f->sim, 0), 0);
	assert_int_equal(msg(f, VB_VIRTIO_GPIO_MSG_GET_VALUE, 0, 0, &v), VB_VIRTIO_GPIO_STATUS_OK);
	assert_int_equal(v, 0);
	/* Input: the host drives it. */
	assert_int_equal(msg(f, VB_VIRTIO_GPIO_MSG_SET_DIRECTION, 3, VB_VIRTIO_GPIO_DIRECTION_IN,
			     NULL), VB_VIRTIO_GPIO_STATUS_OK);
	assert_int_equal(vb_gpio_sim_set_input(f->sim, 3, 1), 0);
	assert_int_equal(msg(f, VB_VIRTIO_GPIO_MSG_GET_VALUE, 3, 0, &v), VB_VIRTIO_GPIO_STATUS_OK);
	assert_int_equal(v, 1);
	assert_int_equal(vb_gpio_sim_set_input(f->sim, 3, 0), 0);
	assert_int_equal(msg(f, VB_VIRTIO_GPIO_MSG_GET_VALUE, 3, 0, &v), VB_VIRTIO_GPIO_STATUS_OK);
	assert_int_equal(v, 0);
	/* NONE releases the line and discards its value. */
	assert_int_equal(msg(f, VB_VIRTIO_GPIO_MSG_SET_VALUE, 5, 1, NULL), VB_VIRTIO_GPIO_STATUS_OK);
	assert_int_equal(msg(f, VB_VIRTIO_GPIO_MSG_SET_DIRECTION, 5, VB_VIRTIO_GPIO_DIRECTION_NONE,
			     NULL), VB_VIRTIO_GPIO_STATUS_OK);
	assert_int_equal(msg(f, VB_VIRTIO_GPIO_MSG_SET_DIRECTION, 5, VB_VIRTIO_GPIO_DIRECTION_OUT,
			     NULL), VB_VIRTIO_GPIO_STATUS_OK);
	assert_int_equal(vb_gpio_sim_get_level(f->sim, 5), 0);
}

/* @verify{VB-REQ-GPIO-016} bad line numbers, values and types are answered ERR. */
static void test_gpio__bad_values(void **state)
{
	struct fx *f = *state;
	uint8_t v;

	start(f, 0);
	assert_int_equal(msg(f, VB_VIRTIO_GPIO_MSG_GET_VALUE, NGPIO, 0, &v),
			 VB_VIRTIO_GPIO_STATUS_ERR);
	assert_int_equal(v, 0);
	assert_int_equal(msg(f, VB_VIRTIO_GPIO_MSG_GET_DIRECTION, 0xffff, 0, NULL),
			 VB_VIRTIO_GPIO_STATUS_ERR);
	assert_int_equal(msg(f, VB_VIRTIO_GPIO_MSG_SET_DIRECTION, 0, 3, NULL),
			 VB_VIRTIO_GPIO_STATUS_ERR);
	assert_int_equal(msg(f, VB_VIRTIO_GPIO_MSG_SET_VALUE, 0, 2, NULL),
			 VB_VIRTIO_GPIO_STATUS_ERR);
	assert_int_equal(msg(f, VB_VIRTIO_GPIO_MSG_SET_VALUE, 0, 0x80000001u, NULL),
			 VB_VIRTIO_GPIO_STATUS_ERR);
	assert_int_equal(msg(f, VB_VIRTIO_GPIO_MSG_GET_VALUE, 0, 1, NULL),
			 VB_VIRTIO_GPIO_STATUS_ERR);
	assert_int_equal(msg(f, VB_VIRTIO_GPIO_MSG_GET_DIRECTION, 0, 7, NULL),
			 VB_VIRTIO_GPIO_STATUS_ERR);
	assert_int_equal(msg(f, 0, 0, 0, NULL), VB_VIRTIO_GPIO_STATUS_ERR);
	assert_int_equal(msg(f, 7, 0, 0, NULL), VB_VIRTIO_GPIO_STATUS_ERR);
	assert_int_equal(msg(f, 0xffff, 0, 0, NULL), VB_VIRTIO_GPIO_STATUS_ERR);
	assert_int_equal(msg(f, VB_VIRTIO_GPIO_MSG_SET_IRQ_TYPE, 0, 5, NULL),
			 VB_VIRTIO_GPIO_STATUS_ERR);
	/* The device still works. */
	assert_int_equal(msg(f, VB_VIRTIO_GPIO_MSG_GET_DIRECTION, 0, 0, NULL),
			 VB_VIRTIO_GPIO_STATUS_OK);
}

/* @verify{VB-REQ-GPIO-010} wrongly sized requests and responses: ERR in the room there is,
 * nothing at all without a writable byte, and the queue goes on. */
static void test_gpio__bad_sizes(void **state)
{
	struct fx *f = *state;
	struct vb_gpio_stats s;
	uint8_t st;

	start(f, 0);
	assert_int_equal(msg_raw(f, VB_VIRTIO_GPIO_MSG_GET_VALUE, 0, 0, 7, 2, &st, NULL), 2);
	assert_int_equal(st, VB_VIRTIO_GPIO_STATUS_ERR);
	assert_int_equal(msg_raw(f, VB_VIRTIO_GPIO_MSG_GET_VALUE, 0, 0, 9, 2, &st, NULL), 2);
	assert_int_equal(st, VB_VIRTIO_GPIO_STATUS_ERR);
	assert_int_equal(msg_raw(f, VB_VIRTIO_GPIO_MSG_GET_VALUE, 0, 0, 0, 2, &st, NULL), 2);
	assert_int_equal(st, VB_VIRTIO_GPIO_STATUS_ERR);
	assert_int_equal(msg_raw(f, VB_VIRTIO_GPIO_MSG_GET_VALUE, 0, 0, 8, 1, &st, NULL), 1);
	assert_int_equal(st, VB_VIRTIO_GPIO_STATUS_ERR);
	assert_int_equal(msg_raw(f, VB_VIRTIO_GPIO_MSG_GET_VALUE, 0, 0, 8, 3, &st, NULL), 2);
	assert_int_equal(st, VB_VIRTIO_GPIO_STATUS_ERR);
	assert_int_equal(msg_raw(f, VB_VIRTIO_GPIO_MSG_GET_VALUE, 0, 0, 8, 0, NULL, NULL), 0);
	/* A SET with a bad size changes nothing. */
	assert_int_equal(msg_raw(f, VB_VIRTIO_GPIO_MSG_SET_DIRECTION, 0,
				 VB_VIRTIO_GPIO_DIRECTION_OUT, 8, 1, &st, NULL), 1);
	assert_int_equal(st, VB_VIRTIO_GPIO_STATUS_ERR);
	assert_int_equal(msg(f, VB_VIRTIO_GPIO_MSG_GET_DIRECTION, 0, 0, &st),
			 VB_VIRTIO_GPIO_STATUS_OK);
	assert_int_equal(st, VB_VIRTIO_GPIO_DIRECTION_NONE);
	vb_gpio_get_stats(f->gpio, &s);
	assert_int_equal(s.no_status, 1);
	assert_int_equal(s.err, 6);
	assert_int_equal(s.ok, 1);
	assert_int_equal(vb_dev_get_status(f->dev) & VB_VIRTIO_S_NEEDS_RESET, 0);
}

/* @verify{VB-REQ-GPIO-015} SET_IRQ_TYPE needs VIRTIO_GPIO_F_IRQ and a line that is not an
 * output; without the feature the eventq is ignored. */
static void test_gpio__irq_type_rules(void **state)
{
	struct fx *f = *state;

	start(f, VB_BIT(VB_VIRTIO_GPIO_F_IRQ));
	assert_int_equal(msg(f, VB_VIRTIO_GPIO_MSG_SET_DIRECTION, 1, VB_VIRTIO_GPIO_DIRECTION_IN,
			     NULL), VB_VIRTIO_GPIO_STATUS_OK);
	assert_int_equal(msg(f, VB_VIRTIO_GPIO_MSG_SET_IRQ_TYPE, 1,
			     VB_VIRTIO_GPIO_IRQ_TYPE_EDGE_RISING, NULL), VB_VIRTIO_GPIO_STATUS_ERR);
	assert_int_equal(msg(f, VB_VIRTIO_GPIO_MSG_SET_IRQ_TYPE, 1, VB_VIRTIO_GPIO_IRQ_TYPE_NONE,
			     NULL), VB_VIRTIO_GPIO_STATUS_ERR);
	assert_int_equal(vb_gpio_sim_set_input(f->sim, 1, 1), 0);
	unmask(f, 1);
	expect_no_irq(f);
}

/* @verify{VB-REQ-GPIO-015} an output line takes no interrupt. */
static void test_gpio__irq_on_output(void **state)
{
	struct fx *f = *state;

	start(f, 0);
	assert_int_equal(msg(f, VB_VIRTIO_GPIO_MSG_SET_DIRECTION, 2, VB_VIRTIO_GPIO_DIRECTION_OUT,
			     NULL), VB_VIRTIO_GPIO_STATUS_OK);
	assert_int_equal(msg(f, VB_VIRTIO_GPIO_MSG_SET_IRQ_TYPE, 2,
			     VB_VIRTIO_GPIO_IRQ_TYPE_EDGE_BOTH, NULL), VB_VIRTIO_GPIO_STATUS_ERR);
	assert_int_equal(msg(f, VB_VIRTIO_GPIO_MSG_SET_IRQ_TYPE, 2, VB_VIRTIO_GPIO_IRQ_TYPE_NONE,
			     NULL), VB_VIRTIO_GPIO_STATUS_OK);
}

/* ---- eventq ---- */

/* @verify{VB-REQ-GPIO-020} @verify{VB-REQ-GPIO-030} a rising edge returns the held buffer
 * VALID; the other edge does not; an edge while masked is latched and delivered once when
 * the driver queues the buffer again. */
static void test_gpio__edge_rising(void **state)
{
	struct fx *f = *state;
	struct vb_gpio_line_info li;
	uint16_t h;

	start(f, 0);
	input_with_irq(f, 7, VB_VIRTIO_GPIO_IRQ_TYPE_EDGE_RISING);
	h = unmask(f, 7);
	expect_no_irq(f);
	assert_int_equal(vb_gpio_get_line(f->gpio, 7, &li), 0);
	assert_true(li.unmasked);
	assert_int_equal(vb_gpio_sim_set_input(f->sim, 7, 1), 0);
	expect_irq(f, h, VB_VIRTIO_GPIO_IRQ_STATUS_VALID);
	assert_true(f->notifies[1] > 0);
	/* Masked now: falling is not selected, two rising edges latch once. */
	assert_int_equal(vb_gpio_sim_set_input(f->sim, 7, 0), 0);
	assert_int_equal(vb_gpio_sim_set_input(f->sim, 7, 1), 0);
	assert_int_equal(vb_gpio_sim_set_input(f->sim, 7, 0), 0);
	assert_int_equal(vb_gpio_sim_set_input(f->sim, 7, 1), 0);
	expect_no_irq(f);
	assert_int_equal(vb_gpio_get_line(f->gpio, 7, &li), 0);
	assert_true(li.latched);
	h = unmask(f, 7);
	expect_irq(f, h, VB_VIRTIO_GPIO_IRQ_STATUS_VALID);
	h = unmask(f, 7);
	expect_no_irq(f);
	/* Falling only on a rising line: nothing. */
	assert_int_equal(vb_gpio_sim_set_input(f->sim, 7, 0), 0);
	expect_no_irq(f);
	assert_int_equal(vb_gpio_sim_set_input(f->sim, 7, 1), 0);
	expect_irq(f, h, VB_VIRTIO_GPIO_IRQ_STATUS_VALID);
}

/* @verify{VB-REQ-GPIO-030} falling and both edges. */
static void test_gpio__edge_falling_both(void **state)
{
	struct fx *f = *state;
	uint16_t h;

	start(f, 0);
	assert_int_equal(vb_gpio_sim_set_input(f->sim, 4, 1), 0);
	input_with_irq(f, 4, VB_VIRTIO_GPIO_IRQ_TYPE_EDGE_FALLING);
	h = unmask(f, 4);
	assert_int_equal(vb_gpio_sim_set_input(f->sim, 4, 1), 0);	/* no change */
	expect_no_irq(f);
	assert_int_equal(vb_gpio_sim_set_input(f->sim, 4, 0), 0);
	expect_irq(f, h, VB_VIRTIO_GPIO_IRQ_STATUS_VALID);

	input_with_irq(f, 6, VB_VIRTIO_GPIO_IRQ_TYPE_EDGE_BOTH);
	h = unmask(f, 6);
	assert_int_equal(vb_gpio_sim_set_input(f->sim, 6, 1), 0);
	expect_irq(f, h, VB_VIRTIO_GPIO_IRQ_STATUS_VALID);
	h = unmask(f, 6);
	assert_int_equal(vb_gpio_sim_set_input(f->sim, 6, 0), 0);
	expect_irq(f, h, VB_VIRTIO_GPIO_IRQ_STATUS_VALID);
}

/* @verify{VB-REQ-GPIO-031} level interrupts fire while unmasked and the line is at its level,
 * again on every unmask while it stays there, and are not latched while masked. */
static void test_gpio__level(void **state)
{
	struct fx *f = *state;
	uint16_t h;

	start(f, 0);
	input_with_irq(f, 1, VB_VIRTIO_GPIO_IRQ_TYPE_LEVEL_HIGH);
	h = unmask(f, 1);
	expect_no_irq(f);
	assert_int_equal(vb_gpio_sim_set_input(f->sim, 1, 1), 0);
	expect_irq(f, h, VB_VIRTIO_GPIO_IRQ_STATUS_VALID);
	h = unmask(f, 1);	/* still high: again */
	expect_irq(f, h, VB_VIRTIO_GPIO_IRQ_STATUS_VALID);
	/* A pulse while masked is not remembered. */
	assert_int_equal(vb_gpio_sim_set_input(f->sim, 1, 0), 0);
	assert_int_equal(vb_gpio_sim_set_input(f->sim, 1, 1), 0);
	assert_int_equal(vb_gpio_sim_set_input(f->sim, 1, 0), 0);
	h = unmask(f, 1);
	expect_no_irq(f);

	/* Level low fires at once on a low line. */
	input_with_irq(f, 2, VB_VIRTIO_GPIO_IRQ_TYPE_LEVEL_LOW);
	expect_no_irq(f);
	{
		uint16_t h2 = unmask(f, 2);

		expect_irq(f, h2, VB_VIRTIO_GPIO_IRQ_STATUS_VALID);
	}
	(void)h;
}

/* @verify{VB-REQ-GPIO-022} disabling the interrupt (type NONE, or direction NONE/OUT) returns
 * the held buffer INVALID and discards a latched edge. */
static void test_gpio__disable_returns_invalid(void **state)
{
	struct fx *f = *state;
	uint16_t h;

	start(f, 0);
	input_with_irq(f, 3, VB_VIRTIO_GPIO_IRQ_TYPE_EDGE_BOTH);
	h = unmask(f, 3);
	assert_int_equal(msg(f, VB_VIRTIO_GPIO_MSG_SET_IRQ_TYPE, 3, VB_VIRTIO_GPIO_IRQ_TYPE_NONE,
			     NULL), VB_VIRTIO_GPIO_STATUS_OK);
	expect_irq(f, h, VB_VIRTIO_GPIO_IRQ_STATUS_INVALID);
	/* Latched edge, then disable and enable again: the edge is gone. */
	assert_int_equal(msg(f, VB_VIRTIO_GPIO_MSG_SET_IRQ_TYPE, 3,
			     VB_VIRTIO_GPIO_IRQ_TYPE_EDGE_BOTH, NULL), VB_VIRTIO_GPIO_STATUS_OK);
	assert_int_equal(vb_gpio_sim_set_input(f->sim, 3, 1), 0);
	assert_int_equal(msg(f, VB_VIRTIO_GPIO_MSG_SET_IRQ_TYPE, 3, VB_VIRTIO_GPIO_IRQ_TYPE_NONE,
			     NULL), VB_VIRTIO_GPIO_STATUS_OK);
	assert_int_equal(msg(f, VB_VIRTIO_GPIO_MSG_SET_IRQ_TYPE, 3,
			     VB_VIRTIO_GPIO_IRQ_TYPE_EDGE_BOTH, NULL), VB_VIRTIO_GPIO_STATUS_OK);
	unmask(f, 3);
	expect_no_irq(f);
	/* Direction NONE disables too. */
	assert_int_equal(msg(f, VB_VIRTIO_GPIO_MSG_SET_DIRECTION, 3,
			     VB_VIRTIO_GPIO_DIRECTION_NONE, NULL), VB_VIRTIO_GPIO_STATUS_OK);
	{
		uint16_t hh;
		uint8_t st;

		assert_int_equal(ev_used(f, &hh, &st), 1);
		assert_int_equal(st, VB_VIRTIO_GPIO_IRQ_STATUS_INVALID);
	}
	assert_int_equal(vb_gpio_sim_set_input(f->sim, 3, 0), 0);
	expect_no_irq(f);
}

/* @verify{VB-REQ-GPIO-021} eventq buffers for a line without an enabled interrupt, out of
 * range, a second one for a line, or of the wrong size, go straight back INVALID. */
static void test_gpio__bad_event_buffers(void **state)
{
	struct fx *f = *state;
	uint16_t h;
	struct vbt_buf b[2];
	uint64_t rg, wg;

	start(f, 0);
	h = unmask(f, 0);				/* not enabled */
	expect_irq(f, h, VB_VIRTIO_GPIO_IRQ_STATUS_INVALID);
	h = unmask(f, NGPIO);				/* out of range */
	expect_irq(f, h, VB_VIRTIO_GPIO_IRQ_STATUS_INVALID);
	input_with_irq(f, 0, VB_VIRTIO_GPIO_IRQ_TYPE_EDGE_RISING);
	unmask(f, 0);
	h = unmask(f, 0);				/* duplicate */
	expect_irq(f, h, VB_VIRTIO_GPIO_IRQ_STATUS_INVALID);
	/* 3 readable bytes. */
	rg = vbt_guest_alloc(&f->g, 3, 2);
	wg = vbt_guest_alloc(&f->g, 1, 1);
	b[0] = (struct vbt_buf){ rg, 3, false };
	b[1] = (struct vbt_buf){ wg, 1, true };
	h = vbt_split_add(&f->eq, b, 2, false);
	f->ev_status[h % QSZ] = wg;
	assert_int_equal(vb_dev_kick(f->dev, 1), 0);
	expect_irq(f, h, VB_VIRTIO_GPIO_IRQ_STATUS_INVALID);
	/* No writable byte: back with 0 bytes. */
	b[0] = (struct vbt_buf){ rg, 2, false };
	h = vbt_split_add(&f->eq, b, 1, false);
	assert_int_equal(vb_dev_kick(f->dev, 1), 0);
	{
		uint32_t id, len;

		assert_int_equal(vbt_split_get_used(&f->eq, &id, &len), 1);
		assert_int_equal(id, h);
		assert_int_equal(len, 0);
	}
	/* Line 0's real buffer still works. */
	assert_int_equal(vb_gpio_sim_set_input(f->sim, 0, 1), 0);
	{
		uint16_t hh;
		uint8_t st;

		assert_int_equal(ev_used(f, &hh, &st), 1);
		assert_int_equal(st, VB_VIRTIO_GPIO_IRQ_STATUS_VALID);
	}
}

/* @verify{VB-REQ-GPIO-023} a held eventq buffer is walked again when it goes back: the
 * status lands where its descriptors point then (as after a memory map change), and a chain
 * rewritten without a writable byte comes back with 0 bytes. */
static void test_gpio__held_buffer_rewalked(void **state)
{
	struct fx *f = *state;
	uint64_t moved;
	uint16_t h, wdesc;
	uint32_t id, len;

	start(f, 0);
	input_with_irq(f, 2, VB_VIRTIO_GPIO_IRQ_TYPE_EDGE_BOTH);
	h = unmask(f, 2);
	wdesc = vb_le16_to_cpu(f->eq.desc[h].next);
	moved = vbt_guest_alloc(&f->g, 1, 1);
	*(uint8_t *)vbt_guest_ptr(&f->g, moved) = 0xee;
	vbt_split_put_desc(&f->eq, wdesc, moved, 1, VB_VRING_DESC_F_WRITE, 0);
	assert_int_equal(vb_gpio_sim_set_input(f->sim, 2, 1), 0);
	assert_int_equal(vbt_split_get_used(&f->eq, &id, &len), 1);
	assert_int_equal(id, h);
	assert_int_equal(len, 1);
	assert_int_equal(*(uint8_t *)vbt_guest_ptr(&f->g, moved), VB_VIRTIO_GPIO_IRQ_STATUS_VALID);
	assert_int_equal(*(uint8_t *)vbt_guest_ptr(&f->g, f->ev_status[h % QSZ]), 0xee);
	/* Rewritten into a read-only chain: back with nothing written. */
	h = unmask(f, 2);
	vbt_split_put_desc(&f->eq, h, f->ev_status[h % QSZ], 1, 0, 0);
	assert_int_equal(vb_gpio_sim_set_input(f->sim, 2, 0), 0);
	assert_int_equal(vbt_split_get_used(&f->eq, &id, &len), 1);
	assert_int_equal(id, h);
	assert_int_equal(len, 0);
	assert_int_equal(vb_dev_get_status(f->dev) & VB_VIRTIO_S_NEEDS_RESET, 0);
}

/* @verify{VB-REQ-GPIO-002} a device reset releases every line and forgets held buffers. */
static void test_gpio__reset(void **state)
{
	struct fx *f = *state;
	struct vb_gpio_line_info li;

	start(f, 0);
	assert_int_equal(msg(f, VB_VIRTIO_GPIO_MSG_SET_VALUE, 0, 1, NULL), VB_VIRTIO_GPIO_STATUS_OK);
	assert_int_equal(msg(f, VB_VIRTIO_GPIO_MSG_SET_DIRECTION, 0, VB_VIRTIO_GPIO_DIRECTION_OUT,
			     NULL), VB_VIRTIO_GPIO_STATUS_OK);
	input_with_irq(f, 1, VB_VIRTIO_GPIO_IRQ_TYPE_EDGE_RISING);
	unmask(f, 1);
	vb_dev_reset(f->dev);
	assert_int_equal(vb_gpio_sim_get_level(f->sim, 0), 0);
	assert_int_equal(vb_gpio_get_line(f->gpio, 1, &li), 0);
	assert_false(li.unmasked);
	assert_int_equal(li.irq_type, 0);
	assert_int_equal(li.direction, 0);
	assert_int_equal(vb_gpio_get_line(f->gpio, NGPIO, &li), -EINVAL);
}

/* ---- simulated chip ---- */

/* @verify{VB-REQ-GPIO-040} @verify{VB-REQ-GPIO-041} the control protocol drives and reads
 * the simulated lines. */
static void test_gpio__sim_protocol(void **state)
{
	struct fx *f = *state;
	char r[96];

	start(f, 0);
	assert_int_equal(vb_gpio_sim_command(f->sim, "lines", r, sizeof(r)), 0);
	assert_string_equal(r, "8");
	assert_int_equal(vb_gpio_sim_command(f->sim, "set 3 1\n", r, sizeof(r)), 0);
	assert_string_equal(r, "ok");
	assert_int_equal(vb_gpio_sim_command(f->sim, "get 3", r, sizeof(r)), 0);
	assert_string_equal(r, "1");
	assert_int_equal(vb_gpio_sim_command(f->sim, "dir 3", r, sizeof(r)), 0);
	assert_string_equal(r, "none");
	input_with_irq(f, 3, VB_VIRTIO_GPIO_IRQ_TYPE_EDGE_FALLING);
	assert_int_equal(vb_gpio_sim_command(f->sim, "dir 3", r, sizeof(r)), 0);
	assert_string_equal(r, "in");
	assert_int_equal(vb_gpio_sim_command(f->sim, "irq 3", r, sizeof(r)), 0);
	assert_string_equal(r, "falling masked");
	unmask(f, 3);
	assert_int_equal(vb_gpio_sim_command(f->sim, "irq 3", r, sizeof(r)), 0);
	assert_string_equal(r, "falling unmasked");
	assert_int_equal(vb_gpio_sim_command(f->sim, "set 3 0", r, sizeof(r)), 0);
	{
		uint16_t h;
		uint8_t st;

		assert_int_equal(ev_used(f, &h, &st), 1);
		assert_int_equal(st, VB_VIRTIO_GPIO_IRQ_STATUS_VALID);
	}
	/* Outputs read what the guest drives; external levels do not change them. */
	assert_int_equal(msg(f, VB_VIRTIO_GPIO_MSG_SET_VALUE, 0, 1, NULL), VB_VIRTIO_GPIO_STATUS_OK);
	assert_int_equal(msg(f, VB_VIRTIO_GPIO_MSG_SET_DIRECTION, 0, VB_VIRTIO_GPIO_DIRECTION_OUT,
			     NULL), VB_VIRTIO_GPIO_STATUS_OK);
	assert_int_equal(vb_gpio_sim_command(f->sim, "set 0 0", r, sizeof(r)), 0);
	assert_int_equal(vb_gpio_sim_command(f->sim, "get 0", r, sizeof(r)), 0);
	assert_string_equal(r, "1");
	assert_int_equal(vb_gpio_sim_command(f->sim, "dir 0", r, sizeof(r)), 0);
	assert_string_equal(r, "out");
	/* Errors. */
	assert_int_equal(vb_gpio_sim_command(f->sim, "set 8 1", r, sizeof(r)), -EINVAL);
	assert_memory_equal(r, "err", 3);
	assert_int_equal(vb_gpio_sim_command(f->sim, "set 1 2", r, sizeof(r)), -EINVAL);
	assert_int_equal(vb_gpio_sim_command(f->sim, "set 1", r, sizeof(r)), -EINVAL);
	assert_int_equal(vb_gpio_sim_command(f->sim, "get -1", r, sizeof(r)), -EINVAL);
	assert_int_equal(vb_gpio_sim_command(f->sim, "get 99999999999999999999", r, sizeof(r)),
			 -EINVAL);
	assert_int_equal(vb_gpio_sim_command(f->sim, "frob 1", r, sizeof(r)), -EINVAL);
	assert_int_equal(vb_gpio_sim_command(f->sim, "", r, sizeof(r)), -EINVAL);
	assert_int_equal(vb_gpio_sim_command(f->sim, "set 1 1 1 1 1", r, sizeof(r)), -EINVAL);
	assert_int_equal(vb_gpio_sim_set_input(f->sim, 8, 0), -EINVAL);
	assert_int_equal(vb_gpio_sim_set_input(f->sim, 0, 2), -EINVAL);
	assert_int_equal(vb_gpio_sim_create(0, &f->sim), -EINVAL);
}

/* @verify{VB-REQ-GPIO-042} the character device backend reports a missing chip; with a
 * real chip (/dev/gpiochip0, e.g. gpio-sim) it lists its lines. */
static void test_gpio__cdev(void **state)
{
	struct vb_gpio_cdev *c = NULL;
	int ret;

	(void)state;
	assert_int_equal(vb_gpio_cdev_open("/nonexistent/gpiochip9", &c), -ENOENT);
	assert_int_equal(vb_gpio_cdev_open("/dev/null", &c) < 0, 1);
	ret = vb_gpio_cdev_open("/dev/gpiochip0", &c);
	if (ret < 0) {
		printf("no usable /dev/gpiochip0 (%s): real-chip part skipped\n", strerror(-ret));
		skip();
	}
	assert_true(vb_gpio_cdev_ngpio(c) > 0);
	assert_non_null(vb_gpio_cdev_names(c));
	assert_true(vb_gpio_cdev_event_fd(c) >= 0);
	assert_true(vb_gpio_cdev_process(c) >= 0);
	vb_gpio_cdev_close(c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_gpio__init_validates, setup, teardown),
		cmocka_unit_test_setup_teardown(test_gpio__device_and_config, setup, teardown),
		cmocka_unit_test_setup_teardown(test_gpio__get_names, setup, teardown),
		cmocka_unit_test_setup_teardown(test_gpio__get_names_none, setup, teardown),
		cmocka_unit_test_setup_teardown(test_gpio__direction_and_value, setup, teardown),
		cmocka_unit_test_setup_teardown(test_gpio__bad_values, setup, teardown),
		cmocka_unit_test_setup_teardown(test_gpio__bad_sizes, setup, teardown),
		cmocka_unit_test_setup_teardown(test_gpio__irq_type_rules, setup, teardown),
		cmocka_unit_test_setup_teardown(test_gpio__irq_on_output, setup, teardown),
		cmocka_unit_test_setup_teardown(test_gpio__edge_rising, setup, teardown),
		cmocka_unit_test_setup_teardown(test_gpio__edge_falling_both, setup, teardown),
		cmocka_unit_test_setup_teardown(test_gpio__level, setup, teardown),
		cmocka_unit_test_setup_teardown(test_gpio__disable_returns_invalid, setup, teardown),
		cmocka_unit_test_setup_teardown(test_gpio__bad_event_buffers, setup, teardown),
		cmocka_unit_test_setup_teardown(test_gpio__held_buffer_rewalked, setup, teardown),
		cmocka_unit_test_setup_teardown(test_gpio__reset, setup, teardown),
		cmocka_unit_test_setup_teardown(test_gpio__sim_protocol, setup, teardown),
		cmocka_unit_test(test_gpio__cdev),
	};

	return cmocka_run_group_tests_name("gpio", tests, NULL, NULL);
}
