#!/usr/bin/env bash
# Sequential read of one tgt LUN on loopback, 1 MiB requests, queue depth 8:
# the Offhost initiator (offhost iscsi read-bench) against libiscsi's iscsi-perf -m 8 -b 2048 on the same LUN.
# Runs are interleaved (A B A B ...) to even out load from other work on the machine; reports MiB/s and the ratio
# of the medians (target: >= 0.9). Needs root, tgtd/tgtadm (tgt) and iscsi-perf (libiscsi-bin).
# Usage: bench/iscsi-read.sh [SECONDS_PER_RUN=10] [ROUNDS=3] [LUN_MIB=512]
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
seconds="${1:-10}"; rounds="${2:-3}"; lun_mib="${3:-512}"
for tool in tgtd tgtadm iscsi-perf; do
  command -v "$tool" >/dev/null || { echo "iscsi-read: $tool is not installed (scripts/deps.sh)" >&2; exit 2; }
done

work="$(mktemp -d /tmp/offhost-iscsi-bench.XXXXXX)"
ctl=$(( 2000 + RANDOM % 30000 ))
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
iqn="iqn.2024-01.org.offhost.bench:read"
uri="iscsi://127.0.0.1:${port}/${iqn}/1"
tgtd_pid=""
cleanup() {
  # tgtd ignores SIGTERM while targets exist.
  [[ -n "$tgtd_pid" ]] && kill -9 "$tgtd_pid" 2>/dev/null && wait "$tgtd_pid" 2>/dev/null || true
  rm -f "/var/run/tgtd/socket.${ctl}" "/var/run/tgtd/socket.${ctl}.lock"
  rm -rf "$work"
}
trap cleanup EXIT

head -c $(( lun_mib * 1048576 )) /dev/urandom > "$work/lun.img"
tgtd -f -C "$ctl" --iscsi "portal=127.0.0.1:${port}" >"$work/tgtd.log" 2>&1 &
tgtd_pid=$!
for _ in $(seq 50); do tgtadm -C "$ctl" --lld iscsi --mode target --op show >/dev/null 2>&1 && break; sleep 0.1; done
tgtadm -C "$ctl" --lld iscsi --mode target --op new --tid 1 --targetname "$iqn"
tgtadm -C "$ctl" --lld iscsi --mode logicalunit --op new --tid 1 --lun 1 --backing-store "$work/lun.img"
tgtadm -C "$ctl" --lld iscsi --mode target --op bind --tid 1 --initiator-address ALL
cat "$work/lun.img" >/dev/null        # both contenders read from the page cache

"$root/offhost" iscsi read-bench "$uri" --seconds 1 >/dev/null   # build and JIT warm-up, not measured

ours=(); theirs=()
for r in $(seq "$rounds"); do
  o=$("$root/offhost" iscsi read-bench "$uri" --request-bytes 1048576 --queue-depth 8 --seconds "$seconds" | sed -n 's/.*: \([0-9.]*\) MiB\/s/\1/p')
  # iscsi-perf runs until interrupted; its "iops average" with 1 MiB requests is MiB/s.
  t=$( { timeout -s INT "$seconds" iscsi-perf -m 8 -b 2048 "$uri" 2>&1 || true; } | tr '\r' '\n' \
      | sed -n 's/.*iops average \([0-9]*\) .*/\1/p' | tail -1)
  echo "round $r: offhost ${o} MiB/s, iscsi-perf ${t} MiB/s"
  ours+=("$o"); theirs+=("$t")
done

python3 - "${ours[*]}" "${theirs[*]}" <<'PY'
import statistics, sys
ours = [float(x) for x in sys.argv[1].split()]
theirs = [float(x) for x in sys.argv[2].split()]
o, t = statistics.median(ours), statistics.median(theirs)
print(f"median: offhost {o:.1f} MiB/s, iscsi-perf {t:.1f} MiB/s, ratio {o / t:.2f} (target >= 0.90)")
PY
