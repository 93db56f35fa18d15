/* SPDX-License-Identifier: MIT */
/*
 * `vb-vhost-user input` as a front-end sees it (QEMU 7.2's vhost-user-input refuses to
 * start without KVM): the real binary (path in argv[1]) serves a synthetic keyboard whose
 * events come from a FIFO; the driver-side client of tests/support/vbt-vu-client.c reads
 * the config by select/subsel, fills the eventq and receives exactly the scripted events,
 * then sends LED status events. Set VBT_VU_VERBOSE=1 to see the daemon's log.
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
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "virtio-backend.h"
#include "virtio-backend/devices/input.h"
#include "virtio-backend/transports/vhost-user.h"
#include "vbt-daemon.h"
#include "vbt-vu-client.h"

#define GUEST_GPA	0x40000000u
#define GUEST_SIZE	(1u << 20)
#define QSZ		32u

static const char *daemon_path;

struct fix {
	struct vbt_daemon	d;
	char			fifo[128];
	struct vbt_vu_client	c;
	bool			client;
	uint64_t		ebuf[QSZ];
};

static int setup(void **state)
{
	struct fix *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	assert_int_equal(vbt_daemon_init(&f->d, daemon_path, "vuin"), 0);
	vbt_daemon_file(&f->d, "script", f->fifo, sizeof(f->fifo));
	assert_int_equal(mkfifo(f->fifo, 0600), 0);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fix *f = *state;
	int st;

	if (f->client)
		vbt_vu_client_fini(&f->c);
	st = vbt_daemon_end(&f->d);
	vbt_daemon_fini(&f->d);
	free(f);
	if (st != 0)
		fail_msg("daemon did not exit 0 on SIGTERM (status 0x%x)", st);
	return 0;
}

/* Wait until queue q has a used element; 1 with id/len, or fail. */
static void wait_used(struct fix *f, uint16_t q, uint32_t *id, uint32_t *len)
{
	struct vbt_split *r = &f->c.vq[q].r;

	for (int w = 0; w < 100; w++) {
		if (vbt_split_get_used(r, id, len) == 1)
			return;
		(void)vbt_vu_wait_call(&f->c, q, 100);
	}
	vbt_daemon_dump_log(f->d.log);
	fail_msg("nothing used on queue %u", q);
}

/* select/subsel by SET_CONFIG, then GET_CONFIG of size and union. */
static uint8_t cfg_select(struct fix *f, uint8_t sel, uint8_t sub, uint8_t *u)
{
	struct vb_vu_config_space cs;

	memset(&cs, 0, sizeof(cs));
	cs.offset = 0;
	cs.size = 2;
	cs.data[0] = sel;
	cs.data[1] = sub;
	assert_int_equal(vbt_vu_request(&f->c, VB_VU_SET_CONFIG, &cs, VB_VU_CONFIG_HDR_SIZE + 2,
					NULL, 0), 0);
	memset(&cs, 0, sizeof(cs));
	cs.size = VB_VIRTIO_INPUT_CONFIG_LEN;
	assert_int_equal(vbt_vu_send(&f->c, VB_VU_GET_CONFIG, VB_VU_VERSION, &cs,
				     VB_VU_CONFIG_HDR_SIZE + VB_VIRTIO_INPUT_CONFIG_LEN, NULL, 0), 0);
	assert_int_equal(vbt_vu_recv(&f->c, VB_VU_GET_CONFIG, &cs, sizeof(cs)),
			 VB_VU_CONFIG_HDR_SIZE + VB_VIRTIO_INPUT_CONFIG_LEN);
	assert_int_equal(cs.data[0], sel);
	assert_int_equal(cs.data[1], sub);
	if (u)
		memcpy(u, cs.data + 8, 128);
	return cs.data[2];
}

/* @verify{VB-REQ-INPUT-032} the daemon's synthetic keyboard: its description answers the
 * select/subsel protocol over GET/SET_CONFIG, the events written to its script reach the
 * eventq exactly (bad lines skipped), LED status events are taken */
