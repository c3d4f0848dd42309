/**
 * A channel for the manager-appliance e2e: `storm-manager` 1.0.0 as `build:appliances --debian`
 * built it, a 1.1.0 that upgrades from it, and hello-web 1.0.0, signed with a key of its own and
 * built for `baseUrl` (an address guests reach, so the manager appliance can subscribe to it too).
 * 1.1.0 is 1.0.0's layers plus one small appliance layer that gives the bundled manager a new
 * package version (`<package version>+1.1.0`, what its health answers): a version bump made in
 * seconds by the channel build instead of a second Debian build of the recipe.
 *
 * @example
 * const ch = await buildManagerVersionsChannel({ build: 'appliances/build', work: '/tmp/x', baseUrl: 'http://10.77.0.1:8091/' });
 */
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { buildChannel, generatePublisherKey } from '../../channels/src/index.js';

const ROOT = resolve(import.meta.dirname, '../..');

export interface ManagerVersionsChannel {
  readonly channelDir: string;
  readonly publicKey: string;
  /** What the 1.1.0 manager's health answers as its version. */
  readonly nextManagerVersion: string;
}

export async function buildManagerVersionsChannel(opts: { build: string; work: string; baseUrl: string }): Promise<ManagerVersionsChannel> {
  const src = join(opts.work, 'src');
  const v1 = JSON.parse(await readFile(join(opts.build, 'channel-src', 'storm-manager-1.0.0', 'manifest.json'), 'utf8')) as {
    layers: object[];
  } & Record<string, unknown>;
  await mkdir(join(src, 'storm-manager-1.0.0'), { recursive: true });
  await writeFile(join(src, 'storm-manager-1.0.0', 'manifest.json'), JSON.stringify(v1));

  // The bump: the bundle's package.json (manager-bundle.ts writes it) with the new version, over 1.0.0's.
  const pkg = JSON.parse(await readFile(join(ROOT, 'package.json'), 'utf8')) as { name: string; version: string };
  const nextManagerVersion = `${pkg.version}+1.1.0`;
  const bump = join(src, 'storm-manager-1.1.0', 'bump');
  await mkdir(join(bump, 'opt', 'storm-manager'), { recursive: true });
  await writeFile(
    join(bump, 'opt', 'storm-manager', 'package.json'),
    `${JSON.stringify({ name: pkg.name, version: nextManagerVersion, private: true, type: 'module' }, null, 2)}\n`,
  );
  const v2 = { ...v1, version: '1.1.0', upgradesFrom: '1.0.0', layers: [...v1.layers, { kind: 'appliance', dir: 'bump' }] };
  await writeFile(join(src, 'storm-manager-1.1.0', 'manifest.json'), JSON.stringify(v2));

  // hello-web 1.0.0 as the sample channel publishes it (appliances/src/sample-channel.ts).
  const meta = JSON.parse(await readFile(join(ROOT, 'appliances/samples/hello-web/1.0.0/appliance.json'), 'utf8')) as object;
  await mkdir(join(src, 'hello-web-1.0.0'));
  await writeFile(
    join(src, 'hello-web-1.0.0', 'manifest.json'),
    JSON.stringify({
      name: 'hello-web',
      version: '1.0.0',
      ...meta,
      layers: [
        {
          kind: 'os',
          file: join(opts.build, 'layers/tiny-os.squashfs'),
          kernel: join(opts.build, 'vmlinuz'),
          initrd: join(opts.build, 'initrd.img'),
        },
        { kind: 'appliance', file: join(opts.build, 'layers/hello-web.squashfs') },
      ],
    }),
  );
  await writeFile(
    join(src, 'channel.json'),
    JSON.stringify({ title: 'manager versions', description: 'The manager-appliance e2e channel.' }),
  );

  const keys = join(opts.work, 'keys');
  await mkdir(keys, { recursive: true });
  await generatePublisherKey(keys);
  const channelDir = join(opts.work, 'channel');
  await buildChannel({ src, out: channelDir, baseUrl: opts.baseUrl, keyPath: join(keys, 'publisher.key') });
  return { channelDir, publicKey: await readFile(join(keys, 'publisher.pub'), 'utf8'), nextManagerVersion };
}
