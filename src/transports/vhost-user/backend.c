/* SPDX-License-Identifier: MIT */
/*
 * vhost-user back-end request channel (vhost-user.rst "Back-end communication", protocol
 * feature BACKEND_REQ): a second socket the front-end hands over with SET_BACKEND_REQ_FD, on
 * which the back-end is the one sending requests: BACKEND_CONFIG_CHANGE_MSG and
 * BACKEND_VRING_HOST_NOTIFIER_MSG (with a file descriptor, BACKEND_SEND_FD).
 *
 * Acknowledgements (REPLY_ACK) are read asynchronously: the channel is one more fd in the
 * server's epoll set, and a reply is consumed whenever it arrives. Waiting for it in place
 * would deadlock with QEMU, which answers a config change by sending GET_CONFIG on the main
 * channel first and acknowledging only once that was answered, and would stall the rings.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "vu-internal.h"

void vbi_vu_backend_init(struct vbi_vu_backend *b)
{
	memset(b, 0, sizeof(*b));
	b->fd = -1;
}

void vbi_vu_backend_close(struct vbi_vu_backend *b)
{
	if (b->fd >= 0)
		close(b->fd);
	vbi_vu_backend_init(b);
}

int vbi_vu_backend_set(struct vbi_vu_backend *b, int fd)
{
	struct stat st;

	/* vhost-user.rst SET_BACKEND_REQ_FD: the fd is a socket (one end of a pair). */
	if (fstat(fd, &st) < 0 || !S_ISSOCK(st.st_mode))
		return -EINVAL;
	vbi_vu_backend_close(b);
	b->fd = fd;
	return 0;
}

int vbi_vu_backend_send_msg(struct vbi_vu_backend *b, uint32_t request, bool need_reply,
			    const void *payload, uint32_t size, int fd)
{
	uint8_t msg[VB_VU_HDR_SIZE + VBI_VU_BACKEND_PAYLOAD_MAX];
	uint32_t flags = VB_VU_VERSION | (need_reply ? VB_VU_FLAG_NEED_REPLY : 0);
	union {
		struct cmsghdr	align;
		char		buf[CMSG_SPACE(sizeof(int))];
	} ctl;
	struct iovec iov;
	struct msghdr mh;
	ssize_t n;

	if (b->fd < 0)
		return -ENOTCONN;
	if (size > VBI_VU_BACKEND_PAYLOAD_MAX)
		return -EINVAL;
	memcpy(msg, &request, 4);
	memcpy(msg + 4, &flags, 4);
	memcpy(msg + 8, &size, 4);
	if (size)
		memcpy(msg + VB_VU_HDR_SIZE, payload, size);
	iov.iov_base = msg;
	iov.iov_len = VB_VU_HDR_SIZE + size;
	memset(&mh, 0, sizeof(mh));
	mh.msg_iov = &iov;
	mh.msg_iovlen = 1;
	if (fd >= 0) {
		/* vhost-user.rst "Back-end communication": with BACKEND_SEND_FD the back-end
		 * passes file descriptors in the ancillary data, as the front-end does. */
		struct cmsghdr *cm;

		memset(&ctl, 0, sizeof(ctl));
		mh.msg_control = ctl.buf;
		mh.msg_controllen = sizeof(ctl.buf);
		cm = CMSG_FIRSTHDR(&mh);
		cm->cmsg_level = SOL_SOCKET;
		cm->cmsg_type = SCM_RIGHTS;
		cm->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(cm), &fd, sizeof(int));
	}
	/* Never blocks: a front-end that stopped reading this channel loses the message (the
	 * device's config generation still changed, so a later read sees the new config). */
	do {
		n = sendmsg(b->fd, &mh, MSG_NOSIGNAL | MSG_DONTWAIT);
	} while (n < 0 && errno == EINTR);
	if (n < 0)
		return -errno;
	if ((size_t)n != iov.iov_len)
		return -EPROTO;	/* a few bytes into a socket buffer: only on a broken peer */
	if (need_reply)
		b->pending++;
	b->sent++;
	return 0;
}

int vbi_vu_backend_send(struct vbi_vu_backend *b, uint32_t request, bool need_reply)
{
	return vbi_vu_backend_send_msg(b, request, need_reply, NULL, 0, -1);
}

int vbi_vu_backend_readable(struct vbi_vu_backend *b, uint64_t *nack)
{
	*nack = 0;
	for (;;) {
		ssize_t n;
		uint32_t flags, size;
		uint64_t v;

		do {
			n = recv(b->fd, b->buf + b->got, sizeof(b->buf) - b->got, MSG_DONTWAIT);
		} while (n < 0 && errno == EINTR);
		if (n == 0)
			return -ECONNRESET;
		if (n < 0)
			return errno == EAGAIN || errno == EWOULDBLOCK ? 0 : -errno;
		b->got += (size_t)n;
		if (b->got < VB_VU_HDR_SIZE)
			continue;
		memcpy(&flags, b->buf + 4, 4);
		memcpy(&size, b->buf + 8, 4);
		/* Only REPLY_ACK replies to our requests travel this way: anything else breaks
		 * the framing (checked on the header, before waiting for a payload). */
		if ((flags & VB_VU_FLAG_VERSION_MASK) != VB_VU_VERSION ||
		    !(flags & VB_VU_FLAG_REPLY) || size != 8 || b->pending == 0)
			return -EPROTO;
		if (b->got < sizeof(b->buf))
			continue;
		b->got = 0;
		memcpy(&v, b->buf + VB_VU_HDR_SIZE, 8);
		b->pending--;
		b->acked++;
		if (v != 0)
			(*nack)++;
	}
}
