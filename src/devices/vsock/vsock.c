/* SPDX-License-Identifier: MIT */
/*
 * virtio-vsock device model (virtio 1.2, 5.10 "Socket Device") with the hybrid unix-socket
 * host side of Firecracker and vhost-device-vsock: packet validation, the connection table
 * (allocated once), credit-based flow control, and the host sockets behind one epoll fd.
 *
 * Directions, named from the guest as the queues are: "tx" is guest -> host (the tx queue,
 * written to host sockets), "rx" is host -> guest (read from host sockets into rx buffers).
 *
 * Connection states:
 *   LINE      a host client was accepted; its "CONNECT <port>\n" line is being read
 *   REQUEST   the model sent (or will send) REQUEST to the guest; waits for RESPONSE
 *   OPEN      data flows both ways
 *   CLOSING   an RST is queued for the guest; the slot is freed when it is sent
 *
 * Control packets for a connection are bits in conn->pend, sent when rx buffers are there;
 * RSTs for packets that match no connection wait in a small ring (rst[]); when that ring
 * cannot take a whole tx batch the model stops taking tx buffers until rx buffers drain it,
 * so a guest that gives no rx buffers slows itself down and never grows the model's memory.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <unistd.h>

#include "virtio-backend.h"
#include "virtio-backend/devices/vsock.h"
#include "internal/check.h"
#include "internal/compiler.h"

#define TX_BATCH	16u	/* tx chains popped per round */
#define TX_IOV		64u	/* iovecs of a tx chain (Linux: header, linear part, 17 frags) */
#define RX_STASH	32u	/* rx chains popped ahead and not yet filled */
#define RX_IOV		16u	/* writable iovecs of an rx chain */
#define RX_READV_IOV	64u	/* iovecs of one readv over several rx chains */
#define RST_RING	64u	/* RSTs for packets without a connection (power of two) */
#define EV_BATCH	64u	/* epoll events per vb_vsock_process() round */
#define LINE_MAX_LEN	24u	/* "CONNECT 4294967295\n" is 19 bytes */
#define EP_LISTEN	UINT64_MAX
#define EP_SELF		(UINT64_MAX - 1u)
#define TX_ROUNDS	64u	/* tx batches per call before coming back through self_fd */
#define PUMP_ROUNDS	64u	/* rx/tx alternations per call, likewise */

enum conn_state { CS_FREE = 0, CS_LINE, CS_REQUEST, CS_OPEN, CS_CLOSING };

/* conn->pend bits, in the order they are sent. */
#define P_RST		(1u << 0)
#define P_REQUEST	(1u << 1)
#define P_RESPONSE	(1u << 2)
#define P_CREDIT	(1u << 3)
#define P_SHUTDOWN	(1u << 4)

#define NO_CONN		UINT32_MAX

struct conn {
	uint32_t	local_port;	/* host side port */
	uint32_t	peer_port;	/* guest side port */
	int		fd;		/* host unix socket, -1 if none */
	uint8_t		state;		/* enum conn_state */
	uint8_t		pend;		/* P_* */
	uint8_t		shut_to_guest;	/* SHUTDOWN flags to send */
	bool		readable;	/* host socket may have data (edge-triggered) */
	bool		hup;		/* the host hung up: read on to EOF, no edge will come */
	bool		host_eof;	/* host socket gave EOF: no more data for the guest */
	bool		guest_no_rcv;	/* guest SHUTDOWN RCV: send it no more data */
	bool		guest_no_send;	/* guest SHUTDOWN SEND: host write side to close */
	bool		host_wr_shut;	/* shutdown(SHUT_WR) done */
	bool		queued;		/* on the work list */
	uint8_t		line_len;
	char		line[LINE_MAX_LEN];
	/* Credit (virtio 1.2, 5.10.6.3 "Buffer Space Management"). */
	uint32_t	peer_buf_alloc;	/* guest's receive buffer */
	uint32_t	peer_fwd_cnt;	/* bytes the guest consumed */
	uint32_t	tx_cnt;		/* bytes sent to the guest */
	uint32_t	rx_cnt;		/* bytes received from the guest */
	uint32_t	fwd_cnt;	/* of those, bytes written to the host socket */
	uint32_t	fwd_told;	/* fwd_cnt last sent to the guest */
	/* Guest bytes the host socket did not take yet: a ring of buf_alloc bytes. */
	uint8_t		*buf;
	uint32_t	buf_head;	/* offset of the oldest byte */
	uint32_t	buf_len;	/* bytes held */
	uint32_t	hnext;		/* hash chain */
	uint32_t	wnext;		/* work list */
};

/* An RST owed for a packet: always from the host to the guest's real CID, whatever CIDs a
 * bad packet named (the device reaches nobody else), the packet's ports swapped. */
struct rst_ent {
	uint32_t	src_port;
	uint32_t	dst_port;
};

struct rx_slot {
	struct vb_chain	ch;
	struct vb_iov	rd[2];
	struct vb_iov	wr[RX_IOV];
};

struct tx_slot {
	struct vb_chain	ch;
	struct vb_iov	rd[TX_IOV];
	struct vb_iov	wr[2];
};

struct vb_vsock {
	struct vb_device_ops	dops;
	struct vb_vsock_config	cfg;
	char			uds_path[VB_VSOCK_UDS_PATH_MAX + 1];
	struct vb_dev		*dev;		/* learnt from the hooks */
	uint64_t		features;
	bool			active;		/* DRIVER_OK seen, no reset since */
	bool			tx_stalled;	/* RST ring full: tx waits for rx */
	bool			event_pending;	/* TRANSPORT_RESET to deliver */
	bool			listen_paused;	/* out of fds: listener out of the epoll set */
	int			epfd;
	int			lfd;		/* listening socket */
	int			self_fd;	/* eventfd: work left over, come back */
	uint32_t		max_conns;
	uint32_t		buf_alloc;
	uint32_t		n_conns;
	uint32_t		next_port;	/* local port allocator for host clients */
	uint32_t		hmask;
	uint32_t		*hash;		/* hmask + 1 buckets of conn indices */
	uint32_t		*free;		/* stack of free conn indices */
	uint32_t		n_free;
	uint32_t		whead, wtail;	/* work list: connections with something to send */
	struct conn		*conns;
	uint8_t			*bufs;
	struct rst_ent		rst[RST_RING];
	uint32_t		rst_head, rst_len;
	/* rx chains popped and not yet used: stash_idx[0..n_stash) name rx_slots. */
	struct rx_slot		rx_slots[RX_STASH];
	uint8_t			stash_idx[RX_STASH];
	uint32_t		n_stash;
	struct tx_slot		tx_slots[TX_BATCH];
	struct vb_vsock_stats	st;
};

/* ---- connection table -------------------------------------------------------------------- */

static uint32_t hash_of(const struct vb_vsock *vs, uint32_t local, uint32_t peer)
{
	uint32_t h = local * 0x9e3779b1u ^ (peer + 0x7f4a7c15u) * 0x85ebca6bu;

	return (h ^ (h >> 16)) & vs->hmask;
}

