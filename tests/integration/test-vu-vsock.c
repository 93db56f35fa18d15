/* SPDX-License-Identifier: MIT */
/*
 * `vb-vhost-user vsock` as a front-end sees it: the real daemon (path in argv[1]) runs as a
 * child on a temporary socket; the driver-side client of tests/support/vbt-vu-client.c
 * negotiates virtio-vsock and, like QEMU's vhost-user-vsock, hands it the rx and tx queues
 * only; the test plays the guest's vsock driver on those rings and the host applications on
 * the unix sockets: a guest connection to <uds>_PORT, a host client's "CONNECT <port>",
 * 1 MiB both ways under credit, and a hostile header answered with RST.
 * Set VBT_VU_VERBOSE=1 to see the daemon's log.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

#include "virtio-backend.h"
#include "virtio-backend/devices/vsock.h"
#include "virtio-backend/transports/vhost-user.h"
#include "vbt-vu-client.h"

#define GUEST_GPA	0x40000000u
#define GUEST_SIZE	(8u << 20)
#define QSZ		64u
#define NRX		48u
#define RXBUF		(VB_VIRTIO_VSOCK_HDR_LEN + 4096u)
#define CID		5u
#define GPORT		1111u
#define HPORT		5000u
#define BIG		(1u << 20)

static const char *daemon_path;

struct fix {
	char			dir[64];
	char			sock[128];
	char			uds[128];
	char			lpath[160];
	char			log[128];
	pid_t			pid;
	int			lfd;
	struct vbt_vu_client	c;
	bool			client;
	uint64_t		rxgpa[QSZ];
	uint64_t		txbuf;
	uint32_t		fwd_cnt;	/* the guest's consumed bytes */
	uint32_t		peer_alloc;	/* the device's buf_alloc */
	uint32_t		peer_fwd;	/* the device's fwd_cnt */
	uint32_t		tx_cnt;		/* bytes the guest sent */
};

static void dump_log(const struct fix *f)
{
	char line[512];
	FILE *l = fopen(f->log, "r");

	if (!l)
		return;
	while (fgets(line, sizeof(line), l))
		fprintf(stderr, "  | %s", line);
	fclose(l);
}

static int reap(pid_t pid)
{
	int st;

	for (int i = 0; i < 2000; i++) {
		if (waitpid(pid, &st, WNOHANG) == pid)
			return st;
		usleep(10000);
	}
	kill(pid, SIGKILL);
	waitpid(pid, &st, 0);
	return -1;
}

static int run_daemon(const char *const *args, char *out, size_t out_len)
{
	const char *argv[16];
	unsigned int n = 0;
	size_t got = 0;
	int p[2], st;
	ssize_t r;
	pid_t pid;

	argv[n++] = daemon_path;
	while (*args && n < 15)
		argv[n++] = *args++;
	argv[n] = NULL;
	assert_int_equal(pipe2(p, O_CLOEXEC), 0);
	pid = fork();
	if (pid == 0) {
		int null = open("/dev/null", O_WRONLY);

		dup2(p[1], 1);
		if (null >= 0 && !getenv("VBT_VU_VERBOSE"))
			dup2(null, 2);
		execv(daemon_path, (char *const *)(uintptr_t)argv);
		_exit(127);
	}
	close(p[1]);
	while (out && got + 1 < out_len && (r = read(p[0], out + got, out_len - 1 - got)) > 0)
		got += (size_t)r;
	if (out)
		out[got] = '\0';
	close(p[0]);
	st = reap(pid);
	assert_true(st >= 0 && WIFEXITED(st));
	return WEXITSTATUS(st);
}

