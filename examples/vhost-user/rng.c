/* SPDX-License-Identifier: MIT */
/*
 * vb-vhost-user rng: virtio-rng (entropy) from getrandom(2), or from a file or character
 * device (--file), optionally rate limited (--rate, --period-ms). The daemon's common part
 * is main.c; the rate limiter's timerfd is this device's event fd.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "virtio-backend.h"
#include "virtio-backend/devices/rng.h"

#include "daemon.h"

enum {
	RNG_OPT_FILE = OPT_DEVICE,
	RNG_OPT_RATE,
	RNG_OPT_PERIOD,
	RNG_OPT_QUEUE_SIZE,
};

struct rng_state {
	const char		*file;
	unsigned long		rate;
	unsigned long		period_ms;
	unsigned int		queue_size;
	/* open */
	struct vb_rng_file	*f;
	struct vb_rng		*rng;
};

static const struct option rng_options[] = {
	{ "file", required_argument, NULL, RNG_OPT_FILE },
	{ "rate", required_argument, NULL, RNG_OPT_RATE },
	{ "period-ms", required_argument, NULL, RNG_OPT_PERIOD },
	{ "queue-size", required_argument, NULL, RNG_OPT_QUEUE_SIZE },
	{ NULL, 0, NULL, 0 },
};

static int rng_option(void *state, int key, const char *arg)
{
	struct rng_state *r = state;

	switch (key) {
	case RNG_OPT_FILE:
		r->file = arg;
		return 0;
	case RNG_OPT_RATE:
		return parse_uint("--rate", arg, 1, VB_RNG_RATE_MAX, &r->rate);
	case RNG_OPT_PERIOD:
		return parse_uint("--period-ms", arg, 1, VB_RNG_PERIOD_MS_MAX, &r->period_ms);
	case RNG_OPT_QUEUE_SIZE:
		return parse_queue_size(arg, 32768, &r->queue_size);
	default:
		return -EINVAL;
	}
}

static int rng_open(void *state, struct vbd_device *dev)
{
	struct rng_state *r = state;
	const struct vb_rng_backend_ops *ops = &vb_rng_getrandom_ops;
	struct vb_rng_config cfg;
	void *be = NULL;
	int ret;

	if (r->period_ms && !r->rate) {
		fprintf(stderr, PROG ": --period-ms needs --rate\n");
		return -EINVAL;
	}
	if (r->file) {
		ret = vb_rng_file_open(r->file, &r->f);
		if (ret < 0) {
			logf_(VB_LOG_ERR, "rng: %s: %s", r->file, strerror(-ret));
			return ret;
		}
		ops = &vb_rng_file_ops;
		be = r->f;
	}
	memset(&cfg, 0, sizeof(cfg));
	cfg.version = VB_RNG_CONFIG_V1;
	cfg.queue_num_max = (uint16_t)r->queue_size;
	cfg.rate = r->rate;
	cfg.period_ms = (uint32_t)r->period_ms;
	ret = vb_rng_create(&cfg, ops, be, &r->rng);
	if (ret < 0) {
		logf_(VB_LOG_ERR, "rng: model: %s", strerror(-ret));
		return ret;
	}
	dev->ops = vb_rng_device_ops(r->rng);
	dev->model = r->rng;
	/* Only one fd, so no epoll fd of its own: the timer is polled directly. */
	dev->event_fd = vb_rng_timer_fd(r->rng);
	if (r->rate)
		logf_(VB_LOG_INFO, "rng: %s, at most %lu bytes/s (bucket of %lu ms)",
		      r->file ? r->file : "getrandom", r->rate,
		      r->period_ms ? r->period_ms : (unsigned long)VB_RNG_PERIOD_MS_DEFAULT);
	else
		logf_(VB_LOG_INFO, "rng: %s, no rate limit", r->file ? r->file : "getrandom");
	return 0;
}

/* The rate limiter's timer expired: serve the buffers that waited. */
static int rng_event(void *state)
{
	struct rng_state *r = state;

	return vb_rng_process(r->rng);
}

static void rng_close(void *state)
{
	struct rng_state *r = state;

	vb_rng_destroy(r->rng);
	vb_rng_file_close(r->f);
	r->rng = NULL;
	r->f = NULL;
}

static void rng_describe(void *state, const char *what)
{
	struct rng_state *r = state;
	struct vb_rng_stats st;

	vb_rng_get_stats(r->rng, &st);
	logf_(VB_LOG_INFO, "rng: %s: totals %" PRIu64 " requests, %" PRIu64 " bytes, %" PRIu64
	      " refused (readable buffer), %" PRIu64 " empty, %" PRIu64 " backend errors, %"
	      PRIu64 " throttled", what, st.requests, st.bytes, st.readable, st.empty, st.errors,
	      st.throttled);
}

static struct rng_state rng_state;

const struct vbd_type vbd_type_rng = {
	.name = "rng",
	.state = &rng_state,
	.summary = "virtio-rng entropy from getrandom() or a file/device",
	.options_help =
		"  --file PATH         entropy source (default: getrandom()); a character\n"
		"                      device such as /dev/urandom or /dev/hwrng, or a\n"
		"                      regular file (read in order, starting over at its end)\n"
		"  --rate N            at most N bytes per second (token bucket)\n"
		"  --period-ms N       bucket size as N ms of --rate (default 1000)\n"
		"  --queue-size N      largest ring size, power of 2 (default 256)\n",
	/*
	 * docs/interop/vhost-user.json: "rng" is a VHostUserBackendType, but the
	 * VHostUserBackendCapabilities union has type-specific members only for block, input
	 * and gpu, so an rng back-end's object is the type alone (no "features" list).
	 */
	.capabilities = "{\"type\": \"rng\"}",
	.options = rng_options,
	.option = rng_option,
	.open = rng_open,
	.event = rng_event,
	.close = rng_close,
	.describe = rng_describe,
};
