/* SPDX-License-Identifier: MIT */
/*
 * `vb-vhost-user gpio` as a front-end sees it: the real daemon (path in argv[1] or
 * $VB_VHOST_USER) runs as a child on a temporary socket with a simulated chip and its
 * --sim-control socket; the driver-side client of tests/support/vbt-vu-client.c negotiates
 * virtio-gpio with VIRTIO_GPIO_F_IRQ, lays out the requestq and the eventq in shared memfd
 * memory and plays Linux's gpio-virtio driver, while the test drives and reads the lines
 * through the control socket: config space, names, values both ways, an edge interrupt
 * reaching a held eventq buffer, disable returning it INVALID, hostile requests.
 * Set VBT_VU_VERBOSE=1 to see the daemon's log.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include "virtio-backend.h"
#include "virtio-backend/devices/gpio.h"
#include "virtio-backend/transports/vhost-user.h"
#include "vbt-daemon.h"
#include "vbt-vu-client.h"

#define GUEST_GPA	0x40000000u
#define GUEST_SIZE	(4u << 20)
#define QSZ		16u
#define ROUND_TRIPS	2000
#define NAMES		"led,,button"
/* "led\0" "\0" "button\0" and 5 more unnamed lines of 8 */
#define NAMES_SIZE	(4u + 1u + 7u + 5u)

static const char *daemon_path;

struct fix {
	struct vbt_daemon	d;
	char			ctl[128];
	struct vbt_vu_client	c;
	bool			client;
	int			ctl_fd;
	uint64_t		ev_status[QSZ];
};

static int setup(void **state)
{
	struct fix *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	f->ctl_fd = -1;
	assert_int_equal(vbt_daemon_init(&f->d, daemon_path, "vugpio"), 0);
	vbt_daemon_file(&f->d, "ctl", f->ctl, sizeof(f->ctl));
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fix *f = *state;
	int st;

	if (f->ctl_fd >= 0)
		close(f->ctl_fd);
	if (f->client)
		vbt_vu_client_fini(&f->c);
	st = vbt_daemon_end(&f->d);
	vbt_daemon_fini(&f->d);
	free(f);
	if (st != 0)
		fail_msg("daemon did not exit 0 on SIGTERM (status 0x%x)", st);
	return 0;
}

