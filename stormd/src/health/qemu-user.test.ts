import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseQemuConf, resolveQemuUser } from './qemu-user.js';

let dir: string;
beforeAll(async () => (dir = await mkdtemp(join(tmpdir(), 'storm-qemu-conf-'))));
afterAll(() => rm(dir, { recursive: true, force: true }));

describe('the qemu account', () => {
  it('reads user and group from qemu.conf, ignoring comments', () => {
    expect(parseQemuConf('#user = "root"\n# group = "root"\n')).toEqual({});
    expect(parseQemuConf('user = "qemu"  # ours\ngroup="+107"\n')).toEqual({ user: 'qemu', group: '+107' });
  });

  it('defaults to libvirt-qemu with its own groups, as libvirt gives them to QEMU', async () => {
    const conf = join(dir, 'default.conf');
    await writeFile(conf, '# nothing set\n');
    const qemu = await resolveQemuUser(conf);
    // This machine has Debian's libvirt: libvirt-qemu, primary group kvm, group libvirt-qemu.
    expect(qemu).toMatchObject({ user: 'libvirt-qemu', group: 'libvirt-qemu' });
    expect(qemu!.groups).toContain(qemu!.gid);
    expect(qemu!.groups.length).toBeGreaterThan(1);
  });

  it('takes numbers as +N, and answers undefined for an account that does not exist', async () => {
    const numeric = join(dir, 'numeric.conf');
    await writeFile(numeric, 'user = "+65534"\ngroup = "+65534"\n');
    expect(await resolveQemuUser(numeric)).toEqual({ user: '+65534', group: '+65534', uid: 65534, gid: 65534, groups: [65534] });
    const missing = join(dir, 'missing.conf');
    await writeFile(missing, 'user = "no-such-user-storm"\n');
    expect(await resolveQemuUser(missing)).toBeUndefined();
  });
});
