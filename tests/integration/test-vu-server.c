/* SPDX-License-Identifier: MIT */
/*
 * vhost-user back-end over a real unix socket: the demo-echo device model
 * (examples/demo-device.c) behind vb_vu_run() on a server thread, driven by the driver-side
 * client of tests/support/vbt-vu-client.c with split rings in shared memfd memory, eventfd
 * kicks and calls. Well-behaved and hostile front-ends; the server must keep serving.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include "virtio-backend.h"
#include "virtio-backend/transports/vhost-user.h"
#include "vbt-packed.h"
#include "vbt-vu-client.h"
#include "../../examples/demo-device.h"

#define GUEST_GPA	0x40000000u
#define GUEST_SIZE	(1u << 20)
#define QSZ		8u
#define BUF_LEN		64u
#define QUIET_MS	200

#define WANT_FEATURES	(VB_BIT(VB_VIRTIO_F_VERSION_1) | VB_BIT(VB_VIRTIO_F_INDIRECT_DESC))
#define WANT_PROTOCOL	VB_VU_PROTOCOL_FEATURES_SUPPORTED
#define P(bit)		VB_BIT(VB_VU_PROTOCOL_F_##bit)

struct fix {
	struct vb_vu_server	*s;
	struct demo_device	model;
	pthread_t		th;
	volatile int		stop;
	bool			joined;		/* the test stopped the server thread */
	char			dir[64];
	char			path[128];
	struct vbt_vu_client	c;
	uint64_t		req[QSZ], resp[QSZ];
	unsigned int		slot;
	bool			bufs;
};

static void *server_main(void *arg)
{
	struct fix *f = arg;

	(void)vb_vu_run(f->s, &f->stop);
	return NULL;
}

static void quiet_log(void *ctx, enum vb_log_level level, const char *msg)
{
	(void)ctx;
	if (getenv("VBT_VU_VERBOSE"))
		fprintf(stderr, "[server %d] %s\n", (int)level, msg);
}

/* The demo model with packed rings offered, and with two queues (set up in main()). */
static struct vb_device_ops packed_ops, mq_ops;

static int setup_with(void **state, const struct vb_device_ops *ops)
{
	struct fix *f = calloc(1, sizeof(*f));
	struct vb_vu_config cfg = {
		.version = VB_VU_CONFIG_V1,
		.protocol_features = VB_VU_PROTOCOL_FEATURES_SUPPORTED,
		.ops = ops,
		.log = quiet_log,
	};

	assert_non_null(f);
	demo_device_init(&f->model);
	cfg.priv = &f->model;
	assert_int_equal(vb_vu_server_new(&cfg, &f->s), 0);
	f->model.dev = vb_vu_dev(f->s);
	snprintf(f->dir, sizeof(f->dir), "/tmp/vbt-vu-XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	snprintf(f->path, sizeof(f->path), "%s/sock", f->dir);
	assert_int_equal(vb_vu_listen(f->s, f->path), 0);
	assert_int_equal(pthread_create(&f->th, NULL, server_main, f), 0);
	assert_int_equal(vbt_vu_client_init(&f->c, GUEST_GPA, GUEST_SIZE), 0);
	assert_int_equal(vbt_vu_connect(&f->c, f->path), 0);
	*state = f;
	return 0;
}

static int setup(void **state)
{
	return setup_with(state, &demo_device_ops);
}

static int setup_packed(void **state)
{
	return setup_with(state, &packed_ops);
}

static int setup_mq(void **state)
{
	return setup_with(state, &mq_ops);
}

static int teardown(void **state)
{
	struct fix *f = *state;

	vbt_vu_client_fini(&f->c);
	if (!f->joined) {
		f->stop = 1;
		pthread_join(f->th, NULL);
	}
	vb_vu_server_free(f->s);
	rmdir(f->dir);
	free(f);
	return 0;
}

static struct vb_vu_stats stats(struct fix *f)
{
	struct vb_vu_stats st;

	vb_vu_get_stats(f->s, &st);
	return st;
}

/* A reply-bearing request: once it is answered, everything sent before it was handled. */
static void sync_server(struct fix *f)
{
	uint64_t v;

	assert_int_equal(vbt_vu_get_u64(&f->c, VB_VU_GET_FEATURES, &v), 0);
}

/* Wait (up to 5 s) for the server thread to see a condition. */
#define WAIT_FOR(cond) do { \
		for (int w_ = 0; w_ < 500 && !(cond); w_++) \
			usleep(10000); \
		assert_true(cond); \
	} while (0)

static void start_device(struct fix *f, uint64_t features, bool with_protocol)
{
	assert_int_equal(vbt_vu_negotiate(&f->c, features, WANT_PROTOCOL, with_protocol), 0);
	assert_int_equal(vbt_vu_set_mem_table(&f->c), 0);
	assert_int_equal(vbt_vu_setup_vq(&f->c, 0, QSZ, 0), 0);
	if (!f->bufs) {
		for (unsigned int i = 0; i < QSZ; i++) {
			f->req[i] = vbt_guest_alloc(&f->c.g, BUF_LEN, 8);
			f->resp[i] = vbt_guest_alloc(&f->c.g, BUF_LEN, 8);
		}
		f->bufs = true;
	}
}

/* Post one request (not kicked); returns its head. */
static uint16_t post(struct fix *f, const char *text, bool indirect)
{
	unsigned int i = f->slot++ % QSZ;
	struct vbt_buf b[2] = {
		{ f->req[i], (uint32_t)strlen(text), false },
		{ f->resp[i], BUF_LEN, true },
	};

	memcpy(vbt_guest_ptr(&f->c.g, f->req[i]), text, strlen(text));
	memset(vbt_guest_ptr(&f->c.g, f->resp[i]), 0, BUF_LEN);
	return vbt_split_add(&f->c.vq[0].r, b, 2, indirect);
}

/* Check the next used element answers head with expect. */
static void expect_used(struct fix *f, uint16_t head, const char *expect)
{
	uint32_t id, len;
	unsigned int i;

	assert_int_equal(vbt_split_get_used(&f->c.vq[0].r, &id, &len), 1);
	assert_int_equal(id, head);
	assert_int_equal(len, strlen(expect));
	/* The slot of head: the one post() used (requests are answered in order here). */
	i = (f->slot - 1) % QSZ;
	assert_memory_equal(vbt_guest_ptr(&f->c.g, f->resp[i]), expect, len);
}

/* Wait for a call that comes with a used element (calls without one are allowed:
 * virtio 1.2, 2.7.7 lets a device notify spuriously). */
static void wait_used(struct fix *f)
{
	struct vbt_split *r = &f->c.vq[0].r;

	for (int i = 0; i < 50; i++) {
		if (vbt_split_used_idx(r) != r->last_used)
			return;
		(void)vbt_vu_wait_call(&f->c, 0, 100);
	}
	fail_msg("no used element within 5 s");
}

static void round_trip(struct fix *f, const char *text, const char *expect, bool indirect)
{
	uint16_t head = post(f, text, indirect);

	if (f->c.features & VB_BIT(VB_VIRTIO_F_EVENT_IDX))
		vbt_split_set_used_event(&f->c.vq[0].r, f->c.vq[0].r.last_used);
	assert_int_equal(vbt_vu_kick(&f->c, 0), 0);
	wait_used(f);
	expect_used(f, head, expect);
}

/* Posted and kicked, and nothing comes back for a while. */
static void expect_no_service(struct fix *f)
{
	uint32_t id, len;

	assert_int_equal(vbt_vu_kick(&f->c, 0), 0);
	usleep(QUIET_MS * 1000);
	assert_int_equal(vbt_split_get_used(&f->c.vq[0].r, &id, &len), 0);
}

/* @verify{VB-REQ-VU-006} @verify{VB-REQ-VU-009} @verify{VB-REQ-VU-010} @verify{VB-REQ-VU-014}
 * @verify{VB-REQ-VU-017} the echo device answers through shared memory, eventfd kicks and
 * calls, direct and indirect, across ring wrap-around; config space via GET/SET_CONFIG */
static void test_vu_server__echo_round_trip(void **state)
{
	struct fix *f = *state;
	struct vb_vu_config_space cs;
	uint64_t nq;
	char text[32], up[32];
	int ret;

	start_device(f, WANT_FEATURES, true);
	assert_int_equal(vbt_vu_get_u64(&f->c, VB_VU_GET_QUEUE_NUM, &nq), 0);
	assert_true(nq == 1);
	for (unsigned int i = 0; i < 3 * QSZ; i++) {
		snprintf(text, sizeof(text), "hello vhost-user %u", i);
		snprintf(up, sizeof(up), "HELLO VHOST-USER %u", i);
		round_trip(f, text, up, i & 1);
	}
	assert_int_equal(f->model.served, 3 * QSZ);
	/* GET_CONFIG: mode 0 (upper), max_len 64. */
	memset(&cs, 0, sizeof(cs));
	cs.size = DEMO_CONFIG_LEN;
	assert_int_equal(vbt_vu_send(&f->c, VB_VU_GET_CONFIG, VB_VU_VERSION, &cs,
				     VB_VU_CONFIG_HDR_SIZE + DEMO_CONFIG_LEN, NULL, 0), 0);
	ret = vbt_vu_recv(&f->c, VB_VU_GET_CONFIG, &cs, sizeof(cs));
	assert_int_equal(ret, VB_VU_CONFIG_HDR_SIZE + DEMO_CONFIG_LEN);
	assert_int_equal(cs.data[0], DEMO_MODE_UPPER);
	assert_int_equal(cs.data[4], 64);
	/* SET_CONFIG: mode reverse; the next answer is reversed. */
	memset(&cs, 0, sizeof(cs));
	cs.offset = DEMO_CONFIG_MODE;
	cs.size = 4;
	cs.data[0] = DEMO_MODE_REVERSE;
	assert_int_equal(vbt_vu_request(&f->c, VB_VU_SET_CONFIG, &cs, VB_VU_CONFIG_HDR_SIZE + 4,
					NULL, 0), 0);
	round_trip(f, "abc", "cba", false);
	/* Read-only max_len refuses a write (REPLY_ACK reports it); out-of-range reads get
	 * the zero-length error reply. */
	cs.offset = DEMO_CONFIG_MAX_LEN;
	assert_true(vbt_vu_request(&f->c, VB_VU_SET_CONFIG, &cs, VB_VU_CONFIG_HDR_SIZE + 4,
				   NULL, 0) < 0);
	memset(&cs, 0, sizeof(cs));
	cs.offset = 6;
	cs.size = 4;
	assert_int_equal(vbt_vu_send(&f->c, VB_VU_GET_CONFIG, VB_VU_VERSION, &cs,
				     VB_VU_CONFIG_HDR_SIZE + 4, NULL, 0), 0);
	assert_int_equal(vbt_vu_recv(&f->c, VB_VU_GET_CONFIG, &cs, sizeof(cs)), 0);
}