static struct conn *conn_find(struct vb_vsock *vs, uint32_t local, uint32_t peer)
{
	uint32_t i = vs->hash[hash_of(vs, local, peer)];

	while (i != NO_CONN) {
		struct conn *c = &vs->conns[i];

		if (c->local_port == local && c->peer_port == peer && c->state != CS_LINE)
			return c;
		i = c->hnext;
	}
	return NULL;
}

static uint32_t conn_idx(const struct vb_vsock *vs, const struct conn *c)
{
	return (uint32_t)(c - vs->conns);
}

static void hash_add(struct vb_vsock *vs, struct conn *c)
{
	uint32_t b = hash_of(vs, c->local_port, c->peer_port);

	c->hnext = vs->hash[b];
	vs->hash[b] = conn_idx(vs, c);
}

static void hash_del(struct vb_vsock *vs, struct conn *c)
{
	uint32_t *p = &vs->hash[hash_of(vs, c->local_port, c->peer_port)];
	uint32_t me = conn_idx(vs, c);

	while (*p != NO_CONN) {
		if (*p == me) {
			*p = c->hnext;
			return;
		}
		p = &vs->conns[*p].hnext;
	}
}

static struct conn *conn_alloc(struct vb_vsock *vs)
{
	struct conn *c;
	uint32_t i;
	uint8_t *buf;

	if (vs->n_free == 0)
		return NULL;
	i = vs->free[--vs->n_free];
	c = &vs->conns[i];
	buf = c->buf;
	memset(c, 0, sizeof(*c));
	c->buf = buf;
	c->fd = -1;
	c->hnext = c->wnext = NO_CONN;
	vs->n_conns++;
	return c;
}

static void close_fd(struct vb_vsock *vs, struct conn *c)
{
	if (c->fd >= 0) {
		(void)epoll_ctl(vs->epfd, EPOLL_CTL_DEL, c->fd, NULL);
		close(c->fd);
		c->fd = -1;
	}
	c->readable = false;
}

static void listen_resume(struct vb_vsock *vs)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.u64 = EP_LISTEN };

	if (vs->listen_paused && epoll_ctl(vs->epfd, EPOLL_CTL_MOD, vs->lfd, &ev) == 0)
		vs->listen_paused = false;
}

/* Free a slot; it must not be on the work list (queued) any more. */
static void conn_free(struct vb_vsock *vs, struct conn *c)
{
	if (VB_NEVER(c->state == CS_FREE) || VB_NEVER(c->queued))
		return;
	close_fd(vs, c);
	if (c->state != CS_LINE)
		hash_del(vs, c);
	c->state = CS_FREE;
	vs->free[vs->n_free++] = conn_idx(vs, c);
	vs->n_conns--;
	listen_resume(vs);	/* an fd is free again: waiting clients may be accepted */
}

static void work_add(struct vb_vsock *vs, struct conn *c)
{
	uint32_t i = conn_idx(vs, c);

	if (c->queued)
		return;
	c->queued = true;
	c->wnext = NO_CONN;
	if (vs->wtail == NO_CONN)
		vs->whead = i;
	else
		vs->conns[vs->wtail].wnext = i;
	vs->wtail = i;
}

static struct conn *work_pop(struct vb_vsock *vs)
{
	struct conn *c;

	if (vs->whead == NO_CONN)
		return NULL;
	c = &vs->conns[vs->whead];
	vs->whead = c->wnext;
	if (vs->whead == NO_CONN)
		vs->wtail = NO_CONN;
	c->queued = false;
	return c;
}

/* Bytes the guest can still take: virtio 1.2, 5.10.6.3 "Buffer Space Management",
 * peer_free = peer_buf_alloc - (tx_cnt - peer_fwd_cnt). A peer_fwd_cnt ahead of tx_cnt
 * (a guest that lies) makes the difference huge and the credit 0. */
static uint32_t peer_credit(const struct conn *c)
{
	uint32_t inflight = c->tx_cnt - c->peer_fwd_cnt;

	return inflight >= c->peer_buf_alloc ? 0 : c->peer_buf_alloc - inflight;
}

/* Has the connection data for the guest that the guest can take? */
static bool can_send_data(const struct conn *c)
{
	return c->state == CS_OPEN && c->readable && !c->host_eof && !c->guest_no_rcv &&
	       c->fd >= 0 && peer_credit(c) > 0;
}

static bool has_work(const struct conn *c)
{
	return c->pend != 0 || can_send_data(c);
}

static void conn_kick(struct vb_vsock *vs, struct conn *c)
{
	if (has_work(c))
		work_add(vs, c);
}

/* Drop a connection and tell the guest with an RST (the slot is freed once it is sent). */
static void conn_reset(struct vb_vsock *vs, struct conn *c)
{
	close_fd(vs, c);
	if (c->state == CS_LINE) {
		if (!c->queued) {
			conn_free(vs, c);
		} else {
			c->state = CS_CLOSING;	/* freed when the work list reaches it */
			c->pend = 0;
		}
		return;
	}
	c->state = CS_CLOSING;
	c->pend = P_RST;
	c->buf_len = 0;
	work_add(vs, c);
}

/* ---- host sockets ------------------------------------------------------------------------ */

static int epoll_add_conn(struct vb_vsock *vs, struct conn *c)
{
	struct epoll_event ev = {
		.events = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET,
		.data.u64 = conn_idx(vs, c),
	};

	return epoll_ctl(vs->epfd, EPOLL_CTL_ADD, c->fd, &ev) < 0 ? -errno : 0;
}

/* Send guest bytes from the connection's buffer to the host socket. Returns 0, or -EIO if
 * the host socket failed (the caller resets the connection). */
static int buf_flush(struct vb_vsock *vs, struct conn *c)
{
	while (c->buf_len > 0 && c->fd >= 0) {
		struct iovec iov[2];
		struct msghdr mh = { .msg_iov = iov, .msg_iovlen = 1 };
		uint32_t first = vs->buf_alloc - c->buf_head;
		ssize_t n;

		if (first > c->buf_len)
			first = c->buf_len;
		iov[0].iov_base = c->buf + c->buf_head;
		iov[0].iov_len = first;
		if (first < c->buf_len) {
			iov[1].iov_base = c->buf;
			iov[1].iov_len = c->buf_len - first;
			mh.msg_iovlen = 2;
		}
		n = sendmsg(c->fd, &mh, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return errno == EAGAIN || errno == EWOULDBLOCK ? 0 : -EIO;
		}
		c->buf_head = (uint32_t)((c->buf_head + (uint32_t)n) % vs->buf_alloc);
		c->buf_len -= (uint32_t)n;
		c->fwd_cnt += (uint32_t)n;
		vs->st.bytes_to_host += (uint64_t)n;
	}
	return 0;
}

