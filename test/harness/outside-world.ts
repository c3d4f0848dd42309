/**
 * "The world" for a STORM site (storm-network.ts): a namespace of its own, wired to the site's
 * namespace by a veth pair (`wan0` there, 198.51.100.1/24; `eth0` here, 198.51.100.2/24), that
 * the site uses as its default route. It holds 203.0.113.10 on its loopback, an address only that
 * route reaches, and, like a neighbour on the same link, routes the appliance network to the site,
 * so it can try to open connections into guests. Documentation ranges (RFC 5737) only, inside
 * namespaces the test made; `cleanup()` kills what it started and deletes the namespace.
 *
 * @example
 * const world = await connectOutside(site);
 * const server = world.serve('hello from outside');
 * await site.exec('curl', [`http://${world.serverAddress}:${world.serverPort}/`]);
 */
import { spawnSync } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createNetns, type ExecResult, type Netns, type Started } from './netns.js';
import { SITE, type StormNetwork } from './storm-network.js';

export interface OutsideWorld {
  readonly ns: string;
  /** The site's address as the world sees it (what masquerading leaves as the source). */
  readonly siteAddress: string;
  /** Where the world's HTTP server listens, reached only through the site's default route. */
  readonly serverAddress: string;
  readonly serverPort: number;
  /** Serves `page` at `/` over HTTP (python's http.server, which logs each client's address). */
  serve(page: string): Promise<Started>;
  exec(command: string, args: readonly string[], timeoutMs?: number): Promise<ExecResult>;
  cleanup(): Promise<void>;
}

let worlds = 0;

function ip(args: readonly string[]): void {
  const r = spawnSync('ip', args, { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`ip ${args.join(' ')}: ${r.stderr}`);
}

export async function connectOutside(site: StormNetwork): Promise<OutsideWorld> {
  const world: Netns = await createNetns();
  const dir = await mkdtemp(join(tmpdir(), 'storm-world-'));
  const cleanup = async () => {
    await world.cleanup();
    await rm(dir, { recursive: true, force: true });
  };
  try {
    const k = `${process.pid % 1000}w${++worlds}`;
    const sh = async (ns: string, script: string) => {
      const r = await world.exec(ns, 'sh', ['-c', script]);
      if (r.code !== 0) throw new Error(`in ${ns}: ${script}\n${r.output}`);
    };
    ip(['link', 'add', `sw${k}`, 'type', 'veth', 'peer', 'name', `ow${k}`]);
    ip(['link', 'set', `sw${k}`, 'netns', site.ns, 'name', 'wan0']);
    ip(['link', 'set', `ow${k}`, 'netns', world.name, 'name', 'eth0']);
    await sh(site.ns, 'ip addr add 198.51.100.1/24 dev wan0 && ip link set wan0 up && ip route add default via 198.51.100.2');
    await sh(
      world.name,
      `ip addr add 198.51.100.2/24 dev eth0 && ip link set eth0 up && ip addr add 203.0.113.10/32 dev lo && ip route add ${SITE.network} via 198.51.100.1`,
    );
    return {
      ns: world.name,
      siteAddress: '198.51.100.1',
      serverAddress: '203.0.113.10',
      serverPort: 8000,
      async serve(page) {
        await writeFile(join(dir, 'index.html'), page);
        const server = world.start(world.name, 'python3', [
          '-u',
          '-m',
          'http.server',
          '8000',
          '--bind',
          '203.0.113.10',
          '--directory',
          dir,
        ]);
        await server.waitFor(/Serving HTTP/, 10_000);
        return server;
      },
      exec: (command, args, timeoutMs) => world.exec(world.name, command, args, timeoutMs === undefined ? {} : { timeoutMs }),
      cleanup,
    };
  } catch (err) {
    await cleanup();
    throw err;
  }
}
