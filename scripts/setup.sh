#!/usr/bin/env bash
# Installs what STORM needs on Debian 12, idempotently, saying what it does:
# apt packages (only the missing ones), npm dependencies (only when the lockfile changed),
# the TypeScript build, and the guest artifacts (kernel, STORM initrd, sample layers).
# Usage: scripts/setup.sh [--test]   (--test adds the tools the test suite drives)
set -euo pipefail
cd "$(dirname "$0")/.."

say() { printf '[setup] %s\n' "$*"; }

# iptables: its ebtables is what libvirt's nwfilter drives (clean-traffic on every guest NIC).
# libvirt-clients: the virsh stormd hot-plugs data volumes with (libvirt-daemon-system brings it too; named for that use).
# fuse2fs, fuse3: stormd reads guests' filesystems in user space, as nobody, never with the kernel's ext4.
# ovmf: the UEFI firmware libvirt picks for traditional appliances that declare firmware="uefi".
BASE_PACKAGES=(
  libvirt-daemon-system libvirt-clients libvirt-dev pkg-config qemu-system-x86 qemu-utils
  squashfs-tools busybox-static e2fsprogs cpio kmod iproute2 ca-certificates python3 make g++ openssl
  debootstrap attr iptables fuse2fs fuse3
  krb5-kdc krb5-admin-server
  nftables
  genisoimage
  ovmf
)
# nftables: the `nft` of --uplink nat, which loads only the manager's own table (inet storm). Debian's
# nftables.service stays as Debian ships it, disabled: its /etc/nftables.conf would flush every table.
# Debian's own KDC and admin server units: STORM runs krb5kdc itself, with its realm under its data
# folder, so the packages' daemons are never started (policy-rc.d while installing) nor enabled.
KDC_UNITS=(krb5-kdc krb5-admin-server)
# What the suite drives as real clients and peers: dig, dhclient (udhcpc is in busybox-static), dnsperf,
# dnsmasq (DNS upstream and benchmark baseline), curl, chromium (the console's end-to-end test drives it
# headless through playwright-core; never a downloaded browser), certtool (gnutls-bin: checks the libvirt
# TLS bundle as libvirt's GnuTLS would), systemd-analyze (systemd: verifies the shipped units), MIT's
# Kerberos clients (krb5-user: kinit, kvno, klist), ssh with GSSAPI against the KDC and appliances, and
# libfaketime (faketime: moves a manager's and a host's clocks 60 days ahead, OpenSSL's checks included),
# systemd-boot and mtools (a disk only UEFI firmware boots, made as a plain file, for the UEFI boot test).
TEST_PACKAGES=(dnsutils isc-dhcp-client dnsperf dnsmasq-base curl ldap-utils chromium gnutls-bin systemd krb5-user openssh-client faketime systemd-boot-efi mtools)
packages=("${BASE_PACKAGES[@]}")
[[ "${1:-}" == "--test" ]] && packages+=("${TEST_PACKAGES[@]}")

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if ((${#missing[@]})); then
  if [[ $EUID -ne 0 ]]; then
    say "missing Debian packages: ${missing[*]}; run this as root (or: apt-get install ${missing[*]})" >&2
    exit 1
  fi
  say "installing Debian packages: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  # No daemon a package's scripts would start: a policy-rc.d that denies, for this install only.
  own_policy=
  if [[ ! -e /usr/sbin/policy-rc.d ]]; then
    printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d && chmod 0755 /usr/sbin/policy-rc.d && own_policy=1
    trap '[[ -z "$own_policy" ]] || rm -f /usr/sbin/policy-rc.d' EXIT
  fi
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  if [[ -n "$own_policy" ]]; then rm -f /usr/sbin/policy-rc.d; own_policy=; fi
  for unit in "${KDC_UNITS[@]}"; do
    if [[ " ${missing[*]} " == *" $unit "* ]] && command -v systemctl >/dev/null && systemctl is-enabled "$unit" >/dev/null 2>&1; then
      say "disabling Debian's $unit unit (the STORM manager runs its own KDC)"
      systemctl disable "$unit" >/dev/null 2>&1 || true
    fi
  done
else
  say "Debian packages: all present"
fi

# /dev/kvm as a Debian host has it: udev's rule gives it root:kvm 0660. Where no udev ran (containers,
# minimal images) it stays root:root 0600, libvirt's qemu user cannot open it, and libvirt re-probes QEMU
# on every define (~44 s each). Only when the device exists; never touched otherwise.
if [[ -c /dev/kvm && $EUID -eq 0 ]] && getent group kvm >/dev/null; then
  kvm_now=$(stat -c '%U:%G %a' /dev/kvm)
  if [[ "$kvm_now" != "root:kvm 660" ]]; then
    say "/dev/kvm is $kvm_now; setting root:kvm 0660 as Debian's udev rule does"
    chown root:kvm /dev/kvm && chmod 0660 /dev/kvm
  fi
fi

# /dev/fuse as a Debian host has it: udev's default rules give it 0666 (any user may mount through FUSE;
# the kernel and fusermount3 hold the limits). Where no udev ran it can be root-only 0600, and stormd's
# fuse2fs, which runs as nobody, fails "failed to open /dev/fuse: Permission denied".
if [[ -c /dev/fuse && $EUID -eq 0 ]]; then
  fuse_now=$(stat -c '%a' /dev/fuse)
  if [[ "$fuse_now" != "666" ]]; then
    say "/dev/fuse is mode $fuse_now; setting 0666 as Debian's udev rule does (stormd's fuse2fs runs as nobody)"
    chmod 0666 /dev/fuse
  fi
fi

# stormd's fuse2fs runs as nobody and root must enter its mounts (allow_root): FUSE allows that option
# to users only with user_allow_other in /etc/fuse.conf. Added once, nothing else in the file changes.
if ! grep -qx 'user_allow_other' /etc/fuse.conf 2>/dev/null; then
  if [[ $EUID -ne 0 ]]; then
    say "/etc/fuse.conf lacks user_allow_other (stormd reads guest filesystems through fuse2fs as nobody); run this as root" >&2
    exit 1
  fi
  say "adding user_allow_other to /etc/fuse.conf (stormd reads guest filesystems through fuse2fs as nobody, and enters them as root)"
  echo user_allow_other >>/etc/fuse.conf
fi

# Node.js comes from outside Debian 12, whose own nodejs (18) is too old for STORM.
node_major=$(node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0)
if ((node_major < 20)) || ! command -v npm >/dev/null; then
  say "STORM needs Node.js 20 or newer with npm; found $(node --version 2>/dev/null || echo no node). Debian 12's nodejs is 18: install a newer one (for example NodeSource's nodejs package), then run this again" >&2
  exit 1
fi

# Install only when node_modules is not what package-lock.json locks (compared by content, so a fresh
# clone or checkout with a current node_modules skips it). `npm install` honours the lockfile's versions;
# `npm ci` would be stricter but npm 11 refuses a lockfile lacking other platforms' optional packages (npm/cli#4828).
if stale=$(node scripts/npm-current.mjs); then
  say "npm dependencies: up to date"
else
  say "installing npm dependencies ($stale; locked versions; native modules build from source, about a minute)"
  npm install --no-fund --no-audit --loglevel=error
fi

say "compiling TypeScript (npm run build)"
npm run --silent build

say "building the web console (npm run build:console → dist/console)"
npm run --silent build:console

say "building guest artifacts (npm run build:appliances; cached after the first run)"
npm run --silent build:appliances
