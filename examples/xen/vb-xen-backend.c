/* SPDX-License-Identifier: MIT */
/*
 * vb-xen-backend: the library's device models served to a Xen guest's virtio-mmio drivers
 * through an ioreq server (include/virtio-backend/transports/xen.h), from dom0 or a driver
 * domain.
 *
 *   vb-xen-backend --domid N [--irq arm|isa|none] [--map-cache-mb N]
 *                  --device TYPE,base=ADDR,irq=N[,size=BYTES][,grants][,OPTION...] ...
 *   vb-xen-backend --domid N --dtb FILE [--domain NAME]
 *
 * Device types and their options:
 *   blk   image=PATH (required), read-only, direct (O_DIRECT), sync (no io_uring), serial=S
 *   rng   file=PATH (default: getrandom()), rate=BYTES_PER_S
 * With --dtb, the devices are the enabled "virtio,mmio" nodes of the blob (below the domain
 * node named by --domain, if given): reg, interrupts and iommus (xen,grant-dma: grants) as
 * the guest sees them, the type in "libvirtio-backend,device" and the options, comma
 * separated, in "libvirtio-backend,args" (include/virtio-backend/dt.h).
 *
 * Prints "vb-xen-backend: ready" on stderr once the ioreq server serves (a toolstack may then
 * unpause the guest), and per-device totals at exit. Stops on SIGTERM/SIGINT. Exit status 0
 * after a signal, 1 when the set-up fails, 2 for a usage error.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <unistd.h>

#include "virtio-backend.h"
#include "virtio-backend/devices/blk.h"
#include "virtio-backend/devices/rng.h"
#include "virtio-backend/dt.h"
#include "virtio-backend/transports/xen.h"

#define PROG "vb-xen-backend"
#define MAX_DEVS VB_XEN_MAX_DEVICES

__attribute__((format(printf, 2, 3)))
static void say(const char *level, const char *fmt, ...)
{
	char line[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	fprintf(stderr, PROG ": %s%s%s\n", level, *level ? ": " : "", line);
}

static void server_log(void *ctx, enum vb_log_level level, const char *msg)
{
	(void)ctx;
	say(level == VB_LOG_ERR ? "error" : level == VB_LOG_WARN ? "warning" : "info", "%s", msg);
}

/* One device: what the command line or the device tree says, and what was built. */
struct device {
	char			type[16];
	char			opts[VB_DT_ARGS_MAX];	/* comma-separated, type-specific */
	uint64_t		base, size;
	uint32_t		irq;
	bool			grants;
	/* built */
	struct vb_blk		*blk;
	struct vb_blk_file	*file;
	struct vb_blk_uring	*uring;
	struct vb_rng		*rng;
	struct vb_rng_file	*rng_file;
	int			event_fd;	/* io_uring completions or rng timer, or -1 */
};

static int parse_u64(const char *s, uint64_t *v)
{
	char *end;

	errno = 0;
	*v = strtoull(s, &end, 0);
	return errno || end == s || *end || s[0] == '-' ? -EINVAL : 0;
}

/* Next "key[=value]" of a comma-separated list; NULL at the end. Modifies the list. */
static char *next_opt(char **list, char **value)
{
	char *opt = *list, *eq;

	if (!opt || !*opt)
		return NULL;
	*list = strchr(opt, ',');
	if (*list)
		*(*list)++ = '\0';
	eq = strchr(opt, '=');
	*value = eq ? eq + 1 : NULL;
	if (eq)
		*eq = '\0';
	return opt;
}

