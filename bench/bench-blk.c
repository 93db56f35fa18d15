/* SPDX-License-Identifier: MIT */
/*
 * bench-blk: vhost-user-blk throughput and latency of our daemon (examples/vb-vhost-user,
 * "blk") against qemu-storage-daemon's vhost-user-blk export, both serving the same image
 * file in the same run, both driven by the same guest-less front-end: the driver-side
 * vhost-user client of tests/support (memfd guest memory, split ring, EVENT_IDX when both
 * sides offer it). See bench/README.md, section "bench-blk".
 *
 * Each request is the 3-descriptor chain a Linux virtio_blk driver builds for a one-segment
 * bio: 16-byte header (readable), data (writable for reads), 1 status byte (writable). Request
 * slot i owns descriptors 3i..3i+2 and its own buffers for the whole run, so a slot is
 * rewritten only once it came back. The loop keeps QD requests in flight: reap every used
 * entry, resubmit its slot, kick once if the device asked for it (avail_event), and sleep on
 * the call eventfd (used_event = next used index) when nothing came back.
 *
 * A third peer is our daemon again with --poll-us N (busy polling, vb_vu_set_poll()), unless
 * --poll-us 0. Runs are interleaved (ours, qsd, ours+poll, then ours+poll, qsd, ours, ...)
 * because this machine's speed drifts many-fold from minute to minute; medians and the
 * median of per-run ratios are reported.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "virtio-backend.h"
#include "virtio-backend/devices/blk.h"
#include "virtio-backend/transports/vhost-user.h"
#include "vbt-vu-client.h"

#ifndef BENCH_VB_VHOST_USER
#define BENCH_VB_VHOST_USER "vb-vhost-user"
#endif
#ifndef BENCH_BUILDTYPE
#define BENCH_BUILDTYPE "unknown"
#endif

#define GUEST_GPA	UINT64_C(0x40000000)
#define QNUM		128u		/* ring size: 3 descriptors x QD <= 96 */
#define QD_MAX		32u
#define BS_MAX		(128u << 10)
#define RUNS_MAX	63u

/* What the front-end asks for: what a Linux guest's virtio_blk negotiates on this data path. */
#define BLK_FEATURES	(VB_BIT(VB_VIRTIO_F_VERSION_1) | VB_BIT(VB_VIRTIO_F_EVENT_IDX) | \
			 VB_BIT(VB_VIRTIO_BLK_F_FLUSH) | VB_BIT(VB_VIRTIO_BLK_F_BLK_SIZE) | \
			 VB_BIT(VB_VIRTIO_BLK_F_SEG_MAX))
#define BLK_PROTOCOL	VB_BIT(VB_VU_PROTOCOL_F_REPLY_ACK)

enum pattern { RANDREAD, RANDWRITE, SEQREAD, SEQWRITE };

struct config {
	const char	*name;
	enum pattern	pat;
	uint32_t	bs;
	uint32_t	qd;
};

static const struct config configs[] = {
	{ "randread-4k-qd1",	RANDREAD,	4096,		1 },
	{ "randread-4k-qd32",	RANDREAD,	4096,		32 },
	{ "randwrite-4k-qd1",	RANDWRITE,	4096,		1 },
	{ "randwrite-4k-qd32",	RANDWRITE,	4096,		32 },
	{ "seqread-128k-qd8",	SEQREAD,	128u << 10,	8 },
	{ "seqwrite-128k-qd8",	SEQWRITE,	128u << 10,	8 },
};
#define N_CONFIGS	(sizeof(configs) / sizeof(configs[0]))

/* One request slot: its buffers in guest memory and when it was submitted. */
struct slot {
	uint64_t	hdr, data, status;
	double		t_submit;
};

/* One daemon under test, with its own client (and guest memory). */
struct peer {
	const char		*name;
	const char		*label;		/* what the table says: "ours (io_uring)" */
	bool			poll;		/* ours with --poll-us */
	char			sock[160];
	char			log[160];
	pid_t			pid;
	bool			up;
	struct vbt_vu_client	c;
	bool			client;
	bool			event_idx;
	struct slot		slots[QD_MAX];
	uint64_t		seq_off;	/* next offset of the sequential patterns */
};

struct result {
	double iops, mbps, lat_us, cpu_us;
};

static struct {
	const char	*vb_path;
	const char	*qsd_path;
	const char	*backend;	/* NULL: the daemon's default */
	const char	*only;
	bool		direct;
	bool		no_qsd;
	bool		verbose;	/* one line per run */
	unsigned int	runs;
	unsigned int	poll_us;	/* 0: no "ours+poll" peer */
	double		secs;
	double		warmup;
	uint64_t	size;
	char		dir[64];
	char		image[128];
} opt = {
	.vb_path = BENCH_VB_VHOST_USER,
	.qsd_path = "qemu-storage-daemon",
	.runs = 5,
	.poll_us = 50,
	.secs = 2.0,
	.warmup = 0.3,
	.size = 64u << 20,
};

