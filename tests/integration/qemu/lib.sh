# SPDX-License-Identifier: MIT
# shellcheck shell=bash
#
# What every real-guest test shares: kernel and initramfs (prepare), the accelerator, a
# work directory, the back-end daemons it starts, one QEMU boot and its result. A test is a
# bash script that sources this file, then:
#
#   vbq_init NAME                   work dir $work, cleanup trap, $VB_QEMU_* from prepare,
#                                   $accel and $accel_opts; exits 77 when a guest cannot be had
#   vbq_start_backend LOG SOCK CMD...   start a back-end, wait for its socket; sets $bpid
#   vbq_guest_script FILE           the busybox sh script the guest runs (fw_cfg opt/vb/test);
#                                   it prints "RESULT ok ...", "RESULT fail ..." or
#                                   "RESULT skip WHY" and may print "INFO ..." lines
#   vbq_boot [--cpus N] [--mem SIZE] [--mods a,b] [-- QEMU-ARGS...]
#                                   boots the guest (QEMU-ARGS: its -chardev/-device), waits
#                                   for it to power off, a timeout or a back-end's death;
#                                   sets $res (the RESULT line) and $guest_s; fails the test
#                                   on a timeout, a QEMU error, a dead back-end or no RESULT;
#                                   "RESULT skip" exits 77; anything but "RESULT ok" fails
#   vbq_fail MSG / vbq_skip MSG / vbq_pass MSG   end the test (1 / 77 / 0)
#   log MSG                         a timestamped line
#
# Hooks a test may set before vbq_boot: vbq_poll (a function run every 0.1 s while the guest
# runs, e.g. to drive host-side I/O; return non-zero to stop the guest as failed).
# env: VB_QEMU_ACCEL=auto|tcg|kvm, VB_QEMU_CPU, VB_QEMU_TIMEOUT (s, default 150), VB_QEMU_KEEP=1
# (keep the work directory), VB_QEMU_CACHE (see prepare).

vbq_here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
vbq_t0=$(date +%s.%N)
vbq_pids=()
vbq_backend_logs=()
vbq_backends=()
vbq_result=1
vbq_name=qemu
vbq_script=
vbq_poll=

log() { printf '[%6.2fs] %s\n' "$(echo "$(date +%s.%N) $vbq_t0" | awk '{ print $1 - $2 }')" "$*"; }

vbq_skip() {
	echo "SKIP: $*"
	vbq_result=0
	exit 77
}

# stop_pid PID: TERM, up to 5 s, then KILL. Only ever the PIDs this script started.
vbq_stop_pid() {
	local pid=$1 i
	kill -0 "$pid" 2>/dev/null || { wait "$pid" 2>/dev/null || true; return 0; }
	kill -TERM "$pid" 2>/dev/null || true
	for ((i = 0; i < 50; i++)); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	kill -0 "$pid" 2>/dev/null && kill -KILL "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null || true
}

# shellcheck disable=SC2317 # called by the EXIT trap
vbq_cleanup() {
	local p
	for p in "${vbq_pids[@]}"; do
		vbq_stop_pid "$p"
	done
	[[ -n "${vbq_socks:-}" ]] && rm -f $vbq_socks
	if [[ $vbq_result -eq 0 && -z "${VB_QEMU_KEEP:-}" ]]; then
		rm -rf "$work"
	else
		echo "work directory kept: $work"
	fi
}

vbq_init() {
	local rc=0 prep
	vbq_name=$1
	prep=$("$vbq_here/prepare") || rc=$?
	[[ $rc -eq 0 ]] || exit "$rc"
	eval "$prep"
	command -v qemu-system-x86_64 >/dev/null || vbq_skip "qemu-system-x86_64 missing"

	# TCG unless KVM really runs a stock guest: kvm-pvm (a software nested KVM some sandboxes
	# provide) opens /dev/kvm but runs an unmodified kernel through the instruction emulator,
	# which fails on cmpxchg16b/xrstor.
	accel=${VB_QEMU_ACCEL:-auto}
	if [[ $accel == auto ]]; then
		if [[ -w /dev/kvm && ! -d /sys/module/kvm_pvm ]]; then
			accel=kvm
		else
			accel=tcg
		fi
	fi
	case "$accel" in
	kvm) accel_opts=(-accel kvm -cpu "${VB_QEMU_CPU:-host}") ;;
	tcg) accel_opts=(-accel "tcg,thread=multi" -cpu "${VB_QEMU_CPU:-max}") ;;
	*) echo "$vbq_name: VB_QEMU_ACCEL must be auto, tcg or kvm" >&2; exit 1 ;;
	esac

	work=$(mktemp -d "${TMPDIR:-/tmp}/vb-qemu-$vbq_name.XXXXXX")
	trap vbq_cleanup EXIT
	trap 'exit 130' INT TERM
}

