/* SPDX-License-Identifier: MIT */
/*
 * A simulated GPIO chip for the virtio-gpio model: lines a test (or a person at the
 * control socket of vb-vhost-user) drives and reads, with the small line-command protocol
 * of vb_gpio_sim_command() (docs/howto/device-gpio.md).
 */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "virtio-backend/devices/gpio.h"
#include "internal/compiler.h"

struct sim_line {
	uint8_t	dir;		/* as the driver set it */
	uint8_t	out;		/* level the guest drives (outputs) */
	uint8_t	in;		/* external level the test drives */
	uint8_t	irq_type;
};

struct vb_gpio_sim {
	struct vb_gpio		*g;
	uint16_t		ngpio;
	struct sim_line		line[];
};

VB_EXPORT int vb_gpio_sim_create(uint16_t ngpio, struct vb_gpio_sim **out)
{
	struct vb_gpio_sim *s;

	if (!ngpio || !out)
		return -EINVAL;
	s = calloc(1, sizeof(*s) + ngpio * sizeof(s->line[0]));
	if (!s)
		return -ENOMEM;
	s->ngpio = ngpio;
	*out = s;
	return 0;
}

VB_EXPORT void vb_gpio_sim_destroy(struct vb_gpio_sim *sim)
{
	free(sim);
}

VB_EXPORT void vb_gpio_sim_bind(struct vb_gpio_sim *sim, struct vb_gpio *g)
{
	sim->g = g;
}

static uint8_t level(const struct sim_line *l)
{
	return l->dir == VB_VIRTIO_GPIO_DIRECTION_OUT ? l->out : l->in;
}

VB_EXPORT int vb_gpio_sim_get_level(const struct vb_gpio_sim *sim, uint16_t line)
{
	return line < sim->ngpio ? level(&sim->line[line]) : -EINVAL;
}

/* @satisfy{VB-REQ-GPIO-040} */
VB_EXPORT int vb_gpio_sim_set_input(struct vb_gpio_sim *sim, uint16_t line, uint8_t v)
{
	struct sim_line *l;
	uint8_t old;

	if (line >= sim->ngpio || v > 1)
		return -EINVAL;
	l = &sim->line[line];
	old = level(l);
	l->in = v;
	/* An output is driven by the guest: the external level changes nothing on the pin. */
	if (level(l) != old && sim->g)
		vb_gpio_line_event(sim->g, line, v ? VB_GPIO_EDGE_RISING : VB_GPIO_EDGE_FALLING);
	return 0;
}

static int sim_set_direction(void *be, uint16_t line, uint8_t dir, uint8_t value)
{
	struct vb_gpio_sim *sim = be;

	if (line >= sim->ngpio)
		return -EINVAL;
	sim->line[line].dir = dir;
	sim->line[line].out = value;
	return 0;
}

static int sim_get_value(void *be, uint16_t line, uint8_t *value)
{
	struct vb_gpio_sim *sim = be;

	if (line >= sim->ngpio)
		return -EINVAL;
	*value = level(&sim->line[line]);
	return 0;
}

static int sim_set_value(void *be, uint16_t line, uint8_t value)
{
	struct vb_gpio_sim *sim = be;

	if (line >= sim->ngpio)
		return -EINVAL;
	sim->line[line].out = value;
	return 0;
}

static int sim_set_irq_type(void *be, uint16_t line, uint8_t type)
{
	struct vb_gpio_sim *sim = be;

	if (line >= sim->ngpio)
		return -EINVAL;
	sim->line[line].irq_type = type;
	return 0;
}

VB_EXPORT const struct vb_gpio_backend_ops vb_gpio_sim_ops = {
	.version = VB_GPIO_BACKEND_OPS_V1,
	.set_direction = sim_set_direction,
	.get_value = sim_get_value,
	.set_value = sim_set_value,
	.set_irq_type = sim_set_irq_type,
};

/* ---- control protocol -------------------------------------------------------------------- */

static const char *dir_name(uint8_t d)
{
	switch (d) {
	case VB_VIRTIO_GPIO_DIRECTION_OUT:
		return "out";
	case VB_VIRTIO_GPIO_DIRECTION_IN:
		return "in";
	default:
		return "none";
	}
}

