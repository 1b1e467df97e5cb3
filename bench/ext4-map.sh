#!/usr/bin/env bash
# ext4 storage-map throughput against the FIEMAP anchor.
#
# Builds an ext4 image of FILES files with mkfs.ext4 -d (fast), loop-mounts it read-only and, with a warm cache,
# times a FIEMAP walk of the mounted tree (find -exec filefrag, the anchor) and `offhost map IMG` / `offhost map IMG
# --json` under /usr/bin/time -v. Prints inodes/s, the ratio to the anchor and peak RSS.
# When ./offhost cannot map (no CLI build possible), the mapper is timed through the test host instead
# (MapThroughputProbe), whose RSS includes the test runner.
#
# Usage: sudo [ROUNDS=3] bench/ext4-map.sh [FILES=200000] [WORKDIR=/var/tmp/offhost-bench-ext4]
set -euo pipefail
FILES=${1:-200000}
WORK=${2:-/var/tmp/offhost-bench-ext4}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
IMG=$WORK/bench.img
MNT=$WORK/mnt
mkdir -p "$WORK" "$MNT"

cleanup() { mountpoint -q "$MNT" && umount "$MNT" || true; }
trap cleanup EXIT

if [[ ! -f $IMG || ! -f $WORK/files-$FILES ]]; then
  echo "building $FILES files ..." >&2
  rm -rf "$WORK/src" && mkdir -p "$WORK/src"
  python3 - "$WORK/src" "$FILES" <<'PY'
import os, sys, random
root, n = sys.argv[1], int(sys.argv[2])
rnd = random.Random(1)
per_dir = 400
for i in range(n):
    d = os.path.join(root, f"top{i // (per_dir * 50)}", f"dir{i // per_dir}")
    if i % per_dir == 0: os.makedirs(d, exist_ok=True)
    size = rnd.choice([0, 17, 300, 1000, 4000, 9000]) if i % 100 else 200000
    with open(os.path.join(d, f"f{i}"), "wb") as f: f.write(os.urandom(size))
PY
  inodes=$((FILES + FILES / 100 + 1000))
  rm -f "$IMG"; truncate -s 4G "$IMG"
  mkfs.ext4 -q -F -b 4096 -N "$inodes" -E lazy_itable_init=0,nodiscard -d "$WORK/src" "$IMG"
  rm -rf "$WORK/src"; rm -f "$WORK"/files-*; touch "$WORK/files-$FILES"
fi

seconds() { awk -F': ' '/Elapsed \(wall clock\)/ { n = split($2, t, ":"); s = 0; for (i = 1; i <= n; i++) s = s * 60 + t[i]; print s }' "$1"; }
# Wall time to the microsecond (time -v prints hundredths, a 10 % step at offhost's 0.1 s): since START=$EPOCHREALTIME.
since() { echo "$EPOCHREALTIME - $1" | bc -l; }
cpu_seconds() { awk -F': ' '/User time|System time/ { s += $2 } END { print s }' "$1"; }
rss_mib() { awk -F': ' '/Maximum resident set size/ { printf "%.0f", $2 / 1024 }' "$1"; }

mount -o loop,ro,noload "$IMG" "$MNT"
echo "warming the cache ..." >&2
find "$MNT" -type f -exec filefrag {} + >/dev/null
cat "$IMG" >/dev/null 2>&1 || true
count=$(find "$MNT" | wc -l)

# One FIEMAP walk of the tree, mounted read-only (no journal replay) for the whole run so that its dentry and inode
# caches stay warm, as the image's pages are for offhost, which reads the image file beside the mount.
fiemap_walk() {
  local start=$EPOCHREALTIME
  /usr/bin/time -v -o "$WORK/fiemap.time" bash -c "find '$MNT' -type f -exec filefrag {} + >/dev/null"
  fiemap=$(since "$start")
  fiemap_cpu=$(cpu_seconds "$WORK/fiemap.time")
  printf 'FIEMAP walk (find -exec filefrag): %s entries in %.3f s (cpu %.2f s) = %.0f files/s\n' "$count" "$fiemap" "$fiemap_cpu" "$(echo "$count / $fiemap" | bc -l)"
}
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg) on $(nproc) cores (wall-clock ratios are only meaningful on an idle machine; cpu ratios less so affected)"

# ./offhost runs the NativeAOT publish of the CLI (and builds it first when sources changed: never inside a timing).
OFFHOST=${OFFHOST:-$ROOT/offhost}
if [[ -x $OFFHOST ]] && "$OFFHOST" map "$IMG" >/dev/null 2>&1; then
  # Rounds alternate the anchor and offhost, so that machine load hits both alike; ratios are per round.
  declare -A ratios=()
  for round in $(seq 1 "${ROUNDS:-3}"); do
    fiemap_walk
    for mode in "" "--json"; do
      start=$EPOCHREALTIME
      /usr/bin/time -v -o "$WORK/map.time" "$OFFHOST" map "$IMG" $mode >/dev/null
      t=$(since "$start")
      c=$(cpu_seconds "$WORK/map.time")
      ratio=$(echo "$fiemap / $t" | bc -l)
      ratios[${mode:-summary}]+=" $ratio"
      printf 'offhost map %-6s: %.3f s (cpu %.2f s), %.1fx faster than FIEMAP (cpu %.1fx), peak RSS %s MiB\n' "$mode" "$t" "$c" \
        "$ratio" "$(echo "$fiemap_cpu / $c" | bc -l)" "$(rss_mib "$WORK/map.time")"
    done
  done
  for mode in summary --json; do
    python3 -c 'import statistics, sys; r = sorted(map(float, sys.argv[2:])); print(f"offhost map {sys.argv[1]}: median {statistics.median(r):.1f}x faster than FIEMAP, range {r[0]:.1f}-{r[-1]:.1f}x, {sum(x >= 10 for x in r)} of {len(r)} rounds at 10x or more")' "$mode" ${ratios[$mode]}
  done
else
  fiemap_walk
  echo "offhost map is not built; timing the mapper through the test host (MapThroughputProbe)" >&2
  dotnet build "$ROOT/tests/Offhost.Formats.Ext4.Tests" -c Release >/dev/null
  OFFHOST_EXT4_BENCH_IMAGE=$IMG /usr/bin/time -v -o "$WORK/map.time" \
    "$ROOT/artifacts/bin/Offhost.Formats.Ext4.Tests/release/Offhost.Formats.Ext4.Tests" \
    -method Offhost.Formats.Ext4.Tests.MapThroughputProbe.Map_image_named_by_environment 2>"$WORK/probe.log" >/dev/null || true
  grep '^ext4-map' "$WORK/probe.log" | while read -r line; do
    t=$(sed -E 's/.* in ([0-9.]+) s .*/\1/' <<<"$line")
    c=$(sed -E 's/.*\(cpu ([0-9.]+) s\).*/\1/' <<<"$line")
    printf '%s; %.1fx faster than FIEMAP (cpu %.1fx)\n' "$line" "$(echo "$fiemap / $t" | bc -l)" "$(echo "$fiemap_cpu / $c" | bc -l)"
  done
  printf 'test host peak RSS (includes the runner): %s MiB\n' "$(rss_mib "$WORK/map.time")"
fi
