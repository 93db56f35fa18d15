/* SPDX-License-Identifier: MIT */
/* virtio-mmio driver simulator and host glue (see vbt-mmio.h). */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "vbt-mmio.h"

/* ---- host side ---- */

static void host_set_irq(void *ctx, bool level)
{
	struct vbt_mmio_host *h = ctx;

	h->irq = level;
	if (level)
		h->irq_raised++;
	else
		h->irq_lowered++;
	if (h->on_irq)
		h->on_irq(h->on_irq_ctx, level);
}

int vbt_mmio_host_init(struct vbt_mmio_host *h, const struct vb_device_ops *ops, void *priv,
		       const struct vb_mem *mem)
{
	int ret;

	memset(h, 0, sizeof(*h));
	if (ops->num_queues > VBT_MMIO_MAX_QUEUES)
		return -EINVAL;
	h->ops = (struct vb_mmio_host_ops){
		.version = VB_MMIO_HOST_OPS_V1,
		.set_irq = host_set_irq,
	};
	ret = vb_mmio_init(h->mmio_storage, sizeof(h->mmio_storage), &h->ops, h, &h->mmio);
	if (ret < 0)
		return ret;
	ret = vb_dev_init(h->dev_storage, sizeof(h->dev_storage), ops, priv,
			  &vb_mmio_transport_ops, h->mmio, mem, &h->dev);
	if (ret < 0)
		return ret;
	return vb_mmio_attach(h->mmio, h->dev);
}

/* ---- driver side ---- */

#if defined(__GNUC__)
__attribute__((format(printf, 2, 3)))
#endif
static void trace(struct vbt_mmio_drv *d, const char *fmt, ...)
{
	char line[256];
	va_list ap;

	if (!d->trace)
		return;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	d->trace(d->trace_ctx, line);
}

static const char *reg_name(uint32_t off)
{
	static const struct {
		uint32_t off;
		const char *name;
	} names[] = {
		{ VB_MMIO_MAGIC_VALUE, "MagicValue" },
		{ VB_MMIO_VERSION, "Version" },
		{ VB_MMIO_DEVICE_ID, "DeviceID" },
		{ VB_MMIO_VENDOR_ID, "VendorID" },
		{ VB_MMIO_DEVICE_FEATURES, "DeviceFeatures" },
		{ VB_MMIO_DEVICE_FEATURES_SEL, "DeviceFeaturesSel" },
		{ VB_MMIO_DRIVER_FEATURES, "DriverFeatures" },
		{ VB_MMIO_DRIVER_FEATURES_SEL, "DriverFeaturesSel" },
		{ VB_MMIO_QUEUE_SEL, "QueueSel" },
		{ VB_MMIO_QUEUE_NUM_MAX, "QueueNumMax" },
		{ VB_MMIO_QUEUE_NUM, "QueueNum" },
		{ VB_MMIO_QUEUE_READY, "QueueReady" },
		{ VB_MMIO_QUEUE_NOTIFY, "QueueNotify" },
		{ VB_MMIO_INTERRUPT_STATUS, "InterruptStatus" },
		{ VB_MMIO_INTERRUPT_ACK, "InterruptACK" },
		{ VB_MMIO_STATUS, "Status" },
		{ VB_MMIO_QUEUE_DESC_LOW, "QueueDescLow" },
		{ VB_MMIO_QUEUE_DESC_HIGH, "QueueDescHigh" },
		{ VB_MMIO_QUEUE_DRIVER_LOW, "QueueDriverLow" },
		{ VB_MMIO_QUEUE_DRIVER_HIGH, "QueueDriverHigh" },
		{ VB_MMIO_QUEUE_DEVICE_LOW, "QueueDeviceLow" },
		{ VB_MMIO_QUEUE_DEVICE_HIGH, "QueueDeviceHigh" },
		{ VB_MMIO_SHM_SEL, "SHMSel" },
		{ VB_MMIO_SHM_LEN_LOW, "SHMLenLow" },
		{ VB_MMIO_SHM_LEN_HIGH, "SHMLenHigh" },
		{ VB_MMIO_SHM_BASE_LOW, "SHMBaseLow" },
		{ VB_MMIO_SHM_BASE_HIGH, "SHMBaseHigh" },
		{ VB_MMIO_QUEUE_RESET, "QueueReset" },
		{ VB_MMIO_CONFIG_GENERATION, "ConfigGeneration" },
	};

	if (off >= VB_MMIO_CONFIG)
		return "Config";
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (names[i].off == off)
			return names[i].name;
	return "?";
}

