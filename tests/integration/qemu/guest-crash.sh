# SPDX-License-Identifier: MIT
#
# Guest side of run-blk --scenario crash (busybox sh, run by guest-init). run-blk prepends:
#   VB_SIZE        expected disk size in bytes
#   VB_CRASH       "OFFSET:LENGTH:BLOCKSIZE" the region rewritten over and over
#   VB_CRASH_SECS  keep rewriting for at least this many seconds (guest uptime)
# Each pass writes the region with O_DIRECT (pattern "guest:%02d offset=%015d\n", pass 1, 2,
# 1, 2, ... so consecutive passes differ), fsyncs and reads it back with O_DIRECT; a mismatch
# or an I/O error fails at once. The host SIGKILLs and restarts the back-end once it sees
# "INFO workload start", so some pass spans the outage.
# Output: INFO lines, then  RESULT ok mode=crash passes=N last=P r0=MD5 ...  or  RESULT fail R
#
# @verify{VB-REQ-VU-206}

set -u
dev=/dev/vda

fail() {
	echo "RESULT fail $*"
	exit 1
}
now() { cut -d' ' -f1 /proc/uptime; }

i=0
while [ ! -b $dev ] && [ $i -lt 100 ]; do
	sleep 0.1
	i=$((i + 1))
done
[ -b $dev ] || fail "no $dev after 10 s"
size=$(($(cat /sys/block/vda/size) * 512))
[ "$size" = "$VB_SIZE" ] || fail "$dev has $size bytes, the image has $VB_SIZE"

off=${VB_CRASH%%:*}
rest=${VB_CRASH#*:}
len=${rest%%:*}
bs=${rest#*:}
for p in 1 2; do
	awk -v r="$p" -v o="$off" -v n="$len" \
		'BEGIN { for (q = o; q < o + n; q += 32) printf "guest:%02d offset=%015d\n", r, q }' >/tmp/p$p
	md5sum </tmp/p$p | cut -d' ' -f1 >/tmp/p$p.md5
done

t0=$(now)
echo "INFO workload start at ${t0}s"
n=0
maxpass=0
while :; do
	p=$((n % 2 + 1))
	ts=$(now)
	dd if=/tmp/p$p of=$dev bs="$bs" seek="$off" oflag=seek_bytes,direct conv=fsync 2>/tmp/dd.err ||
		fail "pass $((n + 1)): write failed: $(tr '\n' ' ' </tmp/dd.err)"
	got=$(dd if=$dev bs=65536 skip="$off" count="$len" iflag=skip_bytes,count_bytes,direct 2>/tmp/dd.err |
		md5sum | cut -d' ' -f1)
	[ "$got" = "$(cat /tmp/p$p.md5)" ] ||
		fail "pass $((n + 1)): read back md5 $got, wrote $(cat /tmp/p$p.md5) ($(cat /tmp/dd.err))"
	te=$(now)
	n=$((n + 1))
	d=$(awk -v a="$ts" -v b="$te" 'BEGIN { printf "%.2f", b - a }')
	maxpass=$(awk -v a="$maxpass" -v b="$d" 'BEGIN { print (b > a) ? b : a }')
	echo "INFO pass $n (pattern $p) verified in ${d} s"
	awk -v a="$t0" -v b="$te" -v s="$VB_CRASH_SECS" 'BEGIN { exit !(b - a >= s) }' && [ $n -ge 2 ] && break
done
echo "RESULT ok mode=crash passes=$n last=$p longest=${maxpass}s r0=$got"
