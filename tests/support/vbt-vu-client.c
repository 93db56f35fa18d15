/* SPDX-License-Identifier: MIT */
/* Driver-side vhost-user client for tests (see vbt-vu-client.h). */
#define _GNU_SOURCE	/* memfd_create */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "vbt-vu-client.h"

int vbt_vu_client_init(struct vbt_vu_client *c, uint64_t gpa, size_t mem_size)
{
	void *p;
	int ret;

	memset(c, 0, sizeof(*c));
	c->sock = -1;
	c->backend_fd = -1;
	c->timeout_ms = 5000;
	for (unsigned int i = 0; i < VBT_VU_MAX_QUEUES; i++)
		c->vq[i].kick_fd = c->vq[i].call_fd = -1;
	c->memfd = memfd_create(VBT_VU_MEMFD_NAME, MFD_CLOEXEC);
	if (c->memfd < 0)
		return -errno;
	if (ftruncate(c->memfd, (off_t)mem_size) < 0) {
		ret = -errno;
		close(c->memfd);
		return ret;
	}
	p = mmap(NULL, mem_size, PROT_READ | PROT_WRITE, MAP_SHARED, c->memfd, 0);
	if (p == MAP_FAILED) {
		ret = -errno;
		close(c->memfd);
		return ret;
	}
	/* A vbt_guest over the shared mapping, so vbt-split lays rings out in it. */
	c->g.base = p;
	c->g.size = mem_size;
	c->g.gpa = gpa;
	c->g.mapping = NULL;	/* unmapped here, not by vbt_guest_fini() */
	c->g.mapping_len = mem_size;
	return vb_mem_init(&c->g.mem, c->g.regions, VBT_MAX_REGIONS);
}

int vbt_vu_connect(struct vbt_vu_client *c, const char *path)
{
	struct sockaddr_un sa;
	int waited = 0;

	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(sa.sun_path))
		return -EINVAL;
	memcpy(sa.sun_path, path, strlen(path));
	for (;;) {
		int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

		if (fd < 0)
			return -errno;
		if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0) {
			c->sock = fd;
			return 0;
		}
		close(fd);
		if (waited >= c->timeout_ms)
			return -ETIMEDOUT;
		usleep(10000);
		waited += 10;
	}
}

void vbt_vu_disconnect(struct vbt_vu_client *c)
{
	if (c->sock >= 0)
		close(c->sock);
	c->sock = -1;
	if (c->backend_fd >= 0)
		close(c->backend_fd);
	c->backend_fd = -1;
	for (unsigned int i = 0; i < VBT_VU_MAX_QUEUES; i++) {
		if (c->vq[i].kick_fd >= 0)
			close(c->vq[i].kick_fd);
		if (c->vq[i].call_fd >= 0)
			close(c->vq[i].call_fd);
		c->vq[i].kick_fd = c->vq[i].call_fd = -1;
	}
}

void vbt_vu_client_fini(struct vbt_vu_client *c)
{
	vbt_vu_disconnect(c);
	if (c->g.base)
		munmap(c->g.base, c->g.size);
	if (c->memfd >= 0)
		close(c->memfd);
	c->g.base = NULL;
	c->memfd = -1;
}

uint64_t vbt_vu_uva(const struct vbt_vu_client *c, uint64_t gpa)
{
	return VBT_VU_UVA_BASE + (gpa - c->g.gpa);
}

int vbt_vu_send(struct vbt_vu_client *c, uint32_t request, uint32_t flags, const void *payload,
		uint32_t size, const int *fds, unsigned int n_fds)
{
	uint8_t buf[VB_VU_HDR_SIZE + 1024];
	union {
		char b[CMSG_SPACE(sizeof(int) * 16)];
		struct cmsghdr align;
	} ctl;
	struct iovec iov;
	struct msghdr mh;
	ssize_t n;

	if (size > 1024 || n_fds > 16)
		return -EINVAL;
	memcpy(buf, &request, 4);
	memcpy(buf + 4, &flags, 4);
	memcpy(buf + 8, &size, 4);
	if (size)
		memcpy(buf + VB_VU_HDR_SIZE, payload, size);
	iov.iov_base = buf;
	iov.iov_len = VB_VU_HDR_SIZE + size;
	memset(&mh, 0, sizeof(mh));
	mh.msg_iov = &iov;
	mh.msg_iovlen = 1;
	if (n_fds) {
		struct cmsghdr *cm;

		memset(&ctl, 0, sizeof(ctl));
		mh.msg_control = ctl.b;
		mh.msg_controllen = CMSG_SPACE(sizeof(int) * n_fds);
		cm = CMSG_FIRSTHDR(&mh);
		cm->cmsg_level = SOL_SOCKET;
		cm->cmsg_type = SCM_RIGHTS;
		cm->cmsg_len = CMSG_LEN(sizeof(int) * n_fds);
		memcpy(CMSG_DATA(cm), fds, sizeof(int) * n_fds);
	}
	n = sendmsg(c->sock, &mh, MSG_NOSIGNAL);
	if (n < 0)
		return -errno;
	return (size_t)n == iov.iov_len ? 0 : -EIO;
}

