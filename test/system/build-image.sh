#!/usr/bin/env bash
# Builds the bare arm64 Debian trixie system the field system test boots (a Pi with a fresh OS,
# before the technician arrives): debootstrap --foreign on this x86 host (download + unpack), then
# the second stage and the first configuration (image-configure.sh) as arm64 code under proot with
# qemu's user-mode emulator (no binfmt_misc is needed, and no VM: a TCG guest took > 50 min for
# this, proot a few minutes). The result is Debian's kernel, the initrd Debian's initramfs-tools
# made in the second stage, and an ext4 image of the root.
#
#   build-image.sh [--cache DIR] [--mirror URL]      prints the image directory on its last line
#
# Cached by content: the directory is named by the sha256 of this script, the suite, the package
# list and the mirror, so a second run with nothing changed returns at once.
set -euo pipefail
umask 022

CACHE="${HADIR_SYSTEM_CACHE:-/var/cache/hadir-system}"
MIRROR="${HADIR_DEBIAN_MIRROR:-}"
while [ $# -gt 0 ]; do
  case "$1" in
    --cache) CACHE="${2:?--cache needs a directory}"; shift 2 ;;
    --mirror) MIRROR="${2:?--mirror needs a URL}"; shift 2 ;;
    *) echo "build-image: unknown option $1 (use --cache DIR, --mirror URL)" >&2; exit 2 ;;
  esac
done
SELF="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=test/system/lib.sh
. "$SELF/lib.sh"
[ -n "$MIRROR" ] || MIRROR="$(debian_mirror)"

readonly SUITE=trixie
# What a fresh Raspberry Pi OS Lite has that provisioning relies on (systemd, ssh, networking),
# plus the kernel. Nothing of the kiosk: that comes from the offline mirror.
readonly INCLUDE="systemd-sysv,udev,dbus,openssh-server,linux-image-arm64,initramfs-tools,busybox-static,iproute2,kmod,procps,passwd,ca-certificates,xz-utils,less"
readonly SIZE=6G

key="$( { cat "$SELF/build-image.sh" "$SELF/image-configure.sh" "$SELF/lib.sh"; echo "$SUITE $INCLUDE $MIRROR $SIZE"; } | sha256sum | cut -c1-16)"
OUT="$CACHE/image-$key"
if [ -f "$OUT/.complete" ]; then
  log "image cached: $OUT"
  echo "$OUT"
  exit 0
fi
need_root
mkdir -p "$CACHE"
# One build at a time per cache (CI and a developer, or two test runs): the second waits, then finds it.
exec 9> "$CACHE/.image.lock"
flock 9
if [ -f "$OUT/.complete" ]; then
  log "image cached: $OUT"
  echo "$OUT"
  exit 0
fi
for t in debootstrap mke2fs proot qemu-aarch64-static; do command -v "$t" > /dev/null || die "$t missing (apt-get install debootstrap e2fsprogs proot qemu-user-static)"; done
QEMU_USER="$(command -v qemu-aarch64-static)"

work="$CACHE/image-$key.work"
rm -rf "$work"
mkdir -p "$work"
root="$work/root"
t0=$(date +%s)

log "debootstrap --foreign --arch arm64 $SUITE from $MIRROR"
mkdir -p "$CACHE/debootstrap-debs"
nice debootstrap --cache-dir="$CACHE/debootstrap-debs" --foreign --arch=arm64 --variant=minbase --include="$INCLUDE" "$SUITE" "$root" "$MIRROR" > "$work/debootstrap.log" 2>&1 ||
  { tail -20 "$work/debootstrap.log" >&2; die "debootstrap failed (log $work/debootstrap.log)"; }

