/* SPDX-License-Identifier: MIT */
/*
 * The virtio-vsock model (src/devices/vsock/) behind a vb_dev, driven by the split-ring
 * driver simulator in fake guest memory (rx, tx and event queues), against real unix sockets
 * in a temporary directory: guest connections to <uds>_PORT, host clients on <uds> with
 * "CONNECT <port>\n", data both ways, credit, shutdown, RST and hostile headers.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdalign.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <poll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>
#include <cmocka.h>

#include "virtio-backend.h"
#include "virtio-backend/devices/vsock.h"
#include "vbt-mem.h"
#include "vbt-split.h"

#define GUEST_GPA	0x40000000u
#define GUEST_SIZE	(8u << 20)
#define QSZ		64u
#define NRX		48u		/* rx buffers kept posted */
#define RXBUF		(VB_VIRTIO_VSOCK_HDR_LEN + 4096u)
#define CID		42u
#define GPORT		1234u		/* guest's port */
#define HPORT		5000u		/* host listener's port */

struct fx {
	struct vbt_guest	g;
	struct vbt_split	rx, tx, ev;
	struct vb_transport_ops	tops;
	alignas(8) uint8_t	dev_storage[VB_DEV_STORAGE_MAX(3)];
	struct vb_dev		*dev;
	struct vb_vsock		*vs;
	struct vb_vsock_config	cfg;
	char			dir[64];
	char			uds[128];
	char			lpath[160];
	int			lfd;		/* host listener on <uds>_HPORT */
	uint64_t		rxgpa[QSZ];	/* rx buffer by head */
	uint64_t		txbuf;		/* guest buffer for tx packets */
	uint32_t		fwd_cnt;	/* guest's consumed bytes (what it reports) */
	uint32_t		buf_alloc;	/* guest's receive buffer (what it reports) */
	unsigned int		notifies;
	unsigned int		nrx;		/* rx buffers posted by start() */
};

static int t_notify(void *t, uint16_t q)
{
	(void)q;
	((struct fx *)t)->notifies++;
	return 0;
}

static int t_config_changed(void *t)
{
	(void)t;
	return 0;
}

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	snprintf(f->dir, sizeof(f->dir), "/tmp/vb-test-vsock-XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	snprintf(f->uds, sizeof(f->uds), "%s/v.sock", f->dir);
	snprintf(f->lpath, sizeof(f->lpath), "%s_%u", f->uds, HPORT);
	f->lfd = -1;
	f->cfg = (struct vb_vsock_config){ .version = VB_VSOCK_CONFIG_V1, .guest_cid = CID,
					   .uds_path = f->uds, .max_conns = 8,
					   .buf_alloc = 64u * 1024u, .queue_num_max = QSZ };
	f->buf_alloc = 256u * 1024u;
	f->nrx = NRX;
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;

	vb_vsock_destroy(f->vs);
	if (f->lfd >= 0) {
		close(f->lfd);
		unlink(f->lpath);
	}
	if (f->dev)
		vbt_guest_fini(&f->g);
	rmdir(f->dir);
	free(f);
	return 0;
}

static void post_rx(struct fx *f, uint64_t gpa)
{
	struct vbt_buf b = { .gpa = gpa, .len = RXBUF, .write = true };
	uint16_t head = vbt_split_add(&f->rx, &b, 1, false);

	f->rxgpa[head] = gpa;
}

static void queue_on(struct fx *f, uint16_t q, struct vbt_split *r)
{
	struct vb_queue_config qc = { .num = QSZ, .desc = r->desc_gpa, .driver = r->avail_gpa,
				      .device = r->used_gpa };

	assert_int_equal(vb_dev_queue_set_config(f->dev, q, &qc), 0);
	assert_int_equal(vb_dev_queue_enable(f->dev, q, true), 0);
}

