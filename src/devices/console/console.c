/* SPDX-License-Identifier: MIT */
/*
 * virtio-console device model (virtio 1.2, 5.3 "Console Device"): ports, the multiport
 * control protocol, config space. No transport knowledge, no allocation after init, no
 * system calls: bytes move through each port's host table (console-host.c for fds) on
 * iovecs that point into guest memory.
 *
 * Control messages to the driver are not queued one by one: each port keeps a small set of
 * pending events (ADD, CONSOLE, NAME, OPEN, RESIZE, REMOVE), sent in that order whenever the
 * driver has control receive buffers. A host that opens and closes a port a million times
 * while the driver posts no buffer costs one bit, and the driver still learns the last state.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "virtio-backend.h"
#include "virtio-backend/devices/console.h"
#include "internal/check.h"
#include "internal/compiler.h"

enum {
	PEND_ADD = 1u << 0,
	PEND_CONSOLE = 1u << 1,
	PEND_NAME = 1u << 2,
	PEND_OPEN = 1u << 3,
	PEND_RESIZE = 1u << 4,
	PEND_REMOVE = 1u << 5,
};

/* Longest write handed to a port at once (the ops return int64_t, hosts write less). */
#define TX_SLICE_MAX	(1u << 30)

struct con_port {
	struct vb_console	*con;
	const struct vb_console_port_ops *ops;
	void			*ctx;
	uint16_t		id;
	uint8_t			name_len;
	uint8_t			pend;		/* PEND_* for the driver */
	bool			console;
	bool			host_open;	/* the host side is connected */
	bool			present;	/* the host wants the port to exist */
	bool			added;		/* PORT_ADD sent, no PORT_REMOVE since */
	bool			ready;		/* PORT_READY(1) received */
	bool			guest_open;	/* PORT_OPEN(1) received */
	bool			want_in, want_out;	/* last told to ops->want */
	bool			rx_held, tx_held;
	uint32_t		tx_off;		/* bytes of the held tx chain written */
	struct vb_chain		rx, tx;		/* held chains */
	struct vb_iov		rx_rd[VB_CONSOLE_CHAIN_IOV], rx_wr[VB_CONSOLE_CHAIN_IOV];
	struct vb_iov		tx_rd[VB_CONSOLE_TX_IOV], tx_wr[VB_CONSOLE_CHAIN_IOV];
	struct vb_iov		slice[VB_CONSOLE_TX_IOV];
	char			name[VB_CONSOLE_NAME_MAX + 1];
};

struct vb_console {
	struct vb_device_ops	dops;
	struct vb_dev		*dev;		/* learnt from the hooks */
	uint64_t		features;	/* negotiated at activate */
	uint16_t		cols, rows;
	uint16_t		nports;
	bool			multi;		/* MULTIPORT negotiated */
	bool			active;		/* between activate and reset */
	bool			drv_ready;	/* DEVICE_READY(1) received */
	bool			heap;
	struct vb_console_stats	st;
	struct vb_iov		c_rd[VB_CONSOLE_CHAIN_IOV], c_wr[VB_CONSOLE_CHAIN_IOV];
	struct con_port		port[];
};

#define Q_CTRL_RX	2u	/* control receiveq: device to driver */
#define Q_CTRL_TX	3u	/* control transmitq: driver to device */

static uint16_t rx_qidx(uint16_t id)
{
	return id == 0 ? 0 : (uint16_t)(2u * id + 2u);
}

static struct vb_vq *port_vq(struct vb_console *con, uint16_t id, bool tx)
{
	if (!con->dev)
		return NULL;
	return vb_dev_queue(con->dev, (uint16_t)(rx_qidx(id) + (tx ? 1u : 0u)));
}

static bool has(const struct vb_console *con, unsigned int bit)
{
	return (con->features >> bit) & 1u;
}

static void set_want(struct con_port *p, bool in, bool out)
{
	if (p->want_in == in && p->want_out == out)
		return;
	p->want_in = in;
	p->want_out = out;
	if (p->ops->want)
		p->ops->want(p->ctx, in, out);
}

/* The driver may receive on the port: without MULTIPORT port 0 once running; with it, a
 * port the driver made ready and opened (Linux throws away data of a port no process has
 * open, virtio 1.2, 5.3.6.2 leaves delivery to closed ports to the device). */
