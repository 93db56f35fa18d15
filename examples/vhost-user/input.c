/* SPDX-License-Identifier: MIT */
/*
 * vb-vhost-user input: virtio-input from a host evdev device (/dev/input/eventN), or a
 * synthetic keyboard, mouse or tablet whose events come from a script (lines "TYPE CODE
 * VALUE" in decimal, read from a FIFO or stdin as they arrive). The daemon's common part is
 * main.c.
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
#include <unistd.h>

#include "virtio-backend.h"
#include "virtio-backend/devices/input.h"

#include "daemon.h"

enum {
	IN_OPT_EVDEV = OPT_DEVICE,
	IN_OPT_SYNTH,
	IN_OPT_SCRIPT,
	IN_OPT_GRAB,
	IN_OPT_NO_GRAB,
	IN_OPT_QUEUE_SIZE,
};

#define SCRIPT_EVENTS	64u

struct in_state {
	const char		*evdev;
	int			synth;		/* enum vb_input_synth, -1: none */
	const char		*script;
	bool			grab;
	unsigned int		queue_size;
	struct vb_input_info	info;
	struct vb_input_evdev	*ev;
	struct vb_input		*in;
	int			script_fd;
	int			script_hold;	/* write end of the pipe after the script's end */
	char			line[256];
	size_t			line_len;
	uint64_t		script_events, script_bad;
};

static const struct option in_options[] = {
	{ "evdev", required_argument, NULL, IN_OPT_EVDEV },
	{ "evdev-path", required_argument, NULL, IN_OPT_EVDEV },	/* vhost-user.rst */
	{ "synthetic", required_argument, NULL, IN_OPT_SYNTH },
	{ "script", required_argument, NULL, IN_OPT_SCRIPT },
	{ "grab", no_argument, NULL, IN_OPT_GRAB },
	{ "no-grab", no_argument, NULL, IN_OPT_NO_GRAB },
	{ "queue-size", required_argument, NULL, IN_OPT_QUEUE_SIZE },
	{ NULL, 0, NULL, 0 },
};

static int in_option(void *state, int key, const char *arg)
{
	struct in_state *s = state;

	switch (key) {
	case IN_OPT_EVDEV:
		s->evdev = arg;
		return 0;
	case IN_OPT_SYNTH:
		if (!strcmp(arg, "keyboard")) {
			s->synth = VB_INPUT_SYNTH_KEYBOARD;
		} else if (!strcmp(arg, "mouse")) {
			s->synth = VB_INPUT_SYNTH_MOUSE;
		} else if (!strcmp(arg, "tablet")) {
			s->synth = VB_INPUT_SYNTH_TABLET;
		} else {
			fprintf(stderr, PROG ": --synthetic is keyboard, mouse or tablet, not '%s'\n",
				arg);
			return -EINVAL;
		}
		return 0;
	case IN_OPT_SCRIPT:
		s->script = arg;
		return 0;
	case IN_OPT_GRAB:
		s->grab = true;
		return 0;
	case IN_OPT_NO_GRAB:
		s->grab = false;
		return 0;
	case IN_OPT_QUEUE_SIZE:
		return parse_queue_size(arg, 32768, &s->queue_size);
	default:
		return -EINVAL;
	}
}

/* @satisfy{VB-REQ-INPUT-032} */
static int in_open(void *state, struct vbd_device *dev)
{
	struct in_state *s = state;
	struct vb_input_config cfg;
	int ret;

	if (!s->evdev == (s->synth < 0)) {
		fprintf(stderr, PROG ": input needs exactly one of --evdev and --synthetic\n");
		return -EINVAL;
	}
	if (s->script && !(s->synth >= 0)) {
		fprintf(stderr, PROG ": --script goes with --synthetic\n");
		return -EINVAL;
	}
	memset(&cfg, 0, sizeof(cfg));
	cfg.version = VB_INPUT_CONFIG_V1;
	cfg.queue_num_max = (uint16_t)s->queue_size;
	cfg.info = &s->info;
	if (s->evdev) {
		ret = vb_input_evdev_open(s->evdev, s->grab ? VB_INPUT_EVDEV_GRAB : 0, &s->info,
					  &s->ev);
		if (ret < 0) {
			logf_(VB_LOG_ERR, "input: %s: %s", s->evdev, strerror(-ret));
			return ret;
		}
		cfg.ops = &vb_input_evdev_ops;
		cfg.ctx = s->ev;
		dev->event_fd = vb_input_evdev_fd(s->ev);
	} else {
		(void)vb_input_synth_info((enum vb_input_synth)s->synth, &s->info);
		if (s->script) {
			/* O_RDWR: a FIFO keeps a writer (us), so it never reports a hang-up
			 * between the script's writers. */
			/* stdin itself, not a dup: at its end the file must close everywhere
			 * in this process for epoll to forget it (in_event()). */
			s->script_fd = !strcmp(s->script, "-") ? 0 :
				       open(s->script, O_RDWR | O_NONBLOCK | O_CLOEXEC);
			if (s->script_fd < 0) {
				ret = -errno;
				logf_(VB_LOG_ERR, "input: script %s: %s", s->script, strerror(errno));
				return ret;
			}
			(void)fcntl(s->script_fd, F_SETFL, O_NONBLOCK);
			dev->event_fd = s->script_fd;
		}
	}
	ret = vb_input_create(&cfg, &s->in);
	if (ret < 0) {
		logf_(VB_LOG_ERR, "input: model: %s", strerror(-ret));
		return ret;
	}
	if (s->ev)
		vb_input_evdev_attach(s->ev, s->in);
	dev->ops = vb_input_device_ops(s->in);
	dev->model = s->in;
	logf_(VB_LOG_INFO, "input: '%s' (%04x:%04x:%04x)%s%s%s", s->info.name, s->info.bustype,
	      s->info.vendor, s->info.product, s->evdev ? " from " : ", synthetic",
	      s->evdev ? s->evdev : "", s->evdev && s->grab ? ", grabbed" : "");
	return 0;
}

