/**
 * A live move between two real hosts (issue 16's second acceptance line): a manager with an
 * appliance network and its DNS on loopback, two stormd each on a libvirtd of its own
 * (`harness/two-hosts.ts`), both started with `--migration-uri` (the other libvirtd reaches theirs
 * through its socket) and unix sockets for memory and disks in a folder both QEMUs see, real qemu
 * under TCG, the sample channel's hello-web. The running guest prints `TICK <n> <boot id>` to its
 * console every second (a loop started from its serial shell); `storm move NAME --to host-b` moves
 * it live: the answer says live, the counter goes on on host-b past where it stopped on host-a under
 * the same boot id (no reboot), the domain runs on host-b's libvirtd only, host-a keeps no folder,
 * the API shows it running on host-b, and `dig` at the manager's DNS answers the same address.
 * Then the same guest, still ticking, is moved back and forth with the manager killed with -9 after
 * each step of the live move (STORM_FAULT=crash-after:live-move:<step>) and started again (issue
 * 16's third acceptance line): after its reconcile the operation is closed (undone before the
 * migration, finished from it on), exactly one domain exists, running, on the host the database
 * names (`virsh list --all` on both libvirtds), neither host keeps an orphan instance file, and the
 * counter goes on under the same boot id.
 */
import { execFile } from 'node:child_process';
import { chmod, mkdir, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Database } from '../../manager/src/db/database.js';
import { waitFor } from '../../stormd/src/clock.js';
import { startTwoHosts, type TwoHosts } from '../harness/two-hosts.js';
import { publishSampleChannelForTest, type PublishedChannel } from '../helpers/channel-fixture.js';
import { GuestShells } from '../helpers/guest-shell.js';
import { pollUntil } from '../helpers/poll.js';
import { destroyAllInstances, GUEST_FAILED } from '../helpers/instances.js';
import { stormCli } from '../helpers/storm-cli.js';
import { freePort } from '../helpers/stormd-process.js';

const run = promisify(execFile);
const BOOT = 'STORM-INIT: root ready';
const TICK = /TICK (\d+) ([0-9a-f-]{36})/g;
/** A loop in the background of the serial shell: the tick and the boot id on the console every second. */
const COUNTER =
  'read -r boot </proc/sys/kernel/random/boot_id; ( ( i=0; while :; do i=$((i + 1)); echo "TICK $i $boot"; sleep 1; done ) </dev/null >/dev/console 2>&1 & )';
let two: TwoHosts;
let channel: PublishedChannel;
let shells: GuestShells;
let dnsPort: number;

interface Instance {
  id: string;
  name: string;
  state: string;
  ip: string | null;
  host: { name: string } | null;
}

beforeAll(async () => {
  channel = await publishSampleChannelForTest();
  dnsPort = await freePort();
  two = await startTwoHosts({
    prefix: 'storm-e2e-live-move-',
    managerArgs: [
      '--channel-allow',
      '127.0.0.0/8',
      '--heartbeat',
      '2',
      '--network',
      '10.76.0.0/24',
      '--dns-listen',
      `127.0.0.1:${dnsPort}`,
    ],
    // Each host's libvirtd by its socket, which the other's libvirtd reaches (the two share no network); QEMU's streams over unix sockets both see.
    stormdArgs: async (name, libvirtd, dir) => {
      const sockets = join(dir, 'sockets');
      await mkdir(sockets, { recursive: true });
      await chmod(sockets, 0o1777);
      return [
        ...['--migration-uri', libvirtd.uri.replace(/^qemu:/, 'qemu+unix:')],
        ...['--migration-memory-uri', `unix://${join(sockets, `${name}-memory.sock`)}`],
        ...['--migration-disks-uri', `unix://${join(sockets, `${name}-disks.sock`)}`],
      ];
    },
  });
  shells = new GuestShells(two.manager);
  await two.manager.api.post('/channels', { url: channel.feedUrl, publicKey: channel.publicKey });
}, 300_000);

afterAll(async () => {
  shells?.close();
  await destroyAllInstances(two?.manager.api);
  await two?.close();
  await channel?.close();
}, 120_000);

const consoleText = async (id: string) => (await two.manager.api.get<{ text: string }>(`/instances/${id}/console?bytes=1048576`)).text;
const ticks = async (id: string) => [...(await consoleText(id)).matchAll(TICK)].map((m) => ({ n: Number(m[1]), bootId: m[2]! }));