/* @satisfy{VB-REQ-CONSOLE-025} */
static bool can_rx(const struct vb_console *con, const struct con_port *p)
{
	if (!con->active)
		return false;
	if (!con->multi)
		return p->id == 0;
	return p->added && p->ready && p->guest_open;
}

static void drop_held(struct con_port *p)
{
	/* The chains belong to a ring that was reset: nothing is pushed. */
	p->rx_held = false;
	p->tx_held = false;
	p->tx_off = 0;
}

/* ---- control queue ---------------------------------------------------------------------- */

static unsigned int next_event(const struct con_port *p, uint16_t *event, uint16_t *value)
{
	static const struct { uint8_t bit; uint16_t event; } order[] = {
		{ PEND_ADD, VB_VIRTIO_CONSOLE_DEVICE_ADD },
		{ PEND_CONSOLE, VB_VIRTIO_CONSOLE_CONSOLE_PORT },
		{ PEND_NAME, VB_VIRTIO_CONSOLE_PORT_NAME },
		{ PEND_OPEN, VB_VIRTIO_CONSOLE_PORT_OPEN },
		{ PEND_RESIZE, VB_VIRTIO_CONSOLE_RESIZE },
		{ PEND_REMOVE, VB_VIRTIO_CONSOLE_DEVICE_REMOVE },
	};

	for (unsigned int i = 0; i < sizeof(order) / sizeof(order[0]); i++) {
		if (p->pend & order[i].bit) {
			*event = order[i].event;
			*value = order[i].bit == PEND_OPEN ? (uint16_t)p->host_open : 1u;
			return order[i].bit;
		}
	}
	return 0;
}

/* Send pending control events while the driver has control receive buffers.
 * @satisfy{VB-REQ-CONSOLE-022} */
static void flush_ctrl(struct vb_console *con)
{
	struct vb_vq *vq;
	bool pushed = false;

	if (!con->multi || !con->active || !con->dev)
		return;
	vq = vb_dev_queue(con->dev, Q_CTRL_RX);
	if (!vq || !vb_vq_is_ready(vq))
		return;
	for (uint16_t i = 0; i < con->nports; i++) {
		struct con_port *p = &con->port[i];

		while (p->pend) {
			struct vb_chain c = { .read = con->c_rd, .write = con->c_wr,
					      .max_read = VB_CONSOLE_CHAIN_IOV,
					      .max_write = VB_CONSOLE_CHAIN_IOV };
			struct vb_virtio_console_control m;
			struct vb_virtio_console_resize rs;
			uint16_t event = 0, value = 0;
			unsigned int bit = next_event(p, &event, &value);
			size_t extra = 0;
			const void *payload = NULL;

			if (vb_vq_pop(vq, &c) <= 0)
				goto out;	/* no buffer: the next c_ivq kick resumes */
			p->pend = (uint8_t)(p->pend & ~bit);
			m.id = vb_cpu_to_le32(p->id);
			m.event = vb_cpu_to_le16(event);
			m.value = vb_cpu_to_le16(value);
			if (bit == PEND_NAME) {
				payload = p->name;
				extra = p->name_len;
			} else if (bit == PEND_RESIZE) {
				/* virtio 1.2, 5.3.6.2: struct virtio_console_resize, cols first. */
				rs.cols = vb_cpu_to_le16(con->cols);
				rs.rows = vb_cpu_to_le16(con->rows);
				payload = &rs;
				extra = sizeof(rs);
			}
			if (bit == PEND_ADD)
				p->added = true;
			else if (bit == PEND_REMOVE)
				p->added = false;
			/* A buffer too small for the message gets nothing: only a driver
			 * breaking 5.3.6.2 posts control buffers under 8 bytes + name. */
			if (c.write_len < sizeof(m) + extra) {
				con->st.ctrl_bad++;
				(void)vb_vq_push(vq, &c, 0);
			} else {
				(void)vb_chain_write(&c, 0, &m, sizeof(m));
				if (extra)
					(void)vb_chain_write(&c, sizeof(m), payload, extra);
				con->st.ctrl_out++;
				(void)vb_vq_push(vq, &c, (uint32_t)(sizeof(m) + extra));
			}
			pushed = true;
		}
	}
out:
	if (pushed)
		(void)vb_vq_notify(vq);
}

static void port_update_want(struct vb_console *con, struct con_port *p)
{
	set_want(p, can_rx(con, p), p->tx_held && p->host_open);
}

