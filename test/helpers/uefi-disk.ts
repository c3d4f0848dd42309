/**
 * A disk only UEFI firmware boots: a FAT file system over the whole disk (no BIOS boot code at all)
 * holding systemd-boot as the removable-media loader (`EFI/BOOT/BOOTX64.EFI`, Debian's
 * systemd-boot-efi) and one entry that starts the guest kernel and initrd with the console on the
 * serial port. Made with mtools, as an unprivileged file: no loop device, no mount.
 *
 * @example
 * await makeUefiDisk('/tmp/x/uefi.raw', { kernel: 'appliances/build/vmlinuz', initrd: 'appliances/build/initrd.img' });
 */
import { execFile } from 'node:child_process';
import { rm, truncate, writeFile } from 'node:fs/promises';
import { promisify } from 'node:util';

const run = promisify(execFile);
export const SYSTEMD_BOOT = '/usr/lib/systemd/boot/efi/systemd-bootx64.efi';

export async function makeUefiDisk(path: string, boot: { kernel: string; initrd: string; sizeMiB?: number }): Promise<void> {
  await rm(path, { force: true });
  await writeFile(path, '');
  await truncate(path, (boot.sizeMiB ?? 64) * 1024 * 1024);
  const m = (tool: string, ...args: string[]) => run(tool, ['-i', path, ...args], { env: { ...process.env, MTOOLS_SKIP_CHECK: '1' } });
  await m('mformat', '-F', '::');
  await m('mmd', '::/EFI', '::/EFI/BOOT', '::/loader', '::/loader/entries');
  await m('mcopy', SYSTEMD_BOOT, '::/EFI/BOOT/BOOTX64.EFI');
  await m('mcopy', boot.kernel, '::/vmlinuz');
  await m('mcopy', boot.initrd, '::/initrd.img');
  const entry = `${path}.entry`;
  await writeFile(entry, 'title STORM UEFI probe\nlinux /vmlinuz\ninitrd /initrd.img\noptions console=ttyS0 panic=-1\n');
  await m('mcopy', entry, '::/loader/entries/storm.conf');
  await rm(entry);
}
