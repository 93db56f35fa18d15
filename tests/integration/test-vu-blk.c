/* SPDX-License-Identifier: MIT */
/*
 * The vb-vhost-user daemon as a front-end sees it: the real binary (examples/vhost-user/,
 * path in $VB_VHOST_USER) runs as a child process on a temporary socket with a 16 MiB
 * temporary image pre-filled with a pattern; the driver-side client of
 * tests/support/vbt-vu-client.c negotiates virtio-blk, lays out split rings in shared memfd
 * memory and sends requests; the test then reads the image file on the host.
 *
 * Every disk test runs twice: group "vu-blk-sync" (--backend sync) and "vu-blk-uring"
 * (--backend uring; skipped with the reason printed where io_uring is not allowed).
 * Set VBT_VU_VERBOSE=1 to see the daemon's log.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include "virtio-backend.h"
#include "virtio-backend/devices/blk.h"
#include "virtio-backend/transports/vhost-user.h"
#include "vbt-daemon.h"
#include "vbt-packed.h"
#include "vbt-vu-client.h"

#define GUEST_GPA	0x40000000u
#define GUEST_SIZE	(4u << 20)
#define QSZ		16u
#define DISK_BYTES	(16u << 20)
#define DISK_SECTORS	(DISK_BYTES / 512u)
#define DATA_MAX	(128u << 10)

#define BLK_FEATURES	(VB_BIT(VB_VIRTIO_F_VERSION_1) | VB_BIT(VB_VIRTIO_BLK_F_FLUSH) | \
			 VB_BIT(VB_VIRTIO_BLK_F_DISCARD) | VB_BIT(VB_VIRTIO_BLK_F_WRITE_ZEROES) | \
			 VB_BIT(VB_VIRTIO_BLK_F_BLK_SIZE) | VB_BIT(VB_VIRTIO_BLK_F_SEG_MAX) | \
			 VB_BIT(VB_VIRTIO_BLK_F_MQ) | VB_BIT(VB_VIRTIO_BLK_F_RO) | \
			 VB_BIT(VB_VIRTIO_BLK_F_CONFIG_WCE))

static const char *daemon_path;
static bool uring_ok = true;
static char uring_why[160];

/* Per-queue request buffers in guest memory, reused request after request. */
struct qbufs {
	uint64_t	hdr, data, status;
};

struct fix {
	const char		*backend;	/* "sync" or "uring" */
	struct vbt_daemon	d;
	char			image[128];
	struct vbt_vu_client	c;
	bool			client;
	struct qbufs		qb[2];
	uint64_t		offered;
};

/* The image's initial contents: every byte depends on its sector and its offset in it. */
static uint8_t pattern(uint64_t off)
{
	return (uint8_t)((off >> 9) * 37u + (off & 511u) + 1u);
}

static void fill(uint8_t *buf, size_t len, uint8_t seed)
{
	for (size_t i = 0; i < len; i++)
		buf[i] = (uint8_t)(seed + i * 13u + (i >> 9));
}

static int count_log_lines(const struct fix *f)
{
	FILE *l = fopen(f->d.log, "r");
	int n = 0, ch;

	if (!l)
		return -1;
	while ((ch = fgetc(l)) != EOF)
		n += ch == '\n';
	fclose(l);
	return n;
}

static int make_fix(void **state, const char *backend)
{
	struct fix *f = calloc(1, sizeof(*f));
	uint8_t *buf = malloc(DISK_BYTES);
	int fd;

	assert_non_null(f);
	assert_non_null(buf);
	f->backend = backend;
	assert_int_equal(vbt_daemon_init(&f->d, daemon_path, "vublk"), 0);
	vbt_daemon_file(&f->d, "disk.img", f->image, sizeof(f->image));
	for (uint64_t i = 0; i < DISK_BYTES; i++)
		buf[i] = pattern(i);
	fd = open(f->image, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, buf, DISK_BYTES), (ssize_t)DISK_BYTES);
	close(fd);
	free(buf);
	*state = f;
	return 0;
}

static int setup_sync(void **state)
{
	return make_fix(state, "sync");
}

static int setup_uring(void **state)
{
	if (!uring_ok)
		skip();
	return make_fix(state, "uring");
}

static int setup_plain(void **state)
{
	return make_fix(state, "auto");
}

/* SIGTERM: the daemon exits 0 and removes its socket. */
static void stop_daemon(struct fix *f)
{
	int st;

	if (f->d.pid < 0)
		return;
	st = vbt_daemon_end(&f->d);
	if (st != 0)
		fail_msg("daemon did not exit 0 on SIGTERM (status 0x%x)", st);
	assert_int_equal(access(f->d.sock, F_OK), -1);
}

static int teardown(void **state)
{
	struct fix *f = *state;

	if (f->client)
		vbt_vu_client_fini(&f->c);
	f->client = false;
	stop_daemon(f);
	vbt_daemon_fini(&f->d);
	free(f);
	return 0;
}

/* Start `vb-vhost-user blk --socket-path S --image F --backend B` plus extra args. */
static void start(struct fix *f, const char *const *extra)
{
	const char *args[20] = { "blk", "--socket-path", f->d.sock, "--image", f->image,
				 "--backend", f->backend };
	unsigned int n = 7;

	while (extra && *extra && n < 19)
		args[n++] = *extra++;
	assert_true(vbt_daemon_spawn(&f->d, args, -1) > 0);
}

static void setup_blk(struct fix *f, uint16_t nq);

/* Connect, negotiate virtio-blk, map memory, set up nq queues. */
static void connect_blk(struct fix *f, uint16_t nq)
{
	assert_int_equal(vbt_vu_client_init(&f->c, GUEST_GPA, GUEST_SIZE), 0);
	f->client = true;
	assert_int_equal(vbt_daemon_connect(&f->d, &f->c), 0);
	setup_blk(f, nq);
}

/* Negotiate virtio-blk on the connected client, map memory, set up nq queues. */
static void setup_blk(struct fix *f, uint16_t nq)
{
	assert_int_equal(vbt_vu_get_u64(&f->c, VB_VU_GET_FEATURES, &f->offered), 0);
	assert_int_equal(vbt_vu_negotiate(&f->c, BLK_FEATURES, VB_VU_PROTOCOL_FEATURES_SUPPORTED,
					  true), 0);
	assert_int_equal(vbt_vu_set_mem_table(&f->c), 0);
	for (uint16_t q = 0; q < nq; q++) {
		assert_int_equal(vbt_vu_setup_vq(&f->c, q, QSZ, 0), 0);
		f->qb[q].hdr = vbt_guest_alloc(&f->c.g, 16, 16);
		f->qb[q].data = vbt_guest_alloc(&f->c.g, DATA_MAX, 4096);
		f->qb[q].status = vbt_guest_alloc(&f->c.g, 1, 1);
	}
}

/* GET_CONFIG of the whole virtio-blk config space. */
static void get_config(struct fix *f, struct vb_virtio_blk_config *cfg)
{
	struct vb_vu_config_space cs;

	memset(&cs, 0, sizeof(cs));
	cs.size = VB_VIRTIO_BLK_CONFIG_LEN;
	assert_int_equal(vbt_vu_send(&f->c, VB_VU_GET_CONFIG, VB_VU_VERSION, &cs,
				     VB_VU_CONFIG_HDR_SIZE + VB_VIRTIO_BLK_CONFIG_LEN, NULL, 0), 0);
	assert_int_equal(vbt_vu_recv(&f->c, VB_VU_GET_CONFIG, &cs, sizeof(cs)),
			 VB_VU_CONFIG_HDR_SIZE + VB_VIRTIO_BLK_CONFIG_LEN);
	memcpy(cfg, cs.data, sizeof(*cfg));
}