/* One message from the driver. @satisfy{VB-REQ-CONSOLE-020} @satisfy{VB-REQ-CONSOLE-021} */
static void handle_ctrl(struct vb_console *con, const struct vb_chain *c)
{
	struct vb_virtio_console_control m;
	struct con_port *p;
	uint32_t id;
	uint16_t event, value;

	con->st.ctrl_in++;
	/* virtio 1.2, 5.3.6.2 "Multiport Device Operation": a message is struct
	 * virtio_console_control; anything shorter is malformed and ignored. */
	if (vb_chain_read(c, 0, &m, sizeof(m)) < 0)
		goto bad;
	id = vb_le32_to_cpu(m.id);
	event = vb_le16_to_cpu(m.event);
	value = vb_le16_to_cpu(m.value);
	if (event == VB_VIRTIO_CONSOLE_DEVICE_READY) {
		/* Once per reset; value 0 means the driver failed to initialise. */
		if (con->drv_ready || value != 1)
			goto bad;
		con->drv_ready = true;
		for (uint16_t i = 0; i < con->nports; i++)
			if (con->port[i].present)
				con->port[i].pend = PEND_ADD;
		return;
	}
	/* Every other driver event names a port the device added (5.3.6.2: id). */
	if (!con->drv_ready || id >= con->nports)
		goto bad;
	p = &con->port[id];
	if (!p->added || (p->pend & PEND_REMOVE))
		goto bad;
	switch (event) {
	case VB_VIRTIO_CONSOLE_PORT_READY:
		if (value != 1) {
			/* The driver could not set the port up: it stays unusable. */
			p->ready = false;
			p->guest_open = false;
			break;
		}
		if (p->ready)
			goto bad;
		p->ready = true;
		p->pend = (uint8_t)(p->pend | (p->console ? PEND_CONSOLE : 0) |
				    (p->name_len ? PEND_NAME : 0) | (p->host_open ? PEND_OPEN : 0));
		break;
	case VB_VIRTIO_CONSOLE_PORT_OPEN:
		if (!p->ready || value > 1)
			goto bad;
		if (p->guest_open != (value == 1)) {
			p->guest_open = value == 1;
			if (p->ops->guest_open)
				p->ops->guest_open(p->ctx, p->guest_open);
		}
		break;
	default:
		/* Device-to-driver events and unknown ones. */
		goto bad;
	}
	port_update_want(con, p);
	return;
bad:
	con->st.ctrl_bad++;
}

static void run_ctrl_tx(struct vb_console *con, struct vb_vq *vq)
{
	struct vb_chain c;
	bool pushed = false;

	for (;;) {
		c = (struct vb_chain){ .read = con->c_rd, .write = con->c_wr,
				       .max_read = VB_CONSOLE_CHAIN_IOV,
				       .max_write = VB_CONSOLE_CHAIN_IOV };
		if (vb_vq_pop(vq, &c) <= 0)
			break;
		handle_ctrl(con, &c);
		(void)vb_vq_push(vq, &c, 0);
		pushed = true;
	}
	if (pushed)
		(void)vb_vq_notify(vq);
	flush_ctrl(con);
}

/* ---- data ------------------------------------------------------------------------------- */

static bool pop_port(struct con_port *p, struct vb_vq *vq, bool tx)
{
	struct vb_chain *c = tx ? &p->tx : &p->rx;

	*c = (struct vb_chain){ .read = tx ? p->tx_rd : p->rx_rd,
				.write = tx ? p->tx_wr : p->rx_wr,
				.max_read = tx ? VB_CONSOLE_TX_IOV : VB_CONSOLE_CHAIN_IOV,
				.max_write = VB_CONSOLE_CHAIN_IOV };
	return vb_vq_pop(vq, c) > 0;
}

/* Guest output of port p: write every transmit chain to the host, zero copy.
 * @satisfy{VB-REQ-CONSOLE-011} */
