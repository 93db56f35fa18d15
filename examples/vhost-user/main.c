/* SPDX-License-Identifier: MIT */
/*
 * vb-vhost-user: the library's device models served to a vhost-user front-end (QEMU,
 * cloud-hypervisor, ...) over a unix socket, following the "Backend program conventions" of
 * QEMU's docs/interop/vhost-user.rst:
 *
 *   vb-vhost-user blk --socket-path PATH --image FILE [--read-only] [--num-queues N]
 *                     [--direct] [--backend auto|uring|sync] [--serial S] [--queue-size N]
 *   vb-vhost-user blk --fd N ...            (an inherited listening, or connected, socket)
 *   vb-vhost-user blk --socket-path PATH --connect ...  (the front-end listens at PATH; the
 *                                        daemon connects, and again after each disconnect)
 *   vb-vhost-user [blk] --print-capabilities (docs/interop/vhost-user.json, then exit 0)
 *   vb-vhost-user TYPE ... --poll-us N   (busy-poll the rings for N us after the last
 *                                        request or completion: vb_vu_set_poll())
 *
 * Test hook: --test-stall-after N (blk) lets the first N backend operations through and holds
 * every later one forever (failed with EIO only on a device reset), so a test can kill the
 * daemon with requests popped and not completed (inflight I/O tracking). Not for production.
 *
 * One thread and one epoll loop: the server's pollable fd (vb_vu_fd(): listening socket,
 * connection, kick eventfds), the device's own fd if it has one (the io_uring completion
 * eventfd of blk) and a signalfd for SIGTERM/SIGINT (stop) and SIGHUP (blk: the image was
 * resized: re-read its size and tell the front-end, see blk_resize()). Logs go to stderr, one line per
 * connection event, state change or error, never one per request.
 *
 * Device types are rows of vbd_types[] (daemon.h says how to add one; blk.c is blk), so
 * main() knows none of them.
 *
 * Exit status: 0 after SIGTERM/SIGINT or when an inherited connected socket closed (socket
 * file removed), 1 when the device or the socket cannot be set up or the server fails, 2 for
 * a usage error.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include "virtio-backend.h"
#include "virtio-backend/transports/vhost-user.h"

#define PROG "vb-vhost-user"
#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

#include "daemon.h"

/* ---- logging ----------------------------------------------------------------------------- */

static const char *level_name(enum vb_log_level level)
{
	switch (level) {
	case VB_LOG_ERR:
		return "error";
	case VB_LOG_WARN:
		return "warning";
	case VB_LOG_INFO:
		return "info";
	case VB_LOG_DEBUG:
		return "debug";
	}
	return "log";
}

__attribute__((format(printf, 2, 3)))
void logf_(enum vb_log_level level, const char *fmt, ...)
{
	char line[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	/* One write per line, so lines of several daemons sharing a log do not interleave. */
	fprintf(stderr, PROG ": %s: %s\n", level_name(level), line);
}

/* The server's log sink (connection events, refused messages). */
static void server_log(void *ctx, enum vb_log_level level, const char *msg)
{
	(void)ctx;
	logf_(level, "%s", msg);
}


/* ---- device types ------------------------------------------------------------------------- */

static const struct vbd_type *const vbd_types[] = {
	&vbd_type_blk,
	&vbd_type_rng,
	&vbd_type_net,
	&vbd_type_i2c,
	&vbd_type_gpio,
	&vbd_type_console,
	&vbd_type_input,
	&vbd_type_vsock,
};

int parse_uint(const char *opt, const char *arg, unsigned long min, unsigned long max,
	       unsigned long *out)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(arg, &end, 10);
	if (errno || end == arg || *end || arg[0] == '-' || v < min || v > max) {
		fprintf(stderr, PROG ": %s wants a number in %lu..%lu, not '%s'\n", opt, min, max,
			arg);
		return -EINVAL;
	}
	*out = v;
	return 0;
}

int parse_queue_size(const char *arg, unsigned long max, unsigned int *out)
{
	unsigned long v;

	if (parse_uint("--queue-size", arg, 2, max, &v) < 0)
		return -EINVAL;
	if (v & (v - 1)) {
		fprintf(stderr, PROG ": --queue-size must be a power of 2\n");
		return -EINVAL;
	}
	*out = (unsigned int)v;
	return 0;
}

/* ---- command line ------------------------------------------------------------------------ */

static const struct option common_options[] = {
	{ "socket-path", required_argument, NULL, OPT_SOCKET },
	{ "fd", required_argument, NULL, OPT_FD },
	{ "connect", no_argument, NULL, OPT_CONNECT },
	{ "print-capabilities", no_argument, NULL, OPT_CAPS },
	{ "poll-us", required_argument, NULL, OPT_POLL_US },
	{ "help", no_argument, NULL, OPT_HELP },
};

