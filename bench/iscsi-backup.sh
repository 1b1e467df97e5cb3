#!/usr/bin/env bash
# Backup throughput from an iSCSI LUN to the tgt tape, beside the same backup from the local image file to a SIMH
# tape, in one run. The LUN is backed by the image itself, the tape is a tgtimg cartridge; tgtd runs on loopback.
#   bench/iscsi-backup.sh [image=/var/tmp/offhost-backup-bench/ntfs-2G-1400.img (made by backup-image.sh)] [rounds=2]
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
img=${1:-/var/tmp/offhost-backup-bench/ntfs-2G-1400.img}
rounds=${2:-2}
work=$(mktemp -d /var/tmp/offhost-iscsi-bench.XXXXXX)
export OFFHOST_NO_PROGRESS=1 DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
ctl=$((20000 + RANDOM % 10000))
tgtd -f -C "$ctl" --iscsi portal=127.0.0.1:"$port" >"$work/tgtd.log" 2>&1 &
tgtd_pid=$!
trap 'kill "$tgtd_pid" 2>/dev/null; wait "$tgtd_pid" 2>/dev/null; rm -f /var/run/tgtd/socket."$ctl"*; rm -rf "$work"' EXIT
for _ in $(seq 100); do tgtadm -C "$ctl" --lld iscsi --mode target --op show >/dev/null 2>&1 && break; sleep 0.1; done
adm() { tgtadm -C "$ctl" --lld iscsi "$@"; }
disk_iqn=iqn.2026-11.org.offhost.bench:disk tape_iqn=iqn.2026-11.org.offhost.bench:tape
adm --mode target --op new --tid 1 --targetname "$disk_iqn"
adm --mode logicalunit --op new --tid 1 --lun 1 --backing-store "$img"
adm --mode target --op bind --tid 1 --initiator-address ALL
adm --mode target --op new --tid 2 --targetname "$tape_iqn"
adm --mode target --op bind --tid 2 --initiator-address ALL
./offhost --help >/dev/null
size_mib=$(( $(stat -c %s "$img") >> 20 ))

for ((r = 1; r <= rounds; r++)); do
  rm -f "$work/tape.img" "$work/local.tap"
  tgtimg --op new --device-type tape --barcode BENCH1 --size $(( size_mib * 2 )) --type data --file "$work/tape.img" >/dev/null
  adm --mode logicalunit --op delete --tid 2 --lun 1 2>/dev/null || true
  adm --mode logicalunit --op new --tid 2 --lun 1 --device-type tape --bstype ssc --backing-store "$work/tape.img"
  tape="iscsi://127.0.0.1:$port/$tape_iqn/1" disk="iscsi://127.0.0.1:$port/$disk_iqn/1"
  ./offhost tape new "$tape" --capacity "$(( size_mib * 2 ))M" --label BENCH1 2>/dev/null
  ./offhost tape new "$work/local.tap" --capacity "$(( size_mib * 2 ))M" --label BENCH1 2>/dev/null
  cat "$img" >/dev/null
  t0=$(date +%s.%N); ./offhost backup-image "$disk" --tape "$tape" --record-size 256K --json >"$work/iscsi.json"; t1=$(date +%s.%N)
  ./offhost backup-image "$img" --tape "$work/local.tap" --record-size 256K --json >"$work/local.json"; t2=$(date +%s.%N)
  python3 - "$work/iscsi.json" "$work/local.json" "$t0" "$t1" "$t2" "$r" <<'PY'
import json, sys
i, l = json.load(open(sys.argv[1])), json.load(open(sys.argv[2]))
t0, t1, t2 = map(float, sys.argv[3:6])
mi, ml = i["archive_bytes"] / 2**20 / (t1 - t0), l["archive_bytes"] / 2**20 / (t2 - t1)
print(f"round {sys.argv[6]}: iSCSI LUN -> tgt tape {i['archive_bytes'] >> 20} MiB in {t1 - t0:.2f} s = {mi:.0f} MiB/s; "
      f"local image -> SIMH tape {l['archive_bytes'] >> 20} MiB in {t2 - t1:.2f} s = {ml:.0f} MiB/s; ratio {mi / ml:.2f}")
PY
done