/* The daemons, in table order. */
enum { P_OURS, P_QSD, P_POLL, NP };

static struct peer peers[NP];
static uint64_t rng_state = 0x9e3779b97f4a7c15u;

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static uint64_t rnd(void)
{
	/* xorshift64: cheap, and the same sequence of offsets for both daemons per seed. */
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return rng_state;
}

/* ---- daemons ------------------------------------------------------------------------------ */

static void stop_peer(struct peer *p)
{
	if (p->client)
		vbt_vu_client_fini(&p->c);
	p->client = false;
	if (p->pid > 0) {
		int st;

		kill(p->pid, SIGTERM);
		for (int i = 0; i < 500 && waitpid(p->pid, &st, WNOHANG) == 0; i++)
			usleep(10000);
		if (waitpid(p->pid, &st, WNOHANG) == 0) {
			kill(p->pid, SIGKILL);
			waitpid(p->pid, &st, 0);
		}
	}
	p->pid = -1;
	unlink(p->sock);
}

static void cleanup(void)
{
	for (unsigned int i = 0; i < NP; i++) {
		stop_peer(&peers[i]);
		if (peers[i].log[0])
			unlink(peers[i].log);
	}
	if (opt.image[0])
		unlink(opt.image);
	if (opt.dir[0])
		rmdir(opt.dir);
}

static void on_signal(int sig)
{
	/* Only the daemons this process started, by pid. */
	for (unsigned int i = 0; i < NP; i++)
		if (peers[i].pid > 0)
			kill(peers[i].pid, SIGTERM);
	signal(sig, SIG_DFL);
	raise(sig);
}

static void dump_log(const struct peer *p)
{
	char line[512];
	FILE *f = fopen(p->log, "r");

	if (!f)
		return;
	while (fgets(line, sizeof(line), f))
		fprintf(stderr, "  | %s", line);
	fclose(f);
}

static bool in_path(const char *prog)
{
	char buf[4096];
	const char *path = getenv("PATH");

	if (strchr(prog, '/'))
		return access(prog, X_OK) == 0;
	while (path && *path) {
		const char *end = strchr(path, ':');
		size_t n = end ? (size_t)(end - path) : strlen(path);

		snprintf(buf, sizeof(buf), "%.*s/%s", (int)n, path, prog);
		if (access(buf, X_OK) == 0)
			return true;
		path = end ? end + 1 : NULL;
	}
	return false;
}

/* exec's argv is char *const[]: it never writes the strings. */
static char *unconst(const char *s)
{
	return (char *)(uintptr_t)s;
}

static int spawn(struct peer *p, char *const *argv)
{
	p->pid = fork();
	if (p->pid < 0)
		return -errno;
	if (p->pid == 0) {
		int null = open("/dev/null", O_RDONLY);
		int lfd = open(p->log, O_WRONLY | O_CREAT | O_TRUNC, 0644);

		if (null >= 0)
			dup2(null, 0);
		if (lfd >= 0) {
			dup2(lfd, 1);
			dup2(lfd, 2);
		}
		execvp(argv[0], argv);
		fprintf(stderr, "exec %s: %s\n", argv[0], strerror(errno));
		_exit(127);
	}
	return 0;
}

static int start_ours(struct peer *p)
{
	char *argv[14], poll[16];
	unsigned int n = 0;

	argv[n++] = unconst(opt.vb_path);
	argv[n++] = "blk";
	argv[n++] = "--socket-path";
	argv[n++] = p->sock;
	argv[n++] = "--image";
	argv[n++] = opt.image;
	if (opt.backend) {
		argv[n++] = "--backend";
		argv[n++] = unconst(opt.backend);
	}
	if (opt.direct)
		argv[n++] = "--direct";
	if (p->poll) {
		snprintf(poll, sizeof(poll), "%u", opt.poll_us);
		argv[n++] = "--poll-us";
		argv[n++] = poll;
	}
	argv[n] = NULL;
	return spawn(p, argv);
}

static int start_qsd(struct peer *p)
{
	char blockdev[512], export[512];
	char *argv[] = { unconst(opt.qsd_path), "--blockdev", blockdev, "--export", export, NULL };

	snprintf(blockdev, sizeof(blockdev),
		 "driver=file,node-name=f,filename=%s,cache.direct=%s", opt.image,
		 opt.direct ? "on" : "off");
	snprintf(export, sizeof(export),
		 "type=vhost-user-blk,id=e,node-name=f,addr.type=unix,addr.path=%s,"
		 "writable=on,num-queues=1", p->sock);
	return spawn(p, argv);
}

