/**
 * Issue 7 end to end on qemu:///system, in a STORM site (network namespace with its own libvirtd):
 * the guest's own writes (tiny-os's boot stamp, hello-web's data file) through checkpoint, rollback
 * and the rollback of that rollback; an upgrade of hello-web 1.0.0 → 1.1.0 that serves the new page
 * and keeps the instance's files; a failed upgrade (a layer that fails its checksum) that leaves the
 * instance running on its old stack; a package launched as a new instance that carries the file;
 * and the host's disk growing only by the new writable layers.
 */
import { execFile } from 'node:child_process';
import { cp, readFile, readdir, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startStormNetwork, type StormNetwork } from '../harness/storm-network.js';
import { destroyAllInstances } from '../helpers/instances.js';

const run = promisify(execFile);
const BUILD = resolve(import.meta.dirname, '../../appliances/build');
let site: StormNetwork;
let channelDir: string;

interface Instance {
  id: string;
  name: string;
  state: string;
  version: string;
  appliance: string;
  layers: { kind: string; id?: string; writable: boolean }[];
}
interface Operated extends Instance {
  operation: { checkpoint: string | null; restarted: boolean; package?: { name: string; version: string } };
}

beforeAll(async () => {
  // A copy of the sample channel: one test corrupts a layer in it.
  const { dir } = await import('../harness/libvirtd.js').then((m) =>
    m.makeVmDir('storm-lifecycle-channel-').then((d) => ({ dir: d.path })),
  );
  channelDir = join(dir, 'channel');
  await cp(join(BUILD, 'channel'), channelDir, { recursive: true });
  site = await startStormNetwork({ channelDir, publicKey: await readFile(join(BUILD, 'publisher.pub'), 'utf8') });
  await site.api.post('/channels', { url: site.feedUrl, publicKey: site.publicKey });
}, 180_000);
afterAll(async () => {
  await destroyAllInstances(site?.api);
  await site?.cleanup();
  if (channelDir) await run('rm', ['-rf', join(channelDir, '..')]);
}, 120_000);

const BOOT = 'STORM-INIT: root ready';
const consoleText = async (id: string) => (await site.api.get<{ text: string }>(`/instances/${id}/console?bytes=1048576`)).text;

/** How many boots the console log holds so far (it keeps every boot). */
const boots = async (id: string) => (await consoleText(id)).split(BOOT).length - 1;

/** The console of boot number `n + 1` (counting from 1), once `pattern` shows in it. */
async function consoleAfter(id: string, n: number, pattern: RegExp, timeoutMs = 180_000): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const parts = (await consoleText(id)).split(BOOT);
    const text = parts.length > n + 1 ? parts.slice(n + 1).join(BOOT) : '';
    if (pattern.test(text)) return text;
    if (Date.now() > deadline) throw new Error(`boot ${n + 1}'s console never showed ${pattern}:\n${parts.at(-1)?.slice(-3000)}`);
    // A boot's lines come a few at a time: a quarter second between reads finds them soon after.
    await new Promise((r) => setTimeout(r, 250));
  }
}
const lastStamp = (text: string) => Number([...text.matchAll(/boot-stamp count=(\d+)/g)].at(-1)?.[1]);
const act = (id: string, body: object) => site.api.post<Operated>(`/instances/${id}/actions`, body);
const du = async (path: string) => Number((await run('du', ['-sB1', path])).stdout.split('\t')[0]);