/* After guest bytes reached the host: tell the guest about the room before it runs out
 * (Linux drivers never ask with CREDIT_REQUEST), and close the host write side once the
 * guest said SEND shutdown and everything is written. */
static void after_write(struct vb_vsock *vs, struct conn *c)
{
	if (c->buf_len == 0 && c->guest_no_send && !c->host_wr_shut && c->fd >= 0) {
		(void)shutdown(c->fd, SHUT_WR);
		c->host_wr_shut = true;
	}
	if (c->fwd_cnt - c->fwd_told >= vs->buf_alloc / 2u && c->state == CS_OPEN &&
	    !c->guest_no_send) {
		c->pend |= P_CREDIT;
		work_add(vs, c);
	}
}

static int uds_connect(struct vb_vsock *vs, uint32_t port)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd, n;

	n = snprintf(sa.sun_path, sizeof(sa.sun_path), "%s_%u", vs->uds_path, port);
	if (n < 0 || (size_t)n >= sizeof(sa.sun_path))
		return -ENAMETOOLONG;
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	/* A unix stream connect completes at once, or fails (EAGAIN: backlog full). */
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		n = -errno;
		close(fd);
		return n;
	}
	return fd;
}

/* Read what the host client wrote of its "CONNECT <port>\n" line, never past the line: its
 * data may follow at once and belongs to the guest. */
static void line_read(struct vb_vsock *vs, struct conn *c)
{
	char peek[LINE_MAX_LEN];
	unsigned long port;
	char *end, *nl;
	ssize_t n;
	size_t take;

	n = recv(c->fd, peek, sizeof(peek) - 1u - c->line_len, MSG_PEEK | MSG_DONTWAIT);
	if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
		return;
	if (n <= 0)
		goto bad;
	nl = memchr(peek, '\n', (size_t)n);
	take = nl ? (size_t)(nl - peek) + 1u : (size_t)n;
	n = recv(c->fd, c->line + c->line_len, take, MSG_DONTWAIT);
	if (n != (ssize_t)take)
		goto bad;
	c->line_len = (uint8_t)(c->line_len + take);
	if (!nl) {
		if (c->line_len >= sizeof(c->line) - 1u)
			goto bad;
		return;
	}
	c->line[c->line_len - 1u] = '\0';
	if (strncmp(c->line, "CONNECT ", 8) != 0 || c->line[8] < '0' || c->line[8] > '9')
		goto bad;
	errno = 0;
	port = strtoul(c->line + 8, &end, 10);
	if (errno || (*end != '\0' && strcmp(end, "\r") != 0) || port > UINT32_MAX)
		goto bad;
	/* A local port no connection to that guest port uses (ports 0..1023 left alone). */
	c->peer_port = (uint32_t)port;
	do {
		c->local_port = vs->next_port++;
		if (vs->next_port < 1024u)
			vs->next_port = 1024u;
	} while (conn_find(vs, c->local_port, c->peer_port));
	c->state = CS_REQUEST;
	hash_add(vs, c);
	c->pend = P_REQUEST;
	c->readable = false;	/* data waits for the guest's RESPONSE */
	vs->st.conns_host++;
	work_add(vs, c);
	return;
bad:
	conn_reset(vs, c);
}

static void accept_all(struct vb_vsock *vs)
{
	for (;;) {
		int fd = accept4(vs->lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		struct conn *c;

		if (fd < 0) {
			struct epoll_event ev = { .events = 0, .data.u64 = EP_LISTEN };

			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			/* Out of fds: the client waits in the backlog, and the level-triggered
			 * listener must not spin the host's loop until a connection closes. */
			if ((errno == EMFILE || errno == ENFILE || errno == ENOBUFS ||
			     errno == ENOMEM) &&
			    epoll_ctl(vs->epfd, EPOLL_CTL_MOD, vs->lfd, &ev) == 0)
				vs->listen_paused = true;
			return;
		}
		c = conn_alloc(vs);
		if (!c) {
			close(fd);	/* table full: the client sees EOF */
			continue;
		}
		c->fd = fd;
		c->state = CS_LINE;
		if (epoll_add_conn(vs, c) < 0) {
			conn_free(vs, c);
			continue;
		}
		line_read(vs, c);
	}
}

static void host_event(struct vb_vsock *vs, uint32_t idx, uint32_t events)
{
	struct conn *c;

	if (idx >= vs->max_conns)
		return;
	c = &vs->conns[idx];
	if (c->fd < 0)
		return;
	if (c->state == CS_LINE) {
		line_read(vs, c);
		return;
	}
	if (events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR))
		c->readable = true;
	if (events & (EPOLLRDHUP | EPOLLHUP | EPOLLERR))
		c->hup = true;
	if ((events & (EPOLLOUT | EPOLLERR | EPOLLHUP)) && c->buf_len > 0) {
		if (buf_flush(vs, c) < 0) {
			conn_reset(vs, c);
			return;
		}
		after_write(vs, c);
	}
	conn_kick(vs, c);
}

/* ---- rx: host -> guest ------------------------------------------------------------------- */

static struct vb_vq *queue(struct vb_vsock *vs, uint16_t q)
{
	struct vb_vq *vq;

	if (!vs->dev || !vs->active)
		return NULL;
	vq = vb_dev_queue(vs->dev, q);
	return vq && vb_vq_is_ready(vq) ? vq : NULL;
}

/* The stashed rx chain at position i of the stash. */
static struct rx_slot *stash_at(struct vb_vsock *vs, uint32_t i)
{
	return &vs->rx_slots[vs->stash_idx[i]];
}

/* Make sure at least @want chains are stashed (as far as the driver has buffers); returns
 * the number stashed. A chain without room for a header is returned at once, empty: a
 * driver bug that must not stop the queue. */
static uint32_t stash_fill(struct vb_vsock *vs, struct vb_vq *vq, uint32_t want)
{
	if (want > RX_STASH)
		want = RX_STASH;
	while (vs->n_stash < want) {
		/* The free slots are those not named in stash_idx[0..n_stash). */
		uint8_t used[RX_STASH] = { 0 };
		struct rx_slot *s;
		uint32_t k;
		int ret;

		for (uint32_t i = 0; i < vs->n_stash; i++)
			used[vs->stash_idx[i]] = 1;
		for (k = 0; k < RX_STASH && used[k]; k++)
			;
		if (VB_NEVER(k == RX_STASH))
			break;
		s = &vs->rx_slots[k];
		s->ch = (struct vb_chain)VB_CHAIN_INIT(s->rd, s->wr);
		ret = vb_vq_pop(vq, &s->ch);
		if (ret <= 0)
			break;
		if (s->ch.write_len < VB_VIRTIO_VSOCK_HDR_LEN) {
			vs->st.rx_short++;
			(void)vb_vq_push(vq, &s->ch, 0);
			continue;
		}
		vs->stash_idx[vs->n_stash++] = (uint8_t)k;
	}
	return vs->n_stash;
}

