/**
 * The account libvirt runs QEMU as under `qemu:///system`: `user` and `group` of
 * `/etc/libvirt/qemu.conf` when set (a name, or `+N` for a number), else Debian's `libvirt-qemu`.
 * QEMU gets that uid, that gid, and the user's own groups (its passwd group included, as libvirt's
 * `virGetGroupList` gives them), so `/dev/kvm` (root:kvm 0660) opens through the user's `kvm` group.
 *
 * @example
 * const qemu = await resolveQemuUser(); // { user: 'libvirt-qemu', uid: 64055, gid: 64055, groups: [107, 64055], group: 'libvirt-qemu' }
 */
import { readFile } from 'node:fs/promises';
import { runTool } from '../exec.js';

export const QEMU_CONF = '/etc/libvirt/qemu.conf';
/** What Debian's libvirt is built with (`-Dqemu_user=libvirt-qemu -Dqemu_group=libvirt-qemu`). */
export const DEFAULT_QEMU_ACCOUNT = 'libvirt-qemu';

export interface QemuUser {
  readonly user: string;
  readonly group: string;
  readonly uid: number;
  readonly gid: number;
  /** Every group QEMU runs with: the user's groups and `gid`. */
  readonly groups: readonly number[];
}

/** The `user` and `group` settings of a qemu.conf text (comments and unset keys: undefined). */
export function parseQemuConf(text: string): { user?: string; group?: string } {
  const out: { user?: string; group?: string } = {};
  for (const line of text.split('\n')) {
    const m = /^\s*(user|group)\s*=\s*"([^"]*)"\s*(#.*)?$/.exec(line);
    if (m) out[m[1] as 'user' | 'group'] = m[2]!;
  }
  return out;
}

/** A qemu.conf account value as an id: `+N` is the number N; a name goes through `lookup`. */
async function idOf(value: string, lookup: (name: string) => Promise<number>): Promise<number> {
  return /^\+\d+$/.test(value) ? Number(value.slice(1)) : lookup(value);
}

/**
 * The qemu account on this machine, or undefined when it has none (no libvirt, or a name that does
 * not resolve): then nothing runs as QEMU here, and the checks that act as it say so.
 */
export async function resolveQemuUser(confPath = QEMU_CONF): Promise<QemuUser | undefined> {
  const conf = parseQemuConf(await readFile(confPath, 'utf8').catch(() => ''));
  const user = conf.user ?? DEFAULT_QEMU_ACCOUNT;
  const group = conf.group ?? DEFAULT_QEMU_ACCOUNT;
  try {
    const uid = await idOf(user, async (name) => Number((await runTool('id', ['-u', '--', name])).stdout.toString().trim()));
    const gid = await idOf(group, groupId);
    const own = /^\+\d+$/.test(user) ? [] : (await runTool('id', ['-G', '--', user])).stdout.toString().trim().split(/\s+/).map(Number);
    return { user, group, uid, gid, groups: [...new Set([...own, gid])].sort((a, b) => a - b) };
  } catch {
    return undefined;
  }
}

async function groupId(name: string): Promise<number> {
  const line = (await runTool('getent', ['group', '--', name])).stdout.toString().trim();
  const gid = Number(line.split(':')[2]);
  if (!Number.isInteger(gid)) throw new Error(`group ${name}: ${line}`);
  return gid;
}
