/* SPDX-License-Identifier: MIT */
/*
 * vb-vhost-user net: virtio-net on a Linux tap device, or on the loopback (transmitted
 * frames come back on the same queue pair) or sink backend for tests and benchmarks. The
 * daemon's common part is main.c.
 *
 *   vb-vhost-user net --socket-path S --tap NAME | --backend loopback|sink|source [--mac M]
 *                     [--num-queues N] [--mtu N] [--queue-size N] [--frame-len N]
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
#include "virtio-backend/devices/net.h"

#include "daemon.h"

enum {
	NET_OPT_TAP = OPT_DEVICE,
	NET_OPT_BACKEND,
	NET_OPT_MAC,
	NET_OPT_NUM_QUEUES,
	NET_OPT_MTU,
	NET_OPT_QUEUE_SIZE,
	NET_OPT_FRAME_LEN,
};

enum net_backend { NET_BE_NONE, NET_BE_TAP, NET_BE_LOOPBACK, NET_BE_SINK, NET_BE_SOURCE };

struct net_state {
	enum net_backend	backend;
	const char		*tap_name;
	uint8_t			mac[6];
	bool			have_mac;
	unsigned int		pairs;
	unsigned int		mtu;
	unsigned int		queue_size;
	unsigned int		frame_len;
	/* open */
	struct vb_net_tap	*tap;
	struct vb_net_loop	*loop;
	struct vb_net		*net;
};

static const struct option net_options[] = {
	{ "tap", required_argument, NULL, NET_OPT_TAP },
	{ "backend", required_argument, NULL, NET_OPT_BACKEND },
	{ "mac", required_argument, NULL, NET_OPT_MAC },
	{ "num-queues", required_argument, NULL, NET_OPT_NUM_QUEUES },
	{ "mtu", required_argument, NULL, NET_OPT_MTU },
	{ "queue-size", required_argument, NULL, NET_OPT_QUEUE_SIZE },
	{ "frame-len", required_argument, NULL, NET_OPT_FRAME_LEN },
	{ NULL, 0, NULL, 0 },
};

static int parse_mac(const char *arg, uint8_t mac[6])
{
	unsigned int b[6];
	char tail;

	if (sscanf(arg, "%2x:%2x:%2x:%2x:%2x:%2x%c", &b[0], &b[1], &b[2], &b[3], &b[4], &b[5],
		   &tail) != 6)
		return -EINVAL;
	for (int i = 0; i < 6; i++)
		mac[i] = (uint8_t)b[i];
	/* A unicast address (the group bit of the first byte clear). */
	return (mac[0] & 1u) ? -EINVAL : 0;
}

static int net_option(void *state, int key, const char *arg)
{
	struct net_state *n = state;
	unsigned long v;

	switch (key) {
	case NET_OPT_TAP:
		n->backend = NET_BE_TAP;
		n->tap_name = arg;
		return 0;
	case NET_OPT_BACKEND:
		if (!strcmp(arg, "loopback")) {
			n->backend = NET_BE_LOOPBACK;
		} else if (!strcmp(arg, "sink") || !strcmp(arg, "null")) {
			n->backend = NET_BE_SINK;
		} else if (!strcmp(arg, "source")) {
			n->backend = NET_BE_SOURCE;
		} else {
			fprintf(stderr, PROG ": --backend is loopback, sink or source, not '%s' "
				"(a tap: --tap NAME)\n", arg);
			return -EINVAL;
		}
		return 0;
	case NET_OPT_MAC:
		if (parse_mac(arg, n->mac) < 0) {
			fprintf(stderr, PROG ": --mac wants a unicast aa:bb:cc:dd:ee:ff, not '%s'\n",
				arg);
			return -EINVAL;
		}
		n->have_mac = true;
		return 0;
	case NET_OPT_NUM_QUEUES:
		if (parse_uint("--num-queues", arg, 1, VB_NET_MAX_QUEUE_PAIRS, &v) < 0)
			return -EINVAL;
		n->pairs = (unsigned int)v;
		return 0;
	case NET_OPT_MTU:
		if (parse_uint("--mtu", arg, 68, 65535, &v) < 0)
			return -EINVAL;
		n->mtu = (unsigned int)v;
		return 0;
	case NET_OPT_QUEUE_SIZE:
		if (parse_uint("--queue-size", arg, 2, 32768, &v) < 0)
			return -EINVAL;
		if (v & (v - 1)) {
			fprintf(stderr, PROG ": --queue-size must be a power of 2\n");
			return -EINVAL;
		}
		n->queue_size = (unsigned int)v;
		return 0;
	case NET_OPT_FRAME_LEN:
		if (parse_uint("--frame-len", arg, 60, 65535, &v) < 0)
			return -EINVAL;
		n->frame_len = (unsigned int)v;
		return 0;
	default:
		return -EINVAL;
	}
}

