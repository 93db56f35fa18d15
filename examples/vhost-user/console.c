/* SPDX-License-Identifier: MIT */
/*
 * vb-vhost-user console: virtio-console ports on stdio, a pty or a listening unix socket.
 * The daemon's common part is main.c. QEMU 7.2 has no vhost-user console front-end; the
 * device is reached by any front-end that forwards a generic vhost-user device, and by the
 * tests' driver-side client.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "virtio-backend.h"
#include "virtio-backend/devices/console.h"

#include "daemon.h"

enum {
	CON_OPT_PORT = OPT_DEVICE,
	CON_OPT_COLS,
	CON_OPT_ROWS,
	CON_OPT_NO_MULTIPORT,
	CON_OPT_QUEUE_SIZE,
};

struct con_state {
	struct vb_console_host_port	hp[VB_CONSOLE_MAX_PORTS];
	char				*names[VB_CONSOLE_MAX_PORTS];
	char				*paths[VB_CONSOLE_MAX_PORTS];
	uint16_t			n;
	unsigned long			cols, rows;
	bool				no_multiport;
	unsigned int			queue_size;
	struct vb_console_port_config	pc[VB_CONSOLE_MAX_PORTS];
	struct vb_console_host		*host;
	struct vb_console		*con;
};

static const struct option con_options[] = {
	{ "port", required_argument, NULL, CON_OPT_PORT },
	{ "cols", required_argument, NULL, CON_OPT_COLS },
	{ "rows", required_argument, NULL, CON_OPT_ROWS },
	{ "no-multiport", no_argument, NULL, CON_OPT_NO_MULTIPORT },
	{ "queue-size", required_argument, NULL, CON_OPT_QUEUE_SIZE },
	{ NULL, 0, NULL, 0 },
};

/* SPEC: stdio | pty | unix:PATH, then optional ",name=NAME". */
static int parse_port(struct con_state *c, const char *arg)
{
	struct vb_console_host_port *hp;
	char *spec, *opt;

	if (c->n == VB_CONSOLE_MAX_PORTS) {
		fprintf(stderr, PROG ": at most %u --port\n", VB_CONSOLE_MAX_PORTS);
		return -EINVAL;
	}
	spec = strdup(arg);
	if (!spec)
		return -ENOMEM;
	hp = &c->hp[c->n];
	opt = strchr(spec, ',');
	if (opt)
		*opt++ = '\0';
	if (!strcmp(spec, "stdio")) {
		hp->kind = VB_CONSOLE_HOST_STDIO;
	} else if (!strcmp(spec, "pty")) {
		hp->kind = VB_CONSOLE_HOST_PTY;
	} else if (!strncmp(spec, "unix:", 5) && spec[5]) {
		hp->kind = VB_CONSOLE_HOST_UNIX;
		c->paths[c->n] = strdup(spec + 5);
		hp->path = c->paths[c->n];
	} else {
		fprintf(stderr, PROG ": --port is stdio, pty or unix:PATH, not '%s'\n", spec);
		free(spec);
		return -EINVAL;
	}
	if (opt) {
		if (strncmp(opt, "name=", 5) || strlen(opt + 5) > VB_CONSOLE_NAME_MAX) {
			fprintf(stderr, PROG ": --port option is name=NAME (at most %u bytes), "
				"not '%s'\n", VB_CONSOLE_NAME_MAX, opt);
			free(spec);
			return -EINVAL;
		}
		c->names[c->n] = strdup(opt + 5);
	}
	free(spec);
	c->n++;
	return 0;
}

static int con_option(void *state, int key, const char *arg)
{
	struct con_state *c = state;

	switch (key) {
	case CON_OPT_PORT:
		return parse_port(c, arg);
	case CON_OPT_COLS:
		return parse_uint("--cols", arg, 1, 65535, &c->cols);
	case CON_OPT_ROWS:
		return parse_uint("--rows", arg, 1, 65535, &c->rows);
	case CON_OPT_NO_MULTIPORT:
		c->no_multiport = true;
		return 0;
	case CON_OPT_QUEUE_SIZE:
		return parse_queue_size(arg, 32768, &c->queue_size);
	default:
		return -EINVAL;
	}
}

static const char *kind_name(enum vb_console_host_kind k)
{
	switch (k) {
	case VB_CONSOLE_HOST_STDIO:
		return "stdio";
	case VB_CONSOLE_HOST_PTY:
		return "pty";
	case VB_CONSOLE_HOST_UNIX:
		return "unix socket";
	case VB_CONSOLE_HOST_FDS:
		return "fds";
	}
	return "?";
}