/* --device TYPE,base=..,irq=..[,size=..][,grants][,type options] */
static int parse_device(const char *arg, struct device *d)
{
	char buf[VB_DT_ARGS_MAX + 64], *list = buf, *key, *val;
	size_t n;

	memset(d, 0, sizeof(*d));
	d->size = 0x200;
	d->event_fd = -1;
	if (strlen(arg) >= sizeof(buf))
		return -EINVAL;
	strcpy(buf, arg);
	key = next_opt(&list, &val);
	if (!key || val || strlen(key) >= sizeof(d->type))
		return -EINVAL;
	strcpy(d->type, key);
	d->base = UINT64_MAX;
	d->irq = UINT32_MAX;
	while ((key = next_opt(&list, &val))) {
		uint64_t v;

		if (!strcmp(key, "base") || !strcmp(key, "size") || !strcmp(key, "irq")) {
			if (!val || parse_u64(val, &v) < 0)
				return -EINVAL;
			if (key[0] == 'b')
				d->base = v;
			else if (key[0] == 's')
				d->size = v;
			else if (v > UINT32_MAX)
				return -EINVAL;
			else
				d->irq = (uint32_t)v;
			continue;
		}
		if (!strcmp(key, "grants") && !val) {
			d->grants = true;
			continue;
		}
		/* Everything else belongs to the device type. */
		n = strlen(d->opts);
		if (n + strlen(key) + (val ? strlen(val) + 1 : 0) + 2 >= sizeof(d->opts))
			return -EINVAL;
		snprintf(d->opts + n, sizeof(d->opts) - n, "%s%s%s%s", n ? "," : "", key,
			 val ? "=" : "", val ? val : "");
	}
	return d->base == UINT64_MAX || d->irq == UINT32_MAX ? -EINVAL : 0;
}

static int devices_from_dtb(const char *path, const char *domain, struct device *devs,
			    unsigned int *n)
{
	struct vb_dt_virtio_mmio found[MAX_DEVS];
	struct vb_dt_domain doms[16];
	struct stat st;
	void *fdt = NULL;
	int fd, parent = 0, nd, ret = -EINVAL;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &st) < 0 || st.st_size <= 0 || st.st_size > (16 << 20)) {
		say("error", "%s: %s", path, fd < 0 ? strerror(errno) : "not a device tree blob");
		goto out;
	}
	fdt = malloc((size_t)st.st_size);
	if (!fdt || read(fd, fdt, (size_t)st.st_size) != st.st_size ||
	    vb_dt_check(fdt, (size_t)st.st_size) < 0) {
		say("error", "%s: not a well-formed device tree blob", path);
		goto out;
	}
	if (domain) {
		nd = vb_dt_domains(fdt, doms, 16);
		parent = -1;
		for (int i = 0; i < nd && i < 16; i++)
			if (!strcmp(doms[i].name, domain))
				parent = doms[i].node;
		if (parent < 0) {
			say("error", "%s: no domain node '%s'", path, domain);
			goto out;
		}
	}
	nd = vb_dt_virtio_mmio_find(fdt, parent, found, MAX_DEVS);
	if (nd < 0 || nd > (int)MAX_DEVS) {
		say("error", "%s: %s", path, nd < 0 ? strerror(-nd) : "too many devices");
		goto out;
	}
	for (int i = 0; i < nd; i++) {
		struct device *d = &devs[(*n)++];

		memset(d, 0, sizeof(*d));
		d->event_fd = -1;
		if (!found[i].device[0]) {
			say("error", "%s: %s has no libvirtio-backend,device", path, found[i].name);
			goto out;
		}
		snprintf(d->type, sizeof(d->type), "%s", found[i].device);
		memcpy(d->opts, found[i].args, sizeof(d->opts));
		d->base = found[i].base;
		d->size = found[i].size;
		d->irq = found[i].irq;
		d->grants = (found[i].flags & VB_DT_F_GRANT_DMA) != 0;
	}
	ret = 0;
out:
	free(fdt);
	if (fd >= 0)
		close(fd);
	return ret;
}

/* ---- device types ---- */