/* @verify{VB-REQ-VU-010} with EVENT_IDX the call follows the driver's used_event */
static void test_vu_server__event_idx(void **state)
{
	struct fix *f = *state;

	start_device(f, WANT_FEATURES | VB_BIT(VB_VIRTIO_F_EVENT_IDX), true);
	assert_true(vb_dev_has_feature(vb_vu_dev(f->s), VB_VIRTIO_F_EVENT_IDX));
	for (unsigned int i = 0; i < 2 * QSZ; i++)
		round_trip(f, "event", "EVENT", false);
	assert_true(stats(f).calls >= 2 * QSZ);
}

/* @verify{VB-REQ-VU-006} without VHOST_USER_F_PROTOCOL_FEATURES a started ring is enabled
 * at once, and SET_VRING_ENABLE is refused */
static void test_vu_server__no_protocol_features(void **state)
{
	struct fix *f = *state;
	uint64_t refused;

	start_device(f, WANT_FEATURES, false);
	round_trip(f, "plain", "PLAIN", false);
	refused = stats(f).refused;
	assert_int_equal(vbt_vu_vring_state(&f->c, VB_VU_SET_VRING_ENABLE, 0, 0), 0);
	sync_server(f);
	assert_true(stats(f).refused == refused + 1);
	round_trip(f, "still", "STILL", false);
}

/* @verify{VB-REQ-VU-006} with protocol features a disabled ring is not processed; enabling
 * it serves what was posted meanwhile */
static void test_vu_server__ring_enable(void **state)
{
	struct fix *f = *state;
	uint16_t head;

	start_device(f, WANT_FEATURES, true);
	round_trip(f, "one", "ONE", false);
	assert_int_equal(vbt_vu_vring_state(&f->c, VB_VU_SET_VRING_ENABLE, 0, 0), 0);
	head = post(f, "two", false);
	expect_no_service(f);
	assert_int_equal(vbt_vu_vring_state(&f->c, VB_VU_SET_VRING_ENABLE, 0, 1), 0);
	wait_used(f);
	expect_used(f, head, "TWO");
}

/* @verify{VB-REQ-VU-006} @verify{VB-REQ-VU-007} GET_VRING_BASE stops the ring and returns
 * its position; ring setup on a started ring is refused; a restart at the returned base
 * serves what was posted while stopped */
static void test_vu_server__vring_base_stop_restart(void **state)
{
	struct fix *f = *state;
	uint32_t base;
	uint16_t head;

	start_device(f, WANT_FEATURES, true);
	for (int i = 0; i < 3; i++)
		round_trip(f, "x", "X", false);
	assert_int_equal(vbt_vu_vring_state(&f->c, VB_VU_SET_VRING_NUM, 0, QSZ), -EBUSY);
	assert_int_equal(vbt_vu_vring_state(&f->c, VB_VU_SET_VRING_BASE, 0, 0), -EBUSY);
	assert_int_equal(vbt_vu_get_vring_base(&f->c, 0, &base), 0);
	assert_int_equal(base, 3);
	head = post(f, "later", false);
	expect_no_service(f);
	assert_int_equal(vbt_vu_setup_vq(&f->c, 0, QSZ, (uint16_t)base), 0);
	/* setup_vq() reset the driver's own indices to base: put the posted one back. */
	f->c.vq[0].r.avail_idx = (uint16_t)(base + 1);
	assert_int_equal(vbt_vu_kick(&f->c, 0), 0);
	wait_used(f);
	expect_used(f, head, "LATER");
	assert_int_equal(vbt_vu_get_vring_base(&f->c, 0, &base), 0);
	assert_int_equal(base, 4);
}

static int count_fds(void)
{
	int n = 0;

	for (int fd = 0; fd < 4096; fd++)
		if (fcntl(fd, F_GETFD) != -1)
			n++;
	return n;
}

/* @verify{VB-REQ-VU-004} @verify{VB-REQ-VU-005} @verify{VB-REQ-VU-013} @verify{VB-REQ-VU-401}
 * malformed messages get an error ack, leak no fd, change nothing, and the device keeps
 * working; SET_LOG_FD is accepted and its fd closed */
static void test_vu_server__hostile_messages_refused(void **state)
{
	struct fix *f = *state;
	struct vb_vu_mem_table t;
	uint64_t v = 0;
	uint32_t short_payload = 1;
	int e[2], fds_before, ret;

	start_device(f, WANT_FEATURES, true);
	round_trip(f, "before", "BEFORE", false);
	fds_before = count_fds();

	/* bad size: SET_FEATURES with a 4-byte payload */
	assert_int_equal(vbt_vu_send(&f->c, VB_VU_SET_FEATURES,
				     VB_VU_VERSION | VB_VU_FLAG_NEED_REPLY, &short_payload, 4,
				     NULL, 0), 0);
	assert_int_equal(vbt_vu_recv(&f->c, VB_VU_SET_FEATURES, &v, sizeof(v)), 8);
	assert_true(v == EINVAL);
	/* wrong fd counts: two call fds; a "no fd" kick that carries one; a table without */
	e[0] = eventfd(0, EFD_CLOEXEC);
	e[1] = eventfd(0, EFD_CLOEXEC);
	assert_int_equal(vbt_vu_request(&f->c, VB_VU_SET_VRING_CALL, &(uint64_t){ 0 }, 8, e, 2),
			 -EINVAL);
	assert_int_equal(vbt_vu_request(&f->c, VB_VU_SET_VRING_KICK,
					&(uint64_t){ VB_VU_VRING_NOFD }, 8, e, 1), -EINVAL);
	memset(&t, 0, sizeof(t));
	t.num_regions = 1;
	t.regions[0].guest_addr = GUEST_GPA;
	t.regions[0].size = GUEST_SIZE;
	t.regions[0].user_addr = VBT_VU_UVA_BASE;
	assert_int_equal(vbt_vu_request(&f->c, VB_VU_SET_MEM_TABLE, &t, 8 + 32, NULL, 0), -EINVAL);
	/* regions overlapping, out of the file's bounds, or not memory */
	t.num_regions = 2;
	t.regions[1] = t.regions[0];
	t.regions[1].guest_addr += GUEST_SIZE / 2;
	t.regions[1].user_addr += 2 * GUEST_SIZE;
	{
		int two[2] = { f->c.memfd, f->c.memfd };

		assert_int_equal(vbt_vu_request(&f->c, VB_VU_SET_MEM_TABLE, &t, 8 + 64, two, 2),
				 -EINVAL);
	}
	t.num_regions = 1;
	t.regions[0].size = 2 * GUEST_SIZE;
	assert_int_equal(vbt_vu_request(&f->c, VB_VU_SET_MEM_TABLE, &t, 8 + 32, &f->c.memfd, 1),
			 -EINVAL);
	t.regions[0].size = GUEST_SIZE;
	t.regions[0].mmap_offset = 4096;
	assert_int_equal(vbt_vu_request(&f->c, VB_VU_SET_MEM_TABLE, &t, 8 + 32, &f->c.memfd, 1),
			 -EINVAL);
	t.regions[0].mmap_offset = 0;
	assert_int_equal(vbt_vu_request(&f->c, VB_VU_SET_MEM_TABLE, &t, 8 + 32, e, 1), -EINVAL);
	/* queue index out of range (the demo has one queue), bad sizes, unsupported */
	assert_int_equal(vbt_vu_vring_state(&f->c, VB_VU_SET_VRING_NUM, 1, QSZ), -EINVAL);
	assert_int_equal(vbt_vu_vring_state(&f->c, VB_VU_SET_VRING_ENABLE, 200, 1), -EINVAL);
	assert_int_equal(vbt_vu_request(&f->c, VB_VU_SET_VRING_CALL, &(uint64_t){ 3 }, 8, e, 1),
			 -EINVAL);
	/* SET_LOG_FD is accepted and its fd closed (vhost-user.rst: no use with LOG_SHMFD) */
	assert_int_equal(vbt_vu_request(&f->c, VB_VU_SET_LOG_FD, NULL, 0, e, 1), 0);
	assert_int_equal(vbt_vu_request(&f->c, VB_VU_SET_LOG_FD, NULL, 0, NULL, 0), -EINVAL);
	close(e[0]);
	close(e[1]);
	assert_int_equal(count_fds(), fds_before);
	/* The refused table changed nothing: the ring still answers. */
	round_trip(f, "after", "AFTER", false);
	assert_true(stats(f).refused >= 12);
	ret = vbt_vu_count_guest_maps();
	assert_int_equal(ret, 2);	/* the client's and the server's one region */
}