/** Waits until the guest's latest boot reached tiny-os's shell. */
async function booted(id: string, timeoutMs = 180_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const text = (await consoleText(id)).split(BOOT).slice(1).at(-1) ?? '';
    if (/STORM-OS: ready/.test(text)) return;
    if (GUEST_FAILED.test(text) || Date.now() > deadline) throw new Error(`the guest never got ready:\n${text.slice(-3000)}`);
    await new Promise((r) => setTimeout(r, 1000));
  }
}

async function dig(name: string): Promise<string> {
  return (await run('dig', ['@127.0.0.1', '-p', String(dnsPort), '+short', '+time=2', '+tries=2', name, 'A'])).stdout.trim();
}

/** The ticking guest all cases share: launched on host-a, booted, its counter started (once; a case run alone starts it). */
let shared: Promise<{ guest: Instance; bootId: string }> | undefined;
const tickingGuest = () => {
  shared ??= (async () => {
    const guest = await two.manager.api.post<Instance>('/instances', {
      appliance: 'hello-web',
      version: '1.0.0',
      name: 'live1',
      host: 'host-a',
    });
    expect(guest.host?.name).toBe('host-a');
    await booted(guest.id);
    const started = await shells.run(guest.name, COUNTER);
    expect(started.status, started.out).toBe(0);
    shells.close(); // the serial session is host-a's: it ends with the move
    expect(await waitFor(async () => (await ticks(guest.id)).length >= 3, { timeoutMs: 30_000, intervalMs: 500 })).toBe(true);
    return { guest, bootId: (await ticks(guest.id))[0]!.bootId };
  })();
  return shared;
};

describe('a live move between two hosts', () => {
  it('moves a running guest without a reboot: the counter goes on on the target under the same boot id', async () => {
    const { guest, bootId } = await tickingGuest();
    const address = await dig('live1.storm.internal');
    expect(address).toBe(guest.ip);

    // Placement takes only a ready host: on a loaded machine a heartbeat can come late.
    await pollUntil(
      'both hosts ready',
      async () => {
        const { hosts } = await two.manager.api.get<{ hosts: { status: string }[] }>('/hosts');
        return hosts.filter((h) => h.status === 'ready').length === 2 ? true : undefined;
      },
      { timeoutMs: 60_000 },
    );
    const t0 = Date.now();
    const moved = await stormCli(two.manager.url, two.managerDir).run(['move', 'live1', '--to', 'host-b'], { timeoutMs: 300_000 });
    console.log(`storm move (live): ${Date.now() - t0} ms; ${moved.output.trim()}`);
    expect(moved.code, moved.output).toBe(0);
    expect(moved.output).toMatch(/live1: moved from host-a to host-b \(live(, paused \d+ ms)?\); running/);

    // The counter goes on on host-b (its console log starts at the move) under the same boot id, one tick after another.
    let after: { n: number; bootId: string }[] = [];
    expect(
      await waitFor(
        async () => {
          after = await ticks(guest.id);
          return after.length >= 3;
        },
        { timeoutMs: 60_000, intervalMs: 1000 },
      ),
    ).toBe(true);
    expect(after.every((t) => t.bootId === bootId)).toBe(true);
    expect(after[0]!.n).toBeGreaterThan(3);
    for (let i = 1; i < after.length; i++) expect(after[i]!.n).toBe(after[i - 1]!.n + 1);

    const domain = `storm-${guest.id}`;
    expect(await two.hosts['host-b'].virsh('domstate', domain)).toBe('running');
    expect(await two.hosts['host-a'].virsh('list', '--all', '--name')).not.toContain(domain);
    expect((await readdir(join(two.dir.path, 'host-a', 'instances'))).filter((f) => !f.startsWith('.'))).toEqual([]);
    expect(await two.manager.api.get<Instance>(`/instances/${guest.id}`)).toMatchObject({
      state: 'running',
      host: { name: 'host-b' },
      ip: guest.ip,
    });
    expect(await dig('live1.storm.internal')).toBe(address);
  }, 300_000);
});

/** The steps of a live move, in order; from `move.migrate` on (libvirt got through) it is finished, before it undone. */
const LIVE_MOVE = ['host.stage', 'move.prepare-incoming', 'move.migrate', 'move.switch-host', 'move.remove-source'];

