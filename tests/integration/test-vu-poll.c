/* SPDX-License-Identifier: MIT */
/*
 * Busy polling of the vhost-user server (vb_vu_set_poll()): the demo-echo device model
 * (examples/demo-device.c) behind vb_vu_run() on a server thread, driven by the driver-side
 * client of tests/support/vbt-vu-client.c. While a poll window is open the server serves
 * buffers nobody kicked for, with the ring's kicks turned off; after a window without
 * progress it turns them back on, serves kicks again and stops using the CPU.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include "virtio-backend.h"
#include "virtio-backend/transports/vhost-user.h"
#include "vbt-vu-client.h"
#include "../../examples/demo-device.h"

#define GUEST_GPA	0x40000000u
#define GUEST_SIZE	(1u << 20)
#define QSZ		8u
#define BUF_LEN		64u
/* Long enough that a loaded machine does not end a window between two steps of a test. */
#define WINDOW_US	300000u

#define FEATURES	(VB_BIT(VB_VIRTIO_F_VERSION_1) | VB_BIT(VB_VIRTIO_F_INDIRECT_DESC))

struct fix {
	struct vb_vu_server	*s;
	struct demo_device	model;
	pthread_t		th;
	volatile int		stop;
	char			dir[64];
	char			path[128];
	struct vbt_vu_client	c;
	uint64_t		req[QSZ], resp[QSZ];
	unsigned int		slot;
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

static int setup_poll(void **state, uint32_t usecs)
{
	struct fix *f = calloc(1, sizeof(*f));
	struct vb_vu_config cfg = {
		.version = VB_VU_CONFIG_V1,
		.protocol_features = VB_VU_PROTOCOL_FEATURES_SUPPORTED,
		.ops = &demo_device_ops,
		.log = quiet_log,
	};

	assert_non_null(f);
	demo_device_init(&f->model);
	cfg.priv = &f->model;
	assert_int_equal(vb_vu_server_new(&cfg, &f->s), 0);
	f->model.dev = vb_vu_dev(f->s);
	/* Before the server thread runs: the owner thread sets it. */
	assert_int_equal(vb_vu_set_poll(f->s, usecs), 0);
	snprintf(f->dir, sizeof(f->dir), "/tmp/vbt-vup-XXXXXX");
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
	return setup_poll(state, WINDOW_US);
}

static int teardown(void **state)
{
	struct fix *f = *state;

	vbt_vu_client_fini(&f->c);
	f->stop = 1;
	pthread_join(f->th, NULL);
	vb_vu_server_free(f->s);
	rmdir(f->dir);
	free(f);
	return 0;
}

static uint64_t kicks(struct fix *f)
{
	struct vb_vu_stats st;

	vb_vu_get_stats(f->s, &st);
	return st.kicks;
}

static void start_device(struct fix *f, uint64_t features)
{
	assert_int_equal(vbt_vu_negotiate(&f->c, features, VB_VU_PROTOCOL_FEATURES_SUPPORTED,
					  true), 0);
	assert_int_equal(vbt_vu_set_mem_table(&f->c), 0);
	assert_int_equal(vbt_vu_setup_vq(&f->c, 0, QSZ, 0), 0);
	for (unsigned int i = 0; i < QSZ; i++) {
		f->req[i] = vbt_guest_alloc(&f->c.g, BUF_LEN, 8);
		f->resp[i] = vbt_guest_alloc(&f->c.g, BUF_LEN, 8);
	}
}

/* Post one "abc" request (not kicked). */
static void post(struct fix *f)
{
	unsigned int i = f->slot++ % QSZ;
	struct vbt_buf b[2] = {
		{ f->req[i], 3, false },
		{ f->resp[i], BUF_LEN, true },
	};

	memcpy(vbt_guest_ptr(&f->c.g, f->req[i]), "abc", 3);
	(void)vbt_split_add(&f->c.vq[0].r, b, 2, false);
}

/* Wait up to ms for the next used element, and take it. */
static bool got_used(struct fix *f, int ms)
{
	struct vbt_split *r = &f->c.vq[0].r;
	uint32_t id, len;

	for (int i = 0; i < ms && vbt_split_used_idx(r) == r->last_used; i++)
		usleep(1000);
	return vbt_split_get_used(r, &id, &len) == 1 && len == 3;
}

/* Wait (up to 5 s) for the server thread to reach a condition. */
#define WAIT_FOR(cond) do { \
		for (int w_ = 0; w_ < 500 && !(cond); w_++) \
			usleep(10000); \
		assert_true(cond); \
	} while (0)

