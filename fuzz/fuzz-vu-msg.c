/* SPDX-License-Identifier: MIT */
/*
 * Fuzz target: the vhost-user back-end (src/transports/vhost-user/: msg.c, mem.c, server.c)
 * fed a stream of front-end messages, with file descriptors, over a real socketpair. The
 * server serves the demo-echo device model (examples/demo-device.c); memory regions come from
 * a memfd whose bytes are the input itself, so rings set up by the messages are popped from
 * fuzzed memory when the eventfds the messages passed are kicked.
 *
 * Input format (integers in host byte order, as on the vhost-user wire):
 *
 *   header, 4 bytes:
 *     0  u8  options   bit 0: the server offers 8 memory slots (else 32); bit 1: after each
 *                      record, kick every eventfd passed so far; bit 2: offer no protocol
 *                      features; bit 3: the device offers packed rings
 *     1  u8  pages     the guest memfd is 1 + pages % 64 pages long
 *     2  u16 reserved
 *   records, until the input ends:
 *     0  u8  fds       bits 0-3: how many fds to attach (0..15; more than 8 is hostile);
 *                      bits 4-5: their kind: 0 the guest memfd, 1 a new eventfd, 2 the read
 *                      end of a pipe (not memory), 3 a new one-page memfd
 *     1  12 bytes      message header: request, flags, size (sent as they are)
 *    13  payload       min(size, 600, what is left) bytes, sent after the header
 *
 * Invariants (an abort is a finding):
 *  - every reply the server sends has version 1, the reply flag, and a payload of at most
 *    VB_VU_HDR_SIZE + 256 bytes;
 *  - the server never maps more regions than its slots;
 *  - after vb_vu_server_free() no guest mapping and no file descriptor is left: every fd the
 *    messages carried was either kept and then closed, or closed at once.
 *
 * @verify{VB-REQ-VU-002} @verify{VB-REQ-VU-003} @verify{VB-REQ-VU-004}
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include "virtio-backend.h"
#include "virtio-backend/transports/vhost-user.h"
#include "../examples/demo-device.h"

#define MEMFD_NAME	"vbt-fuzz-vu"
#define MAX_KICKS	64
#define PAYLOAD_CAP	600u

static void check(int cond, const char *what)
{
	if (!cond) {
		fprintf(stderr, "fuzz-vu-msg: invariant broken: %s\n", what);
		abort();
	}
}

static int count_fds(void)
{
	int n = 0;

	for (int fd = 0; fd < 1024; fd++)
		if (fcntl(fd, F_GETFD) != -1)
			n++;
	return n;
}

static int count_maps(void)
{
	FILE *f = fopen("/proc/self/maps", "r");
	char line[512];
	int n = 0;

	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f))
		if (strstr(line, "memfd:" MEMFD_NAME))
			n++;
	fclose(f);
	return n;
}

/* VBT_FUZZ_LOG=1 shows what the server and the model did (to check that seeds reach the
 * data path). */
static void model_log(void *ctx, const char *line)
{
	(void)ctx;
	fprintf(stderr, "fuzz-vu-msg: model: %s\n", line);
}

static void server_log(void *ctx, enum vb_log_level level, const char *msg)
{
	(void)ctx;
	fprintf(stderr, "fuzz-vu-msg: server %d: %s\n", (int)level, msg);
}

struct ctx {
	int		sock;		/* the front-end end */
	int		memfd;
	int		kicks[MAX_KICKS];
	unsigned int	n_kicks;
	uint8_t		rx[4096];	/* replies, as a byte stream */
	size_t		rx_len;
};

static void send_record(struct ctx *c, const uint8_t *hdr, const uint8_t *payload, size_t len,
			unsigned int fd_spec)
{
	unsigned int n = fd_spec & 15u, kind = (fd_spec >> 4) & 3u;
	int fds[16], keep[16];
	unsigned int n_keep = 0;
	union {
		char b[CMSG_SPACE(sizeof(int) * 16)];
		struct cmsghdr align;
	} ctl;
	uint8_t buf[VB_VU_HDR_SIZE + PAYLOAD_CAP];
	struct iovec iov = { buf, VB_VU_HDR_SIZE + len };
	struct msghdr mh;

	for (unsigned int i = 0; i < n; i++) {
		int p[2];

		switch (kind) {
		case 0:
			fds[i] = dup(c->memfd);
			break;
		case 1:
			fds[i] = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
			if (fds[i] >= 0 && c->n_kicks < MAX_KICKS)
				keep[n_keep++] = fds[i];
			break;
		case 2:
			if (pipe2(p, O_CLOEXEC) == 0) {
				close(p[1]);
				fds[i] = p[0];
			} else {
				fds[i] = -1;
			}
			break;
		default:
			fds[i] = memfd_create(MEMFD_NAME, MFD_CLOEXEC);
			if (fds[i] >= 0 && ftruncate(fds[i], 4096) < 0) {
				close(fds[i]);
				fds[i] = -1;
			}
			break;
		}
		if (fds[i] < 0)
			n = i;	/* out of resources: send what there is */
	}
	memcpy(buf, hdr, VB_VU_HDR_SIZE);
	memcpy(buf + VB_VU_HDR_SIZE, payload, len);
	memset(&mh, 0, sizeof(mh));
	mh.msg_iov = &iov;
	mh.msg_iovlen = 1;
	if (n) {
		struct cmsghdr *cm;

		memset(&ctl, 0, sizeof(ctl));
		mh.msg_control = ctl.b;
		mh.msg_controllen = CMSG_SPACE(sizeof(int) * n);
		cm = CMSG_FIRSTHDR(&mh);
		cm->cmsg_level = SOL_SOCKET;
		cm->cmsg_type = SCM_RIGHTS;
		cm->cmsg_len = CMSG_LEN(sizeof(int) * n);
		memcpy(CMSG_DATA(cm), fds, sizeof(int) * n);
	}
	(void)sendmsg(c->sock, &mh, MSG_NOSIGNAL | MSG_DONTWAIT);
	/* The server holds its own copies now; keep eventfds to kick them later. */
	for (unsigned int i = 0; i < n; i++) {
		bool kept = false;

		for (unsigned int k = 0; k < n_keep; k++)
			kept |= keep[k] == fds[i];
		if (kept && c->n_kicks < MAX_KICKS)
			c->kicks[c->n_kicks++] = fds[i];
		else
			close(fds[i]);
	}
}