/* Model, device, three queues, NRX rx buffers posted, a host listener on <uds>_HPORT. */
static void start(struct fx *f)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	uint8_t st = VB_VIRTIO_S_ACKNOWLEDGE | VB_VIRTIO_S_DRIVER;

	assert_int_equal(vb_vsock_create(&f->cfg, &f->vs), 0);
	assert_int_equal(vbt_guest_init(&f->g, GUEST_GPA, GUEST_SIZE, 0), 0);
	vbt_split_init(&f->rx, &f->g, QSZ);
	vbt_split_init(&f->tx, &f->g, QSZ);
	vbt_split_init(&f->ev, &f->g, QSZ);
	f->tops = (struct vb_transport_ops){ .version = VB_TRANSPORT_OPS_V1, .notify = t_notify,
			     .config_changed = t_config_changed };
	assert_int_equal(vb_dev_init(f->dev_storage, sizeof(f->dev_storage),
				     vb_vsock_device_ops(f->vs), f->vs, &f->tops, f, &f->g.mem,
				     &f->dev), 0);
	assert_int_equal(vb_dev_set_status(f->dev, VB_VIRTIO_S_ACKNOWLEDGE), 0);
	assert_int_equal(vb_dev_set_status(f->dev, st), 0);
	assert_int_equal(vb_dev_set_driver_features(f->dev, vb_dev_get_features(f->dev) &
						    ~VB_BIT(VB_VIRTIO_F_RING_PACKED)), 0);
	st |= VB_VIRTIO_S_FEATURES_OK;
	assert_int_equal(vb_dev_set_status(f->dev, st), 0);
	queue_on(f, VB_VSOCK_QUEUE_RX, &f->rx);
	queue_on(f, VB_VSOCK_QUEUE_TX, &f->tx);
	queue_on(f, VB_VSOCK_QUEUE_EVENT, &f->ev);
	assert_int_equal(vb_dev_set_status(f->dev, st | VB_VIRTIO_S_DRIVER_OK), 0);
	for (unsigned int i = 0; i < f->nrx; i++)
		post_rx(f, vbt_guest_alloc(&f->g, RXBUF, 8));
	f->txbuf = vbt_guest_alloc(&f->g, VB_VIRTIO_VSOCK_HDR_LEN + 128u * 1024u, 8);

	f->lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	assert_true(f->lfd >= 0);
	memcpy(sa.sun_path, f->lpath, strlen(f->lpath) + 1);
	assert_int_equal(bind(f->lfd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(listen(f->lfd, 8), 0);
}

static struct vb_virtio_vsock_hdr mkhdr(struct fx *f, uint16_t op, uint32_t src_port,
					uint32_t dst_port, uint32_t len, uint32_t flags)
{
	struct vb_virtio_vsock_hdr h;

	memset(&h, 0, sizeof(h));
	h.src_cid = vb_cpu_to_le64(CID);
	h.dst_cid = vb_cpu_to_le64(VB_VSOCK_CID_HOST);
	h.src_port = vb_cpu_to_le32(src_port);
	h.dst_port = vb_cpu_to_le32(dst_port);
	h.len = vb_cpu_to_le32(len);
	h.type = vb_cpu_to_le16(VB_VIRTIO_VSOCK_TYPE_STREAM);
	h.op = vb_cpu_to_le16(op);
	h.flags = vb_cpu_to_le32(flags);
	h.buf_alloc = vb_cpu_to_le32(f->buf_alloc);
	h.fwd_cnt = vb_cpu_to_le32(f->fwd_cnt);
	return h;
}

/* The guest sends header h (hdr_len bytes of it) followed by len payload bytes, as two
 * descriptors, and the device takes it. */
static void send_raw(struct fx *f, const void *h, uint32_t hdr_len, const void *data,
		     uint32_t len)
{
	struct vbt_buf b[2] = {
		{ .gpa = f->txbuf, .len = hdr_len },
		{ .gpa = f->txbuf + VB_VIRTIO_VSOCK_HDR_LEN, .len = len },
	};
	uint32_t id, ulen;

	memcpy(vbt_guest_ptr(&f->g, f->txbuf), h, hdr_len);
	if (len)
		memcpy(vbt_guest_ptr(&f->g, b[1].gpa), data, len);
	vbt_split_add(&f->tx, b, len ? 2 : 1, false);
	assert_int_equal(vb_dev_kick(f->dev, VB_VSOCK_QUEUE_TX), 0);
	assert_int_equal(vbt_split_get_used(&f->tx, &id, &ulen), 1);
	assert_int_equal(ulen, 0);
}

static void send_pkt(struct fx *f, uint16_t op, uint32_t src_port, uint32_t dst_port,
		     const void *data, uint32_t len, uint32_t flags)
{
	struct vb_virtio_vsock_hdr h = mkhdr(f, op, src_port, dst_port, len, flags);

	send_raw(f, &h, sizeof(h), data, len);
}

/* The next packet the device put in an rx buffer: 1 and its header (and payload into data,
 * if non-NULL), or 0 if none; the buffer is posted again. */
static int recv_pkt(struct fx *f, struct vb_virtio_vsock_hdr *h, void *data, size_t max)
{
	uint32_t id, len, plen;
	const uint8_t *p;

	if (!vbt_split_get_used(&f->rx, &id, &len))
		return 0;
	assert_true(id < QSZ);
	assert_true(len >= VB_VIRTIO_VSOCK_HDR_LEN);
	p = vbt_guest_ptr(&f->g, f->rxgpa[id]);
	memcpy(h, p, sizeof(*h));
	plen = vb_le32_to_cpu(h->len);
	assert_int_equal(len, VB_VIRTIO_VSOCK_HDR_LEN + plen);
	assert_int_equal(vb_le64_to_cpu(h->src_cid), VB_VSOCK_CID_HOST);
	if (vb_le16_to_cpu(h->op) != VB_VIRTIO_VSOCK_OP_RST)
		assert_int_equal(vb_le64_to_cpu(h->dst_cid), CID);
	if (data) {
		assert_true(plen <= max);
		memcpy(data, p + VB_VIRTIO_VSOCK_HDR_LEN, plen);
	}
	post_rx(f, f->rxgpa[id]);
	return 1;
}

static void expect(struct fx *f, uint16_t op, struct vb_virtio_vsock_hdr *out)
{
	struct vb_virtio_vsock_hdr h;

	assert_int_equal(recv_pkt(f, &h, NULL, 0), 1);
	assert_int_equal(vb_le16_to_cpu(h.op), op);
	if (out)
		*out = h;
}

static void process(struct fx *f)
{
	assert_int_equal(vb_vsock_process(f->vs), 0);
	assert_int_equal(vb_dev_kick(f->dev, VB_VSOCK_QUEUE_RX), 0);
}

/* Guest connects to the host listener; returns the host side of the connection. */
static int guest_open(struct fx *f)
{
	struct vb_virtio_vsock_hdr h;
	int fd;

	send_pkt(f, VB_VIRTIO_VSOCK_OP_REQUEST, GPORT, HPORT, NULL, 0, 0);
	expect(f, VB_VIRTIO_VSOCK_OP_RESPONSE, &h);
	assert_int_equal(vb_le32_to_cpu(h.src_port), HPORT);
	assert_int_equal(vb_le32_to_cpu(h.dst_port), GPORT);
	assert_int_equal(vb_le32_to_cpu(h.buf_alloc), f->cfg.buf_alloc);
	fd = accept4(f->lfd, NULL, NULL, SOCK_CLOEXEC);
	assert_true(fd >= 0);
	return fd;
}

static void read_all(int fd, void *buf, size_t len)
{
	for (size_t got = 0; got < len;) {
		ssize_t n = read(fd, (uint8_t *)buf + got, len - got);

		assert_true(n > 0);
		got += (size_t)n;
	}
}

static uint8_t pat(uint32_t i)
{
	return (uint8_t)(i * 31u + (i >> 8));
}

/* Collect len payload bytes of RW packets from local port lp; returns bytes received. */
static size_t recv_data(struct fx *f, uint32_t lp, uint8_t *out, size_t len)
{
	size_t got = 0;
	struct vb_virtio_vsock_hdr h;
	uint8_t tmp[4096];

	for (int spin = 0; got < len && spin < 1000; spin++) {
		process(f);
		while (got < len && recv_pkt(f, &h, tmp, sizeof(tmp))) {
			uint32_t n = vb_le32_to_cpu(h.len);

			if (vb_le16_to_cpu(h.op) == VB_VIRTIO_VSOCK_OP_CREDIT_UPDATE)
				continue;	/* the device telling its room: fine any time */
			assert_int_equal(vb_le16_to_cpu(h.op), VB_VIRTIO_VSOCK_OP_RW);
			assert_int_equal(vb_le32_to_cpu(h.src_port), lp);
			assert_true(got + n <= len);
			memcpy(out + got, tmp, n);
			got += n;
			f->fwd_cnt += n;
		}
	}
	return got;
}

/* @verify{VB-REQ-VSOCK-003} @verify{VB-REQ-VSOCK-002} config space holds guest_cid;
 * stream is offered, seqpacket not. */
static void test_vsock__config_guest_cid(void **state)
{
	struct fx *f = *state;
	uint64_t cid = 0;

	start(f);
	assert_int_equal(vb_dev_config_read(f->dev, 0, &cid, 8), 0);
	assert_int_equal(vb_le64_to_cpu((vb_le64){ cid }), CID);
	assert_true(vb_dev_get_features(f->dev) & VB_BIT(VB_VIRTIO_VSOCK_F_STREAM));
	assert_false(vb_dev_get_features(f->dev) & VB_BIT(VB_VIRTIO_VSOCK_F_SEQPACKET));
}

/* @verify{VB-REQ-VSOCK-001} bad configurations are refused. */
static void test_vsock__create_rejects_bad_config(void **state)
{
	struct fx *f = *state;
	struct vb_vsock_config c = f->cfg;
	struct vb_vsock *vs = NULL;
	char longp[200];

	c.guest_cid = 2;
	assert_int_equal(vb_vsock_create(&c, &vs), -EINVAL);
	c.guest_cid = UINT32_MAX;
	assert_int_equal(vb_vsock_create(&c, &vs), -EINVAL);
	c = f->cfg;
	c.uds_path = NULL;
	assert_int_equal(vb_vsock_create(&c, &vs), -EINVAL);
	memset(longp, 'a', sizeof(longp) - 1);
	longp[sizeof(longp) - 1] = '\0';
	c.uds_path = longp;
	assert_int_equal(vb_vsock_create(&c, &vs), -EINVAL);
	c = f->cfg;
	c.buf_alloc = 100;
	assert_int_equal(vb_vsock_create(&c, &vs), -EINVAL);
	c = f->cfg;
	c.version = 0;
	assert_int_equal(vb_vsock_create(&c, &vs), -EINVAL);
	assert_null(vs);
}

/* @verify{VB-REQ-VSOCK-010} a guest connection to CID 2 port P reaches <uds>_P; data flows
 * both ways, checked byte by byte. */
static void test_vsock__guest_connect_data(void **state)
{
	struct fx *f = *state;
	static uint8_t out[60000], in[60000];
	struct vb_vsock_stats st;
	int fd;

	start(f);
	fd = guest_open(f);
	for (uint32_t i = 0; i < sizeof(out); i++)
		out[i] = pat(i);
	/* guest -> host in 4 KiB packets */
	for (uint32_t off = 0; off < sizeof(out); off += 4096) {
		uint32_t n = sizeof(out) - off < 4096 ? (uint32_t)(sizeof(out) - off) : 4096u;

		send_pkt(f, VB_VIRTIO_VSOCK_OP_RW, GPORT, HPORT, out + off, n, 0);
	}
	read_all(fd, in, sizeof(in));
	assert_memory_equal(in, out, sizeof(out));
	/* host -> guest */
	assert_int_equal(write(fd, out, sizeof(out)), (ssize_t)sizeof(out));
	memset(in, 0, sizeof(in));
	assert_int_equal(recv_data(f, HPORT, in, sizeof(in)), sizeof(in));
	assert_memory_equal(in, out, sizeof(out));
	vb_vsock_get_stats(f->vs, &st);
	assert_int_equal(st.bytes_to_host, sizeof(out));
	assert_int_equal(st.bytes_to_guest, sizeof(out));
	assert_int_equal(st.conns_guest, 1);
	assert_int_equal(st.bad_packets, 0);
	close(fd);
}

/* @verify{VB-REQ-VSOCK-013} the host writes and closes at once: the guest gets every byte,
 * then SHUTDOWN SEND (no readiness edge follows a hang-up: the device reads on to EOF). */
static void test_vsock__host_data_then_close(void **state)
{
	struct fx *f = *state;
	static uint8_t out[5000], in[5000];
	struct vb_virtio_vsock_hdr h;
	int fd;

	start(f);
	fd = guest_open(f);
	for (uint32_t i = 0; i < sizeof(out); i++)
		out[i] = pat(i + 11);
	assert_int_equal(write(fd, out, sizeof(out)), (ssize_t)sizeof(out));
	close(fd);
	assert_int_equal(recv_data(f, HPORT, in, sizeof(in)), sizeof(in));
	assert_memory_equal(in, out, sizeof(out));
	process(f);
	expect(f, VB_VIRTIO_VSOCK_OP_SHUTDOWN, &h);
	assert_int_equal(vb_le32_to_cpu(h.flags), VB_VIRTIO_VSOCK_SHUTDOWN_F_SEND);
}

/* @verify{VB-REQ-VSOCK-011} no host listener on the port: the REQUEST gets an RST. */
static void test_vsock__guest_connect_refused(void **state)
{
	struct fx *f = *state;
	struct vb_virtio_vsock_hdr h;

	start(f);
	send_pkt(f, VB_VIRTIO_VSOCK_OP_REQUEST, GPORT, HPORT + 1, NULL, 0, 0);
	expect(f, VB_VIRTIO_VSOCK_OP_RST, &h);
	assert_int_equal(vb_le32_to_cpu(h.src_port), HPORT + 1);
	assert_int_equal(vb_le32_to_cpu(h.dst_port), GPORT);
	assert_int_equal(vb_le64_to_cpu(h.dst_cid), CID);
	assert_int_equal(vb_vsock_conns(f->vs), 0);
}

/* Host client: connect to <uds>, send the line. */
static int host_client(struct fx *f, const char *line)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	assert_true(fd >= 0);
	memcpy(sa.sun_path, f->uds, strlen(f->uds) + 1);
	assert_int_equal(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(write(fd, line, strlen(line)), (ssize_t)strlen(line));
	return fd;
}

/* @verify{VB-REQ-VSOCK-012} @verify{VB-REQ-VSOCK-030} a host client's "CONNECT <port>"
 * becomes a REQUEST to the guest; the guest's RESPONSE gives the client "OK <local-port>";
 * data flows both ways, including bytes the client wrote right after its line. */
static void test_vsock__host_connect_data(void **state)
{
	struct fx *f = *state;
	struct vb_virtio_vsock_hdr h;
	char ok[32], want[32];
	uint8_t buf[64];
	uint32_t lp;
	int fd;

	start(f);
	fd = host_client(f, "CONNECT 7000\nearly");
	process(f);
	expect(f, VB_VIRTIO_VSOCK_OP_REQUEST, &h);
	assert_int_equal(vb_le32_to_cpu(h.dst_port), 7000);
	lp = vb_le32_to_cpu(h.src_port);
	assert_true(lp >= 1024);
	send_pkt(f, VB_VIRTIO_VSOCK_OP_RESPONSE, 7000, lp, NULL, 0, 0);
	snprintf(want, sizeof(want), "OK %u\n", lp);
	read_all(fd, ok, strlen(want));
	assert_memory_equal(ok, want, strlen(want));
	assert_int_equal(recv_data(f, lp, buf, 5), 5);
	assert_memory_equal(buf, "early", 5);
	send_pkt(f, VB_VIRTIO_VSOCK_OP_RW, 7000, lp, "hello", 5, 0);
	read_all(fd, buf, 5);
	assert_memory_equal(buf, "hello", 5);
	close(fd);
	/* host EOF: SHUTDOWN SEND to the guest */
	process(f);
	expect(f, VB_VIRTIO_VSOCK_OP_SHUTDOWN, &h);
	assert_int_equal(vb_le32_to_cpu(h.flags), VB_VIRTIO_VSOCK_SHUTDOWN_F_SEND);
}

/* @verify{VB-REQ-VSOCK-030} out of fds, a waiting host client does not make the model's
 * fd readable (no busy loop); once fds are there again it is accepted. */
static void test_vsock__out_of_fds_pauses_listener(void **state)
{
	struct fx *f = *state;
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct pollfd p = { .events = POLLIN };
	struct rlimit old, low;
	int cfd, k;

	start(f);
	cfd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	assert_true(cfd >= 0);
	memcpy(sa.sun_path, f->uds, strlen(f->uds) + 1);
	/* Every fd below k is in use: a limit of k leaves none to accept with. */
	k = dup(0);
	assert_true(k >= 0);
	close(k);
	assert_int_equal(getrlimit(RLIMIT_NOFILE, &old), 0);
	low = old;
	low.rlim_cur = (rlim_t)k;
	assert_int_equal(setrlimit(RLIMIT_NOFILE, &low), 0);
	assert_int_equal(connect(cfd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(write(cfd, "CONNECT 7002\n", 13), 13);
	assert_int_equal(vb_vsock_process(f->vs), 0);
	p.fd = vb_vsock_fd(f->vs);
	assert_int_equal(poll(&p, 1, 0), 0);
	assert_int_equal(setrlimit(RLIMIT_NOFILE, &old), 0);
	process(f);
	expect(f, VB_VIRTIO_VSOCK_OP_REQUEST, NULL);
	close(cfd);
}

/* @verify{VB-REQ-VSOCK-012} the guest refuses (RST): the client is closed without "OK";
 * a malformed line closes the client. */
static void test_vsock__host_connect_refused(void **state)
{
	struct fx *f = *state;
	struct vb_virtio_vsock_hdr h;
	char c;
	int fd;

	start(f);
	fd = host_client(f, "CONNECT 7001\n");
	process(f);
	expect(f, VB_VIRTIO_VSOCK_OP_REQUEST, &h);
	send_pkt(f, VB_VIRTIO_VSOCK_OP_RST, 7001, vb_le32_to_cpu(h.src_port), NULL, 0, 0);
	assert_int_equal(read(fd, &c, 1), 0);
	close(fd);
	assert_int_equal(vb_vsock_conns(f->vs), 0);
	fd = host_client(f, "CONNECT x\n");
	process(f);
	assert_int_equal(read(fd, &c, 1), 0);
	close(fd);
	fd = host_client(f, "CONNECT 99999999999\n");
	process(f);
	assert_int_equal(read(fd, &c, 1), 0);
	close(fd);
	assert_int_equal(recv_pkt(f, &h, NULL, 0), 0);
	assert_int_equal(vb_vsock_conns(f->vs), 0);
}

/* @verify{VB-REQ-VSOCK-020} the device sends no more than the guest's credit and resumes
 * on CREDIT_UPDATE. */
static void test_vsock__credit_limits_host_data(void **state)
{
	struct fx *f = *state;
	static uint8_t out[20000], in[20000];
	int fd;

	start(f);
	f->buf_alloc = 5000;
	fd = guest_open(f);
	for (uint32_t i = 0; i < sizeof(out); i++)
		out[i] = pat(i + 7);
	assert_int_equal(write(fd, out, sizeof(out)), (ssize_t)sizeof(out));
	/* recv_data counts fwd_cnt but the device only learns it from a packet */
	assert_int_equal(recv_data(f, HPORT, in, sizeof(in)), 5000);
	send_pkt(f, VB_VIRTIO_VSOCK_OP_CREDIT_UPDATE, GPORT, HPORT, NULL, 0, 0);
	assert_int_equal(recv_data(f, HPORT, in + 5000, sizeof(in) - 5000), 5000);
	f->buf_alloc = 1u << 20;
	send_pkt(f, VB_VIRTIO_VSOCK_OP_CREDIT_UPDATE, GPORT, HPORT, NULL, 0, 0);
	assert_int_equal(recv_data(f, HPORT, in + 10000, sizeof(in) - 10000), 10000);
	assert_memory_equal(in, out, sizeof(out));
	close(fd);
}

/* @verify{VB-REQ-VSOCK-020} rx buffers with room for a header only carry control packets;
 * with data waiting they come back empty instead of stalling the device; data then flows
 * into proper buffers. */
static void test_vsock__header_only_rx_buffers(void **state)
{
	struct fx *f = *state;
	struct vb_virtio_vsock_hdr h;
	struct vb_vsock_stats st;
	uint8_t in[100];
	uint32_t id, len;
	int fd;

	f->nrx = 0;
	start(f);
	for (unsigned int i = 0; i < 4; i++) {
		struct vbt_buf b = { .len = VB_VIRTIO_VSOCK_HDR_LEN, .write = true };

		b.gpa = vbt_guest_alloc(&f->g, VB_VIRTIO_VSOCK_HDR_LEN, 8);
		f->rxgpa[vbt_split_add(&f->rx, &b, 1, false)] = b.gpa;
	}
	assert_int_equal(vb_dev_kick(f->dev, VB_VSOCK_QUEUE_RX), 0);
	send_pkt(f, VB_VIRTIO_VSOCK_OP_REQUEST, GPORT, HPORT, NULL, 0, 0);
	assert_int_equal(vbt_split_get_used(&f->rx, &id, &len), 1);
	assert_int_equal(len, VB_VIRTIO_VSOCK_HDR_LEN);
	memcpy(&h, vbt_guest_ptr(&f->g, f->rxgpa[id]), sizeof(h));
	assert_int_equal(vb_le16_to_cpu(h.op), VB_VIRTIO_VSOCK_OP_RESPONSE);
	fd = accept4(f->lfd, NULL, NULL, SOCK_CLOEXEC);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "0123456789", 10), 10);
	process(f);	/* returns: no endless retry on the header-only buffers */
	for (unsigned int i = 0; i < 3; i++) {
		assert_int_equal(vbt_split_get_used(&f->rx, &id, &len), 1);
		assert_int_equal(len, 0);
	}
	vb_vsock_get_stats(f->vs, &st);
	assert_int_equal(st.rx_short, 3);
	post_rx(f, vbt_guest_alloc(&f->g, RXBUF, 8));
	assert_int_equal(recv_data(f, HPORT, in, 10), 10);
	assert_memory_equal(in, "0123456789", 10);
	close(fd);
}

/* @verify{VB-REQ-VSOCK-021} the device tells its credit: CREDIT_REQUEST is answered with
 * CREDIT_UPDATE carrying buf_alloc and fwd_cnt; bytes the host socket cannot take wait in
 * the connection's buffer and reach the host in order. */
static void test_vsock__credit_request_and_backlog(void **state)
{
	struct fx *f = *state;
	static uint8_t out[64u * 1024u], in[64u * 1024u];
	struct vb_virtio_vsock_hdr h;
	int fd, small = 4096;
	uint32_t sent = 0;

	start(f);
	fd = guest_open(f);
	send_pkt(f, VB_VIRTIO_VSOCK_OP_CREDIT_REQUEST, GPORT, HPORT, NULL, 0, 0);
	expect(f, VB_VIRTIO_VSOCK_OP_CREDIT_UPDATE, &h);
	assert_int_equal(vb_le32_to_cpu(h.buf_alloc), f->cfg.buf_alloc);
	assert_int_equal(vb_le32_to_cpu(h.fwd_cnt), 0);
	/* A small receive buffer on the host end: the socket fills, the rest is buffered. */
	assert_int_equal(setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &small, sizeof(small)), 0);
	for (uint32_t i = 0; i < sizeof(out); i++)
		out[i] = pat(i + 3);
	while (sent < sizeof(out)) {
		send_pkt(f, VB_VIRTIO_VSOCK_OP_RW, GPORT, HPORT, out + sent, 4096, 0);
		sent += 4096;
	}
	read_all(fd, in, sizeof(in));
	assert_memory_equal(in, out, sizeof(out));
	process(f);
	/* The whole window was consumed: the device tells the guest. */
	while (recv_pkt(f, &h, NULL, 0))
		assert_int_equal(vb_le16_to_cpu(h.op), VB_VIRTIO_VSOCK_OP_CREDIT_UPDATE);
	assert_int_equal(vb_le32_to_cpu(h.fwd_cnt), sizeof(out));
	close(fd);
}

