/* SPDX-License-Identifier: MIT */
/*
 * The virtio-console model (src/devices/console/) behind a vb_dev, driven by a driver that
 * does what Linux's drivers/char/virtio_console.c does: the same queue layout, control
 * receive buffers posted before DEVICE_READY, PORT_READY answered to each PORT_ADD after the
 * port's receive queue is filled, PORT_OPEN sent for a console port, control messages sent
 * one at a time. Ports are in-memory fakes (or, in the host tests, real fds: a socket pair,
 * a unix socket client, a pty).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <setjmp.h>
#include <stdalign.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>
#include <cmocka.h>

#include "virtio-backend.h"
#include "virtio-backend/devices/console.h"
#include "vbt-mem.h"
#include "vbt-split.h"

#define GUEST_GPA	0x40000000u
#define GUEST_SIZE	(4u << 20)
#define QSZ		16u
#define NPORTS		3u
#define NQ		(2u * (NPORTS + 1u))
#define BAD_ID		0xffffffffu	/* Linux's VIRTIO_CONSOLE_BAD_ID */
#define CBUF		4096u		/* Linux posts PAGE_SIZE control buffers */
#define RXBUF		256u
#define CTRL_BUFS	8u

/* An in-memory host port. */
struct fport {
	uint8_t	out[16384];
	size_t	out_len;
	size_t	write_limit;	/* 0: no limit; else at most this per write, then -EAGAIN */
	bool	write_blocked;
	int	write_err;
	uint8_t	in[16384];
	size_t	in_len, in_off;
	bool	want_in, want_out;
	unsigned int wants, writes;
	int	guest_open;	/* -1 never told */
};

/* A received control message. */
struct cmsg {
	uint32_t id;
	uint16_t event, value;
	char	 payload[128];
	uint32_t plen;
};

/* The driver's record of a port. */
struct dport {
	bool	added, console, host_open, removed;
	char	name[128];
	uint16_t cols, rows;
};

struct fx {
	struct vbt_guest	g;
	struct vbt_split	r[NQ];
	uint64_t		buf[NQ][QSZ];	/* buffer address by head */
	uint16_t		nq;
	struct vb_transport_ops	tops;
	unsigned int		notifies[NQ], config_changes;
	alignas(8) uint8_t	dev_storage[VB_DEV_STORAGE_MAX(NQ)];
	struct vb_dev		*dev;
	struct vb_console	*con;
	struct vb_console_config cfg;
	struct vb_console_port_config pc[NPORTS];
	struct vb_console_port_ops fops;
	struct fport		fp[NPORTS];
	struct dport		dp[NPORTS];
	struct cmsg		log[64];	/* control messages received, in order */
	unsigned int		n_log;
	bool			started;
};

static int t_notify(void *t, uint16_t q)
{
	struct fx *f = t;

	if (q < NQ)
		f->notifies[q]++;
	return 0;
}

static int t_config_changed(void *t)
{
	((struct fx *)t)->config_changes++;
	return 0;
}

/* ---- fake port ---- */

static int64_t f_write(void *ctx, const struct vb_iov *iov, unsigned int n)
{
	struct fport *p = ctx;
	size_t done = 0;

	p->writes++;
	if (p->write_err)
		return p->write_err;
	if (p->write_blocked)
		return -EAGAIN;
	for (unsigned int i = 0; i < n; i++) {
		size_t len = iov[i].len;

		if (p->write_limit && done + len > p->write_limit)
			len = p->write_limit - done;
		assert_true(p->out_len + len <= sizeof(p->out));
		memcpy(p->out + p->out_len, iov[i].base, len);
		p->out_len += len;
		done += len;
		if (p->write_limit && done == p->write_limit) {
			p->write_blocked = true;	/* the next write waits for output */
			break;
		}
	}
	return (int64_t)done;
}

static int64_t f_read(void *ctx, const struct vb_iov *iov, unsigned int n)
{
	struct fport *p = ctx;
	size_t done = 0;

	for (unsigned int i = 0; i < n && p->in_off < p->in_len; i++) {
		size_t len = iov[i].len;

		if (len > p->in_len - p->in_off)
			len = p->in_len - p->in_off;
		memcpy(iov[i].base, p->in + p->in_off, len);
		p->in_off += len;
		done += len;
	}
	return done ? (int64_t)done : -EAGAIN;
}

static void f_want(void *ctx, bool in, bool out)
{
	struct fport *p = ctx;

	p->want_in = in;
	p->want_out = out;
	p->wants++;
}

static void f_guest_open(void *ctx, bool open)
{
	((struct fport *)ctx)->guest_open = open;
}

static void host_input(struct fport *p, const char *s)
{
	size_t n = strlen(s);

	assert_true(p->in_len + n <= sizeof(p->in));
	memcpy(p->in + p->in_len, s, n);
	p->in_len += n;
}

/* ---- fixture ---- */

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	f->fops = (struct vb_console_port_ops){ .version = VB_CONSOLE_PORT_OPS_V1,
		.write = f_write, .read = f_read, .want = f_want, .guest_open = f_guest_open };
	for (unsigned int i = 0; i < NPORTS; i++) {
		f->pc[i] = (struct vb_console_port_config){ .ops = &f->fops, .ctx = &f->fp[i],
							    .connected = true };
		f->fp[i].guest_open = -1;
	}
	f->pc[0].console = true;
	f->pc[1].name = "org.example.port1";
	f->pc[1].connected = false;
	f->pc[2].absent = true;
	f->pc[2].name = "hotplug";
	f->cfg = (struct vb_console_config){ .version = VB_CONSOLE_CONFIG_V1,
		.flags = VB_CONSOLE_CFG_SIZE | VB_CONSOLE_CFG_MULTIPORT |
			 VB_CONSOLE_CFG_EMERG_WRITE,
		.cols = 80, .rows = 25, .queue_num_max = QSZ, .num_ports = NPORTS,
		.ports = f->pc };
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;

	vb_console_destroy(f->con);
	if (f->started)
		vbt_guest_fini(&f->g);
	free(f);
	return 0;
}

static uint16_t rxq(uint16_t port)
{
	return port == 0 ? 0 : (uint16_t)(2u * port + 2u);
}

static void kick(struct fx *f, uint16_t q)
{
	assert_int_equal(vb_dev_kick(f->dev, q), 0);
}

