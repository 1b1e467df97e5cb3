#!/usr/bin/env bash
# Installs what the tests need, builds, and runs the whole suite. Exits non-zero on any failure.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"
source scripts/deps.sh
offhost_install_deps

export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1
start=$(date +%s)
dotnet build Offhost.slnx -c Release -nologo -clp:ErrorsOnly

results="$(pwd)/artifacts/test-results"
rm -rf "$results"; mkdir -p "$results"
status=0
dotnet test --solution Offhost.slnx -c Release --no-build --no-progress \
  --results-directory "$results" --report-xunit-trx "$@" || status=$?

# One plain closing line over every test project, from the TRX files.
python3 - "$results" "$start" <<'PY'
import sys, glob, time, xml.etree.ElementTree as ET
p = f = s = 0
for path in glob.glob(sys.argv[1] + "/*.trx"):
    c = ET.parse(path).getroot().find(".//{*}Counters")
    if c is None: continue
    p += int(c.get("passed", 0)); f += int(c.get("failed", 0)) + int(c.get("error", 0)) + int(c.get("timeout", 0))
    s += int(c.get("notExecuted", 0))
print(f"suite time: {int(time.time()) - int(sys.argv[2])} s")
print(f"{p} passed, {f} failed, {s} skipped")
PY
exit $status