/* One control command; the reply line (without newline) in r. */
static void ctl(struct fix *f, const char *cmd, char *r, size_t rlen)
{
	size_t got = 0;
	char line[160];
	int n = snprintf(line, sizeof(line), "%s\n", cmd);

	if (f->ctl_fd < 0) {
		struct sockaddr_un sa = { .sun_family = AF_UNIX };

		strcpy(sa.sun_path, f->ctl);
		f->ctl_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
		assert_true(f->ctl_fd >= 0);
		assert_int_equal(connect(f->ctl_fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	}
	assert_int_equal(write(f->ctl_fd, line, (size_t)n), n);
	while (got + 1 < rlen) {
		ssize_t k = read(f->ctl_fd, r + got, 1);

		assert_int_equal(k, 1);
		if (r[got] == '\n')
			break;
		got++;
	}
	r[got] = '\0';
}

static void ctl_expect(struct fix *f, const char *cmd, const char *want)
{
	char r[128];

	ctl(f, cmd, r, sizeof(r));
	assert_string_equal(r, want);
}

/* Start the daemon (8 simulated lines), connect, negotiate (F_IRQ unless no_irq), set up
 * both queues. */
static void start(struct fix *f, bool no_irq)
{
	const char *args[] = { "gpio", "--socket-path", f->d.sock, "--sim", "8,names=" NAMES,
			       "--sim-control", f->ctl, NULL };

	assert_true(vbt_daemon_spawn(&f->d, args, -1) > 0);
	assert_int_equal(vbt_vu_client_init(&f->c, GUEST_GPA, GUEST_SIZE), 0);
	f->client = true;
	assert_int_equal(vbt_daemon_connect(&f->d, &f->c), 0);
	assert_int_equal(vbt_vu_negotiate(&f->c, VB_BIT(VB_VIRTIO_F_VERSION_1) |
					  VB_BIT(VB_VIRTIO_F_EVENT_IDX) |
					  (no_irq ? 0 : VB_BIT(VB_VIRTIO_GPIO_F_IRQ)),
					  VB_VU_PROTOCOL_FEATURES_SUPPORTED, true), 0);
	assert_int_equal(vbt_vu_set_mem_table(&f->c), 0);
	assert_int_equal(vbt_vu_setup_vq(&f->c, 0, QSZ, 0), 0);
	assert_int_equal(vbt_vu_setup_vq(&f->c, 1, QSZ, 0), 0);
}

static int wait_used(struct fix *f, uint16_t q, uint32_t *id, uint32_t *len, int timeout_ms)
{
	struct vbt_split *r = &f->c.vq[q].r;

	/* As Linux's virtqueue_enable_cb(): with EVENT_IDX, ask for a call at the next used
	 * element. */
	vbt_split_set_used_event(r, r->last_used);
	for (int w = 0; w < timeout_ms / 20; w++) {
		if (vbt_split_get_used(r, id, len) == 1)
			return 1;
		(void)vbt_vu_wait_call(&f->c, q, 20);
	}
	return vbt_split_get_used(r, id, len);
}

/* One requestq message: rlen request bytes, wlen response bytes; used length returned,
 * response copied to res. */
static uint32_t msg_raw(struct fix *f, uint16_t type, uint16_t gpio, uint32_t value,
			uint32_t rlen, uint32_t wlen, uint8_t *res)
{
	struct vb_virtio_gpio_request r = { vb_cpu_to_le16(type), vb_cpu_to_le16(gpio),
					    vb_cpu_to_le32(value) };
	uint64_t rg = vbt_guest_alloc(&f->c.g, 64, 8), wg = vbt_guest_alloc(&f->c.g, 64, 8);
	struct vbt_buf b[2] = { { rg, rlen, false }, { wg, wlen, true } };
	uint32_t id, len;
	uint16_t head;

	memcpy(vbt_guest_ptr(&f->c.g, rg), &r, sizeof(r));
	memset(vbt_guest_ptr(&f->c.g, wg), 0xee, 64);
	head = vbt_split_add(&f->c.vq[0].r, b, 2, false);
	assert_int_equal(vbt_vu_kick(&f->c, 0), 0);
	if (wait_used(f, 0, &id, &len, 10000) != 1) {
		vbt_daemon_dump_log(f->d.log);
		fail_msg("request %u not answered", type);
	}
	assert_int_equal(id, head);
	memcpy(res, vbt_guest_ptr(&f->c.g, wg), wlen < 64 ? wlen : 64);
	return len;
}

static uint8_t msg(struct fix *f, uint16_t type, uint16_t gpio, uint32_t value, uint8_t *val)
{
	uint8_t res[64];

	assert_int_equal(msg_raw(f, type, gpio, value, 8, 2, res), 2);
	if (val)
		*val = res[1];
	return res[0];
}

static uint16_t unmask(struct fix *f, uint16_t line)
{
	vb_le16 r = vb_cpu_to_le16(line);
	uint64_t rg = vbt_guest_alloc(&f->c.g, 2, 2), wg = vbt_guest_alloc(&f->c.g, 1, 1);
	struct vbt_buf b[2] = { { rg, 2, false }, { wg, 1, true } };
	uint16_t head;

	memcpy(vbt_guest_ptr(&f->c.g, rg), &r, 2);
	*(uint8_t *)vbt_guest_ptr(&f->c.g, wg) = 0xee;
	head = vbt_split_add(&f->c.vq[1].r, b, 2, false);
	f->ev_status[head % QSZ] = wg;
	assert_int_equal(vbt_vu_kick(&f->c, 1), 0);
	return head;
}

static void expect_event(struct fix *f, uint16_t head, uint8_t status)
{
	uint32_t id, len;

	if (wait_used(f, 1, &id, &len, 10000) != 1) {
		vbt_daemon_dump_log(f->d.log);
		fail_msg("no eventq buffer returned");
	}
	assert_int_equal(id, head);
	assert_int_equal(len, 1);
	assert_int_equal(*(uint8_t *)vbt_guest_ptr(&f->c.g, f->ev_status[id % QSZ]), status);
}

/* @verify{VB-REQ-GPIO-050} --print-capabilities, --help, and refused option sets. */
static void test_vu_gpio__command_line(void **state)
{
	static const char *const caps[] = { "gpio", "--print-capabilities", NULL };
	static const char *const help[] = { "gpio", "--help", NULL };
	static const char *const usage[][6] = {
		{ "gpio", "--sim", "0", "--socket-path", "/tmp/x", NULL },
		{ "gpio", "--sim", "8,foo=1", "--socket-path", "/tmp/x", NULL },
		{ "gpio", "--queue-size", "3", "--socket-path", "/tmp/x", NULL },
		{ "gpio", "--device-list", "s4:s4", "--socket-path", "/tmp/x", NULL },
	};
	static const char *const fail[][8] = {
		{ "gpio", "--socket-path", "/tmp/x", NULL },
		{ "gpio", "--sim", "2", "--chip", "/dev/gpiochip0", "--socket-path", "/tmp/x", NULL },
		{ "gpio", "--chip", "/nonexistent/gpiochip0", "--socket-path", "/tmp/x", NULL },
		{ "gpio", "--sim", "2,names=a,a", "--socket-path", "/tmp/x", NULL },
		{ "gpio", "--sim", "2,names=a,b,c", "--socket-path", "/tmp/x", NULL },
		{ "gpio", "--sim-control", "/tmp/y", "--chip", "/dev/gpiochip0", "--socket-path",
		  "/tmp/x", NULL },
	};
	char out[4096];

	(void)state;
	assert_int_equal(vbt_daemon_run(daemon_path, caps, out, sizeof(out)), 0);
	assert_string_equal(out, "{\"type\": \"gpio\"}\n");
	assert_int_equal(vbt_daemon_run(daemon_path, help, out, sizeof(out)), 0);
	assert_non_null(strstr(out, "--sim-control"));
	for (size_t i = 0; i < sizeof(usage) / sizeof(usage[0]); i++)
		assert_int_equal(vbt_daemon_run(daemon_path, usage[i], NULL, 0), 2);
	for (size_t i = 0; i < sizeof(fail) / sizeof(fail[0]); i++)
		assert_int_equal(vbt_daemon_run(daemon_path, fail[i], NULL, 0), 1);
}

/* @verify{VB-REQ-GPIO-050} @verify{VB-REQ-GPIO-003} GET_CONFIG and GET_NAMES through the
 * daemon. */
static void test_vu_gpio__config_and_names(void **state)
{
	struct fix *f = *state;
	struct vb_vu_config_space cs;
	struct vb_virtio_gpio_config c;
	uint8_t res[64];

	start(f, false);
	memset(&cs, 0, sizeof(cs));
	cs.size = sizeof(c);
	assert_int_equal(vbt_vu_send(&f->c, VB_VU_GET_CONFIG, VB_VU_VERSION, &cs,
				     VB_VU_CONFIG_HDR_SIZE + sizeof(c), NULL, 0), 0);
	assert_int_equal(vbt_vu_recv(&f->c, VB_VU_GET_CONFIG, &cs, sizeof(cs)),
			 (int)(VB_VU_CONFIG_HDR_SIZE + sizeof(c)));
	memcpy(&c, cs.data, sizeof(c));
	assert_int_equal(vb_le16_to_cpu(c.ngpio), 8);
	assert_int_equal(vb_le32_to_cpu(c.gpio_names_size), NAMES_SIZE);
	assert_int_equal(msg_raw(f, VB_VIRTIO_GPIO_MSG_GET_NAMES, 0, 0, 8, 1 + NAMES_SIZE, res),
			 1 + NAMES_SIZE);
	assert_int_equal(res[0], VB_VIRTIO_GPIO_STATUS_OK);
	assert_memory_equal(res + 1, "led\0\0button\0\0\0\0\0", NAMES_SIZE);
}

/* @verify{VB-REQ-GPIO-050} values both ways: the host drives an input the guest reads, the
 * guest drives an output the host reads; hostile requests get ERR. */
static void test_vu_gpio__values(void **state)
{
	struct fix *f = *state;
	uint8_t v, res[64];

	start(f, false);
	ctl_expect(f, "set 3 1", "ok");
	assert_int_equal(msg(f, VB_VIRTIO_GPIO_MSG_SET_DIRECTION, 3, VB_VIRTIO_GPIO_DIRECTION_IN,
			     NULL), VB_VIRTIO_GPIO_STATUS_OK);
	assert_int_equal(msg(f, VB_VIRTIO_GPIO_MSG_GET_VALUE, 3, 0, &v), VB_VIRTIO_GPIO_STATUS_OK);
	assert_int_equal(v, 1);
	ctl_expect(f, "dir 3", "in");
	assert_int_equal(msg(f, VB_VIRTIO_GPIO_MSG_SET_VALUE, 0, 1, NULL), VB_VIRTIO_GPIO_STATUS_OK);
	ctl_expect(f, "get 0", "0");
	assert_int_equal(msg(f, VB_VIRTIO_GPIO_MSG_SET_DIRECTION, 0, VB_VIRTIO_GPIO_DIRECTION_OUT,
			     NULL), VB_VIRTIO_GPIO_STATUS_OK);
	ctl_expect(f, "dir 0", "out");
	ctl_expect(f, "get 0", "1");
	assert_int_equal(msg(f, VB_VIRTIO_GPIO_MSG_GET_VALUE, 8, 0, NULL),
			 VB_VIRTIO_GPIO_STATUS_ERR);
	assert_int_equal(msg(f, VB_VIRTIO_GPIO_MSG_SET_VALUE, 0, 7, NULL),
			 VB_VIRTIO_GPIO_STATUS_ERR);
	assert_int_equal(msg_raw(f, VB_VIRTIO_GPIO_MSG_GET_VALUE, 0, 0, 3, 2, res), 2);
	assert_int_equal(res[0], VB_VIRTIO_GPIO_STATUS_ERR);
	ctl_expect(f, "get 0", "1");
	/* Round trips as Linux makes them (one message at a time, kick, wait for the call):
	 * a figure for the log, not a limit. */
	{
		struct timespec t0, t1;
		double s;

		clock_gettime(CLOCK_MONOTONIC, &t0);
		for (int i = 0; i < ROUND_TRIPS; i++) {
			assert_int_equal(msg(f, VB_VIRTIO_GPIO_MSG_GET_VALUE, 3, 0, &v),
					 VB_VIRTIO_GPIO_STATUS_OK);
			assert_int_equal(v, 1);
		}
		clock_gettime(CLOCK_MONOTONIC, &t1);
		s = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
		printf("%d GET_VALUE round trips through the daemon in %.3f s: %.0f/s\n",
		       ROUND_TRIPS, s, ROUND_TRIPS / s);
	}
}

/* @verify{VB-REQ-GPIO-050} @verify{VB-REQ-GPIO-030} an edge the host drives reaches the
 * held eventq buffer (VALID, the call eventfd fires); SET_IRQ_TYPE NONE returns a held one
 * INVALID. */
static void test_vu_gpio__interrupts(void **state)
{
	struct fix *f = *state;
	uint16_t h;

	start(f, false);
	assert_int_equal(msg(f, VB_VIRTIO_GPIO_MSG_SET_DIRECTION, 5, VB_VIRTIO_GPIO_DIRECTION_IN,
			     NULL), VB_VIRTIO_GPIO_STATUS_OK);
	assert_int_equal(msg(f, VB_VIRTIO_GPIO_MSG_SET_IRQ_TYPE, 5,
			     VB_VIRTIO_GPIO_IRQ_TYPE_EDGE_RISING, NULL), VB_VIRTIO_GPIO_STATUS_OK);
	ctl_expect(f, "irq 5", "rising masked");
	h = unmask(f, 5);
	/* The kick is served before the control command (one loop, socket order is not
	 * guaranteed): poll the state. */
	for (int i = 0; i < 500; i++) {
		char r[64];

		ctl(f, "irq 5", r, sizeof(r));
		if (!strcmp(r, "rising unmasked"))
			break;
		usleep(10000);
	}
	ctl_expect(f, "irq 5", "rising unmasked");
	ctl_expect(f, "set 5 1", "ok");
	expect_event(f, h, VB_VIRTIO_GPIO_IRQ_STATUS_VALID);
	ctl_expect(f, "irq 5", "rising masked");
	h = unmask(f, 5);
	for (int i = 0; i < 500; i++) {
		char r[64];

		ctl(f, "irq 5", r, sizeof(r));
		if (!strcmp(r, "rising unmasked"))
			break;
		usleep(10000);
	}
	assert_int_equal(msg(f, VB_VIRTIO_GPIO_MSG_SET_IRQ_TYPE, 5, VB_VIRTIO_GPIO_IRQ_TYPE_NONE,
			     NULL), VB_VIRTIO_GPIO_STATUS_OK);
	expect_event(f, h, VB_VIRTIO_GPIO_IRQ_STATUS_INVALID);
	ctl_expect(f, "irq 5", "none masked");
}

/* @verify{VB-REQ-GPIO-050} @verify{VB-REQ-GPIO-015} without VIRTIO_GPIO_F_IRQ,
 * SET_IRQ_TYPE is refused. */
static void test_vu_gpio__no_irq(void **state)
{
	struct fix *f = *state;

	start(f, true);
	assert_int_equal(msg(f, VB_VIRTIO_GPIO_MSG_SET_IRQ_TYPE, 1,
			     VB_VIRTIO_GPIO_IRQ_TYPE_EDGE_BOTH, NULL), VB_VIRTIO_GPIO_STATUS_ERR);
	assert_int_equal(msg(f, VB_VIRTIO_GPIO_MSG_GET_DIRECTION, 1, 0, NULL),
			 VB_VIRTIO_GPIO_STATUS_OK);
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_vu_gpio__command_line),
		cmocka_unit_test_setup_teardown(test_vu_gpio__config_and_names, setup, teardown),
		cmocka_unit_test_setup_teardown(test_vu_gpio__values, setup, teardown),
		cmocka_unit_test_setup_teardown(test_vu_gpio__interrupts, setup, teardown),
		cmocka_unit_test_setup_teardown(test_vu_gpio__no_irq, setup, teardown),
	};

	daemon_path = vbt_daemon_find(argc, argv);
	if (!daemon_path)
		return 77;
	return cmocka_run_group_tests_name("vu-gpio", tests, NULL, NULL) ? 1 : 0;
}