/* @verify{VB-REQ-VSOCK-022} a guest that sends beyond the credit it was given is reset. */
static void test_vsock__credit_violation_rst(void **state)
{
	struct fx *f = *state;
	static uint8_t big[VB_VIRTIO_VSOCK_MAX_PKT_LEN];
	char c;
	int fd;

	f->cfg.buf_alloc = 8192;
	start(f);
	fd = guest_open(f);
	send_pkt(f, VB_VIRTIO_VSOCK_OP_RW, GPORT, HPORT, big, 9000, 0);
	expect(f, VB_VIRTIO_VSOCK_OP_RST, NULL);
	assert_int_equal(read(fd, &c, 1), 0);
	assert_int_equal(vb_vsock_conns(f->vs), 0);
	close(fd);
}

/* @verify{VB-REQ-VSOCK-013} SHUTDOWN SEND closes the host write side after the data; RCV|SEND
 * closes the connection and is answered with RST. */
static void test_vsock__shutdown(void **state)
{
	struct fx *f = *state;
	char buf[8];
	int fd;

	start(f);
	fd = guest_open(f);
	send_pkt(f, VB_VIRTIO_VSOCK_OP_RW, GPORT, HPORT, "abc", 3, 0);
	send_pkt(f, VB_VIRTIO_VSOCK_OP_SHUTDOWN, GPORT, HPORT, NULL, 0,
		 VB_VIRTIO_VSOCK_SHUTDOWN_F_SEND);
	read_all(fd, buf, 3);
	assert_int_equal(read(fd, buf, 1), 0);	/* EOF after the data */
	/* The host can still send. */
	assert_int_equal(write(fd, "xy", 2), 2);
	assert_int_equal(recv_data(f, HPORT, (uint8_t *)buf, 2), 2);
	assert_memory_equal(buf, "xy", 2);
	send_pkt(f, VB_VIRTIO_VSOCK_OP_SHUTDOWN, GPORT, HPORT, NULL, 0,
		 VB_VIRTIO_VSOCK_SHUTDOWN_F_SEND | VB_VIRTIO_VSOCK_SHUTDOWN_F_RECEIVE);
	expect(f, VB_VIRTIO_VSOCK_OP_RST, NULL);
	assert_int_equal(vb_vsock_conns(f->vs), 0);
	assert_true(send(fd, "z", 1, MSG_NOSIGNAL) < 0 || read(fd, buf, 1) == 0);
	close(fd);
}