static void run_tx(struct vb_console *con, struct con_port *p)
{
	struct vb_vq *vq = port_vq(con, p->id, true);
	bool pushed = false;

	if (!vq || !vb_vq_is_ready(vq))
		return;
	for (;;) {
		struct vb_iov_cursor cur;
		uint32_t len;
		int64_t r;
		int n;

		if (!p->tx_held) {
			if (!pop_port(p, vq, true))
				break;
			p->tx_off = 0;
		}
		p->tx_held = false;
		/* Writable descriptors in a transmit buffer carry nothing: ignored. */
		if (!p->host_open || (con->multi && !p->added)) {
			con->st.tx_dropped += p->tx.read_len - p->tx_off;
			goto done;
		}
		if (p->tx_off >= p->tx.read_len)
			goto done;
		vb_iov_cursor_init(&cur, p->tx.read, p->tx.n_read);
		vb_iov_cursor_skip(&cur, p->tx_off);
		len = p->tx.read_len - p->tx_off;
		if (len > TX_SLICE_MAX)
			len = TX_SLICE_MAX;
		n = vb_iov_cursor_slice(&cur, len, p->slice, VB_CONSOLE_TX_IOV);
		if (VB_NEVER(n < 0))
			goto done;
		r = p->ops->write(p->ctx, p->slice, (unsigned int)n);
		if (r == -EAGAIN || (r >= 0 && (uint64_t)r < len)) {
			if (r > 0) {
				p->tx_off += (uint32_t)r;
				con->st.tx_bytes += (uint64_t)r;
			}
			p->tx_held = true;	/* resumed by vb_console_port_output() */
			break;
		}
		if (r < 0) {
			con->st.tx_dropped += len;
			goto done;
		}
		con->st.tx_bytes += (uint64_t)r;
		p->tx_off += (uint32_t)r;
		if (p->tx_off < p->tx.read_len) {
			p->tx_held = true;
			continue;
		}
done:
		/* virtio 1.2, 5.3.6.1: the device writes nothing into a transmit buffer. */
		(void)vb_vq_push(vq, &p->tx, 0);
		pushed = true;
	}
	if (pushed)
		(void)vb_vq_notify(vq);
	port_update_want(con, p);
}

/* Host input of port p into the guest's receive buffers, zero copy.
 * @satisfy{VB-REQ-CONSOLE-010} */
static int64_t run_rx(struct vb_console *con, struct con_port *p)
{
	struct vb_vq *vq = port_vq(con, p->id, false);
	int64_t total = 0;
	bool pushed = false, more = true;

	if (!can_rx(con, p) || !vq || !vb_vq_is_ready(vq)) {
		port_update_want(con, p);
		return 0;
	}
	for (;;) {
		int64_t r;

		if (!p->rx_held && !pop_port(p, vq, false)) {
			more = false;	/* out of buffers: the next rx kick asks again */
			break;
		}
		p->rx_held = false;
		if (p->rx.write_len == 0) {
			(void)vb_vq_push(vq, &p->rx, 0);	/* nothing to fill */
			pushed = true;
			continue;
		}
		r = p->ops->read(p->ctx, p->rx.write, p->rx.n_write);
		if (r <= 0) {
			p->rx_held = true;
			more = r == 0 || r == -EAGAIN;
			break;
		}
		if ((uint64_t)r > p->rx.write_len)
			r = p->rx.write_len;	/* a host bug must not claim more */
		(void)vb_vq_push(vq, &p->rx, (uint32_t)r);
		pushed = true;
		total += r;
		con->st.rx_bytes += (uint64_t)r;
	}
	if (pushed)
		(void)vb_vq_notify(vq);
	set_want(p, more, p->tx_held && p->host_open);
	return total;
}

/* ---- hooks ------------------------------------------------------------------------------ */

static void fill_config(const struct vb_console *con, struct vb_virtio_console_config *c)
{
	c->cols = vb_cpu_to_le16(con->cols);
	c->rows = vb_cpu_to_le16(con->rows);
	c->max_nr_ports = vb_cpu_to_le32(con->nports);
	c->emerg_wr = vb_cpu_to_le32(0);
}

/* @satisfy{VB-REQ-CONSOLE-003} */
static int con_config_read(struct vb_dev *dev, uint32_t off, void *buf, uint32_t len)
{
	struct vb_console *con = vb_dev_priv(dev);
	struct vb_virtio_console_config c;

	con->dev = dev;
	if (VB_NEVER(off > sizeof(c) || len > sizeof(c) - off))
		return -EINVAL;
	fill_config(con, &c);
	memcpy(buf, (const uint8_t *)&c + off, len);
	return 0;
}

/* virtio 1.2, 5.3.4 "Device configuration layout": only emerg_wr is writable, with
 * EMERG_WRITE; the driver writes one character to port 0. @satisfy{VB-REQ-CONSOLE-005} */
