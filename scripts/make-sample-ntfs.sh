#!/usr/bin/env bash
# Makes a small sample NTFS volume with mkntfs and ntfs-3g: resident and non-resident files, a sparse file,
# an alternate data stream, a hard link, a symlink and a compressed directory.
set -euo pipefail
img="$1"
mnt="$(mktemp -d)"
cleanup() { mountpoint -q "$mnt" && umount "$mnt"; rmdir "$mnt"; }
trap cleanup EXIT

rm -f "$img"
truncate -s 64M "$img"
mkntfs -q -F -f -L SAMPLE "$img" >/dev/null 2>&1
ntfs-3g -o streams_interface=xattr,compression "$img" "$mnt"
mkdir -p "$mnt/docs/reports" "$mnt/photos" "$mnt/compressed"
echo "hello from a resident file" > "$mnt/docs/readme.txt"
head -c 3000000 /dev/urandom > "$mnt/photos/big.bin"
printf 'quarterly numbers\n%.0s' {1..2000} > "$mnt/docs/reports/q3.csv"
truncate -s 20M "$mnt/sparse.img"; echo "tail" | dd of="$mnt/sparse.img" bs=1 seek=10000000 conv=notrunc status=none
setfattr -n user.summary -v "an alternate data stream" "$mnt/docs/readme.txt"
ln "$mnt/docs/readme.txt" "$mnt/readme-link.txt"
ln -s docs/readme.txt "$mnt/readme-symlink"
setfattr -n system.ntfs_attrib_be -v 0x00000810 "$mnt/compressed"
head -c 1000000 < <(yes "compressible line of text") > "$mnt/compressed/log.txt"
sync
umount "$mnt"
echo "sample NTFS volume: $img"
