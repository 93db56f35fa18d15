/* SPDX-License-Identifier: MIT */
/*
 * Fuzz target: the virtio-console model (src/devices/console/console.c): its control-message
 * parser, the per-port control state machine and the data paths, driven by a fuzzed script
 * of driver and host actions over split rings in fake guest memory.
 *
 * Input format (integers little-endian; a short input reads as zeros):
 *   0  u8  drop      feature bits the driver refuses: bit 0 MULTIPORT, bit 1 SIZE,
 *                    bit 2 EMERG_WRITE, bit 3 EVENT_IDX
 *   1  u8  ports     bit i: port i's host side is connected at start (3 ports; port 2
 *                    starts absent); bits 4-5: port 0 short-write limit (0 none, else 1..3)
 *   then 8-byte operations (vbt_fuzz_op: code a b c), at most VBT_FUZZ_MAX_OPS:
 *     code % 8 = 0  control message {id = c, event = a, value = b} on the control transmitq
 *                1  a control buffer of a % 16 bytes (bytes of c repeated), any direction
 *                   (b bit 0: device-writable)
 *                2  post a control receive buffer of b % 300 bytes
 *                3  host: port a % 3 connected = c & 1
 *                4  host: port a % 3 present = c & 1
 *                5  guest output on port a % 3: b % 64 bytes (c bit 0: plus a writable
 *                   descriptor); then the host takes output (vb_console_port_output)
 *                6  post a receive buffer of b % 128 bytes on port a % 3 (c bit 0:
 *                   driver-readable instead), then host input of c >> 8 & 0xff bytes
 *                7  a = 0: resize to (b, c); a = 1: emergency write; a = 2: device reset and
 *                   new rings; else queue reset of queue b % 8 when RING_RESET
 *
 * Invariants (an abort is a finding): every control message the device writes names a port
 * below max_nr_ports, carries a device-to-driver event, fits its buffer and, for PORT_NAME,
 * carries exactly the port's name; used lengths never exceed a buffer's writable length; a
 * transmit buffer comes back with length 0; guest bytes reach a host port only from inside
 * guest memory (guard pages and ASan catch the rest).
 *
 * @verify{VB-REQ-CONSOLE-010} @verify{VB-REQ-CONSOLE-011} @verify{VB-REQ-CONSOLE-020}
 * @verify{VB-REQ-CONSOLE-021} @verify{VB-REQ-CONSOLE-022}
 */
#include <stdalign.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "vbt-fuzz.h"
#include "vbt-split.h"
#include "virtio-backend/devices/console.h"

#define NPORTS	3u
#define NQ	(2u * (NPORTS + 1u))
#define QSZ	8u
#define SLOTS	64u	/* >= NQ * (QSZ - 1): a free slot always exists */
#define SLOT	512u

static const char *const names[NPORTS] = { NULL, "org.fuzz.one", "two" };

struct fport {
	unsigned int	limit;
	uint64_t	out;
	uint32_t	in_left;
	bool		want_in, want_out;
};

struct fz {
	struct vbt_guest	g;
	struct vbt_split	r[NQ];
	unsigned int		posted[NQ];
	uint64_t		buf[NQ][QSZ];
	uint32_t		wlen[NQ][QSZ];	/* writable bytes by head */
	uint16_t		nq;
	unsigned int		slot;
	/* Slots held by posted buffers, per queue: no two buffers the device may still write
	 * share memory, or the message checks would read one message over another. */
	uint64_t		busy[NQ];
	uint8_t			slot_of[NQ][QSZ];
	struct vb_console_port_ops pops;
	struct vb_console_port_config pc[NPORTS];
	struct fport		fp[NPORTS];
	struct vb_console	*con;
	struct vb_dev		*dev;
	alignas(8) uint8_t	dev_storage[VB_DEV_STORAGE_MAX(NQ)];
	uint64_t		features;
	uint8_t			drop;
};

static struct fz *cur;