static int con_config_write(struct vb_dev *dev, uint32_t off, const void *buf, uint32_t len)
{
	struct vb_console *con = vb_dev_priv(dev);
	struct con_port *p = &con->port[0];
	uint8_t ch;
	struct vb_iov iov = { &ch, 1 };

	con->dev = dev;
	if (off != VB_VIRTIO_CONSOLE_CONFIG_EMERG_WR || len == 0 || len > 4 ||
	    !vb_dev_has_feature(dev, VB_VIRTIO_CONSOLE_F_EMERG_WRITE))
		return -ENOTSUP;
	/* The character is the low byte of the little-endian field. */
	memcpy(&ch, buf, 1);
	con->st.emerg++;
	if (!p->host_open || p->ops->write(p->ctx, &iov, 1) != 1)
		con->st.tx_dropped++;
	else
		con->st.tx_bytes++;
	return 0;
}

/* @satisfy{VB-REQ-CONSOLE-002} */
static int con_activate(struct vb_dev *dev, uint64_t features)
{
	struct vb_console *con = vb_dev_priv(dev);

	con->dev = dev;
	con->features = features;
	con->multi = has(con, VB_VIRTIO_CONSOLE_F_MULTIPORT);
	con->active = true;
	/* Without MULTIPORT port 0 exists from DRIVER_OK on (virtio 1.2, 5.3.6 "Device
	 * Operation"); the host learns it may deliver input. */
	for (uint16_t i = 0; i < con->nports; i++)
		port_update_want(con, &con->port[i]);
	return 0;
}

static void con_kick(struct vb_dev *dev, struct vb_vq *vq)
{
	struct vb_console *con = vb_dev_priv(dev);
	uint16_t qi = vb_vq_index(vq);
	uint16_t id;

	con->dev = dev;
	if (qi == Q_CTRL_RX || qi == Q_CTRL_TX) {
		if (!con->multi) {
			/* Control queues exist only with MULTIPORT (5.3.2): drain and ignore. */
			struct vb_chain c = { .read = con->c_rd, .write = con->c_wr,
					      .max_read = VB_CONSOLE_CHAIN_IOV,
					      .max_write = VB_CONSOLE_CHAIN_IOV };

			while (vb_vq_pop(vq, &c) > 0)
				(void)vb_vq_push(vq, &c, 0);
			(void)vb_vq_notify(vq);
			return;
		}
		if (qi == Q_CTRL_RX)
			flush_ctrl(con);
		else
			run_ctrl_tx(con, vq);
		return;
	}
	id = qi < 2 ? 0 : (uint16_t)((qi - 2u) / 2u);
	if (VB_NEVER(id >= con->nports))
		return;
	if (qi & 1u) {
		run_tx(con, &con->port[id]);
	} else {
		/* New receive buffers: take what the host has now, and have it tell us
		 * when there is more. */
		run_rx(con, &con->port[id]);
	}
}

static void con_reset(struct vb_dev *dev)
{
	struct vb_console *con = vb_dev_priv(dev);

	con->dev = dev;
	con->active = false;
	con->multi = false;
	con->drv_ready = false;
	con->features = 0;
	for (uint16_t i = 0; i < con->nports; i++) {
		struct con_port *p = &con->port[i];

		drop_held(p);
		p->pend = 0;
		p->added = false;
		p->ready = false;
		if (p->guest_open && p->ops->guest_open)
			p->ops->guest_open(p->ctx, false);
		p->guest_open = false;
		set_want(p, false, false);
	}
}

static void con_queue_reset(struct vb_dev *dev, struct vb_vq *vq)
{
	struct vb_console *con = vb_dev_priv(dev);
	uint16_t qi = vb_vq_index(vq);
	struct con_port *p;

	con->dev = dev;
	if (qi == Q_CTRL_RX || qi == Q_CTRL_TX)
		return;
	p = &con->port[qi < 2 ? 0 : (qi - 2u) / 2u];
	if (qi & 1u) {
		p->tx_held = false;
		p->tx_off = 0;
	} else {
		p->rx_held = false;
	}
	port_update_want(con, p);
}

/* ---- host calls ------------------------------------------------------------------------- */

VB_EXPORT int64_t vb_console_port_input(struct vb_console *con, uint16_t port)
{
	if (!con || port >= con->nports)
		return -EINVAL;
	return run_rx(con, &con->port[port]);
}

