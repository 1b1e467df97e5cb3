#!/usr/bin/env bash
# Benchmark of the NTFS storage mapper.
#
# Generates an NTFS image with FILES files (mkntfs, then ntfs-3g through FUSE), warms the page cache, then runs
#   offhost map IMG            (summary map)
#   offhost map IMG --json     (JSON Lines to /dev/null)
# under /usr/bin/time -v and prints MFT records per second and peak RSS for each.
# Targets: >= 500,000 records/s (summary), >= 200,000 records/s (JSON), peak RSS <= 256 MiB, FILES >= 200,000.
#
# Environment: FILES (default 200000), ROUNDS (default 3), WORK (directory for the image; kept between runs so the volume is built once),
# OFFHOST (the CLI, default ./offhost). Needs root, mkntfs, ntfs-3g, ntfsinfo.
set -euo pipefail

FILES=${FILES:-200000}
WORK=${WORK:-/var/tmp/offhost-ntfs-bench}
OFFHOST=${OFFHOST:-./offhost}
PER_DIR=1000
IMG="$WORK/ntfs-$FILES.img"
MNT="$WORK/mnt"

mkdir -p "$WORK" "$MNT"

if [ ! -f "$IMG" ]; then
  echo "generating $IMG with $FILES files ..." >&2
  # 1 KiB FILE record per file plus room for the non-resident files and the indexes.
  truncate -s $(( FILES * 2048 + 512 * 1024 * 1024 )) "$IMG.tmp"
  mkntfs -F -q -f -L bench "$IMG.tmp" >/dev/null 2>&1
  ntfs-3g -o streams_interface=xattr "$IMG.tmp" "$MNT"
  trap 'umount "$MNT" 2>/dev/null || true' EXIT
  (
    cd "$MNT"
    dirs=$(( (FILES + PER_DIR - 1) / PER_DIR ))
    n=0
    for d in $(seq 0 $(( dirs - 1 ))); do
      dir="top$(( d % 16 ))/mid$(( d / 16 % 16 ))/d$d"
      mkdir -p "$dir"
      for i in $(seq 1 $PER_DIR); do
        [ $n -ge "$FILES" ] && break
        if [ $(( n % 100 )) -eq 0 ]; then
          head -c 8192 /dev/urandom > "$dir/f$i"     # non-resident
        else
          printf '%s/%s' "$dir" "$i" > "$dir/f$i"    # resident
        fi
        n=$(( n + 1 ))
      done
    done
  )
  umount "$MNT"
  trap - EXIT
  # Wait for ntfs-3g to finish writing the image back.
  while pgrep -f "ntfs-3g.*$IMG.tmp" >/dev/null; do sleep 0.2; done
  mv "$IMG.tmp" "$IMG"
fi

# Records in the MFT = initialized size of $MFT's $DATA / FILE record size (1 KiB from mkntfs).
mft_bytes=$(ntfsinfo -i 0 "$IMG" 2>/dev/null | awk '/Initialized size:/ {print $3; exit}')
records=$(( mft_bytes / 1024 ))
echo "image: $IMG  files: $FILES  MFT records: $records" >&2

cat "$IMG" > /dev/null   # warm cache

run() {
  local label=$1; shift
  local log
  log=$(mktemp)
  /usr/bin/time -v "$@" > /dev/null 2> "$log"
  local wall rss cpu
  wall=$(awk -F': ' '/Elapsed \(wall clock\)/ {print $2}' "$log")
  rss=$(awk -F': ' '/Maximum resident set size/ {print $2}' "$log")
  cpu=$(awk -F': ' '/User time|System time/ { s += $2 } END { print s }' "$log")
  rm -f "$log"
  # wall is [h:]mm:ss.ss
  local secs
  secs=$(echo "$wall" | awk -F: '{ if (NF == 3) print $1 * 3600 + $2 * 60 + $3; else print $1 * 60 + $2 }')
  # CPU seconds (user + system) are the better figure on a shared machine: a busy neighbour stretches wall time.
  awk -v l="$label" -v r="$records" -v s="$secs" -v c="$cpu" -v k="$rss" \
    'BEGIN { printf "%-8s %6.2f s %9.0f records/s   cpu %5.2f s %9.0f records/cpu-s   peak RSS %6.1f MiB\n", l, s, (s > 0 ? r / s : 0), c, (c > 0 ? r / c : 0), k / 1024 }'
}

echo "load average: $(cut -d' ' -f1-3 /proc/loadavg) on $(nproc) cores" >&2
"$OFFHOST" --help >/dev/null   # ./offhost builds the CLI when sources changed: never inside a timing
for round in $(seq 1 "${ROUNDS:-3}"); do
  run summary "$OFFHOST" map "$IMG"
  run json "$OFFHOST" map "$IMG" --json
done