static void record(struct vbt_mmio_drv *d, int ret, uint64_t off, bool write)
{
	d->accesses++;
	if (ret < 0 && d->err == 0) {
		d->err = ret;
		d->err_off = off;
		d->err_write = write;
		trace(d, "access refused: %s %s (0x%03llx): %s", write ? "write" : "read",
		      reg_name((uint32_t)off), (unsigned long long)off, vb_strerror(ret));
	}
}

static uint32_t access_rd(struct vbt_mmio_drv *d, uint64_t off, unsigned int size)
{
	uint32_t v = 0;
	int ret = d->access ? d->access(d->access_ctx, false, off, size, &v) :
			      vb_mmio_read(d->mmio, off, size, &v);

	record(d, ret, off, false);
	if (d->trace_regs && ret == 0)
		trace(d, "  read  %-17s (0x%03llx/%u) -> 0x%08x", reg_name((uint32_t)off),
		      (unsigned long long)off, size, v);
	return v;
}

static void access_wr(struct vbt_mmio_drv *d, uint64_t off, unsigned int size, uint32_t v)
{
	int ret = d->access ? d->access(d->access_ctx, true, off, size, &v) :
			      vb_mmio_write(d->mmio, off, size, v);

	record(d, ret, off, true);
	if (d->trace_regs && ret == 0)
		trace(d, "  write %-17s (0x%03llx/%u) <- 0x%08x", reg_name((uint32_t)off),
		      (unsigned long long)off, size, v);
}

void vbt_mmio_drv_init(struct vbt_mmio_drv *d, struct vb_mmio *mmio)
{
	memset(d, 0, sizeof(*d));
	d->mmio = mmio;
}

uint32_t vbt_mmio_rd(struct vbt_mmio_drv *d, uint32_t off)
{
	return access_rd(d, off, 4);
}

void vbt_mmio_wr(struct vbt_mmio_drv *d, uint32_t off, uint32_t val)
{
	access_wr(d, off, 4, val);
}

const char *vbt_mmio_status_name(uint32_t status)
{
	static const struct {
		uint32_t bit;
		const char *name;
	} bits[] = {
		{ VB_VIRTIO_S_ACKNOWLEDGE, "ACKNOWLEDGE" },
		{ VB_VIRTIO_S_DRIVER, "DRIVER" },
		{ VB_VIRTIO_S_FEATURES_OK, "FEATURES_OK" },
		{ VB_VIRTIO_S_DRIVER_OK, "DRIVER_OK" },
		{ VB_VIRTIO_S_NEEDS_RESET, "NEEDS_RESET" },
		{ VB_VIRTIO_S_FAILED, "FAILED" },
	};
	static char buf[96];
	size_t n = 0;

	buf[0] = '\0';
	if (status == 0)
		return "0 (reset)";
	for (size_t i = 0; i < sizeof(bits) / sizeof(bits[0]); i++) {
		if (!(status & bits[i].bit))
			continue;
		n += (size_t)snprintf(buf + n, sizeof(buf) - n, "%s%s", n ? "|" : "",
				      bits[i].name);
	}
	return buf;
}

int vbt_mmio_probe(struct vbt_mmio_drv *d)
{
	uint32_t magic = vbt_mmio_rd(d, VB_MMIO_MAGIC_VALUE);

	/* virtio 1.2, 4.2.3.1.1: check MagicValue and Version, then DeviceID; stop at a bad
	 * one without touching anything else. */
	if (magic != VB_MMIO_MAGIC) {
		trace(d, "probe: MagicValue 0x%08x is not \"virt\": no device", magic);
		return d->err ? d->err : -ENODEV;
	}
	d->version = vbt_mmio_rd(d, VB_MMIO_VERSION);
	if (d->version != 2) {
		trace(d, "probe: Version %u, not 2: not supported", d->version);
		return d->err ? d->err : -ENODEV;
	}
	d->device_id = vbt_mmio_rd(d, VB_MMIO_DEVICE_ID);
	if (d->device_id == 0) {
		trace(d, "probe: DeviceID 0: placeholder, no device");
		return d->err ? d->err : -ENODEV;
	}
	d->vendor_id = vbt_mmio_rd(d, VB_MMIO_VENDOR_ID);
	trace(d, "probe: MagicValue 0x%08x (\"virt\"), Version %u, DeviceID 0x%x, VendorID 0x%08x",
	      magic, d->version, d->device_id, d->vendor_id);
	return d->err;
}