static const char *irq_name(uint8_t t)
{
	switch (t) {
	case VB_VIRTIO_GPIO_IRQ_TYPE_EDGE_RISING:
		return "rising";
	case VB_VIRTIO_GPIO_IRQ_TYPE_EDGE_FALLING:
		return "falling";
	case VB_VIRTIO_GPIO_IRQ_TYPE_EDGE_BOTH:
		return "both";
	case VB_VIRTIO_GPIO_IRQ_TYPE_LEVEL_HIGH:
		return "high";
	case VB_VIRTIO_GPIO_IRQ_TYPE_LEVEL_LOW:
		return "low";
	default:
		return "none";
	}
}

/* A decimal in [0, max], the whole token. */
static int number(const char *s, unsigned long max, unsigned long *out)
{
	unsigned long v = 0;

	if (!s || !*s)
		return -EINVAL;
	for (; *s; s++) {
		if (*s < '0' || *s > '9')
			return -EINVAL;
		v = v * 10u + (unsigned long)(*s - '0');
		if (v > max)
			return -EINVAL;
	}
	*out = v;
	return 0;
}

#define SIM_MAX_WORDS 4
#define SIM_MAX_CMD 128

/* @satisfy{VB-REQ-GPIO-041} */
VB_EXPORT int vb_gpio_sim_command(struct vb_gpio_sim *sim, const char *cmd, char *reply,
				  size_t reply_len)
{
	char buf[SIM_MAX_CMD], *w[SIM_MAX_WORDS + 1] = { 0 }, *save = NULL, *t;
	unsigned long line = 0, v = 0;
	unsigned int n = 0;

	if (!reply || !reply_len)
		return -EINVAL;
	if (!cmd || strlen(cmd) >= sizeof(buf)) {
		snprintf(reply, reply_len, "err command too long");
		return -EINVAL;
	}
	strcpy(buf, cmd);
	for (t = strtok_r(buf, " \t\r\n", &save); t && n <= SIM_MAX_WORDS;
	     t = strtok_r(NULL, " \t\r\n", &save))
		w[n++] = t;
	if (n == 0 || n > 3) {
		snprintf(reply, reply_len, "err expected: set L V | get L | dir L | irq L | lines");
		return -EINVAL;
	}
	if (!strcmp(w[0], "lines") && n == 1) {
		snprintf(reply, reply_len, "%u", sim->ngpio);
		return 0;
	}
	if (!strcmp(w[0], "help") && n == 1) {
		snprintf(reply, reply_len, "set L 0|1, get L, dir L, irq L, lines");
		return 0;
	}
	if (n < 2 || number(w[1], sim->ngpio - 1u, &line)) {
		snprintf(reply, reply_len, "err bad command or line (0..%u)", sim->ngpio - 1u);
		return -EINVAL;
	}
	if (!strcmp(w[0], "set") && n == 3) {
		if (number(w[2], 1, &v)) {
			snprintf(reply, reply_len, "err value is 0 or 1");
			return -EINVAL;
		}
		vb_gpio_sim_set_input(sim, (uint16_t)line, (uint8_t)v);
		snprintf(reply, reply_len, "ok");
		return 0;
	}
	if (n != 2)
		goto bad;
	if (!strcmp(w[0], "get")) {
		snprintf(reply, reply_len, "%u", level(&sim->line[line]));
		return 0;
	}
	if (!strcmp(w[0], "dir")) {
		snprintf(reply, reply_len, "%s", dir_name(sim->line[line].dir));
		return 0;
	}
	if (!strcmp(w[0], "irq")) {
		struct vb_gpio_line_info info = { 0 };

		if (sim->g)
			(void)vb_gpio_get_line(sim->g, (uint16_t)line, &info);
		snprintf(reply, reply_len, "%s %s", irq_name(info.irq_type),
			 info.unmasked ? "unmasked" : "masked");
		return 0;
	}
bad:
	snprintf(reply, reply_len, "err unknown command '%s'", w[0]);
	return -EINVAL;
}