/*
 * One request on queue q: header, data (len bytes: device-writable when dev_writes), status.
 * Out-going data comes from buf, in-coming data lands in buf. Returns the status byte.
 */
static uint8_t blk_req(struct fix *f, uint16_t q, uint32_t type, uint64_t sector, void *buf,
		       uint32_t len, bool dev_writes)
{
	struct qbufs *b = &f->qb[q];
	struct vbt_split *r = &f->c.vq[q].r;
	struct vb_virtio_blk_req_hdr hdr = {
		.type = vb_cpu_to_le32(type),
		.sector = vb_cpu_to_le64(sector),
	};
	struct vbt_buf bufs[3];
	unsigned int n = 0;
	uint8_t *status = vbt_guest_ptr(&f->c.g, b->status);
	uint32_t id, used_len;
	uint16_t head;

	assert_true(len <= DATA_MAX);
	memcpy(vbt_guest_ptr(&f->c.g, b->hdr), &hdr, sizeof(hdr));
	bufs[n++] = (struct vbt_buf){ b->hdr, sizeof(hdr), false };
	if (len) {
		if (dev_writes)
			memset(vbt_guest_ptr(&f->c.g, b->data), 0xee, len);
		else
			memcpy(vbt_guest_ptr(&f->c.g, b->data), buf, len);
		bufs[n++] = (struct vbt_buf){ b->data, len, dev_writes };
	}
	bufs[n++] = (struct vbt_buf){ b->status, 1, true };
	*status = 0xff;
	head = vbt_split_add(r, bufs, n, false);
	assert_int_equal(vbt_vu_kick(&f->c, q), 0);
	for (int w = 0; w < 100 && vbt_split_used_idx(r) == r->last_used; w++)
		(void)vbt_vu_wait_call(&f->c, q, 100);
	if (vbt_split_get_used(r, &id, &used_len) != 1) {
		vbt_daemon_dump_log(f->d.log);
		fail_msg("no answer to request type %u on queue %u", type, q);
	}
	assert_int_equal(id, head);
	if (len && dev_writes)
		memcpy(buf, vbt_guest_ptr(&f->c.g, b->data), len);
	return *status;
}

static void host_read(const struct fix *f, uint64_t off, void *buf, size_t len)
{
	int fd = open(f->image, O_RDONLY | O_CLOEXEC);

	assert_true(fd >= 0);
	assert_int_equal(pread(fd, buf, len, (off_t)off), (ssize_t)len);
	close(fd);
}

static void expect_pattern(const uint8_t *buf, uint64_t off, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (buf[i] != pattern(off + i))
			fail_msg("byte %zu of the image differs", (size_t)(off + i));
}

static bool all_zero(const uint8_t *buf, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (buf[i])
			return false;
	return true;
}

/* @verify{VB-REQ-VU-101} @verify{VB-REQ-VU-103} @verify{VB-REQ-VU-109}
 * @verify{VB-REQ-VU-110} the config space describes the image (capacity from the file size),
 * the features of a writable disk are offered, GET_ID answers the image's file name; the
 * log names the backend asked for, the socket, the connection and the negotiation */
static void test_vu_blk__config_and_id(void **state)
{
	struct fix *f = *state;
	struct vb_virtio_blk_config cfg;
	char id[VB_VIRTIO_BLK_ID_BYTES + 1] = { 0 };
	uint64_t nq;

	start(f, NULL);
	connect_blk(f, 1);
	assert_true(f->offered & VB_BIT(VB_VIRTIO_BLK_F_FLUSH));
	assert_true(f->offered & VB_BIT(VB_VIRTIO_BLK_F_DISCARD));
	assert_true(f->offered & VB_BIT(VB_VIRTIO_BLK_F_WRITE_ZEROES));
	assert_true(f->offered & VB_BIT(VB_VIRTIO_BLK_F_BLK_SIZE));
	assert_false(f->offered & VB_BIT(VB_VIRTIO_BLK_F_RO));
	assert_false(f->offered & VB_BIT(VB_VIRTIO_BLK_F_MQ));
	get_config(f, &cfg);
	assert_true(vb_le64_to_cpu(cfg.capacity) == DISK_SECTORS);
	assert_int_equal(vb_le32_to_cpu(cfg.blk_size), 512);
	assert_int_equal(vb_le16_to_cpu(cfg.num_queues), 1);
	assert_int_equal(vbt_vu_get_u64(&f->c, VB_VU_GET_QUEUE_NUM, &nq), 0);
	assert_true(nq == 1);
	assert_int_equal(blk_req(f, 0, VB_VIRTIO_BLK_T_GET_ID, 0, id, VB_VIRTIO_BLK_ID_BYTES,
				 true), VB_VIRTIO_BLK_S_OK);
	assert_string_equal(id, "disk.img");
	/* The backend asked for is the one serving. */
	assert_true(vbt_daemon_log_has(f->d.log, strcmp(f->backend, "uring") ? ", sync, " :
				       ", io_uring, "));
	assert_true(vbt_daemon_log_has(f->d.log, "listening on"));
	assert_true(vbt_daemon_log_has(f->d.log, "front-end connected"));
	assert_true(vbt_daemon_log_has(f->d.log, "driver ready"));
}

/* @verify{VB-REQ-VU-103} @verify{VB-REQ-VU-110} sectors written through the ring are in the
 * image file on the host, exactly; reads return them and the untouched pattern around them;
 * FLUSH succeeds; many requests add no log line */
static void test_vu_blk__write_read_back(void **state)
{
	struct fix *f = *state;
	uint8_t *w = malloc(DATA_MAX), *r = malloc(DATA_MAX), *h = malloc(DATA_MAX);
	const uint64_t sector = 1000;
	int lines;

	assert_non_null(w);
	assert_non_null(r);
	assert_non_null(h);
	start(f, NULL);
	connect_blk(f, 1);
	/* Untouched: the pattern. */
	assert_int_equal(blk_req(f, 0, VB_VIRTIO_BLK_T_IN, sector, r, 4096, true),
			 VB_VIRTIO_BLK_S_OK);
	expect_pattern(r, sector * 512, 4096);
	lines = count_log_lines(f);
	/* 64 KiB at sector 1000, then single sectors across the disk, last one included. */
	fill(w, 65536, 7);
	assert_int_equal(blk_req(f, 0, VB_VIRTIO_BLK_T_OUT, sector, w, 65536, false),
			 VB_VIRTIO_BLK_S_OK);
	for (unsigned int i = 0; i < 32; i++) {
		uint64_t s = i == 31 ? DISK_SECTORS - 1 : 4000u + i * 517u;

		fill(w + 65536, 512, (uint8_t)(100 + i));
		assert_int_equal(blk_req(f, 0, VB_VIRTIO_BLK_T_OUT, s, w + 65536, 512, false),
				 VB_VIRTIO_BLK_S_OK);
		assert_int_equal(blk_req(f, 0, VB_VIRTIO_BLK_T_IN, s, r, 512, true),
				 VB_VIRTIO_BLK_S_OK);
		assert_memory_equal(r, w + 65536, 512);
		host_read(f, s * 512, h, 512);
		assert_memory_equal(h, w + 65536, 512);
	}
	assert_int_equal(blk_req(f, 0, VB_VIRTIO_BLK_T_IN, sector, r, 65536, true),
			 VB_VIRTIO_BLK_S_OK);
	assert_memory_equal(r, w, 65536);
	assert_int_equal(blk_req(f, 0, VB_VIRTIO_BLK_T_FLUSH, 0, NULL, 0, false),
			 VB_VIRTIO_BLK_S_OK);
	/* The host file: the write exactly, the pattern on both sides. */
	host_read(f, sector * 512 - 4096, h, 65536 + 8192);
	expect_pattern(h, sector * 512 - 4096, 4096);
	assert_memory_equal(h + 4096, w, 65536);
	expect_pattern(h + 4096 + 65536, sector * 512 + 65536, 4096);
	/* Beyond the end: IOERR, nothing written. */
	assert_int_equal(blk_req(f, 0, VB_VIRTIO_BLK_T_OUT, DISK_SECTORS, w, 512, false),
			 VB_VIRTIO_BLK_S_IOERR);
	assert_int_equal(count_log_lines(f), lines);
	free(w);
	free(r);
	free(h);
}

