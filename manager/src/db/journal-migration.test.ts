import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { managerConfig } from '../config.js';
import { createContext } from '../context.js';
import { JournalStore, type OperationRecord } from '../operations/journal-store.js';
import { Database } from './database.js';
import { migrate, MIGRATIONS } from './migrations.js';

let dir: string;
let db: Database;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'storm-journal-migration-'));
  db = await Database.open(join(dir, 'storm.db'));
});
afterEach(async () => {
  await db.close().catch(() => undefined);
  await rm(dir, { recursive: true, force: true });
});

const FILES = [
  { position: 0, role: 'layer', kind: 'os', sha256: 'a'.repeat(64), size: 1 },
  { position: 1, role: 'kernel', kind: 'kernel', sha256: 'b'.repeat(64), size: 1 },
  { position: 2, role: 'initrd', kind: 'initrd', sha256: 'c'.repeat(64), size: 1 },
];

/** An instance row as a manager before the journal wrote it. */
async function oldRow(id: string, state: string, extra: { launch_step?: string; operation?: object; ip?: string } = {}): Promise<void> {
  await db.run(
    `INSERT INTO instances (id, name, uuid, appliance, version, host_id, state, desired, launch_step, mac, ip, memory_mib, vcpus, guest_spec, operation)
     VALUES (?, ?, ?, 'hello-web', '1.0.0', 'host-1', ?, 'running', ?, ?, ?, 128, 1, ?, ?)`,
    [
      id,
      `n-${id}`,
      `uuid-${id}`,
      state,
      extra.launch_step ?? null,
      `52:54:00:00:00:0${id.length}`,
      extra.ip ?? null,
      JSON.stringify({ config: [], records: [], principals: ['HTTP'] }),
      extra.operation ? JSON.stringify(extra.operation) : null,
    ],
  );
}

describe('migration 13: the crash records of before become open operations in the journal', () => {
  it('carries launch_step, operation, destroying and failed rows over, then drops the old columns', async () => {
    await migrate(
      db,
      MIGRATIONS.filter((m) => m.version <= 12),
    );
    await db.run("INSERT INTO hosts (id, name, url, cert_serial) VALUES ('host-1', 'vm', 'https://127.0.0.1:1', '01')");
    await oldRow('i-a', 'launching', { launch_step: 'layer', ip: '10.77.0.2' });
    await oldRow('i-bb', 'stopped', {
      ip: '10.77.0.3',
      operation: { op: 'upgrade', wasRunning: true, newLayer: 'w3', before: { files: FILES, frozen: ['w1'] } },
    });
    await oldRow('i-ccc', 'destroying');
    await oldRow('i-dddd', 'failed');
    await oldRow('i-eeeee', 'running');
    await migrate(db);

    const open = await new JournalStore(db).listOpen();
    const byInstance: Record<string, OperationRecord> = Object.fromEntries(open.map((op) => [op.instanceId ?? op.id, op]));
    expect(Object.keys(byInstance).sort()).toEqual(['i-a', 'i-bb', 'i-ccc', 'i-dddd']);

    expect(byInstance['i-a']).toMatchObject({ kind: 'launch', hostId: 'host-1', state: 'running', subject: { name: 'n-i-a' } });
    expect(byInstance['i-a']!.steps.map((s) => [s.name, s.state])).toEqual([
      ['instance.reserve', 'done'],
      ['network.address', 'done'],
      ['kerberos.principals', 'started'],
      ['directory.account', 'started'],
      ['host.instance-layer', 'started'],
      ['host.define', 'started'],
      ['host.start', 'started'],
    ]);
    expect(byInstance['i-a']!.steps[2]!.intent).toEqual({ name: 'n-i-a', services: ['HTTP'] });
    expect(byInstance['i-a']!.steps[5]!.intent).toEqual({ hostId: 'host-1', instanceId: 'i-a' });

    const upgrade = byInstance['i-bb']!;
    expect(upgrade).toMatchObject({ kind: 'upgrade', subject: { name: 'n-i-bb', wasRunning: true } });
    expect(upgrade.steps.map((s) => [s.name, s.state, s.kept])).toEqual([
      ['host.stop-for-change', 'started', undefined],
      ['host.writable-layer', 'done', { layer: 'w3' }],
      ['host.define', 'started', undefined],
      ['host.start', 'started', undefined],
    ]);
    expect(upgrade.steps[0]!.intent).toEqual({
      hostId: 'host-1',
      instance: { id: 'i-bb', name: 'n-i-bb', mac: '52:54:00:00:00:04', uuid: 'uuid-i-bb', ip: '10.77.0.3' },
      wasRunning: true,
      previous: { appliance: 'hello-web', version: '1.0.0', memoryMiB: 128, vcpus: 1, files: FILES, frozen: ['w1'] },
    });

    for (const id of ['i-ccc', 'i-dddd']) expect(byInstance[id]).toMatchObject({ kind: 'destroy', state: 'running', steps: [] });
    const columns = (await db.all<{ name: string }>('PRAGMA table_info(instances)')).map((c) => c.name);
    expect(columns).not.toContain('launch_step');
    expect(columns).not.toContain('operation');
    await db.close();

    // Every step it wrote is one the manager knows how to undo after a restart.
    const ctx = await createContext(managerConfig({ data: dir, logLevel: 'silent' }));
    try {
      const names = new Set(open.flatMap((op) => op.steps.map((s) => s.name)));
      expect([...names].filter((name) => !ctx.journal.knows(name))).toEqual([]);
    } finally {
      await ctx.close();
    }
  });
});
