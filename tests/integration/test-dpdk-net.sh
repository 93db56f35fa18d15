#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# vb-vhost-user net against DPDK's virtio-user front-end (dpdk-testpmd, no VM): frames that
# testpmd transmits reach the daemon's loopback backend intact and come back to testpmd,
# counted on both sides. Split and packed rings, 1 and 2 queue pairs, mergeable receive
# buffers on and off:
#   - rxonly after one tx_first burst of 64-byte UDP frames per queue: testpmd receives
#     every frame it sent, each parsed by testpmd as Ethernet/IPv4/UDP of 64 bytes;
#   - with mergeable buffers, 3000-byte frames of two transmit segments come back as one
#     frame of two receive buffers (num_buffers 2);
#   - without, 1518-byte frames come back whole;
#   - io forwarding (frames bounce between testpmd and the loopback) for a second;
#   - the daemon's totals (logged when testpmd leaves) match testpmd's counters: frames and
#     bytes transmitted, no transmit error, no frame dropped.
#
# usage: test-dpdk-net.sh VB_VHOST_USER     (exit 77 with the reason when testpmd is absent)
# @verify{VB-REQ-NET-060} @verify{VB-REQ-NET-030} @verify{VB-REQ-NET-052}
set -uo pipefail

daemon=${1:?usage: test-dpdk-net.sh path/to/vb-vhost-user}
testpmd=${TESTPMD:-dpdk-testpmd}

if ! command -v "$testpmd" >/dev/null 2>&1; then
	echo "SKIP: $testpmd not found (Debian package dpdk-dev; scripts/deps installs it)"
	exit 77
fi
if [[ ! -x "$daemon" ]]; then
	echo "SKIP: $daemon not built"
	exit 77
fi

dir=$(mktemp -d /tmp/vb-dpdk-net.XXXXXX)
dpid=
cleanup() {
	[[ -n "$dpid" ]] && kill "$dpid" 2>/dev/null && wait "$dpid" 2>/dev/null
	[[ -n "${KEEP:-}" ]] || rm -rf "$dir"
}
trap cleanup EXIT

fails=0
fail() {
	echo "FAIL: $*"
	fails=$((fails + 1))
}

# Values of "NAME: N" on lines of the accumulated statistics that testpmd prints at "stop"
# (one port: the port's block and the accumulated block repeat each other; keep the second).
acc() {	# log RX|TX
	grep -a -o "$2-packets: *[0-9]* *$2-dropped: *[0-9]* *$2-total" "$1" |
		awk 'NR % 2 == 0 { print $2 }'
}