/* Remove the first n stashed chains (they were pushed). */
static void stash_drop(struct vb_vsock *vs, uint32_t n)
{
	memmove(vs->stash_idx, vs->stash_idx + n, vs->n_stash - n);
	vs->n_stash -= n;
}

static void hdr_fill(const struct vb_vsock *vs, struct vb_virtio_vsock_hdr *h, const struct conn *c,
		     uint16_t op, uint32_t flags, uint32_t len)
{
	memset(h, 0, sizeof(*h));
	h->src_cid = vb_cpu_to_le64(VB_VSOCK_CID_HOST);
	h->dst_cid = vb_cpu_to_le64(vs->cfg.guest_cid);
	h->src_port = vb_cpu_to_le32(c->local_port);
	h->dst_port = vb_cpu_to_le32(c->peer_port);
	h->len = vb_cpu_to_le32(len);
	h->type = vb_cpu_to_le16(VB_VIRTIO_VSOCK_TYPE_STREAM);
	h->op = vb_cpu_to_le16(op);
	h->flags = vb_cpu_to_le32(flags);
	h->buf_alloc = vb_cpu_to_le32(vs->buf_alloc);
	h->fwd_cnt = vb_cpu_to_le32(c->fwd_cnt);
}

/* Put a header-only packet in the first stashed chain and push it. */
static void send_hdr(struct vb_vsock *vs, struct vb_vq *vq, const struct vb_virtio_vsock_hdr *h)
{
	struct rx_slot *s = stash_at(vs, 0);

	(void)vb_chain_write(&s->ch, 0, h, sizeof(*h));
	(void)vb_vq_push(vq, &s->ch, VB_VIRTIO_VSOCK_HDR_LEN);
	stash_drop(vs, 1);
	vs->st.rx_packets++;
	if (vb_le16_to_cpu(h->op) == VB_VIRTIO_VSOCK_OP_RST)
		vs->st.rst_sent++;
}

/* Send the connection's most urgent control packet. */
static void send_ctl(struct vb_vsock *vs, struct vb_vq *vq, struct conn *c)
{
	struct vb_virtio_vsock_hdr h;
	uint16_t op;
	uint32_t flags = 0;

	if (c->pend & P_RST) {
		op = VB_VIRTIO_VSOCK_OP_RST;
		c->pend = 0;
	} else if (c->pend & P_REQUEST) {
		op = VB_VIRTIO_VSOCK_OP_REQUEST;
		c->pend &= (uint8_t)~P_REQUEST;
	} else if (c->pend & P_RESPONSE) {
		op = VB_VIRTIO_VSOCK_OP_RESPONSE;
		c->pend &= (uint8_t)~P_RESPONSE;
	} else if (c->pend & P_CREDIT) {
		op = VB_VIRTIO_VSOCK_OP_CREDIT_UPDATE;
		c->pend &= (uint8_t)~P_CREDIT;
	} else {
		op = VB_VIRTIO_VSOCK_OP_SHUTDOWN;
		flags = c->shut_to_guest;
		c->pend &= (uint8_t)~P_SHUTDOWN;
	}
	hdr_fill(vs, &h, c, op, flags, 0);
	c->fwd_told = c->fwd_cnt;
	send_hdr(vs, vq, &h);
}

/*
 * One readv from the host socket into the payload parts of up to RX_STASH rx chains (zero
 * copy), limited by the guest's credit; then a header for each chain that got bytes.
 * Returns false if no rx buffer was there.
 */
static bool send_data(struct vb_vsock *vs, struct vb_vq *vq, struct conn *c)
{
	struct iovec iov[RX_READV_IOV];
	uint32_t cap[RX_STASH];
	uint32_t credit = peer_credit(c), room = 0, nch = 0, niov = 0, want;
	ssize_t n;

	/* Chains for the credit we have, each holding at most 64 KiB of payload. */
	want = credit / 4096u + 1u;
	if (stash_fill(vs, vq, want) == 0)
		return false;
	while (nch < vs->n_stash && room < credit && niov < RX_READV_IOV) {
		struct rx_slot *s = stash_at(vs, nch);
		struct vb_iov_cursor cur;
		struct vb_iov piece;
		uint32_t lim = s->ch.write_len - VB_VIRTIO_VSOCK_HDR_LEN;

		if (lim > VB_VIRTIO_VSOCK_MAX_PKT_LEN)
			lim = VB_VIRTIO_VSOCK_MAX_PKT_LEN;
		if (lim > credit - room)
			lim = credit - room;
		cap[nch] = 0;
		vb_iov_cursor_init(&cur, s->ch.write, s->ch.n_write);
		vb_iov_cursor_skip(&cur, VB_VIRTIO_VSOCK_HDR_LEN);
		while (cap[nch] < lim && niov < RX_READV_IOV &&
		       vb_iov_cursor_next(&cur, lim - cap[nch], &piece)) {
			iov[niov].iov_base = piece.base;
			iov[niov].iov_len = piece.len;
			niov++;
			cap[nch] += (uint32_t)piece.len;
		}
		if (cap[nch] == 0) {
			if (nch > 0)
				break;	/* read into the chains before it; it may carry control */
			/* Room for a header only, and data waiting: returned empty rather than
			 * waited on, or a driver posting such buffers would stall the device
			 * (Linux drops a used rx buffer shorter than a header). */
			(void)vb_vq_push(vq, &s->ch, 0);
			stash_drop(vs, 1);
			vs->st.rx_short++;
			if (vs->n_stash == 0 && stash_fill(vs, vq, want) == 0)
				return false;
			continue;
		}
		room += cap[nch];
		nch++;
	}
	if (VB_NEVER(room == 0))
		return true;
	n = readv(c->fd, iov, (int)niov);
	if (n < 0) {
		if (errno == EAGAIN || errno == EWOULDBLOCK)
			c->readable = false;
		else if (errno != EINTR)
			conn_reset(vs, c);
		return true;
	}
	if (n == 0) {
		/* The host closed its write side: no more data; the guest learns it with a
		 * SHUTDOWN SEND (virtio 1.2, 5.10.6.5 "Stream Sockets"). */
		c->host_eof = true;
		c->readable = false;
		c->shut_to_guest = VB_VIRTIO_VSOCK_SHUTDOWN_F_SEND |
				   (c->guest_no_send ? VB_VIRTIO_VSOCK_SHUTDOWN_F_RECEIVE : 0u);
		c->pend |= P_SHUTDOWN;
		return true;
	}
	/* Edge-triggered: a short read drained the socket, and a new edge comes with new data.
	 * After a hang-up no edge comes any more: keep reading until EOF. */
	if ((size_t)n < room && !c->hup)
		c->readable = false;
	{
		uint32_t left = (uint32_t)n, used = 0;

		while (left > 0 && VB_ALWAYS(used < nch)) {
			struct vb_virtio_vsock_hdr h;
			uint32_t len = left < cap[used] ? left : cap[used];
			struct rx_slot *s = stash_at(vs, used);

			hdr_fill(vs, &h, c, VB_VIRTIO_VSOCK_OP_RW, 0, len);
			(void)vb_chain_write(&s->ch, 0, &h, sizeof(h));
			(void)vb_vq_push(vq, &s->ch, VB_VIRTIO_VSOCK_HDR_LEN + len);
			left -= len;
			used++;
			vs->st.rx_packets++;
		}
		stash_drop(vs, used);
		c->tx_cnt += (uint32_t)n;
		c->fwd_told = c->fwd_cnt;
		vs->st.bytes_to_guest += (uint64_t)n;
	}
	return true;
}