static int read_fd(int fd, void *buf, size_t len, int timeout_ms)
{
	size_t got = 0;

	while (got < len) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		ssize_t n;
		int r = poll(&p, 1, timeout_ms);

		if (r == 0)
			return -ETIMEDOUT;
		if (r < 0)
			return -errno;
		n = recv(fd, (uint8_t *)buf + got, len - got, 0);
		if (n == 0)
			return -ECONNRESET;
		if (n < 0)
			return errno == ECONNRESET ? -ECONNRESET : -errno;
		got += (size_t)n;
	}
	return 0;
}

static int read_full(struct vbt_vu_client *c, void *buf, size_t len)
{
	return read_fd(c->sock, buf, len, c->timeout_ms);
}

int vbt_vu_recv(struct vbt_vu_client *c, uint32_t request, void *payload, uint32_t max)
{
	uint32_t hdr[3];
	uint8_t body[1024];
	int ret = read_full(c, hdr, sizeof(hdr));

	if (ret < 0)
		return ret;
	if (hdr[2] > sizeof(body))
		return -EPROTO;
	ret = read_full(c, body, hdr[2]);
	if (ret < 0)
		return ret;
	if (hdr[0] != request || (hdr[1] & 3u) != VB_VU_VERSION || !(hdr[1] & VB_VU_FLAG_REPLY))
		return -EPROTO;
	memcpy(payload, body, hdr[2] < max ? hdr[2] : max);
	return (int)hdr[2];
}

int vbt_vu_request(struct vbt_vu_client *c, uint32_t request, const void *payload,
		   uint32_t size, const int *fds, unsigned int n_fds)
{
	bool ack = (c->protocol & VB_BIT(VB_VU_PROTOCOL_F_REPLY_ACK)) != 0;
	uint64_t v;
	int ret;

	ret = vbt_vu_send(c, request, VB_VU_VERSION | (ack ? VB_VU_FLAG_NEED_REPLY : 0), payload,
			  size, fds, n_fds);
	if (ret < 0 || !ack)
		return ret;
	ret = vbt_vu_recv(c, request, &v, sizeof(v));
	if (ret < 0)
		return ret;
	if (ret != 8)
		return -EPROTO;
	return v ? -(int)(v > 4095 ? EIO : v) : 0;
}

int vbt_vu_set_u64(struct vbt_vu_client *c, uint32_t request, uint64_t v)
{
	return vbt_vu_request(c, request, &v, sizeof(v), NULL, 0);
}

int vbt_vu_get_u64(struct vbt_vu_client *c, uint32_t request, uint64_t *v)
{
	int ret = vbt_vu_send(c, request, VB_VU_VERSION, NULL, 0, NULL, 0);

	if (ret < 0)
		return ret;
	ret = vbt_vu_recv(c, request, v, sizeof(*v));
	if (ret < 0)
		return ret;
	return ret == 8 ? 0 : -EPROTO;
}

int vbt_vu_vring_state(struct vbt_vu_client *c, uint32_t request, uint32_t index,
		       uint32_t num)
{
	struct vb_vu_vring_state st = { index, num };

	return vbt_vu_request(c, request, &st, sizeof(st), NULL, 0);
}

