#!/usr/bin/env bash
# Orion's NBD server against nbdkit's memory plugin, both serving a memory disk of the same size,
# measured with fio's nbd engine (libnbd), same job, alternating per workload so both see the same
# machine load. Prints one row per workload: ours, nbdkit's, ratio (IOPS at 4K, MiB/s at 1M), then
# the same work per CPU-second of each server process (all its threads, user + system, from
# /proc/PID/stat): on a shared machine that is the steadier figure, since throughput also depends
# on how much CPU the scheduler happens to give each server. fio-cpu% is the client's own CPU
# (usr + sys of its one job, orion/nbdkit): near 100 the client, not the server, sets the pace.
# fio-cs/io is the client's context switches per I/O (orion/nbdkit; fio's rusage): each is a
# poll() that found no reply waiting and slept, the client-side cost of a server's reply pattern.
#
#   benchmarks/nbd-vs-nbdkit.sh [--size 1G] [--seconds 10] [--rounds 1] [--reactors N] [--threads 16] [--jobs 1]
#                               [--only REGEX] [--busy-poll-us N] [--busy-poll-max-us M] [--depths "1 4 32"]
#
# Workloads: 4K randread/randwrite at QD32 and 1M sequential read/write at QD8, each over a Unix
# socket and over TCP loopback. --threads is nbdkit's thread count (its default is 16). --jobs is
# fio's numjobs: fio's nbd engine opens one connection per job (results summed over the jobs).
# --busy-poll-us is passed to `orion serve` (reactors busy-poll that long before sleeping; serve's
# default, 10; 0: off); --busy-poll-max-us is how far they may widen that window (serve's default, 50).
# --depths sets the queue depths of the 4K rows (default 32).
# --only runs just the rows whose name ("randwrite 4k QD32 tcp") matches the extended regex.
set -euo pipefail
top=$(cd "$(dirname "$(readlink -f "$0")")/.." && pwd)
size=1G; secs=10; rounds=1; reactors=0; threads=16; jobs=1; only=.; busy=10; busymax=; depths=32
while [ $# -gt 0 ]; do
  case $1 in
    --size) size=$2; shift 2;; --seconds) secs=$2; shift 2;; --rounds) rounds=$2; shift 2;;
    --reactors) reactors=$2; shift 2;; --threads) threads=$2; shift 2;; --jobs) jobs=$2; shift 2;; --only) only=$2; shift 2;;
    --busy-poll-us) busy=$2; shift 2;; --busy-poll-max-us) busymax=$2; shift 2;;
    --depths) depths=$2; shift 2;;
    *) echo "unknown option $1" >&2; exit 2;;
  esac
done
for t in fio nbdkit nbdinfo python3; do
  command -v $t >/dev/null || { echo "$t not installed (scripts/install-deps)" >&2; exit 1; }
done
work=$(mktemp -d /tmp/orion-nbd-bench.XXXXXX)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
op=$(free_port); kp=$(free_port)
cat >"$work/orion.toml" <<TOML
[[bdev]]
name = "mem0"
type = "memory"
size = "$size"
[[nbd.listen]]
address = "tcp:127.0.0.1:$op"
[[nbd.listen]]
address = "unix:$work/orion.sock"
[[nbd.export]]
name = "mem0"
bdev = "mem0"
TOML
rargs=(); [ "$reactors" -gt 0 ] && rargs=(--reactors "$reactors")
rargs+=(--busy-poll-us "$busy")
[ -n "$busymax" ] && rargs+=(--busy-poll-max-us "$busymax")
"$top/orion" serve --config "$work/orion.toml" --control-socket "$work/control.sock" "${rargs[@]}" >"$work/orion.log" 2>&1 &
pids+=($!)
declare -A pid=([orion-unix]=$! [orion-tcp]=$!)
nbdkit --foreground --exit-with-parent --threads "$threads" --unix "$work/nbdkit.sock" memory "$size" &
pids+=($!)
pid[nbdkit-unix]=$!
nbdkit --foreground --exit-with-parent --threads "$threads" -i 127.0.0.1 -p "$kp" memory "$size" &
pids+=($!)
pid[nbdkit-tcp]=$!
hz=$(getconf CLK_TCK)
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; } # utime + stime of all threads
for i in $(seq 1 600); do
  grep -q "ready;" "$work/orion.log" 2>/dev/null && [ -S "$work/nbdkit.sock" ] && break
  sleep 0.1