static void test_vu_input__synthetic_script_events(void **state)
{
	struct fix *f = *state;
	const char *args[] = { "input", "--socket-path", f->d.sock, "--synthetic", "keyboard",
			       "--script", f->fifo, NULL };
	static const char script[] = "1 30 1\n0 0 0\nnot an event\n1 30 0\n# comment\n"
				     "0 0 0\n4 4 458756\n";
	static const uint16_t want[5][2] = { { 1, 30 }, { 0, 0 }, { 1, 30 }, { 0, 0 }, { 4, 4 } };
	static const uint32_t want_v[5] = { 1, 0, 0, 0, 458756 };
	uint8_t u[128];
	uint64_t offered;
	int w;

	assert_true(vbt_daemon_spawn(&f->d, args, -1) > 0);
	assert_int_equal(vbt_vu_client_init(&f->c, GUEST_GPA, GUEST_SIZE), 0);
	f->client = true;
	assert_int_equal(vbt_daemon_connect(&f->d, &f->c), 0);
	assert_int_equal(vbt_vu_get_u64(&f->c, VB_VU_GET_FEATURES, &offered), 0);
	assert_true(offered & VB_BIT(VB_VIRTIO_F_VERSION_1));
	assert_int_equal(vbt_vu_negotiate(&f->c, VB_BIT(VB_VIRTIO_F_VERSION_1),
					  VB_VU_PROTOCOL_FEATURES_SUPPORTED, true), 0);
	/* virtinput_probe(): name, ids, then the event bits it cares about. */
	assert_int_equal(cfg_select(f, VB_VIRTIO_INPUT_CFG_ID_NAME, 0, u), 21);
	assert_memory_equal(u, "vb-synthetic-keyboard", 21);
	assert_int_equal(cfg_select(f, VB_VIRTIO_INPUT_CFG_ID_DEVIDS, 0, u), 8);
	assert_true(cfg_select(f, VB_VIRTIO_INPUT_CFG_EV_BITS, VB_INPUT_EV_KEY, u) > 0);
	assert_true(u[30 / 8] & (1u << (30 % 8)));	/* KEY_A */
	assert_int_equal(cfg_select(f, VB_VIRTIO_INPUT_CFG_EV_BITS, VB_INPUT_EV_REL, u), 0);
	assert_int_equal(cfg_select(f, VB_VIRTIO_INPUT_CFG_EV_BITS, VB_INPUT_EV_LED, u), 1);
	assert_int_equal(vbt_vu_set_mem_table(&f->c), 0);
	assert_int_equal(vbt_vu_setup_vq(&f->c, 0, QSZ, 0), 0);
	assert_int_equal(vbt_vu_setup_vq(&f->c, 1, QSZ, 0), 0);
	for (unsigned int i = 0; i < 16; i++) {
		struct vbt_buf b = { vbt_guest_alloc(&f->c.g, 8, 8), 8, true };

		f->ebuf[vbt_split_add(&f->c.vq[0].r, &b, 1, false)] = b.gpa;
	}
	assert_int_equal(vbt_vu_kick(&f->c, 0), 0);

	/* The script: four key events, a bad line, a comment, an EV_MSC. */
	w = open(f->fifo, O_WRONLY | O_CLOEXEC);
	assert_true(w >= 0);
	assert_int_equal(write(w, script, sizeof(script) - 1), (ssize_t)sizeof(script) - 1);
	close(w);
	for (unsigned int i = 0; i < 5; i++) {
		struct vb_virtio_input_event e;
		uint32_t id, len;

		wait_used(f, 0, &id, &len);
		assert_int_equal(len, 8);
		memcpy(&e, vbt_guest_ptr(&f->c.g, f->ebuf[id]), sizeof(e));
		assert_int_equal(vb_le16_to_cpu(e.type), want[i][0]);
		assert_int_equal(vb_le16_to_cpu(e.code), want[i][1]);
		assert_int_equal(vb_le32_to_cpu(e.value), want_v[i]);
	}
	assert_int_equal(vbt_split_get_used(&f->c.vq[0].r, &(uint32_t){ 0 }, &(uint32_t){ 0 }), 0);

	/* Status: CAPS LED on (fine), an LED the keyboard lacks (refused); both come back. */
	for (unsigned int i = 0; i < 2; i++) {
		struct vb_virtio_input_event e = { vb_cpu_to_le16(VB_INPUT_EV_LED),
						   vb_cpu_to_le16(i ? 9 : 1), vb_cpu_to_le32(1) };
		struct vbt_buf b = { vbt_guest_alloc(&f->c.g, 8, 8), 8, false };
		uint32_t id, len;

		memcpy(vbt_guest_ptr(&f->c.g, b.gpa), &e, sizeof(e));
		vbt_split_add(&f->c.vq[1].r, &b, 1, false);
		assert_int_equal(vbt_vu_kick(&f->c, 1), 0);
		wait_used(f, 1, &id, &len);
		assert_int_equal(len, 0);
	}
	vbt_vu_client_fini(&f->c);
	f->client = false;
	assert_int_equal(vbt_daemon_end(&f->d), 0);
	if (!vbt_daemon_log_has(f->d.log, "5 events to the guest (0 dropped), 1 status "
				"events (1 refused), 1 bad script lines")) {
		vbt_daemon_dump_log(f->d.log);
		fail_msg("the daemon's totals are not as expected");
	}
}


/* @verify{VB-REQ-INPUT-032} the command line: usage errors exit 2, a device that cannot be set up exits 1
 * without leaving a socket, --print-capabilities prints the type and exits 0 */
static void test_vu_input__command_line(void **state)
{
	char out[256];

	(void)state;
	{
		const char *a[] = { "input", "--socket-path", "/tmp/vbt-none.sock", NULL };

		assert_int_equal(vbt_daemon_run(daemon_path, a, out, sizeof(out)), 1);
	}
	{
		const char *a[] = { "input", "--socket-path", "/tmp/vbt-none.sock", "--synthetic", "joystick", NULL };

		assert_int_equal(vbt_daemon_run(daemon_path, a, out, sizeof(out)), 2);
	}
	{
		const char *a[] = { "input", "--socket-path", "/tmp/vbt-none.sock", "--evdev", "/nonexistent/event0", NULL };

		assert_int_equal(vbt_daemon_run(daemon_path, a, out, sizeof(out)), 1);
	}
	{
		const char *a[] = { "input", "--socket-path", "/tmp/vbt-none.sock", "--evdev", "/dev/null", "--synthetic", "mouse", NULL };

		assert_int_equal(vbt_daemon_run(daemon_path, a, out, sizeof(out)), 1);
	}
	{
		const char *a[] = { "input", "--print-capabilities", NULL };

		assert_int_equal(vbt_daemon_run(daemon_path, a, out, sizeof(out)), 0);
	}
	assert_non_null(strstr(out, "\"type\": \"input\""));
	assert_int_equal(access("/tmp/vbt-none.sock", F_OK), -1);
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_vu_input__synthetic_script_events, setup,
						teardown),
		cmocka_unit_test(test_vu_input__command_line),
	};

	daemon_path = vbt_daemon_find(argc, argv);
	if (!daemon_path)
		return 77;
	return cmocka_run_group_tests_name("vu-input", tests, NULL, NULL);
}