int vbt_mmio_reset(struct vbt_mmio_drv *d)
{
	unsigned int tries = 0;

	/* Steps are traced before their writes, so that what the host does in reaction is
	 * printed after them. */
	trace(d, "reset: Status <- 0");
	vbt_mmio_wr(d, VB_MMIO_STATUS, 0);
	/* Linux waits for the device to finish the reset (virtio 1.2, 4.2.3.1 / 2.4.1). */
	while (vbt_mmio_rd(d, VB_MMIO_STATUS) != 0 && !d->err)
		if (++tries > 1000)
			return -ETIMEDOUT;
	return d->err;
}

int vbt_mmio_add_status(struct vbt_mmio_drv *d, uint32_t bits)
{
	uint32_t s = vbt_mmio_rd(d, VB_MMIO_STATUS) | bits;

	trace(d, "status: Status <- 0x%02x %s", s, vbt_mmio_status_name(s));
	vbt_mmio_wr(d, VB_MMIO_STATUS, s);
	return d->err;
}

const char *vbt_mmio_feature_names(uint64_t features)
{
	static const struct {
		unsigned int bit;
		const char *name;
	} names[] = {
		{ VB_VIRTIO_F_INDIRECT_DESC, "INDIRECT_DESC" },
		{ VB_VIRTIO_F_EVENT_IDX, "EVENT_IDX" },
		{ VB_VIRTIO_F_VERSION_1, "VERSION_1" },
		{ VB_VIRTIO_F_ACCESS_PLATFORM, "ACCESS_PLATFORM" },
		{ VB_VIRTIO_F_RING_PACKED, "RING_PACKED" },
		{ VB_VIRTIO_F_IN_ORDER, "IN_ORDER" },
		{ VB_VIRTIO_F_ORDER_PLATFORM, "ORDER_PLATFORM" },
		{ VB_VIRTIO_F_SR_IOV, "SR_IOV" },
		{ VB_VIRTIO_F_NOTIFICATION_DATA, "NOTIFICATION_DATA" },
		{ VB_VIRTIO_F_NOTIF_CONFIG_DATA, "NOTIF_CONFIG_DATA" },
		{ VB_VIRTIO_F_RING_RESET, "RING_RESET" },
	};
	static char buf[256];
	uint64_t known = 0;
	size_t n = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		known |= VB_BIT(names[i].bit);
		if (features & VB_BIT(names[i].bit))
			n += (size_t)snprintf(buf + n, sizeof(buf) - n, "%s%s", n ? " " : "",
					      names[i].name);
	}
	if (features & ~known)
		snprintf(buf + n, sizeof(buf) - n, "%sdevice-specific 0x%llx", n ? " " : "",
			 (unsigned long long)(features & ~known));
	return buf;
}

uint64_t vbt_mmio_get_features(struct vbt_mmio_drv *d)
{
	uint64_t f;

	vbt_mmio_wr(d, VB_MMIO_DEVICE_FEATURES_SEL, 1);
	f = (uint64_t)vbt_mmio_rd(d, VB_MMIO_DEVICE_FEATURES) << 32;
	vbt_mmio_wr(d, VB_MMIO_DEVICE_FEATURES_SEL, 0);
	f |= vbt_mmio_rd(d, VB_MMIO_DEVICE_FEATURES);
	d->device_features = f;
	trace(d, "features: device offers 0x%016llx (%s)", (unsigned long long)f,
	      vbt_mmio_feature_names(f));
	return f;
}

int vbt_mmio_set_features(struct vbt_mmio_drv *d, uint64_t features)
{
	trace(d, "features: driver accepts 0x%016llx (%s)", (unsigned long long)features,
	      vbt_mmio_feature_names(features));
	vbt_mmio_wr(d, VB_MMIO_DRIVER_FEATURES_SEL, 1);
	vbt_mmio_wr(d, VB_MMIO_DRIVER_FEATURES, (uint32_t)(features >> 32));
	vbt_mmio_wr(d, VB_MMIO_DRIVER_FEATURES_SEL, 0);
	vbt_mmio_wr(d, VB_MMIO_DRIVER_FEATURES, (uint32_t)features);
	if (!d->err)
		d->features = features;
	return d->err;
}

