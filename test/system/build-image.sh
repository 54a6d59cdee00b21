#!/usr/bin/env bash
# Builds the bare arm64 Debian trixie system the field system test boots (a Pi with a fresh OS,
# before the technician arrives): debootstrap --foreign on this x86 host (download + unpack, no
# arm64 code runs here), then the second stage inside qemu-system-aarch64 (TCG) booted with a tiny
# initrd made here from Debian's busybox-static and the kernel's own modules. The result is
# Debian's kernel + the initrd Debian's initramfs-tools made inside the guest + an ext4 image.
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

key="$( { cat "$SELF/build-image.sh" "$SELF/lib.sh"; echo "$SUITE $INCLUDE $MIRROR $SIZE"; } | sha256sum | cut -c1-16)"
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
for t in debootstrap mke2fs debugfs qemu-system-aarch64 cpio; do command -v "$t" > /dev/null || die "$t missing (apt-get install debootstrap e2fsprogs qemu-system-arm cpio)"; done

work="$CACHE/image-$key.work"
rm -rf "$work"
mkdir -p "$work"
root="$work/root"
t0=$(date +%s)

log "debootstrap --foreign --arch arm64 $SUITE from $MIRROR"
mkdir -p "$CACHE/debootstrap-debs"
nice debootstrap --cache-dir="$CACHE/debootstrap-debs" --foreign --arch=arm64 --variant=minbase --include="$INCLUDE" "$SUITE" "$root" "$MIRROR" > "$work/debootstrap.log" 2>&1 ||
  { tail -20 "$work/debootstrap.log" >&2; die "debootstrap failed (log $work/debootstrap.log)"; }

# Kernel and modules straight from the downloaded .deb (the second stage installs it properly).
kdeb="$(compgen -G "$root/var/cache/apt/archives/linux-image-[0-9]*arm64*.deb" | head -n1 || true)"
[ -n "$kdeb" ] || die "no linux-image .deb in the debootstrap download"
mkdir -p "$work/kernel"
dpkg-deb -x "$kdeb" "$work/kernel"
moddir="$work/kernel/usr/lib/modules"; [ -d "$moddir" ] || moddir="$work/kernel/lib/modules"
kver="$(basename "$(compgen -G "$moddir/*" | head -n1)")"
cp "$work/kernel/boot/vmlinuz-$kver" "$work/vmlinuz"

log "stage-2 initrd (busybox-static + virtio/ext4 modules of $kver)"
bdeb="$(compgen -G "$root/var/cache/apt/archives/busybox-static_*.deb" | head -n1 || true)"
mkdir -p "$work/bb" "$work/initrd/bin" "$work/initrd/lib/modules" "$work/initrd/dev" "$work/initrd/proc" "$work/initrd/sys" "$work/initrd/newroot"
dpkg-deb -x "$bdeb" "$work/bb"
for b in "$work/bb/usr/bin/busybox" "$work/bb/bin/busybox"; do [ -x "$b" ] && { cp "$b" "$work/initrd/bin/busybox"; break; }; done
[ -x "$work/initrd/bin/busybox" ] || die "no busybox in $bdeb"
mods=()
for m in crc16 crc32c_generic libcrc32c mbcache jbd2 ext4 virtio_ring virtio virtio_pci_legacy_dev virtio_pci_modern_dev virtio_pci virtio_mmio virtio_blk; do
  f="$(find "$moddir/$kver" -name "$m.ko*" | head -n1)"
  [ -n "$f" ] || continue
  cp "$f" "$work/initrd/lib/modules/"
  mods+=("$(basename "$f")")
done
cat > "$work/initrd/init" << EOF
#!/bin/busybox sh
/bin/busybox --install -s /bin
mount -t proc proc /proc; mount -t sysfs sys /sys; mount -t devtmpfs dev /dev
for m in ${mods[*]}; do
  case \$m in *.xz) xz -dc /lib/modules/\$m > /tmp.ko 2>/dev/null && insmod /tmp.ko ;; *.zst) zstd -dc /lib/modules/\$m > /tmp.ko 2>/dev/null && insmod /tmp.ko ;; *) insmod /lib/modules/\$m ;; esac
done
i=0; while [ ! -b /dev/vda ] && [ \$i -lt 100 ]; do sleep 0.1; i=\$((i+1)); done
mount -t ext4 /dev/vda /newroot || { echo "initrd: cannot mount /dev/vda"; sh; }
umount /proc /sys; mount --move /dev /newroot/dev
exec switch_root /newroot /stage2.sh
EOF
chmod +x "$work/initrd/init"
(cd "$work/initrd" && find . | cpio -o -H newc --quiet | gzip -1) > "$work/initrd-stage2.gz"