static bool log_has(const struct peer *p, const char *text)
{
	char line[512];
	FILE *f = fopen(p->log, "r");
	bool found = false;

	if (!f)
		return false;
	while (!found && fgets(line, sizeof(line), f))
		found = strstr(line, text) != NULL;
	fclose(f);
	return found;
}

/* Wait for the socket, connect, negotiate, lay out the ring and the request slots. */
static int connect_peer(struct peer *p)
{
	uint64_t mem = (uint64_t)QD_MAX * (BS_MAX + 4096u) + (1u << 20);
	int ret;

	for (int i = 0; i < 1000; i++) {
		struct stat st;
		int wst;

		if (stat(p->sock, &st) == 0 && S_ISSOCK(st.st_mode))
			break;
		if (waitpid(p->pid, &wst, WNOHANG) == p->pid) {
			p->pid = -1;
			fprintf(stderr, "bench-blk: %s exited before creating its socket:\n",
				p->name);
			dump_log(p);
			return -ECHILD;
		}
		usleep(10000);
	}
	ret = vbt_vu_client_init(&p->c, GUEST_GPA, (size_t)mem);
	if (ret < 0)
		return ret;
	p->client = true;
	p->c.timeout_ms = 10000;
	ret = vbt_vu_connect(&p->c, p->sock);
	if (ret == 0)
		ret = vbt_vu_negotiate(&p->c, BLK_FEATURES, BLK_PROTOCOL, true);
	if (ret == 0)
		ret = vbt_vu_set_mem_table(&p->c);
	if (ret == 0)
		ret = vbt_vu_setup_vq(&p->c, 0, QNUM, 0);
	if (ret < 0) {
		fprintf(stderr, "bench-blk: %s: vhost-user setup: %s\n", p->name, strerror(-ret));
		dump_log(p);
		return ret;
	}
	p->event_idx = (p->c.features & VB_BIT(VB_VIRTIO_F_EVENT_IDX)) != 0;
	for (unsigned int i = 0; i < QD_MAX; i++) {
		p->slots[i].hdr = vbt_guest_alloc(&p->c.g, 16, 16);
		p->slots[i].data = vbt_guest_alloc(&p->c.g, BS_MAX, 4096);
		p->slots[i].status = vbt_guest_alloc(&p->c.g, 1, 1);
	}
	p->up = true;
	return 0;
}

/* ---- one run ------------------------------------------------------------------------------ */

/* CPU time the daemon used so far, all its threads (io-wq workers and thread pools too). */
static double peer_cpu_s(const struct peer *p)
{
	char path[64], buf[1024], *q;
	unsigned long long ut = 0, st = 0;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)p->pid);
	f = fopen(path, "r");
	if (!f)
		return 0;
	q = fgets(buf, sizeof(buf), f) ? strrchr(buf, ')') : NULL;
	fclose(f);
	/* After "(comm)": state, then fields 4..13, then utime (14) and stime (15). */
	if (!q || sscanf(q + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu",
			 &ut, &st) != 2)
		return 0;
	return (double)(ut + st) / (double)sysconf(_SC_CLK_TCK);
}

static bool is_write(const struct config *k)
{
	return k->pat == RANDWRITE || k->pat == SEQWRITE;
}

static void submit(struct peer *p, const struct config *k, unsigned int i, double t)
{
	struct vbt_split *r = &p->c.vq[0].r;
	struct slot *s = &p->slots[i];
	struct vb_virtio_blk_req_hdr *h = vbt_guest_ptr(&p->c.g, s->hdr);
	uint64_t off;

	if (k->pat == RANDREAD || k->pat == RANDWRITE) {
		off = (rnd() % (opt.size / k->bs)) * k->bs;
	} else {
		if (p->seq_off + k->bs > opt.size)
			p->seq_off = 0;
		off = p->seq_off;
		p->seq_off += k->bs;
	}
	h->type = vb_cpu_to_le32(is_write(k) ? VB_VIRTIO_BLK_T_OUT : VB_VIRTIO_BLK_T_IN);
	h->reserved = vb_cpu_to_le32(0);
	h->sector = vb_cpu_to_le64(off >> 9);
	*(uint8_t *)vbt_guest_ptr(&p->c.g, s->status) = 0xff;
	s->t_submit = t;
	vbt_split_publish(r, (uint16_t)(3u * i));
}

