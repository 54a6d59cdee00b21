#!/bin/sh
# Run inside the arm64 root by build-image.sh (under proot): what a fresh Raspberry Pi OS Lite
# has before the technician arrives — hostname, DHCP on the wired port, sshd (the harness logs in
# with the test key), no apt source (a blank spot: everything comes from the offline mirror) and a
# mount point for the technician's USB stick.
set -e
echo hadir-kiosk > /etc/hostname
printf '127.0.0.1 localhost\n127.0.1.1 hadir-kiosk\n' > /etc/hosts
printf '/dev/vda / ext4 errors=remount-ro 0 1\n' > /etc/fstab
mkdir -p /etc/systemd/network
printf '[Match]\nName=en* eth*\n[Network]\nDHCP=yes\n' > /etc/systemd/network/10-wired.network
systemctl enable systemd-networkd ssh serial-getty@ttyAMA0.service
: > /etc/apt/sources.list
rm -f /etc/apt/sources.list.d/*
passwd -d root > /dev/null
mkdir -p /root/.ssh /etc/ssh/sshd_config.d
chmod 700 /root/.ssh
cp /hadir-test-key.pub /root/.ssh/authorized_keys
printf 'PermitRootLogin prohibit-password\nUseDNS no\n' > /etc/ssh/sshd_config.d/hadir-test.conf
# The technician's stick: the second virtio disk, labelled HADIRUSB, mounted when present.
mkdir -p /media/usb
printf 'LABEL=HADIRUSB /media/usb ext4 ro,nofail,x-systemd.device-timeout=5s 0 0\n' >> /etc/fstab
# Host keys: build-image.sh makes one on the build host (the guest's sshd-keygen runs only on a
# "first boot", which would also start systemd-firstboot's console prompts).
rm -f /etc/ssh/ssh_host_*