/* Post one buffer on queue q (device-writable if write) and remember it by head. */
static uint64_t post(struct fx *f, uint16_t q, uint32_t len, bool write)
{
	uint64_t gpa = vbt_guest_alloc(&f->g, len, 8);
	struct vbt_buf b = { gpa, len, write };
	uint16_t head = vbt_split_add(&f->r[q], &b, 1, false);

	f->buf[q][head] = gpa;
	return gpa;
}

static void repost(struct fx *f, uint16_t q, uint32_t id, uint32_t len)
{
	struct vbt_buf b = { f->buf[q][id], len, true };
	uint16_t head = vbt_split_add(&f->r[q], &b, 1, false);

	f->buf[q][head] = b.gpa;
}

/* Linux's __send_control_msg(): one 8-byte readable buffer, kick, wait for it. */
static void send_ctrl(struct fx *f, uint32_t id, uint16_t event, uint16_t value)
{
	struct vb_virtio_console_control m = { vb_cpu_to_le32(id), vb_cpu_to_le16(event),
					       vb_cpu_to_le16(value) };
	uint64_t gpa = vbt_guest_alloc(&f->g, sizeof(m), 8);
	struct vbt_buf b = { gpa, sizeof(m), false };
	uint32_t uid, ulen;
	uint16_t head;

	memcpy(vbt_guest_ptr(&f->g, gpa), &m, sizeof(m));
	head = vbt_split_add(&f->r[3], &b, 1, false);
	kick(f, 3);
	assert_int_equal(vbt_split_get_used(&f->r[3], &uid, &ulen), 1);
	assert_int_equal(uid, head);
	assert_int_equal(ulen, 0);
}

/* Take one message from c_ivq (and re-post its buffer, as Linux does). 1, or 0 if none. */
static int recv_ctrl(struct fx *f, struct cmsg *m)
{
	struct vb_virtio_console_control c;
	uint32_t id, len;
	const uint8_t *p;

	if (vbt_split_get_used(&f->r[2], &id, &len) != 1)
		return 0;
	assert_true(len >= sizeof(c) && len <= CBUF);
	p = vbt_guest_ptr(&f->g, f->buf[2][id]);
	memcpy(&c, p, sizeof(c));
	memset(m, 0, sizeof(*m));
	m->id = vb_le32_to_cpu(c.id);
	m->event = vb_le16_to_cpu(c.event);
	m->value = vb_le16_to_cpu(c.value);
	m->plen = len - (uint32_t)sizeof(c);
	assert_true(m->plen < sizeof(m->payload));
	memcpy(m->payload, p + sizeof(c), m->plen);
	repost(f, 2, id, CBUF);
	kick(f, 2);
	if (f->n_log < 64)
		f->log[f->n_log++] = *m;
	return 1;
}

/* Fill a port's receive queue (Linux: fill_queue(port->in_vq)). */
static void fill_rx(struct fx *f, uint16_t port, unsigned int n)
{
	for (unsigned int i = 0; i < n; i++)
		post(f, rxq(port), RXBUF, true);
	kick(f, rxq(port));
}

/* Linux's handle_control_message() for every message the device sent. */
static void drive_ctrl(struct fx *f)
{
	struct cmsg m;

	while (recv_ctrl(f, &m)) {
		struct dport *d;

		if (m.id >= NPORTS)
			fail_msg("message for port %u beyond max_nr_ports", m.id);
		d = &f->dp[m.id];
		switch (m.event) {
		case VB_VIRTIO_CONSOLE_DEVICE_ADD:
			assert_false(d->added);
			d->added = true;
			d->removed = false;
			fill_rx(f, (uint16_t)m.id, 4);
			send_ctrl(f, m.id, VB_VIRTIO_CONSOLE_PORT_READY, 1);
			break;
		case VB_VIRTIO_CONSOLE_CONSOLE_PORT:
			d->console = true;
			send_ctrl(f, m.id, VB_VIRTIO_CONSOLE_PORT_OPEN, 1);
			break;
		case VB_VIRTIO_CONSOLE_PORT_NAME:
			memcpy(d->name, m.payload, m.plen);
			d->name[m.plen] = '\0';
			break;
		case VB_VIRTIO_CONSOLE_PORT_OPEN:
			d->host_open = m.value;
			break;
		case VB_VIRTIO_CONSOLE_RESIZE: {
			struct vb_virtio_console_resize rs;

			assert_int_equal(m.plen, sizeof(rs));
			memcpy(&rs, m.payload, sizeof(rs));
			d->cols = vb_le16_to_cpu(rs.cols);
			d->rows = vb_le16_to_cpu(rs.rows);
			break;
		}
		case VB_VIRTIO_CONSOLE_DEVICE_REMOVE:
			d->added = false;
			d->removed = true;
			break;
		default:
			fail_msg("unexpected control event %u", m.event);
		}
	}
}

/* Build the model and do Linux's virtcons_probe() with the features the device offers
 * minus drop. */
static void start_probe(struct fx *f, uint64_t drop, bool handshake)
{
	struct vb_virtio_console_config cc;
	uint64_t feat;
	bool multi;

	assert_int_equal(vb_console_create(&f->cfg, &f->con), 0);
	assert_int_equal(vbt_guest_init(&f->g, GUEST_GPA, GUEST_SIZE, 0), 0);
	f->started = true;
	f->tops = (struct vb_transport_ops){ .version = VB_TRANSPORT_OPS_V1,
		.notify = t_notify, .config_changed = t_config_changed };
	assert_int_equal(vb_dev_init(f->dev_storage, sizeof(f->dev_storage),
				     vb_console_device_ops(f->con), f->con, &f->tops, f, &f->g.mem,
				     &f->dev), 0);
	assert_int_equal(vb_dev_set_status(f->dev, VB_VIRTIO_S_ACKNOWLEDGE), 0);
	assert_int_equal(vb_dev_set_status(f->dev, VB_VIRTIO_S_ACKNOWLEDGE | VB_VIRTIO_S_DRIVER), 0);
	feat = vb_dev_get_features(f->dev) & ~(drop | VB_BIT(VB_VIRTIO_F_RING_PACKED));
	assert_int_equal(vb_dev_set_driver_features(f->dev, feat), 0);
	assert_int_equal(vb_dev_set_status(f->dev, VB_VIRTIO_S_ACKNOWLEDGE | VB_VIRTIO_S_DRIVER |
					   VB_VIRTIO_S_FEATURES_OK), 0);
	multi = feat & VB_BIT(VB_VIRTIO_CONSOLE_F_MULTIPORT);
	assert_int_equal(vb_dev_config_read(f->dev, 0, &cc, sizeof(cc)), 0);
	/* init_vqs(): (max_nr_ports + 1) * 2 queues with MULTIPORT, else 2. */
	f->nq = multi ? (uint16_t)((vb_le32_to_cpu(cc.max_nr_ports) + 1u) * 2u) : 2u;
	assert_true(f->nq <= NQ);
	for (uint16_t q = 0; q < f->nq; q++) {
		struct vb_queue_config qc;

		vbt_split_init(&f->r[q], &f->g, QSZ);
		qc = (struct vb_queue_config){ .num = QSZ, .desc = f->r[q].desc_gpa,
					       .driver = f->r[q].avail_gpa,
					       .device = f->r[q].used_gpa };
		assert_int_equal(vb_dev_queue_set_config(f->dev, q, &qc), 0);
		assert_int_equal(vb_dev_queue_enable(f->dev, q, true), 0);
	}
	/* virtio_device_ready() comes before the control queue is filled. */
	assert_int_equal(vb_dev_set_status(f->dev, VB_VIRTIO_S_ACKNOWLEDGE | VB_VIRTIO_S_DRIVER |
					   VB_VIRTIO_S_FEATURES_OK | VB_VIRTIO_S_DRIVER_OK), 0);
	if (!multi) {
		/* add_port(portdev, 0) */
		f->dp[0].added = true;
		fill_rx(f, 0, 4);
		return;
	}
	for (unsigned int i = 0; i < CTRL_BUFS; i++)
		post(f, 2, CBUF, true);
	kick(f, 2);
	if (!handshake)
		return;
	send_ctrl(f, BAD_ID, VB_VIRTIO_CONSOLE_DEVICE_READY, 1);
	drive_ctrl(f);
}