# debootstrap's second stage scans the whole Packages index (56 MB for trixie/arm64) with perl once
# per step; under qemu-user that is minutes a pass. It needs only the packages it downloaded.
for p in "$root"/var/lib/apt/lists/*_Packages; do
  awk -v list="$root/debootstrap/debpaths" 'BEGIN { while ((getline l < list) > 0) { split(l, a, " "); keep[a[1]] = 1 }; RS = ""; ORS = "\n\n" }
    match($0, /^Package: [^\n]+/) { if (substr($0, 10, RLENGTH - 9) in keep) print }' "$p" > "$p.needed"
  mv "$p.needed" "$p"
done

# The second stage and the system's first configuration run arm64 code: under proot with qemu's
# user-mode emulator (no binfmt_misc here, and no VM: an order of magnitude faster than a TCG guest
# for dpkg's work). A build, not a kiosk: no fsync per unpacked file.
mkdir -p "$root/etc/dpkg/dpkg.cfg.d" && echo force-unsafe-io > "$root/etc/dpkg/dpkg.cfg.d/hadir-build-unsafe-io"
# Two programs cannot run under proot 5 and get a no-op in their place for the build only (local
# dpkg diversions, undone below): systemd-tmpfiles (proot aborts on its empty-path openat; it runs
# at every boot anyway) and update-initramfs (its hooks fail under proot and leave an initrd with
# no /bin/sh; the VM boots with the small initrd made below instead).
STUBS=(/usr/bin/systemd-tmpfiles /usr/sbin/update-initramfs)
mkdir -p "$root/var/lib/dpkg"
for f in "${STUBS[@]}"; do
  printf '%s\n%s.hadir-build\n:\n' "$f" "$f" >> "$root/var/lib/dpkg/diversions"
  mkdir -p "$root$(dirname "$f")" && printf '#!/bin/sh\nexit 0\n' > "$root$f" && chmod 755 "$root$f"
done
# Belt and braces (in_root's mount namespace already keeps them private): never leave a mount in the
# root, and never rm -rf through one.
# (No mount at all is the usual case, and grep's exit 1 would end the script under pipefail.)
unmount_root() { { grep -o " $root/[^ ]*" /proc/mounts || true; } | sort -r | while read -r m; do umount -l "$m" || true; done; }
trap unmount_root EXIT
# /tmp is the host's /tmp inside too: proot 5 does not translate statx()'s path, so a statx of a
# temp file (openssh-server's postinst, through ucf) must find it at the same path outside.
# (Binding only TMPDIR is not enough: debootstrap's second stage does not pass it on.)
# In a mount namespace of its own: this runs as real root and proot passes mount(2) through, so
# debootstrap's own mounts (/proc, and devpts over the bound /dev/pts) would otherwise land on
# this machine — an interrupted second stage once left it with no /dev/pts (no pty for anyone).
in_root() {
  env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root LANG=C.UTF-8 DEBIAN_FRONTEND=noninteractive DEBOOTSTRAP_DIR=/debootstrap \
    nice unshare --mount --propagation private proot -q "$QEMU_USER" -r "$root" -0 -w / -b /proc -b /sys -b /dev -b /tmp "$@"
}
log "second stage under proot + qemu-aarch64 (user-mode emulation)"
in_root /bin/sh /debootstrap/debootstrap --second-stage > "$work/stage2.log" 2>&1 ||
  { tail -30 "$work/stage2.log" >&2; die "second stage failed (log $work/stage2.log, $root/debootstrap/debootstrap.log)"; }

unmount_root
for f in "${STUBS[@]}"; do
  rm -f "$root$f"
  in_root /usr/bin/dpkg-divert --local --rename --remove "$f" > /dev/null || die "cannot restore $f after the build"
done

# The bare system a technician finds: hostname, DHCP, sshd (for the harness), the USB stick's mount point.
cp "$SELF/image-configure.sh" "$root/hadir-configure.sh"
ensure_test_key "$CACHE"
cp "$CACHE/id_ed25519.pub" "$root/hadir-test-key.pub"
in_root /bin/sh /hadir-configure.sh > "$work/configure.log" 2>&1 || { cat "$work/configure.log" >&2; die "configuring the image failed"; }
ssh-keygen -q -t ed25519 -N '' -C hadir-kiosk -f "$root/etc/ssh/ssh_host_ed25519_key"
rm -f "$root/hadir-configure.sh" "$root/hadir-test-key.pub" "$root"/var/cache/apt/archives/*.deb "$root/etc/dpkg/dpkg.cfg.d/hadir-build-unsafe-io"

# Debian's kernel, and a small initrd made here from the root's busybox-static and the kernel's
# virtio/ext4 modules: it mounts the root read-only and hands over to systemd, which checks it
# (systemd-fsck-root) and remounts it read-write, as after any power cut on a Pi.
kver="$(basename "$(compgen -G "$root/usr/lib/modules/*" | head -n1)")"
[ -f "$root/boot/vmlinuz-$kver" ] || die "no kernel for '$kver' in /boot (see $work/stage2.log)"
cp "$root/boot/vmlinuz-$kver" "$work/vmlinuz"
echo "$kver" > "$work/KERNEL"
ird="$work/initrd"
mkdir -p "$ird/bin" "$ird/lib/modules" "$ird/dev" "$ird/proc" "$ird/sys" "$ird/newroot"
cp "$root/usr/bin/busybox" "$ird/bin/busybox"
mods=()
for m in crc16 crc32c_generic libcrc32c mbcache jbd2 ext4 virtio_ring virtio virtio_pci_legacy_dev virtio_pci_modern_dev virtio_pci virtio_blk; do
  f="$(find "$root/usr/lib/modules/$kver" -name "$m.ko*" | head -n1)"
  [ -n "$f" ] || continue # built into this kernel
  cp "$f" "$ird/lib/modules/"
  mods+=("$(basename "$f")")
done
cat > "$ird/init" << EOF
#!/bin/busybox sh
/bin/busybox --install -s /bin
mount -t proc proc /proc; mount -t sysfs sys /sys; mount -t devtmpfs dev /dev
for m in ${mods[*]}; do
  case \$m in *.xz) xz -dc /lib/modules/\$m > /m.ko && insmod /m.ko ;; *) insmod /lib/modules/\$m ;; esac
done
rm -f /m.ko
i=0; while [ ! -b /dev/vda ] && [ \$i -lt 300 ]; do sleep 0.1; i=\$((i+1)); done
mount -t ext4 -o ro /dev/vda /newroot || { echo "initrd: cannot mount /dev/vda"; sleep 5; poweroff -f; }
umount /proc /sys; mount --move /dev /newroot/dev
exec switch_root /newroot /sbin/init
EOF
chmod +x "$ird/init"
(cd "$ird" && find . | cpio -o -H newc --quiet | gzip -1) > "$work/initrd.img"
rm -rf "$ird"

log "ext4 image ($SIZE) from the root"
unmount_root
mke2fs -q -t ext4 -L hadirroot -d "$root" "$work/root.img" "$SIZE"
rm -rf --one-file-system "$root"
date -u +%FT%TZ > "$work/.complete"
log "image built in $(( $(date +%s) - t0 )) s"
rm -rf "$OUT"
mv "$work" "$OUT"
echo "$OUT"
