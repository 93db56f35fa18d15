/* SPDX-License-Identifier: MIT */
/*
 * vb-vhost-user gpio: virtio-gpio on a host GPIO chip (/dev/gpiochipN, character device
 * uAPI v2) or on a simulated chip whose lines a test drives through a control socket
 * (--sim-control PATH: one command a line, "set 3 1", "get 3", "dir 3", "irq 3", "lines";
 * one reply line each; docs/howto/device-gpio.md). The daemon's common part is main.c.
 *
 * Many fds (the chip's line fds, the control socket and its clients): the device gives the
 * daemon one epoll fd of its own and sorts them out in gpio_event().
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "virtio-backend.h"
#include "virtio-backend/devices/gpio.h"

#include "daemon.h"

enum {
	GPIO_OPT_CHIP = OPT_DEVICE,
	GPIO_OPT_SIM,
	GPIO_OPT_SIM_CONTROL,
	GPIO_OPT_DEVICE_LIST,
	GPIO_OPT_NO_IRQ,
	GPIO_OPT_QUEUE_SIZE,
};

#define GPIO_MAX_CLIENTS	8
#define GPIO_LINE_MAX		128	/* longest control command */
#define GPIO_SIM_MAX_LINES	1024u

/* epoll tags of the device's own epoll fd. */
enum { TAG_CHIP = 1, TAG_LISTEN = 2, TAG_CLIENT = 16 };

struct ctl_client {
	int	fd;
	size_t	len;
	bool	overflow;	/* discarding the rest of a too long line */
	char	buf[GPIO_LINE_MAX];
};

struct gpio_state {
	const char		*chip;
	unsigned long		sim_lines;
	char			*sim_names;	/* --sim's names=..., split in place */
	const char		*control;
	bool			no_irq;
	unsigned int		queue_size;
	/* open */
	int			ep_fd;
	int			listen_fd;
	struct vb_gpio_cdev	*cdev;
	struct vb_gpio_sim	*sim;
	struct vb_gpio		*gpio;
	const char		**names;
	struct ctl_client	cl[GPIO_MAX_CLIENTS];
};

static const struct option gpio_options[] = {
	{ "chip", required_argument, NULL, GPIO_OPT_CHIP },
	{ "sim", required_argument, NULL, GPIO_OPT_SIM },
	{ "sim-control", required_argument, NULL, GPIO_OPT_SIM_CONTROL },
	{ "device-list", required_argument, NULL, GPIO_OPT_DEVICE_LIST },	/* rust-vmm */
	{ "no-irq", no_argument, NULL, GPIO_OPT_NO_IRQ },
	{ "queue-size", required_argument, NULL, GPIO_OPT_QUEUE_SIZE },
	{ NULL, 0, NULL, 0 },
};

static char chip_path[64];

/* --sim N[,names=a,b,...] */
static int parse_sim(struct gpio_state *s, const char *arg)
{
	const char *comma = strchr(arg, ',');
	char num[16];
	size_t n = comma ? (size_t)(comma - arg) : strlen(arg);

	if (n == 0 || n >= sizeof(num)) {
		fprintf(stderr, PROG ": --sim N[,names=a,b,...]\n");
		return -EINVAL;
	}
	memcpy(num, arg, n);
	num[n] = '\0';
	if (parse_uint("--sim", num, 1, GPIO_SIM_MAX_LINES, &s->sim_lines) < 0)
		return -EINVAL;
	if (comma) {
		if (strncmp(comma + 1, "names=", 6) != 0) {
			fprintf(stderr, PROG ": --sim: expected names=a,b,... after '%s,'\n", num);
			return -EINVAL;
		}
		free(s->sim_names);
		s->sim_names = strdup(comma + 7);
		if (!s->sim_names)
			return -ENOMEM;
	}
	return 0;
}