static int open_blk(struct device *d, const struct vb_device_ops **ops, void **model)
{
	struct vb_blk_config cfg = { .version = VB_BLK_CONFIG_V1 };
	char opts[VB_DT_ARGS_MAX], *list = opts, *key, *val;
	const char *image = NULL, *serial = NULL;
	unsigned int fl = 0;
	bool sync = false;
	int ret;

	strcpy(opts, d->opts);
	while ((key = next_opt(&list, &val))) {
		if (!strcmp(key, "image") && val)
			image = val;
		else if (!strcmp(key, "read-only") && !val)
			fl |= VB_BLK_FILE_READ_ONLY;
		else if (!strcmp(key, "direct") && !val)
			fl |= VB_BLK_FILE_DIRECT;
		else if (!strcmp(key, "sync") && !val)
			sync = true;
		else if (!strcmp(key, "serial") && val)
			serial = val;
		else
			return say("error", "blk: unknown option '%s'", key), -EINVAL;
	}
	if (!image)
		return say("error", "blk needs image=PATH"), -EINVAL;
	cfg.flags = (fl & VB_BLK_FILE_READ_ONLY) ? VB_BLK_CFG_READ_ONLY :
		    VB_BLK_CFG_DISCARD | VB_BLK_CFG_WRITE_ZEROES | VB_BLK_CFG_WZ_MAY_UNMAP;
	if (serial)
		memcpy(cfg.serial, serial, strnlen(serial, sizeof(cfg.serial)));
	ret = sync ? -ENOTSUP : vb_blk_uring_open(image, fl, 256, &d->uring);
	if (ret == 0) {
		cfg.capacity = vb_blk_uring_capacity(d->uring);
		d->event_fd = vb_blk_uring_eventfd(d->uring);
		ret = vb_blk_create(&cfg, &vb_blk_uring_ops, d->uring, &d->blk);
	} else {
		ret = vb_blk_file_open(image, fl, &d->file);
		if (ret == 0) {
			cfg.capacity = vb_blk_file_capacity(d->file);
			ret = vb_blk_create(&cfg, &vb_blk_file_ops, d->file, &d->blk);
		}
	}
	if (ret < 0)
		return say("error", "blk: %s: %s", image, strerror(-ret)), ret;
	*ops = vb_blk_device_ops(d->blk);
	*model = d->blk;
	say("info", "blk at 0x%" PRIx64 " irq %u: %s, %" PRIu64 " sectors, %s%s", d->base, d->irq,
	    image, cfg.capacity, d->uring ? "io_uring" : "sync",
	    (fl & VB_BLK_FILE_READ_ONLY) ? ", read-only" : "");
	return 0;
}

static int open_rng(struct device *d, const struct vb_device_ops **ops, void **model)
{
	struct vb_rng_config cfg = { .version = VB_RNG_CONFIG_V1 };
	char opts[VB_DT_ARGS_MAX], *list = opts, *key, *val;
	const char *file = NULL;
	uint64_t rate = 0;
	int ret;

	strcpy(opts, d->opts);
	while ((key = next_opt(&list, &val))) {
		if (!strcmp(key, "file") && val)
			file = val;
		else if (!strcmp(key, "rate") && val && parse_u64(val, &rate) == 0)
			cfg.rate = rate;
		else
			return say("error", "rng: unknown option '%s'", key), -EINVAL;
	}
	ret = file ? vb_rng_file_open(file, &d->rng_file) : 0;
	if (ret == 0)
		ret = vb_rng_create(&cfg, file ? &vb_rng_file_ops : &vb_rng_getrandom_ops,
				    d->rng_file, &d->rng);
	if (ret < 0)
		return say("error", "rng: %s", strerror(-ret)), ret;
	d->event_fd = vb_rng_timer_fd(d->rng);
	*ops = vb_rng_device_ops(d->rng);
	*model = d->rng;
	say("info", "rng at 0x%" PRIx64 " irq %u: %s", d->base, d->irq, file ? file : "getrandom()");
	return 0;
}

