#!/usr/bin/env bash
# Installs everything Offhost needs, builds it, and runs the main job on an embedded default:
# a small sample NTFS volume made with mkntfs and ntfs-3g.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"
source scripts/deps.sh
offhost_install_deps

export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1
dotnet build Offhost.slnx -c Release -nologo -clp:ErrorsOnly

work="${OFFHOST_QUICKSTART_DIR:-$(pwd)/artifacts/quickstart}"
mkdir -p "$work"
scripts/make-sample-ntfs.sh "$work/sample-ntfs.img"

echo
echo "== ./offhost map $work/sample-ntfs.img"
./offhost map "$work/sample-ntfs.img"
