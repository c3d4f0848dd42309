/**
 * Crash consistency on qemu:///system (a libvirtd of the test's own, so `virsh list --all` sees
 * only this test's domains), through the one operation journal: the manager is killed
 * (SIGKILL, by STORM_FAULT=crash-after:<kind>:<step>) right after each journaled step of a launch,
 * a checkpoint, a rollback, an upgrade and a package; after a restart, reconcile leaves the database
 * and `virsh list --all` in agreement: no orphan domain, no ghost row, no duplicate MAC, no orphan
 * file (instance folder, writable layer, package, cached image), nothing open in the journal, and
 * `PRAGMA integrity_check` is ok. An interrupted step is undone (the launch's record goes; a
 * lifecycle operation's instance is back on its stack, running); a launch whose guest already runs
 * is finished; a kill after the last step finds the operation closed. Each kind's last case checks
 * that its kill list is every step the journal recorded for it. The lifecycle cases share one
 * booted guest.
 */
import { execFile } from 'node:child_process';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { Database } from '../../manager/src/db/database.js';
import { makeVmDir, type VmDir } from '../harness/libvirtd.js';
import { type PrivateLibvirtd, startPrivateLibvirtd } from '../harness/private-libvirtd.js';
import { publishSampleChannelForTest, type PublishedChannel } from '../helpers/channel-fixture.js';
import { destroyAllInstances } from '../helpers/instances.js';
import { type ManagerProcess, startManager } from '../helpers/manager-process.js';
import { pollUntil } from '../helpers/poll.js';
import { stopAllProcesses } from '../helpers/process.js';
import { freePort, startStormd, type StormdProcess } from '../helpers/stormd-process.js';

const run = promisify(execFile);
let libvirtd: PrivateLibvirtd;
let dir: VmDir;
let channel: PublishedChannel;
let host: StormdProcess;
let managerDir: string;
// A fixed port: hosts accept layer URLs only from the manager origin they joined.
let managerArgs: string[];
/**
 * Managers a case started: stopped after it whatever happened. A case that failed used to leave its
 * manager on the fixed port, and every later case failed with EADDRINUSE.
 */
const managers = new Set<ManagerProcess>();

/** When each manager started: a host's `ready` from before then is the last manager's word, not its own. */
const startedAt = new Map<ManagerProcess, string>();

async function manager(env: NodeJS.ProcessEnv = {}): Promise<ManagerProcess> {
  const since = new Date().toISOString();
  const m = await startManager(managerDir, managerArgs, env);
  managers.add(m);
  startedAt.set(m, since);
  return m;
}

/** The host is ready by a heartbeat this manager received itself (placement and lifecycle need one). */
async function heardFromHost(m: ManagerProcess): Promise<void> {
  const since = startedAt.get(m) ?? '';
  await pollUntil(
    `a heartbeat from ${host.name} since the manager started`,
    async () => {
      const { hosts } = await m.api.get<{ hosts: { name: string; status: string; lastHeartbeat: string | null }[] }>('/hosts');
      return hosts.some((h) => h.name === host.name && h.status === 'ready' && (h.lastHeartbeat ?? '') >= since) ? true : undefined;
    },
    { timeoutMs: 60_000 },
  );
}

beforeAll(async () => {
  libvirtd = await startPrivateLibvirtd();
  // Heartbeats each second: the host backs off from the killed manager by twice its interval, and every case
  // waits for a beat to the next one; six missed make the same 6 s of silence as before.
  managerArgs = [
    ...['--listen', `127.0.0.1:${await freePort()}`, '--channel-allow', '127.0.0.0/8'],
    ...['--heartbeat', '1', '--missed-heartbeats', '6', '--reconcile', '0'],
  ];
  dir = await makeVmDir('storm-e2e-crash-');
  managerDir = join(dir.path, 'manager');
  channel = await publishSampleChannelForTest();
  const m = await manager();
  host = await startStormd(m, { name: 'crash-host', dir: dir.path, hypervisor: libvirtd.uri, wrap: libvirtd.enter });
  await m.api.post('/channels', { url: channel.feedUrl, publicKey: channel.publicKey });
  await m.api.post('/appliances/hello-web/1.0.0/pull');
  await m.api.post('/appliances/hello-web/1.1.0/pull');
  expect(await m.proc.stop('SIGTERM')).toEqual({ code: 0, signal: null });
}, 180_000);
afterEach(async () => {
  for (const m of managers) await m.proc.stop('SIGKILL');
  managers.clear();
});
afterAll(async () => {
  const m = await startManager(managerDir, managerArgs).catch(() => undefined);
  await destroyAllInstances(m?.api);
  await stopAllProcesses();
  await channel?.close();
  await dir?.remove();
  await libvirtd?.close();
}, 180_000);

