/**
 * Crash consistency on qemu:///system: the manager is killed (SIGKILL, by STORM_FAULT) right after
 * each launch step; after a restart, reconcile leaves the database and `virsh list --all` in
 * agreement: no orphan domain, no ghost row, no duplicate MAC, and `PRAGMA integrity_check` is ok.
 */
import { execFile } from 'node:child_process';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Database } from '../../manager/src/db/database.js';
import { ensureLibvirtd, type LibvirtdHandle, makeVmDir, type VmDir } from '../harness/libvirtd.js';
import { publishSampleChannelForTest, type PublishedChannel } from '../helpers/channel-fixture.js';
import { destroyAllInstances } from '../helpers/instances.js';
import { type ManagerProcess, startManager } from '../helpers/manager-process.js';
import { stopAllProcesses } from '../helpers/process.js';
import { freePort, startStormd, type StormdProcess, waitUntilReady } from '../helpers/stormd-process.js';

const run = promisify(execFile);
let libvirtd: LibvirtdHandle;
let dir: VmDir;
let channel: PublishedChannel;
let host: StormdProcess;
let managerDir: string;

// A fixed port: hosts accept layer URLs only from the manager origin they joined.
let managerArgs: string[];

beforeAll(async () => {
  libvirtd = await ensureLibvirtd();
  managerArgs = ['--listen', `127.0.0.1:${await freePort()}`, '--channel-allow', '127.0.0.0/8', '--heartbeat', '2', '--reconcile', '0'];
  dir = await makeVmDir('storm-e2e-crash-');
  managerDir = join(dir.path, 'manager');
  channel = await publishSampleChannelForTest();
  const m = await startManager(managerDir, managerArgs);
  host = await startStormd(m, { name: 'crash-host', dir: dir.path, hypervisor: libvirtd.uri });
  await m.api.post('/channels', { url: channel.feedUrl, publicKey: channel.publicKey });
  await m.api.post('/appliances/hello-web/1.0.0/pull');
  expect(await m.proc.stop('SIGTERM')).toEqual({ code: 0, signal: null });
}, 180_000);
afterAll(async () => {
  const m = await startManager(managerDir, managerArgs).catch(() => undefined);
  await destroyAllInstances(m?.api);
  await stopAllProcesses();
  await channel?.close();
  await dir?.remove();
  await libvirtd?.stop();
}, 180_000);

const stormDomains = async () =>
  (await run('virsh', ['-c', libvirtd.uri, 'list', '--all', '--name'])).stdout
    .split('\n')
    .map((s) => s.trim())
    .filter((s) => s.startsWith('storm-'))
    .sort();

async function checkAgreement(m: ManagerProcess): Promise<{ ids: string[] }> {
  const instances = (await m.api.get<{ instances: { id: string; state: string }[] }>('/instances')).instances;
  const domains = await stormDomains();
  expect(domains).toEqual(instances.map((i) => `storm-${i.id}`).sort());
  const folders = (await readdir(join(host.data, 'instances')).catch(() => [])).sort();
  expect(folders).toEqual(instances.map((i) => i.id).sort());
  const db = await Database.open(join(managerDir, 'storm.db'));
  try {
    expect(await db.all('SELECT mac, COUNT(*) AS n FROM instances GROUP BY mac HAVING n > 1')).toEqual([]);
    expect(await db.all('PRAGMA integrity_check')).toEqual([{ integrity_check: 'ok' }]);
    expect(await db.all("SELECT id FROM instances WHERE state IN ('launching', 'destroying', 'failed')")).toEqual([]);
  } finally {
    await db.close();
  }
  return { ids: instances.map((i) => i.id) };
}

describe('kill -9 of the manager during launch', () => {
  const expectations = [
    { step: 'staged', outcome: 'undone' },
    { step: 'layer', outcome: 'undone' },
    { step: 'defined', outcome: 'undone' },
    { step: 'started', outcome: 'finished' },
  ] as const;

  for (const { step, outcome } of expectations) {
    it(`after ${step}: reconcile ${outcome === 'undone' ? 'undoes the launch' : 'finishes the launch'}, database and libvirt agree`, async () => {
      const name = `crash-${step}`;
      const doomed = await startManager(managerDir, managerArgs, { STORM_FAULT: `crash-after:${step}` });
      await waitUntilReady(doomed, host.name);
      await expect(doomed.api.post('/instances', { appliance: 'hello-web', version: '1.0.0', name })).rejects.toMatchObject({ code: 'CLI_ERR_UNREACHABLE' });
      expect(await doomed.proc.exited()).toMatchObject({ signal: 'SIGKILL' });

      const m = await startManager(managerDir, managerArgs);
      // The reconcile at start may already have repaired it; a pass now makes sure one completed.
      const report = await m.api.post<{ errors: string[] }>('/reconcile');
      expect(report.errors).toEqual([]);
      const events = (await m.api.get<{ events: { type: string; data: { name?: string } }[] }>('/events/recent?type=reconcile')).events;
      expect(events.filter((e) => e.data.name === name).map((e) => e.type)).toEqual([outcome === 'undone' ? 'reconcile.launch-undone' : 'reconcile.launch-finished']);
      const { ids } = await checkAgreement(m);
      const names = (await m.api.get<{ instances: { name: string; state: string }[] }>('/instances')).instances;
      if (outcome === 'finished') expect(names).toContainEqual(expect.objectContaining({ name, state: 'running' }));
      else expect(names.map((n) => n.name)).not.toContain(name);
      for (const id of ids) await m.api.delete(`/instances/${id}`);
      expect(await stormDomains()).toEqual([]);
      expect(await m.proc.stop('SIGTERM')).toEqual({ code: 0, signal: null });
    }, 240_000);
  }

  it('an orphan domain (a record lost behind the manager) is removed by reconcile', async () => {
    const m = await startManager(managerDir, managerArgs);
    // A restarted manager places only on a host that has reported to it (or was ready and still is).
    await waitUntilReady(m, host.name);
    const inst = await m.api.post<{ id: string }>('/instances', { appliance: 'hello-web', version: '1.0.0', name: 'orphan1' });
    await m.proc.stop('SIGTERM');
    const db = await Database.open(join(managerDir, 'storm.db'));
    await db.run('DELETE FROM instances WHERE id = ?', [inst.id]);
    await db.close();
    const again = await startManager(managerDir, managerArgs);
    await again.api.post('/reconcile');
    const events = (await again.api.get<{ events: { type: string; data: { instance?: string } }[] }>('/events/recent?type=reconcile.orphan-removed')).events;
    expect(events.map((e) => e.data.instance)).toEqual([inst.id]);
    await checkAgreement(again);
    await again.proc.stop('SIGTERM');
  }, 240_000);
});