/* @verify{VB-REQ-VU-103} DISCARD and WRITE_ZEROES reach the file: the ranges read back as
 * zeroes through the ring and on the host, their neighbours keep the pattern */
static void test_vu_blk__discard_write_zeroes(void **state)
{
	struct fix *f = *state;
	struct vb_virtio_blk_discard_write_zeroes seg;
	uint8_t *r = malloc(DATA_MAX);

	assert_non_null(r);
	start(f, NULL);
	connect_blk(f, 1);
	assert_true(f->c.features & VB_BIT(VB_VIRTIO_BLK_F_WRITE_ZEROES));
	/* WRITE_ZEROES of 16 sectors at 2048, with and without unmap. */
	for (uint32_t unmap = 0; unmap < 2; unmap++) {
		uint64_t s = 2048 + unmap * 64;

		seg.sector = vb_cpu_to_le64(s);
		seg.num_sectors = vb_cpu_to_le32(16);
		seg.flags = vb_cpu_to_le32(unmap);
		assert_int_equal(blk_req(f, 0, VB_VIRTIO_BLK_T_WRITE_ZEROES, 0, &seg, sizeof(seg),
					 false), VB_VIRTIO_BLK_S_OK);
		assert_int_equal(blk_req(f, 0, VB_VIRTIO_BLK_T_IN, s, r, 8192, true),
				 VB_VIRTIO_BLK_S_OK);
		assert_true(all_zero(r, 8192));
		host_read(f, s * 512 - 512, r, 8192 + 1024);
		expect_pattern(r, s * 512 - 512, 512);
		assert_true(all_zero(r + 512, 8192));
		expect_pattern(r + 512 + 8192, s * 512 + 8192, 512);
	}
	/* DISCARD of 4 KiB-aligned 64 sectors: the file system punches a hole (zeroes). */
	seg.sector = vb_cpu_to_le64(8192);
	seg.num_sectors = vb_cpu_to_le32(64);
	seg.flags = vb_cpu_to_le32(0);
	assert_int_equal(blk_req(f, 0, VB_VIRTIO_BLK_T_DISCARD, 0, &seg, sizeof(seg), false),
			 VB_VIRTIO_BLK_S_OK);
	host_read(f, 8192 * 512, r, 64 * 512);
	assert_true(all_zero(r, 64 * 512));
	host_read(f, 8192 * 512 + 64 * 512, r, 512);
	expect_pattern(r, 8192 * 512 + 64 * 512, 512);
	free(r);
}

/* @verify{VB-REQ-VU-104} --read-only offers VIRTIO_BLK_F_RO and not DISCARD/WRITE_ZEROES,
 * answers OUT with IOERR and leaves the file as it was; reads work */
static void test_vu_blk__read_only(void **state)
{
	static const char *const ro[] = { "--read-only", NULL };
	struct fix *f = *state;
	uint8_t w[4096], r[4096];
	struct vb_virtio_blk_discard_write_zeroes seg = {
		.sector = vb_cpu_to_le64(16), .num_sectors = vb_cpu_to_le32(8),
	};

	chmod(f->image, 0444);	/* a read-only export opens the file read-only */
	start(f, ro);
	connect_blk(f, 1);
	assert_true(f->offered & VB_BIT(VB_VIRTIO_BLK_F_RO));
	assert_false(f->offered & VB_BIT(VB_VIRTIO_BLK_F_DISCARD));
	assert_false(f->offered & VB_BIT(VB_VIRTIO_BLK_F_WRITE_ZEROES));
	fill(w, sizeof(w), 3);
	assert_int_equal(blk_req(f, 0, VB_VIRTIO_BLK_T_OUT, 16, w, sizeof(w), false),
			 VB_VIRTIO_BLK_S_IOERR);
	/* Not negotiated: refused, never reaching the file. */
	assert_int_not_equal(blk_req(f, 0, VB_VIRTIO_BLK_T_WRITE_ZEROES, 0, &seg, sizeof(seg),
				     false), VB_VIRTIO_BLK_S_OK);
	assert_int_equal(blk_req(f, 0, VB_VIRTIO_BLK_T_IN, 16, r, sizeof(r), true),
			 VB_VIRTIO_BLK_S_OK);
	expect_pattern(r, 16 * 512, sizeof(r));
	host_read(f, 16 * 512, r, sizeof(r));
	expect_pattern(r, 16 * 512, sizeof(r));
	chmod(f->image, 0644);
}

/* @verify{VB-REQ-VU-105} --num-queues 2: MQ offered, num_queues 2 in config and
 * GET_QUEUE_NUM, each queue serves its own requests into the same file */
static void test_vu_blk__two_queues(void **state)
{
	static const char *const mq[] = { "--num-queues", "2", NULL };
	struct fix *f = *state;
	struct vb_virtio_blk_config cfg;
	uint8_t w[2][4096], r[4096];
	uint64_t nq;

	start(f, mq);
	connect_blk(f, 2);
	assert_true(f->c.features & VB_BIT(VB_VIRTIO_BLK_F_MQ));
	get_config(f, &cfg);
	assert_int_equal(vb_le16_to_cpu(cfg.num_queues), 2);
	assert_int_equal(vbt_vu_get_u64(&f->c, VB_VU_GET_QUEUE_NUM, &nq), 0);
	assert_true(nq == 2);
	for (uint16_t q = 0; q < 2; q++) {
		fill(w[q], sizeof(w[q]), (uint8_t)(50 + q));
		assert_int_equal(blk_req(f, q, VB_VIRTIO_BLK_T_OUT, 512u * (q + 1), w[q],
					 sizeof(w[q]), false), VB_VIRTIO_BLK_S_OK);
	}
	for (uint16_t q = 0; q < 2; q++) {
		/* Written on one queue, read on the other. */
		assert_int_equal(blk_req(f, (uint16_t)(1 - q), VB_VIRTIO_BLK_T_IN, 512u * (q + 1),
					 r, sizeof(r), true), VB_VIRTIO_BLK_S_OK);
		assert_memory_equal(r, w[q], sizeof(r));
		host_read(f, 512u * 512u * (q + 1), r, sizeof(r));
		assert_memory_equal(r, w[q], sizeof(r));
	}
	/* A third queue does not exist. */
	assert_int_equal(vbt_vu_vring_state(&f->c, VB_VU_SET_VRING_NUM, 2, QSZ), -EINVAL);
}

/* @verify{VB-REQ-VU-108} a front-end that leaves (QEMU quitting) is not the end: the daemon
 * resets the device, accepts the next connection, and the new front-end sees the data */