/* @satisfy{VB-REQ-CONSOLE-031} */
static int con_open(void *state, struct vbd_device *dev)
{
	struct con_state *c = state;
	struct vb_console_config cfg;
	int ret;

	if (c->n == 0) {
		fprintf(stderr, PROG ": console needs at least one --port (see --help)\n");
		return -EINVAL;
	}
	if (c->n > 1 && c->no_multiport) {
		fprintf(stderr, PROG ": several ports need MULTIPORT (drop --no-multiport)\n");
		return -EINVAL;
	}
	ret = vb_console_host_open(c->hp, c->n, c->pc, &c->host);
	if (ret < 0) {
		logf_(VB_LOG_ERR, "console: host ports: %s", strerror(-ret));
		return ret;
	}
	for (uint16_t i = 0; i < c->n; i++) {
		c->pc[i].name = c->names[i];
		/* Port 0 is the console (hvc0 in a Linux guest); others are plain ports. */
		c->pc[i].console = i == 0;
	}
	memset(&cfg, 0, sizeof(cfg));
	cfg.version = VB_CONSOLE_CONFIG_V1;
	cfg.flags = VB_CONSOLE_CFG_EMERG_WRITE | VB_CONSOLE_CFG_SIZE |
		    (c->no_multiport ? 0 : VB_CONSOLE_CFG_MULTIPORT);
	/* The size: --cols/--rows, else port 0's terminal, else 80x25. */
	if (vb_console_host_winsize(c->host, 0, &cfg.cols, &cfg.rows) < 0) {
		cfg.cols = 80;
		cfg.rows = 25;
	}
	if (c->cols)
		cfg.cols = (uint16_t)c->cols;
	if (c->rows)
		cfg.rows = (uint16_t)c->rows;
	cfg.queue_num_max = (uint16_t)c->queue_size;
	cfg.num_ports = c->n;
	cfg.ports = c->pc;
	ret = vb_console_create(&cfg, &c->con);
	if (ret < 0) {
		logf_(VB_LOG_ERR, "console: model: %s", strerror(-ret));
		return ret;
	}
	vb_console_host_attach(c->host, c->con);
	dev->ops = vb_console_device_ops(c->con);
	dev->model = c->con;
	dev->event_fd = vb_console_host_fd(c->host);
	for (uint16_t i = 0; i < c->n; i++) {
		const char *pty = vb_console_host_pty_name(c->host, i);

		logf_(VB_LOG_INFO, "console: port %u%s: %s%s%s%s%s", i, i == 0 ? " (console)" : "",
		      kind_name(c->hp[i].kind), pty ? " " : "", pty ? pty : "",
		      c->hp[i].path ? " " : "", c->hp[i].path ? c->hp[i].path : "");
	}
	logf_(VB_LOG_INFO, "console: %u port%s, %s, %lux%lu", c->n, c->n > 1 ? "s" : "",
	      c->no_multiport ? "single-port" : "multiport", (unsigned long)cfg.cols,
	      (unsigned long)cfg.rows);
	return 0;
}

static int con_event(void *state)
{
	struct con_state *c = state;

	return vb_console_host_dispatch(c->host);
}

static void con_close(void *state)
{
	struct con_state *c = state;

	vb_console_destroy(c->con);
	vb_console_host_close(c->host);
	c->con = NULL;
	c->host = NULL;
	for (uint16_t i = 0; i < c->n; i++) {
		free(c->names[i]);
		free(c->paths[i]);
		c->names[i] = c->paths[i] = NULL;
	}
}

/*
 * SIGHUP: the console (port 0) was resized: read its terminal's size (a pty whose client set
 * it, or stdin) and tell the guest (virtio 1.2, 5.3.6 "Device Operation": console size).
 */
static void con_resize(void *state)
{
	struct con_state *c = state;
	uint16_t cols, rows;
	int ret = vb_console_host_winsize(c->host, 0, &cols, &rows);

	if (ret < 0) {
		logf_(VB_LOG_INFO, "console: resize: port 0 has no terminal size (%s)",
		      strerror(-ret));
		return;
	}
	ret = vb_console_set_size(c->con, cols, rows);
	logf_(ret < 0 ? VB_LOG_WARN : VB_LOG_INFO, "console: resize: %ux%u%s%s", cols, rows,
	      ret < 0 ? ", front-end not told: " : "", ret < 0 ? strerror(-ret) : "");
}

static void con_describe(void *state, const char *what)
{
	struct con_state *c = state;
	struct vb_console_stats st;

	if (!c->con)
		return;
	vb_console_get_stats(c->con, &st);
	logf_(VB_LOG_INFO, "console: %s: %" PRIu64 " bytes out (%" PRIu64 " dropped), %" PRIu64
	      " bytes in, control %" PRIu64 " in (%" PRIu64 " ignored) / %" PRIu64 " out",
	      what, st.tx_bytes, st.tx_dropped, st.rx_bytes, st.ctrl_in, st.ctrl_bad, st.ctrl_out);
}

static struct con_state con_state;

const struct vbd_type vbd_type_console = {
	.name = "console",
	.state = &con_state,
	.summary = "virtio-console ports on stdio, a pty or unix sockets",
	.options_help =
		"  --port SPEC         a port (repeat for more, port 0 is the console):\n"
		"                      stdio | pty | unix:PATH, then optional ,name=NAME\n"
		"                      (a unix port is open while a client is connected)\n"
		"  --cols N --rows N   console size (default: port 0's terminal, or 80x25)\n"
		"  --no-multiport      one port, no control queues (2 queues)\n"
		"  --queue-size N      largest ring size, power of 2 (default 128)\n"
		"  SIGHUP re-reads port 0's terminal size (pty or stdin) and sends it\n"
		"  to the guest\n",
	/* docs/interop/vhost-user.json has no console type. */
	.capabilities = "{\"type\": \"console\"}",
	.options = con_options,
	.option = con_option,
	.open = con_open,
	.event = con_event,
	.close = con_close,
	.describe = con_describe,
	.resize = con_resize,
};