/* @verify{VB-REQ-VSOCK-014} a guest RST closes the host socket without an answer. */
static void test_vsock__guest_rst_closes(void **state)
{
	struct fx *f = *state;
	struct vb_virtio_vsock_hdr h;
	char c;
	int fd;

	start(f);
	fd = guest_open(f);
	send_pkt(f, VB_VIRTIO_VSOCK_OP_RST, GPORT, HPORT, NULL, 0, 0);
	assert_int_equal(read(fd, &c, 1), 0);
	process(f);
	assert_int_equal(recv_pkt(f, &h, NULL, 0), 0);
	assert_int_equal(vb_vsock_conns(f->vs), 0);
	close(fd);
}

/* Send h and expect exactly one RST back, addressed as a reply to h. */
static void expect_rst_for(struct fx *f, const struct vb_virtio_vsock_hdr *h, const void *data,
			   uint32_t len)
{
	struct vb_virtio_vsock_hdr r;

	send_raw(f, h, sizeof(*h), data, len);
	process(f);
	expect(f, VB_VIRTIO_VSOCK_OP_RST, &r);
	assert_int_equal(vb_le32_to_cpu(r.dst_port), vb_le32_to_cpu(h->src_port));
	assert_int_equal(vb_le32_to_cpu(r.src_port), vb_le32_to_cpu(h->dst_port));
	assert_int_equal(recv_pkt(f, &r, NULL, 0), 0);
}

