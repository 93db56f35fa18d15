/* SPDX-License-Identifier: MIT */
/*
 * virtio-gpio host backend on a Linux GPIO chip through the character device uAPI v2
 * (<linux/gpio.h>): a line is requested (GPIO_V2_GET_LINE_IOCTL, one fd per line) when the
 * driver gives it a direction, reconfigured (GPIO_V2_LINE_SET_CONFIG_IOCTL) on later
 * changes, released at DIRECTION_NONE. An enabled interrupt turns on edge detection on both
 * edges; edge events read from the line fd go to the model, which filters by trigger type
 * and samples levels itself.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/gpio.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "virtio-backend/devices/gpio.h"
#include "internal/compiler.h"

struct cdev_line {
	int	fd;		/* -1: not requested */
	uint8_t	dir;
	uint8_t	irq_type;
	char	name[GPIO_MAX_NAME_SIZE];
};

struct vb_gpio_cdev {
	int			chip_fd;
	int			ep_fd;
	uint16_t		ngpio;
	struct vb_gpio		*g;
	const char		**names;
	struct cdev_line	*line;
};

/* @satisfy{VB-REQ-GPIO-042} */
VB_EXPORT int vb_gpio_cdev_open(const char *path, struct vb_gpio_cdev **out)
{
	struct gpiochip_info ci;
	struct vb_gpio_cdev *c;
	int ret;

	if (!path || !out)
		return -EINVAL;
	c = calloc(1, sizeof(*c));
	if (!c)
		return -ENOMEM;
	c->ep_fd = -1;
	c->chip_fd = open(path, O_RDWR | O_CLOEXEC);
	if (c->chip_fd < 0) {
		ret = -errno;
		goto fail;
	}
	memset(&ci, 0, sizeof(ci));
	if (ioctl(c->chip_fd, GPIO_GET_CHIPINFO_IOCTL, &ci) < 0) {
		ret = -errno;
		goto fail;
	}
	if (ci.lines == 0 || ci.lines > UINT16_MAX) {
		ret = -ERANGE;
		goto fail;
	}
	c->ngpio = (uint16_t)ci.lines;
	c->ep_fd = epoll_create1(EPOLL_CLOEXEC);
	c->line = calloc(c->ngpio, sizeof(*c->line));
	c->names = calloc(c->ngpio, sizeof(*c->names));
	if (c->ep_fd < 0 || !c->line || !c->names) {
		ret = c->ep_fd < 0 ? -errno : -ENOMEM;
		goto fail;
	}
	for (uint16_t i = 0; i < c->ngpio; i++) {
		struct gpio_v2_line_info li;

		c->line[i].fd = -1;
		memset(&li, 0, sizeof(li));
		li.offset = i;
		if (ioctl(c->chip_fd, GPIO_V2_GET_LINEINFO_IOCTL, &li) == 0)
			memcpy(c->line[i].name, li.name, sizeof(li.name) - 1u);
		c->names[i] = c->line[i].name;
	}
	/* The model wants unique names: a chip with duplicates exports none of them. */
	for (uint16_t i = 0; i < c->ngpio; i++)
		for (uint16_t j = 0; c->line[i].name[0] && j < i; j++)
			if (!strcmp(c->line[i].name, c->line[j].name)) {
				for (uint16_t k = 0; k < c->ngpio; k++)
					c->line[k].name[0] = '\0';
				i = (uint16_t)(c->ngpio - 1u);
				break;
			}
	*out = c;
	return 0;
fail:
	vb_gpio_cdev_close(c);
	return ret;
}

static void release(struct vb_gpio_cdev *c, uint16_t i)
{
	struct cdev_line *l = &c->line[i];

	if (l->fd >= 0) {
		epoll_ctl(c->ep_fd, EPOLL_CTL_DEL, l->fd, NULL);
		close(l->fd);
	}
	l->fd = -1;
	l->dir = VB_VIRTIO_GPIO_DIRECTION_NONE;
	l->irq_type = VB_VIRTIO_GPIO_IRQ_TYPE_NONE;
}

