/**
 * Volumes through the operation journal, with real parts: a storm-manager process, a stormd on
 * libvirt test:///default, the built `storm` CLI. Creating a volume makes its row and the host's
 * file (`volume-create`: volume.record, volume.host-create); an attach that fails after the host
 * attached it (STORM_FAULT=fail-after:volume-attach:volume.host-attach) is undone step by step: the
 * host no longer lists it with the instance, the row names no instance, the journal says `undone`.
 * The volume is then refused to an unknown instance, removed by the CLI, and its file is gone.
 * Attaching for real, hot-plug and lifecycle operations: test/e2e/volumes.test.ts.
 */
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { VolumeList, VolumeView } from '../../manager/protocol/index.js';
import { Database } from '../../manager/src/db/database.js';
import { publishChannel, type PublishedChannel } from '../helpers/channel-fixture.js';
import { type ManagerProcess, startManager } from '../helpers/manager-process.js';
import { stopAllProcesses } from '../helpers/process.js';
import { type StormCli, stormCli } from '../helpers/storm-cli.js';
import { startStormd, type StormdProcess } from '../helpers/stormd-process.js';

let work: string;
let data: string;
let channel: PublishedChannel;
let manager: ManagerProcess;
let host: StormdProcess;
let cli: StormCli;

const operation = async (kind: string) => {
  const db = await Database.open(join(data, 'storm.db'));
  try {
    const op = await db.get<{ id: string; state: string }>(
      'SELECT id, state FROM operations WHERE kind = ? ORDER BY started_at DESC LIMIT 1',
      [kind],
    );
    if (!op) return undefined;
    const steps = await db.all<{ name: string; state: string }>(
      'SELECT name, state FROM operation_steps WHERE operation_id = ? ORDER BY seq',
      [op.id],
    );
    return { state: op.state, steps: steps.map((s) => `${s.name}:${s.state}`) };
  } finally {
    await db.close();
  }
};

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'storm-volumes-journal-'));
  data = join(work, 'manager');
  channel = await publishChannel();
  manager = await startManager(data, ['--channel-allow', '127.0.0.0/8', '--heartbeat', '1', '--reconcile', '0'], {
    STORM_FAULT: 'fail-after:volume-attach:volume.host-attach',
  });
  await manager.api.post('/channels', { url: channel.feedUrl, publicKey: channel.publicKey });
  host = await startStormd(manager, { name: 'host-v', dir: work, hypervisor: 'test:///default' });
  cli = stormCli(manager.url, data);
}, 180_000);

afterAll(async () => {
  await stopAllProcesses();
  await channel?.close();
  if (work) await rm(work, { recursive: true, force: true });
});

describe('volumes through the journal', () => {
  it('creates a volume as one operation: its row, then the host’s file', async () => {
    const made = await cli.run(['volume', 'create', 'journal1', '--size', '16M']);
    expect(made.code, made.output).toBe(0);
    expect(made.stdout).toBe('created volume journal1 (16 MiB, ext4) on host-v; the guest sees serial storm-vol-journal1\n');
    expect(await operation('volume-create')).toEqual({ state: 'done', steps: ['volume.record:done', 'volume.host-create:done'] });
    await stat(join(host.data, 'volumes', 'journal1.qcow2'));
    expect((await cli.run(['volume', 'create', 'journal1', '--size', '16M'])).stderr).toMatch(/^storm: MGR_ERR_VOLUME_EXISTS/);
    expect((await cli.run(['volume', 'create', 'journal2', '--size', 'lots'])).code).toBe(2);
    const table = await cli.run(['volume', 'ls']);
    expect(table.stdout).toMatch(/^NAME\s+SIZE\s+HOST\s+ATTACHED TO\s+SERIAL\njournal1\s+16 MiB\s+host-v\s+-\s+storm-vol-journal1\n$/);
  });

  it('undoes an attach that failed after the host attached it', async () => {
    const inst = await manager.api.post<{ id: string; name: string }>('/instances', {
      appliance: 'hello-web',
      version: '1.0.0',
      name: 'jv1',
    });
    await manager.api.post(`/instances/${inst.id}/actions`, { action: 'stop' });
    const attach = await cli.run(['volume', 'attach', 'journal1', 'jv1']);
    expect(attach.code).toBe(1);
    expect(attach.stderr).toMatch(/MGR_ERR_INTERNAL: .*fault STORM_FAULT injected after volume-attach:volume.host-attach/);
    expect(await operation('volume-attach')).toEqual({
      state: 'undone',
      steps: ['volume.attach-record:undone', 'volume.host-attach:undone'],
    });
    const { volumes } = await manager.api.get<VolumeList>('/volumes');
    expect(volumes).toEqual([expect.objectContaining({ name: 'journal1', instance: null })]);
    // The host's side was undone too: the instance lists no volume.
    const listed = await readFile(join(host.data, 'instances', inst.id, 'volumes.json'), 'utf8').catch(() => '[]');
    expect(JSON.parse(listed)).toEqual([]);
    await expect(manager.api.post(`/volumes/journal1/attach`, { instance: 'nobody' })).rejects.toMatchObject({ code: 'MGR_ERR_NOT_FOUND' });
    await expect(manager.api.post(`/volumes/nothing/attach`, { instance: 'jv1' })).rejects.toMatchObject({
      code: 'MGR_ERR_VOLUME_NOT_FOUND',
    });
  });

  it('removes a detached volume and its file', async () => {
    const detached = await manager.api.post<VolumeView>('/volumes/journal1/detach', {});
    expect(detached.instance).toBeNull();
    const removed = await cli.run(['volume', 'rm', 'journal1']);
    expect(removed.code, removed.output).toBe(0);
    expect(await operation('volume-remove')).toEqual({ state: 'done', steps: ['volume.host-remove:done', 'volume.forget:done'] });
    await expect(stat(join(host.data, 'volumes', 'journal1.qcow2'))).rejects.toMatchObject({ code: 'ENOENT' });
    expect((await cli.run(['volume', 'ls'])).stdout).toBe('no volumes (storm volume create NAME --size 1G makes one)\n');
  });
});
