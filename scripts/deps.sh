# Sourced by quickstart.sh and test.sh: installs every Debian package Offhost and its tests use.
# apt-get update runs once, and only when something is missing, so a warm machine starts at once.
OFFHOST_DEB_PACKAGES=(
  ntfs-3g          # mkntfs, ntfs-3g (FUSE), ntfsclone: build and check NTFS volumes
  e2fsprogs        # mkfs.ext2/3/4, debugfs
  xfsprogs         # XFS scratch file system for reflink snapshots
  tgt              # tgtd/tgtadm/tgtimg: iSCSI disk and SSC tape targets
  libiscsi-bin     # iscsi-test-cu, iscsi-perf
  partclone        # benchmark anchor
  fdisk gdisk      # sfdisk/sgdisk for MBR and GPT test images
  util-linux       # losetup, fallocate, mount
  attr             # getfattr/setfattr for xattrs and NTFS ADS through ntfs-3g
  iproute2         # ip netns for the two-host tests
  openssl          # certificates and tokens for the agent (docs/two-hosts.md)
  tar              # GNU tar: the archive ground truth
  time             # /usr/bin/time for peak RSS in benchmarks
  sqlite3          # inspect catalogs
  fuse3            # FUSE mounts for ntfs-3g
  python3          # test trees: Unix-domain sockets, xattrs larger than setfattr takes
  coreutils
  clang lld        # native linker driver for the NativeAOT publish of ./offhost (falls back to ReadyToRun without)
)

offhost_install_deps() {
  local missing=()
  for p in "${OFFHOST_DEB_PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  if ((${#missing[@]})); then
    echo "Installing Debian packages: ${missing[*]}" >&2
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq "${missing[@]}" >/dev/null
  fi
  if ! command -v dotnet >/dev/null 2>&1; then
    echo "Installing the .NET SDK from Debian's packages" >&2
    apt-get install -y -qq dotnet-sdk-10.0 >/dev/null
  fi
  modprobe loop 2>/dev/null || true
  modprobe fuse 2>/dev/null || true
}
