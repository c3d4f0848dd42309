/**
 * Live migration between two hosts at the stormd level, on real libvirtds and QEMU (TCG): a
 * layered guest whose console prints `TICK <n> <boot id>` every second moves from host-a to
 * host-b by the wire contract the manager follows (`GET /writable-layers` and `POST /migrate` on
 * the source, `PUT /incoming` on the target). Afterwards the counter goes on on host-b under the
 * same boot id (no reboot), the domain runs and is defined (with host-b's own paths) on host-b
 * only, its writable layer there holds what the guest wrote on host-a (the boot stamp), and
 * host-a has no domain and no instance files. Before that, a migration to a target whose files
 * are gone fails and leaves the guest running on host-a. Needs `npm run build:appliances`.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { IncomingInstanceResponse, InstanceStatus, WritableLayers } from '../../stormd/protocol.js';
import { waitFor } from '../../stormd/src/clock.js';
import { type HostPair, startHostPair, type Tick } from '../helpers/live-move-hosts.js';

const run = promisify(execFile);
let pair: HostPair;

const virsh = async (uri: string, ...args: string[]) => (await run('virsh', ['-q', '-c', uri, ...args])).stdout;
const stormDomains = async (uri: string) =>
  (await virsh(uri, 'list', '--all', '--name'))
    .split('\n')
    .map((s) => s.trim())
    .filter((s) => s.startsWith('storm-'));

beforeAll(async () => {
  pair = await startHostPair();
}, 180_000);

afterAll(async () => {
  await pair?.close();
}, 120_000);

describe('live migration between two stormd hosts', () => {
  it('moves a running guest without a reboot and leaves nothing behind on the source', async () => {
    const { a, b } = pair;
    const guest = await pair.bootCounter(a);
    const bootId = (await pair.ticks(a, guest.id)).at(-1)!.bootId;

    // A target not readied (its folder removed after /incoming answered): libvirt fails, the guest runs on on a, untouched.
    const { layers } = (await pair.call(a, 'GET', `/v1/instances/${guest.id}/writable-layers`)).body as WritableLayers;
    const current = layers.find((l) => l.current)!;
    const incoming = await pair.call(b, 'PUT', `/v1/instances/${guest.id}/incoming`, {
      domain: guest.define,
      writable: { id: current.id, virtualBytes: current.virtualBytes },
    });
    expect(incoming.status).toBe(200);
    expect((await pair.call(b, 'DELETE', `/v1/instances/${guest.id}`)).status).toBe(204);
    const refused = await pair.call(
      a,
      'POST',
      `/v1/instances/${guest.id}/migrate`,
      pair.migrateRequest(b, (incoming.body as IncomingInstanceResponse).domainXml),
    );
    expect(refused.status).toBeGreaterThanOrEqual(500);
    expect(((await pair.call(a, 'GET', `/v1/instances/${guest.id}`)).body as InstanceStatus).state).toBe('running');
    expect(await stormDomains(b.libvirtd.uri)).toEqual([]);
    const stillTicking = (await pair.ticks(a, guest.id)).length;
    expect(
      await waitFor(async () => (await pair.ticks(a, guest.id)).length > stillTicking + 1, { timeoutMs: 30_000, intervalMs: 500 }),
    ).toBe(true);

    const before = await pair.ticks(a, guest.id);
    expect(before[0]?.n).toBe(1);
    expect(before.every((t) => t.bootId === bootId)).toBe(true);
    const moved = await pair.liveMove(guest, a, b);
    process.stderr.write(`live move: ${JSON.stringify(moved)}\n`);
    expect(moved.copiedDisks).toEqual(['vdb']); // the writable layer only: vda, tiny-os, is in b's store
    expect(moved.downtimeMs).not.toBeNull();
    expect(moved.downtimeMs).toBeGreaterThan(0);

    // The counter goes on on b from where a left it, under the same boot id: the guest never rebooted.
    const lastOnA = before.at(-1)!.n;
    let after: Tick[] = [];
    expect(
      await waitFor(
        async () => {
          after = await pair.ticks(b, guest.id);
          return after.length >= 3;
        },
        { timeoutMs: 60_000, intervalMs: 1000 },
      ),
    ).toBe(true);
    expect(after.every((t) => t.bootId === bootId)).toBe(true);
    expect(after[0]!.n).toBeGreaterThan(lastOnA);
    expect(after.some((t) => t.n === 1)).toBe(false);
    for (let i = 1; i < after.length; i++) expect(after[i]!.n).toBe(after[i - 1]!.n + 1);

    // b runs it and keeps it defined, with its own files; a has neither domain nor folder.
    expect(((await pair.call(b, 'GET', `/v1/instances/${guest.id}`)).body as InstanceStatus).state).toBe('running');
    expect(await stormDomains(b.libvirtd.uri)).toEqual([`storm-${guest.id}`]);
    expect(await virsh(b.libvirtd.uri, 'dominfo', `storm-${guest.id}`)).toMatch(/Persistent:\s+yes/);
    const inactive = await virsh(b.libvirtd.uri, 'dumpxml', '--inactive', `storm-${guest.id}`);
    expect(inactive).toContain(join(b.data, 'instances', guest.id, 'writable', 'w0.qcow2'));
    expect(inactive).toContain(join(b.data, 'layers'));
    expect(inactive).not.toContain(a.data);
    expect(await virsh(b.libvirtd.uri, 'dumpxml', `storm-${guest.id}`)).not.toContain(a.data);
    expect(await stormDomains(a.libvirtd.uri)).toEqual([]);
    expect((await pair.call(a, 'GET', '/v1/instances')).body).toEqual([]);
    await expect(stat(join(a.data, 'instances', guest.id))).rejects.toThrow();

    // The moved guest is b's like any other: it stops and is removed there.
    expect((await pair.call(b, 'POST', `/v1/instances/${guest.id}/actions`, { action: 'destroy' })).body).toEqual({ state: 'shutoff' });
    // b's writable layer holds what the guest wrote on a before the move: the boot stamp (synced at boot).
    const raw = join(await mkdtemp(join(tmpdir(), 'storm-live-layer-')), 'w0.raw');
    try {
      await run('qemu-img', ['convert', '-f', 'qcow2', '-O', 'raw', join(b.data, 'instances', guest.id, 'writable', 'w0.qcow2'), raw]);
      const stamp = (await run('debugfs', ['-R', 'cat /upper/var/lib/storm/boot-stamp', raw])).stdout;
      expect(stamp).toBe(`count=1\nboot_id=${bootId}\n`);
    } finally {
      await rm(join(raw, '..'), { recursive: true, force: true });
    }
    expect((await pair.call(b, 'DELETE', `/v1/instances/${guest.id}`)).status).toBe(204);
    expect(await stormDomains(b.libvirtd.uri)).toEqual([]);
  }, 480_000);
});