/* @verify{VB-REQ-VSOCK-050} every header field is checked; bad packets get RST (never an RST
 * for an RST, nothing for a header too short to answer) and the queues keep working. */
static void test_vsock__hostile_headers(void **state)
{
	struct fx *f = *state;
	struct vb_virtio_vsock_hdr h;
	struct vb_vsock_stats st;
	uint8_t data[16] = { 0 };
	int fd;

	start(f);
	fd = guest_open(f);
	h = mkhdr(f, VB_VIRTIO_VSOCK_OP_REQUEST, GPORT + 1, HPORT, 0, 0);
	h.src_cid = vb_cpu_to_le64(CID + 1);		/* spoofed source */
	expect_rst_for(f, &h, NULL, 0);
	h = mkhdr(f, VB_VIRTIO_VSOCK_OP_REQUEST, GPORT + 1, HPORT, 0, 0);
	h.dst_cid = vb_cpu_to_le64(7);			/* not the host */
	expect_rst_for(f, &h, NULL, 0);
	h = mkhdr(f, VB_VIRTIO_VSOCK_OP_REQUEST, GPORT + 1, HPORT, 0, 0);
	h.type = vb_cpu_to_le16(VB_VIRTIO_VSOCK_TYPE_SEQPACKET);
	expect_rst_for(f, &h, NULL, 0);
	h = mkhdr(f, VB_VIRTIO_VSOCK_OP_REQUEST, GPORT + 1, HPORT, 0, 0);
	h.type = vb_cpu_to_le16(77);
	expect_rst_for(f, &h, NULL, 0);
	h = mkhdr(f, VB_VIRTIO_VSOCK_OP_REQUEST, GPORT + 1, HPORT, 16, 0);	/* len on REQUEST */
	expect_rst_for(f, &h, data, 16);
	h = mkhdr(f, VB_VIRTIO_VSOCK_OP_SHUTDOWN, GPORT + 1, HPORT, 0, 4);	/* bad flag */
	expect_rst_for(f, &h, NULL, 0);
	/* Unknown connection. */
	h = mkhdr(f, VB_VIRTIO_VSOCK_OP_RW, GPORT + 1, HPORT, 16, 0);
	expect_rst_for(f, &h, data, 16);
	/* On the open connection: len beyond the buffer, flags on RW, unknown ops. */
	h = mkhdr(f, VB_VIRTIO_VSOCK_OP_RW, GPORT, HPORT, 17, 0);
	expect_rst_for(f, &h, data, 16);
	assert_int_equal(vb_vsock_conns(f->vs), 1);	/* refused before the lookup */
	h = mkhdr(f, VB_VIRTIO_VSOCK_OP_RW, GPORT, HPORT, 16, 1);
	expect_rst_for(f, &h, data, 16);
	h = mkhdr(f, 0x99, GPORT + 2, HPORT, 0, 0);
	expect_rst_for(f, &h, NULL, 0);
	h = mkhdr(f, VB_VIRTIO_VSOCK_OP_INVALID, GPORT, HPORT, 0, 0);
	expect_rst_for(f, &h, NULL, 0);			/* resets the open connection */
	assert_int_equal(vb_vsock_conns(f->vs), 0);
	close(fd);
	/* An RST is never answered; a short header has no addresses to answer to. */
	h = mkhdr(f, VB_VIRTIO_VSOCK_OP_RST, GPORT + 3, HPORT, 0, 0);
	send_raw(f, &h, sizeof(h), NULL, 0);
	send_raw(f, &h, 20, NULL, 0);
	process(f);
	assert_int_equal(recv_pkt(f, &h, NULL, 0), 0);
	vb_vsock_get_stats(f->vs, &st);
	assert_int_equal(st.bad_packets, 10);
	/* Still serving. */
	fd = guest_open(f);
	close(fd);
	assert_int_equal(vb_dev_get_status(f->dev) & VB_VIRTIO_S_NEEDS_RESET, 0);
}