/* @verify{VB-REQ-VU-007} messages out of order are refused: ring and memory setup before
 * SET_OWNER, a ring started before features, protocol-feature messages not negotiated */
static void test_vu_server__wrong_state_refused(void **state)
{
	struct fix *f = *state;
	struct vb_vu_config_space cs;
	uint64_t v;

	/* Only REPLY_ACK, so the CONFIG/STATUS/MEM_SLOTS messages are not negotiated. */
	assert_int_equal(vbt_vu_get_u64(&f->c, VB_VU_GET_PROTOCOL_FEATURES, &v), 0);
	assert_true(v == VB_VU_PROTOCOL_FEATURES_SUPPORTED);
	assert_int_equal(vbt_vu_set_u64(&f->c, VB_VU_SET_PROTOCOL_FEATURES, P(REPLY_ACK)), 0);
	f->c.protocol = P(REPLY_ACK);
	assert_int_equal(vbt_vu_set_mem_table(&f->c), -EPROTO);
	assert_int_equal(vbt_vu_vring_state(&f->c, VB_VU_SET_VRING_NUM, 0, QSZ), -EPROTO);
	assert_int_equal(vbt_vu_set_u64(&f->c, VB_VU_SET_PROTOCOL_FEATURES, ~(uint64_t)0),
			 -ENOTSUP);
	assert_int_equal(vbt_vu_send(&f->c, VB_VU_SET_OWNER, VB_VU_VERSION, NULL, 0, NULL, 0), 0);
	assert_int_equal(vbt_vu_set_mem_table(&f->c), 0);
	/* A ring kicked into life before SET_FEATURES cannot go live. */
	f->c.features = 0;
	assert_int_equal(vbt_vu_setup_vq(&f->c, 0, QSZ, 0), -EPROTO);
	assert_int_equal(vbt_vu_set_u64(&f->c, VB_VU_SET_STATUS, 1), -EPROTO);
	assert_int_equal(vbt_vu_request(&f->c, VB_VU_RESET_DEVICE, NULL, 0, NULL, 0), -EPROTO);
	assert_int_equal(vbt_vu_request(&f->c, VB_VU_ADD_MEM_REG,
					&(struct vb_vu_mem_reg){ 0, { 0, 4096, 0, 0 } }, 40,
					&f->c.memfd, 1), -EPROTO);
	memset(&cs, 0, sizeof(cs));
	cs.size = 4;
	assert_int_equal(vbt_vu_send(&f->c, VB_VU_GET_CONFIG, VB_VU_VERSION, &cs,
				     VB_VU_CONFIG_HDR_SIZE + 4, NULL, 0), 0);
	assert_int_equal(vbt_vu_recv(&f->c, VB_VU_GET_CONFIG, &cs, sizeof(cs)), 0);
	/* Features now; the ring started above goes live and serves. */
	assert_int_equal(vbt_vu_set_u64(&f->c, VB_VU_SET_FEATURES, WANT_FEATURES), 0);
	f->c.features = WANT_FEATURES;
	for (unsigned int i = 0; i < QSZ; i++) {
		f->req[i] = vbt_guest_alloc(&f->c.g, BUF_LEN, 8);
		f->resp[i] = vbt_guest_alloc(&f->c.g, BUF_LEN, 8);
	}
	f->bufs = true;
	round_trip(f, "late", "LATE", false);
}

/* One hostile message that must end the connection, then a clean session on a new one. */
static void expect_closed_then_serve(struct fix *f, uint32_t req, uint32_t flags,
				     const void *payload, uint32_t size, const int *fds,
				     unsigned int n_fds)
{
	uint64_t conns = stats(f).connections;
	uint8_t junk[16];

	assert_int_equal(vbt_vu_send(&f->c, req, flags, payload, size, fds, n_fds), 0);
	assert_int_equal(vbt_vu_recv(&f->c, req, junk, sizeof(junk)), -ECONNRESET);
	vbt_vu_disconnect(&f->c);
	assert_int_equal(vbt_vu_connect(&f->c, f->path), 0);
	memset(f->c.vq, 0, sizeof(f->c.vq));
	for (unsigned int i = 0; i < VBT_VU_MAX_QUEUES; i++)
		f->c.vq[i].kick_fd = f->c.vq[i].call_fd = -1;
	f->c.g.next = 0;
	f->bufs = false;
	f->slot = 0;
	start_device(f, WANT_FEATURES, true);
	round_trip(f, "again", "AGAIN", false);
	assert_true(stats(f).connections == conns + 1);
}

/* @verify{VB-REQ-VU-011} @verify{VB-REQ-VU-003} a failing request that needs a reply, a
 * broken header, an oversized payload or too many fds close the connection, and the next
 * front-end is served */
static void test_vu_server__closing_errors_and_next_connection(void **state)
{
	struct fix *f = *state;
	struct vb_vu_vring_state st = { 9, 0 };
	uint8_t big[600];
	int fds[VB_VU_MAX_FDS + 1];

	start_device(f, WANT_FEATURES, true);
	round_trip(f, "first", "FIRST", false);
	expect_closed_then_serve(f, VB_VU_GET_VRING_BASE, VB_VU_VERSION, &st, sizeof(st), NULL,
				 0);
	expect_closed_then_serve(f, VB_VU_SET_OWNER, 0, NULL, 0, NULL, 0);
	memset(big, 0, sizeof(big));
	expect_closed_then_serve(f, VB_VU_SET_CONFIG, VB_VU_VERSION, big, sizeof(big), NULL, 0);
	for (unsigned int i = 0; i < VB_VU_MAX_FDS + 1; i++)
		fds[i] = eventfd(0, EFD_CLOEXEC);
	expect_closed_then_serve(f, VB_VU_SET_OWNER, VB_VU_VERSION, NULL, 0, fds,
				 VB_VU_MAX_FDS + 1);
	for (unsigned int i = 0; i < VB_VU_MAX_FDS + 1; i++)
		close(fds[i]);
	assert_true(stats(f).closed_bad >= 3);
}

/* @verify{VB-REQ-VU-003} a disconnect with requests in flight unmaps all guest memory,
 * resets the device, closes every fd, and the next front-end is served */
static void test_vu_server__disconnect_releases_everything(void **state)
{
	struct fix *f = *state;
	int maps0 = vbt_vu_count_guest_maps();	/* the client's own mapping */
	int fds0;
	unsigned long resets;

	start_device(f, WANT_FEATURES, true);
	round_trip(f, "mapped", "MAPPED", false);
	assert_int_equal(vbt_vu_count_guest_maps(), maps0 + 1);
	assert_int_equal(stats(f).mapped_regions, 1);
	(void)post(f, "in flight", false);
	resets = f->model.resets;
	fds0 = count_fds();
	vbt_vu_disconnect(&f->c);
	WAIT_FOR(!vb_vu_connected(f->s));
	WAIT_FOR(vbt_vu_count_guest_maps() == maps0);
	assert_int_equal(stats(f).mapped_regions, 0);
	assert_true(f->model.resets > resets);
	/* The client closed its socket and 2 eventfds; the server its socket, kick, call. */
	assert_int_equal(count_fds(), fds0 - 6);
	assert_int_equal(vb_dev_get_status(vb_vu_dev(f->s)), 0);
	assert_int_equal(vbt_vu_connect(&f->c, f->path), 0);
	memset(f->c.vq, 0, sizeof(f->c.vq));
	for (unsigned int i = 0; i < VBT_VU_MAX_QUEUES; i++)
		f->c.vq[i].kick_fd = f->c.vq[i].call_fd = -1;
	f->c.g.next = 0;
	f->bufs = false;
	f->slot = 0;
	start_device(f, WANT_FEATURES, true);
	round_trip(f, "next", "NEXT", false);
}

/* @verify{VB-REQ-VU-015} @verify{VB-REQ-VU-008} memory by slots: GET_MAX_MEM_SLOTS,
 * ADD_MEM_REG, REM_MEM_REG; removing the ring's region breaks the ring, which shows
 * NEEDS_RESET in GET_STATUS and signals the err eventfd */
