#!/usr/bin/env bash
# Backup and restore of a whole NTFS volume against the anchors of the field, in one run, on the same volume:
#   dd if=VOLUME of=FILE bs=1M                      the copy limit (and with conv=fsync, the copy limit made durable)
#   ntfsclone --save-image                          copies the allocated clusters
#   tar -cf through an ntfs-3g mount                a file-level backup through the host (and, for scale, the same
#                                                   with its archive synced to the disk before it ends)
#   offhost backup-image VOLUME --tape TAPE         map + EXTENDED COPY to a SIMH tape
#   offhost backup VOLUME --tape T --catalog DB     the whole command (quiesce window 0, snapshot none): the same plus
#                                                   the catalog
# and the restore of the whole volume:
#   ntfsclone --restore-image   vs   offhost restore-image (from the tape alone)   and   offhost restore --volume (catalog)
#
#   [MIX=large|small] bench/backup-image.sh [volume-size=2G] [data-MiB=1400] [rounds=3] [cache=both|warm|cold] [record=1M]
#
# The volume holds mixed files written through ntfs-3g. MIX=large (the default): by count 85 % small (up to 64 KiB),
# 13 % of 1-16 MiB, 2 % of 64-200 MiB, so a few hundred files hold the data. MIX=small: a file server's mix, by count
# 90 % of 1-16 KiB, 9 % of 16-256 KiB, 1 % of 256 KiB-4 MiB, so tens of thousands of files. Each round runs every
# tool once, in the same order. warm: the volume is read into the page cache before the round, so the anchors copy at
# memory speed. cold: `sync; echo 3 > /proc/sys/vm/drop_caches` before every timed command (after the mount for tar),
# which is where a real backup runs; in warm mode the restores' inputs (ntfsclone's image, the tapes) are read into the
# page cache before the restores. Every timed command starts after a `sync`, so none pays for the write-back of the
# one before. dd and ntfsclone leave their output in the page cache; offhost fsyncs the tape
# (and a restored volume) before it reports success, so its times include getting the data to the disk.
# Reported per cache mode: elapsed-time ratios (median of the rounds), data throughput against dd on the bytes each
# copied, and peak RSS. Targets (issues: data mover, backup): backup <= ntfsclone time, <= 0.3 x tar time, throughput
# >= 0.9 x dd, RSS <= 256 MiB.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
size=${1:-2G}
data_mib=${2:-1400}
rounds=${3:-3}
cache=${4:-both}
record=${5:-1M}
work=${OFFHOST_BENCH_DIR:-/var/tmp/offhost-backup-bench}
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 OFFHOST_NO_PROGRESS=1
mkdir -p "$work/mnt"
mix=${MIX:-large}
case "$mix" in large) img="$work/ntfs-$size-$data_mib.img" ;; small) img="$work/ntfs-$size-$data_mib-small.img" ;; *) echo "MIX: large or small" >&2; exit 2 ;; esac
outputs=(dd.out dd-sync.out clone.img tar.out tape.tap btape.tap catalog.db restored.img restored-volume.img ntfsclone-restored.img)
cleanup() {
  mountpoint -q "$work/mnt" && umount "$work/mnt" || true
  for f in "${outputs[@]}"; do rm -f "$work/$f"; done
}
trap cleanup EXIT

./offhost --help >/dev/null                            # build once, outside the timings

if [ ! -f "$img" ]; then
  echo "generating $img ($size, ~$data_mib MiB of files) ..." >&2
  rm -f "$img.tmp"; truncate -s "$size" "$img.tmp"
  mkntfs -F -q -f -L bench "$img.tmp" >/dev/null 2>&1
  ntfs-3g -o streams_interface=xattr "$img.tmp" "$work/mnt"
  python3 - "$work/mnt" "$data_mib" "$mix" <<'PY'
import os, random, sys
root, budget, mix = sys.argv[1], int(sys.argv[2]) << 20, sys.argv[3]
rnd = random.Random(1)
blob = os.urandom(64 << 20)
written = n = 0
while written < budget:
    kind = rnd.random()
    if mix == "large":
        size = rnd.randint(100, 64 << 10) if kind < 0.85 else rnd.randint(1 << 20, 16 << 20) if kind < 0.98 else rnd.randint(64 << 20, 200 << 20)
    else:
        size = rnd.randint(1 << 10, 16 << 10) if kind < 0.90 else rnd.randint(16 << 10, 256 << 10) if kind < 0.99 else rnd.randint(256 << 10, 4 << 20)
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
img_bytes=$(stat -c %s "$img")