static int gpio_option(void *state, int key, const char *arg)
{
	struct gpio_state *s = state;
	unsigned long v;

	switch (key) {
	case GPIO_OPT_CHIP:
		s->chip = arg;
		return 0;
	case GPIO_OPT_SIM:
		return parse_sim(s, arg);
	case GPIO_OPT_SIM_CONTROL:
		s->control = arg;
		return 0;
	case GPIO_OPT_DEVICE_LIST:
		/* rust-vmm vhost-device-gpio: "N" is /dev/gpiochipN, "sN" a simulated chip of N
		 * lines; one socket here, so one device. */
		if (strchr(arg, ':')) {
			fprintf(stderr, PROG ": --device-list: one device per daemon\n");
			return -EINVAL;
		}
		if (arg[0] == 's')
			return parse_uint("--device-list", arg + 1, 1, GPIO_SIM_MAX_LINES,
					  &s->sim_lines) < 0 ? -EINVAL : 0;
		if (parse_uint("--device-list", arg, 0, 4095, &v) < 0)
			return -EINVAL;
		snprintf(chip_path, sizeof(chip_path), "/dev/gpiochip%lu", v);
		s->chip = chip_path;
		return 0;
	case GPIO_OPT_NO_IRQ:
		s->no_irq = true;
		return 0;
	case GPIO_OPT_QUEUE_SIZE:
		return parse_queue_size(arg, 1024, &s->queue_size);
	default:
		return -EINVAL;
	}
}

static int ep_add(struct gpio_state *s, int fd, uint32_t tag)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.u32 = tag };

	return epoll_ctl(s->ep_fd, EPOLL_CTL_ADD, fd, &ev) < 0 ? -errno : 0;
}

static int control_listen(struct gpio_state *s)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct stat st;
	int fd;

	if (strlen(s->control) >= sizeof(sa.sun_path)) {
		logf_(VB_LOG_ERR, "gpio: --sim-control path too long");
		return -ENAMETOOLONG;
	}
	strcpy(sa.sun_path, s->control);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return -errno;
	/* A stale socket of an earlier run goes; anything else at the path stays (and bind
	 * fails). */
	if (lstat(s->control, &st) == 0 && S_ISSOCK(st.st_mode))
		(void)unlink(s->control);
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(fd, 4) < 0) {
		int ret = -errno;

		close(fd);
		logf_(VB_LOG_ERR, "gpio: %s: %s", s->control, strerror(-ret));
		return ret;
	}
	s->listen_fd = fd;
	return ep_add(s, fd, TAG_LISTEN);
}

/* Split --sim's names at commas: ngpio entries, missing ones unnamed. */
static int sim_names(struct gpio_state *s)
{
	char *p = s->sim_names, *t;
	unsigned long i = 0;

	s->names = calloc(s->sim_lines, sizeof(*s->names));
	if (!s->names)
		return -ENOMEM;
	/* strsep keeps empty fields ("a,,b": line 1 unnamed). */
	while ((t = strsep(&p, ",")) != NULL) {
		if (i == s->sim_lines) {
			logf_(VB_LOG_ERR, "gpio: --sim: more names than lines");
			return -EINVAL;
		}
		s->names[i++] = t;
	}
	return 0;
}

