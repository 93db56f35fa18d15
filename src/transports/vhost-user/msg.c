/* SPDX-License-Identifier: MIT */
/*
 * vhost-user message codec and validation (QEMU docs/interop/vhost-user.rst, "Message
 * Specification" and "Front-end message types"). Every size, fd count and field that needs no
 * server state is checked here, before server.c looks at a message.
 */
#define _GNU_SOURCE	/* MSG_CMSG_CLOEXEC */
#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "vu-internal.h"

void vbi_vu_rx_reset(struct vbi_vu_rx *rx)
{
	rx->got = 0;
	rx->msg.request = rx->msg.flags = rx->msg.size = 0;
	rx->msg.n_fds = 0;
}

void vbi_vu_msg_close_fds(struct vbi_vu_msg *m)
{
	for (unsigned int i = 0; i < m->n_fds; i++)
		close(m->fds[i]);
	m->n_fds = 0;
}

/* Take the fds of one recvmsg(); returns -EPROTO if there were more than a message may
 * carry (all of them are closed then, those already collected by the caller's reset). */
static int take_fds(struct vbi_vu_msg *m, struct msghdr *mh)
{
	int ret = 0;

	for (struct cmsghdr *c = CMSG_FIRSTHDR(mh); c; c = CMSG_NXTHDR(mh, c)) {
		size_t n;
		int fds[VB_VU_MAX_FDS];

		if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
			continue;
		n = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		if (n > VB_VU_MAX_FDS)
			n = VB_VU_MAX_FDS;	/* cannot happen: the buffer holds no more */
		memcpy(fds, CMSG_DATA(c), n * sizeof(int));
		for (size_t i = 0; i < n; i++) {
			if (m->n_fds < VB_VU_MAX_FDS) {
				m->fds[m->n_fds++] = fds[i];
			} else {
				close(fds[i]);
				ret = -EPROTO;
			}
		}
	}
	if (mh->msg_flags & MSG_CTRUNC)
		ret = -EPROTO;	/* the kernel dropped fds: the message is incomplete */
	return ret;
}

int vbi_vu_msg_recv(int sock, struct vbi_vu_rx *rx)
{
	struct vbi_vu_msg *m = &rx->msg;
	uint8_t hdr[VB_VU_HDR_SIZE];

	for (;;) {
		union {
			char buf[CMSG_SPACE(sizeof(int) * VB_VU_MAX_FDS)];
			struct cmsghdr align;
		} ctl;
		struct iovec iov;
		struct msghdr mh;
		ssize_t n;
		int ret;

		if (rx->got < VB_VU_HDR_SIZE) {
			/* Header bytes go to a staging copy of the wire layout. */
			memcpy(hdr, &m->request, 4);
			memcpy(hdr + 4, &m->flags, 4);
			memcpy(hdr + 8, &m->size, 4);
			iov.iov_base = hdr + rx->got;
			iov.iov_len = VB_VU_HDR_SIZE - rx->got;
		} else {
			size_t off = rx->got - VB_VU_HDR_SIZE;

			if (off == m->size)
				return 1;
			iov.iov_base = m->payload.raw + off;
			iov.iov_len = m->size - off;
		}
		memset(&mh, 0, sizeof(mh));
		mh.msg_iov = &iov;
		mh.msg_iovlen = 1;
		mh.msg_control = ctl.buf;
		mh.msg_controllen = sizeof(ctl.buf);
		n = recvmsg(sock, &mh, MSG_CMSG_CLOEXEC | MSG_DONTWAIT);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				return 0;
			return -errno;
		}
		ret = take_fds(m, &mh);
		if (ret < 0)
			return ret;
		if (n == 0)
			return -ECONNRESET;
		if (rx->got < VB_VU_HDR_SIZE) {
			rx->got += (size_t)n;
			memcpy(&m->request, hdr, 4);
			memcpy(&m->flags, hdr + 4, 4);
			memcpy(&m->size, hdr + 8, 4);
			if (rx->got < VB_VU_HDR_SIZE)
				continue;
			/* vhost-user.rst "Header": version 0x1 in bits 0-1; a front-end never
			 * sends a reply. Neither can be skipped over safely. */
			if ((m->flags & VB_VU_FLAG_VERSION_MASK) != VB_VU_VERSION ||
			    (m->flags & VB_VU_FLAG_REPLY))
				return -EPROTO;
			/* A size beyond the largest valid payload cannot be resynchronised:
			 * reading it would mean trusting the peer's length. */
			if (m->size > VBI_VU_PAYLOAD_MAX)
				return -EPROTO;
			memset(m->payload.raw, 0, sizeof(m->payload.raw));
		} else {
			rx->got += (size_t)n;
		}
	}
}

