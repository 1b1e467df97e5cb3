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
# The test platform's own summary is the count: TRX files are kept for CI, but projects that start in the same instant
# can get the same TRX file name, and one overwrites the other.
dotnet test --solution Offhost.slnx -c Release --no-build --no-progress \
  --results-directory "$results" --report-xunit-trx "$@" 2>&1 | tee "$results/dotnet-test.log" || status=$?

python3 - "$results/dotnet-test.log" "$start" <<'PY'
import re, sys, time
text = open(sys.argv[1], errors="replace").read()
def last(key):
    found = re.findall(rf"^\s+{key}: (\d+)\s*$", text, re.M)
    return int(found[-1]) if found else 0
print(f"suite time: {int(time.time()) - int(sys.argv[2])} s")
print(f"{last('succeeded')} passed, {last('failed')} failed, {last('skipped')} skipped")
PY
exit $status