static void start(struct fx *f, uint64_t drop)
{
	start_probe(f, drop, true);
}

/* Use up every posted control receive buffer (PORT_OPEN messages of port 1 flipping) and
 * take them back without re-posting: the device then has none. */
static void starve_ctrl(struct fx *f)
{
	uint32_t id, len;
	bool on = true;

	/* start() keeps CTRL_BUFS buffers posted; each flip uses one. */
	for (unsigned int i = 0; i < CTRL_BUFS; i++, on = !on)
		assert_int_equal(vb_console_port_set_connected(f->con, 1, on), 0);
	while (vbt_split_get_used(&f->r[2], &id, &len) == 1)
		;
}

/* Read one message from c_ivq without re-posting; 1 or 0. */
static int take_ctrl(struct fx *f, struct vb_virtio_console_control *c, uint32_t *len)
{
	uint32_t id;

	if (vbt_split_get_used(&f->r[2], &id, len) != 1)
		return 0;
	memset(c, 0, sizeof(*c));
	if (*len >= sizeof(*c))
		memcpy(c, vbt_guest_ptr(&f->g, f->buf[2][id]), sizeof(*c));
	return 1;
}

/* Guest output on a port: one chain of the given pieces. Returns the head. */
static uint16_t guest_write(struct fx *f, uint16_t port, const char *const *parts,
			    unsigned int n)
{
	struct vbt_buf b[4];
	uint16_t head;

	assert_true(n <= 4);
	for (unsigned int i = 0; i < n; i++) {
		size_t len = strlen(parts[i]);

		b[i] = (struct vbt_buf){ vbt_guest_alloc(&f->g, len, 1), (uint32_t)len, false };
		memcpy(vbt_guest_ptr(&f->g, b[i].gpa), parts[i], len);
	}
	head = vbt_split_add(&f->r[rxq(port) + 1], b, n, false);
	kick(f, (uint16_t)(rxq(port) + 1));
	return head;
}

/* Collect what the guest received on a port into buf; returns bytes. */
static size_t guest_read(struct fx *f, uint16_t port, char *buf, size_t max)
{
	uint32_t id, len;
	size_t got = 0;

	while (vbt_split_get_used(&f->r[rxq(port)], &id, &len) == 1) {
		assert_true(len <= RXBUF && got + len <= max);
		memcpy(buf + got, vbt_guest_ptr(&f->g, f->buf[rxq(port)][id]), len);
		got += len;
	}
	return got;
}

static const struct cmsg *find_msg(const struct fx *f, uint32_t id, uint16_t event,
				   unsigned int *pos)
{
	for (unsigned int i = 0; i < f->n_log; i++) {
		if (f->log[i].id == id && f->log[i].event == event) {
			if (pos)
				*pos = i;
			return &f->log[i];
		}
	}
	return NULL;
}

/* ---- tests ---- */

/* Config space and the feature offer follow the configuration.
 * @verify{VB-REQ-CONSOLE-002} @verify{VB-REQ-CONSOLE-003} */
static void test_console__config_and_features(void **state)
{
	struct fx *f = *state;
	struct vb_virtio_console_config cc;
	const struct vb_device_ops *ops;
	uint64_t feat;

	start(f, 0);
	ops = vb_console_device_ops(f->con);
	assert_int_equal(ops->device_id, VB_VIRTIO_ID_CONSOLE);
	assert_int_equal(ops->num_queues, NQ);
	assert_int_equal(ops->config_len, 12);
	feat = vb_dev_get_features(f->dev);
	assert_true(feat & VB_BIT(VB_VIRTIO_CONSOLE_F_SIZE));
	assert_true(feat & VB_BIT(VB_VIRTIO_CONSOLE_F_MULTIPORT));
	assert_true(feat & VB_BIT(VB_VIRTIO_CONSOLE_F_EMERG_WRITE));
	assert_true(feat & VB_BIT(VB_VIRTIO_F_VERSION_1));
	assert_int_equal(vb_dev_config_read(f->dev, 0, &cc, sizeof(cc)), 0);
	assert_int_equal(vb_le16_to_cpu(cc.cols), 80);
	assert_int_equal(vb_le16_to_cpu(cc.rows), 25);
	assert_int_equal(vb_le32_to_cpu(cc.max_nr_ports), NPORTS);
	/* cols and rows are read-only. */
	assert_int_not_equal(vb_dev_config_write(f->dev, 0, "\1\0", 2), 0);
}

/* A single-port device (no MULTIPORT) needs two queues and one port.
 * @verify{VB-REQ-CONSOLE-002} */
