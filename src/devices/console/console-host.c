/* SPDX-License-Identifier: MIT */
/*
 * Host ports of the virtio-console model on Linux file descriptors: stdio, a pty, a
 * listening unix socket (one client at a time; a connected client is an open port), or the
 * caller's fds. One epoll fd for all of them; an fd is registered only for what the model
 * waits for (ops->want), and not at all when it waits for nothing, because epoll reports
 * EPOLLHUP even for an empty mask and a hung-up stdin would spin the loop.
 *
 * Data moves with readv()/writev() straight between the fd and the guest's buffers. Events
 * that change a port's state (a client leaving, end of input) are noted inside the callbacks
 * and acted on after the model returned: the model is never re-entered from its own callback.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <termios.h>
#include <unistd.h>

#include "virtio-backend.h"
#include "virtio-backend/devices/console.h"
#include "internal/compiler.h"

enum { TAG_IN = 0, TAG_OUT = 1, TAG_LISTEN = 2 };

struct host_port {
	struct vb_console_host	*h;
	uint16_t		id;
	enum vb_console_host_kind kind;
	int			in_fd, out_fd;	/* -1 while a socket port has no client */
	int			listen_fd;
	int			pty_slave;	/* kept open: the master never sees a hang-up */
	uint32_t		in_mask, out_mask;	/* registered epoll events */
	bool			want_in, want_out;
	bool			in_eof;		/* input ended (stdio, caller's fds) */
	bool			hup;		/* the client left: disconnect after the call */
	bool			rdhup_seen;	/* client shut its side; read to the end first */
	char			path[108];
	char			pty_name[64];
};

struct vb_console_host {
	int			epfd;
	struct vb_console	*con;
	uint16_t		n;
	struct host_port	port[];
};

static uint64_t tag(const struct host_port *hp, unsigned int what)
{
	return ((uint64_t)hp->id << 8) | what;
}

/* Register fd for mask (0: not at all). */
static void set_mask(struct host_port *hp, int fd, uint32_t *cur, uint32_t mask,
		     unsigned int what)
{
	struct epoll_event ev = { .events = mask, .data.u64 = tag(hp, what) };
	int op;

	if (fd < 0 || *cur == mask)
		return;
	if (mask == 0)
		op = EPOLL_CTL_DEL;
	else
		op = *cur ? EPOLL_CTL_MOD : EPOLL_CTL_ADD;
	if (epoll_ctl(hp->h->epfd, op, fd, &ev) < 0 && op != EPOLL_CTL_DEL) {
		/* A regular file cannot be polled (EPERM): treat input as ended. */
		if (what == TAG_IN)
			hp->in_eof = true;
		*cur = 0;
		return;
	}
	*cur = mask;
}

static void update(struct host_port *hp)
{
	bool client = hp->kind == VB_CONSOLE_HOST_UNIX;
	uint32_t in = (hp->want_in && !hp->in_eof ? EPOLLIN : 0) |
		      (client && !hp->rdhup_seen ? EPOLLRDHUP : 0);
	uint32_t out = hp->want_out ? EPOLLOUT : 0;

	if (hp->in_fd >= 0 && hp->in_fd == hp->out_fd) {
		set_mask(hp, hp->in_fd, &hp->in_mask, in | out, TAG_IN);
		return;
	}
	set_mask(hp, hp->in_fd, &hp->in_mask, in, TAG_IN);
	set_mask(hp, hp->out_fd, &hp->out_mask, out, TAG_OUT);
}

static int64_t hp_write(void *ctx, const struct vb_iov *iov, unsigned int n)
{
	struct host_port *hp = ctx;
	ssize_t r;

	if (hp->out_fd < 0)
		return -EPIPE;
	/* struct vb_iov is layout-compatible with struct iovec (src/port/posix/iov.c). */
	r = writev(hp->out_fd, (const struct iovec *)(const void *)iov, (int)n);
	if (r >= 0)
		return r;
	if (errno == EAGAIN || errno == EINTR)
		return -EAGAIN;
	if (hp->kind == VB_CONSOLE_HOST_UNIX)
		hp->hup = true;
	return -errno;
}

static int64_t hp_read(void *ctx, const struct vb_iov *iov, unsigned int n)
{
	struct host_port *hp = ctx;
	ssize_t r;

	if (hp->in_fd < 0 || hp->in_eof)
		return -EPIPE;
	r = readv(hp->in_fd, (const struct iovec *)(const void *)iov, (int)n);
	if (r > 0)
		return r;
	if (r < 0 && (errno == EAGAIN || errno == EINTR))
		return -EAGAIN;
	/* End of input, or the peer went away. */
	if (hp->kind == VB_CONSOLE_HOST_UNIX)
		hp->hup = true;
	else
		hp->in_eof = true;
	return r == 0 ? -EPIPE : -errno;
}

