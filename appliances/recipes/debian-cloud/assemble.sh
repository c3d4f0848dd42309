#!/bin/bash
# Makes a debootstrapped tree ($1) into a BIOS-bootable disk ($2, qcow2): one ext4 partition at
# 1 MiB holding the tree, extlinux in it and syslinux's MBR in front. Runs as root in a private
# mount namespace (unshare), so a failure leaves no mount behind; the loop device is detached on exit.
set -euo pipefail
root=$1 out=$2 size_mib=$3
work=$(dirname "$out")/.assemble.$$
mkdir -p "$work/mnt"
loop=
cleanup() {
	mountpoint -q "$work/mnt" && umount "$work/mnt"
	[ -n "$loop" ] && losetup -d "$loop"
	rm -rf "$work"
}
trap cleanup EXIT

# The guest's own configuration: what a distribution's cloud image ships.
cat >"$root/etc/fstab" <<'FSTAB'
/dev/vda1 / ext4 defaults,errors=remount-ro 0 1
FSTAB
: >"$root/etc/hostname"
rm -f "$root/etc/machine-id" "$root/var/lib/dbus/machine-id" && : >"$root/etc/machine-id"
rm -f "$root"/etc/ssh/ssh_host_*_key* # cloud-init makes each instance its own host keys
cat >"$root/etc/cloud/cloud.cfg.d/90-storm.cfg" <<'CFG'
# STORM's seed is a NoCloud cidata disk (or NoCloud-net); nothing else is probed.
datasource_list: [NoCloud, None]
CFG
cat >"$root/etc/network/interfaces" <<'IFACES'
auto lo
iface lo inet loopback
source /etc/network/interfaces.d/*
IFACES
kernel=$(cd "$root/boot" && ls vmlinuz-* | sort -V | tail -n 1)
initrd=initrd.img-${kernel#vmlinuz-}
mkdir -p "$root/boot/extlinux"
cat >"$root/boot/extlinux/extlinux.conf" <<CONF
DEFAULT debian
TIMEOUT 0
SERIAL 0 115200
LABEL debian
  LINUX /boot/$kernel
  INITRD /boot/$initrd
  APPEND root=/dev/vda1 ro console=ttyS0,115200 net.ifnames=0 quiet
CONF
find "$root/var/cache/apt" "$root/var/lib/apt/lists" -type f -delete

raw=$work/disk.raw
truncate -s "${size_mib}M" "$raw"
# One bootable Linux partition from sector 2048 to the end, written as an MBR entry (no fdisk needed).
python3 - "$raw" "$size_mib" <<'PY'
import struct, sys
path, mib = sys.argv[1], int(sys.argv[2])
start, count = 2048, mib * 2048 - 2048
entry = struct.pack('<B3sB3sII', 0x80, b'\xfe\xff\xff', 0x83, b'\xfe\xff\xff', start, count)
with open(path, 'r+b') as f:
    f.seek(446); f.write(entry + bytes(48)); f.seek(510); f.write(b'\x55\xaa')
PY
# The partition alone, through a loop device at its offset: no partition scanning needed.
loop=$(losetup --find --show --offset $((2048 * 512)) --sizelimit $(((size_mib - 1) * 1024 * 1024)) "$raw")
# extlinux reads neither 64-bit ext4 nor metadata checksums.
mkfs.ext4 -q -O ^64bit,^metadata_csum -L debian-root -d "$root" "$loop"
mount "$loop" "$work/mnt"
"$work/mnt/usr/bin/extlinux" --install "$work/mnt/boot/extlinux" 2>/dev/null
umount "$work/mnt"
losetup -d "$loop"
loop=
dd if="$root/usr/lib/syslinux/mbr/mbr.bin" of="$raw" bs=440 count=1 conv=notrunc status=none
qemu-img convert -q -f raw -O qcow2 "$raw" "$out.part"
mv -f "$out.part" "$out"