static void test_console__single_port_without_multiport(void **state)
{
	struct fx *f = *state;
	const char *parts[] = { "hello, ", "host" };
	char buf[64];

	f->cfg.flags = VB_CONSOLE_CFG_SIZE;
	f->cfg.num_ports = 1;
	start(f, 0);
	assert_int_equal(vb_console_device_ops(f->con)->num_queues, 2);
	assert_true(vb_console_port_guest_open(f->con, 0));
	guest_write(f, 0, parts, 2);
	assert_int_equal(f->fp[0].out_len, 11);
	assert_memory_equal(f->fp[0].out, "hello, host", 11);
	host_input(&f->fp[0], "typed");
	assert_true(f->fp[0].want_in);
	assert_int_equal(vb_console_port_input(f->con, 0), 5);
	assert_int_equal(guest_read(f, 0, buf, sizeof(buf)), 5);
	assert_memory_equal(buf, "typed", 5);
}

/* Guest output reaches the host in order, zero copy, each buffer returned with length 0.
 * @verify{VB-REQ-CONSOLE-011} */
static void test_console__tx_reaches_host(void **state)
{
	struct fx *f = *state;
	const char *a[] = { "abc", "defg" }, *b[] = { "hij" };
	uint32_t id, len;

	start(f, 0);
	guest_write(f, 0, a, 2);
	guest_write(f, 0, b, 1);
	assert_int_equal(f->fp[0].out_len, 10);
	assert_memory_equal(f->fp[0].out, "abcdefghij", 10);
	for (int i = 0; i < 2; i++) {
		assert_int_equal(vbt_split_get_used(&f->r[1], &id, &len), 1);
		assert_int_equal(len, 0);
	}
	assert_true(f->notifies[1] > 0);
}

/* A transmit chain of many descriptors (Linux's splice path: one per pipe buffer) is
 * written whole, in order. @verify{VB-REQ-CONSOLE-011} */
static void test_console__tx_long_chain(void **state)
{
	struct fx *f = *state;
	struct vbt_buf b[200];
	uint32_t id, len;

	start(f, 0);
	for (unsigned int i = 0; i < 200; i++) {
		b[i] = (struct vbt_buf){ vbt_guest_alloc(&f->g, 3, 1), 3, false };
		memcpy(vbt_guest_ptr(&f->g, b[i].gpa), (char[3]){ (char)('a' + i % 26), '-',
								 (char)('0' + i % 10) }, 3);
	}
	vbt_split_add(&f->r[1], b, 200, true);
	kick(f, 1);
	assert_int_equal(vbt_split_get_used(&f->r[1], &id, &len), 1);
	assert_int_equal(f->fp[0].out_len, 600);
	for (unsigned int i = 0; i < 200; i++) {
		assert_int_equal(f->fp[0].out[3 * i], 'a' + i % 26);
		assert_int_equal(f->fp[0].out[3 * i + 2], '0' + i % 10);
	}
	assert_false(vb_dev_get_status(f->dev) & VB_VIRTIO_S_NEEDS_RESET);
}

/* A short write keeps the rest of the buffer until the host has room; nothing is lost or
 * repeated. @verify{VB-REQ-CONSOLE-011} */
static void test_console__tx_short_write_resumes(void **state)
{
	struct fx *f = *state;
	const char *a[] = { "0123456789" }, *b[] = { "ABCDEF" };
	uint32_t id, len;

	start(f, 0);
	f->fp[0].write_limit = 4;
	guest_write(f, 0, a, 1);
	guest_write(f, 0, b, 1);
	assert_int_equal(f->fp[0].out_len, 4);
	assert_true(f->fp[0].want_out);
	assert_int_equal(vbt_split_get_used(&f->r[1], &id, &len), 0);
	while (f->fp[0].out_len < 16) {
		f->fp[0].write_blocked = false;
		assert_int_equal(vb_console_port_output(f->con, 0), 0);
	}
	assert_memory_equal(f->fp[0].out, "0123456789ABCDEF", 16);
	assert_false(f->fp[0].want_out);
	assert_int_equal(vbt_split_get_used(&f->r[1], &id, &len), 1);
	assert_int_equal(vbt_split_get_used(&f->r[1], &id, &len), 1);
}

/* Host input fills posted receive buffers; without buffers the host is told to stop.
 * @verify{VB-REQ-CONSOLE-010} */
static void test_console__rx_fills_posted_buffers(void **state)
{
	struct fx *f = *state;
	char big[4 * RXBUF + 100], got[sizeof(big)];

	start(f, 0);
	assert_true(f->fp[0].want_in);
	for (size_t i = 0; i < sizeof(big) - 1; i++)
		big[i] = (char)('a' + i % 26);
	big[sizeof(big) - 1] = '\0';
	host_input(&f->fp[0], big);
	/* Four buffers of RXBUF: the rest waits in the host. */
	assert_int_equal(vb_console_port_input(f->con, 0), 4 * RXBUF);
	assert_false(f->fp[0].want_in);
	assert_int_equal(guest_read(f, 0, got, sizeof(got)), 4 * RXBUF);
	/* New buffers: the kick takes what the host has at once. */
	fill_rx(f, 0, 2);
	assert_true(f->fp[0].want_in);
	assert_int_equal(guest_read(f, 0, got + 4 * RXBUF, sizeof(got) - 4 * RXBUF),
			 sizeof(big) - 1 - 4 * RXBUF);
	assert_memory_equal(got, big, sizeof(big) - 1);
	/* Nothing more: the chain stays with the device and input is still wanted. */
	assert_int_equal(vb_console_port_input(f->con, 0), 0);
	assert_true(f->fp[0].want_in);
}

/* The Linux multiport handshake: DEVICE_READY gets a PORT_ADD per present port; each
 * PORT_READY gets CONSOLE_PORT (console), PORT_NAME (named) and PORT_OPEN (host connected),
 * in that order. @verify{VB-REQ-CONSOLE-020} */