static void test_vu_blk__next_connection(void **state)
{
	struct fix *f = *state;
	uint8_t w[1024], r[1024];

	start(f, NULL);
	connect_blk(f, 1);
	fill(w, sizeof(w), 77);
	assert_int_equal(blk_req(f, 0, VB_VIRTIO_BLK_T_OUT, 300, w, sizeof(w), false),
			 VB_VIRTIO_BLK_S_OK);
	vbt_vu_client_fini(&f->c);
	f->client = false;
	for (int i = 0; i < 500 && !vbt_daemon_log_has(f->d.log, "connection closed"); i++)
		usleep(10000);
	assert_true(vbt_daemon_log_has(f->d.log, "connection closed"));
	connect_blk(f, 1);
	assert_int_equal(blk_req(f, 0, VB_VIRTIO_BLK_T_IN, 300, r, sizeof(r), true),
			 VB_VIRTIO_BLK_S_OK);
	assert_memory_equal(r, w, sizeof(r));
	assert_true(vbt_daemon_log_has(f->d.log, "device reset"));
}

/*
 * @verify{VB-REQ-VU-500} @verify{VB-REQ-VU-501} @verify{VB-REQ-VU-502} the front-end passes
 * the back-end channel; the image grows and the daemon gets SIGHUP: BACKEND_CONFIG_CHANGE_MSG
 * (asking for an ack) arrives on the channel, GET_CONFIG shows the new capacity and sectors
 * past the old end are served; an unchanged size sends nothing; SIGHUP never stops the daemon
 */
static void test_vu_blk__resize_sighup(void **state)
{
	struct fix *f = *state;
	struct vb_virtio_blk_config cfg;
	uint32_t req = 0, flags = 0;
	uint8_t r[512];

	start(f, NULL);
	connect_blk(f, 1);
	assert_int_equal(vbt_vu_set_backend_req(&f->c), 0);
	get_config(f, &cfg);
	assert_true(vb_le64_to_cpu(cfg.capacity) == DISK_SECTORS);
	assert_int_equal(truncate(f->image, 2 * (off_t)DISK_BYTES), 0);
	assert_int_equal(kill(f->d.pid, SIGHUP), 0);
	assert_int_equal(vbt_vu_backend_recv(&f->c, &req, &flags, 10000), 0);
	assert_int_equal(req, VB_VU_BACKEND_CONFIG_CHANGE_MSG);
	assert_true(flags & VB_VU_FLAG_NEED_REPLY);
	/* As QEMU does: re-read config space first, acknowledge after. */
	get_config(f, &cfg);
	assert_true(vb_le64_to_cpu(cfg.capacity) == 2 * (uint64_t)DISK_SECTORS);
	assert_int_equal(vbt_vu_backend_ack(&f->c, req, 0), 0);
	assert_int_equal(blk_req(f, 0, VB_VIRTIO_BLK_T_IN, DISK_SECTORS + 7, r, sizeof(r), true),
			 VB_VIRTIO_BLK_S_OK);
	assert_true(all_zero(r, sizeof(r)));
	/* Same size again: logged, nothing sent. */
	assert_int_equal(kill(f->d.pid, SIGHUP), 0);
	for (int i = 0; i < 500 && !vbt_daemon_log_has(f->d.log, "unchanged"); i++)
		usleep(10000);
	assert_true(vbt_daemon_log_has(f->d.log, "unchanged"));
	assert_int_equal(vbt_vu_backend_recv(&f->c, &req, &flags, 200), -ETIMEDOUT);
	assert_int_equal(blk_req(f, 0, VB_VIRTIO_BLK_T_IN, 0, r, sizeof(r), true),
			 VB_VIRTIO_BLK_S_OK);
	expect_pattern(r, 0, sizeof(r));
	assert_false(vbt_daemon_log_has(f->d.log, "shutting down"));
}

/* @verify{VB-REQ-VU-107} SIGTERM, and SIGINT, with a front-end connected: exit status 0, the
 * socket file removed, the reason in the log */
static void test_vu_blk__signal_clean_exit(void **state)
{
	struct fix *f = *state;
	uint8_t r[512];
	int st;

	start(f, NULL);
	connect_blk(f, 1);
	assert_int_equal(blk_req(f, 0, VB_VIRTIO_BLK_T_IN, 0, r, sizeof(r), true),
			 VB_VIRTIO_BLK_S_OK);
	stop_daemon(f);		/* SIGTERM: exit 0, socket gone */
	assert_true(vbt_daemon_log_has(f->d.log, "shutting down"));
	vbt_vu_client_fini(&f->c);
	f->client = false;
	/* SIGINT, idle. */
	start(f, NULL);
	for (int i = 0; i < 1000 && access(f->d.sock, F_OK) != 0; i++)
		usleep(10000);
	assert_int_equal(access(f->d.sock, F_OK), 0);
	assert_int_equal(kill(f->d.pid, SIGINT), 0);
	st = vbt_daemon_reap(f->d.pid, 20000);
	f->d.pid = -1;
	assert_true(st >= 0 && WIFEXITED(st) && WEXITSTATUS(st) == 0);
	assert_int_equal(access(f->d.sock, F_OK), -1);
}

/* @verify{VB-REQ-VU-102} @verify{VB-REQ-VU-101} --print-capabilities prints exactly the
 * vhost-user.json block capabilities and exits 0, ignoring other options; --help exits 0;
 * usage errors exit 2 */
static void test_vu_blk__command_line(void **state)
{
	static const char caps[] =
		"{\"type\": \"block\", \"features\": [\"read-only\", \"blk-file\"]}\n";
	static const char *const a1[] = { "--print-capabilities", NULL };
	static const char *const a2[] = { "blk", "--print-capabilities", "--bogus", NULL };
	static const char *const help[] = { "blk", "--help", NULL };
	static const char *const bad[][6] = {
		{ NULL },
		{ "nosuchdevice", "--socket-path", "/tmp/x", NULL },
		{ "blk", "--image", "/dev/null", NULL },
		{ "blk", "--socket-path", "/tmp/x", "--fd", "3", NULL },
		{ "blk", "--num-queues", "0", NULL },
		{ "blk", "--backend", "fast", NULL },
	};
	char out[4096];

	(void)state;
	assert_int_equal(vbt_daemon_run(daemon_path, a1, out, sizeof(out)), 0);
	assert_string_equal(out, caps);
	assert_int_equal(vbt_daemon_run(daemon_path, a2, out, sizeof(out)), 0);
	assert_string_equal(out, caps);
	assert_int_equal(vbt_daemon_run(daemon_path, help, out, sizeof(out)), 0);
	assert_non_null(strstr(out, "--socket-path"));
	assert_non_null(strstr(out, "--num-queues"));
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(vbt_daemon_run(daemon_path, bad[i], NULL, 0), 2);
}

static int listen_socket(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	assert_true(fd >= 0);
	assert_true(strlen(path) < sizeof(sa.sun_path));
	memcpy(sa.sun_path, path, strlen(path));
	assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(listen(fd, 4), 0);
	return fd;
}

/* The daemon in --connect mode dials lfd: accept it (within 10 s) and set the device up. */
static void accept_blk(struct fix *f, int lfd, uint16_t nq)
{
	struct pollfd p = { .fd = lfd, .events = POLLIN };

	if (poll(&p, 1, 10000) != 1) {
		vbt_daemon_dump_log(f->d.log);
		fail_msg("the daemon did not connect to %s", f->d.sock);
	}
	if (!f->client) {
		assert_int_equal(vbt_vu_client_init(&f->c, GUEST_GPA, GUEST_SIZE), 0);
		f->client = true;
		f->c.timeout_ms = 10000;
	}
	f->c.sock = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
	assert_true(f->c.sock >= 0);
	setup_blk(f, nq);
}

/*
 * @verify{VB-REQ-VU-510} @verify{VB-REQ-VU-511} --connect: the daemon started before the
 * front-end listens keeps trying, connects, serves; when the front-end drops the connection
 * it connects again and serves the next session; the front-end's socket file is left alone
 */