static int64_t p_write(void *ctx, const struct vb_iov *iov, unsigned int n)
{
	struct fport *p = ctx;
	uint64_t sum = 0;
	volatile uint8_t sink = 0;

	for (unsigned int i = 0; i < n; i++) {
		/* The emergency character lives on the model's stack, not in the guest. */
		if (n > 1 || iov[i].len > 1)
			VBT_FUZZ_CHECK(vbt_fuzz_guest_holds(&cur->g, iov[i].base, iov[i].len),
				       "output iovec outside the guest");
		for (size_t k = 0; k < iov[i].len; k++)
			sink = (uint8_t)(sink + ((const uint8_t *)iov[i].base)[k]);
		sum += iov[i].len;
	}
	(void)sink;
	if (p->limit && sum > p->limit)
		sum = p->limit;
	p->out += sum;
	return (int64_t)sum;
}

static int64_t p_read(void *ctx, const struct vb_iov *iov, unsigned int n)
{
	struct fport *p = ctx;
	uint64_t done = 0;

	for (unsigned int i = 0; i < n && p->in_left; i++) {
		size_t len = iov[i].len < p->in_left ? iov[i].len : p->in_left;

		VBT_FUZZ_CHECK(vbt_fuzz_guest_holds(&cur->g, iov[i].base, iov[i].len),
			       "input iovec outside the guest");
		memset(iov[i].base, 'x', len);
		p->in_left -= (uint32_t)len;
		done += len;
	}
	return done ? (int64_t)done : -EAGAIN;
}

static void p_want(void *ctx, bool in, bool out)
{
	struct fport *p = ctx;

	p->want_in = in;
	p->want_out = out;
}

static uint16_t rxq(uint16_t port)
{
	return port == 0 ? 0 : (uint16_t)(2u * port + 2u);
}

static unsigned int slot(struct fz *f)
{
	uint64_t held = 0;
	unsigned int s;

	for (unsigned int q = 0; q < NQ; q++)
		held |= f->busy[q];
	do
		s = f->slot++ % SLOTS;
	while (held & (1ull << s));
	return s;
}

/* Check and forget what the device returned on queue q. */
static void reap(struct fz *f, uint16_t q)
{
	uint32_t id, len;

	if (q >= f->nq)
		return;
	while (vbt_split_get_used(&f->r[q], &id, &len) == 1) {
		VBT_FUZZ_CHECK(id < QSZ, "used id %u", id);
		VBT_FUZZ_CHECK(len <= f->wlen[q][id], "queue %u: used len %u > writable %u", q,
			       len, f->wlen[q][id]);
		if (q != 2 && (q & 1u))
			VBT_FUZZ_CHECK(len == 0, "transmit buffer used with %u bytes", len);
		if (q == 2 && len) {
			struct vb_virtio_console_control m;
			const uint8_t *p = vbt_guest_ptr(&f->g, f->buf[q][id]);
			uint32_t pid;
			uint16_t ev;

			VBT_FUZZ_CHECK(len >= sizeof(m), "short control message %u", len);
			memcpy(&m, p, sizeof(m));
			pid = vb_le32_to_cpu(m.id);
			ev = vb_le16_to_cpu(m.event);
			VBT_FUZZ_CHECK(pid < NPORTS, "message for port %u", pid);
			VBT_FUZZ_CHECK(ev == VB_VIRTIO_CONSOLE_DEVICE_ADD ||
				       ev == VB_VIRTIO_CONSOLE_DEVICE_REMOVE ||
				       ev == VB_VIRTIO_CONSOLE_CONSOLE_PORT ||
				       ev == VB_VIRTIO_CONSOLE_RESIZE ||
				       ev == VB_VIRTIO_CONSOLE_PORT_OPEN ||
				       ev == VB_VIRTIO_CONSOLE_PORT_NAME, "event %u to the driver", ev);
			if (ev == VB_VIRTIO_CONSOLE_PORT_NAME) {
				VBT_FUZZ_CHECK(names[pid] && len - 8u == strlen(names[pid]) &&
					       !memcmp(p + 8, names[pid], len - 8u), "bad name");
			} else if (ev == VB_VIRTIO_CONSOLE_RESIZE) {
				VBT_FUZZ_CHECK(len == 12u, "resize of %u bytes", len);
			} else {
				VBT_FUZZ_CHECK(len == 8u, "event %u of %u bytes", ev, len);
			}
		}
		if (f->posted[q])
			f->posted[q]--;
		f->busy[q] &= ~(1ull << f->slot_of[q][id]);
	}
}