static void test_console__multiport_handshake_like_linux(void **state)
{
	struct fx *f = *state;
	unsigned int add0 = 0, add1 = 0, con0 = 0, open0 = 0, name1 = 0;
	const struct cmsg *m;

	start(f, 0);
	assert_true(f->dp[0].added);
	assert_true(f->dp[1].added);
	assert_false(f->dp[2].added);	/* absent: not added */
	assert_true(f->dp[0].console);
	assert_false(f->dp[1].console);
	assert_true(f->dp[0].host_open);
	assert_false(f->dp[1].host_open);	/* no host side yet: no PORT_OPEN */
	assert_string_equal(f->dp[1].name, "org.example.port1");
	assert_non_null(find_msg(f, 0, VB_VIRTIO_CONSOLE_DEVICE_ADD, &add0));
	assert_non_null(find_msg(f, 1, VB_VIRTIO_CONSOLE_DEVICE_ADD, &add1));
	assert_non_null(find_msg(f, 0, VB_VIRTIO_CONSOLE_CONSOLE_PORT, &con0));
	assert_non_null(m = find_msg(f, 0, VB_VIRTIO_CONSOLE_PORT_OPEN, &open0));
	assert_int_equal(m->value, 1);
	assert_non_null(find_msg(f, 1, VB_VIRTIO_CONSOLE_PORT_NAME, &name1));
	assert_true(add0 < con0 && con0 < open0 && add1 < name1);
	assert_null(find_msg(f, 1, VB_VIRTIO_CONSOLE_PORT_OPEN, NULL));
	assert_null(find_msg(f, 0, VB_VIRTIO_CONSOLE_PORT_NAME, NULL));
	/* The console port was opened by the driver (CONSOLE_PORT handling). */
	assert_true(vb_console_port_guest_open(f->con, 0));
	assert_int_equal(f->fp[0].guest_open, 1);
	assert_false(vb_console_port_guest_open(f->con, 1));
	assert_int_equal(f->n_log, 5);	/* ADD x2, CONSOLE, OPEN, NAME, and nothing else */
}

/* Input reaches a port only while the guest has it open; output is dropped while the host
 * side is closed. @verify{VB-REQ-CONSOLE-025} @verify{VB-REQ-CONSOLE-023} */
static void test_console__port_data_follows_open_state(void **state)
{
	struct fx *f = *state;
	const char *a[] = { "lost" }, *b[] = { "kept" };
	char buf[64];
	struct vb_console_stats st;

	start(f, 0);
	host_input(&f->fp[1], "early");
	assert_false(f->fp[1].want_in);
	assert_int_equal(vb_console_port_input(f->con, 1), 0);
	guest_write(f, 1, a, 1);	/* host side closed: dropped */
	assert_int_equal(f->fp[1].out_len, 0);
	/* The host connects: the driver hears PORT_OPEN(1). */
	assert_int_equal(vb_console_port_set_connected(f->con, 1, true), 0);
	drive_ctrl(f);
	assert_true(f->dp[1].host_open);
	guest_write(f, 1, b, 1);
	assert_int_equal(f->fp[1].out_len, 4);
	assert_memory_equal(f->fp[1].out, "kept", 4);
	/* The guest opens the port: input flows. */
	send_ctrl(f, 1, VB_VIRTIO_CONSOLE_PORT_OPEN, 1);
	assert_int_equal(f->fp[1].guest_open, 1);
	assert_true(f->fp[1].want_in);
	assert_int_equal(vb_console_port_input(f->con, 1), 5);
	assert_int_equal(guest_read(f, 1, buf, sizeof(buf)), 5);
	assert_memory_equal(buf, "early", 5);
	send_ctrl(f, 1, VB_VIRTIO_CONSOLE_PORT_OPEN, 0);
	assert_int_equal(f->fp[1].guest_open, 0);
	assert_false(f->fp[1].want_in);
	/* The host leaves: PORT_OPEN(0). */
	assert_int_equal(vb_console_port_set_connected(f->con, 1, false), 0);
	drive_ctrl(f);
	assert_false(f->dp[1].host_open);
	vb_console_get_stats(f->con, &st);
	assert_int_equal(st.tx_dropped, 4);
	assert_int_equal(st.tx_bytes, 4);
	assert_int_equal(st.rx_bytes, 5);
}

/* Open/close flapping with no control buffer posted costs nothing and the driver learns
 * the final state once. @verify{VB-REQ-CONSOLE-022} */
static void test_console__control_events_coalesce(void **state)
{
	struct fx *f = *state;
	struct vb_virtio_console_control c;
	uint32_t len;

	start(f, 0);
	starve_ctrl(f);
	for (int i = 0; i < 1001; i++)
		assert_int_equal(vb_console_port_set_connected(f->con, 1, i % 2 == 1), 0);
	/* Last call: i = 1000, disconnected. One buffer: exactly one PORT_OPEN(0). */
	post(f, 2, CBUF, true);
	kick(f, 2);
	assert_int_equal(take_ctrl(f, &c, &len), 1);
	assert_int_equal(len, 8);
	assert_int_equal(vb_le32_to_cpu(c.id), 1);
	assert_int_equal(vb_le16_to_cpu(c.event), VB_VIRTIO_CONSOLE_PORT_OPEN);
	assert_int_equal(vb_le16_to_cpu(c.value), 0);
	post(f, 2, CBUF, true);
	kick(f, 2);
	assert_int_equal(take_ctrl(f, &c, &len), 0);
}

/* Hostile control messages are counted and ignored: nothing crashes, nothing is sent.
 * @verify{VB-REQ-CONSOLE-021} */
static void test_console__hostile_control_messages(void **state)
{
	struct fx *f = *state;
	struct vb_console_stats st0, st;
	struct vbt_buf b;
	uint32_t id, len;
	struct cmsg m;

	start(f, 0);
	vb_console_get_stats(f->con, &st0);
	send_ctrl(f, 1, VB_VIRTIO_CONSOLE_PORT_READY, 1);	/* duplicate */
	send_ctrl(f, 7, VB_VIRTIO_CONSOLE_PORT_READY, 1);	/* beyond max_nr_ports */
	send_ctrl(f, BAD_ID, VB_VIRTIO_CONSOLE_PORT_OPEN, 1);
	send_ctrl(f, 2, VB_VIRTIO_CONSOLE_PORT_READY, 1);	/* never added */
	send_ctrl(f, 2, VB_VIRTIO_CONSOLE_PORT_OPEN, 1);
	send_ctrl(f, 0, VB_VIRTIO_CONSOLE_DEVICE_READY, 1);	/* twice */
	send_ctrl(f, 0, VB_VIRTIO_CONSOLE_DEVICE_ADD, 1);	/* device-to-driver events */
	send_ctrl(f, 0, VB_VIRTIO_CONSOLE_RESIZE, 1);
	send_ctrl(f, 0, VB_VIRTIO_CONSOLE_PORT_NAME, 1);
	send_ctrl(f, 0, 0xffff, 0xffff);			/* unknown */
	send_ctrl(f, 0, VB_VIRTIO_CONSOLE_PORT_OPEN, 7);	/* bad value */
	/* Short message: 7 bytes. */
	b = (struct vbt_buf){ vbt_guest_alloc(&f->g, 7, 1), 7, false };
	vbt_split_add(&f->r[3], &b, 1, false);
	kick(f, 3);
	assert_int_equal(vbt_split_get_used(&f->r[3], &id, &len), 1);
	/* Device-writable buffer on the control transmit queue: nothing to read. */
	b = (struct vbt_buf){ vbt_guest_alloc(&f->g, 8, 8), 8, true };
	vbt_split_add(&f->r[3], &b, 1, false);
	kick(f, 3);
	assert_int_equal(vbt_split_get_used(&f->r[3], &id, &len), 1);
	assert_int_equal(len, 0);
	vb_console_get_stats(f->con, &st);
	assert_int_equal(st.ctrl_in - st0.ctrl_in, 13);
	assert_int_equal(st.ctrl_bad - st0.ctrl_bad, 13);
	assert_int_equal(recv_ctrl(f, &m), 0);
	assert_true(vb_vq_is_ready(vb_dev_queue(f->dev, 3)));
	assert_false(vb_dev_get_status(f->dev) & VB_VIRTIO_S_NEEDS_RESET);
}