static void usage(FILE *out, const struct vbd_type *only)
{
	fprintf(out,
		"usage: " PROG " TYPE --socket-path PATH | --fd N [options]\n"
		"       " PROG " [TYPE] --print-capabilities\n"
		"Serves a virtio device to a vhost-user front-end (QEMU: -chardev\n"
		"socket,path=PATH with -device vhost-user-TYPE-pci; guest memory must be\n"
		"share=on).\n\n"
		"Common options:\n"
		"  --socket-path PATH  listen on a new unix socket at PATH (removed at exit)\n"
		"  --connect           with --socket-path: connect to a front-end listening at\n"
		"                      PATH (QEMU: -chardev socket,server=on) and connect again\n"
		"                      whenever the connection drops\n"
		"  --fd N              serve inherited fd N: a listening socket, or a connected\n"
		"                      one (then exit when that front-end leaves)\n"
		"  --print-capabilities  print the vhost-user.json capabilities and exit\n"
		"  --poll-us N         busy-poll the queues (and the device) for N us after\n"
		"                      the last request or completion before sleeping on\n"
		"                      kicks again: lower latency for a CPU (default 0: off)\n"
		"  -h, --help          this help\n");
	for (size_t i = 0; i < ARRAY_SIZE(vbd_types); i++) {
		const struct vbd_type *t = vbd_types[i];

		if (only && t != only)
			continue;
		fprintf(out, "\nTYPE %s: %s\n%s", t->name, t->summary, t->options_help);
	}
	fprintf(out, "\nStops on SIGTERM or SIGINT. Logs go to stderr.\n");
}

static const struct vbd_type *find_type(const char *name)
{
	for (size_t i = 0; i < ARRAY_SIZE(vbd_types); i++)
		if (!strcmp(vbd_types[i]->name, name))
			return vbd_types[i];
	return NULL;
}

struct args {
	const struct vbd_type	*type;
	const char		*socket_path;
	bool			connect;	/* --connect: dial socket_path, redial on loss */
	int			fd;
	unsigned long		poll_us;	/* --poll-us: 0 off */
};

static char prog[] = PROG;

/* Parse argv. 0: run; 1: done, exit 0 (help, capabilities); -1: usage error. */
static int parse_args(int argc, char **argv, struct args *a)
{
	struct option opts[ARRAY_SIZE(common_options) + 16];
	size_t n = 0;
	int c;

	a->type = NULL;
	a->socket_path = NULL;
	a->connect = false;
	a->connect = false;
	a->fd = -1;
	a->poll_us = 0;
	if (argc > 1 && argv[1][0] != '-') {
		a->type = find_type(argv[1]);
		if (!a->type) {
			fprintf(stderr, PROG ": unknown device type '%s' (see --help)\n", argv[1]);
			return -1;
		}
		argv++;
		argc--;
		argv[0] = prog;	/* getopt_long's messages name the program */
	}
	/*
	 * vhost-user.rst "Backend program conventions": --print-capabilities prints and exits
	 * successfully, "other options and arguments should be ignored". With no TYPE, the
	 * first (default) device type answers.
	 */
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--print-capabilities")) {
			printf("%s\n", (a->type ? a->type : vbd_types[0])->capabilities);
			return fflush(stdout) == 0 ? 1 : -1;
		}
	}
	for (size_t i = 0; i < ARRAY_SIZE(common_options); i++)
		opts[n++] = common_options[i];
	for (const struct option *o = a->type ? a->type->options : NULL; o && o->name; o++)
		if (n < ARRAY_SIZE(opts) - 1)
			opts[n++] = *o;
	memset(&opts[n], 0, sizeof(opts[n]));

	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		unsigned long v;

		switch (c) {
		case OPT_HELP:
			usage(stdout, a->type);
			return 1;
		case OPT_SOCKET:
			a->socket_path = optarg;
			break;
		case OPT_CONNECT:
			a->connect = true;
			break;
		case OPT_FD:
			if (parse_uint("--fd", optarg, 0, INT_MAX, &v) < 0)
				return -1;
			a->fd = (int)v;
			break;
		case OPT_POLL_US:
			if (parse_uint("--poll-us", optarg, 0, VB_VU_POLL_MAX_US, &a->poll_us) < 0)
				return -1;
			break;
		case '?':
			return -1;	/* getopt_long said why */
		default:
			if (!a->type || a->type->option(a->type->state, c, optarg) < 0)
				return -1;
			break;
		}
	}
	if (optind < argc) {
		fprintf(stderr, PROG ": unexpected argument '%s'\n", argv[optind]);
		return -1;
	}
	if (!a->type) {
		fprintf(stderr, PROG ": which device? TYPE is one of:");
		for (size_t i = 0; i < ARRAY_SIZE(vbd_types); i++)
			fprintf(stderr, " %s", vbd_types[i]->name);
		fprintf(stderr, " (see --help)\n");
		return -1;
	}
	if (!a->socket_path == (a->fd < 0)) {
		fprintf(stderr, PROG ": give exactly one of --socket-path and --fd\n");
		return -1;
	}
	if (a->connect && !a->socket_path) {
		fprintf(stderr, PROG ": --connect needs --socket-path\n");
		return -1;
	}
	return 0;
}