VB_EXPORT int vb_console_port_output(struct vb_console *con, uint16_t port)
{
	if (!con || port >= con->nports)
		return -EINVAL;
	run_tx(con, &con->port[port]);
	return 0;
}

VB_EXPORT int vb_console_port_set_connected(struct vb_console *con, uint16_t port,
					    bool connected)
{
	struct con_port *p;

	if (!con || port >= con->nports)
		return -EINVAL;
	p = &con->port[port];
	if (p->host_open == connected)
		return 0;
	p->host_open = connected;
	if (con->multi && p->ready) {
		p->pend |= PEND_OPEN;
		flush_ctrl(con);
	}
	if (connected && p->tx_held)
		run_tx(con, p);
	else if (!connected && p->tx_held)
		run_tx(con, p);		/* drops what the host can no longer take */
	port_update_want(con, p);
	return 0;
}

VB_EXPORT int vb_console_port_set_present(struct vb_console *con, uint16_t port, bool present)
{
	struct con_port *p;

	if (!con || port == 0 || port >= con->nports)
		return -EINVAL;
	if (!con->multi)
		return -ENOTSUP;
	p = &con->port[port];
	if (p->present == present)
		return 0;
	p->present = present;
	if (!con->drv_ready)
		return 0;
	if (present) {
		p->pend = PEND_ADD;
	} else {
		/* virtio 1.2, 5.3.6.2: PORT_REMOVE; held chains stay with the driver's
		 * queues, which it tears down. */
		if (p->guest_open && p->ops->guest_open)
			p->ops->guest_open(p->ctx, false);
		p->ready = false;
		p->guest_open = false;
		p->pend = p->added || (p->pend & PEND_ADD) ? PEND_REMOVE : 0;
		if (!(p->pend & PEND_REMOVE))
			p->added = false;
		drop_held(p);
		set_want(p, false, false);
	}
	flush_ctrl(con);
	return 0;
}

VB_EXPORT int vb_console_set_size(struct vb_console *con, uint16_t cols, uint16_t rows)
{
	int ret = 0;

	if (!con)
		return -EINVAL;
	con->cols = cols;
	con->rows = rows;
	if (!con->active)
		return 0;
	if (con->multi) {
		for (uint16_t i = 0; i < con->nports; i++)
			if (con->port[i].console && con->port[i].ready)
				con->port[i].pend |= PEND_RESIZE;
		flush_ctrl(con);
	}
	/* virtio 1.2, 5.3.6 "Device Operation": with F_SIZE a configuration change tells a
	 * single-port driver (Linux re-reads cols/rows for port 0). */
	if (has(con, VB_VIRTIO_CONSOLE_F_SIZE) && con->dev)
		ret = vb_dev_config_changed(con->dev);
	return ret;
}

VB_EXPORT bool vb_console_port_guest_open(const struct vb_console *con, uint16_t port)
{
	if (!con || port >= con->nports || !con->active)
		return false;
	return con->multi ? con->port[port].guest_open : port == 0;
}

VB_EXPORT void vb_console_get_stats(const struct vb_console *con, struct vb_console_stats *st)
{
	*st = con->st;
}

/* ---- construction ----------------------------------------------------------------------- */

static int check_cfg(const struct vb_console_config *cfg)
{
	if (!cfg || cfg->version < VB_CONSOLE_CONFIG_V1 || !cfg->ports || cfg->num_ports == 0 ||
	    cfg->num_ports > VB_CONSOLE_MAX_PORTS || cfg->queue_num_max > VB_VQ_MAX_SIZE)
		return -EINVAL;
	if (cfg->num_ports > 1 && !(cfg->flags & VB_CONSOLE_CFG_MULTIPORT))
		return -EINVAL;
	if (cfg->ports[0].absent)
		return -EINVAL;
	for (uint16_t i = 0; i < cfg->num_ports; i++) {
		const struct vb_console_port_ops *o = cfg->ports[i].ops;

		if (!o || o->version < VB_CONSOLE_PORT_OPS_V1 || !o->write || !o->read)
			return -EINVAL;
	}
	return 0;
}

VB_EXPORT size_t vb_console_size(const struct vb_console_config *cfg)
{
	if (check_cfg(cfg))
		return 0;
	return sizeof(struct vb_console) + sizeof(struct con_port) * cfg->num_ports;
}