static void hp_want(void *ctx, bool in, bool out)
{
	struct host_port *hp = ctx;

	hp->want_in = in;
	hp->want_out = out;
	update(hp);
}

static const struct vb_console_port_ops host_port_ops = {
	.version = VB_CONSOLE_PORT_OPS_V1,
	.write = hp_write,
	.read = hp_read,
	.want = hp_want,
};

static void drop_client(struct host_port *hp)
{
	if (hp->in_fd < 0)
		return;
	set_mask(hp, hp->in_fd, &hp->in_mask, 0, TAG_IN);
	close(hp->in_fd);
	hp->in_fd = -1;
	hp->out_fd = -1;
	hp->hup = false;
	hp->rdhup_seen = false;
	if (hp->h->con)
		(void)vb_console_port_set_connected(hp->h->con, hp->id, false);
}

static int set_nonblock(int fd)
{
	int fl = fcntl(fd, F_GETFL);

	if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0)
		return -errno;
	return 0;
}

static int open_pty(struct host_port *hp)
{
	struct termios t;
	int m = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);

	if (m < 0)
		return -errno;
	if (grantpt(m) < 0 || unlockpt(m) < 0 ||
	    ptsname_r(m, hp->pty_name, sizeof(hp->pty_name)) != 0)
		goto fail;
	hp->pty_slave = open(hp->pty_name, O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (hp->pty_slave < 0)
		goto fail;
	/* Raw: no echo of guest output back into the guest, no line editing. */
	if (tcgetattr(hp->pty_slave, &t) == 0) {
		cfmakeraw(&t);
		(void)tcsetattr(hp->pty_slave, TCSANOW, &t);
	}
	if (set_nonblock(m) < 0)
		goto fail;
	hp->in_fd = hp->out_fd = m;
	return 0;
fail:
	{
		int e = errno;

		close(m);
		return -e;
	}
}

static int open_unix(struct host_port *hp, const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct epoll_event ev = { .events = EPOLLIN, .data.u64 = tag(hp, TAG_LISTEN) };
	int fd;

	if (!path || strlen(path) >= sizeof(sa.sun_path))
		return -EINVAL;
	memcpy(sa.sun_path, path, strlen(path) + 1);
	memcpy(hp->path, path, strlen(path) + 1);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	(void)unlink(path);
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(fd, 1) < 0 ||
	    epoll_ctl(hp->h->epfd, EPOLL_CTL_ADD, fd, &ev) < 0) {
		int e = errno;

		close(fd);
		hp->path[0] = '\0';
		return -e;
	}
	hp->listen_fd = fd;
	return 0;
}

static void accept_client(struct host_port *hp)
{
	int fd = accept4(hp->listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);

	if (fd < 0)
		return;
	if (hp->in_fd >= 0) {
		close(fd);	/* one client at a time: the port is taken */
		return;
	}
	hp->in_fd = hp->out_fd = fd;
	hp->in_mask = 0;
	update(hp);
	if (hp->h->con)
		(void)vb_console_port_set_connected(hp->h->con, hp->id, true);
}

VB_EXPORT int vb_console_host_open(const struct vb_console_host_port *ports, uint16_t num_ports,
				   struct vb_console_port_config *port_cfg,
				   struct vb_console_host **out)
{
	struct vb_console_host *h;
	int ret = 0;