int vbt_mmio_features_ok(struct vbt_mmio_drv *d)
{
	uint32_t s;
	int ret = vbt_mmio_add_status(d, VB_VIRTIO_S_FEATURES_OK);

	if (ret < 0)
		return ret;
	/* virtio 1.2, 3.1.1 step 6: re-read Status; FEATURES_OK clear means "not supported". */
	s = vbt_mmio_rd(d, VB_MMIO_STATUS);
	if (!(s & VB_VIRTIO_S_FEATURES_OK)) {
		trace(d, "status: reads back 0x%02x: the device refused the features", s);
		return d->err ? d->err : -ENODEV;
	}
	trace(d, "status: reads back 0x%02x: features accepted", s);
	return d->err;
}

int vbt_mmio_setup_queue(struct vbt_mmio_drv *d, uint16_t q, const struct vbt_split *r)
{
	uint32_t max;

	/* virtio 1.2, 4.2.3.2 "Virtqueue Configuration", steps 1-7, as vm_setup_vq does. */
	vbt_mmio_wr(d, VB_MMIO_QUEUE_SEL, q);
	if (vbt_mmio_rd(d, VB_MMIO_QUEUE_READY) != 0)
		return d->err ? d->err : -ENOENT;
	max = vbt_mmio_rd(d, VB_MMIO_QUEUE_NUM_MAX);
	if (max == 0)
		return d->err ? d->err : -ENOENT;
	if (r->num > max)
		return -ENOSPC;
	trace(d, "queue %u: QueueNumMax %u, QueueNum <- %u, desc 0x%llx, driver 0x%llx, "
	      "device 0x%llx, QueueReady <- 1", q, max, r->num, (unsigned long long)r->desc_gpa,
	      (unsigned long long)r->avail_gpa, (unsigned long long)r->used_gpa);
	vbt_mmio_wr(d, VB_MMIO_QUEUE_NUM, r->num);
	vbt_mmio_wr(d, VB_MMIO_QUEUE_DESC_LOW, (uint32_t)r->desc_gpa);
	vbt_mmio_wr(d, VB_MMIO_QUEUE_DESC_HIGH, (uint32_t)(r->desc_gpa >> 32));
	vbt_mmio_wr(d, VB_MMIO_QUEUE_DRIVER_LOW, (uint32_t)r->avail_gpa);
	vbt_mmio_wr(d, VB_MMIO_QUEUE_DRIVER_HIGH, (uint32_t)(r->avail_gpa >> 32));
	vbt_mmio_wr(d, VB_MMIO_QUEUE_DEVICE_LOW, (uint32_t)r->used_gpa);
	vbt_mmio_wr(d, VB_MMIO_QUEUE_DEVICE_HIGH, (uint32_t)(r->used_gpa >> 32));
	vbt_mmio_wr(d, VB_MMIO_QUEUE_READY, 1);
	return d->err;
}

int vbt_mmio_del_queue(struct vbt_mmio_drv *d, uint16_t q)
{
	vbt_mmio_wr(d, VB_MMIO_QUEUE_SEL, q);
	vbt_mmio_wr(d, VB_MMIO_QUEUE_READY, 0);
	/* virtio 1.2, 4.2.2.2: write 0 and read it back to ensure synchronization. */
	if (vbt_mmio_rd(d, VB_MMIO_QUEUE_READY) != 0)
		return d->err ? d->err : -EBUSY;
	trace(d, "queue %u: QueueReady <- 0, reads back 0", q);
	return d->err;
}

int vbt_mmio_init_device(struct vbt_mmio_drv *d, uint64_t wanted, struct vbt_split *rings,
			 unsigned int n)
{
	uint64_t offered;
	int ret;

	if ((ret = vbt_mmio_probe(d)) < 0 || (ret = vbt_mmio_reset(d)) < 0 ||
	    (ret = vbt_mmio_add_status(d, VB_VIRTIO_S_ACKNOWLEDGE)) < 0 ||
	    (ret = vbt_mmio_add_status(d, VB_VIRTIO_S_DRIVER)) < 0)
		return ret;
	offered = vbt_mmio_get_features(d);
	if (d->err)
		return d->err;
	/* Linux refuses a version 2 device without VERSION_1 (vm_finalize_features). */
	if (!(offered & VB_BIT(VB_VIRTIO_F_VERSION_1))) {
		trace(d, "features: VERSION_1 not offered by a version 2 device");
		return -ENODEV;
	}
	if ((ret = vbt_mmio_set_features(d, offered & wanted)) < 0 ||
	    (ret = vbt_mmio_features_ok(d)) < 0)
		return ret;
	for (unsigned int q = 0; q < n; q++)
		if ((ret = vbt_mmio_setup_queue(d, (uint16_t)q, &rings[q])) < 0)
			return ret;
	return vbt_mmio_add_status(d, VB_VIRTIO_S_DRIVER_OK);
}