static void test_vu_blk__connect_mode(void **state)
{
	static const char *const extra[] = { "--connect", NULL };
	struct fix *f = *state;
	uint8_t w[512], r[512];
	int lfd;

	start(f, extra);
	usleep(200000);		/* the daemon is retrying: nobody listens yet */
	lfd = listen_socket(f->d.sock);
	accept_blk(f, lfd, 1);
	fill(w, sizeof(w), 31);
	assert_int_equal(blk_req(f, 0, VB_VIRTIO_BLK_T_OUT, 40, w, sizeof(w), false),
			 VB_VIRTIO_BLK_S_OK);
	vbt_vu_client_fini(&f->c);	/* the front-end goes away */
	f->client = false;
	accept_blk(f, lfd, 1);
	assert_int_equal(blk_req(f, 0, VB_VIRTIO_BLK_T_IN, 40, r, sizeof(r), true),
			 VB_VIRTIO_BLK_S_OK);
	assert_memory_equal(r, w, sizeof(r));
	assert_true(vbt_daemon_log_has(f->d.log, "connection closed"));
	close(lfd);
	assert_int_equal(access(f->d.sock, F_OK), 0);
	unlink(f->d.sock);	/* stop_daemon() checks that no socket file is left */
}

/* @verify{VB-REQ-VU-106} --fd N with an inherited listening socket: served like
 * --socket-path (the socket file belongs to whoever made it) */
static void test_vu_blk__inherited_listening_fd(void **state)
{
	struct fix *f = *state;
	int lfd = listen_socket(f->d.sock);
	char num[16];
	const char *args[] = { "blk", "--fd", num, "--image", f->image, NULL };
	uint8_t r[512];
	int st;

	snprintf(num, sizeof(num), "%d", lfd);
	vbt_daemon_spawn(&f->d, args, lfd);
	close(lfd);
	connect_blk(f, 1);
	assert_int_equal(blk_req(f, 0, VB_VIRTIO_BLK_T_IN, 5, r, sizeof(r), true),
			 VB_VIRTIO_BLK_S_OK);
	expect_pattern(r, 5 * 512, sizeof(r));
	assert_int_equal(kill(f->d.pid, SIGTERM), 0);
	st = vbt_daemon_reap(f->d.pid, 20000);
	f->d.pid = -1;
	assert_true(st >= 0 && WIFEXITED(st) && WEXITSTATUS(st) == 0);
	unlink(f->d.sock);
}

/* @verify{VB-REQ-VU-106} --fd N with an inherited connected socket: served, and the daemon
 * exits 0 when that front-end leaves */
static void test_vu_blk__inherited_connected_fd(void **state)
{
	struct fix *f = *state;
	int sv[2];
	char num[16];
	const char *args[] = { "blk", "--fd", num, "--image", f->image, NULL };
	uint8_t r[512];
	int st;

	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
	snprintf(num, sizeof(num), "%d", sv[1]);
	vbt_daemon_spawn(&f->d, args, sv[1]);
	close(sv[1]);
	assert_int_equal(vbt_vu_client_init(&f->c, GUEST_GPA, GUEST_SIZE), 0);
	f->client = true;
	f->c.timeout_ms = 10000;
	f->c.sock = sv[0];
	assert_int_equal(vbt_vu_negotiate(&f->c, BLK_FEATURES, VB_VU_PROTOCOL_FEATURES_SUPPORTED,
					  true), 0);
	assert_int_equal(vbt_vu_set_mem_table(&f->c), 0);
	assert_int_equal(vbt_vu_setup_vq(&f->c, 0, QSZ, 0), 0);
	f->qb[0].hdr = vbt_guest_alloc(&f->c.g, 16, 16);
	f->qb[0].data = vbt_guest_alloc(&f->c.g, DATA_MAX, 4096);
	f->qb[0].status = vbt_guest_alloc(&f->c.g, 1, 1);
	assert_int_equal(blk_req(f, 0, VB_VIRTIO_BLK_T_IN, 9, r, sizeof(r), true),
			 VB_VIRTIO_BLK_S_OK);
	expect_pattern(r, 9 * 512, sizeof(r));
	vbt_vu_client_fini(&f->c);
	f->client = false;
	st = vbt_daemon_reap(f->d.pid, 20000);
	f->d.pid = -1;
	if (st < 0 || !WIFEXITED(st) || WEXITSTATUS(st) != 0)
		vbt_daemon_dump_log(f->d.log);
	assert_true(st >= 0 && WIFEXITED(st) && WEXITSTATUS(st) == 0);
}

/* ---- Inflight I/O tracking (INFLIGHT_SHMFD) ---- */

/* Writes in flight when the daemon dies (3 descriptors each: they all fit the QSZ-entry
 * descriptor table), of which the first INFL_STALL complete. */
#define INFL_REQS	5u
#define INFL_STALL	2u
#define INFL_SECTOR	2048u
#define INFL_LEN	4096u

/* Heads marked inflight in queue 0's record of the shared inflight memory. */
static unsigned int inflight_marked(const void *mem)
{
	const struct vb_vu_inflight_split *iq = mem;
	const struct vb_vu_inflight_desc *d = (const void *)(iq + 1);
	unsigned int n = 0;

	for (unsigned int i = 0; i < QSZ; i++)
		n += __atomic_load_n(&d[i].inflight, __ATOMIC_ACQUIRE) != 0;
	return n;
}

/* Negotiate on a fresh connection to the daemon, as QEMU does at every start. */
static void infl_connect_with(struct fix *f, uint64_t features)
{
	f->c.timeout_ms = 10000;
	if (vbt_vu_connect(&f->c, f->d.sock) < 0) {
		vbt_daemon_dump_log(f->d.log);
		fail_msg("cannot connect to %s", f->d.sock);
	}
	assert_int_equal(vbt_vu_negotiate(&f->c, features, VB_VU_PROTOCOL_FEATURES_SUPPORTED,
					  true), 0);
	assert_true(f->c.protocol & VB_BIT(VB_VU_PROTOCOL_F_INFLIGHT_SHMFD));
}

static void infl_connect(struct fix *f)
{
	infl_connect_with(f, BLK_FEATURES);
}

/*
 * @verify{VB-REQ-VU-300} @verify{VB-REQ-VU-301} @verify{VB-REQ-VU-302}
 * @verify{VB-REQ-VU-303} the daemon is SIGKILLed with writes popped and not completed
 * (--test-stall-after), restarted on the same socket; the front-end reconnects as QEMU does
 * (SET_INFLIGHT_FD with the memory GET_INFLIGHT_FD gave, the same memory table, rings with the
 * used index as base): every write popped before the crash is served again, each head is
 * used exactly once, and the image holds every write
 */