/* PORT_READY before DEVICE_READY, and a DEVICE_READY(0), are ignored.
 * @verify{VB-REQ-CONSOLE-021} */
static void test_console__control_out_of_order(void **state)
{
	struct fx *f = *state;
	struct vb_console_stats st;
	struct cmsg m;

	start_probe(f, 0, false);
	send_ctrl(f, 0, VB_VIRTIO_CONSOLE_PORT_READY, 1);	/* before DEVICE_READY */
	send_ctrl(f, 0, VB_VIRTIO_CONSOLE_PORT_OPEN, 1);
	send_ctrl(f, BAD_ID, VB_VIRTIO_CONSOLE_DEVICE_READY, 0);	/* driver failed */
	assert_int_equal(recv_ctrl(f, &m), 0);
	vb_console_get_stats(f->con, &st);
	assert_int_equal(st.ctrl_bad, 3);
	assert_false(vb_console_port_guest_open(f->con, 0));
	/* A proper DEVICE_READY still works afterwards. */
	send_ctrl(f, BAD_ID, VB_VIRTIO_CONSOLE_DEVICE_READY, 1);
	drive_ctrl(f);
	assert_true(f->dp[0].added && f->dp[1].added);
	assert_true(vb_console_port_guest_open(f->con, 0));
	/* After a reset nothing is added any more: PORT_OPEN is out of place. */
	vb_dev_reset(f->dev);
	assert_false(vb_console_port_guest_open(f->con, 0));
}

/* Resize: a config change without MULTIPORT, a RESIZE message (cols, rows) to the console
 * port with it. @verify{VB-REQ-CONSOLE-004} */
static void test_console__resize(void **state)
{
	struct fx *f = *state;
	struct vb_virtio_console_config cc;

	start(f, 0);
	assert_int_equal(vb_console_set_size(f->con, 132, 43), 0);
	drive_ctrl(f);
	assert_int_equal(f->dp[0].cols, 132);
	assert_int_equal(f->dp[0].rows, 43);
	assert_int_equal(f->dp[1].cols, 0);	/* not a console port */
	assert_int_equal(f->config_changes, 1);
	assert_int_equal(vb_dev_config_read(f->dev, 0, &cc, sizeof(cc)), 0);
	assert_int_equal(vb_le16_to_cpu(cc.cols), 132);
	assert_int_equal(vb_le16_to_cpu(cc.rows), 43);
}

/* Without F_SIZE negotiated a resize updates config silently.
 * @verify{VB-REQ-CONSOLE-004} */
static void test_console__resize_without_size_feature(void **state)
{
	struct fx *f = *state;

	f->cfg.flags = 0;
	f->cfg.num_ports = 1;
	start(f, 0);
	assert_int_equal(vb_console_set_size(f->con, 100, 30), 0);
	assert_int_equal(f->config_changes, 0);
}

/* Hot plug: PORT_ADD then the handshake for a port made present; PORT_REMOVE when it goes.
 * @verify{VB-REQ-CONSOLE-024} */
static void test_console__hotplug(void **state)
{
	struct fx *f = *state;

	start(f, 0);
	assert_int_equal(vb_console_port_set_present(f->con, 0, false), -EINVAL);
	assert_int_equal(vb_console_port_set_present(f->con, 2, true), 0);
	drive_ctrl(f);
	assert_true(f->dp[2].added);
	assert_string_equal(f->dp[2].name, "hotplug");
	assert_true(f->dp[2].host_open);
	assert_int_equal(vb_console_port_set_present(f->con, 2, false), 0);
	drive_ctrl(f);
	assert_true(f->dp[2].removed);
	/* A PORT_READY for the removed port is out of place. */
	send_ctrl(f, 2, VB_VIRTIO_CONSOLE_PORT_OPEN, 1);
	assert_false(vb_console_port_guest_open(f->con, 2));
}

/* emerg_wr writes one character to port 0, only with EMERG_WRITE.
 * @verify{VB-REQ-CONSOLE-005} */
static void test_console__emergency_write(void **state)
{
	struct fx *f = *state;
	uint8_t v[4] = { 'Z', 0, 0, 0 };

	start(f, 0);
	assert_int_equal(vb_dev_config_write(f->dev, VB_VIRTIO_CONSOLE_CONFIG_EMERG_WR, v, 4), 0);
	assert_int_equal(f->fp[0].out_len, 1);
	assert_int_equal(f->fp[0].out[0], 'Z');
}

/* @verify{VB-REQ-CONSOLE-005} */
static void test_console__emergency_write_needs_feature(void **state)
{
	struct fx *f = *state;
	uint8_t v[4] = { 'Z', 0, 0, 0 };

	start(f, VB_BIT(VB_VIRTIO_CONSOLE_F_EMERG_WRITE));
	assert_int_not_equal(vb_dev_config_write(f->dev, VB_VIRTIO_CONSOLE_CONFIG_EMERG_WR, v, 4),
			     0);
	assert_int_equal(f->fp[0].out_len, 0);
}

/* A device reset forgets the handshake; a new probe works again.
 * @verify{VB-REQ-CONSOLE-002} @verify{VB-REQ-CONSOLE-020} */