/* @verify{VB-REQ-VSOCK-051} a guest that floods packets without giving rx buffers makes
 * the device stop taking tx buffers (no unbounded queue); rx buffers resume it. */
static void test_vsock__rst_backpressure(void **state)
{
	struct fx *f = *state;
	struct vb_virtio_vsock_hdr h;
	struct vbt_buf b = { .len = VB_VIRTIO_VSOCK_HDR_LEN };
	unsigned int rsts = 0, n = 0, sent = 0;
	uint32_t id, len;
	uint64_t gpa;

	start(f);
	gpa = vbt_guest_alloc(&f->g, 2u * QSZ * sizeof(h), 8);
	/* The test collects no rx buffer: after NRX RSTs the device has nowhere to put more. */
	for (unsigned int round = 0; round < 2; round++) {
		for (unsigned int i = 0; i < QSZ - 1; i++, sent++) {
			h = mkhdr(f, VB_VIRTIO_VSOCK_OP_RW, 2000 + sent, 9, 0, 0);
			b.gpa = gpa + sent * sizeof(h);
			memcpy(vbt_guest_ptr(&f->g, b.gpa), &h, sizeof(h));
			vbt_split_add(&f->tx, &b, 1, false);
		}
		assert_int_equal(vb_dev_kick(f->dev, VB_VSOCK_QUEUE_TX), 0);
		while (vbt_split_get_used(&f->tx, &id, &len))
			n++;
	}
	assert_true(n < sent);	/* stalled with tx buffers left */
	for (int spin = 0; spin < 100 && rsts < sent; spin++) {
		while (recv_pkt(f, &h, NULL, 0)) {
			assert_int_equal(vb_le16_to_cpu(h.op), VB_VIRTIO_VSOCK_OP_RST);
			rsts++;
		}
		process(f);
	}
	assert_int_equal(rsts, sent);
	while (vbt_split_get_used(&f->tx, &id, &len))
		n++;
	assert_int_equal(n, sent);
}

