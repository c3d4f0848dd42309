/**
 * End to end on qemu:///system: the sample channel, a manager process, a stormd enrolled with
 * `stormd join`; launch hello-web through the REST API; its console shows the union root ready and
 * the appliance's httpd starting; stop, start and destroy work, and destroy leaves no domain.
 */
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureLibvirtd, type LibvirtdHandle, makeVmDir, type VmDir } from '../harness/libvirtd.js';
import { publishSampleChannelForTest, type PublishedChannel } from '../helpers/channel-fixture.js';
import { destroyAllInstances, waitForConsole } from '../helpers/instances.js';
import { type ManagerProcess, startManager } from '../helpers/manager-process.js';
import { stopAllProcesses } from '../helpers/process.js';
import { startStormd } from '../helpers/stormd-process.js';

const run = promisify(execFile);
let libvirtd: LibvirtdHandle;
let dir: VmDir;
let channel: PublishedChannel;
let manager: ManagerProcess;

beforeAll(async () => {
  libvirtd = await ensureLibvirtd();
  dir = await makeVmDir('storm-e2e-launch-');
  channel = await publishSampleChannelForTest();
  manager = await startManager(join(dir.path, 'manager'), ['--channel-allow', '127.0.0.0/8', '--heartbeat', '2']);
  await startStormd(manager, { name: 'qemu-host', dir: dir.path, hypervisor: libvirtd.uri });
  await manager.api.post('/channels', { url: channel.feedUrl, publicKey: channel.publicKey });
}, 180_000);
afterAll(async () => {
  // Whatever a failed test left: the host removes its instances before we stop it.
  await destroyAllInstances(manager?.api);
  await stopAllProcesses();
  await channel?.close();
  await dir?.remove();
  await libvirtd?.stop();
}, 120_000);

const consoleText = async (id: string) => (await manager.api.get<{ text: string }>(`/instances/${id}/console?bytes=262144`)).text;
const consoleUntil = (id: string, pattern: RegExp) => waitForConsole(manager.api, id, pattern, { timeoutMs: 150_000 });
const virshNames = async () =>
  (await run('virsh', ['-c', libvirtd.uri, 'list', '--all', '--name'])).stdout
    .split('\n')
    .map((s) => s.trim())
    .filter(Boolean);

describe('launch on qemu:///system', () => {
  let id: string;

  it('launches hello-web through the API and boots it', async () => {
    const inst = await manager.api.post<{ id: string; state: string; host: { name: string } }>('/instances', {
      appliance: 'hello-web',
      version: '1.0.0',
      name: 'hello1',
    });
    id = inst.id;
    expect(inst).toMatchObject({ state: 'running', host: { name: 'qemu-host' } });
    expect(await virshNames()).toContain(`storm-${id}`);
    const text = await consoleUntil(id, /hello-web: httpd started on :80/);
    expect(text).toMatch(/STORM-INIT: root ready layers=3/);
    expect(text).toMatch(/STORM-OS: layers present: hello-web tiny-os/);
    expect(text).toMatch(/STORM-OS: instance name=hello1/);
  }, 240_000);

  it('stops (the guest powers off on ACPI), starts again (a second boot), and destroys', async () => {
    const stopped = await manager.api.post<{ state: string }>(`/instances/${id}/actions`, { action: 'stop' });
    expect(stopped.state).toBe('stopped');
    expect(await consoleText(id)).toMatch(/STORM-OS: (power button|shutting down)/);
    const started = await manager.api.post<{ state: string }>(`/instances/${id}/actions`, { action: 'start' });
    expect(started.state).toBe('running');
    await consoleUntil(id, /boot-stamp count=2/);
    await manager.api.delete(`/instances/${id}`);
    expect(await virshNames()).not.toContain(`storm-${id}`);
    await expect(manager.api.get(`/instances/${id}`)).rejects.toMatchObject({ status: 404 });
  }, 300_000);
});