# vbq_sock NAME: a socket path for NAME in the work directory (or /tmp when that path would
# not fit sun_path's 108 bytes). Removed at exit.
vbq_sock() {
	local s=$work/$1.sock
	if ((${#s} > 100)); then
		s=$(mktemp -u "/tmp/vb-qemu-$vbq_name.XXXXXX.sock")
	fi
	vbq_socks="${vbq_socks:-} $s"
	echo "$s"
}

# vbq_start_backend LOG SOCK CMD...: start CMD (stdout and stderr to LOG), wait up to 10 s for
# SOCK to appear; sets bpid. The boot fails at once if this back-end dies.
vbq_start_backend() {
	local logf=$1 sock=$2 i
	shift 2
	printf '%q ' "$@" >"$logf.cmd"
	"$@" </dev/null >"$logf" 2>&1 &
	bpid=$!
	vbq_pids+=("$bpid")
	vbq_backend_logs+=("$logf")
	vbq_backends+=("$bpid")
	for ((i = 0; i < 200; i++)); do
		[[ -S "$sock" ]] && break
		kill -0 "$bpid" 2>/dev/null || break
		sleep 0.05
	done
	if [[ ! -S "$sock" ]]; then
		echo "FAIL: the back-end did not create $sock within 10 s: $*"
		tail -n 20 "$logf"
		exit 1
	fi
}

vbq_guest_script() {
	vbq_script=$1
}

vbq_fail() {
	local l
	echo "FAIL: $*"
	echo "--- console (last 25 lines)"
	tail -n 25 "$work/console.log" 2>/dev/null || true
	echo "--- guest output"
	cat "$work/result.log" 2>/dev/null || true
	echo "--- qemu"
	tail -n 10 "$work/qemu.log" 2>/dev/null || true
	for l in "${vbq_backend_logs[@]}"; do
		echo "--- back-end $(basename "$l")"
		tail -n 20 "$l" 2>/dev/null || true
	done
	exit 1
}

vbq_pass() {
	vbq_result=0
	log "PASS: $*"
	exit 0
}

vbq_boot() {
	local cpus=1 mem=256M mods= timeout_s=${VB_QEMU_TIMEOUT:-150} append qpid deadline
	local timed_out=0 died=0 qrc=0 t_boot end p
	while [[ $# -gt 0 ]]; do
		case "$1" in
		--cpus) cpus=$2; shift 2 ;;
		--mem) mem=$2; shift 2 ;;
		--mods) mods=$2; shift 2 ;;
		--) shift; break ;;
		*) echo "vbq_boot: unknown option $1" >&2; exit 1 ;;
		esac
	done
	[[ -n "$vbq_script" ]] || { echo "vbq_boot: no vbq_guest_script" >&2; exit 1; }
	append="console=ttyS0 quiet loglevel=4 panic=-1 no_timer_check tsc=reliable i8042.noaux i8042.nokbd i8042.nopnp mitigations=off"
	[[ -n "$mods" ]] && append+=" vb.mods=$mods"
	qemu=(qemu-system-x86_64 -nodefaults -no-user-config
		-machine q35 "${accel_opts[@]}" -smp "$cpus" -m "$mem"
		# vhost-user: the back-end maps guest RAM, so it must be a shareable fd
		-object "memory-backend-memfd,id=mem,size=$mem,share=on" -numa "node,memdev=mem"
		-nographic -no-reboot -monitor none
		-kernel "$VB_QEMU_KERNEL" -initrd "$VB_QEMU_INITRD" -append "$append"
		-serial "file:$work/console.log" -serial "file:$work/result.log"
		-fw_cfg "name=opt/vb/test,file=$vbq_script"
		"$@")
	[[ -n "$VB_QEMU_FIRMWARE" ]] && qemu+=(-bios "$VB_QEMU_FIRMWARE")
	printf '%q ' "${qemu[@]}" >"$work/qemu.cmd"
	log "guest: kernel $VB_QEMU_KVER, accel $accel, $cpus vCPU${mods:+, modules $mods}"
	t_boot=$(date +%s.%N)
	"${qemu[@]}" </dev/null >"$work/qemu.log" 2>&1 &
	qpid=$!
	vbq_pids+=("$qpid")
	deadline=$((SECONDS + timeout_s))
	while kill -0 "$qpid" 2>/dev/null; do
		if ((SECONDS >= deadline)); then
			timed_out=1
			vbq_stop_pid "$qpid"
			break
		fi
		if [[ -n "$vbq_poll" ]] && ! "$vbq_poll"; then
			vbq_stop_pid "$qpid"
			vbq_fail "host side of the test failed while the guest ran"
		fi
		# A back-end gone mid-test leaves the guest hanging: stop at once.
		for p in "${vbq_backends[@]}"; do
			kill -0 "$p" 2>/dev/null || died=1
		done
		if [[ $died -eq 1 ]]; then
			sleep 2
			vbq_stop_pid "$qpid"
			break
		fi
		sleep 0.1
	done
	wait "$qpid" 2>/dev/null || qrc=$?
	guest_s=$(echo "$(date +%s.%N) $t_boot" | awk '{ printf "%.1f", $1 - $2 }')
	sed -i 's/\r$//' "$work/console.log" "$work/result.log" 2>/dev/null || true
	grep -a '^VB-INIT\|^INFO' "$work/result.log" 2>/dev/null | sed 's/^/  guest: /' || true
	res=$(grep -a '^RESULT ' "$work/result.log" 2>/dev/null | tail -n 1 || true)
	end=$(grep -a '^VB-END ' "$work/result.log" 2>/dev/null | tail -n 1 || true)
	log "guest ran ${guest_s} s (QEMU start to exit; ${end:-no VB-END line})"
	[[ $died -eq 0 ]] || vbq_fail "a back-end exited before the guest finished"
	[[ $timed_out -eq 0 ]] || vbq_fail "guest did not finish within ${timeout_s} s"
	[[ $qrc -eq 0 ]] || vbq_fail "QEMU exited with status $qrc"
	[[ -n "$res" ]] || vbq_fail "the guest printed no RESULT line"
	[[ "$res" == "RESULT skip "* ]] && vbq_skip "guest: ${res#RESULT skip }"
	[[ "$res" == "RESULT ok"* ]] || vbq_fail "guest: $res"
	log "guest: $res"
}
