# SPDX-License-Identifier: MIT
#
# Guest side of tests/integration/qemu/run-blk (busybox sh, run by guest-init).
# run-blk prepends the parameters:
#   VB_MODE     rw: write the regions, read them back; ro: the disk must be read-only
#   VB_SIZE     expected disk size in bytes
#   VB_QUEUES   expected number of virtqueues (blk-mq hardware queues)
#   VB_REGIONS  "OFFSET:LENGTH:BLOCKSIZE ..." regions to write (all multiples of 512)
#   VB_PROBE    "OFFSET:LENGTH" a region the test never writes
# Output (second serial port, parsed by run-blk): INFO lines, then exactly one
#   RESULT ok mode=M r0=MD5 r1=MD5 ...      or      RESULT fail REASON
#
# Data patterns, 32-byte lines that name their own disk offset, so that data at the wrong
# place or from the wrong write cannot match (run-blk builds the same bytes on the host):
#   image (initial content):  "image offset=%018d\n"
#   written by the guest:     "guest:%02d offset=%015d\n"  (region number, disk offset)
#
# @verify{VB-REQ-VU-200} @verify{VB-REQ-VU-201} @verify{VB-REQ-VU-202} @verify{VB-REQ-VU-203}

set -u
dev=/dev/vda
blk=/sys/block/vda

fail() {
	echo "RESULT fail $*"
	exit 1
}

now() { cut -d' ' -f1 /proc/uptime; }

gen_image() {	# OFFSET LENGTH
	awk -v o="$1" -v n="$2" 'BEGIN { for (p = o; p < o + n; p += 32) printf "image offset=%018d\n", p }'
}

# image_md5 OFFSET LENGTH: md5 of the original content. Through a file: busybox awk writing
# into a pipe is several times slower in the emulated guest.
image_md5() {
	gen_image "$1" "$2" >/tmp/image.part
	md5sum </tmp/image.part | cut -d' ' -f1
	rm -f /tmp/image.part
}

gen_guest() {	# REGION OFFSET LENGTH
	awk -v r="$1" -v o="$2" -v n="$3" \
		'BEGIN { for (p = o; p < o + n; p += 32) printf "guest:%02d offset=%015d\n", r, p }'
}

# read_md5 OFFSET LENGTH [direct]: md5 of LENGTH bytes of the disk at OFFSET
read_md5() {
	flags=skip_bytes,count_bytes
	[ "${3:-}" = direct ] && flags=$flags,direct
	dd if=$dev bs=65536 skip="$1" count="$2" iflag=$flags 2>/tmp/dd.err | md5sum | cut -d' ' -f1
}

# req_irqs: "virtioN-req.Q=COUNT ..." interrupts per request queue, summed over the vCPUs
req_irqs() {
	awk -v c="$(nproc)" '$NF ~ /^virtio[0-9]+-req\.[0-9]+$/ {
		s = 0
		for (i = 2; i <= c + 1; i++)
			s += $i
		printf "%s=%d ", $NF, s
	}' /proc/interrupts
}

# --- the stock driver bound to the device -----------------------------------------------
i=0
while [ ! -b $dev ] && [ $i -lt 100 ]; do
	sleep 0.1
	i=$((i + 1))