/* ---- the daemon ---------------------------------------------------------------------------- */

enum { EV_SIGNAL = 1, EV_SERVER, EV_DEVICE };

struct daemon {
	const struct vbd_type	*type;
	void			*state;
	struct vb_vu_server	*server;
	bool			attached;	/* a connected --fd: stop when it ends */
	bool			was_connected;
	bool			running;	/* the front-end set DRIVER_OK */
};

/* Log what changed since the last look: one line per negotiation, never per request. */
static void watch_state(struct daemon *d)
{
	struct vb_dev *dev = vb_vu_dev(d->server);
	bool running = (vb_dev_get_status(dev) & VB_VIRTIO_S_DRIVER_OK) != 0;
	bool connected = vb_vu_connected(d->server);

	if (running && !d->running)
		logf_(VB_LOG_INFO, "%s: driver ready: features 0x%016" PRIx64 " of 0x%016" PRIx64
		      ", %u queue%s", d->type->name, vb_dev_get_driver_features(dev),
		      vb_dev_get_features(dev), (unsigned int)vb_dev_num_queues(dev),
		      vb_dev_num_queues(dev) > 1 ? "s" : "");
	else if (!running && d->running)
		d->type->describe(d->state, "device reset");
	d->running = running;
	d->was_connected = d->was_connected || connected;
}

static int epoll_add(int epfd, int fd, uint64_t tag)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.u64 = tag };

	return epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &ev) < 0 ? -errno : 0;
}

/* Serve until a signal; 0 or -errno. */
static int serve(struct daemon *d, int sigfd, int dev_fd)
{
	int epfd = epoll_create1(EPOLL_CLOEXEC);
	int ret = epfd < 0 ? -errno : 0;

	if (ret == 0)
		ret = epoll_add(epfd, sigfd, EV_SIGNAL);
	if (ret == 0)
		ret = epoll_add(epfd, vb_vu_fd(d->server), EV_SERVER);
	if (ret == 0 && dev_fd >= 0)
		ret = epoll_add(epfd, dev_fd, EV_DEVICE);
	while (ret == 0) {
		struct epoll_event ev[4];
		/* --poll-us: during a poll window, look at the fds without sleeping and let the
		 * server look at the rings (below) on every turn. */
		bool polling = vb_vu_polling(d->server);
		int n = epoll_wait(epfd, ev, (int)ARRAY_SIZE(ev), polling ? 0 : -1);
		bool dispatched = false;

		if (n < 0) {
			ret = errno == EINTR ? 0 : -errno;
			continue;
		}
		for (int i = 0; i < n && ret == 0; i++) {
			struct signalfd_siginfo si;

			switch (ev[i].data.u64) {
			case EV_SIGNAL:
				if (read(sigfd, &si, sizeof(si)) != (ssize_t)sizeof(si))
					break;
				if (si.ssi_signo == SIGHUP) {
					if (d->type->resize)
						d->type->resize(d->state);
					break;
				}
				logf_(VB_LOG_INFO, "%s: shutting down", strsignal((int)si.ssi_signo));
				ret = 1;
				break;
			case EV_SERVER:
				dispatched = true;
				ret = vb_vu_dispatch(d->server);
				if (ret < 0)
					logf_(VB_LOG_ERR, "vhost-user server: %s", strerror(-ret));
				else
					ret = 0;
				break;
			case EV_DEVICE:
				ret = d->type->event(d->state);
				if (ret < 0)
					logf_(VB_LOG_ERR, "%s: %s", d->type->name, strerror(-ret));
				break;
			default:
				break;
			}
		}
		if (ret == 0 && polling && !dispatched) {
			ret = vb_vu_dispatch(d->server);
			if (ret < 0)
				logf_(VB_LOG_ERR, "vhost-user server: %s", strerror(-ret));
			else
				ret = 0;
		}
		/* Nothing came on any fd: let a task that shares this CPU (the front-end, on a
		 * small host) run before the next look. */
		if (polling && n == 0)
			sched_yield();
		watch_state(d);
		if (ret == 0 && d->attached && d->was_connected && !vb_vu_connected(d->server)) {
			logf_(VB_LOG_INFO, "inherited connection ended: exiting");
			ret = 1;
		}
	}
	if (epfd >= 0)
		close(epfd);
	return ret < 0 ? ret : 0;
}