int vbt_vu_negotiate(struct vbt_vu_client *c, uint64_t features, uint64_t protocol,
		     bool with_protocol)
{
	uint64_t offered, poffered = 0;
	int ret;

	ret = vbt_vu_get_u64(c, VB_VU_GET_FEATURES, &offered);
	if (ret < 0)
		return ret;
	if (with_protocol && (offered & VB_BIT(VB_VU_F_PROTOCOL_FEATURES))) {
		ret = vbt_vu_get_u64(c, VB_VU_GET_PROTOCOL_FEATURES, &poffered);
		if (ret < 0)
			return ret;
		ret = vbt_vu_set_u64(c, VB_VU_SET_PROTOCOL_FEATURES, protocol & poffered);
		if (ret < 0)
			return ret;
		c->protocol = protocol & poffered;
	}
	ret = vbt_vu_send(c, VB_VU_SET_OWNER, VB_VU_VERSION, NULL, 0, NULL, 0);
	if (ret < 0)
		return ret;
	c->features = (features & offered) |
		      (with_protocol ? VB_BIT(VB_VU_F_PROTOCOL_FEATURES) : 0);
	return vbt_vu_set_u64(c, VB_VU_SET_FEATURES, c->features);
}

int vbt_vu_set_mem_table(struct vbt_vu_client *c)
{
	struct vb_vu_mem_table t;

	memset(&t, 0, sizeof(t));
	t.num_regions = 1;
	t.regions[0].guest_addr = c->g.gpa;
	t.regions[0].size = c->g.size;
	t.regions[0].user_addr = vbt_vu_uva(c, c->g.gpa);
	t.regions[0].mmap_offset = 0;
	return vbt_vu_request(c, VB_VU_SET_MEM_TABLE, &t, 8u + 32u, &c->memfd, 1);
}

static int new_eventfd(int *slot)
{
	if (*slot >= 0)
		close(*slot);
	*slot = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	return *slot < 0 ? -errno : 0;
}

int vbt_vu_setup_vq_at(struct vbt_vu_client *c, uint16_t q, uint16_t num, uint32_t base,
		       uint64_t desc_gpa, uint64_t driver_gpa, uint64_t device_gpa)
{
	struct vbt_vu_vq *v = &c->vq[q];
	struct vb_vu_vring_addr a;
	int ret;

	if (q >= VBT_VU_MAX_QUEUES)
		return -EINVAL;
	ret = vbt_vu_vring_state(c, VB_VU_SET_VRING_NUM, q, num);
	if (ret == 0)
		ret = vbt_vu_vring_state(c, VB_VU_SET_VRING_BASE, q, base);
	if (ret < 0)
		return ret;
	memset(&a, 0, sizeof(a));
	a.index = q;
	a.desc_user_addr = vbt_vu_uva(c, desc_gpa);
	a.avail_user_addr = vbt_vu_uva(c, driver_gpa);
	a.used_user_addr = vbt_vu_uva(c, device_gpa);
	ret = vbt_vu_request(c, VB_VU_SET_VRING_ADDR, &a, sizeof(a), NULL, 0);
	if (ret < 0)
		return ret;
	ret = new_eventfd(&v->call_fd);
	if (ret == 0)
		ret = vbt_vu_request(c, VB_VU_SET_VRING_CALL, &(uint64_t){ q }, 8, &v->call_fd, 1);
	if (ret == 0)
		ret = new_eventfd(&v->kick_fd);
	if (ret == 0)
		ret = vbt_vu_request(c, VB_VU_SET_VRING_KICK, &(uint64_t){ q }, 8, &v->kick_fd, 1);
	if (ret < 0)
		return ret;
	if (c->features & VB_BIT(VB_VU_F_PROTOCOL_FEATURES))
		ret = vbt_vu_vring_state(c, VB_VU_SET_VRING_ENABLE, q, 1);
	return ret;
}

int vbt_vu_setup_vq(struct vbt_vu_client *c, uint16_t q, uint16_t num, uint16_t base)
{
	struct vbt_vu_vq *v = &c->vq[q];

	if (q >= VBT_VU_MAX_QUEUES)
		return -EINVAL;
	if (!v->set) {
		vbt_split_init(&v->r, &c->g, num);
		v->set = true;
	}
	v->r.avail_idx = v->r.last_used = base;
	return vbt_vu_setup_vq_at(c, q, num, base, v->r.desc_gpa, v->r.avail_gpa,
				  v->r.used_gpa);
}

int vbt_vu_kick(struct vbt_vu_client *c, uint16_t q)
{
	uint64_t one = 1;

	if (q >= VBT_VU_MAX_QUEUES || c->vq[q].kick_fd < 0)
		return -EINVAL;
	return write(c->vq[q].kick_fd, &one, sizeof(one)) == (ssize_t)sizeof(one) ? 0 : -errno;
}