/* Read every reply available and check its header. */
static void drain_replies(struct ctx *c)
{
	for (;;) {
		ssize_t n = recv(c->sock, c->rx + c->rx_len, sizeof(c->rx) - c->rx_len,
				 MSG_DONTWAIT);
		size_t off = 0;

		if (n <= 0)
			return;
		c->rx_len += (size_t)n;
		while (c->rx_len - off >= VB_VU_HDR_SIZE) {
			uint32_t flags, size;

			memcpy(&flags, c->rx + off + 4, 4);
			memcpy(&size, c->rx + off + 8, 4);
			check(flags == (VB_VU_VERSION | VB_VU_FLAG_REPLY), "reply header flags");
			check(size <= VB_VU_CONFIG_HDR_SIZE + VB_VU_CONFIG_MAX, "reply size");
			if (c->rx_len - off < VB_VU_HDR_SIZE + size)
				break;
			off += VB_VU_HDR_SIZE + size;
		}
		memmove(c->rx, c->rx + off, c->rx_len - off);
		c->rx_len -= off;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	int fds0;
	struct demo_device model;
	struct vb_vu_config cfg = {
		.version = VB_VU_CONFIG_V1,
		.ops = &demo_device_ops,
	};
	struct vb_device_ops packed_ops = demo_device_ops;
	struct vb_vu_server *s;
	struct vb_vu_stats st;
	struct ctx c;
	uint8_t opts;
	size_t pos = 4, mem_size;
	int sv[2];

	if (size < 4)
		return 0;
	/* Per input: the fuzzing engine may hold files open between inputs. */
	fds0 = count_fds();
	opts = data[0];
	mem_size = 4096u * (1u + data[1] % 64u);
	memset(&c, 0, sizeof(c));
	demo_device_init(&model);
	cfg.priv = &model;
	if (getenv("VBT_FUZZ_LOG")) {
		model.log = model_log;
		cfg.log = server_log;
	}
	cfg.max_mem_slots = (opts & 1) ? 8 : 0;
	cfg.protocol_features = (opts & 4) ? 0 : VB_VU_PROTOCOL_FEATURES_SUPPORTED;
	if (opts & 8) {
		/* Packed rings: their inflight record (SET_INFLIGHT_FD with the guest memfd:
		 * a record of fuzzed bytes) and dirty logging. */
		packed_ops.features |= VB_BIT(VB_VIRTIO_F_RING_PACKED);
		cfg.ops = &packed_ops;
	}
	check(vb_vu_server_new(&cfg, &s) == 0, "server created");
	model.dev = vb_vu_dev(s);
	check(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) == 0, "socketpair");
	check(vb_vu_attach_fd(s, sv[0]) == 0, "attach");
	c.sock = sv[1];
	/* Guest memory: the input's bytes, so rings and buffers are fuzzed too. */
	c.memfd = memfd_create(MEMFD_NAME, MFD_CLOEXEC);
	check(c.memfd >= 0 && ftruncate(c.memfd, (off_t)mem_size) == 0, "memfd");
	for (size_t off = 0; off < mem_size; off += size) {
		size_t n = size < mem_size - off ? size : mem_size - off;

		check(pwrite(c.memfd, data, n, (off_t)off) == (ssize_t)n, "memfd write");
	}

	while (pos + 1 + VB_VU_HDR_SIZE <= size && vb_vu_connected(s)) {
		const uint8_t *hdr = data + pos + 1;
		unsigned int fd_spec = data[pos];
		uint32_t msz;
		size_t len;

		memcpy(&msz, hdr + 8, 4);
		pos += 1 + VB_VU_HDR_SIZE;
		len = msz < PAYLOAD_CAP ? msz : PAYLOAD_CAP;
		if (len > size - pos)
			len = size - pos;
		send_record(&c, hdr, data + pos, len, fd_spec);
		pos += len;
		for (int i = 0; i < 32 && vb_vu_dispatch(s) > 0; i++)
			;
		if (opts & 2) {
			for (unsigned int k = 0; k < c.n_kicks; k++)
				(void)eventfd_write(c.kicks[k], 1);
			for (int i = 0; i < 32 && vb_vu_dispatch(s) > 0; i++)
				;
		}
		drain_replies(&c);
		vb_vu_get_stats(s, &st);
		check(st.mapped_regions <= (cfg.max_mem_slots ? cfg.max_mem_slots :
					    VB_VU_MAX_MEM_SLOTS), "mapped regions within slots");
	}

	vb_vu_server_free(s);
	close(c.sock);
	close(c.memfd);
	for (unsigned int k = 0; k < c.n_kicks; k++)
		close(c.kicks[k]);
	check(count_maps() == 0, "every guest mapping released");
	check(count_fds() == fds0, "every file descriptor closed");
	return 0;
}