static void send_event(struct vb_vsock *vs)
{
	struct vb_vq *vq = queue(vs, VB_VSOCK_QUEUE_EVENT);
	struct vb_iov rd[1], wr[4];
	struct vb_chain ch = VB_CHAIN_INIT(rd, wr);
	struct vb_virtio_vsock_event ev = {
		.id = vb_cpu_to_le32(VB_VIRTIO_VSOCK_EVENT_TRANSPORT_RESET),
	};

	if (!vs->event_pending || !vq)
		return;
	while (vb_vq_pop(vq, &ch) > 0) {
		/* virtio 1.2, 5.10.6.7 "Device Events": the buffer holds one event. */
		if (vb_chain_write(&ch, 0, &ev, sizeof(ev)) < 0) {
			vs->st.bad_packets++;
			(void)vb_vq_push(vq, &ch, 0);
			continue;
		}
		(void)vb_vq_push(vq, &ch, sizeof(ev));
		vs->event_pending = false;
		vs->st.events++;
		break;
	}
	(void)vb_vq_notify(vq);
}

/* Move everything that can move to the guest: RSTs, control packets, data, round robin. */
static void rx_run(struct vb_vsock *vs)
{
	struct vb_vq *vq = queue(vs, VB_VSOCK_QUEUE_RX);
	struct conn *c;
	bool more = true;

	if (!vq)
		return;
	while (more && vs->rst_len > 0) {
		const struct rst_ent *r = &vs->rst[vs->rst_head];
		struct vb_virtio_vsock_hdr h;

		if (stash_fill(vs, vq, 1) == 0) {
			more = false;
			break;
		}
		memset(&h, 0, sizeof(h));
		h.src_cid = vb_cpu_to_le64(VB_VSOCK_CID_HOST);
		h.dst_cid = vb_cpu_to_le64(vs->cfg.guest_cid);
		h.src_port = vb_cpu_to_le32(r->dst_port);
		h.dst_port = vb_cpu_to_le32(r->src_port);
		h.type = vb_cpu_to_le16(VB_VIRTIO_VSOCK_TYPE_STREAM);
		h.op = vb_cpu_to_le16(VB_VIRTIO_VSOCK_OP_RST);
		send_hdr(vs, vq, &h);
		vs->rst_head = (vs->rst_head + 1u) & (RST_RING - 1u);
		vs->rst_len--;
	}
	while (more && (c = work_pop(vs)) != NULL) {
		if (c->state == CS_FREE)
			continue;
		if (c->state == CS_LINE || (c->state == CS_CLOSING && !c->pend)) {
			conn_free(vs, c);	/* dropped while on the list: nothing to send */
			continue;
		}
		if (c->pend) {
			if (stash_fill(vs, vq, 1) == 0) {
				more = false;
				work_add(vs, c);
				break;
			}
			send_ctl(vs, vq, c);
			if (c->state == CS_CLOSING) {
				conn_free(vs, c);
				continue;
			}
		} else if (can_send_data(c)) {
			if (!send_data(vs, vq, c)) {
				more = false;
				work_add(vs, c);
				break;
			}
			if (c->state == CS_CLOSING) {
				work_add(vs, c);
				continue;
			}
		}
		conn_kick(vs, c);	/* more to do: to the tail, for fairness */
	}
	(void)vb_vq_notify(vq);
}

/* ---- tx: guest -> host ------------------------------------------------------------------- */

static void rst_queue(struct vb_vsock *vs, const struct vb_virtio_vsock_hdr *h)
{
	struct rst_ent *r;

	/* Never answer an RST with an RST (virtio 1.2, 5.10.6.5 "Stream Sockets"). */
	if (vb_le16_to_cpu(h->op) == VB_VIRTIO_VSOCK_OP_RST)
		return;
	if (VB_NEVER(vs->rst_len == RST_RING))
		return;
	r = &vs->rst[(vs->rst_head + vs->rst_len) & (RST_RING - 1u)];
	r->src_port = vb_le32_to_cpu(h->src_port);
	r->dst_port = vb_le32_to_cpu(h->dst_port);
	vs->rst_len++;
}

static bool stream_ok(const struct vb_vsock *vs)
{
	/* virtio 1.2, 5.10.3 "Feature bits": with no type feature negotiated the device acts
	 * as if VIRTIO_VSOCK_F_STREAM had been. */
	uint64_t types = VB_BIT(VB_VIRTIO_VSOCK_F_STREAM) | VB_BIT(VB_VIRTIO_VSOCK_F_SEQPACKET);

	return !(vs->features & types) || (vs->features & VB_BIT(VB_VIRTIO_VSOCK_F_STREAM));
}

/* Guest payload of a RW packet to the host: straight from the chain, the rest buffered. */
static int write_payload(struct vb_vsock *vs, struct conn *c, const struct vb_chain *ch,
			 uint32_t len)
{
	struct vb_iov_cursor cur;
	struct iovec iov[TX_IOV];
	unsigned int niov = 0;
	struct vb_iov piece;
	ssize_t n = 0;

	vb_iov_cursor_init(&cur, ch->read, ch->n_read);
	vb_iov_cursor_skip(&cur, VB_VIRTIO_VSOCK_HDR_LEN);
	if (c->buf_len == 0 && c->fd >= 0 && !c->host_wr_shut) {
		struct vb_iov_cursor c2 = cur;
		size_t left = len;
		struct msghdr mh = { .msg_iov = iov };

		while (left > 0 && niov < TX_IOV && vb_iov_cursor_next(&c2, left, &piece)) {
			iov[niov].iov_base = piece.base;
			iov[niov].iov_len = piece.len;
			left -= piece.len;
			niov++;
		}
		mh.msg_iovlen = niov;
		do {
			n = sendmsg(c->fd, &mh, MSG_NOSIGNAL | MSG_DONTWAIT);
		} while (n < 0 && errno == EINTR);
		if (n < 0) {
			if (errno != EAGAIN && errno != EWOULDBLOCK)
				return -EIO;
			n = 0;
		}
		c->fwd_cnt += (uint32_t)n;
		vs->st.bytes_to_host += (uint64_t)n;
		vb_iov_cursor_skip(&cur, (size_t)n);
	}
	/* The rest waits in the connection's buffer: the credit check made room for it. */
	for (size_t left = len - (size_t)n; left > 0;) {
		uint32_t tail = (c->buf_head + c->buf_len) % vs->buf_alloc;
		uint32_t chunk = vs->buf_alloc - tail;
		size_t got;

		if (chunk > left)
			chunk = (uint32_t)left;
		if (VB_NEVER(c->buf_len + chunk > vs->buf_alloc))
			return -EIO;
		got = vb_iov_cursor_read(&cur, c->buf + tail, chunk);
		if (got == 0)
			break;
		c->buf_len += (uint32_t)got;
		left -= got;
	}
	return 0;
}