static void test_vu_blk__inflight_restart(void **state)
{
	struct fix *f = *state;
	const char *stall[] = { "--test-stall-after", "2", NULL };	/* INFL_STALL */
	struct vbt_split *r;
	struct vb_vu_inflight infl;
	uint64_t hdr[INFL_REQS], data[INFL_REQS], status[INFL_REQS];
	uint16_t heads[INFL_REQS];
	bool seen[INFL_REQS] = { false };
	uint8_t *buf = malloc(INFL_LEN), *img = malloc(INFL_LEN);
	void *rec;
	int ifd, st;

	assert_non_null(buf);
	assert_non_null(img);
	start(f, stall);
	assert_int_equal(vbt_vu_client_init(&f->c, GUEST_GPA, GUEST_SIZE), 0);
	f->client = true;
	infl_connect(f);
	assert_int_equal(vbt_vu_get_inflight(&f->c, 1, QSZ, &infl, &ifd), 0);
	assert_true(infl.mmap_size >= 16u + 16u * QSZ);
	assert_int_equal(infl.num_queues, 1);
	assert_int_equal(infl.queue_size, QSZ);
	rec = mmap(NULL, (size_t)infl.mmap_size, PROT_READ, MAP_SHARED, ifd,
		   (off_t)infl.mmap_offset);
	assert_true(rec != MAP_FAILED);
	assert_int_equal(vbt_vu_set_mem_table(&f->c), 0);
	assert_int_equal(vbt_vu_setup_vq(&f->c, 0, QSZ, 0), 0);
	r = &f->c.vq[0].r;

	/* INFL_REQS writes at once: the first INFL_STALL complete, the others are popped and
	 * held by the stalled backend. */
	for (unsigned int i = 0; i < INFL_REQS; i++) {
		struct vb_virtio_blk_req_hdr h = {
			.type = vb_cpu_to_le32(VB_VIRTIO_BLK_T_OUT),
			.sector = vb_cpu_to_le64(INFL_SECTOR + i * (INFL_LEN / 512u)),
		};
		struct vbt_buf bufs[3];

		hdr[i] = vbt_guest_alloc(&f->c.g, 16, 16);
		data[i] = vbt_guest_alloc(&f->c.g, INFL_LEN, 4096);
		status[i] = vbt_guest_alloc(&f->c.g, 1, 1);
		memcpy(vbt_guest_ptr(&f->c.g, hdr[i]), &h, sizeof(h));
		fill(vbt_guest_ptr(&f->c.g, data[i]), INFL_LEN, (uint8_t)(100 + i));
		*(uint8_t *)vbt_guest_ptr(&f->c.g, status[i]) = 0xff;
		bufs[0] = (struct vbt_buf){ hdr[i], 16, false };
		bufs[1] = (struct vbt_buf){ data[i], INFL_LEN, false };
		bufs[2] = (struct vbt_buf){ status[i], 1, true };
		heads[i] = vbt_split_add(r, bufs, 3, false);
	}
	assert_int_equal(vbt_vu_kick(&f->c, 0), 0);
	for (int w = 0; w < 1000 && (vbt_split_used_idx(r) != INFL_STALL ||
				     inflight_marked(rec) != INFL_REQS - INFL_STALL); w++)
		usleep(10000);
	if (vbt_split_used_idx(r) != INFL_STALL) {
		vbt_daemon_dump_log(f->d.log);
		for (unsigned int i = 0; i < INFL_REQS; i++)
			fprintf(stderr, "req %u head %u status %u\n", i, heads[i],
				*(uint8_t *)vbt_guest_ptr(&f->c.g, status[i]));
		fprintf(stderr, "marked %u\n", inflight_marked(rec));
		fail_msg("used index %u, expected %u", vbt_split_used_idx(r), INFL_STALL);
	}
	assert_int_equal(inflight_marked(rec), INFL_REQS - INFL_STALL);

	/* The crash: no drain, no completion, no goodbye. */
	assert_int_equal(kill(f->d.pid, SIGKILL), 0);
	assert_int_equal(waitpid(f->d.pid, &st, 0), f->d.pid);
	f->d.pid = -1;
	vbt_vu_disconnect(&f->c);
	for (unsigned int i = INFL_STALL; i < INFL_REQS; i++)
		assert_int_equal(*(uint8_t *)vbt_guest_ptr(&f->c.g, status[i]), 0xff);

	/* Restart and reconnect with the same guest memory and inflight memory. */
	start(f, NULL);
	infl_connect(f);
	assert_int_equal(vbt_vu_set_inflight(&f->c, &infl, ifd), 0);
	assert_int_equal(vbt_vu_set_mem_table(&f->c), 0);
	assert_int_equal(vbt_vu_setup_vq_at(&f->c, 0, QSZ, vbt_split_used_idx(r), r->desc_gpa,
					    r->avail_gpa, r->used_gpa), 0);
	for (int w = 0; w < 1000 && vbt_split_used_idx(r) != INFL_REQS; w++)
		(void)vbt_vu_wait_call(&f->c, 0, 10);
	if (vbt_split_used_idx(r) != INFL_REQS) {
		vbt_daemon_dump_log(f->d.log);
		fail_msg("used index %u after the restart, expected %u", vbt_split_used_idx(r),
			 INFL_REQS);
	}
	/* Every head used exactly once, every write answered OK and in the image. */
	for (unsigned int k = 0; k < INFL_REQS; k++) {
		uint32_t id, len;
		unsigned int i;

		assert_int_equal(vbt_split_get_used(r, &id, &len), 1);
		for (i = 0; i < INFL_REQS && heads[i] != id; i++)
			;
		assert_true(i < INFL_REQS);
		assert_false(seen[i]);
		seen[i] = true;
		assert_int_equal(len, 1);
	}
	assert_int_equal(vbt_split_get_used(r, &(uint32_t){ 0 }, &(uint32_t){ 0 }), 0);
	for (unsigned int i = 0; i < INFL_REQS; i++) {
		assert_int_equal(*(uint8_t *)vbt_guest_ptr(&f->c.g, status[i]), VB_VIRTIO_BLK_S_OK);
		host_read(f, (uint64_t)(INFL_SECTOR + i * (INFL_LEN / 512u)) * 512u, img, INFL_LEN);
		fill(buf, INFL_LEN, (uint8_t)(100 + i));
		assert_memory_equal(img, buf, INFL_LEN);
	}
	assert_int_equal(inflight_marked(rec), 0);
	assert_true(vbt_daemon_log_has(f->d.log, "3 inflight requests to serve again"));
	/* The ring goes on as usual. */
	f->qb[0].hdr = vbt_guest_alloc(&f->c.g, 16, 16);
	f->qb[0].data = vbt_guest_alloc(&f->c.g, DATA_MAX, 4096);
	f->qb[0].status = vbt_guest_alloc(&f->c.g, 1, 1);
	assert_int_equal(blk_req(f, 0, VB_VIRTIO_BLK_T_IN, INFL_SECTOR, img, INFL_LEN, true),
			 VB_VIRTIO_BLK_S_OK);
	fill(buf, INFL_LEN, 100);
	assert_memory_equal(img, buf, INFL_LEN);
	munmap(rec, (size_t)infl.mmap_size);
	close(ifd);
	free(buf);
	free(img);
}

#define PACKED_FEATURES	(BLK_FEATURES | VB_BIT(VB_VIRTIO_F_RING_PACKED) | \
			 VB_BIT(VB_VIRTIO_F_INDIRECT_DESC))

/* Head entries marked inflight in queue 0's packed record. */
static unsigned int inflight_marked_packed(const void *mem)
{
	const struct vb_vu_inflight_desc_packed *d =
		(const void *)((const struct vb_vu_inflight_packed *)mem + 1);
	unsigned int n = 0;

	for (unsigned int i = 0; i < QSZ; i++)
		n += __atomic_load_n(&d[i].inflight, __ATOMIC_ACQUIRE) != 0;
	return n;
}

/*
 * @verify{VB-REQ-VU-300} @verify{VB-REQ-VU-304} @verify{VB-REQ-VU-305}
 * @verify{VB-REQ-VU-306} the same crash with a packed ring, chains of three descriptors and
 * indirect ones mixed: the front-end reconnects as QEMU 7.2 does after a crash (SET_VRING_BASE
 * with the position of the last start, as it cannot read a packed ring's); the daemon takes
 * the position from the packed record, serves every chain popped before the crash again from
 * its descriptor copies, each buffer id is used exactly once, every write is in the image, no
 * entry stays marked and the ring goes on
 */
