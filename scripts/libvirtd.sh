#!/usr/bin/env bash
# Makes sure a libvirtd answers on qemu:///system for the start command: uses a running one, else
# systemd, else starts virtlogd and libvirtd as daemons. Prints the URI to use: qemu:///system, or
# test:///default when libvirtd cannot run here.
set -uo pipefail
say() { printf '[libvirtd] %s\n' "$*" >&2; }
answers() { timeout 5 virsh -q -c qemu:///system version >/dev/null 2>&1; }

if answers; then echo qemu:///system; exit 0; fi
if [[ $EUID -eq 0 ]] && command -v libvirtd >/dev/null; then
  if [[ -d /run/systemd/system ]]; then
    say "starting libvirtd with systemd"
    systemctl start virtlogd.socket libvirtd.service >/dev/null 2>&1 || true
  else
    say "no systemd: starting virtlogd and libvirtd as daemons"
    [[ -S /run/libvirt/virtlogd-sock ]] || virtlogd -d || true
    libvirtd -d || true
  fi
  for _ in $(seq 1 50); do answers && { echo qemu:///system; exit 0; }; sleep 0.2; done
fi
say "libvirtd cannot run here; using libvirt's built-in test:///default driver"
echo test:///default