VB_EXPORT void vb_gpio_cdev_close(struct vb_gpio_cdev *c)
{
	if (!c)
		return;
	for (uint16_t i = 0; c->line && i < c->ngpio; i++)
		release(c, i);
	if (c->ep_fd >= 0)
		close(c->ep_fd);
	if (c->chip_fd >= 0)
		close(c->chip_fd);
	free(c->line);
	free(c->names);
	free(c);
}

VB_EXPORT uint16_t vb_gpio_cdev_ngpio(const struct vb_gpio_cdev *c)
{
	return c->ngpio;
}

VB_EXPORT const char *const *vb_gpio_cdev_names(const struct vb_gpio_cdev *c)
{
	return c->names;
}

VB_EXPORT void vb_gpio_cdev_bind(struct vb_gpio_cdev *c, struct vb_gpio *g)
{
	c->g = g;
}

VB_EXPORT int vb_gpio_cdev_event_fd(const struct vb_gpio_cdev *c)
{
	return c->ep_fd;
}

/* The uAPI v2 line configuration for a direction, output value and interrupt. */
static void line_config(struct gpio_v2_line_config *cfg, uint8_t dir, uint8_t value,
			uint8_t irq_type)
{
	memset(cfg, 0, sizeof(*cfg));
	if (dir == VB_VIRTIO_GPIO_DIRECTION_OUT) {
		cfg->flags = GPIO_V2_LINE_FLAG_OUTPUT;
		cfg->num_attrs = 1;
		cfg->attrs[0].attr.id = GPIO_V2_LINE_ATTR_ID_OUTPUT_VALUES;
		cfg->attrs[0].attr.values = value ? 1u : 0u;
		cfg->attrs[0].mask = 1u;
	} else {
		cfg->flags = GPIO_V2_LINE_FLAG_INPUT;
		if (irq_type != VB_VIRTIO_GPIO_IRQ_TYPE_NONE)
			cfg->flags |= GPIO_V2_LINE_FLAG_EDGE_RISING | GPIO_V2_LINE_FLAG_EDGE_FALLING;
	}
}

/* Request line i (or reconfigure it if it is requested) as dir/value/irq_type. */
static int configure(struct vb_gpio_cdev *c, uint16_t i, uint8_t dir, uint8_t value,
		     uint8_t irq_type)
{
	struct cdev_line *l = &c->line[i];
	struct gpio_v2_line_request req;
	struct epoll_event ev;

	if (l->fd >= 0) {
		struct gpio_v2_line_config cfg;

		line_config(&cfg, dir, value, irq_type);
		if (ioctl(l->fd, GPIO_V2_LINE_SET_CONFIG_IOCTL, &cfg) < 0)
			return -errno;
	} else {
		memset(&req, 0, sizeof(req));
		req.offsets[0] = i;
		req.num_lines = 1;
		snprintf(req.consumer, sizeof(req.consumer), "vb-virtio-gpio");
		line_config(&req.config, dir, value, irq_type);
		if (ioctl(c->chip_fd, GPIO_V2_GET_LINE_IOCTL, &req) < 0)
			return -errno;
		l->fd = req.fd;
		if (fcntl(l->fd, F_SETFL, O_NONBLOCK) < 0 ||
		    (ev = (struct epoll_event){ .events = EPOLLIN, .data.u32 = i },
		     epoll_ctl(c->ep_fd, EPOLL_CTL_ADD, l->fd, &ev) < 0)) {
			int ret = -errno;

			release(c, i);
			return ret;
		}
	}
	l->dir = dir;
	l->irq_type = irq_type;
	return 0;
}

static int cdev_set_direction(void *be, uint16_t i, uint8_t dir, uint8_t value)
{
	struct vb_gpio_cdev *c = be;

	if (i >= c->ngpio)
		return -EINVAL;
	if (dir == VB_VIRTIO_GPIO_DIRECTION_NONE) {
		release(c, i);
		return 0;
	}
	return configure(c, i, dir, value,
			 dir == VB_VIRTIO_GPIO_DIRECTION_IN ? c->line[i].irq_type : 0);
}