static void test_vu_blk__inflight_restart_packed(void **state)
{
	struct fix *f = *state;
	const char *stall[] = { "--test-stall-after", "2", NULL };	/* INFL_STALL */
	struct vbt_packed *pr = calloc(1, sizeof(*pr));
	struct vb_vu_inflight infl;
	uint64_t hdr[INFL_REQS], data[INFL_REQS], status[INFL_REQS];
	int ids[INFL_REQS];
	bool seen[INFL_REQS] = { false };
	uint8_t *buf = malloc(INFL_LEN), *img = malloc(INFL_LEN);
	unsigned int used = 0;
	void *rec;
	int ifd, st;

	assert_non_null(pr);
	assert_non_null(buf);
	assert_non_null(img);
	start(f, stall);
	assert_int_equal(vbt_vu_client_init(&f->c, GUEST_GPA, GUEST_SIZE), 0);
	f->client = true;
	infl_connect_with(f, PACKED_FEATURES);
	assert_true(f->c.features & VB_BIT(VB_VIRTIO_F_RING_PACKED));
	assert_int_equal(vbt_vu_get_inflight(&f->c, 1, QSZ, &infl, &ifd), 0);
	assert_true(infl.mmap_size >= sizeof(struct vb_vu_inflight_packed) +
		    QSZ * sizeof(struct vb_vu_inflight_desc_packed));
	rec = mmap(NULL, (size_t)infl.mmap_size, PROT_READ, MAP_SHARED, ifd,
		   (off_t)infl.mmap_offset);
	assert_true(rec != MAP_FAILED);
	assert_int_equal(vbt_vu_set_mem_table(&f->c), 0);
	vbt_packed_init(pr, &f->c.g, QSZ);
	assert_int_equal(vbt_vu_setup_vq_at(&f->c, 0, QSZ, 1u << 15, pr->desc_gpa,
					    pr->driver_gpa, pr->device_gpa), 0);

	for (unsigned int i = 0; i < INFL_REQS; i++) {
		struct vb_virtio_blk_req_hdr h = {
			.type = vb_cpu_to_le32(VB_VIRTIO_BLK_T_OUT),
			.sector = vb_cpu_to_le64(INFL_SECTOR + i * (INFL_LEN / 512u)),
		};
		struct vbt_buf bufs[3];

		hdr[i] = vbt_guest_alloc(&f->c.g, 16, 16);
		data[i] = vbt_guest_alloc(&f->c.g, INFL_LEN, 4096);
		status[i] = vbt_guest_alloc(&f->c.g, 1, 1);
		memcpy(vbt_guest_ptr(&f->c.g, hdr[i]), &h, sizeof(h));
		fill(vbt_guest_ptr(&f->c.g, data[i]), INFL_LEN, (uint8_t)(100 + i));
		*(uint8_t *)vbt_guest_ptr(&f->c.g, status[i]) = 0xff;
		bufs[0] = (struct vbt_buf){ hdr[i], 16, false };
		bufs[1] = (struct vbt_buf){ data[i], INFL_LEN, false };
		bufs[2] = (struct vbt_buf){ status[i], 1, true };
		ids[i] = vbt_packed_add(pr, bufs, 3, i % 2 == 1);
		assert_true(ids[i] >= 0);
	}
	assert_int_equal(vbt_vu_kick(&f->c, 0), 0);
	for (int w = 0; w < 1000 && inflight_marked_packed(rec) != INFL_REQS - INFL_STALL; w++)
		usleep(10000);
	assert_int_equal(inflight_marked_packed(rec), INFL_REQS - INFL_STALL);

	/* The crash. */
	assert_int_equal(kill(f->d.pid, SIGKILL), 0);
	assert_int_equal(waitpid(f->d.pid, &st, 0), f->d.pid);
	f->d.pid = -1;
	vbt_vu_disconnect(&f->c);
	for (unsigned int k = 0; k < INFL_STALL; k++) {
		uint16_t id;
		unsigned int i;

		assert_int_equal(vbt_packed_get_used(pr, &id, NULL, NULL), 1);
		for (i = 0; i < INFL_REQS && ids[i] != id; i++)
			;
		assert_true(i < INFL_REQS);
		seen[i] = true;
		used++;
	}
	assert_int_equal(vbt_packed_get_used(pr, NULL, NULL, NULL), 0);

	/* Restart; the base is the stale one of the first start. */
	start(f, NULL);
	infl_connect_with(f, PACKED_FEATURES);
	assert_int_equal(vbt_vu_set_inflight(&f->c, &infl, ifd), 0);
	assert_int_equal(vbt_vu_set_mem_table(&f->c), 0);
	assert_int_equal(vbt_vu_setup_vq_at(&f->c, 0, QSZ, 1u << 15, pr->desc_gpa,
					    pr->driver_gpa, pr->device_gpa), 0);
	for (int w = 0; w < 1000 && used < INFL_REQS; w++) {
		uint16_t id;
		uint32_t len;
		int got = vbt_packed_get_used(pr, &id, &len, NULL);
		unsigned int i;

		assert_true(got >= 0);
		if (got == 0) {
			(void)vbt_vu_wait_call(&f->c, 0, 10);
			continue;
		}
		for (i = 0; i < INFL_REQS && ids[i] != id; i++)
			;
		assert_true(i < INFL_REQS);
		assert_false(seen[i]);
		seen[i] = true;
		assert_int_equal(len, 1);
		used++;
	}
	if (used != INFL_REQS) {
		vbt_daemon_dump_log(f->d.log);
		fail_msg("%u chains used after the restart, expected %u", used, INFL_REQS);
	}
	assert_int_equal(vbt_packed_get_used(pr, NULL, NULL, NULL), 0);
	for (unsigned int i = 0; i < INFL_REQS; i++) {
		assert_int_equal(*(uint8_t *)vbt_guest_ptr(&f->c.g, status[i]), VB_VIRTIO_BLK_S_OK);
		host_read(f, (uint64_t)(INFL_SECTOR + i * (INFL_LEN / 512u)) * 512u, img, INFL_LEN);
		fill(buf, INFL_LEN, (uint8_t)(100 + i));
		assert_memory_equal(img, buf, INFL_LEN);
	}
	assert_int_equal(inflight_marked_packed(rec), 0);
	assert_true(vbt_daemon_log_has(f->d.log, "3 inflight requests to serve again"));
	/* The ring goes on from the recovered position: one more read. */
	{
		struct vb_virtio_blk_req_hdr h = {
			.type = vb_cpu_to_le32(VB_VIRTIO_BLK_T_IN),
			.sector = vb_cpu_to_le64(INFL_SECTOR),
		};
		struct vbt_buf bufs[3];
		int got = 0;

		memcpy(vbt_guest_ptr(&f->c.g, hdr[0]), &h, sizeof(h));
		memset(vbt_guest_ptr(&f->c.g, data[0]), 0, INFL_LEN);
		bufs[0] = (struct vbt_buf){ hdr[0], 16, false };
		bufs[1] = (struct vbt_buf){ data[0], INFL_LEN, true };
		bufs[2] = (struct vbt_buf){ status[0], 1, true };
		assert_true(vbt_packed_add(pr, bufs, 3, false) >= 0);
		assert_int_equal(vbt_vu_kick(&f->c, 0), 0);
		for (int w = 0; w < 500 && got == 0; w++) {
			(void)vbt_vu_wait_call(&f->c, 0, 10);
			got = vbt_packed_get_used(pr, NULL, NULL, NULL);
		}
		assert_int_equal(got, 1);
		fill(buf, INFL_LEN, 100);
		assert_memory_equal(vbt_guest_ptr(&f->c.g, data[0]), buf, INFL_LEN);
	}
	munmap(rec, (size_t)infl.mmap_size);
	close(ifd);
	free(buf);
	free(img);
	free(pr);
}