mode=warm
# Every timed command starts with no dirty data of the one before (sync), so none pays for another's write-back.
settle() { sync; if [ "$mode" = cold ]; then echo 3 >/proc/sys/vm/drop_caches; fi; }
measure() {   # measure NAME CMD... -> "seconds max_rss_kib"
  local name=$1; shift
  settle
  /usr/bin/time -f "%e %M" -o "$work/$name.time" "$@" >"$work/$name.out" 2>"$work/$name.err" || { cat "$work/$name.err" >&2; return 1; }
  cat "$work/$name.time"
}
archive_bytes() { ./offhost tape ls "$1" --json | python3 -c "import json,sys; print(json.load(sys.stdin)['files'][1]['bytes'])"; }

round() {   # round MODE N -> one line of figures
  mode=$1
  cleanup
  [ "$mode" = warm ] && cat "$img" >/dev/null
  ./offhost tape new "$work/tape.tap" --capacity 8G --label BENCH >/dev/null 2>&1
  ./offhost tape new "$work/btape.tap" --capacity 8G --label BENCHB >/dev/null 2>&1
  read -r dd_s _ < <(measure dd dd if="$img" of="$work/dd.out" bs=1M)
  rm -f "$work/dd.out"
  read -r dds_s _ < <(measure dd-sync dd if="$img" of="$work/dd-sync.out" bs=1M conv=fsync)
  rm -f "$work/dd-sync.out"
  read -r nc_s _ < <(measure ntfsclone ntfsclone -f --save-image -o "$work/clone.img" "$img")
  ntfs-3g -o ro "$img" "$work/mnt"
  read -r tar_s _ < <(measure tar tar -cf "$work/tar.out" -C "$work/mnt" .)
  rm -f "$work/tar.out"
  # The same with its archive on the disk before it ends (sync FILE: fsync), as offhost's tape is when it reports.
  read -r tars_s _ < <(measure tar-sync sh -c 'tar -cf "$1" -C "$2" . && sync "$1"' tar-sync "$work/tar.out" "$work/mnt")
  umount "$work/mnt"
  rm -f "$work/tar.out"
  read -r bi_s bi_kb < <(measure backup-image ./offhost backup-image "$img" --tape "$work/tape.tap" --record-size "$record")
  read -r bk_s bk_kb < <(measure backup ./offhost backup "$img" --tape "$work/btape.tap" --catalog "$work/catalog.db" --quiesce 0s --snapshot none --record-size "$record" --json)
  bi_bytes=$(archive_bytes "$work/tape.tap")
  bk_bytes=$(archive_bytes "$work/btape.tap")
  # warm: every restore's input is in the page cache, as the volume was for the backups (ntfsclone's image is, having
  # just been written through it; offhost's tapes are written with O_DIRECT and are not).
  [ "$mode" = warm ] && cat "$work/clone.img" "$work/tape.tap" "$work/btape.tap" >/dev/null
  truncate -s "$img_bytes" "$work/ntfsclone-restored.img"
  read -r nr_s _ < <(measure ntfsclone-restore ntfsclone -f --restore-image --overwrite "$work/ntfsclone-restored.img" "$work/clone.img")
  rm -f "$work/ntfsclone-restored.img" "$work/clone.img"
  truncate -s "$img_bytes" "$work/restored.img"
  read -r ri_s ri_kb < <(measure restore-image ./offhost restore-image --tape "$work/tape.tap" --file 1 --to "$work/restored.img")
  rm -f "$work/restored.img"
  read -r rv_s rv_kb < <(measure restore-volume ./offhost restore latest --volume --to "$work/restored-volume.img" --catalog "$work/catalog.db")
  if [ "$2" = 1 ]; then                                   # the restored volume must be the volume (unallocated space reads as zeros on both)
    cmp -s "$img" "$work/restored-volume.img" || { echo "restore --volume did not reproduce $img" >&2; exit 1; }
  fi
  echo "$mode round $2: dd ${dd_s}s (conv=fsync ${dds_s}s), ntfsclone ${nc_s}s, tar ${tar_s}s (then sync ${tars_s}s), backup-image ${bi_s}s (${bi_kb} KiB RSS), backup ${bk_s}s (${bk_kb} KiB RSS); restore: ntfsclone ${nr_s}s, restore-image ${ri_s}s (${ri_kb} KiB RSS), restore --volume ${rv_s}s (${rv_kb} KiB RSS)" >&2
  echo "$mode $dd_s $dds_s $nc_s $tar_s $bi_s $bk_s $nr_s $ri_s $rv_s $bi_bytes $bk_bytes $img_bytes $bi_kb $bk_kb $ri_kb $rv_kb $tars_s"
}