static void test_vu_server__mem_slots(void **state)
{
	struct fix *f = *state;
	struct vb_vu_mem_reg r;
	uint64_t v;
	int err_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);

	assert_int_equal(vbt_vu_negotiate(&f->c, WANT_FEATURES, WANT_PROTOCOL, true), 0);
	assert_int_equal(vbt_vu_get_u64(&f->c, VB_VU_GET_MAX_MEM_SLOTS, &v), 0);
	assert_true(v == VB_VU_MAX_MEM_SLOTS);
	/* Two halves of the memfd as two slots. */
	for (unsigned int i = 0; i < 2; i++) {
		memset(&r, 0, sizeof(r));
		r.region.guest_addr = GUEST_GPA + i * (GUEST_SIZE / 2);
		r.region.size = GUEST_SIZE / 2;
		r.region.user_addr = VBT_VU_UVA_BASE + i * (GUEST_SIZE / 2);
		r.region.mmap_offset = i * (GUEST_SIZE / 2);
		assert_int_equal(vbt_vu_request(&f->c, VB_VU_ADD_MEM_REG, &r, sizeof(r),
						&f->c.memfd, 1), 0);
	}
	assert_int_equal(stats(f).mapped_regions, 2);
	/* The same slot twice overlaps. */
	assert_int_equal(vbt_vu_request(&f->c, VB_VU_ADD_MEM_REG, &r, sizeof(r), &f->c.memfd, 1),
			 -EINVAL);
	assert_int_equal(vbt_vu_setup_vq(&f->c, 0, QSZ, 0), 0);
	assert_int_equal(vbt_vu_request(&f->c, VB_VU_SET_VRING_ERR, &(uint64_t){ 0 }, 8, &err_fd,
					1), 0);
	for (unsigned int i = 0; i < QSZ; i++) {
		f->req[i] = vbt_guest_alloc(&f->c.g, BUF_LEN, 8);
		f->resp[i] = vbt_guest_alloc(&f->c.g, BUF_LEN, 8);
	}
	f->bufs = true;
	round_trip(f, "slots", "SLOTS", false);
	assert_int_equal(vbt_vu_get_u64(&f->c, VB_VU_GET_STATUS, &v), 0);
	assert_false(v & VB_VIRTIO_S_NEEDS_RESET);
	/* The rings live in the first half. */
	memset(&r, 0, sizeof(r));
	r.region.guest_addr = GUEST_GPA;
	r.region.size = GUEST_SIZE / 2;
	r.region.user_addr = VBT_VU_UVA_BASE;
	assert_int_equal(vbt_vu_request(&f->c, VB_VU_REM_MEM_REG, &r, sizeof(r), NULL, 0),
			 -EFAULT);
	assert_int_equal(stats(f).mapped_regions, 1);
	assert_int_equal(vbt_vu_request(&f->c, VB_VU_REM_MEM_REG, &r, sizeof(r), NULL, 0),
			 -ENOENT);
	assert_int_equal(vbt_vu_get_u64(&f->c, VB_VU_GET_STATUS, &v), 0);
	assert_true(v & VB_VIRTIO_S_NEEDS_RESET);
	assert_int_equal(read(err_fd, &v, sizeof(v)), (ssize_t)sizeof(v));
	close(err_fd);
}

/* @verify{VB-REQ-VU-008} @verify{VB-REQ-VU-012} SET_STATUS/GET_STATUS: FEATURES_OK reads
 * back only for accepted features; status 0 resets the device but GET_VRING_BASE still
 * returns where the ring stopped */
static void test_vu_server__status(void **state)
{
	struct fix *f = *state;
	uint8_t s0 = VB_VIRTIO_S_ACKNOWLEDGE | VB_VIRTIO_S_DRIVER;
	uint64_t v;
	uint32_t base;

	assert_int_equal(vbt_vu_negotiate(&f->c, WANT_FEATURES | VB_BIT(VB_VIRTIO_F_RING_PACKED),
					  WANT_PROTOCOL, true), 0);
	assert_int_equal(vbt_vu_set_u64(&f->c, VB_VU_SET_STATUS, s0), 0);
	assert_int_equal(vbt_vu_get_u64(&f->c, VB_VU_GET_STATUS, &v), 0);
	assert_true(v == s0);
	/* A feature never offered: refused, and FEATURES_OK does not stick. */
	assert_int_equal(vbt_vu_set_u64(&f->c, VB_VU_SET_FEATURES,
					VB_BIT(VB_VIRTIO_F_VERSION_1) | VB_BIT(5)), -ENOTSUP);
	assert_int_equal(vbt_vu_set_u64(&f->c, VB_VU_SET_STATUS,
					s0 | VB_VIRTIO_S_FEATURES_OK), 0);
	assert_int_equal(vbt_vu_get_u64(&f->c, VB_VU_GET_STATUS, &v), 0);
	assert_false(v & VB_VIRTIO_S_FEATURES_OK);
	/* Good features: it sticks. */
	f->c.features = WANT_FEATURES | VB_BIT(VB_VU_F_PROTOCOL_FEATURES);
	assert_int_equal(vbt_vu_set_u64(&f->c, VB_VU_SET_FEATURES, f->c.features), 0);
	assert_int_equal(vbt_vu_set_u64(&f->c, VB_VU_SET_STATUS,
					s0 | VB_VIRTIO_S_FEATURES_OK), 0);
	assert_int_equal(vbt_vu_get_u64(&f->c, VB_VU_GET_STATUS, &v), 0);
	assert_true(v & VB_VIRTIO_S_FEATURES_OK);
	assert_int_equal(vbt_vu_set_mem_table(&f->c), 0);
	assert_int_equal(vbt_vu_setup_vq(&f->c, 0, QSZ, 0), 0);
	assert_int_equal(vbt_vu_set_u64(&f->c, VB_VU_SET_STATUS,
					s0 | VB_VIRTIO_S_FEATURES_OK | VB_VIRTIO_S_DRIVER_OK), 0);
	for (unsigned int i = 0; i < QSZ; i++) {
		f->req[i] = vbt_guest_alloc(&f->c.g, BUF_LEN, 8);
		f->resp[i] = vbt_guest_alloc(&f->c.g, BUF_LEN, 8);
	}
	f->bufs = true;
	round_trip(f, "s", "S", false);
	round_trip(f, "t", "T", false);
	/* QEMU's stop: SET_STATUS(0), then GET_VRING_BASE. */
	assert_int_equal(vbt_vu_set_u64(&f->c, VB_VU_SET_STATUS, 0), 0);
	assert_int_equal(vbt_vu_get_vring_base(&f->c, 0, &base), 0);
	assert_int_equal(base, 2);
	assert_int_equal(vb_dev_get_status(vb_vu_dev(f->s)), 0);
	(void)post(f, "stopped", false);
	expect_no_service(f);
}

/* Stop the server thread: from here on the test calls vb_vu_dispatch() itself, so it may
 * also call into the device model (the server is single-threaded). */
static void stop_server_thread(struct fix *f)
{
	f->stop = 1;
	pthread_join(f->th, NULL);
	f->joined = true;
}

static void dispatch_some(struct fix *f)
{
	for (int i = 0; i < 8; i++)
		assert_true(vb_vu_dispatch(f->s) >= 0);
}

/* True once fd reads end-of-file within ms (the other end was closed). */
static bool fd_closed_within(int fd, int ms)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	char b[64];

	while (poll(&p, 1, ms) == 1) {
		ssize_t n = recv(fd, b, sizeof(b), MSG_DONTWAIT);

		if (n == 0)
			return true;
		if (n < 0 && errno != EAGAIN)
			return errno == ECONNRESET;
	}
	return false;
}

static bool fd_closed(int fd)
{
	return fd_closed_within(fd, 2000);
}

/*
 * @verify{VB-REQ-VU-500} @verify{VB-REQ-VU-501} SET_BACKEND_REQ_FD takes one socket (a
 * second one replaces and closes the first; no fd or a non-socket is refused); a config
 * change then sends BACKEND_CONFIG_CHANGE_MSG with NEED_REPLY; acks (zero or not) are read
 * without blocking; anything else on the channel closes it; a disconnect closes it
 */
static void test_vu_server__backend_config_change(void **state)
{
	struct fix *f = *state;
	struct vb_vu_config_space cs;
	uint32_t req = 0, flags = 0;
	int efd = eventfd(0, EFD_CLOEXEC), old, sv[2];
	uint8_t hdr[VB_VU_HDR_SIZE] = { 0 };

	start_device(f, WANT_FEATURES, true);
	assert_true(efd >= 0);
	assert_int_equal(vbt_vu_request(&f->c, VB_VU_SET_BACKEND_REQ_FD, NULL, 0, &efd, 1),
			 -EINVAL);
	assert_int_equal(vbt_vu_request(&f->c, VB_VU_SET_BACKEND_REQ_FD, NULL, 0, NULL, 0),
			 -EINVAL);
	close(efd);
	assert_int_equal(vbt_vu_set_backend_req(&f->c), 0);
	old = dup(f->c.backend_fd);
	/* A refused fd leaves the channel as it was. */
	efd = eventfd(0, EFD_CLOEXEC);
	assert_int_equal(vbt_vu_request(&f->c, VB_VU_SET_BACKEND_REQ_FD, NULL, 0, &efd, 1),
			 -EINVAL);
	close(efd);
	assert_false(fd_closed_within(old, 100));
	assert_int_equal(vbt_vu_set_backend_req(&f->c), 0);
	assert_true(fd_closed(old));
	close(old);

	stop_server_thread(f);
	assert_int_equal(demo_device_set_max_len(&f->model, 5), 0);
	assert_int_equal(vbt_vu_backend_recv(&f->c, &req, &flags, 2000), 0);
	assert_int_equal(req, VB_VU_BACKEND_CONFIG_CHANGE_MSG);
	assert_true(flags & VB_VU_FLAG_NEED_REPLY);
	/* The front-end reads config before it acks: the server answers meanwhile. */
	memset(&cs, 0, sizeof(cs));
	cs.offset = DEMO_CONFIG_MAX_LEN;
	cs.size = 4;
	assert_int_equal(vbt_vu_send(&f->c, VB_VU_GET_CONFIG, VB_VU_VERSION, &cs,
				     VB_VU_CONFIG_HDR_SIZE + 4, NULL, 0), 0);
	dispatch_some(f);
	assert_int_equal(vbt_vu_recv(&f->c, VB_VU_GET_CONFIG, &cs, sizeof(cs)),
			 VB_VU_CONFIG_HDR_SIZE + 4);
	assert_int_equal(cs.data[0], 5);
	assert_int_equal(vbt_vu_backend_ack(&f->c, req, 0), 0);
	dispatch_some(f);
	/* A failed ack is logged; the channel stays. */
	assert_int_equal(demo_device_set_max_len(&f->model, 6), 0);
	assert_int_equal(vbt_vu_backend_recv(&f->c, &req, &flags, 2000), 0);
	assert_int_equal(vbt_vu_backend_ack(&f->c, req, 1), 0);
	dispatch_some(f);
	assert_int_equal(demo_device_set_max_len(&f->model, 7), 0);
	assert_int_equal(vbt_vu_backend_recv(&f->c, &req, &flags, 2000), 0);
	/* A request (not a reply) on the channel breaks it: closed, no more messages. */
	hdr[0] = 1;
	hdr[4] = VB_VU_VERSION;
	assert_int_equal(send(f->c.backend_fd, hdr, sizeof(hdr), MSG_NOSIGNAL),
			 (ssize_t)sizeof(hdr));
	dispatch_some(f);
	assert_true(fd_closed(f->c.backend_fd));
	assert_int_equal(demo_device_set_max_len(&f->model, 8), 0);	/* no channel: fine */
	/* A new channel (no ack asked), then the front-end leaves: the channel closes. */
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
	assert_int_equal(vbt_vu_send(&f->c, VB_VU_SET_BACKEND_REQ_FD, VB_VU_VERSION, NULL, 0,
				     &sv[1], 1), 0);
	close(sv[1]);
	dispatch_some(f);
	close(f->c.sock);
	f->c.sock = -1;
	dispatch_some(f);
	assert_false(vb_vu_connected(f->s));
	assert_true(fd_closed(sv[0]));
	close(sv[0]);
}

