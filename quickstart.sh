#!/usr/bin/env bash
# Installs everything Offhost needs, builds it, and runs the main job on an embedded default: a small sample NTFS
# volume (mkntfs + ntfs-3g) is mapped, backed up to a virtual tape through EXTENDED COPY with a SQLite catalog,
# listed, read by GNU tar, restored file by file and as a whole volume, and verified.
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

catalog="$work/catalog.db"
step "./offhost backup $volume --tape $tape --catalog $catalog   (frozen image, storage map, EXTENDED COPY to tape, catalog)"
out=$(./offhost backup "$volume" --tape "$tape" --catalog "$catalog" --quiesce 0)
echo "$out"
backup_id=${out%%$'\n'*}   # the first line is the backup id

step "./offhost backups --catalog $catalog"
./offhost backups --catalog "$catalog"

step "./offhost files $backup_id --catalog $catalog"
./offhost files "$backup_id" --catalog "$catalog"

step "./offhost tape cat $tape --file 1 | tar -tvf -   (GNU tar reads the backup)"
./offhost tape cat "$tape" --file 1 > "$work/backup.tar"
tar -tvf "$work/backup.tar"

step "./offhost restore $backup_id --to $work/files /photos/big.bin /readme-link.txt   (compared with the volume through ntfs-3g)"
mkdir -p "$work/mnt"
# Exit code 3 only says that NTFS attributes and creation times cannot go onto this directory's file system.
./offhost restore "$backup_id" --to "$work/files" /photos/big.bin /readme-link.txt --catalog "$catalog" || [ $? -eq 3 ]
ntfs-3g -o ro,streams_interface=xattr "$volume" "$work/mnt"
cmp "$work/mnt/photos/big.bin" "$work/files/photos/big.bin" && echo "photos/big.bin: identical"
getfattr -n user.summary "$work/files/readme-link.txt" | grep -q stream && echo "readme-link.txt: its alternate data stream came back as user.summary"
umount "$work/mnt"

step "./offhost restore $backup_id --volume --to $work/restored.img"
./offhost restore "$backup_id" --volume --to "$work/restored.img" --catalog "$catalog"
ntfs-3g -o ro "$work/restored.img" "$work/mnt"
ls -la "$work/mnt"
umount "$work/mnt"

step "./offhost verify $backup_id --catalog $catalog"
./offhost verify "$backup_id" --catalog "$catalog"
echo
echo "Done. The sample volume, the tape, the catalog and the restores are in $work"