static void reap_all(struct fz *f)
{
	for (uint16_t q = 0; q < f->nq; q++)
		reap(f, q);
}

/* Add one buffer of len bytes at a fresh slot; false if the queue is full. */
static bool add(struct fz *f, uint16_t q, uint32_t len, bool write, const void *data)
{
	struct vbt_buf b;
	uint16_t head;
	unsigned int s;

	if (q >= f->nq || f->posted[q] >= QSZ - 1u)
		return false;
	s = slot(f);
	b = (struct vbt_buf){ f->g.gpa + (uint64_t)s * SLOT, len > SLOT ? SLOT : len, write };
	if (data && !write)
		memcpy(vbt_guest_ptr(&f->g, b.gpa), data, b.len);
	head = vbt_split_add(&f->r[q], &b, 1, false);
	f->buf[q][head] = b.gpa;
	f->slot_of[q][head] = (uint8_t)s;
	f->busy[q] |= 1ull << s;
	f->wlen[q][head] = write ? b.len : 0;
	f->posted[q]++;
	return true;
}

static void kick(struct fz *f, uint16_t q)
{
	if (q < f->nq)
		(void)vb_dev_kick(f->dev, q);
}

static bool probe(struct fz *f)
{
	uint64_t feat = vb_dev_get_features(f->dev) & ~VB_BIT(VB_VIRTIO_F_RING_PACKED);

	memset(f->posted, 0, sizeof(f->posted));
	if (f->drop & 1u)
		feat &= ~VB_BIT(VB_VIRTIO_CONSOLE_F_MULTIPORT);
	if (f->drop & 2u)
		feat &= ~VB_BIT(VB_VIRTIO_CONSOLE_F_SIZE);
	if (f->drop & 4u)
		feat &= ~VB_BIT(VB_VIRTIO_CONSOLE_F_EMERG_WRITE);
	if (f->drop & 8u)
		feat &= ~VB_BIT(VB_VIRTIO_F_EVENT_IDX);
	f->features = feat;
	if (vbt_fuzz_dev_features(f->dev, feat) < 0)
		return false;
	f->nq = (feat & VB_BIT(VB_VIRTIO_CONSOLE_F_MULTIPORT)) ? NQ : 2u;
	for (uint16_t q = 0; q < f->nq; q++)
		vbt_split_init(&f->r[q], &f->g, QSZ);
	memset(f->busy, 0, sizeof(f->busy));	/* fresh rings: the old buffers are gone */
	return vbt_fuzz_dev_ready(f->dev, f->r, f->nq) == 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct vbt_fuzz_in in = { data, size };
	struct vb_console_config cfg;
	struct fz *f = calloc(1, sizeof(*f));
	uint8_t ports;

	if (!f)
		return 0;
	cur = f;
	f->drop = vbt_fuzz_u8(&in);
	ports = vbt_fuzz_u8(&in);
	f->pops = (struct vb_console_port_ops){ .version = VB_CONSOLE_PORT_OPS_V1,
		.write = p_write, .read = p_read, .want = p_want };
	for (unsigned int i = 0; i < NPORTS; i++)
		f->pc[i] = (struct vb_console_port_config){ .ops = &f->pops, .ctx = &f->fp[i],
			.name = names[i], .console = i == 0, .connected = (ports >> i) & 1u,
			.absent = i == 2 };
	f->fp[0].limit = (ports >> 4) & 3u;
	cfg = (struct vb_console_config){ .version = VB_CONSOLE_CONFIG_V1,
		.flags = VB_CONSOLE_CFG_SIZE | VB_CONSOLE_CFG_MULTIPORT |
			 VB_CONSOLE_CFG_EMERG_WRITE,
		.cols = 80, .rows = 24, .queue_num_max = QSZ, .num_ports = NPORTS,
		.ports = f->pc };
	if (vbt_guest_init(&f->g, 0x10000, SLOTS * SLOT + 16384u, 0) ||
	    vb_console_create(&cfg, &f->con)) {
		free(f);
		return 0;
	}
	/* Rings after the buffer slots. */
	f->g.next = SLOTS * SLOT;
	if (vb_dev_init(f->dev_storage, sizeof(f->dev_storage), vb_console_device_ops(f->con),
			f->con, &vbt_fuzz_quiet_tops, f, &f->g.mem, &f->dev) || !probe(f))
		goto out;
	for (unsigned int n = 0; n < VBT_FUZZ_MAX_OPS && in.left; n++) {
		struct vbt_fuzz_op op;
		uint16_t port;
		uint8_t raw[16];

		vbt_fuzz_op_get(&in, &op);
		port = (uint16_t)(op.a % NPORTS);
		switch (op.code % 8u) {
		case 0: {
			struct vb_virtio_console_control m = { vb_cpu_to_le32(op.c),
				vb_cpu_to_le16(op.a), vb_cpu_to_le16(op.b) };

			if (add(f, 3, sizeof(m), false, &m))
				kick(f, 3);
			break;
		}
		case 1:
			for (unsigned int i = 0; i < sizeof(raw); i++)
				raw[i] = (uint8_t)(op.c >> (8u * (i % 4u)));
			if (add(f, 3, op.a % 16u, op.b & 1u, raw))
				kick(f, 3);
			break;
		case 2:
			if (add(f, 2, op.b % 300u, true, NULL))
				kick(f, 2);
			break;
		case 3:
			(void)vb_console_port_set_connected(f->con, port, op.c & 1u);
			break;
		case 4:
			(void)vb_console_port_set_present(f->con, port, op.c & 1u);
			break;
		case 5: {
			uint16_t q = (uint16_t)(rxq(port) + 1u);

			if (add(f, q, op.b % 64u, false, NULL))
				kick(f, q);
			(void)vb_console_port_output(f->con, port);
			break;
		}
		case 6:
			if (add(f, rxq(port), op.b % 128u, !(op.c & 1u), NULL))
				kick(f, rxq(port));
			f->fp[port].in_left = (op.c >> 8) & 0xffu;
			(void)vb_console_port_input(f->con, port);
			break;
		default:
			if (op.a == 0) {
				(void)vb_console_set_size(f->con, op.b, (uint16_t)op.c);
			} else if (op.a == 1) {
				uint32_t v = op.c;

				(void)vb_dev_config_write(f->dev, VB_VIRTIO_CONSOLE_CONFIG_EMERG_WR, &v,
							  sizeof(v));
			} else if (op.a == 2) {
				vb_dev_reset(f->dev);
				if (!probe(f))
					goto out;
			} else if (f->features & VB_BIT(VB_VIRTIO_F_RING_RESET)) {
				uint16_t q = (uint16_t)(op.b % f->nq);

				reap(f, q);
				if (vb_dev_queue_reset(f->dev, q) == 0) {
					f->posted[q] = 0;
					f->busy[q] = 0;
					vbt_split_init(&f->r[q], &f->g, QSZ);
					(void)vbt_fuzz_dev_queue(f->dev, q, &f->r[q]);
				}
			}
			break;
		}
		reap_all(f);
		/* The guest's ring memory is bump-allocated by reset and queue reset. */
		if (f->g.next > f->g.size - 4096u)
			break;
	}
out:
	if (f->dev)
		vb_dev_reset(f->dev);
	vb_console_destroy(f->con);
	vbt_guest_fini(&f->g);
	free(f);
	cur = NULL;
	return 0;
}