/*
 * @verify{VB-REQ-VU-300} GET_INFLIGHT_FD and SET_INFLIGHT_FD are checked: a SET whose memory
 * is smaller than its queues need, or with more queues than the device has, or a size that is
 * no queue size, is refused (REPLY_ACK error) and the connection goes on; a GET for zero
 * queues, which has no error reply, ends the connection
 */
static void test_vu_blk__inflight_refused(void **state)
{
	struct fix *f = *state;
	struct vb_vu_inflight infl, bad;
	uint64_t v;
	int ifd;

	start(f, NULL);
	assert_int_equal(vbt_vu_client_init(&f->c, GUEST_GPA, GUEST_SIZE), 0);
	f->client = true;
	infl_connect(f);
	assert_int_equal(vbt_vu_get_inflight(&f->c, 1, QSZ, &infl, &ifd), 0);
	bad = infl;
	bad.mmap_size = 16;
	assert_int_equal(vbt_vu_set_inflight(&f->c, &bad, ifd), -EINVAL);
	bad = infl;
	bad.num_queues = 2;
	assert_int_equal(vbt_vu_set_inflight(&f->c, &bad, ifd), -EINVAL);
	bad = infl;
	bad.queue_size = 0;
	assert_int_equal(vbt_vu_set_inflight(&f->c, &bad, ifd), -EINVAL);
	bad = infl;
	bad.mmap_offset = 1;
	assert_int_equal(vbt_vu_set_inflight(&f->c, &bad, ifd), -EINVAL);
	assert_int_equal(vbt_vu_set_inflight(&f->c, &infl, ifd), 0);
	assert_int_equal(vbt_vu_get_u64(&f->c, VB_VU_GET_FEATURES, &v), 0);
	close(ifd);
	assert_int_equal(vbt_vu_get_inflight(&f->c, 0, QSZ, &infl, &ifd), -ECONNRESET);
	for (int i = 0; i < 500 && !vbt_daemon_log_has(f->d.log, "GET_INFLIGHT_FD"); i++)
		usleep(10000);
	assert_true(vbt_daemon_log_has(f->d.log, "GET_INFLIGHT_FD"));
}

/* Probe io_uring once (seccomp or an old kernel forbid it in some sandboxes). */
static void probe_uring(void)
{
	char path[] = "/tmp/vbt-vublk-probe-XXXXXX";
	int fd = mkstemp(path);
	struct vb_blk_uring *u = NULL;
	int ret;

	if (fd < 0 || ftruncate(fd, 4096) < 0) {
		uring_ok = false;
		snprintf(uring_why, sizeof(uring_why), "cannot make a probe file");
	} else {
		ret = vb_blk_uring_open(path, 0, 8, &u);
		if (ret < 0) {
			uring_ok = false;
			snprintf(uring_why, sizeof(uring_why), "vb_blk_uring_open: %s",
				 strerror(-ret));
		}
		vb_blk_uring_close(u);
	}
	if (fd >= 0) {
		close(fd);
		unlink(path);
	}
}

/*
 * @verify{VB-REQ-VU-520} --poll-us: requests are answered with the right data while the
 * daemon polls; the ring says "do not kick" during the window and asks for kicks again once
 * idle, after which a kicked request is still served; a window above 1 s is a usage error.
 */
static void test_vu_blk__poll_us(void **state)
{
	static const char *const extra[] = { "--poll-us", "200000", NULL };
	static const char *const too_long[] = { "blk", "--socket-path", "/tmp/x", "--image",
						"/dev/null", "--poll-us", "1000001", NULL };
	struct fix *f = *state;
	struct vbt_split *r;
	uint8_t w[4096], rd[4096];

	assert_int_equal(vbt_daemon_run(daemon_path, too_long, NULL, 0), 2);
	start(f, extra);
	connect_blk(f, 1);
	r = &f->c.vq[0].r;
	for (unsigned int i = 0; i < 16; i++) {
		fill(w, sizeof(w), (uint8_t)(50 + i));
		assert_int_equal(blk_req(f, 0, VB_VIRTIO_BLK_T_OUT, 64u + 8u * i, w, sizeof(w),
					 false), VB_VIRTIO_BLK_S_OK);
		assert_int_equal(blk_req(f, 0, VB_VIRTIO_BLK_T_IN, 64u + 8u * i, rd, sizeof(rd),
					 true), VB_VIRTIO_BLK_S_OK);
		assert_memory_equal(rd, w, sizeof(w));
	}
	assert_true(vbt_daemon_log_has(f->d.log, "busy-polling"));
	/* Idle: the window of 200 ms ends and kicks are asked for again. */
	for (int i = 0; i < 500 && vbt_split_device_no_notify(r); i++)
		usleep(10000);
	assert_false(vbt_split_device_no_notify(r));
	assert_int_equal(blk_req(f, 0, VB_VIRTIO_BLK_T_IN, 64u, rd, sizeof(rd), true),
			 VB_VIRTIO_BLK_S_OK);
	fill(w, sizeof(w), 50);
	assert_memory_equal(rd, w, sizeof(w));
}

#define DISK_TESTS(setup) \
	cmocka_unit_test_setup_teardown(test_vu_blk__config_and_id, setup, teardown), \
	cmocka_unit_test_setup_teardown(test_vu_blk__write_read_back, setup, teardown), \
	cmocka_unit_test_setup_teardown(test_vu_blk__discard_write_zeroes, setup, teardown), \
	cmocka_unit_test_setup_teardown(test_vu_blk__read_only, setup, teardown), \
	cmocka_unit_test_setup_teardown(test_vu_blk__two_queues, setup, teardown), \
	cmocka_unit_test_setup_teardown(test_vu_blk__next_connection, setup, teardown), \
	cmocka_unit_test_setup_teardown(test_vu_blk__signal_clean_exit, setup, teardown), \
	cmocka_unit_test_setup_teardown(test_vu_blk__resize_sighup, setup, teardown), \
	cmocka_unit_test_setup_teardown(test_vu_blk__connect_mode, setup, teardown), \
	cmocka_unit_test_setup_teardown(test_vu_blk__poll_us, setup, teardown), \
	cmocka_unit_test_setup_teardown(test_vu_blk__inflight_restart, setup, teardown), \
	cmocka_unit_test_setup_teardown(test_vu_blk__inflight_restart_packed, setup, teardown)

int main(int argc, char **argv)
{
	const struct CMUnitTest plain[] = {
		cmocka_unit_test(test_vu_blk__command_line),
		cmocka_unit_test_setup_teardown(test_vu_blk__inherited_listening_fd, setup_plain,
						teardown),
		cmocka_unit_test_setup_teardown(test_vu_blk__inherited_connected_fd, setup_plain,
						teardown),
		cmocka_unit_test_setup_teardown(test_vu_blk__inflight_refused, setup_plain,
						teardown),
	};
	const struct CMUnitTest sync_tests[] = { DISK_TESTS(setup_sync) };
	const struct CMUnitTest uring_tests[] = { DISK_TESTS(setup_uring) };
	int fails = 0;

	daemon_path = vbt_daemon_find(argc, argv);
	if (!daemon_path)
		return 77;
	probe_uring();
	fails += cmocka_run_group_tests_name("vu-blk", plain, NULL, NULL);
	fails += cmocka_run_group_tests_name("vu-blk-sync", sync_tests, NULL, NULL);
	if (uring_ok)
		fails += cmocka_run_group_tests_name("vu-blk-uring", uring_tests, NULL, NULL);
	else
		printf("SKIP: group vu-blk-uring: io_uring unavailable (%s)\n", uring_why);
	return fails ? 1 : 0;
}