	if (!ports || !port_cfg || !out || num_ports == 0 || num_ports > VB_CONSOLE_MAX_PORTS)
		return -EINVAL;
	h = calloc(1, sizeof(*h) + sizeof(h->port[0]) * num_ports);
	if (!h)
		return -ENOMEM;
	h->n = num_ports;
	h->epfd = epoll_create1(EPOLL_CLOEXEC);
	for (uint16_t i = 0; i < num_ports; i++) {
		h->port[i].in_fd = h->port[i].out_fd = -1;
		h->port[i].listen_fd = h->port[i].pty_slave = -1;
	}
	if (h->epfd < 0) {
		ret = -errno;
		goto fail;
	}
	for (uint16_t i = 0; i < num_ports && ret == 0; i++) {
		struct host_port *hp = &h->port[i];

		hp->h = h;
		hp->id = i;
		hp->kind = ports[i].kind;
		switch (hp->kind) {
		case VB_CONSOLE_HOST_STDIO:
			hp->in_fd = 0;
			hp->out_fd = 1;
			/* Errors ignored: a regular file is fine without O_NONBLOCK. */
			(void)set_nonblock(0);
			(void)set_nonblock(1);
			break;
		case VB_CONSOLE_HOST_FDS:
			if (ports[i].in_fd < 0 || ports[i].out_fd < 0) {
				ret = -EINVAL;
				break;
			}
			hp->in_fd = ports[i].in_fd;
			hp->out_fd = ports[i].out_fd;
			(void)set_nonblock(hp->in_fd);
			(void)set_nonblock(hp->out_fd);
			break;
		case VB_CONSOLE_HOST_PTY:
			ret = open_pty(hp);
			break;
		case VB_CONSOLE_HOST_UNIX:
			ret = open_unix(hp, ports[i].path);
			break;
		default:
			ret = -EINVAL;
			break;
		}
		port_cfg[i].ops = &host_port_ops;
		port_cfg[i].ctx = hp;
		port_cfg[i].connected = hp->kind != VB_CONSOLE_HOST_UNIX;
	}
	if (ret)
		goto fail;
	*out = h;
	return 0;
fail:
	vb_console_host_close(h);
	return ret;
}

VB_EXPORT void vb_console_host_attach(struct vb_console_host *h, struct vb_console *con)
{
	h->con = con;
}

VB_EXPORT int vb_console_host_fd(const struct vb_console_host *h)
{
	return h->epfd;
}

VB_EXPORT const char *vb_console_host_pty_name(const struct vb_console_host *h, uint16_t port)
{
	if (!h || port >= h->n || h->port[port].kind != VB_CONSOLE_HOST_PTY)
		return NULL;
	return h->port[port].pty_name;
}

VB_EXPORT int vb_console_host_winsize(const struct vb_console_host *h, uint16_t port,
				      uint16_t *cols, uint16_t *rows)
{
	struct winsize ws;

	if (!h || port >= h->n || !cols || !rows || h->port[port].in_fd < 0)
		return -EINVAL;
	if (ioctl(h->port[port].in_fd, TIOCGWINSZ, &ws) < 0)
		return -ENOTTY;
	if (ws.ws_col == 0 || ws.ws_row == 0)
		return -ENOTTY;
	*cols = ws.ws_col;
	*rows = ws.ws_row;
	return 0;
}

/* Act on what the callbacks noted. */
static void settle(struct host_port *hp)
{
	if (hp->hup)
		drop_client(hp);
	else
		update(hp);
}

VB_EXPORT int vb_console_host_dispatch(struct vb_console_host *h)
{
	struct epoll_event ev[16];
	int n = epoll_wait(h->epfd, ev, 16, 0);

	if (n < 0)
		return errno == EINTR ? 0 : -errno;
	for (int i = 0; i < n; i++) {
		uint16_t id = (uint16_t)(ev[i].data.u64 >> 8);
		unsigned int what = (unsigned int)(ev[i].data.u64 & 0xffu);
		uint32_t e = ev[i].events;
		struct host_port *hp;

		if (id >= h->n)
			continue;
		hp = &h->port[id];
		if (what == TAG_LISTEN) {
			accept_client(hp);
			continue;
		}
		if (what == TAG_IN && (e & EPOLLRDHUP) && !hp->want_in)
			hp->rdhup_seen = true;	/* read to the end once the guest has room */
		if (what == TAG_IN && (e & (EPOLLIN | EPOLLHUP | EPOLLERR)) && hp->want_in &&
		    h->con)
			(void)vb_console_port_input(h->con, id);
		if ((e & (EPOLLHUP | EPOLLERR)) && hp->kind == VB_CONSOLE_HOST_UNIX)
			hp->hup = true;
		if ((e & EPOLLOUT) && hp->want_out && h->con)
			(void)vb_console_port_output(h->con, id);
		settle(hp);
	}
	return 0;
}

VB_EXPORT void vb_console_host_close(struct vb_console_host *h)
{
	if (!h)
		return;
	for (uint16_t i = 0; i < h->n; i++) {
		struct host_port *hp = &h->port[i];

		if (hp->kind == VB_CONSOLE_HOST_PTY || hp->kind == VB_CONSOLE_HOST_UNIX) {
			if (hp->in_fd >= 0)
				close(hp->in_fd);
		}
		if (hp->pty_slave >= 0)
			close(hp->pty_slave);
		if (hp->listen_fd >= 0) {
			close(hp->listen_fd);
			if (hp->path[0])
				(void)unlink(hp->path);
		}
	}
	if (h->epfd >= 0)
		close(h->epfd);
	free(h);
}
