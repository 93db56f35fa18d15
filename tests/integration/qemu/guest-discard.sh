# SPDX-License-Identifier: MIT
#
# Guest side of run-blk --scenario discard (busybox sh, run by guest-init). run-blk prepends:
#   VB_SIZE      expected disk size in bytes
#   VB_DISCARD   "OFFSET:LENGTH" discarded with busybox blkdiscard (BLKDISCARD)
#   VB_PUNCH     "OFFSET:LENGTH" zeroed with vb-zero punch (write-zeroes, unmap allowed)
#   VB_ZEROOUT   "OFFSET:LENGTH" zeroed with vb-zero zeroout (BLKZEROOUT, no unmap)
# The disk holds run-blk's pattern ("image offset=%018d\n" lines). Output: INFO lines, then
#   RESULT ok ...   RESULT skip REASON   or   RESULT fail REASON
#
# @verify{VB-REQ-VU-204} @verify{VB-REQ-VU-205}

set -u
dev=/dev/vda
q=/sys/block/vda/queue

fail() {
	echo "RESULT fail $*"
	exit 1
}

i=0
while [ ! -b $dev ] && [ $i -lt 100 ]; do
	sleep 0.1
	i=$((i + 1))
done
[ -b $dev ] || fail "no $dev after 10 s"
size=$(($(cat /sys/block/vda/size) * 512))
[ "$size" = "$VB_SIZE" ] || fail "$dev has $size bytes, the image has $VB_SIZE"
features=$(cat /sys/block/vda/device/features)
dmax=$(cat $q/discard_max_bytes)
wmax=$(cat $q/write_zeroes_max_bytes)
echo "INFO features=$features discard_max_bytes=$dmax discard_granularity=$(cat $q/discard_granularity) write_zeroes_max_bytes=$wmax"
# virtio 1.2, 5.2.3 "Feature bits": VIRTIO_BLK_F_DISCARD (13), VIRTIO_BLK_F_WRITE_ZEROES (14);
# the sysfs features string is bit 0 first.
fd=$(echo "$features" | cut -c14)
fw=$(echo "$features" | cut -c15)
if [ "$fd" != 1 ] || [ "$fw" != 1 ] || [ "$dmax" = 0 ] || [ "$wmax" = 0 ]; then
	echo "RESULT skip the guest does not see discard/write-zeroes (features bit13=$fd bit14=$fw, discard_max_bytes=$dmax, write_zeroes_max_bytes=$wmax): QEMU hides them"
	exit 0
fi
command -v vb-zero >/dev/null || { echo "RESULT skip no vb-zero helper in the initramfs (prepare had no static gcc)"; exit 0; }

zeros_md5() {	# LENGTH
	dd if=/dev/zero bs=65536 count="$1" iflag=count_bytes 2>/dev/null | md5sum | cut -d' ' -f1
}
read_md5() {	# OFFSET LENGTH
	dd if=$dev bs=65536 skip="$1" count="$2" iflag=skip_bytes,count_bytes,direct 2>/tmp/dd.err |
		md5sum | cut -d' ' -f1
}
image_md5() {	# OFFSET LENGTH
	awk -v o="$1" -v n="$2" 'BEGIN { for (p = o; p < o + n; p += 32) printf "image offset=%018d\n", p }' >/tmp/p
	md5sum </tmp/p | cut -d' ' -f1
}

# Each range holds the image pattern before, and zeros after.
sums=""
for op in discard punch zeroout; do
	case $op in
	discard) r=$VB_DISCARD ;;
	punch) r=$VB_PUNCH ;;
	zeroout) r=$VB_ZEROOUT ;;
	esac
	off=${r%%:*}
	len=${r##*:}
	[ "$(read_md5 "$off" "$len")" = "$(image_md5 "$off" "$len")" ] ||
		fail "$op range $r does not hold the image before the $op"
	if [ $op = discard ]; then
		blkdiscard -o "$off" -l "$len" $dev 2>/tmp/op.err || fail "blkdiscard $r: $(cat /tmp/op.err)"
	else
		vb-zero $op $dev "$off" "$len" 2>/tmp/op.err || fail "vb-zero $op $r: $(cat /tmp/op.err)"
	fi
	got=$(read_md5 "$off" "$len")
	[ "$got" = "$(zeros_md5 "$len")" ] || fail "$op range $r does not read as zeros afterwards (md5 $got)"
	# The sectors just outside the range are untouched.
	[ "$(read_md5 $((off - 512)) 512)" = "$(image_md5 $((off - 512)) 512)" ] ||
		fail "the sector before the $op range $r changed"
	[ "$(read_md5 $((off + len)) 512)" = "$(image_md5 $((off + len)) 512)" ] ||
		fail "the sector after the $op range $r changed"
	echo "INFO $op $r: reads as zeros, neighbours intact"
	sums="$sums $op=$got"
done
sync
# /proc/diskstats fields 15 and 16: discards completed, sectors discarded
echo "INFO diskstats: $(awk '$3 == "vda" { print "discards=" $15 " discarded_sectors=" $17 }' /proc/diskstats)"
echo "RESULT ok mode=discard$sums"