describe('lifecycle over the layer stack', () => {
  let web: Instance;
  let checkpointBefore: string;

  it('checkpoint, change, rollback, and the rollback rolled back', async () => {
    web = await site.api.post<Instance>('/instances', { appliance: 'hello-web', version: '1.0.0', name: 'web1' });
    const first = await consoleAfter(web.id, 0, /STORM-AGENT: applied/);
    expect(lastStamp(first)).toBe(1);
    expect(first).toContain('hello-web: data created-by=web1');

    // Checkpoint: the writable layer (boot stamp 1) frozen; the instance restarts on a new one.
    let at = await boots(web.id);
    const cp = await act(web.id, { action: 'checkpoint', label: 'first boot' });
    checkpointBefore = cp.operation.checkpoint!;
    expect(cp.operation.restarted).toBe(true);
    expect(cp.layers.filter((l) => l.kind === 'frozen')).toHaveLength(1);
    // The boot after it changes the file: count 2, written into the new writable layer.
    expect(lastStamp(await consoleAfter(web.id, at, /STORM-OS: ready/))).toBe(2);

    // Rollback: the checkpoint's stack (count 1) under a new writable layer: this boot counts 1 → 2 again.
    at = await boots(web.id);
    const rb = await act(web.id, { action: 'rollback', checkpoint: checkpointBefore });
    const rolledBackFrom = rb.operation.checkpoint!;
    expect(lastStamp(await consoleAfter(web.id, at, /STORM-OS: ready/))).toBe(2);

    // Roll the rollback back: the state it left (count 2) returns; this boot counts 2 → 3.
    at = await boots(web.id);
    await act(web.id, { action: 'rollback', checkpoint: rolledBackFrom });
    expect(lastStamp(await consoleAfter(web.id, at, /STORM-OS: ready/))).toBe(3);

    const { checkpoints } = await site.api.get<{ checkpoints: { id: string; reason: string }[] }>(`/instances/${web.id}/checkpoints`);
    expect(checkpoints.map((c) => c.reason)).toEqual(['first boot', `before rollback to #1`, `before rollback to #2`]);
  }, 600_000);

  it('a failed upgrade (a layer fails its checksum) leaves the instance running on its old stack', async () => {
    const target = await site.api.get<{ layers: { kind: string; sha256: string; cached: boolean }[] }>('/appliances/hello-web/1.1.0');
    const layer = target.layers.find((l) => l.kind === 'appliance' && !l.cached)!;
    const file = join(channelDir, 'layers', `${layer.sha256}.squashfs`);
    const good = await readFile(file);
    const bad = Buffer.from(good);
    bad[100] = bad[100]! ^ 0xff;
    await writeFile(file, bad);
    const before = await site.api.get<Instance>(`/instances/${web.id}`);
    const checkpoints = (await site.api.get<{ checkpoints: unknown[] }>(`/instances/${web.id}/checkpoints`)).checkpoints.length;
    await expect(act(web.id, { action: 'upgrade', version: '1.1.0' })).rejects.toMatchObject({ code: 'MGR_ERR_LAYER_CHECKSUM' });
    const after = await site.api.get<Instance>(`/instances/${web.id}`);
    expect(after).toMatchObject({ state: 'running', version: '1.0.0' });
    expect(after.layers).toEqual(before.layers);
    expect((await site.api.get<{ checkpoints: unknown[] }>(`/instances/${web.id}/checkpoints`)).checkpoints).toHaveLength(checkpoints);
    await writeFile(file, good);
  }, 120_000);

  it('upgrades hello-web 1.0.0 → 1.1.0: the new page is served, the instance keeps its files, the host grows only by the new layers', async () => {
    const instanceDir = join(site.stormdData, 'instances', web.id);
    const storeBefore = new Set(await readdir(join(site.stormdData, 'layers')));
    const diskBefore = await du(instanceDir);
    const writableBefore = new Set(await readdir(join(instanceDir, 'writable')));
    const at = await boots(web.id);
    const up = await act(web.id, { action: 'upgrade', version: '1.1.0' });
    expect(up).toMatchObject({ version: '1.1.0', state: 'running', operation: { restarted: true } });
    const text = await consoleAfter(web.id, at, /STORM-AGENT: applied/);
    expect(text).toContain('hello-web: data created-by=web1');
    expect(lastStamp(text)).toBe(4);
    const page = await site.exec('curl', ['-sS', '--max-time', '10', 'http://web1.storm.internal/']);
    expect(page.output).toContain('Hello from hello-web 1.1.0');

    // Disk: the store gained only the new version's own layer; the instance folder only its new writable layer.
    const storeAdded = (await readdir(join(site.stormdData, 'layers'))).filter((f) => !storeBefore.has(f));
    const target = await site.api.get<{ layers: { sha256: string }[] }>('/appliances/hello-web/1.1.0');
    expect(storeAdded.every((f) => target.layers.some((l) => l.sha256 === f))).toBe(true);
    const newWritable = (await readdir(join(instanceDir, 'writable'))).filter((f) => !writableBefore.has(f) && f.endsWith('.qcow2'));
    expect(newWritable).toHaveLength(1);
    const grew = (await du(instanceDir)) - diskBefore;
    const newLayerBytes = await du(join(instanceDir, 'writable', newWritable[0]!));
    // Growth is the new layer plus what this boot wrote into the console log and the layers: a few MiB at most.
    expect(grew).toBeLessThanOrEqual(newLayerBytes + 4 * 1024 * 1024);
  }, 300_000);

  it('packages the instance and launches a new instance from the package, with the file', async () => {
    const pkg = await act(web.id, { action: 'package', name: 'hello-site', version: '1.0.0' });
    expect(pkg.operation.package).toMatchObject({ name: 'hello-site', version: '1.0.0' });
    const listed = (await site.api.get<{ appliances: { name: string; version: string; channelId: string }[] }>('/appliances')).appliances;
    expect(listed).toContainEqual(expect.objectContaining({ name: 'hello-site', version: '1.0.0', channelId: 'ch-local' }));
    const copy = await site.api.post<Instance>('/instances', { appliance: 'hello-site', name: 'web2' });
    expect(copy.layers.map((l) => l.kind)).toEqual(['os', 'appliance', 'deployment', 'instance']);
    const text = await consoleAfter(copy.id, 0, /STORM-AGENT: applied/);
    // The file web1's appliance wrote came with the package; the identity did not (web2 boots as itself, count 1).
    expect(text).toContain('hello-web: data created-by=web1');
    expect(text).toContain('STORM-OS: instance name=web2');
    expect(lastStamp(text)).toBe(1);
    const page = await site.exec('curl', ['-sS', '--max-time', '10', 'http://web2.storm.internal/']);
    expect(page.output).toContain('Hello from hello-web 1.1.0');
  }, 300_000);
});