/* @satisfy{VB-REQ-GPIO-050} */
static int gpio_open(void *state, struct vbd_device *dev)
{
	struct gpio_state *s = state;
	struct vb_gpio_config cfg;
	const struct vb_gpio_backend_ops *ops;
	void *be;
	int ret;

	s->ep_fd = -1;
	s->listen_fd = -1;
	for (int i = 0; i < GPIO_MAX_CLIENTS; i++)
		s->cl[i].fd = -1;
	if (!s->chip == !s->sim_lines) {
		fprintf(stderr, PROG ": gpio needs exactly one of --chip /dev/gpiochipN and "
			"--sim N (or --device-list)\n");
		return -EINVAL;
	}
	if (s->control && !s->sim_lines) {
		fprintf(stderr, PROG ": --sim-control goes with --sim\n");
		return -EINVAL;
	}
	s->ep_fd = epoll_create1(EPOLL_CLOEXEC);
	if (s->ep_fd < 0)
		return -errno;
	memset(&cfg, 0, sizeof(cfg));
	cfg.version = VB_GPIO_CONFIG_V1;
	cfg.flags = s->no_irq ? VB_GPIO_CFG_NO_IRQ : 0;
	cfg.queue_num_max = (uint16_t)s->queue_size;
	if (s->chip) {
		ret = vb_gpio_cdev_open(s->chip, &s->cdev);
		if (ret < 0) {
			logf_(VB_LOG_ERR, "gpio: %s: %s", s->chip, strerror(-ret));
			return ret;
		}
		cfg.ngpio = vb_gpio_cdev_ngpio(s->cdev);
		cfg.names = vb_gpio_cdev_names(s->cdev);
		ops = &vb_gpio_cdev_ops;
		be = s->cdev;
		ret = ep_add(s, vb_gpio_cdev_event_fd(s->cdev), TAG_CHIP);
		if (ret < 0)
			return ret;
	} else {
		ret = vb_gpio_sim_create((uint16_t)s->sim_lines, &s->sim);
		if (ret < 0)
			return ret;
		if (s->sim_names) {
			ret = sim_names(s);
			if (ret < 0)
				return ret;
			cfg.names = s->names;
		}
		cfg.ngpio = (uint16_t)s->sim_lines;
		ops = &vb_gpio_sim_ops;
		be = s->sim;
		if (s->control) {
			ret = control_listen(s);
			if (ret < 0)
				return ret;
		}
	}
	ret = vb_gpio_create(&cfg, ops, be, &s->gpio);
	if (ret < 0) {
		logf_(VB_LOG_ERR, "gpio: model: %s%s", strerror(-ret),
		      ret == -EINVAL ? " (line names must be unique 7-bit ASCII)" : "");
		return ret;
	}
	if (s->cdev)
		vb_gpio_cdev_bind(s->cdev, s->gpio);
	else
		vb_gpio_sim_bind(s->sim, s->gpio);
	dev->ops = vb_gpio_device_ops(s->gpio);
	dev->model = s->gpio;
	dev->event_fd = s->ep_fd;
	logf_(VB_LOG_INFO, "gpio: %s: %u lines, %s%s%s", s->chip ? s->chip : "simulated chip",
	      cfg.ngpio, s->no_irq ? "no interrupts" : "interrupts",
	      s->control ? ", control socket " : "", s->control ? s->control : "");
	return 0;
}

static void client_close(struct gpio_state *s, struct ctl_client *c)
{
	if (c->fd < 0)
		return;
	epoll_ctl(s->ep_fd, EPOLL_CTL_DEL, c->fd, NULL);
	close(c->fd);
	c->fd = -1;
}

static void client_accept(struct gpio_state *s)
{
	int fd = accept4(s->listen_fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);

	if (fd < 0)
		return;
	for (int i = 0; i < GPIO_MAX_CLIENTS; i++) {
		struct ctl_client *c = &s->cl[i];

		if (c->fd >= 0)
			continue;
		c->fd = fd;
		c->len = 0;
		c->overflow = false;
		if (ep_add(s, fd, TAG_CLIENT + (uint32_t)i) < 0)
			client_close(s, c);
		return;
	}
	/* Too many clients: refuse this one. */
	(void)!write(fd, "err too many clients\n", 21);
	close(fd);
}

static void client_reply(struct ctl_client *c, const char *r)
{
	char line[160];
	int n = snprintf(line, sizeof(line), "%s\n", r);

	/* One short line on a local socket; a client that does not read loses it. */
	if (n > 0)
		(void)!write(c->fd, line, (size_t)n < sizeof(line) ? (size_t)n : sizeof(line) - 1);
}

