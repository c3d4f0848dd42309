/**
 * Two hosts for live migration on one machine: each a private libvirtd (own network and mount
 * namespace, own host UUID) and a real stormd in its mount namespace, joined to one fake manager
 * that serves the guest's kernel, initrd and tiny-os layer. `bootCounter` starts a layered guest
 * whose console prints `TICK <n> <boot id>` every second; `liveMove` readies the target
 * (`PUT /incoming`) and migrates from the source (`POST /migrate`), memory and disks over unix
 * sockets in a shared folder (the two libvirtds share no network). Used by the integration test
 * and bench/live-move.bench.ts; needs `npm run build:appliances`.
 *
 * @example
 * const pair = await startHostPair();
 * const guest = await pair.bootCounter(pair.a);
 * const moved = await pair.liveMove(guest, pair.a, pair.b); // { downtimeMs, totalMs, copiedDisks }
 * await pair.close();
 */
import { randomUUID } from 'node:crypto';
import { chmod, mkdir, readFile, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type {
  DefineDomainRequest,
  IncomingInstanceResponse,
  MigrateInstanceRequest,
  MigrateInstanceResponse,
  SerialTail,
  WritableLayers,
} from '../../stormd/protocol.js';
import { waitFor } from '../../stormd/src/clock.js';
import { joinManager } from '../../stormd/src/join/join.js';
import { makeVmDir, type VmDir } from '../harness/libvirtd.js';
import { type PrivateLibvirtd, startPrivateLibvirtd } from '../harness/private-libvirtd.js';
import { callStormd, type FakeManager, startFakeManager, type StormdAnswer } from '../integration/stormd-fake-manager.js';
import { startProcess, type TestProcess } from './process.js';

const ROOT = resolve(import.meta.dirname, '../..');
const BUILD = join(ROOT, 'appliances/build');
const ART = { kernel: join(BUILD, 'vmlinuz'), initrd: join(BUILD, 'initrd.img'), tinyOs: join(BUILD, 'layers/tiny-os.squashfs') };
const BOOT_MS = 180_000;

/** A layer service: a background loop (busybox `timeout` ends only the service itself) printing the tick and the boot id. */
const COUNTER = `#!/bin/sh
read -r boot </proc/sys/kernel/random/boot_id
( i=0; while :; do i=$((i + 1)); echo "TICK $i $boot"; sleep 1; done ) </dev/null >/dev/console 2>&1 &
`;
const TICK = /TICK (\d+) ([0-9a-f-]{36})/g;

export interface Host {
  readonly name: string;
  readonly data: string;
  readonly libvirtd: PrivateLibvirtd;
  readonly proc: TestProcess;
  readonly url: string;
}

export interface CounterGuest {
  readonly id: string;
  readonly define: DefineDomainRequest;
}

export interface Tick {
  readonly n: number;
  readonly bootId: string;
}

export interface HostPair {
  readonly a: Host;
  readonly b: Host;
  readonly manager: FakeManager;
  call(host: Host, method: string, path: string, body?: unknown): Promise<StormdAnswer>;
  /** Defines and starts a counter guest on `host`; resolves once it has ticked. */
  bootCounter(host: Host): Promise<CounterGuest>;
  /** The ticks in the instance's console on `host`, oldest first. */
  ticks(host: Host, id: string): Promise<Tick[]>;
  /** The body of `POST /migrate` towards `to`: its libvirtd's socket, fresh memory and disk sockets. */
  migrateRequest(to: Host, domainXml: string): MigrateInstanceRequest;
  /** `PUT /incoming` on `to`, then `POST /migrate` on `from`: the wire contract the manager follows. */
  liveMove(guest: CounterGuest, from: Host, to: Host): Promise<MigrateInstanceResponse>;
  close(): Promise<void>;
}

export async function startHostPair(): Promise<HostPair> {
  for (const p of Object.values(ART))
    if (!(await stat(p).catch(() => undefined))?.isFile())
      throw new Error(`guest artifact missing (${p}): run \`npm run build:appliances\` first`);
  const opened: { close(): Promise<void> }[] = [];
  const close = async () => {
    for (const o of opened.reverse()) await o.close().catch(() => undefined);
  };
  try {
    const manager = await startFakeManager({ intervalMs: 2000 });
    opened.push(manager);
    const sha: Record<keyof typeof ART, { sha: string; size: number }> = {} as never;
    for (const key of Object.keys(ART) as (keyof typeof ART)[]) {
      const bytes = await readFile(ART[key]);
      sha[key] = { sha: manager.addBlob(bytes), size: bytes.length };
    }
    const dir: VmDir = await makeVmDir('storm-live-move-');
    opened.push({ close: () => dir.remove() });
    // Both QEMUs reach the migration sockets here: the target's listens, the source's connects.
    const sockets = join(dir.path, 'sockets');
    await mkdir(sockets);
    await chmod(sockets, 0o1777);

    const startHost = async (name: string): Promise<Host> => {
      const libvirtd = await startPrivateLibvirtd();
      opened.push(libvirtd);
      const data = join(dir.path, name);
      await joinManager({ managerUrl: manager.url, token: manager.newToken(), dataDir: data, name, url: 'https://127.0.0.1:9443' });
      const proc = startProcess(libvirtd.enter[0]!, [
        ...libvirtd.enter.slice(1),
        // nsenter starts the program in /; tsx resolves from the repository.
        ...['env', '-C', ROOT],
        process.execPath,
        ...['--import', 'tsx', 'stormd/src/main.ts', '--data', data, '--listen', '127.0.0.1:0'],
        ...['--hypervisor', libvirtd.uri, '--log-level', 'warn'],
      ]);
      opened.push({ close: async () => void (await proc.stop('SIGTERM')) });
      const [, url] = await proc.waitForLine(/stormd: listening on (https:\/\/\S+)/, 60_000);
      return { name, data, libvirtd, proc, url: url! };
    };
    const [a, b] = await Promise.all([startHost('host-a'), startHost('host-b')]);
    const call = (host: Host, method: string, path: string, body?: unknown) => callStormd(manager, host.url, method, path, body);
    const must = async (host: Host, method: string, path: string, body?: unknown): Promise<unknown> => {
      const res = await call(host, method, path, body);
      if (res.status >= 300) throw new Error(`${host.name} ${method} ${path}: ${res.status} ${JSON.stringify(res.body)}`);
      return res.body;
    };
    for (const host of [a, b])
      for (const { sha: s, size } of Object.values(sha))
        await must(host, 'PUT', `/v1/layers/${s}`, { url: `${manager.url}/api/v1/images/${s}/blob`, size });

    const ticks = async (host: Host, id: string): Promise<Tick[]> => {
      const { text } = (await must(host, 'GET', `/v1/instances/${id}/console?bytes=1048576`)) as SerialTail;
      return [...text.matchAll(TICK)].map((m) => ({ n: Number(m[1]), bootId: m[2]! }));
    };

    const migrateRequest = (to: Host, domainXml: string): MigrateInstanceRequest => {
      const tag = randomUUID().slice(0, 8);
      return {
        // qemu+unix: the target libvirtd's socket, which the source's libvirtd reaches through the shared folder.
        targetUri: to.libvirtd.uri.replace(/^qemu:/, 'qemu+unix:'),
        domainXml,
        migrateUri: `unix://${join(sockets, `${tag}-memory.sock`)}`,
        disksUri: `unix://${join(sockets, `${tag}-disks.sock`)}`,
      };
    };

    return {
      a,
      b,
      manager,
      call,
      ticks,
      migrateRequest,
      async bootCounter(host) {
        const id = `live-${randomUUID().slice(0, 8)}`;
        await must(host, 'PUT', `/v1/instances/${id}/layer`, {
          name: 'counter',
          sizeMiB: 64,
          files: { '/etc/storm/services.d/50-counter': { contentBase64: Buffer.from(COUNTER).toString('base64'), mode: 0o755 } },
        });
        const define: DefineDomainRequest = {
          uuid: randomUUID(),
          memoryMiB: 128,
          vcpus: 1,
          boot: { kernel: sha.kernel.sha, initrd: sha.initrd.sha },
          layers: [sha.tinyOs.sha],
          nics: [],
        };
        await must(host, 'PUT', `/v1/instances/${id}/domain`, define);
        await must(host, 'POST', `/v1/instances/${id}/actions`, { action: 'start' });
        let seen = 0;
        const up = await waitFor(
          async () => {
            seen = (await ticks(host, id)).length;
            return seen >= 3;
          },
          { timeoutMs: BOOT_MS, intervalMs: 1000 },
        );
        if (!up) {
          const { text } = (await must(host, 'GET', `/v1/instances/${id}/console?bytes=8192`)) as SerialTail;
          throw new Error(`the counter guest did not tick on ${host.name}:\n${text}`);
        }
        return { id, define };
      },
      async liveMove(guest, from, to) {
        const { layers } = (await must(from, 'GET', `/v1/instances/${guest.id}/writable-layers`)) as WritableLayers;
        const current = layers.find((l) => l.current);
        if (!current) throw new Error(`${guest.id} has no current writable layer on ${from.name}`);
        const { domainXml } = (await must(to, 'PUT', `/v1/instances/${guest.id}/incoming`, {
          domain: guest.define,
          writable: { id: current.id, virtualBytes: current.virtualBytes },
        })) as IncomingInstanceResponse;
        return (await must(from, 'POST', `/v1/instances/${guest.id}/migrate`, migrateRequest(to, domainXml))) as MigrateInstanceResponse;
      },
      close,
    };
  } catch (err) {
    await close();
    throw err;
  }
}
