/**
 * A cold move between two real hosts (issue 16's first acceptance line): a manager with an appliance
 * network and its DNS on loopback, two stormd each on a libvirtd of its own (`harness/two-hosts.ts`),
 * real qemu under TCG, the sample channel's hello-web. One guest, booted on host-a, writes a file
 * from its serial shell; stopped, moved with `storm move --to host-b`, it is defined on host-b only
 * (`virsh list --all` on each libvirtd), the source's instance folder is gone, `dig` at the manager's
 * DNS answers the same address, and started on host-b it boots and the file is there.
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTwoHosts, type TwoHosts } from '../harness/two-hosts.js';
import { publishSampleChannelForTest, type PublishedChannel } from '../helpers/channel-fixture.js';
import { GuestShells } from '../helpers/guest-shell.js';
import { destroyAllInstances, GUEST_FAILED } from '../helpers/instances.js';
import { stormCli } from '../helpers/storm-cli.js';
import { freePort } from '../helpers/stormd-process.js';

const run = promisify(execFile);
const SECRET = `moved-${randomBytes(6).toString('hex')}`;
const BOOT = 'STORM-INIT: root ready';
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
    prefix: 'storm-e2e-move-',
    managerArgs: [
      '--channel-allow',
      '127.0.0.0/8',
      '--heartbeat',
      '2',
      '--network',
      '10.79.0.0/24',
      '--dns-listen',
      `127.0.0.1:${dnsPort}`,
    ],
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

const folders = async (host: 'host-a' | 'host-b') =>
  (await readdir(join(two.dir.path, host, 'instances')).catch(() => [] as string[])).filter((f) => !f.startsWith('.'));

describe('a cold move between two hosts', () => {
  it('moves a stopped layered instance: defined on the target only, the source folder gone, the same address, the file kept', async () => {
    const web = await two.manager.api.post<Instance>('/instances', {
      appliance: 'hello-web',
      version: '1.0.0',
      name: 'mv1',
      host: 'host-a',
    });
    expect(web.host?.name).toBe('host-a');
    await booted(web.id);
    const w = await shells.run(web.name, `echo ${SECRET} > /etc/moved.txt && sync`);
    expect(w.status, w.out).toBe(0);
    shells.close();
    expect(await two.manager.api.post<Instance>(`/instances/${web.id}/actions`, { action: 'stop' })).toMatchObject({ state: 'stopped' });
    const address = await dig('mv1.storm.internal');
    expect(address).toBe(web.ip);

    const started = Date.now();
    const moved = await stormCli(two.manager.url, two.managerDir).run(['move', 'mv1', '--to', 'host-b']);
    console.log(`storm move: ${Date.now() - started} ms`);
    expect(moved.code, moved.output).toBe(0);
    expect(moved.output).toMatch(/mv1: moved from host-a to host-b/);

    const domain = `storm-${web.id}`;
    expect(await two.hosts['host-a'].virsh('list', '--all', '--name')).not.toContain(domain);
    expect(await two.hosts['host-b'].virsh('domstate', domain)).toBe('shut off');
    expect(await folders('host-a')).toEqual([]);
    expect(await folders('host-b')).toEqual([web.id]);
    expect(await two.manager.api.get<Instance>(`/instances/${web.id}`)).toMatchObject({
      host: { name: 'host-b' },
      ip: web.ip,
      state: 'stopped',
    });
    expect(await dig('mv1.storm.internal')).toBe(address);

    expect(await two.manager.api.post<Instance>(`/instances/${web.id}/actions`, { action: 'start' })).toMatchObject({ state: 'running' });
    expect(await two.hosts['host-b'].virsh('domstate', domain)).toBe('running');
    await booted(web.id);
    const r = await shells.run(web.name, 'cat /etc/moved.txt');
    expect(r.status, r.out).toBe(0);
    expect(r.out).toContain(SECRET);
  }, 600_000);
});