interface Instance {
  id: string;
  name: string;
  state: string;
  version: string;
  layers: { kind: string; id?: string }[];
}
type Events = { events: { type: string; data: { name?: string; instance?: string; operation?: string } }[] };

const stormDomains = async () =>
  (await run('virsh', ['-c', libvirtd.uri, 'list', '--all', '--name'])).stdout
    .split('\n')
    .map((s) => s.trim())
    .filter((s) => s.startsWith('storm-'))
    .sort();

const withDb = async <T>(fn: (db: Database) => Promise<T>): Promise<T> => {
  const db = await Database.open(join(managerDir, 'storm.db'));
  try {
    return await fn(db);
  } finally {
    await db.close();
  }
};

/**
 * The instance once it is `running` as this manager's own heartbeats say. A restarted manager may
 * judge the host silent by the last manager's heartbeat (its instances `unknown`) until one comes.
 */
const runningIn = (m: ManagerProcess, idOrName: string) =>
  pollUntil(
    `${idOrName} running in the new manager`,
    async () => {
      const v = await m.api.get<Instance>(`/instances/${idOrName}`);
      return v.state === 'running' ? v : undefined;
    },
    { timeoutMs: 60_000 },
  );

/** The steps the journal recorded for the last operation of `kind`. */
const journaledSteps = (kind: string) =>
  withDb(async (db) =>
    (
      await db.all<{ name: string }>(
        'SELECT s.name FROM operation_steps s WHERE s.operation_id = (SELECT id FROM operations WHERE kind = ? ORDER BY started_at DESC LIMIT 1) ORDER BY s.seq',
        [kind],
      )
    ).map((r) => r.name),
  );

/** Database, libvirt and the host's and manager's files agree; nothing is left open in the journal. */
async function checkAgreement(m: ManagerProcess): Promise<{ ids: string[] }> {
  const instances = (await m.api.get<{ instances: Instance[] }>('/instances')).instances;
  const domains = await stormDomains();
  expect(domains).toEqual(instances.map((i) => `storm-${i.id}`).sort());
  const folders = (await readdir(join(host.data, 'instances')).catch(() => [])).sort();
  expect(folders).toEqual(instances.map((i) => i.id).sort());
  await withDb(async (db) => {
    expect(await db.all('SELECT mac, COUNT(*) AS n FROM instances GROUP BY mac HAVING n > 1')).toEqual([]);
    expect(await db.all('PRAGMA integrity_check')).toEqual([{ integrity_check: 'ok' }]);
    expect(await db.all("SELECT id FROM instances WHERE state IN ('launching', 'destroying', 'failed')")).toEqual([]);
    expect(await db.all("SELECT kind, state FROM operations WHERE state IN ('running', 'undoing')")).toEqual([]);
    for (const i of instances) {
      // Writable layers: exactly those a stack or a checkpoint uses, and the current one; no package left behind.
      const rows = await db.all<{ frozen: string }>(
        'SELECT frozen FROM instances WHERE id = ? UNION ALL SELECT frozen FROM checkpoints WHERE instance_id = ?',
        [i.id, i.id],
      );
      const used = new Set(rows.flatMap((r) => JSON.parse(r.frozen) as string[]));
      const onHost = (await readdir(join(host.data, 'instances', i.id, 'writable')))
        .filter((f) => f.endsWith('.qcow2'))
        .map((f) => f.replace(/(\.merged)?\.qcow2$/, ''));
      expect(onHost.filter((l) => !used.has(l))).toHaveLength(1);
      expect([...used].filter((l) => !onHost.includes(l))).toEqual([]);
      expect(await readdir(join(host.data, 'instances', i.id, 'packages')).catch(() => [])).toEqual([]);
    }
    // The manager's cache: every file a record of an image.
    const images = new Set((await db.all<{ sha256: string }>('SELECT sha256 FROM images')).map((r) => r.sha256));
    expect((await readdir(join(managerDir, 'images'))).filter((f) => !f.startsWith('.') && !images.has(f))).toEqual([]);
    expect(await readdir(join(managerDir, 'images', '.partial'))).toEqual([]);
  });
  return { ids: instances.map((i) => i.id) };
}