/* @verify{VB-REQ-VSOCK-040} transport reset: connections dropped, TRANSPORT_RESET on the
 * event queue once it has a buffer. */
static void test_vsock__transport_reset_event(void **state)
{
	struct fx *f = *state;
	struct vbt_buf b;
	uint32_t id, len;
	char c;
	int fd;

	start(f);
	fd = guest_open(f);
	vb_vsock_transport_reset(f->vs);
	assert_int_equal(read(fd, &c, 1), 0);
	assert_int_equal(vb_vsock_conns(f->vs), 0);
	assert_int_equal(vbt_split_get_used(&f->ev, &id, &len), 0);
	b = (struct vbt_buf){ .gpa = vbt_guest_alloc(&f->g, 4, 4), .len = 4, .write = true };
	memset(vbt_guest_ptr(&f->g, b.gpa), 0xff, 4);
	vbt_split_add(&f->ev, &b, 1, false);
	assert_int_equal(vb_dev_kick(f->dev, VB_VSOCK_QUEUE_EVENT), 0);
	assert_int_equal(vbt_split_get_used(&f->ev, &id, &len), 1);
	assert_int_equal(len, 4);
	assert_memory_equal(vbt_guest_ptr(&f->g, b.gpa), "\0\0\0\0", 4);
	/* Only one event per reset. */
	vbt_split_add(&f->ev, &b, 1, false);
	assert_int_equal(vb_dev_kick(f->dev, VB_VSOCK_QUEUE_EVENT), 0);
	assert_int_equal(vbt_split_get_used(&f->ev, &id, &len), 0);
	close(fd);
}