static void test_console__reset_and_reprobe(void **state)
{
	struct fx *f = *state;
	struct vb_console *con;

	start(f, 0);
	f->fp[0].write_blocked = true;
	{
		const char *a[] = { "held" };

		guest_write(f, 0, a, 1);
	}
	assert_true(f->fp[0].want_out);
	vb_dev_reset(f->dev);
	assert_false(f->fp[0].want_out);
	assert_false(f->fp[0].want_in);
	assert_int_equal(f->fp[0].guest_open, 0);
	assert_false(vb_console_port_guest_open(f->con, 0));
	/* Same model, new memory and rings: the handshake again. */
	con = f->con;
	vbt_guest_fini(&f->g);
	f->started = false;
	memset(f->dp, 0, sizeof(f->dp));
	f->n_log = 0;
	f->fp[0].write_blocked = false;
	{
		struct vb_queue_config qc;
		uint64_t feat;

		assert_int_equal(vbt_guest_init(&f->g, GUEST_GPA, GUEST_SIZE, 0), 0);
		f->started = true;
		f->con = con;
		assert_int_equal(vb_dev_set_status(f->dev, VB_VIRTIO_S_ACKNOWLEDGE), 0);
		assert_int_equal(vb_dev_set_status(f->dev, VB_VIRTIO_S_ACKNOWLEDGE |
						   VB_VIRTIO_S_DRIVER), 0);
		feat = vb_dev_get_features(f->dev) & ~VB_BIT(VB_VIRTIO_F_RING_PACKED);
		assert_int_equal(vb_dev_set_driver_features(f->dev, feat), 0);
		assert_int_equal(vb_dev_set_status(f->dev, VB_VIRTIO_S_ACKNOWLEDGE |
						   VB_VIRTIO_S_DRIVER |
						   VB_VIRTIO_S_FEATURES_OK), 0);
		for (uint16_t q = 0; q < f->nq; q++) {
			vbt_split_init(&f->r[q], &f->g, QSZ);
			qc = (struct vb_queue_config){ .num = QSZ, .desc = f->r[q].desc_gpa,
						       .driver = f->r[q].avail_gpa,
						       .device = f->r[q].used_gpa };
			assert_int_equal(vb_dev_queue_set_config(f->dev, q, &qc), 0);
			assert_int_equal(vb_dev_queue_enable(f->dev, q, true), 0);
		}
		assert_int_equal(vb_dev_set_status(f->dev, VB_VIRTIO_S_ACKNOWLEDGE |
						   VB_VIRTIO_S_DRIVER | VB_VIRTIO_S_FEATURES_OK |
						   VB_VIRTIO_S_DRIVER_OK), 0);
		for (unsigned int i = 0; i < 8; i++)
			post(f, 2, CBUF, true);
		kick(f, 2);
		send_ctrl(f, BAD_ID, VB_VIRTIO_CONSOLE_DEVICE_READY, 1);
		drive_ctrl(f);
	}
	assert_true(f->dp[0].added && f->dp[0].console && f->dp[1].added);
	assert_true(vb_console_port_guest_open(f->con, 0));
}

/* A control buffer too small for PORT_NAME gets nothing; the queue keeps working.
 * @verify{VB-REQ-CONSOLE-021} */
static void test_console__small_control_buffer(void **state)
{
	struct fx *f = *state;
	struct vb_virtio_console_control c;
	struct vb_console_stats st0, st;
	uint32_t len;

	start(f, 0);
	starve_ctrl(f);
	vb_console_get_stats(f->con, &st0);
	/* Hot-add port 2 ("hotplug": PORT_NAME needs 8 + 7 bytes) with 8-byte buffers. */
	assert_int_equal(vb_console_port_set_present(f->con, 2, true), 0);
	post(f, 2, 8, true);
	kick(f, 2);
	assert_int_equal(take_ctrl(f, &c, &len), 1);
	assert_int_equal(vb_le16_to_cpu(c.event), VB_VIRTIO_CONSOLE_DEVICE_ADD);
	fill_rx(f, 2, 1);
	send_ctrl(f, 2, VB_VIRTIO_CONSOLE_PORT_READY, 1);
	post(f, 2, 8, true);
	kick(f, 2);
	assert_int_equal(take_ctrl(f, &c, &len), 1);
	assert_int_equal(len, 0);	/* the name did not fit: nothing written */
	vb_console_get_stats(f->con, &st);
	assert_int_equal(st.ctrl_bad - st0.ctrl_bad, 1);
	post(f, 2, CBUF, true);
	kick(f, 2);
	assert_int_equal(take_ctrl(f, &c, &len), 1);
	assert_int_equal(len, 8);
	assert_int_equal(vb_le16_to_cpu(c.event), VB_VIRTIO_CONSOLE_PORT_OPEN);
	assert_true(vb_vq_is_ready(vb_dev_queue(f->dev, 2)));
}

/* Bad configurations are refused. @verify{VB-REQ-CONSOLE-001} */
static void test_console__init_rejects_bad_config(void **state)
{
	struct fx *f = *state;
	struct vb_console_config c = f->cfg;
	struct vb_console_port_ops o = f->fops;
	struct vb_console_port_config pc[NPORTS];
	struct vb_console *con;
	alignas(8) static uint8_t small[64];

	memcpy(pc, f->pc, sizeof(pc));
	c.ports = pc;
	assert_int_equal(vb_console_create(&c, &con), 0);
	vb_console_destroy(con);
	assert_int_equal(vb_console_init(small, sizeof(small), &c, &con), -ENOSPC);
	assert_int_equal(vb_console_init(small + 1, sizeof(small) - 1, &c, &con), -EINVAL);
	c.version = 0;
	assert_int_equal(vb_console_create(&c, &con), -EINVAL);
	c.version = VB_CONSOLE_CONFIG_V1;
	c.num_ports = 0;
	assert_int_equal(vb_console_create(&c, &con), -EINVAL);
	c.num_ports = VB_CONSOLE_MAX_PORTS + 1;
	assert_int_equal(vb_console_size(&c), 0);
	c.num_ports = NPORTS;
	c.flags = 0;	/* several ports without MULTIPORT */
	assert_int_equal(vb_console_create(&c, &con), -EINVAL);
	c.flags = VB_CONSOLE_CFG_MULTIPORT;
	pc[0].absent = true;
	assert_int_equal(vb_console_create(&c, &con), -EINVAL);
	pc[0].absent = false;
	o.read = NULL;
	pc[1].ops = &o;
	assert_int_equal(vb_console_create(&c, &con), -EINVAL);
	o.read = f_read;
	o.version = 0;
	assert_int_equal(vb_console_create(&c, &con), -EINVAL);
	o.version = VB_CONSOLE_PORT_OPS_V1;
	c.queue_num_max = 65535;
	assert_int_equal(vb_console_create(&c, &con), -EINVAL);
}

/* ---- host ports on real fds ---- */

