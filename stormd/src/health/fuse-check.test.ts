import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fuseCheck, RememberedFuseCheck } from './fuse-check.js';

let dir: string;
let device: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'storm-fuse-check-'));
  await chmod(dir, 0o755);
  device = join(dir, 'fuse');
  await writeFile(device, '');
});
afterAll(() => rm(dir, { recursive: true, force: true }));

describe('fuseCheck', () => {
  it('fails, with the fix, when nobody cannot open the device read-write, as where no udev ran', async () => {
    await chmod(device, 0o600);
    expect(await fuseCheck({ device })).toMatchObject({
      name: 'fuse',
      status: 'fail',
      message: expect.stringContaining(`nobody cannot open ${device} (EACCES; -rw------- root:root)`),
      fix: `give ${device} Debian's mode, as its udev rule does: chmod 0666 ${device} (apt-get install fuse3 if it is absent)`,
    });
  });

  it("passes once the device has Debian's 0666", async () => {
    await chmod(device, 0o666);
    expect(await fuseCheck({ device })).toEqual({ name: 'fuse', status: 'ok', message: `nobody opens ${device} (-rw-rw-rw- root:root)` });
  });

  it('skips when stormd does not run as root', async () => {
    expect(await fuseCheck({ device, uid: 1000 })).toMatchObject({ name: 'fuse', status: 'skip' });
  });

  it('passes on this machine: the test command gives /dev/fuse its mode (scripts/setup.sh)', async () => {
    expect(await fuseCheck()).toMatchObject({ name: 'fuse', status: 'ok' });
  });
});

describe('RememberedFuseCheck, as each heartbeat runs it', () => {
  it('checks as nobody again only when the device changed, and a failure each time', async () => {
    let spawned = 0;
    const counted = (opts: Parameters<typeof fuseCheck>[0]) => {
      spawned++;
      return fuseCheck(opts);
    };
    const each = new RememberedFuseCheck({ device }, counted);
    await chmod(device, 0o666);
    expect(await each.run()).toMatchObject({ status: 'ok' });
    expect(await each.run()).toMatchObject({ status: 'ok' });
    expect(spawned).toBe(1);
    await chmod(device, 0o600);
    expect(await each.run()).toMatchObject({ status: 'fail' });
    expect(await each.run()).toMatchObject({ status: 'fail' });
    expect(spawned).toBe(3);
    await chmod(device, 0o666);
    expect(await each.run()).toMatchObject({ status: 'ok' });
    expect(spawned).toBe(4);
  });
});