/* A guest REQUEST to the host: connect to <uds_path>_<port>. */
static void guest_connect(struct vb_vsock *vs, const struct vb_virtio_vsock_hdr *h)
{
	uint32_t peer = vb_le32_to_cpu(h->src_port), local = vb_le32_to_cpu(h->dst_port);
	struct conn *c = conn_alloc(vs);
	int fd;

	if (!c) {
		rst_queue(vs, h);	/* table full */
		return;
	}
	fd = uds_connect(vs, local);
	if (fd < 0) {
		vs->free[vs->n_free++] = conn_idx(vs, c);
		vs->n_conns--;
		rst_queue(vs, h);	/* nobody listens on the host */
		return;
	}
	c->fd = fd;
	c->local_port = local;
	c->peer_port = peer;
	c->state = CS_OPEN;
	hash_add(vs, c);
	c->peer_buf_alloc = vb_le32_to_cpu(h->buf_alloc);
	c->peer_fwd_cnt = vb_le32_to_cpu(h->fwd_cnt);
	if (epoll_add_conn(vs, c) < 0) {
		conn_reset(vs, c);
		return;
	}
	c->pend = P_RESPONSE;
	vs->st.conns_guest++;
	work_add(vs, c);
}

/*
 * One packet from the guest, its header copied out once. Every field is checked before
 * use (virtio 1.2, 5.10.6 "Device Operation"); what fails gets an RST.
 */
static void tx_packet(struct vb_vsock *vs, const struct vb_chain *ch)
{
	struct vb_virtio_vsock_hdr h;
	uint32_t len, flags, want_flags = 0;
	uint16_t op, type;
	struct conn *c;

	vs->st.tx_packets++;
	/* virtio 1.2, 5.10.6 "Device Operation": every packet starts with the header. Too
	 * short a buffer has no addresses to answer to: it is only counted. */
	if (vb_chain_read(ch, 0, &h, sizeof(h)) < 0) {
		vs->st.bad_packets++;
		return;
	}
	len = vb_le32_to_cpu(h.len);
	op = vb_le16_to_cpu(h.op);
	type = vb_le16_to_cpu(h.type);
	flags = vb_le32_to_cpu(h.flags);
	/* virtio 1.2, 5.10.6.2 "Addressing": the driver's packets come from its own CID
	 * (anything else is spoofed) and the only peer this device reaches is the host. */
	if (vb_le64_to_cpu(h.src_cid) != vs->cfg.guest_cid ||
	    vb_le64_to_cpu(h.dst_cid) != VB_VSOCK_CID_HOST)
		goto bad;
	/* virtio 1.2, 5.10.6 "Device Operation": only stream sockets (SEQPACKET not offered). */
	if (type != VB_VIRTIO_VSOCK_TYPE_STREAM || !stream_ok(vs))
		goto bad;
	/* len is the payload after the header: it must be in the buffer, only RW carries one,
	 * and no packet exceeds the largest Linux sends. */
	if (len > ch->read_len - VB_VIRTIO_VSOCK_HDR_LEN || len > VB_VIRTIO_VSOCK_MAX_PKT_LEN ||
	    (op != VB_VIRTIO_VSOCK_OP_RW && len != 0))
		goto bad;
	/* Flags: SHUTDOWN's RCV and SEND bits; nothing else for stream sockets. */
	if (op == VB_VIRTIO_VSOCK_OP_SHUTDOWN)
		want_flags = VB_VIRTIO_VSOCK_SHUTDOWN_F_RECEIVE | VB_VIRTIO_VSOCK_SHUTDOWN_F_SEND;
	if (flags & ~want_flags)
		goto bad;
	c = conn_find(vs, vb_le32_to_cpu(h.dst_port), vb_le32_to_cpu(h.src_port));
	if (op == VB_VIRTIO_VSOCK_OP_REQUEST) {
		if (c) {
			/* virtio 1.2, 5.10.6.5: a REQUEST on an existing connection is a
			 * protocol error: both ends drop it. */
			conn_reset(vs, c);
			vs->st.bad_packets++;
			return;
		}
		guest_connect(vs, &h);
		return;
	}
	if (!c || c->state == CS_CLOSING) {
		if (op != VB_VIRTIO_VSOCK_OP_RST)
			rst_queue(vs, &h);
		return;
	}
	/* virtio 1.2, 5.10.6.3 "Buffer Space Management": every packet carries the sender's
	 * buffer space. */
	c->peer_buf_alloc = vb_le32_to_cpu(h.buf_alloc);
	c->peer_fwd_cnt = vb_le32_to_cpu(h.fwd_cnt);
	switch (op) {
	case VB_VIRTIO_VSOCK_OP_RESPONSE: {
		char ok[24];
		int n;

		if (c->state != CS_REQUEST)
			goto bad_conn;
		c->pend &= (uint8_t)~P_REQUEST;
		n = snprintf(ok, sizeof(ok), "OK %u\n", c->local_port);
		if (send(c->fd, ok, (size_t)n, MSG_NOSIGNAL | MSG_DONTWAIT) != n)
			goto bad_conn;
		c->state = CS_OPEN;
		c->readable = true;	/* the client may have written already */
		break;
	}
	case VB_VIRTIO_VSOCK_OP_RST:
		/* The guest dropped the connection: no answer. */
		c->pend = 0;
		if (c->queued)
			c->state = CS_CLOSING;	/* freed when the work list reaches it */
		else
			conn_free(vs, c);
		return;
	case VB_VIRTIO_VSOCK_OP_SHUTDOWN:
		if (c->state != CS_OPEN)
			goto bad_conn;
		if (flags & VB_VIRTIO_VSOCK_SHUTDOWN_F_RECEIVE)
			c->guest_no_rcv = true;
		if (flags & VB_VIRTIO_VSOCK_SHUTDOWN_F_SEND)
			c->guest_no_send = true;
		if (c->guest_no_rcv && c->guest_no_send) {
			/* Both directions closed: the guest waits for our RST to finish the
			 * close. Bytes still buffered are tried once. */
			(void)buf_flush(vs, c);
			conn_reset(vs, c);
			return;
		}
		after_write(vs, c);
		break;
	case VB_VIRTIO_VSOCK_OP_RW:
		if (c->state != CS_OPEN || c->guest_no_send)
			goto bad_conn;
		/* virtio 1.2, 5.10.6.3.1: the driver sends no more than the credit we gave:
		 * received - consumed + len <= buf_alloc. */
		if (len > vs->buf_alloc - (c->rx_cnt - c->fwd_cnt))
			goto bad_conn;
		c->rx_cnt += len;
		if (write_payload(vs, c, ch, len) < 0) {
			conn_reset(vs, c);
			return;
		}
		after_write(vs, c);
		break;
	case VB_VIRTIO_VSOCK_OP_CREDIT_UPDATE:
		break;	/* the header fields were all it had */
	case VB_VIRTIO_VSOCK_OP_CREDIT_REQUEST:
		c->pend |= P_CREDIT;
		break;
	default:
		goto bad_conn;	/* INVALID, or an op this spec does not know */
	}
	conn_kick(vs, c);
	return;
bad_conn:
	vs->st.bad_packets++;
	conn_reset(vs, c);
	return;
bad:
	vs->st.bad_packets++;
	rst_queue(vs, &h);
}