/* Poll the host's epoll fd and dispatch until cond() or 2 s pass. */
static bool host_wait(struct vb_console_host *h, bool (*cond)(void *), void *arg)
{
	for (int i = 0; i < 200; i++) {
		struct pollfd p = { vb_console_host_fd(h), POLLIN, 0 };

		if (cond(arg))
			return true;
		(void)poll(&p, 1, 10);
		assert_int_equal(vb_console_host_dispatch(h), 0);
	}
	return cond(arg);
}

struct rxwait {
	struct fx	*f;
	uint16_t	port;
	char		*buf;
	size_t		got, want;
};

static bool rx_done(void *a)
{
	struct rxwait *w = a;

	w->got += guest_read(w->f, w->port, w->buf + w->got, 256);
	return w->got >= w->want;
}

/* The driver handles control messages, then looks at port 1's host state. */
static bool host_open1(void *a)
{
	struct fx *f = a;

	drive_ctrl(f);
	return f->dp[1].host_open;
}

/* A unix-socket port: a client connecting opens the port (PORT_OPEN to the driver), bytes
 * flow both ways through readv/writev, the client leaving closes it.
 * @verify{VB-REQ-CONSOLE-030} @verify{VB-REQ-CONSOLE-023} */
static void test_console__host_unix_socket_port(void **state)
{
	struct fx *f = *state;
	struct vb_console_host_port hp[2];
	struct vb_console_host *h;
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	char dir[] = "/tmp/vbt-con-XXXXXX", buf[64];
	const char *out[] = { "to the client" };
	struct rxwait w = { f, 1, buf, 0, 9 };
	ssize_t r;
	int sp[2], cl;

	assert_non_null(mkdtemp(dir));
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s/port1", dir);
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sp), 0);
	hp[0] = (struct vb_console_host_port){ .kind = VB_CONSOLE_HOST_FDS, .in_fd = sp[0],
					       .out_fd = sp[0] };
	hp[1] = (struct vb_console_host_port){ .kind = VB_CONSOLE_HOST_UNIX, .path = sa.sun_path };
	f->cfg.num_ports = 2;
	assert_int_equal(vb_console_host_open(hp, 2, f->pc, &h), 0);
	assert_false(f->pc[1].connected);
	start(f, 0);
	vb_console_host_attach(h, f->con);
	assert_false(f->dp[1].host_open);

	cl = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	assert_int_equal(connect(cl, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_true(host_wait(h, host_open1, f));
	send_ctrl(f, 1, VB_VIRTIO_CONSOLE_PORT_OPEN, 1);
	guest_write(f, 1, out, 1);
	r = read(cl, buf, sizeof(buf));
	assert_int_equal(r, 13);
	assert_memory_equal(buf, "to the client", 13);
	assert_int_equal(write(cl, "from host", 9), 9);
	assert_true(host_wait(h, rx_done, &w));
	assert_memory_equal(buf, "from host", 9);
	/* Port 0 over the socket pair. */
	assert_int_equal(write(sp[1], "p0", 2), 2);
	w = (struct rxwait){ f, 0, buf, 0, 2 };
	assert_true(host_wait(h, rx_done, &w));
	assert_memory_equal(buf, "p0", 2);
	/* The client leaves. */
	close(cl);
	for (int i = 0; i < 100 && f->dp[1].host_open; i++) {
		struct pollfd p = { vb_console_host_fd(h), POLLIN, 0 };

		(void)poll(&p, 1, 10);
		assert_int_equal(vb_console_host_dispatch(h), 0);
		drive_ctrl(f);
	}
	assert_false(f->dp[1].host_open);
	vb_console_host_close(h);
	assert_int_equal(access(sa.sun_path, F_OK), -1);
	close(sp[0]);
	close(sp[1]);
	rmdir(dir);
}

/* A pty port: what is written on the slave side reaches the guest and back.
 * @verify{VB-REQ-CONSOLE-030} */
static void test_console__host_pty_port(void **state)
{
	struct fx *f = *state;
	struct vb_console_host_port hp = { .kind = VB_CONSOLE_HOST_PTY };
	struct vb_console_host *h;
	const char *name, *out[] = { "guest says" };
	char buf[64];
	struct rxwait w = { f, 0, buf, 0, 6 };
	int s;
	size_t got = 0;

	f->cfg.flags = VB_CONSOLE_CFG_SIZE;
	f->cfg.num_ports = 1;
	if (vb_console_host_open(&hp, 1, f->pc, &h) < 0) {
		printf("no pty available: skipped\n");
		skip();
	}
	name = vb_console_host_pty_name(h, 0);
	assert_non_null(name);
	assert_memory_equal(name, "/dev/pts/", 9);
	start(f, 0);
	vb_console_host_attach(h, f->con);
	s = open(name, O_RDWR | O_NOCTTY | O_CLOEXEC);
	assert_true(s >= 0);
	/* A client sets the terminal size on its side; the host reads it for resize. */
	{
		struct winsize ws = { .ws_row = 50, .ws_col = 160 };
		uint16_t cols, rows;

		assert_int_equal(ioctl(s, TIOCSWINSZ, &ws), 0);
		assert_int_equal(vb_console_host_winsize(h, 0, &cols, &rows), 0);
		assert_int_equal(cols, 160);
		assert_int_equal(rows, 50);
		assert_int_equal(vb_console_host_winsize(h, 1, &cols, &rows), -EINVAL);
	}
	assert_int_equal(write(s, "typed\n", 6), 6);
	assert_true(host_wait(h, rx_done, &w));
	assert_memory_equal(buf, "typed\n", 6);
	guest_write(f, 0, out, 1);
	while (got < 10) {
		ssize_t r = read(s, buf + got, sizeof(buf) - got);

		assert_true(r > 0);
		got += (size_t)r;
	}
	assert_memory_equal(buf, "guest says", 10);
	close(s);
	vb_console_host_close(h);
}

#define T(name) cmocka_unit_test_setup_teardown(test_console__##name, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(config_and_features),
		T(single_port_without_multiport),
		T(tx_reaches_host),
		T(tx_long_chain),
		T(tx_short_write_resumes),
		T(rx_fills_posted_buffers),
		T(multiport_handshake_like_linux),
		T(port_data_follows_open_state),
		T(control_events_coalesce),
		T(hostile_control_messages),
		T(control_out_of_order),
		T(resize),
		T(resize_without_size_feature),
		T(hotplug),
		T(emergency_write),
		T(emergency_write_needs_feature),
		T(reset_and_reprobe),
		T(small_control_buffer),
		T(init_rejects_bad_config),
		T(host_unix_socket_port),
		T(host_pty_port),
	};

	return cmocka_run_group_tests_name("console", tests, NULL, NULL);
}