static bool region_ok(const struct vb_vu_mem_region *r)
{
	/* No range may wrap 64 bits; a zero-sized region describes nothing. */
	return r->size != 0 && r->guest_addr <= UINT64_MAX - (r->size - 1) &&
	       r->user_addr <= UINT64_MAX - (r->size - 1) &&
	       r->mmap_offset <= UINT64_MAX - (r->size - 1);
}

static int check_size(const struct vbi_vu_msg *m, uint32_t size, unsigned int fds)
{
	return m->size == size && m->n_fds == fds ? 0 : -EINVAL;
}

static int check_state(const struct vbi_vu_msg *m, const struct vbi_vu_limits *lim)
{
	if (check_size(m, sizeof(struct vb_vu_vring_state), 0) < 0)
		return -EINVAL;
	return m->payload.state.index < lim->num_queues ? 0 : -EINVAL;
}

int vbi_vu_msg_check(const struct vbi_vu_msg *m, const struct vbi_vu_limits *lim)
{
	switch (m->request) {
	case VB_VU_GET_FEATURES:
	case VB_VU_GET_PROTOCOL_FEATURES:
	case VB_VU_SET_OWNER:
	case VB_VU_RESET_OWNER:
	case VB_VU_GET_QUEUE_NUM:
	case VB_VU_RESET_DEVICE:
	case VB_VU_GET_MAX_MEM_SLOTS:
	case VB_VU_GET_STATUS:
		return check_size(m, 0, 0);
	case VB_VU_SET_FEATURES:
	case VB_VU_SET_PROTOCOL_FEATURES:
	case VB_VU_SET_STATUS:
		if (check_size(m, 8, 0) < 0)
			return -EINVAL;
		/* The status is one byte (virtio 1.2, 2.1 "Device Status Field"). */
		if (m->request == VB_VU_SET_STATUS && m->payload.u64 > 0xff)
			return -EINVAL;
		return 0;
	case VB_VU_SET_MEM_TABLE: {
		uint32_t n = m->payload.table.num_regions;

		if (m->size < 8 || n > VB_VU_MEM_TABLE_MAX ||
		    check_size(m, 8u + n * (uint32_t)sizeof(struct vb_vu_mem_region), n) < 0)
			return -EINVAL;
		for (uint32_t i = 0; i < n; i++)
			if (!region_ok(&m->payload.table.regions[i]))
				return -EINVAL;
		return 0;
	}
	case VB_VU_ADD_MEM_REG:
		if (check_size(m, sizeof(struct vb_vu_mem_reg), 1) < 0)
			return -EINVAL;
		return region_ok(&m->payload.reg.region) ? 0 : -EINVAL;
	case VB_VU_REM_MEM_REG:
		/* Some front-ends pass the region's fd again; it is closed unused. */
		if (m->size != sizeof(struct vb_vu_mem_reg) || m->n_fds > 1)
			return -EINVAL;
		return region_ok(&m->payload.reg.region) ? 0 : -EINVAL;
	case VB_VU_SET_VRING_NUM:
	case VB_VU_SET_VRING_BASE:
	case VB_VU_GET_VRING_BASE:
		return check_state(m, lim);
	case VB_VU_SET_VRING_ENABLE:
		if (check_state(m, lim) < 0)
			return -EINVAL;
		return m->payload.state.num <= 1 ? 0 : -EINVAL;
	case VB_VU_SET_VRING_ADDR:
		if (check_size(m, sizeof(struct vb_vu_vring_addr), 0) < 0)
			return -EINVAL;
		if (m->payload.addr.index >= lim->num_queues ||
		    (m->payload.addr.flags & ~VB_VU_VRING_F_LOG))
			return -EINVAL;
		return 0;
	case VB_VU_SET_VRING_KICK:
	case VB_VU_SET_VRING_CALL:
	case VB_VU_SET_VRING_ERR: {
		uint64_t v = m->payload.u64;
		bool nofd = (v & VB_VU_VRING_NOFD) != 0;

		/* vhost-user.rst SET_VRING_KICK: bits 0-7 the index, bit 8 "no fd"; the
		 * other bits are not defined. */
		if (check_size(m, 8, nofd ? 0 : 1) < 0)
			return -EINVAL;
		if ((v & ~(uint64_t)(VB_VU_VRING_IDX_MASK | VB_VU_VRING_NOFD)) ||
		    (v & VB_VU_VRING_IDX_MASK) >= lim->num_queues)
			return -EINVAL;
		return 0;
	}
	case VB_VU_SET_LOG_BASE:
		/* vhost-user.rst SET_LOG_BASE: the log description and the log's fd. */
		return check_size(m, sizeof(struct vb_vu_log), 1);
	case VB_VU_SET_LOG_FD:
		/* An fd to signal when the log changed; no payload (some send a u64). */
		return (m->size == 0 || m->size == 8) && m->n_fds == 1 ? 0 : -EINVAL;
	case VB_VU_GET_INFLIGHT_FD:
	case VB_VU_SET_INFLIGHT_FD:
		/* Sizes and queue counts need the server's state: checked there. */
		return check_size(m, sizeof(struct vb_vu_inflight),
				  m->request == VB_VU_SET_INFLIGHT_FD ? 1 : 0);
	case VB_VU_SET_BACKEND_REQ_FD:
		/* QEMU sends no payload; a u64 some front-ends add is ignored. */
		if (m->n_fds != 1 || (m->size != 0 && m->size != 8))
			return -EINVAL;
		return 0;
	case VB_VU_GET_CONFIG:
	case VB_VU_SET_CONFIG:
		if (m->n_fds != 0 || m->size < VB_VU_CONFIG_HDR_SIZE ||
		    m->payload.config.size > VB_VU_CONFIG_MAX ||
		    m->size != VB_VU_CONFIG_HDR_SIZE + m->payload.config.size)
			return -EINVAL;
		return 0;
	default:
		return -ENOTSUP;
	}
}