static int device_event(struct device *d)
{
	if (d->uring)
		return vb_blk_uring_complete(d->uring, 0) < 0 ? -EIO : 0;
	if (d->rng)
		return vb_rng_process(d->rng);
	return 0;
}

static void device_close(struct device *d)
{
	if (d->blk) {
		struct vb_blk_stats st;

		vb_blk_get_stats(d->blk, &st);
		say("info", "blk at 0x%" PRIx64 ": %" PRIu64 " requests, %" PRIu64 " bytes read, %"
		    PRIu64 " written", d->base, st.requests, st.bytes_read, st.bytes_written);
	}
	vb_blk_destroy(d->blk);
	vb_blk_uring_close(d->uring);
	vb_blk_file_close(d->file);
	vb_rng_destroy(d->rng);
	vb_rng_file_close(d->rng_file);
}

/* ---- main ---- */

static void usage(FILE *out)
{
	fprintf(out,
		"usage: " PROG " --domid N [--irq arm|isa|none] [--map-cache-mb N]\n"
		"           (--device TYPE,base=ADDR,irq=N[,size=BYTES][,grants][,OPT...] ... |\n"
		"            --dtb FILE [--domain NAME])\n"
		"Serves virtio-mmio devices to Xen domain N through an ioreq server.\n"
		"  blk  image=PATH, read-only, direct, sync\n"
		"  rng  file=PATH (default getrandom()), rate=BYTES_PER_SECOND\n"
		"--irq: arm (GIC SPI, default on Arm), isa (x86 HVM guests; default on x86), none\n");
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "domid", required_argument, NULL, 'd' },
		{ "device", required_argument, NULL, 'D' },
		{ "dtb", required_argument, NULL, 't' },
		{ "domain", required_argument, NULL, 'n' },
		{ "irq", required_argument, NULL, 'i' },
		{ "map-cache-mb", required_argument, NULL, 'm' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct vb_xen_config cfg = {
		.version = VB_XEN_CONFIG_V1,
#if defined(__aarch64__) || defined(__arm__)
		.irq_kind = VB_XEN_IRQ_ARM,
#else
		.irq_kind = VB_XEN_IRQ_ISA,
#endif
		.log = server_log,
	};
	static struct device devs[MAX_DEVS];
	const char *dtb = NULL, *domain = NULL;
	struct vb_xen_server *s = NULL;
	unsigned int n = 0;
	uint64_t v;
	bool have_domid = false;
	sigset_t mask;
	int c, ret = 0, sigfd = -1, epfd = -1;

	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'd':
			if (parse_u64(optarg, &v) < 0 || v >= 0x7ff0)
				return say("error", "--domid wants a domain id"), 2;
			cfg.domid = (uint32_t)v;
			have_domid = true;
			break;
		case 'D':
			if (n == MAX_DEVS || parse_device(optarg, &devs[n]) < 0)
				return say("error", "bad --device '%s' (see --help)", optarg), 2;
			n++;
			break;
		case 't':
			dtb = optarg;
			break;
		case 'n':
			domain = optarg;
			break;
		case 'i':
			if (!strcmp(optarg, "arm"))
				cfg.irq_kind = VB_XEN_IRQ_ARM;
			else if (!strcmp(optarg, "isa"))
				cfg.irq_kind = VB_XEN_IRQ_ISA;
			else if (!strcmp(optarg, "none"))
				cfg.irq_kind = VB_XEN_IRQ_NONE;
			else
				return say("error", "--irq is arm, isa or none"), 2;
			break;
		case 'm':
			if (parse_u64(optarg, &v) < 0 || v == 0 || v > 4095)
				return say("error", "--map-cache-mb wants 1..4095"), 2;
			cfg.map_cache_bytes = (uint32_t)(v << 20);
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (!have_domid || optind < argc || (dtb && n) || (!dtb && !n)) {
		usage(stderr);
		return 2;
	}
	if (dtb && devices_from_dtb(dtb, domain, devs, &n) < 0)
		return 1;

	sigemptyset(&mask);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	sigprocmask(SIG_BLOCK, &mask, NULL);
	sigfd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);

	ret = vb_xen_server_new(&cfg, &s);
	if (ret < 0) {
		say("error", "Xen interfaces: %s (dom0 or a driver domain with privcmd, evtchn "
		    "and gntdev?)", strerror(-ret));
		return 1;
	}
	for (unsigned int i = 0; i < n && ret == 0; i++) {
		struct vb_xen_device xd = {
			.base = devs[i].base, .size = devs[i].size, .irq = devs[i].irq,
			.flags = devs[i].grants ? VB_XEN_DEV_F_GRANTS : 0,
		};

		if (!strcmp(devs[i].type, "blk"))
			ret = open_blk(&devs[i], &xd.ops, &xd.model);
		else if (!strcmp(devs[i].type, "rng"))
			ret = open_rng(&devs[i], &xd.ops, &xd.model);
		else
			ret = (say("error", "unknown device type '%s'", devs[i].type), -EINVAL);
		if (ret == 0)
			ret = vb_xen_add_device(s, &xd, NULL);
		if (ret < 0)
			say("error", "device %u at 0x%" PRIx64 ": %s", i, devs[i].base,
			    strerror(-ret));
	}
	if (ret == 0)
		ret = vb_xen_start(s);
	epfd = epoll_create1(EPOLL_CLOEXEC);
	if (ret == 0 && (epfd < 0 || sigfd < 0))
		ret = -errno;
	if (ret == 0) {
		struct epoll_event ev = { .events = EPOLLIN, .data.u32 = UINT32_MAX };

		ret = epoll_ctl(epfd, EPOLL_CTL_ADD, vb_xen_fd(s), &ev);
		ev.data.u32 = UINT32_MAX - 1;
		ret = ret ? ret : epoll_ctl(epfd, EPOLL_CTL_ADD, sigfd, &ev);
		for (unsigned int i = 0; ret == 0 && i < n; i++) {
			ev.data.u32 = i;
			if (devs[i].event_fd >= 0)
				ret = epoll_ctl(epfd, EPOLL_CTL_ADD, devs[i].event_fd, &ev);
		}
		ret = ret < 0 ? -errno : 0;
	}
	if (ret == 0)
		say("", "ready: domain %u, %u device%s", cfg.domid, n, n == 1 ? "" : "s");
	while (ret == 0) {
		struct epoll_event ev[8];
		int k = epoll_wait(epfd, ev, 8, -1);
		bool stop = false;

		if (k < 0) {
			ret = errno == EINTR ? 0 : -errno;
			continue;
		}
		for (int i = 0; i < k && ret == 0; i++) {
			if (ev[i].data.u32 == UINT32_MAX - 1)
				stop = true;
			else if (ev[i].data.u32 < n)
				ret = device_event(&devs[ev[i].data.u32]);
		}
		/* Always: the ioreqs, and the mappings completions may have freed. */
		if (ret == 0)
			ret = vb_xen_dispatch(s);
		if (stop) {
			say("info", "signal: shutting down");
			break;
		}
	}
	if (ret < 0)
		say("error", "%s", strerror(-ret));
	if (s) {
		struct vb_xen_stats st;

		vb_xen_get_stats(s, &st);
		say("info", "%" PRIu64 " ioreqs (%" PRIu64 " refused, %" PRIu64 " buffered), %"
		    PRIu64 " foreign and %" PRIu64 " grant mappings made", st.ioreqs, st.refused,
		    st.buffered, st.foreign_maps, st.grant_maps);
	}
	vb_xen_server_free(s);
	for (unsigned int i = 0; i < n; i++)
		device_close(&devs[i]);
	if (epfd >= 0)
		close(epfd);
	if (sigfd >= 0)
		close(sigfd);
	return ret < 0 ? 1 : 0;
}
