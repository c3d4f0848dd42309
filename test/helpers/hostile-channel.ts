/**
 * A channel holding `hostile-guest` 1.0.0: tiny-os (the built artifacts) and an appliance layer whose
 * apply hook attacks as its `attacks` parameter says (test/fixtures/hostile-guest), for the tests
 * that prove what a compromised guest cannot do. Built for `baseUrl` with its own publisher key.
 *
 * @example
 * const ch = await publishHostileChannel(join(dir, 'hostile'), 'http://127.0.0.1:8091/');
 * // serve ch.dir there, subscribe with ch.publicKey, launch hostile-guest with params { attacks: 'spoof', … }
 */
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { buildChannel, generatePublisherKey } from '../../channels/src/index.js';
import { APPLIANCE_BUILD } from './channel-fixture.js';

export const HOSTILE_ROOTFS = resolve(import.meta.dirname, '../fixtures/hostile-guest/rootfs');

export async function publishHostileChannel(root: string, baseUrl: string): Promise<{ dir: string; publicKey: string }> {
  const src = join(root, 'src');
  const dir = join(root, 'channel');
  await mkdir(join(src, 'hostile-guest-1.0.0'), { recursive: true });
  await writeFile(
    join(src, 'channel.json'),
    JSON.stringify({ title: 'Hostile guests', description: 'Appliances that attack, for STORM tests.' }),
  );
  const text = (name: string, pattern: string, description: string) => ({ name, type: 'string', default: '', pattern, description });
  const manifest = {
    name: 'hostile-guest',
    version: '1.0.0',
    title: 'Hostile guest',
    description: 'Attacks its neighbours and the manager once configured (tests only).',
    released: '2026-01-01',
    memoryMiB: 128,
    vcpus: 1,
    layers: [
      {
        kind: 'os',
        file: join(APPLIANCE_BUILD, 'layers/tiny-os.squashfs'),
        kernel: join(APPLIANCE_BUILD, 'vmlinuz'),
        initrd: join(APPLIANCE_BUILD, 'initrd.img'),
      },
      { kind: 'appliance', dir: HOSTILE_ROOTFS },
    ],
    parameters: [
      text('attacks', '((spoof|damage) ?)*', 'what to do, in order: spoof, damage'),
      text('victimIp', '[0-9.]{0,15}', 'the address to take'),
      text('victimMac', '[0-9a-f:]{0,17}', 'the MAC to take'),
      text('victimToken', '[A-Za-z0-9_-]{0,64}', "the victim's instance token"),
    ],
    config: [],
  };
  await writeFile(join(src, 'hostile-guest-1.0.0', 'manifest.json'), JSON.stringify(manifest, null, 2));
  const keys = await generatePublisherKey(join(root, 'keys'));
  await buildChannel({ src, out: dir, baseUrl, keyPath: keys.privateKeyPath });
  return { dir, publicKey: await readFile(keys.publicKeyPath, 'utf8') };
}