/* Set the protocol features again without asking for an ack, and let the server see it. */
static void set_protocol_raw(struct fix *f, uint64_t p)
{
	assert_int_equal(vbt_vu_send(&f->c, VB_VU_SET_PROTOCOL_FEATURES, VB_VU_VERSION, &p,
				     sizeof(p), NULL, 0), 0);
	dispatch_some(f);
}

/* One BACKEND_VRING_HOST_NOTIFIER_MSG as the front-end receives it; acked with ack. */
static int recv_notifier(struct fix *f, struct vb_vu_vring_area *a, uint64_t ack)
{
	uint32_t req = 0, flags = 0, size = 0;
	int fd = -2;

	memset(a, 0xa5, sizeof(*a));
	assert_int_equal(vbt_vu_backend_recv_msg(&f->c, &req, &flags, a, sizeof(*a), &size, &fd,
						 2000), 0);
	assert_int_equal(req, VB_VU_BACKEND_VRING_HOST_NOTIFIER_MSG);
	assert_int_equal(size, sizeof(*a));
	assert_true(flags & VB_VU_FLAG_NEED_REPLY);
	assert_int_equal(vbt_vu_backend_ack(&f->c, req, ack), 0);
	dispatch_some(f);
	return fd;
}

/*
 * @verify{VB-REQ-VU-530} BACKEND_SEND_FD and HOST_NOTIFIER are offered; vb_vu_set_host_notifier()
 * sends BACKEND_VRING_HOST_NOTIFIER_MSG with the ring index, size and offset and the fd, which
 * the front-end receives and maps (it sees the page the back-end wrote), asking for an ack
 * (zero or not, read by dispatch); with fd -1 it withdraws the notifier (NOFD, no fd); it is
 * refused without a channel (-ENOTCONN), for a ring the device does not have, a zero size or
 * a wrapping area (-EINVAL), to pass an fd without BACKEND_SEND_FD and at all without
 * HOST_NOTIFIER (-ENOTSUP)
 */
static void test_vu_server__host_notifier(void **state)
{
	struct fix *f = *state;
	const uint64_t page = (uint64_t)sysconf(_SC_PAGESIZE);
	int mfd = memfd_create("vbt-notify", MFD_CLOEXEC), sv[2], fd;
	struct vb_vu_vring_area a;
	void *p;

	assert_true(mfd >= 0);
	assert_int_equal(ftruncate(mfd, (off_t)(2 * page)), 0);
	assert_int_equal(pwrite(mfd, "doorbell", 8, (off_t)page), 8);
	assert_int_equal(vb_vu_set_host_notifier(f->s, 0, mfd, page, page), -ENOTCONN);
	start_device(f, WANT_FEATURES, true);
	assert_true(f->c.protocol & P(BACKEND_SEND_FD));
	assert_true(f->c.protocol & P(HOST_NOTIFIER));
	stop_server_thread(f);
	assert_int_equal(vb_vu_set_host_notifier(f->s, 0, mfd, page, page), -ENOTCONN);
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
	assert_int_equal(vbt_vu_send(&f->c, VB_VU_SET_BACKEND_REQ_FD, VB_VU_VERSION, NULL, 0,
				     &sv[1], 1), 0);
	close(sv[1]);
	f->c.backend_fd = sv[0];
	dispatch_some(f);

	assert_int_equal(vb_vu_set_host_notifier(f->s, 1, mfd, page, page), -EINVAL);
	assert_int_equal(vb_vu_set_host_notifier(f->s, 0, mfd, page, 0), -EINVAL);
	assert_int_equal(vb_vu_set_host_notifier(f->s, 0, mfd, UINT64_MAX, page), -EINVAL);
	assert_int_equal(vb_vu_set_host_notifier(f->s, 0, mfd, page, page), 0);
	fd = recv_notifier(f, &a, 0);
	assert_true(fd >= 0);
	assert_int_equal(a.u64, 0);
	assert_int_equal(a.size, page);
	assert_int_equal(a.offset, page);
	p = mmap(NULL, (size_t)a.size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, (off_t)a.offset);
	assert_true(p != MAP_FAILED);
	assert_memory_equal(p, "doorbell", 8);
	munmap(p, (size_t)a.size);
	close(fd);
	/* A failed ack is read (and logged) all the same. */
	assert_int_equal(vb_vu_set_host_notifier(f->s, 0, mfd, 0, page), 0);
	fd = recv_notifier(f, &a, 1);
	assert_true(fd >= 0);
	assert_int_equal(a.offset, 0);
	close(fd);
	/* Withdrawn: NOFD and no fd. */
	assert_int_equal(vb_vu_set_host_notifier(f->s, 0, -1, 0, 0), 0);
	assert_int_equal(recv_notifier(f, &a, 0), -1);
	assert_int_equal(a.u64, VB_VU_VRING_NOFD);
	assert_int_equal(a.size, 0);

	/* Without BACKEND_SEND_FD no fd travels; without HOST_NOTIFIER nothing. */
	set_protocol_raw(f, f->c.protocol & ~P(BACKEND_SEND_FD));
	assert_int_equal(vb_vu_set_host_notifier(f->s, 0, mfd, page, page), -ENOTSUP);
	assert_int_equal(vb_vu_set_host_notifier(f->s, 0, -1, 0, 0), 0);
	assert_int_equal(recv_notifier(f, &a, 0), -1);
	set_protocol_raw(f, f->c.protocol & ~P(HOST_NOTIFIER));
	assert_int_equal(vb_vu_set_host_notifier(f->s, 0, -1, 0, 0), -ENOTSUP);
	assert_int_equal(vb_vu_set_host_notifier(f->s, 0, mfd, page, page), -ENOTSUP);
	close(mfd);
}

/* Accept the server's connection on lfd within 5 s as the client's socket. */
static void accept_client(struct fix *f, int lfd)
{
	struct pollfd p = { .fd = lfd, .events = POLLIN };

	assert_int_equal(poll(&p, 1, 5000), 1);
	f->c.sock = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
	assert_true(f->c.sock >= 0);
}

/*
 * @verify{VB-REQ-VU-510} client mode: vb_vu_connect() before the front-end listens keeps
 * retrying, connects once it does and serves; when the front-end drops the connection the
 * server connects again and serves the next session; bad arguments and mixing with listening
 * are refused
 */