static int net_open(void *state, struct vbd_device *dev)
{
	struct net_state *n = state;
	const struct vb_net_backend_ops *ops;
	struct vb_net_config cfg;
	void *be;
	int ret;

	if (n->backend == NET_BE_NONE) {
		fprintf(stderr, PROG ": net needs --tap NAME or --backend loopback|sink "
			"(see --help)\n");
		return -EINVAL;
	}
	if (!n->pairs)
		n->pairs = 1;
	if (n->backend == NET_BE_TAP) {
		ret = vb_net_tap_open(n->tap_name, (uint16_t)n->pairs, &n->tap);
		if (ret < 0) {
			logf_(VB_LOG_ERR, "net: tap %s: %s", n->tap_name, strerror(-ret));
			return ret;
		}
		ops = &vb_net_tap_ops;
		be = n->tap;
		dev->event_fd = vb_net_tap_fd(n->tap);
	} else {
		unsigned int mode = n->backend == NET_BE_SINK ? VB_NET_LOOP_SINK :
				    n->backend == NET_BE_SOURCE ? VB_NET_LOOP_SOURCE :
				    VB_NET_LOOP_LOOPBACK;

		ret = vb_net_loop_create(mode, &n->loop);
		if (ret < 0)
			return ret;
		if (n->frame_len && mode == VB_NET_LOOP_SOURCE)
			vb_net_loop_set_frame_len(n->loop, n->frame_len);
		ops = mode == VB_NET_LOOP_SOURCE ? &vb_net_source_ops : &vb_net_loop_ops;
		be = n->loop;
	}
	memset(&cfg, 0, sizeof(cfg));
	cfg.version = VB_NET_CONFIG_V1;
	if (!n->have_mac) {
		/* A locally administered unicast address of our own. */
		static const uint8_t def[6] = { 0x52, 0x54, 0x00, 0x76, 0x62, 0x01 };

		memcpy(n->mac, def, 6);
	}
	memcpy(cfg.mac, n->mac, 6);
	cfg.num_queue_pairs = (uint16_t)n->pairs;
	cfg.queue_num_max = (uint16_t)(n->queue_size ? n->queue_size : 1024u);
	cfg.mtu = (uint16_t)n->mtu;
	ret = vb_net_create(&cfg, ops, be, &n->net);
	if (ret < 0) {
		logf_(VB_LOG_ERR, "net: model: %s", strerror(-ret));
		return ret;
	}
	if (n->tap)
		vb_net_tap_attach(n->tap, n->net);
	if (n->loop)
		vb_net_loop_attach(n->loop, n->net);
	dev->ops = vb_net_device_ops(n->net);
	dev->model = n->net;
	logf_(VB_LOG_INFO, "net: %s%s, mac %02x:%02x:%02x:%02x:%02x:%02x, %u queue pair%s of %u%s",
	      n->backend == NET_BE_TAP ? "tap " : n->backend == NET_BE_SINK ? "sink" :
	      n->backend == NET_BE_SOURCE ? "source" : "loopback",
	      n->backend == NET_BE_TAP ? n->tap_name : "", n->mac[0], n->mac[1], n->mac[2],
	      n->mac[3], n->mac[4], n->mac[5], n->pairs, n->pairs > 1 ? "s" : "",
	      cfg.queue_num_max, n->mtu ? ", mtu set" : "");
	return 0;
}

static int net_event(void *state)
{
	struct net_state *n = state;

	return n->tap ? vb_net_tap_event(n->tap) : 0;
}

static void net_close(void *state)
{
	struct net_state *n = state;

	vb_net_destroy(n->net);
	vb_net_tap_close(n->tap);
	vb_net_loop_destroy(n->loop);
	n->net = NULL;
	n->tap = NULL;
	n->loop = NULL;
}

static void net_describe(void *state, const char *what)
{
	struct net_state *n = state;
	struct vb_net_stats st;

	if (!n->net)
		return;
	vb_net_get_stats(n->net, &st);
	logf_(VB_LOG_INFO, "net: %s: totals tx %" PRIu64 " frames (%" PRIu64 " bytes, %" PRIu64
	      " errors), rx %" PRIu64 " frames (%" PRIu64 " bytes, %" PRIu64 " buffers, %" PRIu64
	      " dropped, %" PRIu64 " filtered), ctrl %" PRIu64 " ok %" PRIu64 " err", what,
	      st.tx_frames, st.tx_bytes, st.tx_errors, st.rx_frames, st.rx_bytes, st.rx_buffers,
	      st.rx_dropped, st.rx_filtered, st.ctrl_ok, st.ctrl_err);
}

static struct net_state net_state;

const struct vbd_type vbd_type_net = {
	.name = "net",
	.state = &net_state,
	.summary = "virtio-net on a tap device, or a loopback/sink for tests and benchmarks",
	.options_help =
		"  --tap NAME          Linux tap device (created if absent; IFF_VNET_HDR)\n"
		"  --backend B         loopback (frames come back on the same queue pair)\n"
		"                      or sink (frames are dropped) or source (sink, and\n"
		"                      every receive buffer gets a generated frame), instead\n"
		"                      of --tap\n"
		"  --frame-len N       source: frame length, 60..65535 (default 60)\n"
		"  --mac M             MAC address (default 52:54:00:76:62:01)\n"
		"  --num-queues N      queue pairs, 1..64 (default 1); MQ if > 1\n"
		"  --mtu N             offer VIRTIO_NET_F_MTU with this MTU\n"
		"  --queue-size N      largest ring size, power of 2 (default 1024)\n",
	.capabilities = "{\"type\": \"net\"}",
	.options = net_options,
	.option = net_option,
	.open = net_open,
	.event = net_event,
	.close = net_close,
	.describe = net_describe,
};
