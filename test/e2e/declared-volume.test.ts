/**
 * A data volume the appliance declares (docs/volumes.md "Declared by the appliance"), end to end in
 * a network namespace, where the guest agent reaches the manager: hello-web's layers published as
 * hello-data with `dataVolume /srv/data, 16 MiB`; launch makes `<instance>-data` and attaches it; the
 * tiny-os agent finds the disk by its serial and mounts it, and the guest's serial shell shows the
 * ext4 mount of that disk; after an upgrade to 1.1.0 (which declares none) the guest mounts it again; a name taken refuses the launch and leaves that volume be; removing the
 * instance keeps its volume.
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { VolumeList } from '../../manager/protocol/index.js';
import { publishSampleChannel } from '../../appliances/src/sample-channel.js';
import { SITE, startStormNetwork, type StormNetwork } from '../harness/storm-network.js';
import { APPLIANCE_BUILD } from '../helpers/channel-fixture.js';
import { GuestShells } from '../helpers/guest-shell.js';
import { destroyAllInstances, GUEST_FAILED, waitForConsole } from '../helpers/instances.js';
import { stormCli } from '../helpers/storm-cli.js';

const DATA_MOUNT = '/srv/data';
let root: string;
let site: StormNetwork;
let shells: GuestShells;

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'storm-declared-volume-'));
  const layer = (f: string) => join(APPLIANCE_BUILD, f);
  // 1.1.0 declares no volume: an upgrade keeps the one launch made, and the guest keeps mounting it.
  const manifests = [
    { version: '1.0.0', layer: 'layers/hello-web.squashfs', dataVolume: { mountPoint: DATA_MOUNT, minSizeMiB: 16 } },
    { version: '1.1.0', upgradesFrom: '1.0.0', layer: 'layers/hello-web-1.1.0.squashfs' },
  ];
  const files: string[] = [];
  for (const { layer: top, ...m } of manifests) {
    const file = join(root, `hello-data-${m.version}.json`);
    await writeFile(
      file,
      JSON.stringify({
        name: 'hello-data',
        title: 'Hello data',
        description: 'hello-web with a data volume.',
        released: '2026-01-01',
        memoryMiB: 128,
        vcpus: 1,
        layers: [
          { kind: 'os', file: layer('layers/tiny-os.squashfs'), kernel: layer('vmlinuz'), initrd: layer('initrd.img') },
          { kind: 'appliance', file: layer(top) },
        ],
        ...m,
      }),
    );
    files.push(file);
  }
  const channelDir = join(root, 'channel');
  const keyDir = join(root, 'keys');
  const baseUrl = `http://127.0.0.1:${SITE.channelPort}/`;
  await publishSampleChannel({ artifacts: APPLIANCE_BUILD, channelDir, keyDir, baseUrl, log: () => undefined, extraManifests: files });
  site = await startStormNetwork({ channelDir, publicKey: await readFile(join(keyDir, 'publisher.pub'), 'utf8') });
  await site.api.post('/channels', { url: site.feedUrl, publicKey: site.publicKey });
  const token = (await readFile(join(site.managerData, 'admin.token'), 'utf8')).trim();
  shells = new GuestShells({ url: site.apiUrl, token, ca: site.caPem });
}, 180_000);

afterAll(async () => {
  shells?.close();
  await destroyAllInstances(site?.api);
  await site?.cleanup();
  if (root) await rm(root, { recursive: true, force: true });
}, 120_000);

describe('a data volume the appliance declares', () => {
  it('is made and attached at launch, mounted by the guest agent, kept when the instance goes; a taken name refuses the launch', async () => {
    const cli = stormCli(site.apiUrl, site.managerData);
    const inst = await site.api.post<{ id: string; name: string }>('/instances', {
      appliance: 'hello-data',
      version: '1.0.0',
      name: 'vol-data1',
    });
    await waitForConsole(site.api, inst.id, /STORM-AGENT: applied .*volume=\/srv\/data/, { failOn: GUEST_FAILED });
    const { volumes } = await site.api.get<VolumeList>('/volumes');
    const data = volumes.find((v) => v.name === 'vol-data1-data');
    expect(data).toMatchObject({ sizeMiB: 16, instance: 'vol-data1', instanceId: inst.id });
    const ls = await cli.run(['volume', 'ls']);
    expect(ls.code, ls.output).toBe(0);
    expect(ls.stdout).toMatch(/vol-data1-data\s.*\svol-data1\s/);
    // In the guest: DATA_MOUNT is an ext4 mount of the disk whose serial is the volume's.
    const r = await shells.run(
      inst.name,
      `d=$(awk '$2 == "${DATA_MOUNT}" && $3 == "ext4" { print $1 }' /proc/mounts); echo "serial=$(cat /sys/block/\${d#/dev/}/serial)"`,
    );
    expect(r.status, r.out).toBe(0);
    expect(r.out).toContain(`serial=${data!.serial}`);

    // Upgraded (a restart), the guest mounts it again.
    const up = await site.api.post<{ operation: { restarted: boolean } }>(`/instances/${inst.id}/actions`, {
      action: 'upgrade',
      version: '1.1.0',
    });
    expect(up.operation.restarted).toBe(true);
    const applied = /STORM-AGENT: applied .*volume=\/srv\/data/g;
    await waitForConsole(site.api, inst.id, /STORM-AGENT: applied .*volume=\/srv\/data[\s\S]*STORM-AGENT: applied .*volume=\/srv\/data/, {
      failOn: GUEST_FAILED,
    });
    expect((await site.api.get<{ text: string }>(`/instances/${inst.id}/console?bytes=262144`)).text.match(applied)).toHaveLength(2);

    // A volume already named <instance>-data refuses the launch, which undoes itself and leaves that volume be.
    await site.api.post('/volumes', { name: 'vol-data2-data', sizeMiB: 8 });
    await expect(site.api.post('/instances', { appliance: 'hello-data', version: '1.0.0', name: 'vol-data2' })).rejects.toMatchObject({
      code: 'MGR_ERR_VOLUME_EXISTS',
    });
    const after = (await site.api.get<VolumeList>('/volumes')).volumes;
    expect(after.find((v) => v.name === 'vol-data2-data')).toMatchObject({ instance: null, sizeMiB: 8 });
    await site.api.delete('/volumes/vol-data2-data');

    // Removing the instance keeps its data volume.
    await site.api.delete(`/instances/${inst.id}`);
    expect((await site.api.get<VolumeList>('/volumes')).volumes).toEqual([
      expect.objectContaining({ name: 'vol-data1-data', instance: null }),
    ]);
    await site.api.delete('/volumes/vol-data1-data');
  }, 300_000);
});