static void test_vu_server__connect_mode(void **state)
{
	struct fix *f = *state;
	struct vb_vu_config cfg = {
		.version = VB_VU_CONFIG_V1,
		.protocol_features = VB_VU_PROTOCOL_FEATURES_SUPPORTED,
		.ops = &demo_device_ops,
		.priv = &f->model,
		.log = quiet_log,
	};
	char path[160], longp[200];
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int lfd;

	/* The fixture's server listens: no client mode for it. */
	assert_int_equal(vb_vu_connect(f->s, f->path), -EINVAL);
	vbt_vu_client_fini(&f->c);
	stop_server_thread(f);
	vb_vu_server_free(f->s);
	/* A client-mode server of the same model, run by the fixture's thread. */
	assert_int_equal(vb_vu_server_new(&cfg, &f->s), 0);
	f->model.dev = vb_vu_dev(f->s);
	memset(longp, 'x', sizeof(longp) - 1);
	longp[sizeof(longp) - 1] = '\0';
	assert_int_equal(vb_vu_connect(f->s, longp), -EINVAL);
	assert_int_equal(vb_vu_connect(f->s, ""), -EINVAL);
	snprintf(path, sizeof(path), "%s/fe", f->dir);
	assert_int_equal(vb_vu_connect(f->s, path), 0);		/* nobody listens: retrying */
	assert_int_equal(vb_vu_connect(f->s, path), -EINVAL);	/* once */
	assert_int_equal(vb_vu_listen(f->s, f->path), -EINVAL);		/* not both */
	f->stop = 0;
	f->joined = false;
	assert_int_equal(pthread_create(&f->th, NULL, server_main, f), 0);
	usleep(150000);
	lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	assert_true(lfd >= 0);
	memcpy(sa.sun_path, path, strlen(path));
	assert_int_equal(bind(lfd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(listen(lfd, 4), 0);

	assert_int_equal(vbt_vu_client_init(&f->c, GUEST_GPA, GUEST_SIZE), 0);
	accept_client(f, lfd);
	start_device(f, WANT_FEATURES, true);
	round_trip(f, "one", "ONE", false);
	/* The front-end leaves; the server dials again. */
	vbt_vu_client_fini(&f->c);
	f->bufs = false;
	f->slot = 0;
	assert_int_equal(vbt_vu_client_init(&f->c, GUEST_GPA, GUEST_SIZE), 0);
	accept_client(f, lfd);
	start_device(f, WANT_FEATURES, true);
	round_trip(f, "two", "TWO", false);
	WAIT_FOR(stats(f).connections == 2);
	close(lfd);
	unlink(path);
}

/* @verify{VB-REQ-VU-500} SET_BACKEND_REQ_FD without BACKEND_REQ negotiated is refused */
static void test_vu_server__backend_req_not_negotiated(void **state)
{
	struct fix *f = *state;

	assert_int_equal(vbt_vu_negotiate(&f->c, WANT_FEATURES, WANT_PROTOCOL & ~P(BACKEND_REQ),
					  true), 0);
	assert_int_equal(vbt_vu_set_backend_req(&f->c), -EPROTO);
	assert_int_equal(f->c.backend_fd, -1);
	assert_true(stats(f).refused >= 1);
}

/* @verify{VB-REQ-VU-016} RESET_DEVICE stops every ring and forgets features; the front-end
 * can set the device up again */
static void test_vu_server__reset_device(void **state)
{
	struct fix *f = *state;
	uint32_t base;
	unsigned long resets;

	start_device(f, WANT_FEATURES, true);
	round_trip(f, "r", "R", false);
	resets = f->model.resets;
	assert_int_equal(vbt_vu_request(&f->c, VB_VU_RESET_DEVICE, NULL, 0, NULL, 0), 0);
	assert_true(f->model.resets == resets + 1);
	assert_int_equal(vb_dev_get_status(vb_vu_dev(f->s)), 0);
	(void)post(f, "nobody", false);
	expect_no_service(f);
	assert_int_equal(vbt_vu_get_vring_base(&f->c, 0, &base), 0);
	assert_int_equal(base, 0);
	/* Set up again from scratch (memory stays) and serve. */
	assert_int_equal(vbt_vu_set_u64(&f->c, VB_VU_SET_FEATURES, f->c.features), 0);
	f->c.vq[0].set = false;
	f->slot = 0;
	assert_int_equal(vbt_vu_setup_vq(&f->c, 0, QSZ, 0), 0);
	round_trip(f, "again", "AGAIN", false);
}

/* @verify{VB-REQ-VU-012} @verify{VB-REQ-VU-400} GET_FEATURES offers bit 30, LOG_ALL (with
 * LOG_SHMFD) and no IOMMU; SET_FEATURES may repeat the same features while rings run, and set
 * or clear LOG_ALL, but not change them */
static void test_vu_server__features(void **state)
{
	struct fix *f = *state;
	uint64_t v;

	assert_int_equal(vbt_vu_get_u64(&f->c, VB_VU_GET_FEATURES, &v), 0);
	assert_true(v & VB_BIT(VB_VU_F_PROTOCOL_FEATURES));
	assert_true(v & VB_BIT(VB_VIRTIO_F_VERSION_1));
	assert_false(v & VB_BIT(VB_VIRTIO_F_ACCESS_PLATFORM));
	assert_true(v & VB_BIT(VB_VU_F_LOG_ALL));	/* offered with LOG_SHMFD */
	start_device(f, WANT_FEATURES, true);
	assert_int_equal(vbt_vu_set_u64(&f->c, VB_VU_SET_FEATURES, f->c.features), 0);
	round_trip(f, "same", "SAME", false);
	assert_int_equal(vbt_vu_set_u64(&f->c, VB_VU_SET_FEATURES,
					f->c.features & ~VB_BIT(VB_VIRTIO_F_INDIRECT_DESC)),
			 -EBUSY);
	/* LOG_ALL comes and goes while the rings run (migration) */
	assert_int_equal(vbt_vu_set_u64(&f->c, VB_VU_SET_FEATURES,
					f->c.features | VB_BIT(VB_VU_F_LOG_ALL)), 0);
	assert_int_equal(vbt_vu_set_u64(&f->c, VB_VU_SET_FEATURES, f->c.features), 0);
	round_trip(f, "still", "STILL", true);
	/* Stopped: a change renegotiates. */
	{
		uint32_t base;

		assert_int_equal(vbt_vu_get_vring_base(&f->c, 0, &base), 0);
	}
	assert_int_equal(vbt_vu_set_u64(&f->c, VB_VU_SET_FEATURES,
					VB_BIT(VB_VIRTIO_F_VERSION_1) |
					VB_BIT(VB_VU_F_PROTOCOL_FEATURES)), 0);
	assert_false(vb_dev_has_feature(vb_vu_dev(f->s), VB_VIRTIO_F_INDIRECT_DESC));
}

/* @verify{VB-REQ-VU-001} bad configurations are refused; the server masks protocol
 * features to what it supports and owns a device until it is freed */
static void test_vu_server__new_argument_checks(void **state)
{
	static const struct vb_device_ops no_queues = { .version = VB_DEVICE_OPS_V1 };
	struct vb_device_ops many = demo_device_ops;
	struct vb_device_ops no_kick = demo_device_ops;
	struct vb_vu_config cfg = {
		.version = VB_VU_CONFIG_V1,
		.protocol_features = ~(uint64_t)0,
		.ops = &demo_device_ops,
	};
	struct vb_vu_server *s = NULL;
	struct vb_vu_config bad;
	struct demo_device model;

	(void)state;
	demo_device_init(&model);
	cfg.priv = &model;
	many.num_queues = 257;
	no_kick.kick = NULL;
	assert_int_equal(vb_vu_server_new(NULL, &s), -EINVAL);
	assert_int_equal(vb_vu_server_new(&cfg, NULL), -EINVAL);
	bad = cfg;
	bad.version = 0;
	assert_int_equal(vb_vu_server_new(&bad, &s), -EINVAL);
	bad = cfg;
	bad.ops = NULL;
	assert_int_equal(vb_vu_server_new(&bad, &s), -EINVAL);
	bad.ops = &no_queues;
	assert_int_equal(vb_vu_server_new(&bad, &s), -EINVAL);
	bad.ops = &many;
	assert_int_equal(vb_vu_server_new(&bad, &s), -EINVAL);
	bad.ops = &no_kick;
	assert_int_equal(vb_vu_server_new(&bad, &s), -EINVAL);
	bad = cfg;
	bad.max_mem_slots = 7;
	assert_int_equal(vb_vu_server_new(&bad, &s), -EINVAL);
	bad.max_mem_slots = VB_VU_MAX_MEM_SLOTS + 1;
	assert_int_equal(vb_vu_server_new(&bad, &s), -EINVAL);
	assert_null(s);
	assert_int_equal(vb_vu_server_new(&cfg, &s), 0);
	assert_non_null(vb_vu_dev(s));
	assert_false(vb_vu_connected(s));
	assert_true(vb_vu_fd(s) >= 0);
	assert_int_equal(vb_vu_listen(s, "/nonexistent-dir/sock"), -ENOENT);
	assert_int_equal(vb_vu_attach_fd(s, -1), -EINVAL);
	assert_int_equal(vb_vu_dispatch(s), 0);
	assert_false(vb_dev_get_features(vb_vu_dev(s)) & VB_BIT(VB_VIRTIO_F_ACCESS_PLATFORM));
	vb_vu_server_free(s);
	vb_vu_server_free(NULL);
}

/* @verify{VB-REQ-VU-006} a packed ring: served across wrap-arounds, GET_VRING_BASE replies
 * QEMU's encoding of both positions and wrap counters, and a restart from it carries on */
static void test_vu_server__packed_ring(void **state)
{
	struct fix *f = *state;
	struct vbt_packed *pr = calloc(1, sizeof(*pr));
	const uint16_t num = 5;
	uint64_t req, resp;
	uint32_t base, want;

	assert_non_null(pr);
	assert_int_equal(vbt_vu_negotiate(&f->c, WANT_FEATURES | VB_BIT(VB_VIRTIO_F_RING_PACKED),
					  WANT_PROTOCOL, true), 0);
	assert_true(f->c.features & VB_BIT(VB_VIRTIO_F_RING_PACKED));
	assert_int_equal(vbt_vu_set_mem_table(&f->c), 0);
	vbt_packed_init(pr, &f->c.g, num);
	req = vbt_guest_alloc(&f->c.g, BUF_LEN, 8);
	resp = vbt_guest_alloc(&f->c.g, BUF_LEN, 8);
	/* QEMU starts a packed ring at slot 0 with the wrap counter set. */
	assert_int_equal(vbt_vu_setup_vq_at(&f->c, 0, num, 1u << 15, pr->desc_gpa,
					    pr->driver_gpa, pr->device_gpa), 0);
	for (unsigned int i = 0; i < 7; i++) {
		struct vbt_buf b[2] = { { req, 6, false }, { resp, BUF_LEN, true } };
		uint16_t id;
		uint32_t len;
		int got = 0;

		memcpy(vbt_guest_ptr(&f->c.g, req), "packed", 6);
		if (i == 4) {
			/* Stop and restart at the position the back-end reports. */
			assert_int_equal(vbt_vu_get_vring_base(&f->c, 0, &base), 0);
			want = (uint32_t)pr->next_avail | (uint32_t)pr->avail_wrap << 15 |
			       (uint32_t)pr->next_used << 16 | (uint32_t)pr->used_wrap << 31;
			assert_int_equal(base, want);
			assert_int_equal(vbt_vu_setup_vq_at(&f->c, 0, num, base, pr->desc_gpa,
							    pr->driver_gpa, pr->device_gpa), 0);
		}
		assert_true(vbt_packed_add(pr, b, 2, i & 1) >= 0);
		assert_int_equal(vbt_vu_kick(&f->c, 0), 0);
		for (int w = 0; w < 50 && got == 0; w++) {
			(void)vbt_vu_wait_call(&f->c, 0, 100);
			got = vbt_packed_get_used(pr, &id, &len, NULL);
		}
		assert_int_equal(got, 1);
		assert_int_equal(len, 6);
		assert_memory_equal(vbt_guest_ptr(&f->c.g, resp), "PACKED", 6);
	}
	assert_int_equal(f->model.served, 7);
	free(pr);
}

/* One echo request on a packed ring; the used descriptor's id is returned. */
static uint16_t packed_echo(struct fix *f, struct vbt_packed *pr, uint64_t req, uint64_t resp)
{
	struct vbt_buf b[2] = { { req, 6, false }, { resp, BUF_LEN, true } };
	uint16_t id = 0xffff;
	int got = 0, want;

	memcpy(vbt_guest_ptr(&f->c.g, req), "packed", 6);
	want = vbt_packed_add(pr, b, 2, false);
	assert_true(want >= 0);
	assert_int_equal(vbt_vu_kick(&f->c, 0), 0);
	for (int w = 0; w < 50 && got == 0; w++) {
		(void)vbt_vu_wait_call(&f->c, 0, 100);
		got = vbt_packed_get_used(pr, &id, NULL, NULL);
	}
	assert_int_equal(got, 1);
	assert_int_equal(id, want);
	return id;
}

/* A packed ring of 8 (laid out anew, or pr as it is) started over the inflight memory in
 * memfd mfd (one queue of 8). */
static void packed_over_record_at(struct fix *f, struct vbt_packed *pr, int mfd, bool fresh)
{
	struct vb_vu_inflight in = { 4096, 0, 1, 8, 0 };

	assert_int_equal(vbt_vu_negotiate(&f->c, WANT_FEATURES | VB_BIT(VB_VIRTIO_F_RING_PACKED),
					  WANT_PROTOCOL, true), 0);
	assert_int_equal(vbt_vu_set_inflight(&f->c, &in, mfd), 0);
	assert_int_equal(vbt_vu_set_mem_table(&f->c), 0);
	if (fresh)
		vbt_packed_init(pr, &f->c.g, 8);
	assert_int_equal(vbt_vu_setup_vq_at(&f->c, 0, 8, 1u << 15, pr->desc_gpa,
					    pr->driver_gpa, pr->device_gpa), 0);
}

static void packed_over_record(struct fix *f, struct vbt_packed *pr, int mfd)
{
	packed_over_record_at(f, pr, mfd, true);
}

/*
 * @verify{VB-REQ-VU-305} @verify{VB-REQ-VU-306} a packed ring over fresh inflight memory gets
 * a version-1 record of the queue size with the position set; after each request the record
 * is committed (used_idx = old_used_idx past the chain's slots, free_head = old_free_head,
 * the head entry not inflight) and its entries hold copies of the chain's descriptors; a
 * record with an entry index out of range, or another queue size, leaves the ring untracked
 * (requests still served, the record untouched)
 */
static void test_vu_server__packed_inflight_record(void **state)
{
	struct fix *f = *state;
	struct vbt_packed *pr = calloc(1, sizeof(*pr));
	int mfd = memfd_create("vbt-infl", MFD_CLOEXEC);
	struct vb_vu_inflight_packed *ip;
	struct vb_vu_inflight_desc_packed *d;
	uint64_t req, resp;
	uint16_t id;

	assert_non_null(pr);
	assert_true(mfd >= 0);
	assert_int_equal(ftruncate(mfd, 4096), 0);
	ip = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, mfd, 0);
	assert_true(ip != MAP_FAILED);
	d = (struct vb_vu_inflight_desc_packed *)(ip + 1);
	packed_over_record(f, pr, mfd);
	req = vbt_guest_alloc(&f->c.g, BUF_LEN, 8);
	resp = vbt_guest_alloc(&f->c.g, BUF_LEN, 8);
	assert_int_equal(ip->version, 1);
	assert_int_equal(ip->desc_num, 8);
	assert_int_equal(ip->used_idx, 0);
	assert_int_equal(ip->used_wrap_counter, 1);
	id = packed_echo(f, pr, req, resp);
	assert_int_equal(ip->used_idx, 2);
	assert_int_equal(ip->old_used_idx, 2);
	assert_int_equal(ip->old_used_wrap_counter, 1);
	assert_int_equal(ip->free_head, ip->old_free_head);
	assert_int_equal(ip->free_head, 0);	/* the chain's entries came back first */
	assert_int_equal(d[0].inflight, 0);
	assert_int_equal(d[0].num, 2);
	assert_int_equal(d[0].last, 1);
	assert_int_equal(d[0].addr, req);
	assert_int_equal(d[0].len, 6);
	assert_int_equal(d[1].addr, resp);
	assert_int_equal(d[1].id, id);
	assert_true(d[1].flags & VB_VRING_DESC_F_WRITE);
	for (unsigned int i = 0; i < 5; i++)	/* across the ring's end: wrap counter 0 */
		(void)packed_echo(f, pr, req, resp);
	assert_int_equal(ip->used_idx, 4);
	assert_int_equal(ip->used_wrap_counter, 0);
	assert_int_equal(ip->old_used_wrap_counter, 0);
	for (unsigned int e = 0; e < 8; e++)
		assert_int_equal(d[e].inflight, 0);

	/* An entry index out of range: served untracked, the record left as it is. */
	vbt_vu_disconnect(&f->c);
	assert_int_equal(vbt_vu_connect(&f->c, f->path), 0);
	memset(ip, 0, 4096);
	ip->version = 1;
	ip->desc_num = 8;
	ip->free_head = ip->old_free_head = 200;
	ip->used_wrap_counter = ip->old_used_wrap_counter = 1;
	packed_over_record(f, pr, mfd);
	(void)packed_echo(f, pr, req, resp);
	assert_int_equal(ip->free_head, 200);
	assert_int_equal(ip->used_idx, 0);
	/* Another queue size: not understood, untracked. */
	vbt_vu_disconnect(&f->c);
	assert_int_equal(vbt_vu_connect(&f->c, f->path), 0);
	ip->free_head = ip->old_free_head = 0;
	ip->desc_num = 4;
	packed_over_record(f, pr, mfd);
	(void)packed_echo(f, pr, req, resp);
	assert_int_equal(ip->used_idx, 0);
	assert_int_equal(ip->desc_num, 4);
	munmap(ip, 4096);
	close(mfd);
	free(pr);
}

/* Record entries e, e + 1 as the back-end keeps a popped chain of a request and a response
 * with buffer id id, popped counter-th. */
static void record_chain(struct vb_vu_inflight_desc_packed *d, uint16_t e, uint64_t counter,
			 uint64_t req, uint64_t resp, uint16_t id)
{
	d[e].inflight = 1;
	d[e].num = 2;
	d[e].last = (uint16_t)(e + 1);
	d[e].counter = counter;
	d[e].next = (uint16_t)(e + 1);
	d[e].addr = req;
	d[e].len = 6;
	d[e].flags = VB_VRING_DESC_F_NEXT;
	d[e].id = 0;
	d[e + 1].next = (uint16_t)(e + 2);
	d[e + 1].addr = resp;
	d[e + 1].len = BUF_LEN;
	d[e + 1].flags = VB_VRING_DESC_F_WRITE;
	d[e + 1].id = id;
}

/*
 * One crash, as the record and the ring show it: after one request (slots 0-1) the back-end
 * popped B (slots 2-3, entries 0-1) and C (slots 4-5, entries 2-3) and died pushing B: with
 * written set, after B's used descriptor was written, else before. The restarted back-end,
 * given the stale ring base, must serve C again and B only if its used descriptor was not
 * written; every id comes back exactly once, in slot order.
 */
static void packed_crash_case(struct fix *f, bool written)
{
	struct vbt_packed *pr = calloc(1, sizeof(*pr));
	int mfd = memfd_create("vbt-infl", MFD_CLOEXEC);
	struct vb_vu_inflight_packed *ip;
	struct vb_vu_inflight_desc_packed *d;
	uint64_t req[3], resp[3];
	struct vbt_buf b[2];
	int ids[2];
	uint16_t id;
	int got;
	unsigned long served;

	assert_non_null(pr);
	assert_true(mfd >= 0);
	assert_int_equal(ftruncate(mfd, 4096), 0);
	ip = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, mfd, 0);
	assert_true(ip != MAP_FAILED);
	d = (struct vb_vu_inflight_desc_packed *)(ip + 1);
	packed_over_record(f, pr, mfd);
	for (unsigned int i = 0; i < 3; i++) {
		req[i] = vbt_guest_alloc(&f->c.g, BUF_LEN, 8);
		resp[i] = vbt_guest_alloc(&f->c.g, BUF_LEN, 8);
		memcpy(vbt_guest_ptr(&f->c.g, req[i]), "packed", 6);
	}
	(void)packed_echo(f, pr, req[0], resp[0]);
	assert_int_equal(ip->used_idx, 2);
	vbt_vu_disconnect(&f->c);
	/* B and C made available (not kicked: the back-end is gone). */
	for (unsigned int i = 0; i < 2; i++) {
		b[0] = (struct vbt_buf){ req[1 + i], 6, false };
		b[1] = (struct vbt_buf){ resp[1 + i], BUF_LEN, true };
		ids[i] = vbt_packed_add(pr, b, 2, false);
		assert_true(ids[i] >= 0);
	}
	/* What the dead back-end left: both popped, B's push in progress. */
	record_chain(d, 0, 7, req[1], resp[1], (uint16_t)ids[0]);
	record_chain(d, 2, 8, req[2], resp[2], (uint16_t)ids[1]);
	d[1].next = 4;			/* B's entries back on the free list ... */
	ip->free_head = 0;
	ip->old_free_head = 4;
	ip->used_idx = 4;		/* ... and used_idx past its slots */
	ip->old_used_idx = 2;
	ip->used_wrap_counter = ip->old_used_wrap_counter = 1;
	if (written)
		vbt_packed_put_desc(pr, 2, 0, 0, (uint16_t)ids[0],
				    VBT_PACKED_F_AVAIL | VBT_PACKED_F_USED);

	served = f->model.served;
	assert_int_equal(vbt_vu_connect(&f->c, f->path), 0);
	packed_over_record_at(f, pr, mfd, false);	/* the same ring, the stale base */
	if (written) {
		assert_int_equal(vbt_packed_get_used(pr, &id, NULL, NULL), 1);
		assert_int_equal(id, ids[0]);
	}
	for (unsigned int i = written ? 1 : 0; i < 2; i++) {
		got = 0;
		for (int w = 0; w < 50 && got == 0; w++) {
			(void)vbt_vu_wait_call(&f->c, 0, 100);
			got = vbt_packed_get_used(pr, &id, NULL, NULL);
		}
		assert_int_equal(got, 1);
		assert_int_equal(id, ids[i]);
		assert_memory_equal(vbt_guest_ptr(&f->c.g, resp[1 + i]), "PACKED", 6);
	}
	(void)vbt_vu_wait_call(&f->c, 0, QUIET_MS);
	assert_int_equal(vbt_packed_get_used(pr, NULL, NULL, NULL), 0);
	/* A committed push is not served again. */
	assert_int_equal(f->model.served - served, written ? 1 : 2);
	assert_int_equal(ip->used_idx, 6);
	assert_int_equal(ip->old_used_idx, 6);
	for (unsigned int e = 0; e < 8; e++)
		assert_int_equal(d[e].inflight, 0);
	/* And on from there. */
	(void)packed_echo(f, pr, req[0], resp[0]);
	vbt_vu_disconnect(&f->c);
	assert_int_equal(vbt_vu_connect(&f->c, f->path), 0);
	munmap(ip, 4096);
	close(mfd);
	free(pr);
}

