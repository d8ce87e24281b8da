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

fio_cmd=(fio --name=uring-vs-fio --filename="$file" --size="$size" --rw="$rw" --bs="$bs" --iodepth="$qd"
         --ioengine=io_uring --fixedbufs=1 --registerfiles=1 --direct=0 --hipri=0 --numjobs=1
         --time_based --runtime="$secs" --output-format=json)
orion_cmd=("$top/orion" bench uring --file "$file" --rw "$rw" --bs "$bs" --qd "$qd" --seconds "$secs")
echo "orion: ${orion_cmd[*]}"
echo "fio:   ${fio_cmd[*]}"
printf '%-6s %12s %12s %7s\n' round orion_iops fio_iops ratio
ours_all=(); fio_all=()
for ((i = 1; i <= rounds; i++)); do
  ours=$("${orion_cmd[@]}" | sed -n 's/^iops=\([0-9]*\) .*/\1/p' | tail -1)
  theirs=$("${fio_cmd[@]}" | python3 -c 'import json,sys; j=json.load(sys.stdin)["jobs"][0]; print(round(j["read"]["iops"]+j["write"]["iops"]))')
  ours_all+=("$ours"); fio_all+=("$theirs")
  printf '%-6s %12d %12d %7.3f\n' "$i" "$ours" "$theirs" "$(python3 -c "print($ours/$theirs)")"
done
python3 - "${ours_all[*]}" "${fio_all[*]}" <<'PY'
import statistics, sys
o = [int(x) for x in sys.argv[1].split()]; f = [int(x) for x in sys.argv[2].split()]
mo, mf = statistics.median(o), statistics.median(f)
print(f"{'median':<6} {mo:12.0f} {mf:12.0f} {mo/mf:7.3f}")
PY