bool vbi_vu_msg_has_reply(uint32_t request)
{
	switch (request) {
	case VB_VU_GET_FEATURES:
	case VB_VU_GET_PROTOCOL_FEATURES:
	case VB_VU_GET_VRING_BASE:
	case VB_VU_GET_QUEUE_NUM:
	case VB_VU_GET_CONFIG:
	case VB_VU_GET_MAX_MEM_SLOTS:
	case VB_VU_GET_STATUS:
	case VB_VU_SET_LOG_BASE:
	case VB_VU_GET_INFLIGHT_FD:
		return true;
	default:
		return false;
	}
}

const char *vbi_vu_msg_name(uint32_t request)
{
	static const char *const names[] = {
		[VB_VU_GET_FEATURES] = "GET_FEATURES",
		[VB_VU_SET_FEATURES] = "SET_FEATURES",
		[VB_VU_SET_OWNER] = "SET_OWNER",
		[VB_VU_RESET_OWNER] = "RESET_OWNER",
		[VB_VU_SET_MEM_TABLE] = "SET_MEM_TABLE",
		[VB_VU_SET_LOG_BASE] = "SET_LOG_BASE",
		[VB_VU_SET_LOG_FD] = "SET_LOG_FD",
		[VB_VU_SET_VRING_NUM] = "SET_VRING_NUM",
		[VB_VU_SET_VRING_ADDR] = "SET_VRING_ADDR",
		[VB_VU_SET_VRING_BASE] = "SET_VRING_BASE",
		[VB_VU_GET_VRING_BASE] = "GET_VRING_BASE",
		[VB_VU_SET_VRING_KICK] = "SET_VRING_KICK",
		[VB_VU_SET_VRING_CALL] = "SET_VRING_CALL",
		[VB_VU_SET_VRING_ERR] = "SET_VRING_ERR",
		[VB_VU_GET_PROTOCOL_FEATURES] = "GET_PROTOCOL_FEATURES",
		[VB_VU_SET_PROTOCOL_FEATURES] = "SET_PROTOCOL_FEATURES",
		[VB_VU_GET_QUEUE_NUM] = "GET_QUEUE_NUM",
		[VB_VU_SET_VRING_ENABLE] = "SET_VRING_ENABLE",
		[VB_VU_SEND_RARP] = "SEND_RARP",
		[VB_VU_NET_SET_MTU] = "NET_SET_MTU",
		[VB_VU_SET_BACKEND_REQ_FD] = "SET_BACKEND_REQ_FD",
		[VB_VU_IOTLB_MSG] = "IOTLB_MSG",
		[VB_VU_SET_VRING_ENDIAN] = "SET_VRING_ENDIAN",
		[VB_VU_GET_CONFIG] = "GET_CONFIG",
		[VB_VU_SET_CONFIG] = "SET_CONFIG",
		[VB_VU_GET_INFLIGHT_FD] = "GET_INFLIGHT_FD",
		[VB_VU_SET_INFLIGHT_FD] = "SET_INFLIGHT_FD",
		[VB_VU_RESET_DEVICE] = "RESET_DEVICE",
		[VB_VU_VRING_KICK] = "VRING_KICK",
		[VB_VU_GET_MAX_MEM_SLOTS] = "GET_MAX_MEM_SLOTS",
		[VB_VU_ADD_MEM_REG] = "ADD_MEM_REG",
		[VB_VU_REM_MEM_REG] = "REM_MEM_REG",
		[VB_VU_SET_STATUS] = "SET_STATUS",
		[VB_VU_GET_STATUS] = "GET_STATUS",
	};

	if (request < sizeof(names) / sizeof(names[0]) && names[request])
		return names[request];
	return "UNKNOWN";
}