/* Listen on or attach the inherited socket: SO_ACCEPTCONN tells which one it is. */
static int use_fd(struct daemon *d, int fd)
{
	int listening = 0;
	socklen_t len = sizeof(listening);

	if (getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &listening, &len) < 0)
		return -errno;	/* not a socket, or not open */
	(void)fcntl(fd, F_SETFD, FD_CLOEXEC);
	if (listening) {
		logf_(VB_LOG_INFO, "listening on inherited fd %d", fd);
		return vb_vu_listen_fd(d->server, fd);
	}
	/* Set before the first dispatch: the front-end may leave before the loop looks. */
	d->attached = true;
	d->was_connected = true;
	logf_(VB_LOG_INFO, "serving the connection on inherited fd %d", fd);
	return vb_vu_attach_fd(d->server, fd);
}

int main(int argc, char **argv)
{
	struct vbd_device dev = { .event_fd = -1 };
	struct daemon d;
	struct args a;
	sigset_t mask;
	int sigfd, ret;

	ret = parse_args(argc, argv, &a);
	if (ret != 0)
		return ret > 0 ? 0 : 2;
	memset(&d, 0, sizeof(d));
	d.type = a.type;
	d.state = a.type->state;

	/* Signals become readable events of the loop; a dead front-end is not a signal. */
	sigemptyset(&mask);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGHUP);
	sigprocmask(SIG_BLOCK, &mask, NULL);
	signal(SIGPIPE, SIG_IGN);
	sigfd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
	if (sigfd < 0) {
		logf_(VB_LOG_ERR, "signalfd: %s", strerror(errno));
		return 1;
	}

	if (d.type->open(d.state, &dev) < 0) {
		d.type->close(d.state);
		close(sigfd);
		return 1;
	}
	{
		struct vb_vu_config cfg = {
			.version = VB_VU_CONFIG_V1,
			.protocol_features = VB_VU_PROTOCOL_FEATURES_SUPPORTED,
			.ops = dev.ops,
			.priv = dev.model,
			.log = server_log,
		};

		ret = vb_vu_server_new(&cfg, &d.server);
		if (ret < 0)
			logf_(VB_LOG_ERR, "vhost-user server: %s", strerror(-ret));
		if (ret == 0 && a.poll_us) {
			ret = vb_vu_set_poll(d.server, (uint32_t)a.poll_us);
			if (ret < 0)
				logf_(VB_LOG_ERR, "--poll-us: %s", strerror(-ret));
			else
				logf_(VB_LOG_INFO, "busy-polling for %lu us after the last request",
				      a.poll_us);
		}
	}
	if (ret == 0 && a.socket_path && a.connect) {
		/* @satisfy{VB-REQ-VU-511} */
		ret = vb_vu_connect(d.server, a.socket_path);
		if (ret < 0)
			logf_(VB_LOG_ERR, "%s: %s", a.socket_path, strerror(-ret));
		else
			logf_(VB_LOG_INFO, "client of %s", a.socket_path);
	} else if (ret == 0 && a.socket_path) {
		ret = vb_vu_listen(d.server, a.socket_path);
		if (ret < 0)
			logf_(VB_LOG_ERR, "%s: %s", a.socket_path, strerror(-ret));
		else
			logf_(VB_LOG_INFO, "listening on %s", a.socket_path);
	} else if (ret == 0) {
		ret = use_fd(&d, a.fd);
		if (ret < 0)
			logf_(VB_LOG_ERR, "--fd %d: %s", a.fd, strerror(-ret));
	}
	if (ret == 0)
		ret = serve(&d, sigfd, dev.event_fd);
	if (d.server) {
		struct vb_vu_stats st;

		vb_vu_get_stats(d.server, &st);
		logf_(VB_LOG_INFO, "%" PRIu64 " connection%s, %" PRIu64 " messages (%" PRIu64
		      " refused)", st.connections, st.connections == 1 ? "" : "s", st.messages,
		      st.refused);
		d.type->describe(d.state, "at exit");
	}
	/* The server resets the device (draining the backend) before the model goes. */
	vb_vu_server_free(d.server);
	d.type->close(d.state);
	close(sigfd);
	return ret < 0 ? 1 : 0;
}