static int setup(void **state)
{
	struct fix *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	f->pid = -1;
	f->lfd = -1;
	snprintf(f->dir, sizeof(f->dir), "/tmp/vbt-vuvsock-XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	snprintf(f->sock, sizeof(f->sock), "%s/sock", f->dir);
	snprintf(f->uds, sizeof(f->uds), "%s/v.sock", f->dir);
	snprintf(f->lpath, sizeof(f->lpath), "%s_%u", f->uds, HPORT);
	snprintf(f->log, sizeof(f->log), "%s/log", f->dir);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fix *f = *state;
	int st;

	if (f->client)
		vbt_vu_client_fini(&f->c);
	if (f->pid > 0) {
		kill(f->pid, SIGTERM);
		st = reap(f->pid);
		if (st < 0 || !WIFEXITED(st) || WEXITSTATUS(st) != 0) {
			dump_log(f);
			fail_msg("daemon did not exit 0 on SIGTERM (status 0x%x)", st);
		}
	}
	if (f->lfd >= 0)
		close(f->lfd);
	unlink(f->lpath);
	unlink(f->log);
	unlink(f->sock);
	unlink(f->uds);		/* the daemon removes it; in case it did not */
	rmdir(f->dir);
	free(f);
	return 0;
}

static void post_rx(struct fix *f, uint64_t gpa)
{
	struct vbt_buf b = { .gpa = gpa, .len = RXBUF, .write = true };
	uint16_t head = vbt_split_add(&f->c.vq[VB_VSOCK_QUEUE_RX].r, &b, 1, false);

	f->rxgpa[head] = gpa;
}

static void start(struct fix *f)
{
	char cid[16];
	const char *argv[] = { daemon_path, "vsock", "--socket-path", f->sock, "--guest-cid",
			       cid, "--uds-path", f->uds, NULL };
	struct sockaddr_un sa = { .sun_family = AF_UNIX };

	snprintf(cid, sizeof(cid), "%u", CID);
	f->pid = fork();
	if (f->pid == 0) {
		int lfd = open(f->log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);

		if (lfd >= 0 && !getenv("VBT_VU_VERBOSE"))
			dup2(lfd, 2);
		execv(daemon_path, (char *const *)(uintptr_t)argv);
		_exit(127);
	}
	assert_true(f->pid > 0);
	assert_int_equal(vbt_vu_client_init(&f->c, GUEST_GPA, GUEST_SIZE), 0);
	f->client = true;
	f->c.timeout_ms = 10000;
	if (vbt_vu_connect(&f->c, f->sock) < 0) {
		dump_log(f);
		fail_msg("cannot connect to %s", f->sock);
	}
	assert_int_equal(vbt_vu_negotiate(&f->c, VB_BIT(VB_VIRTIO_F_VERSION_1) |
					  VB_BIT(VB_VIRTIO_F_EVENT_IDX),
					  VB_VU_PROTOCOL_FEATURES_SUPPORTED, true), 0);
	assert_int_equal(vbt_vu_set_mem_table(&f->c), 0);
	/* Like QEMU's vhost-user-vsock: rx and tx only, the event queue stays with QEMU. */
	assert_int_equal(vbt_vu_setup_vq(&f->c, VB_VSOCK_QUEUE_RX, QSZ, 0), 0);
	assert_int_equal(vbt_vu_setup_vq(&f->c, VB_VSOCK_QUEUE_TX, QSZ, 0), 0);
	for (unsigned int i = 0; i < NRX; i++)
		post_rx(f, vbt_guest_alloc(&f->c.g, RXBUF, 8));
	assert_int_equal(vbt_vu_kick(&f->c, VB_VSOCK_QUEUE_RX), 0);
	f->txbuf = vbt_guest_alloc(&f->c.g, VB_VIRTIO_VSOCK_HDR_LEN + 65536u, 8);

	f->lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	assert_true(f->lfd >= 0);
	memcpy(sa.sun_path, f->lpath, strlen(f->lpath) + 1);
	assert_int_equal(bind(f->lfd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(listen(f->lfd, 8), 0);
}

static void send_pkt_flags(struct fix *f, uint16_t op, uint32_t src_port, uint32_t dst_port,
			   const void *data, uint32_t len, uint64_t src_cid, uint32_t flags)
{
	struct vb_virtio_vsock_hdr h;
	struct vbt_buf b[2] = {
		{ .gpa = f->txbuf, .len = VB_VIRTIO_VSOCK_HDR_LEN },
		{ .gpa = f->txbuf + VB_VIRTIO_VSOCK_HDR_LEN, .len = len },
	};
	struct vbt_split *r = &f->c.vq[VB_VSOCK_QUEUE_TX].r;
	uint32_t id, ulen;
	int w;

	memset(&h, 0, sizeof(h));
	h.src_cid = vb_cpu_to_le64(src_cid);
	h.dst_cid = vb_cpu_to_le64(VB_VSOCK_CID_HOST);
	h.src_port = vb_cpu_to_le32(src_port);
	h.dst_port = vb_cpu_to_le32(dst_port);
	h.len = vb_cpu_to_le32(len);
	h.type = vb_cpu_to_le16(VB_VIRTIO_VSOCK_TYPE_STREAM);
	h.op = vb_cpu_to_le16(op);
	h.flags = vb_cpu_to_le32(flags);
	h.buf_alloc = vb_cpu_to_le32(256u * 1024u);
	h.fwd_cnt = vb_cpu_to_le32(f->fwd_cnt);
	memcpy(vbt_guest_ptr(&f->c.g, f->txbuf), &h, sizeof(h));
	if (len)
		memcpy(vbt_guest_ptr(&f->c.g, b[1].gpa), data, len);
	vbt_split_add(r, b, len ? 2 : 1, false);
	assert_int_equal(vbt_vu_kick(&f->c, VB_VSOCK_QUEUE_TX), 0);
	/* One buffer in flight: wait until the device took it. */
	for (w = 0; w < 500 && vbt_split_get_used(r, &id, &ulen) != 1; w++)
		(void)vbt_vu_wait_call(&f->c, VB_VSOCK_QUEUE_TX, 20);
	if (w == 500) {
		dump_log(f);
		fail_msg("tx buffer not used");
	}
	if (op == VB_VIRTIO_VSOCK_OP_RW)
		f->tx_cnt += len;
}

static void send_pkt(struct fix *f, uint16_t op, uint32_t src_port, uint32_t dst_port,
		     const void *data, uint32_t len, uint64_t src_cid)
{
	send_pkt_flags(f, op, src_port, dst_port, data, len, src_cid, 0);
}

/* Next rx packet within timeout_ms: 1 with header (payload into data), or 0. */
static int recv_pkt(struct fix *f, struct vb_virtio_vsock_hdr *h, uint8_t *data, size_t max,
		    int timeout_ms)
{
	struct vbt_split *r = &f->c.vq[VB_VSOCK_QUEUE_RX].r;
	uint32_t id, len, plen;
	const uint8_t *p;

	for (int w = 0; vbt_split_get_used(r, &id, &len) != 1; w++) {
		if (w >= timeout_ms / 20)
			return 0;
		(void)vbt_vu_wait_call(&f->c, VB_VSOCK_QUEUE_RX, 20);
	}
	assert_true(id < QSZ && len >= VB_VIRTIO_VSOCK_HDR_LEN);
	p = vbt_guest_ptr(&f->c.g, f->rxgpa[id]);
	memcpy(h, p, sizeof(*h));
	plen = vb_le32_to_cpu(h->len);
	assert_int_equal(len, VB_VIRTIO_VSOCK_HDR_LEN + plen);
	assert_int_equal(vb_le64_to_cpu(h->src_cid), VB_VSOCK_CID_HOST);
	assert_int_equal(vb_le64_to_cpu(h->dst_cid), CID);
	if (data) {
		assert_true(plen <= max);
		memcpy(data, p + VB_VIRTIO_VSOCK_HDR_LEN, plen);
	}
	f->peer_alloc = vb_le32_to_cpu(h->buf_alloc);
	f->peer_fwd = vb_le32_to_cpu(h->fwd_cnt);
	post_rx(f, f->rxgpa[id]);
	assert_int_equal(vbt_vu_kick(&f->c, VB_VSOCK_QUEUE_RX), 0);
	return 1;
}

static void expect(struct fix *f, uint16_t op, struct vb_virtio_vsock_hdr *out)
{
	struct vb_virtio_vsock_hdr h;

	do {
		if (recv_pkt(f, &h, NULL, 0, 10000) != 1) {
			dump_log(f);
			fail_msg("no packet (op %u expected)", op);
		}
		/* CREDIT_UPDATE may come at any time: not what is waited for */
	} while (op != VB_VIRTIO_VSOCK_OP_CREDIT_UPDATE &&
		 vb_le16_to_cpu(h.op) == VB_VIRTIO_VSOCK_OP_CREDIT_UPDATE);
	assert_int_equal(vb_le16_to_cpu(h.op), op);
	if (out)
		*out = h;
}

static uint8_t pat(uint32_t i, uint8_t seed)
{
	return (uint8_t)(i * 131u + (i >> 9) + seed);
}

/* Guest -> host: len bytes in RW packets of at most 4 KiB within the device's credit,
 * while the host end (fd) reads and checks them. */
static void guest_send_big(struct fix *f, uint32_t gport, uint32_t hport, int fd, uint32_t len)
{
	static uint8_t chunk[4096], in[65536];
	uint32_t sent = 0, got = 0;

	while (got < len) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		uint32_t credit = f->peer_alloc - (f->tx_cnt - f->peer_fwd);

		if (sent < len && credit >= sizeof(chunk)) {
			uint32_t n = len - sent < sizeof(chunk) ? len - sent : sizeof(chunk);

			for (uint32_t i = 0; i < n; i++)
				chunk[i] = pat(sent + i, 1);
			send_pkt(f, VB_VIRTIO_VSOCK_OP_RW, gport, hport, chunk, n, CID);
			sent += n;
		} else {
			struct vb_virtio_vsock_hdr h;

			/* Out of credit: the device must send CREDIT_UPDATE as the host reads. */
			(void)recv_pkt(f, &h, NULL, 0, 0);
		}
		if (poll(&p, 1, sent < len ? 0 : 100) == 1) {
			ssize_t n = read(fd, in, sizeof(in));

			assert_true(n > 0);
			for (ssize_t i = 0; i < n; i++)
				if (in[i] != pat(got + (uint32_t)i, 1))
					fail_msg("guest->host byte %u differs", got + (uint32_t)i);
			got += (uint32_t)n;
		}
	}
}

/* Host -> guest: the host end writes len bytes, the guest collects RW packets and returns
 * credit with CREDIT_UPDATE every 64 KiB. */
static void host_send_big(struct fix *f, uint32_t gport, uint32_t hport, int fd, uint32_t len)
{
	static uint8_t out[65536], data[4096];
	uint32_t sent = 0, got = 0, told = f->fwd_cnt;

	(void)fcntl(fd, F_SETFL, O_NONBLOCK);
	while (got < len) {
		struct vb_virtio_vsock_hdr h;

		if (sent < len) {
			uint32_t n = len - sent < sizeof(out) ? len - sent : sizeof(out);
			ssize_t w;

			for (uint32_t i = 0; i < n; i++)
				out[i] = pat(sent + i, 2);
			w = write(fd, out, n);
			if (w > 0)
				sent += (uint32_t)w;
		}
		if (recv_pkt(f, &h, data, sizeof(data), 20) == 1 &&
		    vb_le16_to_cpu(h.op) == VB_VIRTIO_VSOCK_OP_RW) {
			uint32_t n = vb_le32_to_cpu(h.len);

			assert_int_equal(vb_le32_to_cpu(h.src_port), hport);
			for (uint32_t i = 0; i < n; i++)
				if (data[i] != pat(got + i, 2))
					fail_msg("host->guest byte %u differs", got + i);
			got += n;
			f->fwd_cnt += n;
			if (f->fwd_cnt - told >= 65536u) {
				send_pkt(f, VB_VIRTIO_VSOCK_OP_CREDIT_UPDATE, gport, hport, NULL, 0,
					 CID);
				told = f->fwd_cnt;
			}
		}
	}
	(void)fcntl(fd, F_SETFL, 0);
}

/* @verify{VB-REQ-VSOCK-060} --print-capabilities, --help, bad options (exit 2), missing
 * --uds-path (exit 1) */
static void test_vu_vsock__command_line(void **state)
{
	static const char *const caps[] = { "vsock", "--print-capabilities", NULL };
	static const char *const help[] = { "vsock", "--help", NULL };
	static const char *const bad[][6] = {
		{ "vsock", "--guest-cid", "2", "--socket-path", "/tmp/x", NULL },
		{ "vsock", "--guest-cid", "4294967295", "--socket-path", "/tmp/x", NULL },
		{ "vsock", "--queue-size", "3", "--socket-path", "/tmp/x", NULL },
	};
	static const char *const fail[] = { "vsock", "--guest-cid", "3", "--socket-path",
					    "/tmp/x", NULL };
	char out[4096];

	(void)state;
	assert_int_equal(run_daemon(caps, out, sizeof(out)), 0);
	assert_string_equal(out, "{\"type\": \"vsock\"}\n");
	assert_int_equal(run_daemon(help, out, sizeof(out)), 0);
	assert_non_null(strstr(out, "--uds-path"));
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(run_daemon(bad[i], NULL, 0), 2);
	assert_int_equal(run_daemon(fail, NULL, 0), 1);
}

/* @verify{VB-REQ-VSOCK-060} @verify{VB-REQ-VSOCK-010} @verify{VB-REQ-VSOCK-020}
 * GET_CONFIG shows guest_cid; a guest connection reaches <uds>_PORT; 1 MiB each way
 * under credit, every byte checked; SHUTDOWN both ways ends with RST */
static void test_vu_vsock__guest_connects(void **state)
{
	struct fix *f = *state;
	struct vb_vu_config_space cs;
	struct vb_virtio_vsock_hdr h;
	uint64_t cid;
	int fd;

	start(f);
	memset(&cs, 0, sizeof(cs));
	cs.size = VB_VIRTIO_VSOCK_CONFIG_LEN;
	assert_int_equal(vbt_vu_send(&f->c, VB_VU_GET_CONFIG, VB_VU_VERSION, &cs,
				     VB_VU_CONFIG_HDR_SIZE + VB_VIRTIO_VSOCK_CONFIG_LEN, NULL, 0), 0);
	assert_int_equal(vbt_vu_recv(&f->c, VB_VU_GET_CONFIG, &cs, sizeof(cs)),
			 VB_VU_CONFIG_HDR_SIZE + VB_VIRTIO_VSOCK_CONFIG_LEN);
	memcpy(&cid, cs.data, 8);
	assert_int_equal(vb_le64_to_cpu((vb_le64){ cid }), CID);

	send_pkt(f, VB_VIRTIO_VSOCK_OP_REQUEST, GPORT, HPORT, NULL, 0, CID);
	expect(f, VB_VIRTIO_VSOCK_OP_RESPONSE, &h);
	fd = accept4(f->lfd, NULL, NULL, SOCK_CLOEXEC);
	assert_true(fd >= 0);
	guest_send_big(f, GPORT, HPORT, fd, BIG);
	host_send_big(f, GPORT, HPORT, fd, BIG);
	send_pkt_flags(f, VB_VIRTIO_VSOCK_OP_SHUTDOWN, GPORT, HPORT, NULL, 0, CID,
		       VB_VIRTIO_VSOCK_SHUTDOWN_F_RECEIVE | VB_VIRTIO_VSOCK_SHUTDOWN_F_SEND);
	expect(f, VB_VIRTIO_VSOCK_OP_RST, NULL);
	assert_int_equal(read(fd, &cid, 1), 0);		/* the host end sees EOF */
	close(fd);
}

/* @verify{VB-REQ-VSOCK-012} a host client's CONNECT reaches the guest listener; 1 MiB each
 * way */
static void test_vu_vsock__host_connects(void **state)
{
	struct fix *f = *state;
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct vb_virtio_vsock_hdr h;
	char ok[32], want[32];
	uint32_t lp;
	int fd;

	start(f);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	assert_true(fd >= 0);
	memcpy(sa.sun_path, f->uds, strlen(f->uds) + 1);
	assert_int_equal(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(write(fd, "CONNECT 6000\n", 13), 13);
	expect(f, VB_VIRTIO_VSOCK_OP_REQUEST, &h);
	assert_int_equal(vb_le32_to_cpu(h.dst_port), 6000);
	lp = vb_le32_to_cpu(h.src_port);
	send_pkt(f, VB_VIRTIO_VSOCK_OP_RESPONSE, 6000, lp, NULL, 0, CID);
	snprintf(want, sizeof(want), "OK %u\n", lp);
	for (size_t got = 0; got < strlen(want);) {
		ssize_t n = read(fd, ok + got, strlen(want) - got);

		assert_true(n > 0);
		got += (size_t)n;
	}
	assert_memory_equal(ok, want, strlen(want));
	guest_send_big(f, 6000, lp, fd, BIG);
	host_send_big(f, 6000, lp, fd, BIG);
	close(fd);
	expect(f, VB_VIRTIO_VSOCK_OP_SHUTDOWN, &h);
}

/* @verify{VB-REQ-VSOCK-050} a spoofed source CID is answered with RST through the daemon,
 * which keeps serving */
static void test_vu_vsock__hostile_header(void **state)
{
	struct fix *f = *state;
	struct vb_virtio_vsock_hdr h;
	int fd;

	start(f);
	send_pkt(f, VB_VIRTIO_VSOCK_OP_REQUEST, GPORT, HPORT, NULL, 0, CID + 1);
	expect(f, VB_VIRTIO_VSOCK_OP_RST, &h);
	assert_int_equal(vb_le32_to_cpu(h.dst_port), GPORT);
	send_pkt(f, VB_VIRTIO_VSOCK_OP_REQUEST, GPORT, HPORT, NULL, 0, CID);
	expect(f, VB_VIRTIO_VSOCK_OP_RESPONSE, &h);
	fd = accept4(f->lfd, NULL, NULL, SOCK_CLOEXEC);
	assert_true(fd >= 0);
	close(fd);
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_vu_vsock__command_line),
		cmocka_unit_test_setup_teardown(test_vu_vsock__guest_connects, setup, teardown),
		cmocka_unit_test_setup_teardown(test_vu_vsock__host_connects, setup, teardown),
		cmocka_unit_test_setup_teardown(test_vu_vsock__hostile_header, setup, teardown),
	};

	daemon_path = argc > 1 ? argv[1] : getenv("VB_VHOST_USER");
	if (!daemon_path || access(daemon_path, X_OK) != 0) {
		printf("vb-vhost-user not given (argv[1] or $VB_VHOST_USER): skipped\n");
		return 77;
	}
	signal(SIGPIPE, SIG_IGN);
	return cmocka_run_group_tests_name("vu-vsock", tests, NULL, NULL);
}
