/**
 * The scale harness: one real manager (the built bin) subscribed to the fixture channel, and N real
 * stormd processes joined to it over mutual TLS, each on its own libvirt test driver (a node file
 * with 64 CPUs and 1 TiB, no domains), heartbeating at the manager's default interval. Real
 * processes, not many daemons in one: libvirt's test driver is one state per process, and ten
 * processes of ~60 MiB fit this machine; past that, hosts cost RAM, not manager CPU.
 *
 * @example
 * const site = await startScaleSite({ hosts: 10 });
 * await site.manager.api.post('/instances', { appliance: 'hello-web', version: '1.0.0', name: 'web1' });
 * await site.close();
 */
import { mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { publishChannel } from '../test/helpers/channel-fixture.js';
import { type ManagerProcess, startManager } from '../test/helpers/manager-process.js';
import { stopAllProcesses } from '../test/helpers/process.js';
import { cpuProfileArgs, writeCpuProfile } from './harness.js';
import { startStormd, type StormdProcess } from '../test/helpers/stormd-process.js';

/** A test-driver node big enough that memory never bounds the benchmark (1 TiB, in KiB). */
const NODE_XML = `<node>
  <cpu><mhz>2000</mhz><model>x86_64</model><active>64</active><max>64</max><nodes>1</nodes><sockets>1</sockets><cores>64</cores><threads>1</threads></cpu>
  <memory>1073741824</memory>
</node>
`;

export interface ScaleSite {
  readonly dir: string;
  readonly manager: ManagerProcess;
  readonly hosts: readonly StormdProcess[];
  /** The manager's database and its WAL, bytes. */
  dbBytes(): Promise<number>;
  close(): Promise<void>;
}

export async function startScaleSite(opts: { hosts: number; network?: string }): Promise<ScaleSite> {
  const dir = await mkdtemp(join(tmpdir(), 'storm-bench-scale-'));
  const channel = await publishChannel();
  const nodeXml = join(dir, 'node.xml');
  await writeFile(nodeXml, NODE_XML);
  // BENCH_SCALE_PROFILE=FILE: the manager's V8 CPU profile of the whole run is written there on close.
  const profile = process.env['BENCH_SCALE_PROFILE'];
  const profiling = cpuProfileArgs(profile);
  const manager = await startManager(
    join(dir, 'manager'),
    ['--channel-allow', '127.0.0.0/8', '--network', opts.network ?? '10.64.0.0/16'],
    profiling.env,
    profiling.nodeArgs,
  );
  await manager.api.post('/channels', { url: channel.feedUrl, publicKey: channel.publicKey });
  const hosts: StormdProcess[] = [];
  // Five joins at a time: more only slow each other on two cores.
  for (let i = 0; i < opts.hosts; i += 5) {
    const batch = Array.from({ length: Math.min(5, opts.hosts - i) }, (_, j) => `host-${i + j}`);
    hosts.push(...(await Promise.all(batch.map((name) => startStormd(manager, { name, dir, hypervisor: `test://${nodeXml}` })))));
  }
  const db = join(dir, 'manager', 'storm.db');
  return {
    dir,
    manager,
    hosts,
    dbBytes: async () =>
      (
        await Promise.all(
          [db, `${db}-wal`].map((f) =>
            stat(f).then(
              (s) => s.size,
              () => 0,
            ),
          ),
        )
      ).reduce((a, b) => a + b, 0),
    close: async () => {
      if (profile) await writeCpuProfile(manager.proc.pid, profile);
      await stopAllProcesses();
      await channel.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}