/**
 * Starts a manager that kills itself after `step` of an operation of `kind`, asks `act` of it (the
 * answer never comes), then a manager that reconciles; returns that one and the reconcile events.
 */
async function killAfter(
  kind: string,
  step: string,
  act: (m: ManagerProcess) => Promise<unknown>,
  ready?: (m: ManagerProcess) => Promise<void>,
): Promise<{ m: ManagerProcess; events: Events['events'] }> {
  const doomed = await manager({ STORM_FAULT: `crash-after:${kind}:${step}` });
  await heardFromHost(doomed);
  await ready?.(doomed);
  const refused = await act(doomed).then(
    () => 'an answer',
    (err: unknown) => err,
  );
  expect(refused, String(refused)).toMatchObject({ code: 'CLI_ERR_UNREACHABLE' });
  expect(await doomed.proc.exited()).toMatchObject({ signal: 'SIGKILL' });
  const m = await manager();
  // The reconcile at start may already have repaired it; a pass now makes sure one completed.
  const report = await m.api.post<{ errors: string[] }>('/reconcile');
  expect(report.errors).toEqual([]);
  return { m, events: (await m.api.get<Events>('/events/recent?type=reconcile')).events };
}

describe('kill -9 of the manager during launch', () => {
  const LAUNCH = ['instance.reserve', 'host.stage', 'host.instance-layer', 'host.define', 'host.start', 'instance.running'];
  // A launch whose guest already runs is finished; after its last step there is nothing left to do.
  const outcome = (step: string) =>
    step === 'host.start' ? 'reconcile.launch-finished' : step === 'instance.running' ? null : 'reconcile.launch-undone';

  for (const step of LAUNCH) {
    const does = step === 'host.start' ? 'finishes the launch' : step === 'instance.running' ? 'has nothing to do' : 'undoes the launch';
    it(`after ${step}: reconcile ${does}, database and libvirt agree`, async () => {
      const name = `crash-${step.replace('.', '-')}`;
      const { m, events } = await killAfter('launch', step, (d) =>
        d.api.post('/instances', { appliance: 'hello-web', version: '1.0.0', name }),
      );
      const expected = outcome(step);
      expect(events.filter((e) => e.data.name === name).map((e) => e.type)).toEqual(expected ? [expected] : []);
      const { ids } = await checkAgreement(m);
      const names = (await m.api.get<{ instances: Instance[] }>('/instances')).instances;
      if (expected === 'reconcile.launch-undone') expect(names.map((n) => n.name)).not.toContain(name);
      else expect(await runningIn(m, name)).toMatchObject({ name, state: 'running' });
      if (step === LAUNCH.at(-1)) expect(await journaledSteps('launch')).toEqual(LAUNCH);
      for (const id of ids) await m.api.delete(`/instances/${id}`);
      expect(await stormDomains()).toEqual([]);
      expect(await m.proc.stop('SIGTERM')).toEqual({ code: 0, signal: null });
    }, 240_000);
  }

  it('an orphan domain (a record lost behind the manager) is removed by reconcile', async () => {
    const m = await manager();
    // A restarted manager places only on a host that has reported to it.
    await heardFromHost(m);
    const inst = await m.api.post<{ id: string }>('/instances', { appliance: 'hello-web', version: '1.0.0', name: 'orphan1' });
    await m.proc.stop('SIGTERM');
    await withDb((db) => db.run('DELETE FROM instances WHERE id = ?', [inst.id]));
    const again = await manager();
    await again.api.post('/reconcile');
    const events = (await again.api.get<Events>('/events/recent?type=reconcile.orphan-removed')).events;
    expect(events.map((e) => e.data.instance)).toEqual([inst.id]);
    await checkAgreement(again);
    await again.proc.stop('SIGTERM');
  }, 240_000);
});