int vbi_vu_msg_reply(int sock, uint32_t request, const void *payload, uint32_t size)
{
	return vbi_vu_msg_reply_fd(sock, request, payload, size, -1);
}

int vbi_vu_msg_reply_fd(int sock, uint32_t request, const void *payload, uint32_t size,
			int fd)
{
	uint8_t buf[VB_VU_HDR_SIZE + VBI_VU_PAYLOAD_MAX];
	uint32_t flags = VB_VU_VERSION | VB_VU_FLAG_REPLY;
	size_t len = VB_VU_HDR_SIZE + size, off = 0;

	if (size > VBI_VU_PAYLOAD_MAX)
		return -EINVAL;
	memcpy(buf, &request, 4);
	memcpy(buf + 4, &flags, 4);
	memcpy(buf + 8, &size, 4);
	if (size)
		memcpy(buf + VB_VU_HDR_SIZE, payload, size);
	if (fd >= 0) {
		/* The fd travels with the first byte; the rest, if any, follows below. */
		union {
			char b[CMSG_SPACE(sizeof(int))];
			struct cmsghdr align;
		} ctl;
		struct iovec iov = { .iov_base = buf, .iov_len = len };
		struct msghdr mh;
		struct cmsghdr *cm;
		ssize_t n;

		memset(&mh, 0, sizeof(mh));
		memset(&ctl, 0, sizeof(ctl));
		mh.msg_iov = &iov;
		mh.msg_iovlen = 1;
		mh.msg_control = ctl.b;
		mh.msg_controllen = sizeof(ctl.b);
		cm = CMSG_FIRSTHDR(&mh);
		cm->cmsg_level = SOL_SOCKET;
		cm->cmsg_type = SCM_RIGHTS;
		cm->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(cm), &fd, sizeof(int));
		do {
			n = sendmsg(sock, &mh, MSG_NOSIGNAL | MSG_DONTWAIT);
		} while (n < 0 && errno == EINTR);
		if (n < 0)
			return -errno;
		off = (size_t)n;
	}
	while (off < len) {
		/* MSG_NOSIGNAL: a front-end that went away must not kill the daemon. */
		ssize_t n = send(sock, buf + off, len - off, MSG_NOSIGNAL | MSG_DONTWAIT);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		off += (size_t)n;
	}
	return 0;
}
