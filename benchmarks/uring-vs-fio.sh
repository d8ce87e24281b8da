#!/usr/bin/env bash
# Orion's io_uring engine against fio on the same file, same block size and depth, one job,
# alternating runs so both see the same machine load. Prints a table with the ratio.
#
#   benchmarks/uring-vs-fio.sh [--file PATH] [--rw randread] [--bs 4096] [--qd 32] [--seconds 10] [--rounds 3]
#
# Default file: a 1 GiB file on tmpfs (/dev/shm), created once with random data.
set -euo pipefail
top=$(cd "$(dirname "$(readlink -f "$0")")/.." && pwd)
file=/dev/shm/orion-uring-bench; rw=randread; bs=4096; qd=32; secs=10; rounds=3
while [ $# -gt 0 ]; do
  case $1 in
    --file) file=$2; shift 2;; --rw) rw=$2; shift 2;; --bs) bs=$2; shift 2;; --qd) qd=$2; shift 2;;
    --seconds) secs=$2; shift 2;; --rounds) rounds=$2; shift 2;;
    *) echo "unknown option $1" >&2; exit 2;;
  esac
done
command -v fio >/dev/null || { echo "fio not installed (apt-get install -y fio)" >&2; exit 1; }
if [ ! -f "$file" ]; then
  echo "creating 1 GiB $file ..." >&2
  dd if=/dev/urandom of="$file" bs=1M count=1024 status=none
fi
size=$(stat -c %s "$file")
# Warm the launcher (rebuild if needed) so the first timed run is not a build.
"$top/orion" bench uring --help >/dev/null

# --invalidate=0: fio drops the file's page cache before a job by default; on tmpfs that is a
# no-op, elsewhere it would make fio read from disk while we read the page cache.
fio_cmd=(fio --name=uring-vs-fio --filename="$file" --size="$size" --rw="$rw" --bs="$bs" --iodepth="$qd"
         --ioengine=io_uring --fixedbufs=1 --registerfiles=1 --direct=0 --hipri=0 --invalidate=0 --numjobs=1
         --time_based --runtime="$secs" --output-format=json)
orion_cmd=("$top/orion" bench uring --file "$file" --rw "$rw" --bs "$bs" --qd "$qd" --seconds "$secs")
echo "orion: ${orion_cmd[*]}"
echo "fio:   ${fio_cmd[*]}"
# IOPS depend on what else runs on the machine; I/Os per CPU-millisecond of the submitting
# thread (our reactor; fio's job usr+sys, which excludes io-wq workers too) are the
# load-independent view of each engine's own cost.
printf '%-6s %12s %12s %7s   %14s %14s %7s\n' round orion_iops fio_iops ratio orion_io/cpu_ms fio_io/cpu_ms ratio
ours_all=(); fio_all=(); oe_all=(); fe_all=()
for ((i = 1; i <= rounds; i++)); do
  out=$("${orion_cmd[@]}")
  ours=$(sed -n 's/^iops=\([0-9]*\) .*/\1/p' <<<"$out" | tail -1)
  oe=$(sed -n 's/^reactor_cpu_s=.* ios_per_cpu_ms=\([0-9.]*\)$/\1/p' <<<"$out" | tail -1)
  read -r theirs fe < <("${fio_cmd[@]}" | python3 -c '
import json,sys
j=json.load(sys.stdin)["jobs"][0]
iops=j["read"]["iops"]+j["write"]["iops"]; secs=j["job_runtime"]/1000.0
cpu_ms=(j["usr_cpu"]+j["sys_cpu"])/100.0*secs*1000.0
print(round(iops), round(iops*secs/cpu_ms, 1))')
  ours_all+=("$ours"); fio_all+=("$theirs"); oe_all+=("$oe"); fe_all+=("$fe")
  printf '%-6s %12d %12d %7.3f   %14s %14s %7.3f\n' "$i" "$ours" "$theirs" "$(python3 -c "print($ours/$theirs)")" \
    "$oe" "$fe" "$(python3 -c "print($oe/$fe)")"
done
python3 - "${ours_all[*]}" "${fio_all[*]}" "${oe_all[*]}" "${fe_all[*]}" <<'PY'
import statistics, sys
o, f, oe, fe = ([float(x) for x in a.split()] for a in sys.argv[1:5])
mo, mf, moe, mfe = (statistics.median(x) for x in (o, f, oe, fe))
print(f"{'median':<6} {mo:12.0f} {mf:12.0f} {mo/mf:7.3f}   {moe:14.1f} {mfe:14.1f} {moe/mfe:7.3f}")
PY
