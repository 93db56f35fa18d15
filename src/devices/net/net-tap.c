/* SPDX-License-Identifier: MIT */
/*
 * Linux tap backend of the virtio-net model: one /dev/net/tun queue per queue pair, opened
 * IFF_TAP | IFF_NO_PI | IFF_VNET_HDR (| IFF_MULTI_QUEUE), with the 12-byte header
 * (TUNSETVNETHDRSZ) so that the virtio-net header crosses unchanged in both directions and
 * offloads are the kernel's business. Transmit: one writev of the frame's iovecs (the
 * checked header copy, then guest memory). Receive: one readv straight into receive chains.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/uio.h>
#include <unistd.h>
#include <linux/if.h>
#include <linux/if_tun.h>

#include "virtio-backend.h"
#include "virtio-backend/devices/net.h"
#include "internal/compiler.h"

struct vb_net_tap {
	struct vb_net	*net;
	int		epfd;
	uint16_t	pairs;
	int		fd[];
};

VB_EXPORT int vb_net_tap_open(const char *name, uint16_t pairs, struct vb_net_tap **out)
{
	struct vb_net_tap *t;
	int ret = 0;

	if (!name || !out || !pairs || pairs > VB_NET_MAX_QUEUE_PAIRS || strlen(name) >= IFNAMSIZ)
		return -EINVAL;
	t = calloc(1, sizeof(*t) + sizeof(int) * pairs);
	if (!t)
		return -ENOMEM;
	t->pairs = pairs;
	for (uint16_t i = 0; i < pairs; i++)
		t->fd[i] = -1;
	t->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (t->epfd < 0)
		ret = -errno;
	for (uint16_t i = 0; i < pairs && ret == 0; i++) {
		struct ifreq ifr;
		int hdr = VB_VIRTIO_NET_HDR_LEN, le = 1;
		struct epoll_event ev = { .events = EPOLLIN, .data.u32 = i };

		t->fd[i] = open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);
		if (t->fd[i] < 0) {
			ret = -errno;
			break;
		}
		memset(&ifr, 0, sizeof(ifr));
		ifr.ifr_flags = IFF_TAP | IFF_NO_PI | IFF_VNET_HDR;
		if (pairs > 1)
			ifr.ifr_flags |= IFF_MULTI_QUEUE;
		memcpy(ifr.ifr_name, name, strlen(name));
		if (ioctl(t->fd[i], TUNSETIFF, &ifr) < 0 ||
		    ioctl(t->fd[i], TUNSETVNETHDRSZ, &hdr) < 0) {
			ret = -errno;
			break;
		}
		/* The virtio 1 header is little-endian whatever the host (a no-op on LE). */
		(void)ioctl(t->fd[i], TUNSETVNETLE, &le);
		/* No offload until the driver negotiates some. */
		if (ioctl(t->fd[i], TUNSETOFFLOAD, 0u) < 0 ||
		    epoll_ctl(t->epfd, EPOLL_CTL_ADD, t->fd[i], &ev) < 0) {
			ret = -errno;
			break;
		}
	}
	if (ret) {
		vb_net_tap_close(t);
		return ret;
	}
	*out = t;
	return 0;
}

VB_EXPORT void vb_net_tap_attach(struct vb_net_tap *t, struct vb_net *net)
{
	t->net = net;
}

VB_EXPORT void vb_net_tap_close(struct vb_net_tap *t)
{
	if (!t)
		return;
	for (uint16_t i = 0; i < t->pairs; i++)
		if (t->fd[i] >= 0)
			close(t->fd[i]);
	if (t->epfd >= 0)
		close(t->epfd);
	free(t);
}

VB_EXPORT int vb_net_tap_fd(const struct vb_net_tap *t)
{
	return t->epfd;
}

VB_EXPORT int vb_net_tap_event(struct vb_net_tap *t)
{
	struct epoll_event ev[VB_NET_MAX_QUEUE_PAIRS];
	int n = epoll_wait(t->epfd, ev, (int)t->pairs, 0);

	if (n < 0)
		return errno == EINTR ? 0 : -errno;
	/* A queue with nowhere to put frames (no buffers, not running) is switched off by the
	 * model through rx_enable() rather than spun on. */
	for (int i = 0; i < n; i++)
		(void)vb_net_rx_poll(t->net, (uint16_t)ev[i].data.u32, 64);
	vb_net_notify(t->net);
	return 0;
}

/* @satisfy{VB-REQ-NET-031} */
static int tap_tx(void *backend, uint16_t qp, const struct vb_net_frame *frames, unsigned int n)
{
	struct vb_net_tap *t = backend;

	for (unsigned int i = 0; i < n; i++) {
		/* struct vb_iov is layout-compatible with struct iovec (src/port/posix/iov.c).
		 * A full tap queue drops the frame, as the kernel does itself. */
		(void)!writev(t->fd[qp], (const struct iovec *)(const void *)frames[i].iov,
			      (int)frames[i].iov_num);
	}
	return (int)n;
}

static int tap_rx(void *backend, uint16_t qp, const struct vb_iov *iov, unsigned int iov_num)
{
	struct vb_net_tap *t = backend;
	ssize_t r = readv(t->fd[qp], (const struct iovec *)(const void *)iov, (int)iov_num);

	if (r < 0)
		return (errno == EAGAIN || errno == EINTR) ? 0 : -errno;
	return r > INT32_MAX ? -EIO : (int)r;
}

static void tap_rx_enable(void *backend, uint16_t qp, bool on)
{
	struct vb_net_tap *t = backend;
	struct epoll_event ev = { .events = on ? EPOLLIN : 0, .data.u32 = qp };

	(void)epoll_ctl(t->epfd, EPOLL_CTL_MOD, t->fd[qp], &ev);
}

/* What the tap may hand the guest: the guest's receive offloads (TUNSETOFFLOAD). */
static int tap_set_offloads(void *backend, uint64_t f)
{
	struct vb_net_tap *t = backend;
	unsigned int off = 0;

	if (f & VB_BIT(VB_VIRTIO_NET_F_GUEST_CSUM))
		off |= TUN_F_CSUM;
	if (f & VB_BIT(VB_VIRTIO_NET_F_GUEST_TSO4))
		off |= TUN_F_TSO4;
	if (f & VB_BIT(VB_VIRTIO_NET_F_GUEST_TSO6))
		off |= TUN_F_TSO6;
	if (f & VB_BIT(VB_VIRTIO_NET_F_GUEST_ECN))
		off |= TUN_F_TSO_ECN;
	for (uint16_t i = 0; i < t->pairs; i++)
		if (ioctl(t->fd[i], TUNSETOFFLOAD, off) < 0)
			return -errno;
	return 0;
}

VB_EXPORT const struct vb_net_backend_ops vb_net_tap_ops = {
	.version = VB_NET_BACKEND_OPS_V1,
	.offloads = VB_BIT(VB_VIRTIO_NET_F_CSUM) | VB_BIT(VB_VIRTIO_NET_F_GUEST_CSUM) |
		    VB_BIT(VB_VIRTIO_NET_F_HOST_TSO4) | VB_BIT(VB_VIRTIO_NET_F_HOST_TSO6) |
		    VB_BIT(VB_VIRTIO_NET_F_HOST_ECN) | VB_BIT(VB_VIRTIO_NET_F_GUEST_TSO4) |
		    VB_BIT(VB_VIRTIO_NET_F_GUEST_TSO6) | VB_BIT(VB_VIRTIO_NET_F_GUEST_ECN),
	.tx = tap_tx,
	.rx = tap_rx,
	.rx_enable = tap_rx_enable,
	.set_offloads = tap_set_offloads,
};