static int cdev_get_value(void *be, uint16_t i, uint8_t *value)
{
	struct vb_gpio_cdev *c = be;
	struct gpio_v2_line_values v = { .bits = 0, .mask = 1 };
	int ret;

	if (i >= c->ngpio)
		return -EINVAL;
	/* A line the driver never configured is requested "as is" (no direction flag: the
	 * uAPI v2 leaves the hardware alone), sensed, and released again. */
	if (c->line[i].fd < 0) {
		struct gpio_v2_line_request req;

		memset(&req, 0, sizeof(req));
		req.offsets[0] = i;
		req.num_lines = 1;
		snprintf(req.consumer, sizeof(req.consumer), "vb-virtio-gpio");
		if (ioctl(c->chip_fd, GPIO_V2_GET_LINE_IOCTL, &req) < 0)
			return -errno;
		ret = ioctl(req.fd, GPIO_V2_LINE_GET_VALUES_IOCTL, &v) < 0 ? -errno : 0;
		close(req.fd);
	} else {
		ret = ioctl(c->line[i].fd, GPIO_V2_LINE_GET_VALUES_IOCTL, &v) < 0 ? -errno : 0;
	}
	if (ret == 0)
		*value = (uint8_t)(v.bits & 1u);
	return ret;
}

static int cdev_set_value(void *be, uint16_t i, uint8_t value)
{
	struct vb_gpio_cdev *c = be;
	struct gpio_v2_line_values v = { .bits = value ? 1u : 0u, .mask = 1 };

	if (i >= c->ngpio || c->line[i].fd < 0)
		return -EINVAL;
	return ioctl(c->line[i].fd, GPIO_V2_LINE_SET_VALUES_IOCTL, &v) < 0 ? -errno : 0;
}

static int cdev_set_irq_type(void *be, uint16_t i, uint8_t type)
{
	struct vb_gpio_cdev *c = be;
	struct cdev_line *l;

	if (i >= c->ngpio)
		return -EINVAL;
	l = &c->line[i];
	if (type == VB_VIRTIO_GPIO_IRQ_TYPE_NONE) {
		if (l->fd < 0)
			return 0;
		return configure(c, i, l->dir ? l->dir : VB_VIRTIO_GPIO_DIRECTION_IN, 0, 0);
	}
	if (l->dir == VB_VIRTIO_GPIO_DIRECTION_OUT)
		return -EINVAL;
	return configure(c, i, VB_VIRTIO_GPIO_DIRECTION_IN, 0, type);
}

VB_EXPORT const struct vb_gpio_backend_ops vb_gpio_cdev_ops = {
	.version = VB_GPIO_BACKEND_OPS_V1,
	.set_direction = cdev_set_direction,
	.get_value = cdev_get_value,
	.set_value = cdev_set_value,
	.set_irq_type = cdev_set_irq_type,
};

/* @satisfy{VB-REQ-GPIO-042} */
VB_EXPORT int vb_gpio_cdev_process(struct vb_gpio_cdev *c)
{
	struct epoll_event ev[16];
	int n, total = 0;

	n = epoll_wait(c->ep_fd, ev, (int)(sizeof(ev) / sizeof(ev[0])), 0);
	if (n < 0)
		return errno == EINTR ? 0 : -errno;
	for (int k = 0; k < n; k++) {
		uint32_t i = ev[k].data.u32;
		struct gpio_v2_line_event le[16];
		ssize_t r;

		if (i >= c->ngpio || c->line[i].fd < 0)
			continue;
		while ((r = read(c->line[i].fd, le, sizeof(le))) > 0) {
			size_t m = (size_t)r / sizeof(le[0]);

			for (size_t e = 0; e < m; e++) {
				unsigned int edge = le[e].id == GPIO_V2_LINE_EVENT_RISING_EDGE ?
						    VB_GPIO_EDGE_RISING : VB_GPIO_EDGE_FALLING;

				total++;
				if (c->g)
					vb_gpio_line_event(c->g, (uint16_t)i, edge);
				/* The model may have released the line meanwhile. */
				if (c->line[i].fd < 0)
					break;
			}
			if (c->line[i].fd < 0)
				break;
		}
	}
	return total;
}