/* Script lines "TYPE CODE VALUE"; '#' starts a comment. Bad lines are counted, skipped. */
static void script_line(struct in_state *s, char *l, struct vb_input_event *ev,
			unsigned int *n)
{
	long t, c, v;
	char *end;

	if (strchr(l, '#'))
		*strchr(l, '#') = '\0';
	while (*l == ' ' || *l == '\t')
		l++;
	if (!*l)
		return;
	t = strtol(l, &end, 0);
	if (end == l)
		goto bad;
	l = end;
	c = strtol(l, &end, 0);
	if (end == l)
		goto bad;
	l = end;
	v = strtol(l, &end, 0);
	if (end == l || t < 0 || t >= VB_INPUT_EV_CNT || c < 0 || c > 0xffff ||
	    v < INT32_MIN || v > INT32_MAX)
		goto bad;
	ev[(*n)++] = (struct vb_input_event){ (uint16_t)t, (uint16_t)c, (uint32_t)v };
	s->script_events++;
	return;
bad:
	s->script_bad++;
}

static int in_event(void *state)
{
	struct in_state *s = state;
	struct vb_input_event ev[SCRIPT_EVENTS];
	unsigned int n = 0;
	ssize_t r;

	if (s->ev) {
		int ret = vb_input_evdev_dispatch(s->ev);

		return ret < 0 ? ret : 0;
	}
	r = read(s->script_fd, s->line + s->line_len, sizeof(s->line) - 1 - s->line_len);
	if (r < 0)
		return errno == EAGAIN || errno == EINTR ? 0 : -errno;
	if (r == 0) {
		/* The script's end (stdin closed; a FIFO never ends, we hold a writer): the
		 * device stays, with no more events. Replacing the fd by a pipe nobody writes
		 * also takes it out of the daemon's epoll set (its file is closed). */
		int p[2];

		logf_(VB_LOG_INFO, "input: script ended");
		if (pipe2(p, O_CLOEXEC | O_NONBLOCK) < 0)
			return -errno;
		(void)dup3(p[0], s->script_fd, O_CLOEXEC);
		close(p[0]);
		s->script_hold = p[1];
		return 0;
	}
	s->line_len += (size_t)r;
	for (;;) {
		char *nl = memchr(s->line, '\n', s->line_len);
		size_t used;

		if (!nl) {
			if (s->line_len == sizeof(s->line) - 1) {
				s->script_bad++;	/* an endless line: drop it */
				s->line_len = 0;
			}
			break;
		}
		*nl = '\0';
		used = (size_t)(nl - s->line) + 1;
		script_line(s, s->line, ev, &n);
		memmove(s->line, nl + 1, s->line_len - used);
		s->line_len -= used;
		if (n == SCRIPT_EVENTS) {
			(void)vb_input_send(s->in, ev, n);
			n = 0;
		}
	}
	if (n)
		(void)vb_input_send(s->in, ev, n);
	return 0;
}

static void in_close(void *state)
{
	struct in_state *s = state;

	vb_input_destroy(s->in);
	vb_input_evdev_close(s->ev);
	if (s->script_fd >= 0)
		close(s->script_fd);
	if (s->script_hold >= 0)
		close(s->script_hold);
	s->script_hold = -1;
	s->in = NULL;
	s->ev = NULL;
	s->script_fd = -1;
}

static void in_describe(void *state, const char *what)
{
	struct in_state *s = state;
	struct vb_input_stats st;

	if (!s->in)
		return;
	vb_input_get_stats(s->in, &st);
	logf_(VB_LOG_INFO, "input: %s: %" PRIu64 " events to the guest (%" PRIu64 " dropped), %"
	      PRIu64 " status events (%" PRIu64 " refused), %" PRIu64 " bad script lines", what,
	      st.events, st.dropped, st.status, st.status_bad, s->script_bad);
}

static struct in_state in_state = { .synth = -1, .script_fd = -1, .script_hold = -1,
				     .grab = true };

const struct vbd_type vbd_type_input = {
	.name = "input",
	.state = &in_state,
	.summary = "virtio-input from an evdev device or a synthetic scripted device",
	.options_help =
		"  --evdev PATH        serve /dev/input/eventN (capabilities from EVIOCG*;\n"
		"                      also --evdev-path); the device is taken from the host\n"
		"                      (EVIOCGRAB) unless --no-grab\n"
		"  --synthetic KIND    keyboard, mouse or tablet, with no host device\n"
		"  --script PATH       with --synthetic: read events as lines \"TYPE CODE\n"
		"                      VALUE\" from a FIFO (or - for stdin) as they come\n"
		"  --queue-size N      largest ring size, power of 2 (default 64)\n",
	/* docs/interop/vhost-user.json: VHostUserBackendCapabilitiesInput. */
	.capabilities = "{\"type\": \"input\", \"features\": [\"evdev-path\", \"no-grab\"]}",
	.options = in_options,
	.option = in_option,
	.open = in_open,
	.event = in_event,
	.close = in_close,
	.describe = in_describe,
};