describe('kill -9 of the manager during lifecycle operations (one booted guest throughout)', () => {
  const RESTACK = ['host.stage', 'host.stop-for-change', 'host.writable-layer', 'host.define', 'host.start', 'instance.restack'];
  let web: Instance;
  let checkpoint: string;

  beforeAll(async () => {
    const m = await manager();
    await heardFromHost(m);
    web = await m.api.post<Instance>('/instances', { appliance: 'hello-web', version: '1.0.0', name: 'web' });
    await m.proc.stop('SIGTERM');
  }, 240_000);

  /** The guest's current boot is through (its power button works, so a stop is quick). */
  const booted = async (m: ManagerProcess) => {
    await pollUntil(
      'the guest to finish booting',
      async () => {
        const { text } = await m.api.get<{ text: string }>(`/instances/${web.id}/console?bytes=262144`);
        // Every boot starts with the firmware's banner.
        return text.split('SeaBIOS').at(-1)?.includes('STORM-OS: ready') ? true : undefined;
      },
      { timeoutMs: 120_000 },
    );
  };
  const shape = (i: Instance) => ({ state: i.state, version: i.version, layers: i.layers });

  /** Each step of `kind` killed in turn: every kill but the last is undone; the last leaves the operation done. */
  function killEach(
    kind: string,
    steps: readonly string[],
    body: () => object,
    done: (before: Instance, after: Instance, m: ManagerProcess) => Promise<void>,
  ) {
    for (const step of steps) {
      it(`${kind}, killed after ${step}: ${step === steps.at(-1) ? 'done' : 'undone'}, and database, libvirt and files agree`, async () => {
        const started = Date.now();
        let before: Instance | undefined;
        const { m, events } = await killAfter(
          kind,
          step,
          (d) => d.api.post(`/instances/${web.id}/actions`, body()),
          async (d) => {
            await booted(d);
            before = await runningIn(d, web.id);
          },
        );
        // Undone or done, the guest runs again; the state is read as for `before`.
        const after = await runningIn(m, web.id);
        const mine = events.filter((e) => e.data.name === 'web' && e.data.operation === kind).map((e) => e.type);
        if (step === steps.at(-1)) {
          expect(mine).toEqual([]);
          await done(before!, after, m);
          expect(await journaledSteps(kind)).toEqual(steps);
        } else {
          expect(mine).toEqual(['reconcile.operation-undone']);
          expect(shape(after)).toEqual(shape(before!));
        }
        expect(after.state).toBe('running');
        await checkAgreement(m);
        expect(await m.proc.stop('SIGTERM')).toEqual({ code: 0, signal: null });
        console.log(`${kind} killed after ${step}: ${Math.round((Date.now() - started) / 100) / 10} s`);
      }, 240_000);
    }
  }

  killEach(
    'checkpoint',
    RESTACK,
    () => ({ action: 'checkpoint', label: 'crash test' }),
    async (before, after, m) => {
      expect(after.layers.filter((l) => l.kind === 'frozen')).toHaveLength(before.layers.filter((l) => l.kind === 'frozen').length + 1);
      const { checkpoints } = await m.api.get<{ checkpoints: { id: string; reason: string }[] }>(`/instances/${web.id}/checkpoints`);
      expect(checkpoints.map((c) => c.reason)).toEqual(['crash test']);
      checkpoint = checkpoints[0]!.id;
    },
  );

  killEach(
    'rollback',
    RESTACK,
    () => ({ action: 'rollback', checkpoint }),
    async (_before, after, m) => {
      // The checkpoint's stack (its one frozen layer) under a new writable layer; the state left is a checkpoint too.
      expect(after.layers.filter((l) => l.kind === 'frozen')).toHaveLength(1);
      const { checkpoints } = await m.api.get<{ checkpoints: { reason: string }[] }>(`/instances/${web.id}/checkpoints`);
      expect(checkpoints.map((c) => c.reason)).toEqual(['crash test', 'before rollback to #1']);
    },
  );

  killEach(
    'upgrade',
    RESTACK,
    () => ({ action: 'upgrade', version: '1.1.0' }),
    async (before, after) => {
      expect([before.version, after.version]).toEqual(['1.0.0', '1.1.0']);
    },
  );

  killEach(
    'package',
    [...RESTACK, 'package.build', 'package.ingest', 'package.publish'],
    () => ({ action: 'package', name: 'crash-site', version: '1.0.0' }),
    async (_before, _after, m) => {
      // Killed before it rebuilt the local channel: the next start does it from the package's record.
      await pollUntil(
        'the package in the local channel',
        async () => {
          const listed = (await m.api.get<{ appliances: { name: string; channelId: string }[] }>('/appliances')).appliances;
          return listed.some((a) => a.name === 'crash-site' && a.channelId === 'ch-local') ? true : undefined;
        },
        { timeoutMs: 60_000 },
      );
    },
  );
});