/** The last live move in the journal: its state and its steps' names. */
async function lastLiveMove(): Promise<{ state: string; steps: string[] } | undefined> {
  const db = await Database.open(join(two.managerDir, 'storm.db'));
  try {
    const op = await db.get<{ id: string; state: string }>(
      "SELECT id, state FROM operations WHERE kind = 'live-move' ORDER BY started_at DESC LIMIT 1",
    );
    if (!op) return undefined;
    const steps = await db.all<{ name: string }>('SELECT name FROM operation_steps WHERE operation_id = ? ORDER BY seq', [op.id]);
    return { state: op.state, steps: steps.map((r) => r.name) };
  } finally {
    await db.close();
  }
}

/** Every file under a host's instances folder, relative to it. */
const filesUnder = async (host: 'host-a' | 'host-b') =>
  (await readdir(join(two.dir.path, host, 'instances'), { recursive: true }).catch(() => [] as string[])).map(String).sort();

/** The `storm-*` domains `virsh list --all` shows on a host. */
const domainsOn = async (host: 'host-a' | 'host-b') =>
  (await two.hosts[host].virsh('list', '--all', '--name')).split('\n').filter((d) => d.startsWith('storm-'));

describe('the manager killed with -9 after each step of a live move, then started again (one ticking guest throughout)', () => {
  for (const [n, step] of LIVE_MOVE.entries()) {
    const forward = n >= 2;
    it(`after ${step}: the move is ${forward ? 'finished' : 'undone'}, one domain runs where the database says, no orphan file`, async () => {
      const t0 = Date.now();
      const { guest, bootId } = await tickingGuest();
      // A restarted manager may call it `unknown` until a heartbeat of its own says otherwise.
      const before = await pollUntil(
        'live1 running',
        async () => {
          const v = await two.manager.api.get<Instance>('/instances/live1');
          return v.state === 'running' ? v : undefined;
        },
        { timeoutMs: 60_000 },
      );
      const from = before.host!.name as 'host-a' | 'host-b';
      const to = from === 'host-a' ? 'host-b' : 'host-a';
      const lastTick = Math.max(0, ...(await ticks(guest.id)).map((t) => t.n));

      await two.restartManager({ STORM_FAULT: `crash-after:live-move:${step}` });
      await expect(two.manager.api.post('/instances/live1/move', { to })).rejects.toThrow();
      expect((await two.manager.proc.exited()).signal).toBe('SIGKILL');
      expect((await lastLiveMove())?.state).toBe('running');

      await two.restartManager();
      const report = await two.manager.api.post<{ orphansRemoved: string[]; errors: string[] }>('/reconcile');
      expect(report).toMatchObject({ orphansRemoved: [], errors: [] });
      const op = await lastLiveMove();
      expect(op?.state).toBe(forward ? 'done' : 'undone');
      // The kill list is every step a live move records (a step the kill cut short is recorded again by reconcile).
      if (step === LIVE_MOVE.at(-1)) expect([...new Set(op?.steps)]).toEqual(LIVE_MOVE);

      // Exactly one domain, running, on the host the database names; nothing of it on the other.
      const where = forward ? to : from;
      const other = where === 'host-a' ? 'host-b' : 'host-a';
      const domain = `storm-${guest.id}`;
      expect(await two.manager.api.get<Instance>('/instances/live1')).toMatchObject({
        host: { name: where },
        state: 'running',
        ip: guest.ip,
      });
      expect(await domainsOn(where)).toEqual([domain]);
      expect(await domainsOn(other)).toEqual([]);
      expect(await two.hosts[where].virsh('domstate', domain)).toBe('running');
      expect(await filesUnder(other)).toEqual([]);
      expect((await filesUnder(where)).filter((f) => f.includes('.incoming-'))).toEqual([]);
      expect(await filesUnder(where)).toContain(join(guest.id, 'writable'));

      // The same guest goes on ticking: no reboot, no second copy that started over.
      let seen: { n: number; bootId: string }[] = [];
      const ticking = await waitFor(
        async () => {
          seen = await ticks(guest.id);
          return seen.some((t) => t.n > lastTick);
        },
        { timeoutMs: 30_000, intervalMs: 1000 },
      );
      expect(ticking, JSON.stringify(seen.slice(-3))).toBe(true);
      expect(seen.every((t) => t.bootId === bootId)).toBe(true);
      console.log(`live move killed after ${step}: ${Math.round((Date.now() - t0) / 100) / 10} s`);
    }, 240_000);
  }
});