# One testpmd session against a fresh daemon.
run_combo() {	# packed mrg queues
	local packed=$1 mrg=$2 q=$3 tag="packed=$1 mrg=$2 queues=$3"
	local sock=$dir/s-$1-$2-$3.sock log=$dir/tp-$1-$2-$3.log dlog=$dir/d-$1-$2-$3.log
	local big=1518 bigpkts=1518
	((mrg)) && { big=3000; bigpkts=1500,1500; }

	"$daemon" net --socket-path "$sock" --backend loopback --num-queues "$q" >"$dlog" 2>&1 &
	dpid=$!
	for _ in $(seq 50); do [[ -S "$sock" ]] && break; sleep 0.1; done
	[[ -S "$sock" ]] || { fail "$tag: daemon did not listen"; cat "$dlog"; return; }

	{
		echo "set verbose 1"; sleep 0.5
		echo "start tx_first"; sleep 1; echo "stop"
		echo "set txpkts $bigpkts"
		echo "start tx_first"; sleep 1; echo "stop"
		echo "set verbose 0"; echo "set txpkts 64"; echo "set fwd io"
		echo "start tx_first"; sleep 1; echo "stop"
		sleep 0.3; echo "quit"
	} | timeout 60 stdbuf -oL "$testpmd" --no-huge -m 256 --no-pci --file-prefix="vbnet$$" \
		--log-level=lib.eal:error \
		--vdev "net_virtio_user0,path=$sock,queues=$q,packed_vq=$packed,mrg_rxbuf=$mrg" -- \
		-i --total-num-mbufs=16384 --rxq="$q" --txq="$q" --nb-cores=1 \
		--forward-mode=rxonly >"$log" 2>&1
	local rc=$?
	# The daemon logs its totals when the front-end hangs up.
	for _ in $(seq 30); do grep -q 'device reset: totals' "$dlog" && break; sleep 0.1; done
	kill "$dpid" 2>/dev/null
	wait "$dpid" 2>/dev/null
	dpid=

	if grep -a -q -E 'Cannot init EAL|EAL: FATAL' "$log"; then
		echo "SKIP: testpmd cannot initialise DPDK here:"
		grep -a -E 'EAL' "$log" | tail -3
		exit 77
	fi
	if ((rc != 0)); then
		fail "$tag: testpmd exited $rc"
		tail -20 "$log"
		return
	fi
	mapfile -t rx < <(acc "$log" RX)
	mapfile -t tx < <(acc "$log" TX)
	if ((${#rx[@]} != 3 || ${#tx[@]} != 3)); then
		fail "$tag: expected 3 phases of statistics, got ${#rx[@]}"
		tail -30 "$log"
		return
	fi
	local burst=$((32 * q))
	# Phase 1: every 64-byte frame back, parsed as Ethernet/IPv4/UDP.
	local n64 nbig
	n64=$(grep -a -o 'length=64 - nb_segs=1 - sw ptype: L2_ETHER L3_IPV4 L4_UDP' "$log" | wc -l)
	[[ "${tx[0]}" == "$burst" && "${rx[0]}" == "$burst" ]] ||
		fail "$tag: 64-byte burst: sent ${tx[0]}, received ${rx[0]} (want $burst)"
	[[ "$n64" == "$burst" ]] || fail "$tag: $n64 of $burst 64-byte frames parsed intact"
	# Phase 2: big frames back whole (mergeable: two receive buffers each).
	local segs=1
	((mrg)) && segs=2
	nbig=$(grep -a -o "length=$big - nb_segs=$segs - sw ptype: L2_ETHER L3_IPV4 L4_UDP" "$log" |
		wc -l)
	[[ "${tx[1]}" == "$burst" && "${rx[1]}" == "$burst" ]] ||
		fail "$tag: $big-byte burst: sent ${tx[1]}, received ${rx[1]} (want $burst)"
	[[ "$nbig" == "$burst" ]] ||
		fail "$tag: $nbig of $burst $big-byte frames came back as $segs buffer(s)"
	# Phase 3: io forwarding kept frames moving.
	((${rx[2]} > burst)) || fail "$tag: io forwarding received only ${rx[2]} frames"

	# The daemon saw the same traffic: every transmitted frame taken, none refused.
	local totals dtx dtxb dtxe drx ddrop
	totals=$(grep 'device reset: totals' "$dlog" | tail -1)
	dtx=$(sed -n 's/.*totals tx \([0-9]*\) frames (\([0-9]*\) bytes, \([0-9]*\) errors).*/\1/p' <<<"$totals")
	dtxe=$(sed -n 's/.*totals tx [0-9]* frames ([0-9]* bytes, \([0-9]*\) errors).*/\1/p' <<<"$totals")
	drx=$(sed -n 's/.*rx \([0-9]*\) frames.*/\1/p' <<<"$totals")
	ddrop=$(sed -n 's/.*buffers, \([0-9]*\) dropped.*/\1/p' <<<"$totals")
	dtxb=$(sed -n 's/.*totals tx [0-9]* frames (\([0-9]*\) bytes.*/\1/p' <<<"$totals")
	local ttx=$((tx[0] + tx[1] + tx[2])) trx=$((rx[0] + rx[1] + rx[2]))
	[[ -n "$dtx" ]] || { fail "$tag: no totals from the daemon"; cat "$dlog"; return; }
	[[ "$dtx" == "$ttx" ]] || fail "$tag: daemon took $dtx frames, testpmd sent $ttx"
	[[ "$dtxe" == 0 && "$ddrop" == 0 ]] ||
		fail "$tag: daemon counted $dtxe transmit errors, $ddrop receive drops"
	# Frames looped back after testpmd stopped polling stay in its receive ring.
	((drx >= trx && drx <= trx + 1024 * q)) ||
		fail "$tag: daemon delivered $drx frames, testpmd received $trx"
	local want_bytes=$(((tx[0] + tx[2]) * 64 + tx[1] * big))
	[[ "$dtxb" == "$want_bytes" ]] ||
		fail "$tag: daemon took $dtxb bytes, testpmd sent $want_bytes"
	echo "ok: $tag: sent ${tx[*]} received ${rx[*]}; daemon tx $dtx rx $drx"
}

for packed in 0 1; do
	for mrg in 0 1; do
		for q in 1 2; do
			run_combo "$packed" "$mrg" "$q"
		done
	done
done

if ((fails)); then
	echo "$fails failure(s); logs were in $dir"
	exit 1
fi
echo "PASS: testpmd virtio-user <-> vb-vhost-user net loopback"
