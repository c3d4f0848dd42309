/**
 * Reconcile compares each host's answer with the records it read once per host, in memory: a
 * record follows its domain's state, a record whose domain vanished is marked lost (once, with the
 * reason), and one that already says what its host says is left as it is. A manager with one stormd
 * on libvirt test:///default, heartbeats every 600 s (so no heartbeat repairs a record before the
 * pass does) and reconcile only on demand; the host's domains are changed behind the manager's back
 * with the manager's own client certificate.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HostClient } from '../../manager/src/hosts/host-client.js';
import { clientTlsOptions } from '../../trust/index.js';
import { startSubscribedManager, type SubscribedManager } from '../helpers/subscribed-manager.js';
import { startStormd } from '../helpers/stormd-process.js';

interface Instance {
  id: string;
  name: string;
  state: string;
  lastError: string | null;
  updatedAt: string;
}
interface Report {
  lost: string[];
  errors: string[];
  hostsChecked: string[];
}

let env: SubscribedManager | undefined;
let host: HostClient;

beforeAll(async () => {
  env = await startSubscribedManager('storm-reconcile-', ['--heartbeat', '600', '--reconcile', '0']);
  const { manager, dir } = env;
  await startStormd(manager, { name: 'host-a', dir, hypervisor: 'test:///default' });
  const pki = join(dir, 'manager', 'pki');
  const [ca, cert, key] = await Promise.all(
    ['ca.pem', 'manager-client.pem', 'manager-client.key'].map((f) => readFile(join(pki, f), 'utf8')),
  );
  const [h] = (await manager.api.get<{ hosts: { url: string; name: string }[] }>('/hosts')).hosts;
  host = new HostClient(h!.url, clientTlsOptions({ ca: ca!, cert: cert!, key: key!, servername: new URL(h!.url).hostname }), h!.name);
}, 300_000);
afterAll(() => env?.close());

const get = (name: string) => env!.manager.api.get<Instance>(`/instances/${name}`);
const reconcile = () => env!.manager.api.post<Report>('/reconcile');

describe('reconcile, one read per host and the comparison in memory', () => {
  let web1: Instance;
  let web2: Instance;

  beforeAll(async () => {
    const api = env!.manager.api;
    web1 = await api.post<Instance>('/instances', { appliance: 'hello-web', version: '1.0.0', name: 'web1' });
    web2 = await api.post<Instance>('/instances', { appliance: 'hello-web', version: '1.0.0', name: 'web2' });
    expect([web1.state, web2.state]).toEqual(['running', 'running']);
  }, 300_000);

  it('leaves records that match their domains as they are', async () => {
    expect(await reconcile()).toMatchObject({ hostsChecked: ['host-a'], lost: [], errors: [] });
    expect((await get('web1')).updatedAt).toBe(web1.updatedAt);
  });

  it('makes a record follow its domain stopped behind its back', async () => {
    await host.action(web1.id, { action: 'stop' });
    expect((await get('web1')).state).toBe('running');
    expect(await reconcile()).toMatchObject({ lost: [], errors: [] });
    expect((await get('web1')).state).toBe('stopped');
  });

  it('marks a record whose domain vanished lost, once, with the reason', async () => {
    await host.removeInstance(web2.id);
    expect(await reconcile()).toMatchObject({ lost: ['web2'], errors: [] });
    const lost = await get('web2');
    expect(lost).toMatchObject({ state: 'lost', lastError: 'the host has no domain for this instance' });
    expect(await reconcile()).toMatchObject({ lost: [], errors: [] });
    expect((await get('web2')).updatedAt).toBe(lost.updatedAt);
  });
});