/* A guest that keeps adding buffers must not keep the thread: after a bounded amount of
 * work the model asks its own epoll fd to bring the host back (vb_vsock_process()). */
static void come_back(struct vb_vsock *vs)
{
	uint64_t one = 1;

	if (write(vs->self_fd, &one, sizeof(one)) < 0) {
		/* The counter cannot overflow at one write per call. */
	}
}

/* Returns true if it stopped with buffers left (bound reached). */
static bool tx_run(struct vb_vsock *vs)
{
	struct vb_vq *vq = queue(vs, VB_VSOCK_QUEUE_TX);
	struct vb_chain chains[TX_BATCH];
	uint32_t written[TX_BATCH] = { 0 };
	bool more = false;
	int n;

	if (!vq)
		return false;
	for (unsigned int round = 0;; round++) {
		if (round == TX_ROUNDS) {
			more = true;
			break;
		}
		/* Room in the RST ring for a whole batch, else wait for rx buffers. */
		if (vs->rst_len + TX_BATCH > RST_RING) {
			vs->tx_stalled = true;
			break;
		}
		for (unsigned int i = 0; i < TX_BATCH; i++) {
			struct tx_slot *s = &vs->tx_slots[i];

			chains[i] = (struct vb_chain)VB_CHAIN_INIT(s->rd, s->wr);
		}
		n = vb_vq_pop_batch(vq, chains, TX_BATCH);
		if (n <= 0)
			break;
		for (int i = 0; i < n; i++)
			tx_packet(vs, &chains[i]);
		(void)vb_vq_push_batch(vq, chains, written, (unsigned int)n);
	}
	(void)vb_vq_notify(vq);
	return more;
}

/* Send what waits for the guest and take tx buffers again when RSTs held them back. */
static void pump(struct vb_vsock *vs, bool tx_more)
{
	for (unsigned int round = 0; round < PUMP_ROUNDS; round++) {
		rx_run(vs);
		if (!vs->tx_stalled || vs->rst_len + TX_BATCH > RST_RING)
			break;
		vs->tx_stalled = false;
		tx_more = tx_run(vs);
	}
	if (tx_more || (vs->tx_stalled && vs->rst_len + TX_BATCH <= RST_RING))
		come_back(vs);
}

/* ---- hooks ------------------------------------------------------------------------------- */

/* @satisfy{VB-REQ-VSOCK-003} */
static int vs_config_read(struct vb_dev *dev, uint32_t off, void *buf, uint32_t len)
{
	struct vb_vsock *vs = vb_dev_priv(dev);
	struct vb_virtio_vsock_config c = { .guest_cid = vb_cpu_to_le64(vs->cfg.guest_cid) };

	vs->dev = dev;
	if (VB_NEVER(off > sizeof(c) || len > sizeof(c) - off))
		return -EINVAL;
	memcpy(buf, (const uint8_t *)&c + off, len);
	return 0;
}

static int vs_activate(struct vb_dev *dev, uint64_t features)
{
	struct vb_vsock *vs = vb_dev_priv(dev);

	vs->dev = dev;
	vs->features = features;
	vs->active = true;
	return 0;
}

static void vs_kick(struct vb_dev *dev, struct vb_vq *vq)
{
	struct vb_vsock *vs = vb_dev_priv(dev);

	vs->dev = dev;
	switch (vb_vq_index(vq)) {
	case VB_VSOCK_QUEUE_RX:
		pump(vs, false);
		break;
	case VB_VSOCK_QUEUE_TX:
		pump(vs, tx_run(vs));
		break;
	case VB_VSOCK_QUEUE_EVENT:
		send_event(vs);
		break;
	default:
		break;
	}
}

/* Close every connection and forget every popped chain. */
static void drop_all(struct vb_vsock *vs)
{
	while (work_pop(vs))
		;
	for (uint32_t i = 0; i < vs->max_conns; i++)
		if (vs->conns[i].state != CS_FREE)
			conn_free(vs, &vs->conns[i]);
	vs->rst_len = 0;
	vs->rst_head = 0;
	vs->tx_stalled = false;
}

/* @satisfy{VB-REQ-VSOCK-041} */
static void vs_reset(struct vb_dev *dev)
{
	struct vb_vsock *vs = vb_dev_priv(dev);

	vs->dev = dev;
	vs->active = false;
	vs->features = 0;
	drop_all(vs);
	/* The chains went with the rings. */
	vs->n_stash = 0;
}

static void vs_queue_reset(struct vb_dev *dev, struct vb_vq *vq)
{
	struct vb_vsock *vs = vb_dev_priv(dev);

	if (vb_vq_index(vq) == VB_VSOCK_QUEUE_RX)
		vs->n_stash = 0;
}

/* ---- public ------------------------------------------------------------------------------ */

VB_EXPORT int vb_vsock_process(struct vb_vsock *vs)
{
	struct epoll_event ev[EV_BATCH];
	bool tx_more = false;
	int n;

	if (!vs)
		return -EINVAL;
	if (vs->listen_paused) {
		/* fds may have been freed elsewhere in the process: try again once per call. */
		listen_resume(vs);
		accept_all(vs);
	}
	n = epoll_wait(vs->epfd, ev, (int)EV_BATCH, 0);
	if (n < 0)
		return errno == EINTR ? 0 : -errno;
	for (int i = 0; i < n; i++) {
		uint64_t cnt;

		if (ev[i].data.u64 == EP_LISTEN) {
			accept_all(vs);
		} else if (ev[i].data.u64 == EP_SELF) {
			if (read(vs->self_fd, &cnt, sizeof(cnt)) == (ssize_t)sizeof(cnt))
				tx_more = true;
		} else {
			host_event(vs, (uint32_t)ev[i].data.u64, ev[i].events);
		}
	}
	if (tx_more)
		tx_more = tx_run(vs);
	pump(vs, tx_more);
	send_event(vs);
	return 0;
}

VB_EXPORT void vb_vsock_transport_reset(struct vb_vsock *vs)
{
	if (!vs)
		return;
	drop_all(vs);
	vs->event_pending = true;
	send_event(vs);
}