modes=()
case "$cache" in both) modes=(warm cold) ;; warm|cold) modes=("$cache") ;; *) echo "cache: both, warm or cold" >&2; exit 2 ;; esac
lines=()
for m in "${modes[@]}"; do
  for ((r = 1; r <= rounds; r++)); do lines+=("$(round "$m" "$r")"); done
done
printf '%s\n' "${lines[@]}" | python3 -c "
import sys, statistics as st
rows = {}
for l in sys.stdin:
    f = l.split()
    if f: rows.setdefault(f[0], []).append(list(map(float, f[1:])))
for mode, rs in rows.items():
    med = lambda fn: st.median(fn(*r) for r in rs)
    rng = lambda fn: f'{min(fn(*r) for r in rs):.2f}-{max(fn(*r) for r in rs):.2f}'
    print(f'{mode} cache, {len(rs)} rounds (median, range):')
    figures = [
        ('backup-image / ntfsclone time        (target <= 1.0)', lambda dd,dds,nc,tar,bi,bk,nr,ri,rv,bib,bkb,ib,*k: bi/nc),
        ('backup-image / tar-through-ntfs-3g   (target <= 0.3)', lambda dd,dds,nc,tar,bi,bk,nr,ri,rv,bib,bkb,ib,*k: bi/tar),
        ('backup-image / tar, archive synced               ', lambda *r: r[4] / r[16]),
        ('backup-image throughput / dd         (target >= 0.9)', lambda dd,dds,nc,tar,bi,bk,nr,ri,rv,bib,bkb,ib,*k: (bib/bi)/(ib/dd)),
        ('backup-image throughput / dd fsync                  ', lambda dd,dds,nc,tar,bi,bk,nr,ri,rv,bib,bkb,ib,*k: (bib/bi)/(ib/dds)),
        ('backup / ntfsclone time              (target <= 1.0)', lambda dd,dds,nc,tar,bi,bk,nr,ri,rv,bib,bkb,ib,*k: bk/nc),
        ('backup / tar-through-ntfs-3g         (target <= 0.3)', lambda dd,dds,nc,tar,bi,bk,nr,ri,rv,bib,bkb,ib,*k: bk/tar),
        ('backup / tar, archive synced                     ', lambda *r: r[5] / r[16]),
        ('backup throughput / dd               (target >= 0.9)', lambda dd,dds,nc,tar,bi,bk,nr,ri,rv,bib,bkb,ib,*k: (bkb/bk)/(ib/dd)),
        ('restore-image / ntfsclone --restore-image            ', lambda dd,dds,nc,tar,bi,bk,nr,ri,rv,*k: ri/nr),
        ('restore --volume / ntfsclone --restore-image         ', lambda dd,dds,nc,tar,bi,bk,nr,ri,rv,*k: rv/nr),
    ]
    for name, fn in figures: print(f'  {name}: {med(fn):.2f}  ({rng(fn)})')
    print('  seconds: ' + ', '.join(f'{n} {st.median(r[i] for r in rs):.2f}' for i, n in [*enumerate(['dd','dd-fsync','ntfsclone','tar','backup-image','backup','ntfsclone-restore','restore-image','restore-volume']), (16, 'tar-then-sync')]))
    print(f'  peak RSS MiB: backup-image {max(r[12] for r in rs)/1024:.0f}, backup {max(r[13] for r in rs)/1024:.0f}, restore-image {max(r[14] for r in rs)/1024:.0f}, restore --volume {max(r[15] for r in rs)/1024:.0f}')
"