int vbt_mmio_notify(struct vbt_mmio_drv *d, uint16_t q)
{
	trace(d, "kick: QueueNotify <- %u", q);
	vbt_mmio_wr(d, VB_MMIO_QUEUE_NOTIFY, q);
	return d->err;
}

uint32_t vbt_mmio_interrupt(struct vbt_mmio_drv *d)
{
	uint32_t st = vbt_mmio_rd(d, VB_MMIO_INTERRUPT_STATUS);

	trace(d, "interrupt: InterruptStatus 0x%x%s%s, InterruptACK <- 0x%x", st,
	      (st & VB_MMIO_INT_VRING) ? " (used buffer)" : "",
	      (st & VB_MMIO_INT_CONFIG) ? " (configuration change)" : "", st);
	/* vm_interrupt acknowledges what it read before handling it. */
	if (st)
		vbt_mmio_wr(d, VB_MMIO_INTERRUPT_ACK, st);
	return st;
}

uint32_t vbt_mmio_config_generation(struct vbt_mmio_drv *d)
{
	return vbt_mmio_rd(d, VB_MMIO_CONFIG_GENERATION);
}

/* One field read as vm_get() does for a version 2 device. */
static void read_field(struct vbt_mmio_drv *d, uint32_t off, uint8_t *b, uint32_t len)
{
	uint64_t base = VB_MMIO_CONFIG + (uint64_t)off;
	uint32_t v, w;

	switch (len) {
	case 1:
	case 2:
	case 4:
		v = access_rd(d, base, len);
		for (uint32_t i = 0; i < len; i++)
			b[i] = (uint8_t)(v >> (8 * i));
		break;
	case 8:
		v = access_rd(d, base, 4);
		w = access_rd(d, base + 4, 4);
		for (uint32_t i = 0; i < 4; i++) {
			b[i] = (uint8_t)(v >> (8 * i));
			b[4 + i] = (uint8_t)(w >> (8 * i));
		}
		break;
	default:
		for (uint32_t i = 0; i < len; i++)
			b[i] = (uint8_t)access_rd(d, base + i, 1);
		break;
	}
}

int vbt_mmio_config_read(struct vbt_mmio_drv *d, uint32_t off, void *buf, uint32_t len)
{
	uint32_t before, after;

	/* virtio 1.2, 2.5.1 "Driver Requirements: Device Configuration Space": retry until the
	 * generation is the same before and after (virtio_cread's loop). */
	for (unsigned int tries = 0; tries < 16; tries++) {
		before = vbt_mmio_config_generation(d);
		read_field(d, off, buf, len);
		after = vbt_mmio_config_generation(d);
		if (d->err)
			return d->err;
		if (before == after)
			return 0;
	}
	return -EAGAIN;
}

int vbt_mmio_config_write(struct vbt_mmio_drv *d, uint32_t off, const void *buf, uint32_t len)
{
	const uint8_t *b = buf;
	uint64_t base = VB_MMIO_CONFIG + (uint64_t)off;
	uint32_t v = 0;

	switch (len) {
	case 1:
	case 2:
	case 4:
		for (uint32_t i = 0; i < len; i++)
			v |= (uint32_t)b[i] << (8 * i);
		access_wr(d, base, len, v);
		break;
	case 8:
		for (uint32_t half = 0; half < 2; half++) {
			v = 0;
			for (uint32_t i = 0; i < 4; i++)
				v |= (uint32_t)b[4 * half + i] << (8 * i);
			access_wr(d, base + 4 * half, 4, v);
		}
		break;
	default:
		for (uint32_t i = 0; i < len; i++)
			access_wr(d, base + i, 1, b[i]);
		break;
	}
	return d->err;
}
