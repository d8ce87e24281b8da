#!/usr/bin/env bash
# 4K random read through Orion's NVMe passthrough block device (io_uring URING_CMD on /dev/ngXnY,
# SQE128/CQE32 reactor ring, registered buffers) against fio's io_uring_cmd engine on the same
# node, same block size and depth, one reactor vs one job, alternating rounds in one run. Both get
# the same ramp-up that is not measured (fio --ramp_time; for orion the per-second lines of the
# ramp are dropped), which matters in a TCG guest where the JIT warms up slowly. Prints a table.
#
#   benchmarks/nvme-vs-fio.sh --dev /dev/ng0n1 [--bs 4096] [--qd 32] [--seconds 10] [--ramp 5] [--rounds 3]
#   benchmarks/nvme-vs-fio.sh --guest [same options]   # boots a QEMU guest with an emulated NVMe and runs inside
#
# --guest uses the guest-run recipe ($GUEST_RUN, default /work/shared/vm/guest-run: host / read-only in
# the guest, one 1 GiB QEMU NVMe controller with serial orion0) with its own work folder ($GUEST_WORK,
# default /tmp/orion-nvme-bench) so its disk image is not shared with other guests. The jar is built
# on the host first (the guest sees the host's / read-only and cannot build).
set -euo pipefail
top=$(cd "$(dirname "$(readlink -f "$0")")/.." && pwd)
dev=; bs=4096; qd=32; secs=10; ramp=5; rounds=3; guest=0
while [ $# -gt 0 ]; do
  case $1 in
    --dev) dev=$2; shift 2;; --bs) bs=$2; shift 2;; --qd) qd=$2; shift 2;; --ramp) ramp=$2; shift 2;;
    --seconds) secs=$2; shift 2;; --rounds) rounds=$2; shift 2;; --guest) guest=1; shift;;
    *) echo "unknown option $1" >&2; exit 2;;
  esac
done
if [ "$guest" = 1 ]; then
  run=${GUEST_RUN:-/work/shared/vm/guest-run}
  [ -x "$run" ] || { echo "no guest runner at $run (set GUEST_RUN)" >&2; exit 1; }
  "$top/orion" --version >/dev/null # rebuilds driver-host/target/orion.jar when sources changed
  script=$(mktemp /tmp/nvme-bench-guest.XXXX.sh)
  cat > "$script" <<INNER