/*
 * @verify{VB-REQ-VU-306} recovery settles a push in progress: rolled back when the used
 * descriptor at old_used_idx was not written (both chains served again, in pop order),
 * committed when it was (only the other chain served again); the ring position comes from
 * the record, not from the stale SET_VRING_BASE
 */
static void test_vu_server__packed_inflight_settle(void **state)
{
	struct fix *f = *state;

	packed_crash_case(f, false);
	packed_crash_case(f, true);
}

/* @verify{VB-REQ-VU-017} @verify{VB-REQ-VU-004} two queues: GET_QUEUE_NUM reports them, each
 * ring is served on its own kick, and a third index is refused */
static void test_vu_server__two_queues(void **state)
{
	struct fix *f = *state;
	uint64_t nq;

	assert_int_equal(vbt_vu_negotiate(&f->c, WANT_FEATURES, WANT_PROTOCOL, true), 0);
	assert_int_equal(vbt_vu_get_u64(&f->c, VB_VU_GET_QUEUE_NUM, &nq), 0);
	assert_true(nq == 2);
	assert_int_equal(vbt_vu_set_mem_table(&f->c), 0);
	assert_int_equal(vbt_vu_setup_vq(&f->c, 0, QSZ, 0), 0);
	assert_int_equal(vbt_vu_setup_vq(&f->c, 1, QSZ, 0), 0);
	assert_int_equal(vbt_vu_vring_state(&f->c, VB_VU_SET_VRING_NUM, 2, QSZ), -EINVAL);
	for (uint16_t q = 0; q < 2; q++) {
		uint64_t req = vbt_guest_alloc(&f->c.g, BUF_LEN, 8);
		uint64_t resp = vbt_guest_alloc(&f->c.g, BUF_LEN, 8);
		struct vbt_buf b[2] = { { req, 5, false }, { resp, BUF_LEN, true } };
		struct vbt_split *r = &f->c.vq[q].r;
		uint32_t id, len;
		uint16_t head;

		memcpy(vbt_guest_ptr(&f->c.g, req), q ? "queue" : "first", 5);
		head = vbt_split_add(r, b, 2, false);
		assert_int_equal(vbt_vu_kick(&f->c, q), 0);
		for (int w = 0; w < 50 && vbt_split_used_idx(r) == r->last_used; w++)
			(void)vbt_vu_wait_call(&f->c, q, 100);
		assert_int_equal(vbt_split_get_used(r, &id, &len), 1);
		assert_int_equal(id, head);
		assert_memory_equal(vbt_guest_ptr(&f->c.g, resp), q ? "QUEUE" : "FIRST", 5);
	}
	assert_int_equal(f->model.served, 2);
}