static void client_read(struct gpio_state *s, struct ctl_client *c)
{
	char in[256];
	ssize_t n = read(c->fd, in, sizeof(in));

	if (n <= 0) {
		if (n == 0 || (errno != EAGAIN && errno != EINTR))
			client_close(s, c);
		return;
	}
	for (ssize_t i = 0; i < n && c->fd >= 0; i++) {
		char reply[128];

		if (in[i] != '\n') {
			if (c->len + 1 < sizeof(c->buf))
				c->buf[c->len++] = in[i];
			else
				c->overflow = true;
			continue;
		}
		c->buf[c->len] = '\0';
		if (c->overflow)
			snprintf(reply, sizeof(reply), "err command too long");
		else
			(void)vb_gpio_sim_command(s->sim, c->buf, reply, sizeof(reply));
		client_reply(c, reply);
		c->len = 0;
		c->overflow = false;
	}
}

static int gpio_event(void *state)
{
	struct gpio_state *s = state;
	struct epoll_event ev[8];
	int n = epoll_wait(s->ep_fd, ev, (int)ARRAY_SIZE(ev), 0);

	if (n < 0)
		return errno == EINTR ? 0 : -errno;
	for (int i = 0; i < n; i++) {
		uint32_t tag = ev[i].data.u32;

		if (tag == TAG_CHIP) {
			int ret = vb_gpio_cdev_process(s->cdev);

			if (ret < 0)
				return ret;
		} else if (tag == TAG_LISTEN) {
			client_accept(s);
		} else if (tag >= TAG_CLIENT && tag < TAG_CLIENT + GPIO_MAX_CLIENTS) {
			client_read(s, &s->cl[tag - TAG_CLIENT]);
		}
	}
	return 0;
}

static void gpio_close(void *state)
{
	struct gpio_state *s = state;

	for (int i = 0; i < GPIO_MAX_CLIENTS; i++)
		client_close(s, &s->cl[i]);
	if (s->listen_fd >= 0) {
		close(s->listen_fd);
		(void)unlink(s->control);
		s->listen_fd = -1;
	}
	vb_gpio_destroy(s->gpio);
	vb_gpio_sim_destroy(s->sim);
	vb_gpio_cdev_close(s->cdev);
	if (s->ep_fd >= 0)
		close(s->ep_fd);
	free(s->names);
	free(s->sim_names);
	s->gpio = NULL;
	s->sim = NULL;
	s->cdev = NULL;
	s->names = NULL;
	s->sim_names = NULL;
	s->ep_fd = -1;
}

static void gpio_describe(void *state, const char *what)
{
	struct gpio_state *s = state;
	struct vb_gpio_stats st;

	if (!s->gpio)
		return;
	vb_gpio_get_stats(s->gpio, &st);
	logf_(VB_LOG_INFO, "gpio: %s: totals %" PRIu64 " requests (%" PRIu64 " ok, %" PRIu64
	      " err), %" PRIu64 " interrupts delivered, %" PRIu64 " event buffers returned invalid",
	      what, st.requests, st.ok, st.err, st.irq_valid, st.irq_invalid);
}

static struct gpio_state gpio_state = { .ep_fd = -1, .listen_fd = -1 };

const struct vbd_type vbd_type_gpio = {
	.name = "gpio",
	.state = &gpio_state,
	.summary = "virtio-gpio on a host GPIO chip or a simulated one",
	.options_help =
		"  --chip PATH         host chip, /dev/gpiochipN (GPIO uAPI v2)\n"
		"  --sim N[,names=a,b,...]  simulated chip of N lines (1..1024), optional\n"
		"                      line names (unique, 7-bit ASCII; empty = unnamed)\n"
		"  --sim-control PATH  unix socket to drive the simulated lines, one\n"
		"                      command a line: set L 0|1, get L, dir L, irq L, lines\n"
		"  --device-list D     rust-vmm vhost-device-gpio style: N = /dev/gpiochipN,\n"
		"                      sN = simulated chip of N lines\n"
		"  --no-irq            do not offer VIRTIO_GPIO_F_IRQ (no eventq)\n"
		"  --queue-size N      largest ring size, power of 2 (default 256)\n",
	.capabilities = "{\"type\": \"gpio\"}",
	.options = gpio_options,
	.option = gpio_option,
	.open = gpio_open,
	.event = gpio_event,
	.close = gpio_close,
	.describe = gpio_describe,
};