int vbt_vu_wait_call(struct vbt_vu_client *c, uint16_t q, int timeout_ms)
{
	struct pollfd p;
	uint64_t v;
	int r;

	if (q >= VBT_VU_MAX_QUEUES || c->vq[q].call_fd < 0)
		return -EINVAL;
	p.fd = c->vq[q].call_fd;
	p.events = POLLIN;
	r = poll(&p, 1, timeout_ms);
	if (r == 0)
		return -ETIMEDOUT;
	if (r < 0)
		return -errno;
	return read(p.fd, &v, sizeof(v)) == (ssize_t)sizeof(v) ? 0 : -errno;
}

int vbt_vu_get_vring_base(struct vbt_vu_client *c, uint16_t q, uint32_t *num)
{
	struct vb_vu_vring_state st = { q, 0 };
	int ret = vbt_vu_send(c, VB_VU_GET_VRING_BASE, VB_VU_VERSION, &st, sizeof(st), NULL, 0);

	if (ret < 0)
		return ret;
	ret = vbt_vu_recv(c, VB_VU_GET_VRING_BASE, &st, sizeof(st));
	if (ret < 0)
		return ret;
	if (ret != (int)sizeof(st) || st.index != q)
		return -EPROTO;
	*num = st.num;
	return 0;
}

int vbt_vu_get_inflight(struct vbt_vu_client *c, uint16_t nq, uint16_t qsz,
			struct vb_vu_inflight *out, int *fd)
{
	struct vb_vu_inflight in = { .num_queues = nq, .queue_size = qsz };
	uint8_t buf[VB_VU_HDR_SIZE + sizeof(in)];
	union {
		char b[CMSG_SPACE(sizeof(int) * 4)];
		struct cmsghdr align;
	} ctl;
	struct iovec iov = { .iov_base = buf, .iov_len = sizeof(buf) };
	struct msghdr mh;
	struct cmsghdr *cm;
	struct pollfd p = { .fd = c->sock, .events = POLLIN };
	uint32_t hdr[3];
	ssize_t n;
	int ret;

	*fd = -1;
	ret = vbt_vu_send(c, VB_VU_GET_INFLIGHT_FD, VB_VU_VERSION, &in, sizeof(in), NULL, 0);
	if (ret < 0)
		return ret;
	if (poll(&p, 1, c->timeout_ms) != 1)
		return -ETIMEDOUT;
	memset(&mh, 0, sizeof(mh));
	mh.msg_iov = &iov;
	mh.msg_iovlen = 1;
	mh.msg_control = ctl.b;
	mh.msg_controllen = sizeof(ctl.b);
	/* The fd comes with the first byte; the reply is small enough for one read. */
	n = recvmsg(c->sock, &mh, MSG_WAITALL | MSG_CMSG_CLOEXEC);
	if (n == 0)
		return -ECONNRESET;
	if (n < 0)
		return -errno;
	for (cm = CMSG_FIRSTHDR(&mh); cm; cm = CMSG_NXTHDR(&mh, cm))
		if (cm->cmsg_level == SOL_SOCKET && cm->cmsg_type == SCM_RIGHTS &&
		    cm->cmsg_len == CMSG_LEN(sizeof(int)))
			memcpy(fd, CMSG_DATA(cm), sizeof(int));
	memcpy(hdr, buf, sizeof(hdr));
	if (n != (ssize_t)sizeof(buf) || hdr[0] != VB_VU_GET_INFLIGHT_FD ||
	    !(hdr[1] & VB_VU_FLAG_REPLY) || hdr[2] != sizeof(in) || *fd < 0) {
		if (*fd >= 0)
			close(*fd);
		*fd = -1;
		return -EPROTO;
	}
	memcpy(out, buf + VB_VU_HDR_SIZE, sizeof(*out));
	return 0;
}

int vbt_vu_set_inflight(struct vbt_vu_client *c, const struct vb_vu_inflight *in, int fd)
{
	return vbt_vu_request(c, VB_VU_SET_INFLIGHT_FD, in, sizeof(*in), &fd, 1);
}

int vbt_vu_count_guest_maps(void)
{
	FILE *f = fopen("/proc/self/maps", "r");
	char line[512];
	int n = 0;

	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f))
		if (strstr(line, "memfd:" VBT_VU_MEMFD_NAME))
			n++;
	fclose(f);
	return n;
}