/* @verify{VB-REQ-VU-006} @verify{VB-REQ-VU-008} a ring the driver breaks signals its err
 * eventfd and shows NEEDS_RESET; set up again, it is served */
static void test_vu_server__broken_ring_restart(void **state)
{
	struct fix *f = *state;
	struct vbt_split *r = &f->c.vq[0].r;
	int err_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	uint64_t v = 0;
	uint32_t base, id, len;
	uint16_t head;
	unsigned int i;

	start_device(f, WANT_FEATURES, true);
	assert_int_equal(vbt_vu_request(&f->c, VB_VU_SET_VRING_ERR, &(uint64_t){ 0 }, 8, &err_fd,
					1), 0);
	round_trip(f, "ok", "OK", false);
	/* A head index beyond the ring (virtio 1.2, 2.7.13.1): the ring breaks. */
	vbt_split_publish(r, 100);
	assert_int_equal(vbt_vu_kick(&f->c, 0), 0);
	for (int w = 0; w < 500 && read(err_fd, &v, sizeof(v)) != (ssize_t)sizeof(v); w++)
		usleep(10000);
	assert_true(v >= 1);
	assert_int_equal(vbt_vu_get_u64(&f->c, VB_VU_GET_STATUS, &v), 0);
	assert_true(v & VB_VIRTIO_S_NEEDS_RESET);
	assert_int_equal(vbt_vu_get_vring_base(&f->c, 0, &base), 0);
	assert_int_equal(base, 1);
	/* The driver repairs the entry and restarts the ring where it stopped. */
	i = f->slot++ % QSZ;
	memcpy(vbt_guest_ptr(&f->c.g, f->req[i]), "fixed", 5);
	{
		struct vbt_buf b[2] = { { f->req[i], 5, false }, { f->resp[i], BUF_LEN, true } };

		head = vbt_split_write_chain(r, b, 2, false);
	}
	r->avail_ring[base % QSZ] = vb_cpu_to_le16(head);
	assert_int_equal(vbt_vu_setup_vq(&f->c, 0, QSZ, (uint16_t)base), 0);
	r->avail_idx = (uint16_t)(base + 1);
	wait_used(f);
	assert_int_equal(vbt_split_get_used(r, &id, &len), 1);
	assert_int_equal(id, head);
	assert_memory_equal(vbt_guest_ptr(&f->c.g, f->resp[i]), "FIXED", 5);
	round_trip(f, "after", "AFTER", false);
	close(err_fd);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_vu_server__new_argument_checks),
		cmocka_unit_test_setup_teardown(test_vu_server__packed_ring, setup_packed, teardown),
		cmocka_unit_test_setup_teardown(test_vu_server__host_notifier, setup, teardown),
		cmocka_unit_test_setup_teardown(test_vu_server__packed_inflight_record, setup_packed,
						teardown),
		cmocka_unit_test_setup_teardown(test_vu_server__packed_inflight_settle, setup_packed,
						teardown),
		cmocka_unit_test_setup_teardown(test_vu_server__two_queues, setup_mq, teardown),
		cmocka_unit_test_setup_teardown(test_vu_server__echo_round_trip, setup, teardown),
		cmocka_unit_test_setup_teardown(test_vu_server__event_idx, setup, teardown),
		cmocka_unit_test_setup_teardown(test_vu_server__no_protocol_features, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_vu_server__ring_enable, setup, teardown),
		cmocka_unit_test_setup_teardown(test_vu_server__vring_base_stop_restart, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_vu_server__hostile_messages_refused, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_vu_server__wrong_state_refused, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_vu_server__closing_errors_and_next_connection,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_vu_server__disconnect_releases_everything,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_vu_server__mem_slots, setup, teardown),
		cmocka_unit_test_setup_teardown(test_vu_server__status, setup, teardown),
		cmocka_unit_test_setup_teardown(test_vu_server__broken_ring_restart, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_vu_server__reset_device, setup, teardown),
		cmocka_unit_test_setup_teardown(test_vu_server__backend_config_change, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_vu_server__backend_req_not_negotiated, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_vu_server__connect_mode, setup, teardown),
		cmocka_unit_test_setup_teardown(test_vu_server__features, setup, teardown),
	};

	packed_ops = demo_device_ops;
	packed_ops.features |= VB_BIT(VB_VIRTIO_F_RING_PACKED);
	mq_ops = demo_device_ops;
	mq_ops.num_queues = 2;
	return cmocka_run_group_tests_name("vu-server", tests, NULL, NULL);
}