/* Kick if the device asked for it since old_idx (virtio 1.2, 2.7.10 "Available Buffer
 * Notification Suppression"). */
static int maybe_kick(struct peer *p, uint16_t old_idx)
{
	struct vbt_split *r = &p->c.vq[0].r;

	/* The new avail->idx is visible before avail_event (or flags) is read, as in Linux's
	 * virtqueue_kick_prepare(): otherwise the device may go to sleep unseen. */
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	if (!vbt_split_driver_would_kick(r, p->event_idx, old_idx, r->avail_idx))
		return 0;
	return vbt_vu_kick(&p->c, 0);
}

static int run_one(struct peer *p, const struct config *k, double secs, struct result *res)
{
	struct vbt_split *r = &p->c.vq[0].r;
	uint64_t done = 0;
	double lat = 0, t0, t_end, t_last, cpu0 = peer_cpu_s(p);
	unsigned int inflight = 0;
	uint16_t old;
	int ret;

	/* Fixed descriptors per slot: header, data, status. */
	for (unsigned int i = 0; i < k->qd; i++) {
		const struct slot *s = &p->slots[i];
		uint16_t d = (uint16_t)(3u * i);

		vbt_split_put_desc(r, d, s->hdr, 16, VB_VRING_DESC_F_NEXT, (uint16_t)(d + 1));
		vbt_split_put_desc(r, (uint16_t)(d + 1), s->data, k->bs,
				   (uint16_t)(VB_VRING_DESC_F_NEXT |
					      (is_write(k) ? 0 : VB_VRING_DESC_F_WRITE)),
				   (uint16_t)(d + 2));
		vbt_split_put_desc(r, (uint16_t)(d + 2), s->status, 1, VB_VRING_DESC_F_WRITE, 0);
	}
	if (!p->event_idx)
		vbt_split_set_no_interrupt(r, false);
	t0 = t_last = now();
	t_end = t0 + secs;
	old = r->avail_idx;
	for (unsigned int i = 0; i < k->qd; i++)
		submit(p, k, i, t0);
	inflight = k->qd;
	ret = maybe_kick(p, old);
	while (ret == 0 && inflight) {
		uint32_t id, len;
		unsigned int n = 0;
		double t = now();

		old = r->avail_idx;
		while (vbt_split_get_used(r, &id, &len)) {
			unsigned int i = id / 3u;
			uint8_t status;

			if (id % 3u || i >= k->qd) {
				fprintf(stderr, "bench-blk: %s returned head %u\n", p->name, id);
				return -EPROTO;
			}
			status = *(uint8_t *)vbt_guest_ptr(&p->c.g, p->slots[i].status);
			if (status != VB_VIRTIO_BLK_S_OK) {
				fprintf(stderr, "bench-blk: %s: request status %u\n", p->name,
					status);
				return -EIO;
			}
			n++;
			done++;
			lat += t - p->slots[i].t_submit;
			t_last = t;
			if (t < t_end)
				submit(p, k, i, t);
			else
				inflight--;
		}
		if (n) {
			if (r->avail_idx != old)
				ret = maybe_kick(p, old);
			continue;
		}
		/* Nothing came back: ask for a call at the next used entry, recheck, sleep. */
		if (p->event_idx)
			vbt_split_set_used_event(r, r->last_used);
		__atomic_thread_fence(__ATOMIC_SEQ_CST);
		if (vbt_split_used_idx(r) != r->last_used)
			continue;
		ret = vbt_vu_wait_call(&p->c, 0, 10000);
		if (ret == -ETIMEDOUT)
			fprintf(stderr, "bench-blk: %s: no completion within 10 s\n", p->name);
	}
	if (ret < 0)
		return ret;
	res->iops = (double)done / (t_last - t0);
	res->mbps = res->iops * k->bs / 1e6;
	res->lat_us = lat / (double)done * 1e6;
	res->cpu_us = (peer_cpu_s(p) - cpu0) / (double)done * 1e6;
	return 0;
}

/*
 * Before measuring: one 4 KiB read through the daemon must return what the image file holds
 * at that offset, so that the figures are of real I/O on the shared image.
 */
