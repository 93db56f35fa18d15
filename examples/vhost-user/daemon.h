/* SPDX-License-Identifier: MIT */
/*
 * What main.c of vb-vhost-user and its device types (one file each: blk.c, ...) share.
 *
 * A device type is a struct vbd_type: a name, its options and a few hooks. Adding one is a
 * new file defining `const struct vbd_type vbd_type_<name>`, its declaration below and a
 * line in main.c's vbd_types[]; main() knows none of them.
 */
#ifndef VB_EXAMPLES_VHOST_USER_DAEMON_H
#define VB_EXAMPLES_VHOST_USER_DAEMON_H

#include <getopt.h>
#include <stdbool.h>

#include "virtio-backend.h"
#include "virtio-backend/port.h"

#define PROG "vb-vhost-user"
#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* What a device type hands main(): a model for the server, and an fd to poll (or -1). */
struct vbd_device {
	const struct vb_device_ops	*ops;
	void				*model;
	int				event_fd;
};

struct vbd_type {
	const char		*name;		/* subcommand */
	void			*state;		/* its options and open device */
	const char		*summary;
	const char		*options_help;	/* its lines of --help */
	const char		*capabilities;	/* --print-capabilities JSON (one line) */
	const struct option	*options;	/* getopt_long entries, val >= OPT_DEVICE */
	/* One device option (key is the entry's val). 0, or -EINVAL with a message printed. */
	int  (*option)(void *state, int key, const char *arg);
	/* Options parsed: open the backend and build the model. 0 or -errno (message printed). */
	int  (*open)(void *state, struct vbd_device *dev);
	/* event_fd readable. 0 or -errno (logged; the daemon stops). */
	int  (*event)(void *state);
	/* The server is gone: free the model and the backend. */
	void (*close)(void *state);
	/* Log a line about the device (on start and on stop). */
	void (*describe)(void *state, const char *what);
	/* SIGHUP: the host resized the backing storage. May be NULL (SIGHUP is ignored). */
	void (*resize)(void *state);
};

enum {
	OPT_HELP = 'h',
	OPT_SOCKET = 256,
	OPT_FD,
	OPT_CONNECT,
	OPT_CAPS,
	OPT_POLL_US,
	OPT_DEVICE = 512,	/* device options start here */
};

/* A log line on stderr, "vb-vhost-user: LEVEL: ...". */
__attribute__((format(printf, 2, 3)))
void logf_(enum vb_log_level level, const char *fmt, ...);

/* Parse a decimal in [min, max] for option @opt; -EINVAL with a message printed. */
int parse_uint(const char *opt, const char *arg, unsigned long min, unsigned long max,
	       unsigned long *out);

/* Parse --queue-size: a power of two (for split rings, virtio 1.2, 2.7 "Split Virtqueues") in
 * [2, max]; -EINVAL with a message printed. */
int parse_queue_size(const char *arg, unsigned long max, unsigned int *out);

/* The device types (main.c lists them in vbd_types[]). */
extern const struct vbd_type vbd_type_blk;
extern const struct vbd_type vbd_type_rng;
extern const struct vbd_type vbd_type_net;
extern const struct vbd_type vbd_type_i2c;
extern const struct vbd_type vbd_type_gpio;
extern const struct vbd_type vbd_type_console;
extern const struct vbd_type vbd_type_input;
extern const struct vbd_type vbd_type_vsock;

#endif
