/**
 * Many launches at once (not timed): 200 concurrent `POST /instances` on a manager with ten stormd
 * processes on libvirt test:///default (each has room for eight 128 MiB hello-web instances). What
 * launched has a name, a MAC and an address no other instance has; no host holds more memory than
 * it had free; every instance in the database runs as a domain on its host, and no host runs a
 * domain the database does not know, with reconcile passing every second all along. Launches past the capacity are refused with
 * MGR_ERR_NO_CAPACITY, and nothing else fails.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { HostInfo } from '../../stormd/protocol.js';
import { allPages } from '../../cli/src/paged.js';
import { HostClient } from '../../manager/src/hosts/host-client.js';
import { clientTlsOptions } from '../../trust/index.js';
import { startSubscribedManager, type SubscribedManager } from '../helpers/subscribed-manager.js';
import { startStormd, type StormdProcess } from '../helpers/stormd-process.js';

const HOSTS = 10;
const LAUNCHES = 200;

interface InstanceView {
  id: string;
  name: string;
  state: string;
  mac: string;
  ip: string | null;
  memoryMiB: number;
  host: { id: string; name: string };
}
interface HostView {
  id: string;
  name: string;
  url: string;
}

let env: SubscribedManager | undefined;
const hosts: StormdProcess[] = [];
/** Each host's own client, as the manager dials it (its client certificate). */
const clients = new Map<string, HostClient>();
/** What each host had free before the launches. */
const freeBefore = new Map<string, number>();

beforeAll(async () => {
  // Reconcile every second: its passes must never undo a launch that finished while they ran.
  env = await startSubscribedManager('storm-concurrent-', ['--network', '10.77.0.0/24', '--reconcile', '1']);
  const { manager, dir } = env;
  // Five at a time: ten joins at once only slow each other on two cores.
  for (let i = 0; i < HOSTS; i += 5) {
    hosts.push(
      ...(await Promise.all(
        [0, 1, 2, 3, 4].map((j) => startStormd(manager, { name: `host-${i + j}`, dir, hypervisor: 'test:///default' })),
      )),
    );
  }
  const pki = join(dir, 'manager', 'pki');
  const [ca, cert, key] = await Promise.all(
    ['ca.pem', 'manager-client.pem', 'manager-client.key'].map((f) => readFile(join(pki, f), 'utf8')),
  );
  for (const h of (await manager.api.get<{ hosts: HostView[] }>('/hosts')).hosts) {
    const client = new HostClient(
      h.url,
      clientTlsOptions({ ca: ca!, cert: cert!, key: key!, servername: new URL(h.url).hostname }),
      h.name,
    );
    clients.set(h.id, client);
    freeBefore.set(h.id, (await client.info()).freeMemoryMiB);
  }
}, 300_000);
afterAll(() => env?.close());

describe(`${LAUNCHES} concurrent launches over ${HOSTS} hosts`, () => {
  let launched: InstanceView[] = [];

  it('launch what fits and refuse the rest as no capacity', async () => {
    const api = env!.manager.api;
    const capacity = [...freeBefore.values()].reduce((sum, free) => sum + Math.floor(free / 128), 0);
    expect(capacity).toBeGreaterThan(0);
    expect(capacity).toBeLessThan(LAUNCHES);
    // A few names are asked for twice: at most one of each pair may win.
    const names = Array.from({ length: LAUNCHES }, (_, i) => `c${i % (LAUNCHES - 10)}`);
    const outcomes = await Promise.allSettled(
      names.map((name) => api.post<InstanceView>('/instances', { appliance: 'hello-web', version: '1.0.0', name })),
    );
    launched = outcomes.flatMap((o) => (o.status === 'fulfilled' ? [o.value] : []));
    const refusals = outcomes.flatMap((o) =>
      o.status === 'rejected' ? [(o.reason as { code?: string; message?: string }).code ?? String(o.reason)] : [],
    );
    expect(refusals.filter((c) => c !== 'MGR_ERR_NO_CAPACITY' && c !== 'MGR_ERR_CONFLICT')).toEqual([]);
    expect(refusals.filter((c) => c === 'MGR_ERR_NO_CAPACITY').length).toBeGreaterThan(0);
    expect(launched.every((i) => i.state === 'running')).toBe(true);
    expect(launched.length).toBeLessThanOrEqual(capacity);
  }, 900_000);

  it('hand out no name, MAC or address twice', async () => {
    const instances = await allPages<InstanceView>(env!.manager.api, '/instances', 'instances');
    expect(instances.map((i) => i.id).sort()).toEqual(launched.map((i) => i.id).sort());
    for (const key of ['name', 'mac', 'ip'] as const) {
      const values = instances.map((i) => i[key]);
      expect(values.every((v) => v !== null)).toBe(true);
      expect(new Set(values).size).toBe(values.length);
    }
  });

  it('put no host over the memory it had free', async () => {
    const instances = await allPages<InstanceView>(env!.manager.api, '/instances', 'instances');
    for (const [id, client] of clients) {
      const info: HostInfo = await client.info();
      const placed = instances.filter((i) => i.host.id === id).reduce((sum, i) => sum + i.memoryMiB, 0);
      expect({ host: info.name, allocated: info.allocatedMemoryMiB, placed }).toEqual({ host: info.name, allocated: placed, placed });
      expect(info.allocatedMemoryMiB).toBeLessThanOrEqual(freeBefore.get(id)!);
    }
  });

  it('match every instance in the database with a running domain on its host, and no more', async () => {
    const instances = await allPages<InstanceView>(env!.manager.api, '/instances', 'instances');
    for (const [id, client] of clients) {
      const onHost = (await client.instances()).map((s) => `${s.id} ${s.state}`).sort();
      expect(onHost).toEqual(
        instances
          .filter((i) => i.host.id === id)
          .map((i) => `${i.id} running`)
          .sort(),
      );
    }
  });
});