static double thread_cpu_s(pthread_t th)
{
	clockid_t id;
	struct timespec ts;

	assert_int_equal(pthread_getcpuclockid(th, &id), 0);
	assert_int_equal(clock_gettime(id, &ts), 0);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/*
 * @verify{VB-REQ-VU-520} after a kicked request the server polls: the ring says "do not
 * kick" (virtio 1.2, 2.7.10 "Available Buffer Notification Suppression") and a request
 * posted without a kick is served; after a window without progress kicks are asked for
 * again, the server thread stops using the CPU, and a kicked request is served again.
 */
static void test_vu_poll__serves_unkicked_then_sleeps(void **state)
{
	struct fix *f = *state;
	double cpu0, cpu1;
	uint64_t k0;

	start_device(f, FEATURES);
	assert_false(vbt_split_device_no_notify(&f->c.vq[0].r));
	post(f);
	assert_int_equal(vbt_vu_kick(&f->c, 0), 0);
	assert_true(got_used(f, 5000));
	/* The window is open: kicks are off, and unkicked requests are served. */
	WAIT_FOR(vbt_split_device_no_notify(&f->c.vq[0].r));
	k0 = kicks(f);
	for (int i = 0; i < 20; i++) {
		post(f);
		assert_true(got_used(f, 5000));
	}
	assert_true(kicks(f) == k0);
	assert_int_equal(f->model.served, 21);

	/* Idle: the window ends, kicks are asked for again, the thread sleeps. */
	WAIT_FOR(!vbt_split_device_no_notify(&f->c.vq[0].r));
	usleep(20000);
	cpu0 = thread_cpu_s(f->th);
	usleep(300000);
	cpu1 = thread_cpu_s(f->th);
	assert_true(cpu1 - cpu0 < 0.1);

	/* Asleep, a kick is still needed and still served. */
	post(f);
	assert_false(got_used(f, 100));
	assert_int_equal(vbt_vu_kick(&f->c, 0), 0);
	assert_true(got_used(f, 5000));
	assert_int_equal(f->model.served, 22);
}

/* @verify{VB-REQ-VU-520} with EVENT_IDX (kicks held off by a stale avail_event), requests
 * keep being served in a window whether kicked or not, and kicks still reach the device */
static void test_vu_poll__event_idx_kicks_and_polls(void **state)
{
	struct fix *f = *state;

	start_device(f, FEATURES | VB_BIT(VB_VIRTIO_F_EVENT_IDX));
	for (int i = 0; i < 3 * (int)QSZ; i++) {
		post(f);
		if (i % 3 == 0)
			assert_int_equal(vbt_vu_kick(&f->c, 0), 0);
		assert_true(got_used(f, 5000));
	}
	assert_int_equal(f->model.served, 3 * QSZ);
	/* After the window, avail_event follows the ring again: the driver must kick. */
	WAIT_FOR(vbt_split_avail_event(&f->c.vq[0].r) == f->c.vq[0].r.avail_idx);
	post(f);
	assert_int_equal(vbt_vu_kick(&f->c, 0), 0);
	assert_true(got_used(f, 5000));
}

/* @verify{VB-REQ-VU-520} a ring that breaks during a window (a descriptor outside guest
 * memory) is no progress: the window ends and the server does not spin on it */
static void test_vu_poll__broken_ring_ends_window(void **state)
{
	struct fix *f = *state;
	struct vbt_buf bad[1] = { { GUEST_GPA + 4u * GUEST_SIZE, 16, true } };
	double cpu0, cpu1;

	start_device(f, FEATURES);
	post(f);
	assert_int_equal(vbt_vu_kick(&f->c, 0), 0);
	assert_true(got_used(f, 5000));
	(void)vbt_split_add(&f->c.vq[0].r, bad, 1, false);
	/* The window runs out without progress. */
	usleep(2 * WINDOW_US);
	usleep(20000);
	cpu0 = thread_cpu_s(f->th);
	usleep(300000);
	cpu1 = thread_cpu_s(f->th);
	assert_true(cpu1 - cpu0 < 0.1);
}

/* @verify{VB-REQ-VU-520} vb_vu_set_poll() checks its arguments; 0 turns polling off */
static void test_vu_poll__set_poll_arguments(void **state)
{
	struct vb_vu_server *s;
	struct demo_device model;
	struct vb_vu_config cfg = {
		.version = VB_VU_CONFIG_V1,
		.ops = &demo_device_ops,
		.priv = &model,
	};

	(void)state;
	demo_device_init(&model);
	assert_int_equal(vb_vu_server_new(&cfg, &s), 0);
	assert_int_equal(vb_vu_set_poll(NULL, 10), -EINVAL);
	assert_int_equal(vb_vu_set_poll(s, VB_VU_POLL_MAX_US + 1u), -EINVAL);
	assert_int_equal(vb_vu_set_poll(s, VB_VU_POLL_MAX_US), 0);
	assert_false(vb_vu_polling(s));
	assert_int_equal(vb_vu_set_poll(s, 0), 0);
	assert_int_equal(vb_vu_dispatch(s), 0);
	assert_false(vb_vu_polling(s));
	vb_vu_server_free(s);
}

/* @verify{VB-REQ-VU-520} with polling off (the default) the ring never says "do not kick" */
static void test_vu_poll__off_by_default(void **state)
{
	struct fix *f = *state;

	start_device(f, FEATURES);
	for (int i = 0; i < 4; i++) {
		post(f);
		assert_int_equal(vbt_vu_kick(&f->c, 0), 0);
		assert_true(got_used(f, 5000));
		assert_false(vbt_split_device_no_notify(&f->c.vq[0].r));
	}
	assert_false(vb_vu_polling(f->s));
}

static int setup_off(void **state)
{
	return setup_poll(state, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_vu_poll__serves_unkicked_then_sleeps,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_vu_poll__event_idx_kicks_and_polls,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_vu_poll__broken_ring_ends_window,
						setup, teardown),
		cmocka_unit_test(test_vu_poll__set_poll_arguments),
		cmocka_unit_test_setup_teardown(test_vu_poll__off_by_default, setup_off,
						teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
