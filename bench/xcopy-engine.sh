#!/usr/bin/env bash
# Block→stream throughput of the copy manager against dd, in the same run and on the same files.
#   bench/xcopy-engine.sh [size-MiB=2048] [rounds=3] [record-bytes=1048576]
# Copies a SIZE image to a plain file (records concatenated) with one EXTENDED COPY list, and the same image with
# `dd bs=1M`; rounds alternate the two so page-cache state and machine load hit both alike. Prints each round and the
# median throughput ratio engine/dd (target >= 0.90). Neither side fsyncs: this measures the copy pipeline.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
size_mib=${1:-2048}
rounds=${2:-3}
record=${3:-1048576}
work=${OFFHOST_BENCH_DIR:-$(mktemp -d /var/tmp/offhost-xcopy-bench.XXXXXX)}
trap 'rm -rf "$work"' EXIT
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1

dotnet build bench/Offhost.Bench.DataMover -c Release -nologo -clp:ErrorsOnly >/dev/null
harness=artifacts/bin/Offhost.Bench.DataMover/release/Offhost.Bench.DataMover

img="$work/source.img"
head -c "$((size_mib << 20))" /dev/urandom >"$img"
bytes=$(stat -c %s "$img")
cat "$img" >/dev/null                                  # both sides start from a warm page cache

ratios=()
for ((i = 1; i <= rounds; i++)); do
  rm -f "$work/dd.out" "$work/engine.out"
  t0=$(date +%s.%N)
  dd if="$img" of="$work/dd.out" bs=1M status=none
  t1=$(date +%s.%N)
  dd_s=$(echo "$t1 - $t0" | bc -l)
  rm -f "$work/dd.out"
  read -r engine_s engine_bytes < <("$harness" "$img" "$work/engine.out" "$record")
  [[ "$engine_bytes" == "$bytes" ]] || { echo "engine wrote $engine_bytes of $bytes bytes" >&2; exit 1; }
  if ((i == 1)); then cmp "$img" "$work/engine.out" || { echo "engine output differs from the image" >&2; exit 1; }; fi
  dd_mibs=$(echo "$bytes / 1048576 / $dd_s" | bc -l)
  en_mibs=$(echo "$bytes / 1048576 / $engine_s" | bc -l)
  ratio=$(echo "$en_mibs / $dd_mibs" | bc -l)
  ratios+=("$ratio")
  printf 'round %d: dd %.0f MiB/s, engine %.0f MiB/s, ratio %.2f\n' "$i" "$dd_mibs" "$en_mibs" "$ratio"
done
median=$(printf '%s\n' "${ratios[@]}" | sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}')
printf 'block->stream %d MiB, record %d bytes: median engine/dd throughput ratio %.2f (target >= 0.90)\n' "$size_mib" "$record" "$median"
