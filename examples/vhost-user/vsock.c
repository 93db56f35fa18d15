/* SPDX-License-Identifier: MIT */
/*
 * vb-vhost-user vsock: virtio-vsock with the hybrid unix-socket host side of Firecracker and
 * vhost-device-vsock. A guest connection to (CID 2, port P) reaches the unix socket
 * <uds-path>_P; a host client connects to <uds-path>, writes "CONNECT <port>\n", gets
 * "OK <local-port>\n" and then talks to the guest listener on that port.
 *
 * The device has many fds (its listening socket and one per connection): the model keeps
 * them in an epoll fd of its own, which is the one fd the daemon polls for it.
 *
 * QEMU's vhost-user-vsock-pci hands the back-end the rx and tx queues only; it serves the
 * event queue itself (and sends TRANSPORT_RESET after a migration).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "virtio-backend.h"
#include "virtio-backend/devices/vsock.h"
#include "daemon.h"

enum {
	VSOCK_OPT_GUEST_CID = OPT_DEVICE,
	VSOCK_OPT_UDS_PATH,
	VSOCK_OPT_MAX_CONNS,
	VSOCK_OPT_BUF_ALLOC,
	VSOCK_OPT_QUEUE_SIZE,
};

struct vsock_state {
	unsigned long		guest_cid;
	const char		*uds_path;
	unsigned int		max_conns;
	unsigned int		buf_alloc;
	unsigned int		queue_size;
	struct vb_vsock		*vs;
};

static const struct option vsock_options[] = {
	{ "guest-cid", required_argument, NULL, VSOCK_OPT_GUEST_CID },
	{ "uds-path", required_argument, NULL, VSOCK_OPT_UDS_PATH },
	{ "max-conns", required_argument, NULL, VSOCK_OPT_MAX_CONNS },
	{ "buf-alloc", required_argument, NULL, VSOCK_OPT_BUF_ALLOC },
	{ "queue-size", required_argument, NULL, VSOCK_OPT_QUEUE_SIZE },
	{ NULL, 0, NULL, 0 },
};

static int vsock_option(void *state, int key, const char *arg)
{
	struct vsock_state *v = state;
	unsigned long n;

	switch (key) {
	case VSOCK_OPT_GUEST_CID:
		/* virtio 1.2, 5.10.4: 0..2 are reserved; U32_MAX is VMADDR_CID_ANY. */
		return parse_uint("--guest-cid", arg, 3, UINT32_MAX - 1ul, &v->guest_cid);
	case VSOCK_OPT_UDS_PATH:
		if (strlen(arg) == 0 || strlen(arg) > VB_VSOCK_UDS_PATH_MAX) {
			fprintf(stderr, PROG ": --uds-path has 1..%u bytes\n",
				VB_VSOCK_UDS_PATH_MAX);
			return -EINVAL;
		}
		v->uds_path = arg;
		return 0;
	case VSOCK_OPT_MAX_CONNS:
		if (parse_uint("--max-conns", arg, 1, VB_VSOCK_MAX_CONNS_LIMIT, &n) < 0)
			return -EINVAL;
		v->max_conns = (unsigned int)n;
		return 0;
	case VSOCK_OPT_BUF_ALLOC:
		if (parse_uint("--buf-alloc", arg, 4096, 64ul << 20, &n) < 0)
			return -EINVAL;
		v->buf_alloc = (unsigned int)n;
		return 0;
	case VSOCK_OPT_QUEUE_SIZE:
		if (parse_uint("--queue-size", arg, 2, 32768, &n) < 0)
			return -EINVAL;
		if (n & (n - 1)) {
			fprintf(stderr, PROG ": --queue-size must be a power of 2\n");
			return -EINVAL;
		}
		v->queue_size = (unsigned int)n;
		return 0;
	default:
		return -EINVAL;
	}
}

static int vsock_open(void *state, struct vbd_device *dev)
{
	struct vsock_state *v = state;
	struct vb_vsock_config cfg;
	int ret;

	if (!v->guest_cid || !v->uds_path) {
		fprintf(stderr, PROG ": vsock needs --guest-cid N and --uds-path PATH (see --help)\n");
		return -EINVAL;
	}
	memset(&cfg, 0, sizeof(cfg));
	cfg.version = VB_VSOCK_CONFIG_V1;
	cfg.guest_cid = v->guest_cid;
	cfg.uds_path = v->uds_path;
	cfg.max_conns = v->max_conns;
	cfg.buf_alloc = v->buf_alloc;
	cfg.queue_num_max = (uint16_t)v->queue_size;
	ret = vb_vsock_create(&cfg, &v->vs);
	if (ret < 0) {
		logf_(VB_LOG_ERR, "vsock: %s: %s", v->uds_path, strerror(-ret));
		return ret;
	}
	dev->ops = vb_vsock_device_ops(v->vs);
	dev->model = v->vs;
	dev->event_fd = vb_vsock_fd(v->vs);	/* the model's own epoll fd */
	logf_(VB_LOG_INFO, "vsock: guest CID %lu, host clients on %s, guest connections to "
	      "%s_PORT, %u connections of %u bytes", v->guest_cid, v->uds_path, v->uds_path,
	      v->max_conns ? v->max_conns : VB_VSOCK_MAX_CONNS_DEFAULT,
	      v->buf_alloc ? v->buf_alloc : VB_VSOCK_BUF_ALLOC_DEFAULT);
	return 0;
}

static int vsock_event(void *state)
{
	struct vsock_state *v = state;

	return vb_vsock_process(v->vs);
}

static void vsock_close(void *state)
{
	struct vsock_state *v = state;

	vb_vsock_destroy(v->vs);
	v->vs = NULL;
}

static void vsock_describe(void *state, const char *what)
{
	struct vsock_state *v = state;
	struct vb_vsock_stats st;

	vb_vsock_get_stats(v->vs, &st);
	logf_(VB_LOG_INFO, "vsock: %s: %u open, %" PRIu64 " guest / %" PRIu64 " host "
	      "connections, %" PRIu64 " packets in, %" PRIu64 " out, %" PRIu64 " bytes to host, %"
	      PRIu64 " to guest, %" PRIu64 " bad packets, %" PRIu64 " RST sent", what,
	      vb_vsock_conns(v->vs), st.conns_guest, st.conns_host, st.tx_packets, st.rx_packets,
	      st.bytes_to_host, st.bytes_to_guest, st.bad_packets, st.rst_sent);
}

static struct vsock_state vsock_state;

const struct vbd_type vbd_type_vsock = {
	.name = "vsock",
	.state = &vsock_state,
	.summary = "virtio-vsock to host unix sockets (Firecracker's hybrid model)",
	.options_help =
		"  --guest-cid N       the guest's CID, 3..4294967294\n"
		"  --uds-path PATH     host clients connect here and write \"CONNECT <port>\\n\";\n"
		"                      guest connections to port P go to PATH_P\n"
		"  --max-conns N       connections at once (default 128)\n"
		"  --buf-alloc N       per-connection receive buffer, the guest's credit\n"
		"                      (default 262144)\n"
		"  --queue-size N      largest ring size, power of 2 (default 256)\n",
	/* docs/interop/vhost-user.json: "vsock" is a VHostUserBackendType without
	 * type-specific members. */
	.capabilities = "{\"type\": \"vsock\"}",
	.options = vsock_options,
	.option = vsock_option,
	.open = vsock_open,
	.event = vsock_event,
	.close = vsock_close,
	.describe = vsock_describe,
};