static int check_peer(struct peer *p)
{
	static const struct config k = { "check", SEQREAD, 4096, 1 };
	uint8_t want[4096];
	struct result r;
	int fd, ret;

	p->seq_off = opt.size / 2;
	memset(vbt_guest_ptr(&p->c.g, p->slots[0].data), 0, 4096);
	ret = run_one(p, &k, 0, &r);	/* duration 0: exactly one request */
	if (ret < 0)
		return ret;
	fd = open(opt.image, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	ret = pread(fd, want, sizeof(want), (off_t)(opt.size / 2)) == (ssize_t)sizeof(want) ?
	      0 : -EIO;
	close(fd);
	if (ret == 0 && memcmp(want, vbt_guest_ptr(&p->c.g, p->slots[0].data), 4096)) {
		fprintf(stderr, "bench-blk: %s returned other data than the image holds\n",
			p->name);
		ret = -EIO;
	}
	return ret;
}

/* ---- statistics and table ----------------------------------------------------------------- */

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static double median(const double *v, unsigned int n)
{
	double s[RUNS_MAX];

	memcpy(s, v, n * sizeof(*v));
	qsort(s, n, sizeof(*s), cmp_double);
	return n % 2 ? s[n / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
}

static void usage(FILE *f)
{
	fprintf(f,
		"usage: bench-blk [options]\n"
		"  --quick            3 runs of 1 s per daemon and configuration (~1 min)\n"
		"  --runs N           runs per daemon and configuration (default 5, 1..%u)\n"
		"  --time S           seconds per run (default 2)\n"
		"  --only NAME        one configuration (substring match), e.g. randread-4k-qd32\n"
		"  --direct           O_DIRECT for both (qsd cache.direct=on, ours --direct)\n"
		"  --backend B        our I/O back-end: auto, uring or sync (default: daemon's)\n"
		"  --size MIB         image size in MiB (default 64)\n"
		"  --vb-vhost-user P  our daemon (default %s)\n"
		"  --qsd P            qemu-storage-daemon to compare with (default from PATH)\n"
		"  --no-qsd           measure ours only\n"
		"  --poll-us N        also measure ours with --poll-us N (default 50; 0: not)\n"
		"  --verbose          print every run\n",
		RUNS_MAX, BENCH_VB_VHOST_USER);
}

static int parse_args(int argc, char **argv)
{
	enum { OPT_QUICK = 256, OPT_RUNS, OPT_TIME, OPT_ONLY, OPT_DIRECT, OPT_BACKEND, OPT_SIZE,
	       OPT_VB, OPT_QSD, OPT_NOQSD, OPT_POLL, OPT_VERBOSE };
	static const struct option lo[] = {
		{ "quick", no_argument, NULL, OPT_QUICK },
		{ "runs", required_argument, NULL, OPT_RUNS },
		{ "time", required_argument, NULL, OPT_TIME },
		{ "only", required_argument, NULL, OPT_ONLY },
		{ "direct", no_argument, NULL, OPT_DIRECT },
		{ "backend", required_argument, NULL, OPT_BACKEND },
		{ "size", required_argument, NULL, OPT_SIZE },
		{ "vb-vhost-user", required_argument, NULL, OPT_VB },
		{ "qsd", required_argument, NULL, OPT_QSD },
		{ "no-qsd", no_argument, NULL, OPT_NOQSD },
		{ "poll-us", required_argument, NULL, OPT_POLL },
		{ "verbose", no_argument, NULL, OPT_VERBOSE },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	bool runs_set = false, time_set = false, quick = false;
	int c;

	while ((c = getopt_long(argc, argv, "h", lo, NULL)) != -1) {
		switch (c) {
		case OPT_QUICK:
			quick = true;
			break;
		case OPT_RUNS:
			opt.runs = (unsigned int)strtoul(optarg, NULL, 0);
			runs_set = true;
			if (opt.runs < 1 || opt.runs > RUNS_MAX) {
				fprintf(stderr, "bench-blk: --runs is 1 to %u\n", RUNS_MAX);
				return -1;
			}
			break;
		case OPT_TIME:
			opt.secs = strtod(optarg, NULL);
			time_set = true;
			if (!(opt.secs >= 0.05 && opt.secs <= 600)) {
				fprintf(stderr, "bench-blk: --time is 0.05 to 600 seconds\n");
				return -1;
			}
			break;
		case OPT_ONLY:
			opt.only = optarg;
			break;
		case OPT_DIRECT:
			opt.direct = true;
			break;
		case OPT_BACKEND:
			opt.backend = optarg;
			break;
		case OPT_SIZE:
			opt.size = (uint64_t)strtoull(optarg, NULL, 0) << 20;
			if (opt.size < (1u << 20) || opt.size > (UINT64_C(1) << 40)) {
				fprintf(stderr, "bench-blk: --size is 1 MiB to 1 TiB\n");
				return -1;
			}
			break;
		case OPT_VB:
			opt.vb_path = optarg;
			break;
		case OPT_QSD:
			opt.qsd_path = optarg;
			break;
		case OPT_NOQSD:
			opt.no_qsd = true;
			break;
		case OPT_VERBOSE:
			opt.verbose = true;
			break;
		case OPT_POLL:
			opt.poll_us = (unsigned int)strtoul(optarg, NULL, 0);
			if (opt.poll_us > VB_VU_POLL_MAX_US) {
				fprintf(stderr, "bench-blk: --poll-us is 0 to %u\n",
					VB_VU_POLL_MAX_US);
				return -1;
			}
			break;
		case 'h':
			usage(stdout);
			exit(0);
		default:
			usage(stderr);
			return -1;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "bench-blk: unexpected argument '%s'\n", argv[optind]);
		return -1;
	}
	if (quick) {
		if (!runs_set)
			opt.runs = 3;
		if (!time_set)
			opt.secs = 1.0;
		opt.warmup = 0.2;
	}
	return 0;
}

/* A 64 MiB image full of non-zero data (no holes), in the page cache once written. */
static int make_image(void)
{
	static uint8_t buf[1u << 20];
	int fd;

	snprintf(opt.dir, sizeof(opt.dir), "/tmp/bench-blk-XXXXXX");
	if (!mkdtemp(opt.dir)) {
		opt.dir[0] = '\0';
		return -errno;
	}
	snprintf(opt.image, sizeof(opt.image), "%s/disk.img", opt.dir);
	fd = open(opt.image, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		return -errno;
	for (uint64_t off = 0; off < opt.size; off += sizeof(buf)) {
		size_t n = opt.size - off < sizeof(buf) ? (size_t)(opt.size - off) : sizeof(buf);

		for (size_t i = 0; i < n; i += 8) {
			uint64_t v = rnd();

			memcpy(buf + i, &v, n - i < 8 ? n - i : 8);
		}
		if (write(fd, buf, n) != (ssize_t)n) {
			close(fd);
			return -EIO;
		}
	}
	fsync(fd);
	close(fd);
	return 0;
}

/* Median over the runs of a per-run ratio a/b (runs of a and b were adjacent). */
static double pair_ratio(const double *a, const double *b, unsigned int n)
{
	double r[RUNS_MAX];

	for (unsigned int i = 0; i < n; i++)
		r[i] = a[i] / b[i];
	return median(r, n);
}

static const char *const peer_col[NP] = { "ours", "qsd", "ours+poll" };

/* One row of the summary: the figure of each peer and its ratios to qsd. */
static void summary_row(const char *what, const double v[NP][RUNS_MAX], const bool *on,
			const char *target)
{
	char cell[NP][16], rat[2][16];

	for (unsigned int i = 0; i < NP; i++)
		snprintf(cell[i], sizeof(cell[i]), on[i] ? "%.1f" : "-",
			 on[i] ? median(v[i], opt.runs) : 0.0);
	for (unsigned int j = 0; j < 2; j++) {
		unsigned int i = j ? P_POLL : P_OURS;

		snprintf(rat[j], sizeof(rat[j]), on[i] && on[P_QSD] ? "%.2f" : "-",
			 on[i] && on[P_QSD] ? pair_ratio(v[i], v[P_QSD], opt.runs) : 0.0);
	}
	printf("%-27s | %10s %10s %10s | %8s %9s | %s\n", what, cell[P_OURS], cell[P_POLL],
	       cell[P_QSD], rat[0], rat[1], target);
}

int main(int argc, char **argv)
{
	static double iops[N_CONFIGS][NP][RUNS_MAX], mbps[N_CONFIGS][NP][RUNS_MAX],
		      lat[N_CONFIGS][NP][RUNS_MAX], cpu[N_CONFIGS][NP][RUNS_MAX];
	bool selected[N_CONFIGS], on[NP] = { true, false, false };
	unsigned int order[NP], np = 0, n_sel = 0;
	char ours_label[64], poll_label[64];
	double t_start = now();
	int ret = 0;

	setvbuf(stdout, NULL, _IOLBF, 0);
	if (parse_args(argc, argv) < 0)
		return 2;
	for (unsigned int k = 0; k < N_CONFIGS; k++) {
		selected[k] = !opt.only || strstr(configs[k].name, opt.only);
		n_sel += selected[k];
	}
	if (!n_sel) {
		fprintf(stderr, "bench-blk: no configuration matches '%s'\n", opt.only);
		return 2;
	}
	if (!in_path(opt.vb_path)) {
		fprintf(stderr, "bench-blk: %s not found (build examples, or --vb-vhost-user)\n",
			opt.vb_path);
		return 1;
	}
	if (!opt.no_qsd && !in_path(opt.qsd_path)) {
		printf("bench-blk: %s not found (Debian package qemu-system-common): measuring "
		       "ours only\n", opt.qsd_path);
		opt.no_qsd = true;
	}
	on[P_QSD] = !opt.no_qsd;
	on[P_POLL] = opt.poll_us > 0;
	/* Run order of an even run; odd runs go backwards, so that a linear drift of the
	 * machine's speed cancels between the adjacent runs of two peers. */
	order[np++] = P_OURS;
	if (on[P_QSD])
		order[np++] = P_QSD;
	if (on[P_POLL])
		order[np++] = P_POLL;

	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	signal(SIGPIPE, SIG_IGN);
	for (unsigned int i = 0; i < NP; i++)
		peers[i].pid = -1;
	ret = make_image();
	if (ret < 0) {
		fprintf(stderr, "bench-blk: image: %s\n", strerror(-ret));
		cleanup();
		return 1;
	}
	peers[P_OURS].name = "vb-vhost-user";
	peers[P_QSD].name = "qemu-storage-daemon";
	peers[P_POLL].name = "vb-vhost-user --poll-us";
	peers[P_POLL].poll = true;
	for (unsigned int j = 0; j < np; j++) {
		static const char *const tag[NP] = { "vb", "qsd", "vbpoll" };
		unsigned int i = order[j];

		snprintf(peers[i].sock, sizeof(peers[i].sock), "%s/%s.sock", opt.dir, tag[i]);
		snprintf(peers[i].log, sizeof(peers[i].log), "%s/%s.log", opt.dir, tag[i]);
		ret = i == P_QSD ? start_qsd(&peers[i]) : start_ours(&peers[i]);
		if (ret == 0)
			ret = connect_peer(&peers[i]);
		if (ret == 0)
			ret = check_peer(&peers[i]);
		if (ret < 0) {
			fprintf(stderr, "bench-blk: cannot start %s\n", peers[i].name);
			cleanup();
			return 1;
		}
	}
	snprintf(ours_label, sizeof(ours_label), "ours (%s)",
		 log_has(&peers[P_OURS], "io_uring") ? "io_uring" : "sync");
	snprintf(poll_label, sizeof(poll_label), "ours (%s), --poll-us %u",
		 log_has(&peers[P_OURS], "io_uring") ? "io_uring" : "sync", opt.poll_us);
	peers[P_OURS].label = ours_label;
	peers[P_QSD].label = "qsd";
	peers[P_POLL].label = poll_label;

	printf("bench-blk: %s build; image %" PRIu64 " MiB in %s, %s; %u run(s) x %.1f s per "
	       "daemon and configuration, interleaved\n", BENCH_BUILDTYPE, opt.size >> 20,
	       opt.dir, opt.direct ? "O_DIRECT (qsd cache.direct=on, ours --direct)" :
	       "page cache (qsd cache.direct=off)", opt.runs, opt.secs);
	for (unsigned int j = 0; j < np; j++) {
		const struct peer *p = &peers[order[j]];

		printf("bench-blk: %-24s features 0x%" PRIx64 " (EVENT_IDX %s), ring %u, %s\n",
		       p->name, p->c.features, p->event_idx ? "on" : "off", QNUM, p->label);
	}

	for (unsigned int k = 0; k < N_CONFIGS && ret == 0; k++) {
		const struct config *cf = &configs[k];
		struct result r;

		if (!selected[k])
			continue;
		/* Warm-up (not counted): the first requests of a pattern fault pages in. */
		for (unsigned int j = 0; j < np && ret == 0; j++)
			ret = run_one(&peers[order[j]], cf, opt.warmup, &r);
		/* ours, qsd, poll, poll, qsd, ours, ... */
		for (unsigned int run = 0; run < opt.runs && ret == 0; run++) {
			for (unsigned int j = 0; j < np && ret == 0; j++) {
				unsigned int i = order[(run & 1u) ? np - 1 - j : j];

				/* Same offsets for every daemon in a run. */
				rng_state = 0x9e3779b97f4a7c15u + run * 7919u + k;
				peers[i].seq_off = 0;
				ret = run_one(&peers[i], cf, opt.secs, &r);
				iops[k][i][run] = r.iops;
				mbps[k][i][run] = r.mbps;
				lat[k][i][run] = r.lat_us;
				cpu[k][i][run] = r.cpu_us;
				if (opt.verbose)
					printf("    run %2u %-10s %9.0f IOPS %8.1f us %6.1f cpu us/req\n",
					       run, peer_col[i], r.iops, r.lat_us, r.cpu_us);
			}
		}
		if (ret == 0) {
			printf("  %-18s", cf->name);
			for (unsigned int j = 0; j < np; j++) {
				unsigned int i = order[j];

				printf("  %s %8.0f IOPS %7.1f us", peer_col[i],
				       median(iops[k][i], opt.runs), median(lat[k][i], opt.runs));
			}
			printf("\n");
		}
	}
	if (ret < 0) {
		for (unsigned int j = 0; j < np; j++) {
			fprintf(stderr, "bench-blk: log of %s:\n", peers[order[j]].name);
			dump_log(&peers[order[j]]);
		}
		cleanup();
		return 1;
	}

	printf("\nMedians of %u runs. ratio = ours/qsd of the medians; pair = median of the "
	       "per-run IOPS ratios\n(adjacent runs); lat = average completion latency (us); a "
	       "lat ratio < 1 means ours answers faster.\n+poll = ours with --poll-us %u. cpu = "
	       "CPU time of the daemon (all its threads) per request, us\n(10 ms clock ticks: "
	       "coarse for short runs).\n\n", opt.runs, opt.poll_us);
	printf("%-18s | %10s %10s %10s | %6s %6s | %6s %6s | %9s %9s %9s | %8s %8s %8s | %5s "
	       "%5s | %5s %5s %5s\n", "config", "ours IOPS", "+poll IOPS", "qsd IOPS", "ratio",
	       "pair", "+poll", "pair", "ours MB/s", "+pol MB/s", "qsd MB/s", "ours lat",
	       "+pol lat", "qsd lat", "ratio", "+poll", "cpu", "+poll", "qsd");
	for (unsigned int k = 0; k < N_CONFIGS; k++) {
		double m[4][NP] = { { 0 } };

		if (!selected[k])
			continue;
		for (unsigned int i = 0; i < NP; i++) {
			if (!on[i])
				continue;
			m[0][i] = median(iops[k][i], opt.runs);
			m[1][i] = median(mbps[k][i], opt.runs);
			m[2][i] = median(lat[k][i], opt.runs);
			m[3][i] = median(cpu[k][i], opt.runs);
		}
		printf("%-18s | %10.0f %10.0f %10.0f | %6.2f %6.2f | %6.2f %6.2f | %9.1f %9.1f "
		       "%9.1f | %8.1f %8.1f %8.1f | %5.2f %5.2f | %5.1f %5.1f %5.1f\n", configs[k].name,
		       m[0][P_OURS], m[0][P_POLL], m[0][P_QSD],
		       on[P_QSD] ? m[0][P_OURS] / m[0][P_QSD] : 0.0,
		       on[P_QSD] ? pair_ratio(iops[k][P_OURS], iops[k][P_QSD], opt.runs) : 0.0,
		       on[P_QSD] && on[P_POLL] ? m[0][P_POLL] / m[0][P_QSD] : 0.0,
		       on[P_QSD] && on[P_POLL] ?
		       pair_ratio(iops[k][P_POLL], iops[k][P_QSD], opt.runs) : 0.0,
		       m[1][P_OURS], m[1][P_POLL], m[1][P_QSD], m[2][P_OURS], m[2][P_POLL],
		       m[2][P_QSD], on[P_QSD] ? m[2][P_OURS] / m[2][P_QSD] : 0.0,
		       on[P_QSD] && on[P_POLL] ? m[2][P_POLL] / m[2][P_QSD] : 0.0,
		       m[3][P_OURS], m[3][P_POLL], m[3][P_QSD]);
	}

	/* The figures of the issue, when every configuration ran. */
	if (n_sel == N_CONFIGS) {
		printf("\nIssue 3 figures (medians of %u interleaved runs; ours/qsd and +poll/qsd "
		       "are medians of\nthe per-run ratios; - where a daemon was not run)\n\n",
		       opt.runs);
		printf("%-27s | %10s %10s %10s | %8s %9s | %s\n", "figure", "ours", "ours+poll",
		       "qsd", "ours/qsd", "+poll/qsd", "target (ours/qsd)");
		summary_row("4k randread QD1 IOPS", iops[0], on, "");
		summary_row("4k randread QD32 IOPS", iops[1], on, ">= 1.2");
		summary_row("4k randwrite QD1 IOPS", iops[2], on, "");
		summary_row("4k randwrite QD32 IOPS", iops[3], on, ">= 1.2");
		summary_row("QD1 mean latency read, us", lat[0], on, "<= 0.9");
		summary_row("QD1 mean latency write, us", lat[2], on, "<= 0.9");
		summary_row("128k seq read QD8 MB/s", mbps[4], on, "");
		summary_row("128k seq write QD8 MB/s", mbps[5], on, "");
	}
	printf("\nbench-blk: %.0f s in all\n", now() - t_start);
	cleanup();
	return 0;
}