done
if [ ! -b $dev ]; then
	for d in /sys/bus/virtio/devices/*; do
		[ -e "$d" ] && echo "INFO virtio $(basename "$d") device=$(cat "$d/device")" \
			"driver=$(basename "$(readlink "$d/driver" 2>/dev/null)" 2>/dev/null)"
	done
	fail "no $dev after 10 s (lsmod: $(lsmod | awk 'NR > 1 { print $1 }' | tr '\n' ' '))"
fi
drv=$(basename "$(readlink $blk/device/driver)")
devid=$(cat $blk/device/device)
[ "$drv" = virtio_blk ] || fail "$dev is bound to driver '$drv', not virtio_blk"
# virtio 1.2, 5.2.1 "Device ID": 2 is a block device
[ "$devid" = 0x0002 ] || fail "$dev is virtio device $devid, not 0x0002 (block)"
features=$(cat $blk/device/features)
size=$(($(cat $blk/size) * 512))
nq=$(ls $blk/mq | wc -l)
ro=$(blockdev --getro $dev)
echo "INFO $dev driver=$drv size=$size queues=$nq ro=$ro features=$features at $(now)s"
[ "$size" = "$VB_SIZE" ] || fail "$dev has $size bytes, the image has $VB_SIZE"
[ "$nq" = "$VB_QUEUES" ] || fail "$dev has $nq blk-mq queues, expected $VB_QUEUES"

# The original content, read through the device: the read path works before any write.
probe_off=${VB_PROBE%%:*}
probe_len=${VB_PROBE##*:}
want=$(image_md5 "$probe_off" "$probe_len")
got=$(read_md5 "$probe_off" "$probe_len" direct)
[ "$got" = "$want" ] || fail "read of the untouched region $VB_PROBE: md5 $got, expected $want ($(cat /tmp/dd.err))"

if [ "$VB_MODE" = ro ]; then
	# virtio 1.2, 5.2.3 "Feature bits": VIRTIO_BLK_F_RO (5) "Device is read-only"
	[ "$(echo "$features" | cut -c6)" = 1 ] || fail "VIRTIO_BLK_F_RO not negotiated (features $features)"
	[ "$ro" = 1 ] || fail "blockdev --getro $dev says $ro on a read-only export"
	gen_guest 0 0 4096 >/tmp/w
	if dd if=/tmp/w of=$dev bs=4096 count=1 oflag=direct 2>/tmp/dd.err; then
		fail "a write to the read-only $dev succeeded"
	fi
	echo "INFO write refused as expected: $(head -n 1 /tmp/dd.err)"
	# Every region run-blk would write must still hold the image, read uncached.
	sums=""
	n=0
	for r in $VB_REGIONS; do
		off=${r%%:*}
		rest=${r#*:}
		len=${rest%%:*}
		want=$(image_md5 "$off" "$len")
		got=$(read_md5 "$off" "$len" direct)
		[ "$got" = "$want" ] || fail "read-only region $n at $off: md5 $got, expected $want"
		sums="$sums r$n=$got"
		n=$((n + 1))
	done
	echo "RESULT ok mode=ro$sums"
	exit 0
fi

[ "$ro" = 0 ] || fail "$dev is read-only on a writable export"

# --- write the regions ---------------------------------------------------------------------
# With several vCPUs each region's writer is pinned to a vCPU in turn, so that blk-mq sends
# its requests down that vCPU's queue: every virtqueue carries requests, concurrently.
cpus=$(nproc)
irqs_before=$(req_irqs)
t0=$(now)
n=0
pids=""
for r in $VB_REGIONS; do
	off=${r%%:*}
	rest=${r#*:}
	len=${rest%%:*}
	bs=${rest#*:}
	gen_guest "$n" "$off" "$len" >/tmp/r$n
	md5sum </tmp/r$n | cut -d' ' -f1 >/tmp/r$n.md5
	cpu=$((n % cpus))
	(taskset $((1 << cpu)) dd if=/tmp/r$n of=$dev bs="$bs" seek="$off" \
		oflag=seek_bytes,direct conv=fsync \
		2>/tmp/r$n.err || echo "dd exit $?" >>/tmp/r$n.err; echo finished >/tmp/r$n.done) &
	pids="$pids $!"
	n=$((n + 1))
done
for p in $pids; do
	wait "$p"
done
n=0
for r in $VB_REGIONS; do
	[ -f /tmp/r$n.done ] || fail "writer of region $n did not finish"
	if grep -q 'dd exit' /tmp/r$n.err; then
		fail "write of region $n ($r) failed: $(tr '\n' ' ' </tmp/r$n.err)"
	fi
	n=$((n + 1))
done
# conv=fsync above made each writer fsync /dev/vda: a VIRTIO_BLK_T_FLUSH where the device
# offers VIRTIO_BLK_F_FLUSH.
sync
# Reads below must come from the device, not from the page cache.
echo 3 >/proc/sys/vm/drop_caches
t1=$(now)
echo "INFO wrote $n regions in $(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f", b - a }') s"

# --- read back: O_DIRECT, and once more through the (dropped) page cache ----------------------
sums=""
n=0
for r in $VB_REGIONS; do
	off=${r%%:*}
	rest=${r#*:}
	len=${rest%%:*}
	want=$(cat /tmp/r$n.md5)
	got=$(read_md5 "$off" "$len" direct)
	[ "$got" = "$want" ] || fail "region $n ($r) read back (O_DIRECT): md5 $got, expected $want"
	got=$(read_md5 "$off" "$len")
	[ "$got" = "$want" ] || fail "region $n ($r) read back (buffered): md5 $got, expected $want"
	sums="$sums r$n=$got"
	n=$((n + 1))
done
got=$(read_md5 "$probe_off" "$probe_len" direct)
want=$(image_md5 "$probe_off" "$probe_len")
[ "$got" = "$want" ] || fail "untouched region $VB_PROBE changed after the writes: md5 $got"

# Every virtqueue carried requests: the interrupts of each request queue's MSI-X vector
# ("virtioN-req.Q" in /proc/interrupts) went up during the writes and reads.
irqs_after=$(req_irqs)
echo "INFO request-queue interrupts before: $irqs_before after: $irqs_after"
for q in $(seq 0 $((VB_QUEUES - 1))); do
	b=$(echo "$irqs_before" | tr ' ' '\n' | sed -n "s/^virtio[0-9]*-req\.$q=//p")
	a=$(echo "$irqs_after" | tr ' ' '\n' | sed -n "s/^virtio[0-9]*-req\.$q=//p")
	[ -n "$a" ] || fail "no MSI-X vector for request queue $q in /proc/interrupts"
	[ "$a" -gt "${b:-0}" ] || fail "request queue $q completed nothing (interrupts $b -> $a)"
done
echo "INFO read back at $(now)s"
echo "RESULT ok mode=rw$sums"