done
grep -q "ready;" "$work/orion.log" || { cat "$work/orion.log" >&2; exit 1; }
declare -A uri=(
  [orion-unix]="nbd+unix:///mem0?socket=$work/orion.sock" [orion-tcp]="nbd://127.0.0.1:$op/mem0"
  [nbdkit-unix]="nbd+unix:///?socket=$work/nbdkit.sock"  [nbdkit-tcp]="nbd://127.0.0.1:$kp/")
# Fill both disks once so reads touch real pages, not the zero page.
for k in orion-unix nbdkit-unix orion-tcp nbdkit-tcp; do
  case $k in *unix) ;; *) continue;; esac
  fio --name=fill --ioengine=nbd --uri="${uri[$k]}" --rw=write --bs=1M --iodepth=8 --size="$size" \
      --output-format=json >/dev/null
done
fio --name=fill --ioengine=nbd --uri="${uri[nbdkit-tcp]}" --rw=write --bs=1M --iodepth=8 --size="$size" \
    --output-format=json >/dev/null

run() { # server-transport rw bs qd -> "rate per-cpu-second fio-cpu%" (IOPS and I/Os per CPU-s at 4K, MiB/s and MiB per CPU-s at 1M)
  local k=$1 rw=$2 bs=$3 qd=$4 t0 t1 out
  t0=$(cpu_ticks "${pid[$k]}")
  out=$(fio --name=bench --ioengine=nbd --uri="${uri[$k]}" --rw="$rw" --bs="$bs" --iodepth="$qd" --size="$size" \
      --time_based --runtime="$secs" --numjobs="$jobs" --group_reporting --output-format=json)
  t1=$(cpu_ticks "${pid[$k]}")
  python3 -c "
import json,sys
t=sys.argv[1]; j=json.loads(t[t.index('{'):])['jobs'][0]; d=j['read'] if j['read']['io_bytes'] else j['write']
cpu=max(int(sys.argv[2]), 1)/int(sys.argv[3])
work=d['total_ios'] if '$bs'=='4k' else d['io_bytes']/1048576
print(round(d['iops']) if '$bs'=='4k' else round(d['bw_bytes']/1048576), round(work/cpu), round(j['usr_cpu'] + j['sys_cpu']),
      round(100 * j['ctx'] / max(d['total_ios'], 1)))" "$out" $((t1 - t0)) "$hz"
}
echo "fio: fio --name=bench --ioengine=nbd --uri=URI --rw=RW --bs=BS --iodepth=QD --size=$size --time_based --runtime=$secs --numjobs=$jobs --group_reporting"
echo "orion: ./orion serve --config (memory $size, reactors $reactors (0: one per core), busy-poll-us $busy${busymax:+, busy-poll-max-us $busymax}); nbdkit: nbdkit --threads $threads memory $size"
load0=$(cut -d' ' -f1-3 /proc/loadavg)
printf '%-28s %12s %12s %7s %12s %12s %7s %9s %11s %6s\n' workload orion nbdkit ratio orion/cpu-s nbdkit/cpu-s ratio fio-cpu% fio-cs/io load
workloads=()
for d in $depths; do workloads+=("randread 4k $d"); done
for d in $depths; do workloads+=("randwrite 4k $d"); done
for w in "${workloads[@]}" "read 1M 8" "write 1M 8"; do
  set -- $w
  for t in unix tcp; do
    echo "$1 $2 QD$3 $t" | grep -Eq -- "$only" || continue
    o=(); n=()
    for ((i = 1; i <= rounds; i++)); do
      o+=("$(run orion-$t "$1" "$2" "$3")"); n+=("$(run nbdkit-$t "$1" "$2" "$3")")
    done
    unit=$([ "$2" = 4k ] && echo IOPS || echo MiB/s)
    python3 - "$1 $2 QD$3 $t ($unit)" "${o[*]}" "${n[*]}" "$(cut -d' ' -f1 /proc/loadavg)" <<'PY'
import statistics, sys
o = [int(x) for x in sys.argv[2].split()]; n = [int(x) for x in sys.argv[3].split()]
mo, mn = statistics.median(o[0::4]), statistics.median(n[0::4])
co, cn = statistics.median(o[1::4]), statistics.median(n[1::4])
fo, fn = statistics.median(o[2::4]), statistics.median(n[2::4])
xo, xn = statistics.median(o[3::4]), statistics.median(n[3::4])
fio = f"{fo:.0f}/{fn:.0f}"
cs = f"{xo/100:.2f}/{xn/100:.2f}"
print(f"{sys.argv[1]:<28} {mo:12.0f} {mn:12.0f} {mo/mn:7.2f} {co:12.0f} {cn:12.0f} {co/cn:7.2f} {fio:>9} {cs:>11} {sys.argv[4]:>6}")
PY
  done
done
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg) (before: $load0)"
