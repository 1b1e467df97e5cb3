#!/usr/bin/env bash
# The whole backup image against the anchors of the field, in one run, on the same NTFS volume:
#   dd if=VOLUME of=FILE bs=1M                  the copy limit
#   ntfsclone --save-image                      copies the allocated clusters
#   tar -cf through an ntfs-3g mount            a file-level backup through the host
#   offhost backup-image VOLUME --tape TAPE     map + EXTENDED COPY to a SIMH tape
# and the restore of the whole volume:
#   ntfsclone --restore-image                   vs   offhost restore-image
#
#   bench/backup-image.sh [volume-size=2G] [data-MiB=1400] [rounds=3]
#
# The volume holds mixed files (many small, some medium, a few large, written through ntfs-3g). Rounds alternate
# the tools so page-cache state and machine load hit all alike; every tool reads from a warm cache. Reported:
# elapsed-time ratios and offhost's data throughput against dd's on the bytes each copied, with peak RSS.
# Targets (issue: data mover): backup <= ntfsclone time, <= 0.3 x tar time, throughput >= 0.9 x dd, RSS <= 256 MiB.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
size=${1:-2G}
data_mib=${2:-1400}
rounds=${3:-3}
work=${OFFHOST_BENCH_DIR:-/var/tmp/offhost-backup-bench}
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 OFFHOST_NO_PROGRESS=1
mkdir -p "$work/mnt"
img="$work/ntfs-$size-$data_mib.img"
cleanup() { mountpoint -q "$work/mnt" && umount "$work/mnt" || true; }
trap cleanup EXIT

./offhost --help >/dev/null                            # build once, outside the timings

if [ ! -f "$img" ]; then
  echo "generating $img ($size, ~$data_mib MiB of files) ..." >&2
  rm -f "$img.tmp"; truncate -s "$size" "$img.tmp"
  mkntfs -F -q -f -L bench "$img.tmp" >/dev/null 2>&1
  ntfs-3g -o streams_interface=xattr "$img.tmp" "$work/mnt"
  python3 - "$work/mnt" "$data_mib" <<'PY'
import os, random, sys
root, budget = sys.argv[1], int(sys.argv[2]) << 20
rnd = random.Random(1)
blob = os.urandom(64 << 20)
written = n = 0
while written < budget:
    kind = rnd.random()
    size = rnd.randint(100, 64 << 10) if kind < 0.85 else rnd.randint(1 << 20, 16 << 20) if kind < 0.98 else rnd.randint(64 << 20, 200 << 20)
    d = os.path.join(root, f"d{n % 97}", f"e{n % 13}")
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, f"f{n}.bin"), "wb") as f:
        left, off = size, rnd.randrange(0, 32 << 20)
        while left:
            k = min(left, (64 << 20) - off, 8 << 20)
            f.write(blob[off:off + k]); left -= k; off = (off + k) % (64 << 20)
    written += size; n += 1
print(f"{n} files, {written >> 20} MiB", file=sys.stderr)
PY
  umount "$work/mnt"
  mv "$img.tmp" "$img"
fi
cat "$img" >/dev/null

measure() {   # measure NAME CMD... -> "seconds max_rss_kib"
  local name=$1; shift
  /usr/bin/time -f "%e %M" -o "$work/$name.time" "$@" >/dev/null 2>"$work/$name.err" || { cat "$work/$name.err" >&2; return 1; }
  cat "$work/$name.time"
}

declare -A sum
runs=()
for ((r = 1; r <= rounds; r++)); do
  rm -f "$work"/dd.out "$work"/clone.img "$work"/tape.tap "$work"/tar.out "$work"/restored.img "$work"/ntfsclone-restored.img
  ./offhost tape new "$work/tape.tap" --capacity 8G --label BENCH 2>/dev/null
  read -r dd_s dd_kb < <(measure dd dd if="$img" of="$work/dd.out" bs=1M)
  read -r nc_s nc_kb < <(measure ntfsclone ntfsclone -f --save-image -o "$work/clone.img" "$img")
  ntfs-3g -o ro "$img" "$work/mnt"
  read -r tar_s tar_kb < <(measure tar tar -cf "$work/tar.out" -C "$work/mnt" .)
  umount "$work/mnt"
  read -r oh_s oh_kb < <(measure offhost ./offhost backup-image "$img" --tape "$work/tape.tap" --record-size 1M)
  oh_bytes=$(./offhost tape ls "$work/tape.tap" --json | python3 -c "import json,sys; print(json.load(sys.stdin)['files'][1]['bytes'])")
  truncate -s "$(stat -c %s "$img")" "$work/restored.img"
  read -r rs_s rs_kb < <(measure restore ./offhost restore-image --tape "$work/tape.tap" --file 1 --to "$work/restored.img")
  truncate -s "$(stat -c %s "$img")" "$work/ntfsclone-restored.img"
  read -r nr_s nr_kb < <(measure ntfsclone-restore ntfsclone -f --restore-image --overwrite "$work/ntfsclone-restored.img" "$work/clone.img")
  dd_bytes=$(stat -c %s "$img")
  line=$(python3 -c "
dd_s,nc_s,tar_s,oh_s,rs_s,nr_s=$dd_s,$nc_s,$tar_s,$oh_s,$rs_s,$nr_s
thr=($oh_bytes/oh_s)/($dd_bytes/dd_s)
print(f'{oh_s/nc_s:.2f} {oh_s/tar_s:.2f} {thr:.2f} {rs_s/nr_s:.2f}')")
  echo "round $r: dd ${dd_s}s, ntfsclone ${nc_s}s, tar ${tar_s}s, offhost backup ${oh_s}s (${oh_kb} KiB RSS, $((oh_bytes >> 20)) MiB archive); restore: offhost ${rs_s}s (${rs_kb} KiB RSS), ntfsclone ${nr_s}s"
  echo "  ratios: backup/ntfsclone, backup/tar, throughput vs dd, restore/ntfsclone-restore = $line"
  runs+=("$line")
done
printf '%s\n' "${runs[@]}" | python3 -c "
import sys, statistics
rows = [list(map(float, l.split())) for l in sys.stdin if l.strip()]
names = ['backup / ntfsclone time (target <= 1.0)', 'backup / tar-through-mount time (target <= 0.3)', 'throughput / dd throughput (target >= 0.9)', 'restore / ntfsclone --restore-image time']
for i, n in enumerate(names): print(f'median {n}: {statistics.median(r[i] for r in rows):.2f}')"
