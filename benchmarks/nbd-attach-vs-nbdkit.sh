#!/usr/bin/env bash
# A kernel /dev/nbdN served by Orion (its memory device attached over netlink, the kernel's socket
# served by the io_uring NBD server) against one served by `nbdkit memory` through nbd-client, same
# size, same block size, one connection each, measured with fio (libaio, O_DIRECT) on the block
# devices, alternating per workload so both see the same load. Prints IOPS per workload and the ratio.
#
#   benchmarks/nbd-attach-vs-nbdkit.sh --guest [--size 512M] [--seconds 10] [--rounds 2] [--qd 32]
#   benchmarks/nbd-attach-vs-nbdkit.sh [same options]     # on a machine with the nbd module, as root
#
# --guest boots the test guest with the guest-run recipe ($GUEST_RUN, default /work/shared/vm/guest-run)
# and runs this script inside it: this machine's kernel has no nbd module. Build first
# (mvn -pl driver-host -am package): the guest sees the host's / read-only and cannot rebuild the jar.
# The guest's CPU is emulated (TCG): every I/O costs tens of microseconds of emulated CPU on both
# sides, so absolute IOPS are far below the hardware's; the ratio is what this measures. (/dev/kvm
# opens here, but a nested KVM guest stalls after the boot loader, so the recipe's TCG stays.)
# Workloads: 4K randread and randwrite at --qd. nbd-client reaches nbdkit over a Unix socket, the
# closest to orion's socketpair (and the guest has no network, not even loopback, up).
set -euo pipefail
top=$(cd "$(dirname "$(readlink -f "$0")")/.." && pwd)
size=512M; secs=10; rounds=2; qd=32; guest=0; args=("$@")
while [ $# -gt 0 ]; do
  case $1 in
    --size) size=$2; shift 2;; --seconds) secs=$2; shift 2;; --rounds) rounds=$2; shift 2;;
    --qd) qd=$2; shift 2;; --guest) guest=1; shift;;
    *) echo "unknown option $1" >&2; exit 2;;
  esac
done
if [ "$guest" = 1 ]; then
  run=${GUEST_RUN:-/work/shared/vm/guest-run}
  [ -x "$run" ] || { echo "no guest runner at $run (set GUEST_RUN)" >&2; exit 1; }
  inner=()
  for a in "${args[@]}"; do [ "$a" = --guest ] || inner+=("$a"); done
  script=$(mktemp /tmp/nbd-attach-bench-guest.XXXX.sh)
  printf 'exec bash %q/benchmarks/nbd-attach-vs-nbdkit.sh %s\n' "$top" "${inner[*]:-}" > "$script"
  rc=0
  GUEST_APPEND="${GUEST_APPEND:-no_timer_check}" GUEST_TIMEOUT=${GUEST_TIMEOUT:-1800} "$run" "$script" || rc=$?
  rm -f "$script"
  exit $rc
fi
for t in fio nbdkit nbd-client python3; do
  command -v $t >/dev/null || { echo "$t not installed (scripts/install-deps)" >&2; exit 1; }
done
. "$top/scripts/jdk.sh"
jar=$top/driver-host/target/orion.jar
[ -f "$jar" ] || { echo "$jar missing: build with mvn -pl driver-host -am package" >&2; exit 1; }
[ -e /sys/module/nbd ] || modprobe nbd nbds_max=16
work=$(mktemp -d /tmp/orion-attach-bench.XXXXXX)
orion_pid=; kit_pid=
cleanup() {
  nbd-client -d /dev/nbd1 >/dev/null 2>&1 || true
  [ -n "$orion_pid" ] && kill -TERM "$orion_pid" 2>/dev/null && wait "$orion_pid" 2>/dev/null || true
  [ -n "$kit_pid" ] && kill "$kit_pid" 2>/dev/null || true
  cp "$work/orion.log" ./orion-attach-bench.log 2>/dev/null || true  # the host's log stays for a post-mortem
  for f in "$work"/hs_err_*.log; do  # a JVM crash report (-XX:ErrorFile) stays too, and is announced
    [ -f "$f" ] && { cp "$f" . 2>/dev/null; echo "orion serve crashed: $(basename "$f") (first lines follow)" >&2; head -30 "$f" >&2; }
  done
  rm -rf "$work"
}
trap cleanup EXIT
cat >"$work/orion.toml" <<TOML
[[bdev]]
name = "mem0"
type = "memory"
size = "$size"
block_size = 4096
[[nbd.export]]
name = "mem0"
bdev = "mem0"
[[nbd.attach]]
export = "mem0"
device = "/dev/nbd0"
connections = 1
detach_on_exit = true
TOML
"$JAVA_HOME/bin/java" --enable-native-access=ALL-UNNAMED -XX:ErrorFile="$work/hs_err_%p.log" -jar "$jar" serve --config "$work/orion.toml" \
  >"$work/orion.log" 2>&1 &
orion_pid=$!
nbdkit --foreground --exit-with-parent --unix "$work/kit.sock" memory "$size" &
kit_pid=$!
for i in $(seq 1 1200); do grep -q "ready;" "$work/orion.log" 2>/dev/null && break; sleep 0.1; done
grep -q "nbd: export mem0 is /dev/nbd0" "$work/orion.log" || { cat "$work/orion.log" >&2; exit 1; }
for i in $(seq 1 100); do [ -S "$work/kit.sock" ] && break; sleep 0.1; done
nbd-client -unix "$work/kit.sock" /dev/nbd1 -b 4096 -N bench >"$work/nbd-client.log" 2>&1 \
  || { cat "$work/nbd-client.log" >&2; echo "nbd-client did not connect /dev/nbd1 to nbdkit" >&2; exit 1; }
echo "orion:  /dev/nbd0 <- orion serve (memory $size, [[nbd.attach]], 1 connection)"
echo "nbdkit: /dev/nbd1 <- nbd-client -unix <- nbdkit memory $size"
# Fill both once so reads touch written memory on both sides, not holes.
for d in /dev/nbd0 /dev/nbd1; do
  fio --name=fill --filename=$d --direct=1 --ioengine=libaio --rw=write --bs=1M --iodepth=8 --size="$size" \
      --output-format=terse >/dev/null
done
iops() {
  fio --name=bench --filename="$1" --direct=1 --ioengine=libaio --rw="$2" --bs=4k --iodepth="$qd" --numjobs=1 \
      --time_based --runtime="$secs" --randrepeat=0 --norandommap --output-format=json \
    | python3 -c 'import json,sys; j=json.load(sys.stdin)["jobs"][0]; print(int(j["read"]["iops"]+j["write"]["iops"]))'
}
echo "fio: --direct=1 --ioengine=libaio --bs=4k --iodepth=$qd --numjobs=1 --runtime=$secs, $rounds round(s)"
printf '| %-22s | %5s | %10s | %10s | %5s |\n' workload round orion nbdkit ratio
printf '| %-22s | %5s | %10s | %10s | %5s |\n' --- ---: ---: ---: ---:
for w in randread randwrite; do
  for r in $(seq 1 "$rounds"); do
    o=$(iops /dev/nbd0 $w); k=$(iops /dev/nbd1 $w)
    printf '| %-22s | %5s | %10s | %10s | %5s |\n' "$w 4K QD$qd (IOPS)" "$r" "$o" "$k" \
      "$(python3 -c "print(f'{$o/$k:.2f}' if $k else 'n/a')")"
  done
done