static uint64_t offered_features(const struct vb_console_config *cfg)
{
	uint64_t f = VB_BIT(VB_VIRTIO_F_VERSION_1) | VB_BIT(VB_VIRTIO_F_INDIRECT_DESC) |
		     VB_BIT(VB_VIRTIO_F_EVENT_IDX) | VB_BIT(VB_VIRTIO_F_RING_PACKED) |
		     VB_BIT(VB_VIRTIO_F_RING_RESET);

	if (cfg->flags & VB_CONSOLE_CFG_SIZE)
		f |= VB_BIT(VB_VIRTIO_CONSOLE_F_SIZE);
	if (cfg->flags & VB_CONSOLE_CFG_MULTIPORT)
		f |= VB_BIT(VB_VIRTIO_CONSOLE_F_MULTIPORT);
	if (cfg->flags & VB_CONSOLE_CFG_EMERG_WRITE)
		f |= VB_BIT(VB_VIRTIO_CONSOLE_F_EMERG_WRITE);
	/* Ports beyond 0 exist only with MULTIPORT: it cannot be switched off then. */
	if (cfg->num_ports > 1)
		f &= ~(cfg->features_off & ~VB_BIT(VB_VIRTIO_CONSOLE_F_MULTIPORT));
	else
		f &= ~cfg->features_off;
	return f | VB_BIT(VB_VIRTIO_F_VERSION_1);
}

VB_EXPORT int vb_console_init(void *storage, size_t storage_len,
			      const struct vb_console_config *cfg, struct vb_console **out)
{
	struct vb_console *con;
	size_t need;
	uint64_t f;

	if (!storage || ((uintptr_t)storage & 7u) || !out)
		return -EINVAL;
	need = vb_console_size(cfg);
	if (!need)
		return -EINVAL;
	if (storage_len < need)
		return -ENOSPC;
	memset(storage, 0, need);
	con = storage;
	con->cols = cfg->cols;
	con->rows = cfg->rows;
	con->nports = cfg->num_ports;
	for (uint16_t i = 0; i < cfg->num_ports; i++) {
		const struct vb_console_port_config *pc = &cfg->ports[i];
		struct con_port *p = &con->port[i];

		p->con = con;
		p->id = i;
		p->ops = pc->ops;
		p->ctx = pc->ctx;
		p->console = pc->console;
		p->host_open = pc->connected;
		p->present = !pc->absent;
		if (pc->name) {
			size_t n = strlen(pc->name);

			if (n > VB_CONSOLE_NAME_MAX)
				n = VB_CONSOLE_NAME_MAX;
			memcpy(p->name, pc->name, n);
			p->name_len = (uint8_t)n;
		}
	}
	f = offered_features(cfg);
	con->dops = (struct vb_device_ops){
		.version = VB_DEVICE_OPS_V1,
		.device_id = VB_VIRTIO_ID_CONSOLE,
		.features = f,
		/* virtio 1.2, 5.3.2: port 0's pair, the control pair, then a pair per port. */
		.num_queues = (f & VB_BIT(VB_VIRTIO_CONSOLE_F_MULTIPORT)) ?
			      (uint16_t)(2u * (cfg->num_ports + 1u)) : 2u,
		.queue_num_max = cfg->queue_num_max ? cfg->queue_num_max :
						      VB_CONSOLE_QUEUE_NUM_DEFAULT,
		.config_len = VB_VIRTIO_CONSOLE_CONFIG_LEN,
		.config_read = con_config_read,
		.config_write = con_config_write,
		.activate = con_activate,
		.kick = con_kick,
		.reset = con_reset,
		.queue_reset = con_queue_reset,
	};
	*out = con;
	return 0;
}

VB_EXPORT int vb_console_create(const struct vb_console_config *cfg, struct vb_console **out)
{
	size_t len = vb_console_size(cfg);
	void *mem;
	int ret;

	if (!len || !out)
		return -EINVAL;
	mem = malloc(len);
	if (!mem)
		return -ENOMEM;
	ret = vb_console_init(mem, len, cfg, out);
	if (ret) {
		free(mem);
		return ret;
	}
	(*out)->heap = true;
	return 0;
}

VB_EXPORT void vb_console_destroy(struct vb_console *con)
{
	if (con && con->heap)
		free(con);
}

VB_EXPORT const struct vb_device_ops *vb_console_device_ops(const struct vb_console *con)
{
	return &con->dops;
}