int vbt_vu_set_backend_req(struct vbt_vu_client *c)
{
	int sv[2], ret;

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
		return -errno;
	ret = vbt_vu_request(c, VB_VU_SET_BACKEND_REQ_FD, NULL, 0, &sv[1], 1);
	close(sv[1]);
	if (ret < 0) {
		close(sv[0]);
		return ret;
	}
	if (c->backend_fd >= 0)
		close(c->backend_fd);
	c->backend_fd = sv[0];
	return 0;
}

int vbt_vu_backend_recv_msg(struct vbt_vu_client *c, uint32_t *request, uint32_t *flags,
			    void *payload, uint32_t max, uint32_t *size, int *fd, int timeout_ms)
{
	uint32_t hdr[3];
	uint8_t body[1024];
	struct iovec iov = { hdr, sizeof(hdr) };
	union {
		struct cmsghdr	align;
		char		b[CMSG_SPACE(sizeof(int) * VB_VU_MAX_FDS)];
	} ctl;
	struct msghdr mh;
	struct cmsghdr *cm;
	struct pollfd p = { .fd = c->backend_fd, .events = POLLIN };
	ssize_t n;
	int ret, r;

	*fd = -1;
	r = poll(&p, 1, timeout_ms);
	if (r == 0)
		return -ETIMEDOUT;
	if (r < 0)
		return -errno;
	memset(&mh, 0, sizeof(mh));
	mh.msg_iov = &iov;
	mh.msg_iovlen = 1;
	mh.msg_control = ctl.b;
	mh.msg_controllen = sizeof(ctl.b);
	/* File descriptors come with the header's first byte. */
	n = recvmsg(c->backend_fd, &mh, MSG_WAITALL | MSG_CMSG_CLOEXEC);
	if (n == 0)
		return -ECONNRESET;
	if (n < 0)
		return -errno;
	for (cm = CMSG_FIRSTHDR(&mh); cm; cm = CMSG_NXTHDR(&mh, cm)) {
		if (cm->cmsg_level != SOL_SOCKET || cm->cmsg_type != SCM_RIGHTS)
			continue;
		for (size_t i = 0; i * sizeof(int) < cm->cmsg_len - CMSG_LEN(0); i++) {
			int got;

			memcpy(&got, CMSG_DATA(cm) + i * sizeof(int), sizeof(int));
			if (*fd < 0)
				*fd = got;
			else
				close(got);	/* one fd per message is all we expect */
		}
	}
	ret = -EPROTO;
	if (n != (ssize_t)sizeof(hdr) || hdr[2] > sizeof(body) ||
	    (hdr[1] & 3u) != VB_VU_VERSION || (hdr[1] & VB_VU_FLAG_REPLY))
		goto fail;
	ret = read_fd(c->backend_fd, body, hdr[2], timeout_ms);
	if (ret < 0)
		goto fail;
	*request = hdr[0];
	*flags = hdr[1];
	*size = hdr[2];
	memcpy(payload, body, hdr[2] < max ? hdr[2] : max);
	return 0;
fail:
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
	return ret;
}

int vbt_vu_backend_recv(struct vbt_vu_client *c, uint32_t *request, uint32_t *flags,
			int timeout_ms)
{
	uint8_t body[1024];
	uint32_t size;
	int fd, ret;

	ret = vbt_vu_backend_recv_msg(c, request, flags, body, sizeof(body), &size, &fd,
				      timeout_ms);
	if (fd >= 0)
		close(fd);
	return ret;
}

int vbt_vu_backend_ack(struct vbt_vu_client *c, uint32_t request, uint64_t v)
{
	uint8_t buf[VB_VU_HDR_SIZE + 8];
	uint32_t flags = VB_VU_VERSION | VB_VU_FLAG_REPLY, size = 8;
	ssize_t n;

	memcpy(buf, &request, 4);
	memcpy(buf + 4, &flags, 4);
	memcpy(buf + 8, &size, 4);
	memcpy(buf + VB_VU_HDR_SIZE, &v, 8);
	n = send(c->backend_fd, buf, sizeof(buf), MSG_NOSIGNAL);
	if (n < 0)
		return -errno;
	return (size_t)n == sizeof(buf) ? 0 : -EIO;
}