VB_EXPORT const struct vb_device_ops *vb_vsock_device_ops(const struct vb_vsock *vs)
{
	return vs ? &vs->dops : NULL;
}

VB_EXPORT int vb_vsock_fd(const struct vb_vsock *vs)
{
	return vs ? vs->epfd : -EINVAL;
}

VB_EXPORT void vb_vsock_get_stats(const struct vb_vsock *vs, struct vb_vsock_stats *st)
{
	if (vs && st)
		*st = vs->st;
}

VB_EXPORT unsigned int vb_vsock_conns(const struct vb_vsock *vs)
{
	return vs ? vs->n_conns : 0;
}

static int listen_on(struct vb_vsock *vs)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct epoll_event ev = { .events = EPOLLIN, .data.u64 = EP_LISTEN };
	struct stat sb;

	memcpy(sa.sun_path, vs->uds_path, strlen(vs->uds_path) + 1u);
	/* A socket left by an earlier run is replaced; any other file is not. */
	if (lstat(vs->uds_path, &sb) == 0 && S_ISSOCK(sb.st_mode))
		(void)unlink(vs->uds_path);
	vs->lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (vs->lfd < 0)
		return -errno;
	if (bind(vs->lfd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(vs->lfd, 64) < 0 ||
	    epoll_ctl(vs->epfd, EPOLL_CTL_ADD, vs->lfd, &ev) < 0)
		return -errno;
	return 0;
}

/* @satisfy{VB-REQ-VSOCK-001} @satisfy{VB-REQ-VSOCK-002} */
VB_EXPORT int vb_vsock_create(const struct vb_vsock_config *cfg, struct vb_vsock **out)
{
	struct vb_vsock *vs;
	uint32_t nb = 1;
	size_t plen;
	int ret;

	if (!cfg || !out || cfg->version < VB_VSOCK_CONFIG_V1 || !cfg->uds_path)
		return -EINVAL;
	plen = strlen(cfg->uds_path);
	/* virtio 1.2, 5.10.4 "Device configuration layout": CIDs 0, 1 and 2 are reserved and
	 * the upper 32 bits are 0; U32_MAX is VMADDR_CID_ANY for Linux. */
	if (cfg->guest_cid < 3u || cfg->guest_cid >= UINT32_MAX || plen == 0 ||
	    plen > VB_VSOCK_UDS_PATH_MAX || cfg->max_conns > VB_VSOCK_MAX_CONNS_LIMIT ||
	    (cfg->buf_alloc && (cfg->buf_alloc < 4096u || cfg->buf_alloc > (64u << 20))) ||
	    cfg->queue_num_max > VB_VQ_MAX_SIZE)
		return -EINVAL;
	vs = calloc(1, sizeof(*vs));
	if (!vs)
		return -ENOMEM;
	vs->cfg = *cfg;
	vs->cfg.uds_path = vs->uds_path;
	memcpy(vs->uds_path, cfg->uds_path, plen + 1u);
	vs->max_conns = cfg->max_conns ? cfg->max_conns : VB_VSOCK_MAX_CONNS_DEFAULT;
	vs->buf_alloc = cfg->buf_alloc ? cfg->buf_alloc : VB_VSOCK_BUF_ALLOC_DEFAULT;
	while (nb < 2u * vs->max_conns)
		nb <<= 1;
	vs->hmask = nb - 1u;
	vs->epfd = vs->lfd = vs->self_fd = -1;
	vs->whead = vs->wtail = NO_CONN;
	vs->next_port = 1024u;
	vs->event_pending = (cfg->flags & VB_VSOCK_CFG_RESET_ON_START) != 0;
	/* The only allocations: the table, its index arrays and the buffers. */
	vs->conns = calloc(vs->max_conns, sizeof(*vs->conns));
	vs->hash = malloc(sizeof(*vs->hash) * nb);
	vs->free = malloc(sizeof(*vs->free) * vs->max_conns);
	vs->bufs = malloc((size_t)vs->max_conns * vs->buf_alloc);
	if (!vs->conns || !vs->hash || !vs->free || !vs->bufs) {
		ret = -ENOMEM;
		goto fail;
	}
	for (uint32_t i = 0; i < nb; i++)
		vs->hash[i] = NO_CONN;
	for (uint32_t i = 0; i < vs->max_conns; i++) {
		vs->conns[i].fd = -1;
		vs->conns[i].buf = vs->bufs + (size_t)i * vs->buf_alloc;
		vs->free[i] = vs->max_conns - 1u - i;
	}
	vs->n_free = vs->max_conns;
	vs->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (vs->epfd < 0) {
		ret = -errno;
		goto fail;
	}
	vs->self_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (vs->self_fd < 0) {
		ret = -errno;
		goto fail;
	} else {
		struct epoll_event ev = { .events = EPOLLIN, .data.u64 = EP_SELF };

		if (epoll_ctl(vs->epfd, EPOLL_CTL_ADD, vs->self_fd, &ev) < 0) {
			ret = -errno;
			goto fail;
		}
	}
	ret = listen_on(vs);
	if (ret < 0)
		goto fail;
	vs->dops = (struct vb_device_ops){
		.version = VB_DEVICE_OPS_V1,
		.device_id = VB_VIRTIO_ID_VSOCK,
		.features = (VB_BIT(VB_VIRTIO_F_VERSION_1) | VB_BIT(VB_VIRTIO_F_INDIRECT_DESC) |
			     VB_BIT(VB_VIRTIO_F_EVENT_IDX) | VB_BIT(VB_VIRTIO_F_RING_PACKED) |
			     VB_BIT(VB_VIRTIO_F_RING_RESET) |
			     VB_BIT(VB_VIRTIO_VSOCK_F_STREAM)) & ~cfg->features_off,
		.num_queues = 3,
		.queue_num_max = cfg->queue_num_max ? cfg->queue_num_max :
			VB_VSOCK_QUEUE_NUM_DEFAULT,
		.config_len = VB_VIRTIO_VSOCK_CONFIG_LEN,
		.config_read = vs_config_read,
		.activate = vs_activate,
		.kick = vs_kick,
		.reset = vs_reset,
		.queue_reset = vs_queue_reset,
	};
	vs->dops.features |= VB_BIT(VB_VIRTIO_F_VERSION_1);
	*out = vs;
	return 0;
fail:
	vb_vsock_destroy(vs);
	return ret;
}

VB_EXPORT void vb_vsock_destroy(struct vb_vsock *vs)
{
	if (!vs)
		return;
	if (vs->conns)
		drop_all(vs);
	if (vs->lfd >= 0) {
		close(vs->lfd);
		(void)unlink(vs->uds_path);
	}
	if (vs->self_fd >= 0)
		close(vs->self_fd);
	if (vs->epfd >= 0)
		close(vs->epfd);
	free(vs->bufs);
	free(vs->free);
	free(vs->hash);
	free(vs->conns);
	free(vs);
}
