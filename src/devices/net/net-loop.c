/* SPDX-License-Identifier: MIT */
/*
 * Loopback and sink backends of the virtio-net model: no host resource at all. The loopback
 * copies each transmitted frame, header included, into the receive queue of the same pair
 * (one copy, guest memory to guest memory); the sink counts and drops. For tests and for
 * benchmarks of the datapath itself.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "virtio-backend.h"
#include "virtio-backend/devices/net.h"
#include "internal/compiler.h"

#define SOURCE_MAX	65535u

struct vb_net_loop {
	unsigned int	mode;
	struct vb_net	*net;
	uint64_t	frames;
	uint64_t	dropped;
	uint32_t	frame_len;	/* source: header included */
	uint8_t		*frame;		/* source: the header and frame it copies */
};

VB_EXPORT int vb_net_loop_create(unsigned int mode, struct vb_net_loop **out)
{
	struct vb_net_loop *l;

	if (!out || mode > VB_NET_LOOP_SOURCE)
		return -EINVAL;
	l = calloc(1, sizeof(*l));
	if (!l)
		return -ENOMEM;
	l->mode = mode;
	if (mode == VB_NET_LOOP_SOURCE) {
		l->frame = calloc(1, VB_VIRTIO_NET_HDR_LEN + SOURCE_MAX);
		if (!l->frame) {
			free(l);
			return -ENOMEM;
		}
		vb_net_loop_set_frame_len(l, 60);
	}
	*out = l;
	return 0;
}

VB_EXPORT void vb_net_loop_attach(struct vb_net_loop *l, struct vb_net *net)
{
	l->net = net;
}

VB_EXPORT void vb_net_loop_destroy(struct vb_net_loop *l)
{
	if (l)
		free(l->frame);
	free(l);
}

/* A broadcast IPv4/UDP frame of len bytes after a zero virtio-net header (no offloads). */
VB_EXPORT int vb_net_loop_set_frame_len(struct vb_net_loop *l, uint32_t len)
{
	static const uint8_t head[] = {
		0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x52, 0x54, 0x00, 0x76, 0x62, 0xfe,
		0x08, 0x00,				/* Ethernet, IPv4 */
		0x45, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x40, 0x11, 0x00, 0x00,
		10, 0, 0, 1, 10, 0, 0, 2,		/* IPv4, UDP, 10.0.0.1 -> 10.0.0.2 */
		0x04, 0x00, 0x04, 0x01, 0x00, 0x00, 0x00, 0x00,	/* UDP 1024 -> 1025 */
	};
	uint8_t *f;

	if (!l || !l->frame || len < 60u || len > SOURCE_MAX)
		return -EINVAL;
	f = l->frame + VB_VIRTIO_NET_HDR_LEN;
	memset(l->frame, 0, VB_VIRTIO_NET_HDR_LEN + len);
	memcpy(f, head, sizeof(head));
	f[16] = (uint8_t)((len - 14u) >> 8);
	f[17] = (uint8_t)(len - 14u);
	f[38] = (uint8_t)((len - 34u) >> 8);
	f[39] = (uint8_t)(len - 34u);
	l->frame_len = VB_VIRTIO_NET_HDR_LEN + len;
	return 0;
}

VB_EXPORT void vb_net_loop_counts(const struct vb_net_loop *l, uint64_t *frames,
				  uint64_t *dropped)
{
	*frames = l->frames;
	*dropped = l->dropped;
}

/* @satisfy{VB-REQ-NET-030} */
static int loop_tx(void *backend, uint16_t qp, const struct vb_net_frame *frames, unsigned int n)
{
	struct vb_net_loop *l = backend;

	l->frames += n;
	if (l->mode != VB_NET_LOOP_LOOPBACK || !l->net) {
		if (l->mode == VB_NET_LOOP_LOOPBACK)
			l->dropped += n;
		return (int)n;
	}
	/* The model notifies the receive queue once the transmit burst is done. A full
	 * receive queue drops the frame, as a wire would. */
	for (unsigned int i = 0; i < n; i++)
		if (vb_net_rx_copy(l->net, qp, frames[i].iov, frames[i].iov_num) < 0)
			l->dropped++;
	return (int)n;
}

VB_EXPORT const struct vb_net_backend_ops vb_net_loop_ops = {
	.version = VB_NET_BACKEND_OPS_V1,
	/* What goes out comes back: receive offloads match transmit ones pairwise, and a
	 * frame whose offloads the receive side refused is dropped by the model. */
	.offloads = VB_NET_OFFLOAD_FEATURES,
	.tx = loop_tx,
};

/* Source: every receive buffer gets the template frame. */
static int source_rx(void *backend, uint16_t qp, const struct vb_iov *iov, unsigned int n)
{
	struct vb_net_loop *l = backend;
	struct vb_iov_cursor cur;

	(void)qp;
	vb_iov_cursor_init(&cur, iov, n);
	if (vb_iov_cursor_write(&cur, l->frame, l->frame_len) != l->frame_len)
		return -EMSGSIZE;
	return (int)l->frame_len;
}

VB_EXPORT const struct vb_net_backend_ops vb_net_source_ops = {
	.version = VB_NET_BACKEND_OPS_V1,
	.tx = loop_tx,
	.rx = source_rx,
};