# The second stage and the guest's first configuration, run by the guest itself as pid 1.
cat > "$root/stage2.sh" << 'EOF'
#!/bin/sh
export PATH=/usr/sbin:/usr/bin:/sbin:/bin
mount -t proc proc /proc; mount -t sysfs sys /sys
mount -o remount,rw /
echo "stage2: debootstrap --second-stage"
# A build, not a kiosk: no fsync per unpacked file (the disk is cache=unsafe anyway).
mkdir -p /etc/dpkg/dpkg.cfg.d && echo force-unsafe-io > /etc/dpkg/dpkg.cfg.d/hadir-build-unsafe-io
/debootstrap/debootstrap --second-stage || { echo "STAGE2-FAILED"; tail -30 /debootstrap/debootstrap.log; sync; echo o > /proc/sysrq-trigger; }
echo hadir-kiosk > /etc/hostname
printf '127.0.0.1 localhost\n127.0.1.1 hadir-kiosk\n' > /etc/hosts
printf '/dev/vda / ext4 errors=remount-ro 0 1\n' > /etc/fstab
mkdir -p /etc/systemd/network
printf '[Match]\nName=en* eth*\n[Network]\nDHCP=yes\n' > /etc/systemd/network/10-wired.network
systemctl enable systemd-networkd ssh serial-getty@ttyAMA0.service > /dev/null 2>&1
# No apt source: like a kiosk in a blank spot, everything comes from the offline mirror.
: > /etc/apt/sources.list; rm -f /etc/apt/sources.list.d/*
passwd -d root > /dev/null
mkdir -p /root/.ssh /etc/ssh/sshd_config.d; chmod 700 /root/.ssh
cp /hadir-test-key.pub /root/.ssh/authorized_keys
printf 'PermitRootLogin prohibit-password\nUseDNS no\n' > /etc/ssh/sshd_config.d/hadir-test.conf
# A stick the technician plugs in: the second virtio disk, labelled HADIRUSB, mounted if present.
mkdir -p /media/usb
printf 'LABEL=HADIRUSB /media/usb ext4 ro,nofail,x-systemd.device-timeout=5s 0 0\n' >> /etc/fstab
rm -f /var/cache/apt/archives/*.deb /etc/dpkg/dpkg.cfg.d/hadir-build-unsafe-io
echo "STAGE2-OK"
sync
echo o > /proc/sysrq-trigger
EOF
chmod +x "$root/stage2.sh"
ensure_test_key "$CACHE"
cp "$CACHE/id_ed25519.pub" "$root/hadir-test-key.pub"

log "ext4 image ($SIZE) from the foreign root"
mke2fs -q -t ext4 -L hadirroot -d "$root" "$work/root.img" "$SIZE"
rm -rf "$root" "$work/bb" "$work/initrd"

log "stage 2 in qemu-system-aarch64 (TCG; slow)"
nice -n "${HADIR_VM_NICE:-5}" qemu-system-aarch64 -M virt -cpu max -smp 2 -m 2048 -nographic -no-reboot \
  -kernel "$work/vmlinuz" -initrd "$work/initrd-stage2.gz" -append "console=ttyAMA0 panic=-1" \
  -drive "if=virtio,format=raw,cache=unsafe,file=$work/root.img" -netdev user,id=n0 -device virtio-net-pci,netdev=n0 \
  < /dev/null > "$work/stage2.log" 2>&1 || true
grep -q STAGE2-OK "$work/stage2.log" || { tail -40 "$work/stage2.log" >&2; die "stage 2 failed (log $work/stage2.log)"; }

# Debian's own initrd, made by initramfs-tools inside the guest, for every later boot.
debugfs -R "dump /boot/initrd.img-$kver $work/initrd.img" "$work/root.img" 2> /dev/null
[ -s "$work/initrd.img" ] || die "no /boot/initrd.img-$kver in the image"
debugfs -R "dump /boot/vmlinuz-$kver $work/vmlinuz" "$work/root.img" 2> /dev/null
rm -f "$work/initrd-stage2.gz"
rm -rf "$work/kernel"
echo "$kver" > "$work/KERNEL"
date -u +%FT%TZ > "$work/.complete"
log "image built in $(( $(date +%s) - t0 )) s"
rm -rf "$OUT"
mv "$work" "$OUT"
echo "$OUT"