/* @verify{VB-REQ-VSOCK-041} a device reset closes every host socket. */
static void test_vsock__device_reset_closes(void **state)
{
	struct fx *f = *state;
	char c;
	int fd;

	start(f);
	fd = guest_open(f);
	vb_dev_reset(f->dev);
	assert_int_equal(read(fd, &c, 1), 0);
	assert_int_equal(vb_vsock_conns(f->vs), 0);
	close(fd);
}

/* @verify{VB-REQ-VSOCK-001} the table is sized at start: one more connection than max_conns
 * is refused with RST. */
static void test_vsock__table_full(void **state)
{
	struct fx *f = *state;
	int fds[8];

	f->cfg.max_conns = 8;
	start(f);
	for (unsigned int i = 0; i < 8; i++) {
		send_pkt(f, VB_VIRTIO_VSOCK_OP_REQUEST, 4000 + i, HPORT, NULL, 0, 0);
		expect(f, VB_VIRTIO_VSOCK_OP_RESPONSE, NULL);
		fds[i] = accept4(f->lfd, NULL, NULL, SOCK_CLOEXEC);
		assert_true(fds[i] >= 0);
	}
	send_pkt(f, VB_VIRTIO_VSOCK_OP_REQUEST, 4100, HPORT, NULL, 0, 0);
	expect(f, VB_VIRTIO_VSOCK_OP_RST, NULL);
	for (unsigned int i = 0; i < 8; i++)
		close(fds[i]);
}

#define T(name) cmocka_unit_test_setup_teardown(test_vsock__##name, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(config_guest_cid),
		T(create_rejects_bad_config),
		T(guest_connect_data),
		T(guest_connect_refused),
		T(host_data_then_close),
		T(host_connect_data),
		T(host_connect_refused),
		T(out_of_fds_pauses_listener),
		T(credit_limits_host_data),
		T(credit_request_and_backlog),
		T(header_only_rx_buffers),
		T(credit_violation_rst),
		T(shutdown),
		T(guest_rst_closes),
		T(hostile_headers),
		T(rst_backpressure),
		T(transport_reset_event),
		T(device_reset_closes),
		T(table_full),
	};

	return cmocka_run_group_tests_name("vsock", tests, NULL, NULL);
}