set -e
modprobe nvme 2>/dev/null || true
for i in \$(seq 200); do ls /sys/class/nvme/*/serial >/dev/null 2>&1 && break; sleep 0.1; done
for c in /sys/class/nvme/*; do [ "\$(tr -d ' ' < \$c/serial)" = orion0 ] && ctrl=\$c; done
[ -n "\${ctrl:-}" ] || { echo "no NVMe controller with serial orion0 in the guest" >&2; exit 1; }
ns=\$(ls \$ctrl | grep -E '^nvme[0-9]+(c[0-9]+)?n1\$' | head -1 | sed 's/c[0-9]*n/n/')
ng=/dev/ng\${ns#nvme}
for i in \$(seq 100); do [ -e \$ng ] && break; sleep 0.1; done
echo "guest: \$(uname -r), \$(nproc) vCPUs (TCG), namespace \$ng"
exec bash $top/benchmarks/nvme-vs-fio.sh --dev \$ng --bs $bs --qd $qd --seconds $secs --ramp $ramp --rounds $rounds
INNER
  rc=0
  GUEST_WORK=${GUEST_WORK:-/tmp/orion-nvme-bench} GUEST_TIMEOUT=${GUEST_TIMEOUT:-1800} "$run" "$script" || rc=$?
  rm -f "$script"; exit $rc
fi
[ -n "$dev" ] || { echo "--dev /dev/ngXnY (or --guest) is required" >&2; exit 2; }
command -v fio >/dev/null || { echo "fio not installed (apt-get install -y fio)" >&2; exit 1; }
. "$top/scripts/jdk.sh"
jar=$top/driver-host/target/orion.jar
[ -f "$jar" ] || { echo "$jar missing: build with ./orion --version (or mvn -pl driver-host -am package)" >&2; exit 1; }
cfg=$(mktemp /tmp/orion-nvme-bench.XXXX.toml)
err=$(mktemp /tmp/orion-nvme-bench.XXXX.err)
series=$(mktemp /tmp/orion-nvme-bench.XXXX.series)
trap 'rm -f "$cfg" "$err" "$series"' EXIT
printf '[[nvme]]\nname = "nv"\npath = "%s"\n' "$dev" > "$cfg"
# fio as issue 7 names it (its defaults: buffers pinned per I/O, plain fd, a clock read per I/O), and tuned the
# way fio is run for peak IOPS: registered buffers and file, no per-I/O clock reads (orion takes none).
fio_cmd=(fio --name=nvme-vs-fio --filename="$dev" --ioengine=io_uring_cmd --cmd_type=nvme --rw=randread
         --bs="$bs" --iodepth="$qd" --numjobs=1 --time_based --ramp_time="$ramp" --runtime="$secs" --output-format=json)
fio_fixed=(--fixedbufs=1 --registerfiles=1 --gtod_reduce=1)
orion_cmd=("$JAVA_HOME/bin/java" -XX:+UseSerialGC --enable-native-access=ALL-UNNAMED -jar "$jar" bench bdev
           --config "$cfg" --bdev nv --rw randread --bs "$bs" --qd "$qd" --seconds $((ramp + secs)) --reactors 1)
echo "orion: ${orion_cmd[*]}  (mean of seconds $((ramp + 1))..$((ramp + secs)))"
echo "fio:   ${fio_cmd[*]} [${fio_fixed[*]}]"
printf '%-6s %12s %12s %12s %7s %7s\n' round orion_iops fio_iops fio_tuned ratio ratio_t
ours_all=(); fio_all=(); fx_all=()
fio_iops() { "$@" | python3 -c 'import json,sys; print(round(json.load(sys.stdin)["jobs"][0]["read"]["iops"]))'; }
for ((i = 1; i <= rounds; i++)); do
  # Per-second lines "  Ns  iops=N ...": the mean after the ramp (the whole series goes to $series).
  ours=$("${orion_cmd[@]}" 2>"$err" | python3 -c '
import re, sys
ramp = int(sys.argv[1])
s = [(int(m.group(1)), int(m.group(2))) for m in (re.match(r"\s*(\d+)s\s+iops=(\d+)", l) for l in sys.stdin) if m]
v = [n for t, n in s if t > ramp]
open(sys.argv[2], "a").write(" ".join(str(n) for t, n in s) + "\n")
print(round(sum(v) / len(v)) if v else 0)' "$ramp" "$series") || { echo "orion bench failed:" >&2; cat "$err" >&2; exit 1; }
  theirs=$(fio_iops "${fio_cmd[@]}")
  fx=$(fio_iops "${fio_cmd[@]}" "${fio_fixed[@]}")
  printf '%-6s %12s %12s %12s %7.2f %7.2f\n' "$i" "$ours" "$theirs" "$fx" "$(python3 -c "print($ours/max(1,$theirs))")" \
    "$(python3 -c "print($ours/max(1,$fx))")"
  ours_all+=("$ours"); fio_all+=("$theirs"); fx_all+=("$fx")
done
python3 - "${ours_all[*]}" "${fio_all[*]}" "${fx_all[*]}" <<'PY'
import statistics, sys
o, f, x = ([int(v) for v in a.split()] for a in sys.argv[1:4])
mo, mf, mx = statistics.median(o), statistics.median(f), statistics.median(x)
print(f"median {mo:12.0f} {mf:12.0f} {mx:12.0f} {mo/max(1, mf):7.2f} {mo/max(1, mx):7.2f}")
PY
echo "orion IOPS per second, each round (ramp included):"
cat "$series"
