#!/usr/bin/env bash
# Installs everything Offhost needs, builds it, and runs the main job on an embedded default: a small sample NTFS
# volume (mkntfs + ntfs-3g), mapped, backed up to a virtual tape through EXTENDED COPY, listed, read back by GNU tar,
# and restored as a whole volume.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"
source scripts/deps.sh
offhost_install_deps

export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1
dotnet build Offhost.slnx -c Release -nologo -clp:ErrorsOnly

work="${OFFHOST_QUICKSTART_DIR:-$(pwd)/artifacts/quickstart}"
rm -rf "$work"; mkdir -p "$work"
volume="$work/sample-ntfs.img" tape="$work/tape.tap"
scripts/make-sample-ntfs.sh "$volume"

step() { echo; echo "== $*"; }
step "./offhost map $volume"
./offhost map "$volume"

step "./offhost tape new $tape --capacity 1G --label VOL001"
./offhost tape new "$tape" --capacity 1G --label VOL001

step "./offhost backup-image $volume --tape $tape"
./offhost backup-image "$volume" --tape "$tape"

step "./offhost tape ls $tape"
./offhost tape ls "$tape"

step "./offhost tape cat $tape --file 1 | tar -tvf -   (GNU tar reads the backup)"
./offhost tape cat "$tape" --file 1 | tar -tvf -

step "restore one file with GNU tar and compare it with the volume through ntfs-3g"
mkdir -p "$work/extract" "$work/mnt"
./offhost tape cat "$tape" --file 1 | tar --xattrs --xattrs-include='user.*' -xf - -C "$work/extract" photos/big.bin readme-link.txt
ntfs-3g -o ro,streams_interface=xattr "$volume" "$work/mnt"
cmp "$work/mnt/photos/big.bin" "$work/extract/photos/big.bin" && echo "photos/big.bin: identical"
getfattr -n user.summary "$work/extract/readme-link.txt" | grep -q stream && echo "readme-link.txt (also docs/readme.txt): its alternate data stream came back as user.summary"
umount "$work/mnt"

step "./offhost restore-image --tape $tape --file 1 --to $work/restored.img --create 64M"
./offhost restore-image --tape "$tape" --file 1 --to "$work/restored.img" --create 64M
ntfs-3g -o ro "$work/restored.img" "$work/mnt"
ls -la "$work/mnt"
umount "$work/mnt"
echo
echo "Done. The sample volume, the tape and the restored volume are in $work"
