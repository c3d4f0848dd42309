/**
 * What a compromised guest cannot do, with real VMs in a network namespace the test made (libvirtd,
 * bridge, manager and stormd of test/harness/storm-network.ts). `hostile-guest` (its apply hook in
 * test/fixtures/hostile-guest) holds a victim's token, takes the victim's address and then its MAC
 * too: libvirt's clean-traffic filter on its NIC drops every such frame, so storm.getConfig as the
 * victim gets nothing, and its broadcasts claiming the victim's address never reach the victim's
 * tap. From its own address, with its own identity, it is answered as always. Then it destroys its
 * own writable layer's superblocks from inside and powers off: `storm package` of it fails with an
 * error that says so, a healthy instance still packages, and stormd never asks the host kernel to
 * mount either (its `mount` and `losetup` go through a PATH that logs each call, then runs the tool).
 */
import { spawnSync } from 'node:child_process';
import { chmod, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readInstanceFile } from '../../stormd/src/instances/instance-layer.js';
import { startStormNetwork, type StormNetwork } from '../harness/storm-network.js';
import { publishHostileChannel } from '../helpers/hostile-channel.js';
import { destroyAllInstances, GUEST_FAILED, type LaunchedInstance as Instance, waitForConsole } from '../helpers/instances.js';
import { ROOT } from '../helpers/manager-process.js';
import { stormCli } from '../helpers/storm-cli.js';

const BUILD = resolve(import.meta.dirname, '../../appliances/build');
const HOSTILE_PORT = 8091;
let site: StormNetwork;
let toolLog: string;

/** A folder of `mount` and `losetup` that log their arguments to `log`, then run the real tool. */
async function loggingTools(dir: string, log: string): Promise<string> {
  await mkdir(dir, { recursive: true });
  for (const tool of ['mount', 'losetup']) {
    const real = spawnSync('sh', ['-c', `command -v ${tool}`], { encoding: 'utf8' }).stdout.trim();
    await writeFile(join(dir, tool), `#!/bin/sh\necho "${tool} $*" >>${log}\nexec ${real} "$@"\n`);
    await chmod(join(dir, tool), 0o755);
  }
  return dir;
}

beforeAll(async () => {
  const spyRoot = join('/tmp', `storm-tool-log-${process.pid}`);
  toolLog = join(spyRoot, 'calls.log');
  const tools = await loggingTools(join(spyRoot, 'bin'), toolLog);
  await writeFile(toolLog, '');
  site = await startStormNetwork({
    channelDir: join(BUILD, 'channel'),
    publicKey: await readFile(join(BUILD, 'publisher.pub'), 'utf8'),
    stormdEnv: { PATH: `${tools}:${process.env['PATH'] ?? ''}` },
  });
  await site.api.post('/channels', { url: site.feedUrl, publicKey: site.publicKey });
  const hostile = await publishHostileChannel(join(site.dir.path, 'hostile'), `http://127.0.0.1:${HOSTILE_PORT}/`);
  const server = site.net.start(site.ns, process.execPath, [
    join(ROOT, 'bin/storm-channel.js'),
    'serve',
    hostile.dir,
    '--host',
    '127.0.0.1',
    '--port',
    String(HOSTILE_PORT),
  ]);
  await server.waitFor(/listening|serving/i, 20_000);
  await site.api.post('/channels', { url: `http://127.0.0.1:${HOSTILE_PORT}/channel.xml`, publicKey: hostile.publicKey });
}, 180_000);
afterAll(async () => {
  await destroyAllInstances(site?.api);
  await site?.cleanup();
  if (toolLog) await rm(join(toolLog, '..'), { recursive: true, force: true });
}, 120_000);

const console_ = (id: string, pattern: RegExp) => waitForConsole(site.api, id, pattern, { failOn: GUEST_FAILED, timeoutMs: 240_000 });
/** What the hostile guest reported after `label: `. */
const reported = (text: string, label: string) => new RegExp(`STORM-HOSTILE: ${label}: (.*)`).exec(text)?.[1]?.trim();

/** Frames the bridge delivered to a domain's tap, read from the host side of its NIC. */
async function delivered(domain: string): Promise<number> {
  const list = await site.exec('virsh', ['-c', site.libvirtUri, 'domiflist', domain]);
  const tap = /^\s*(vnet\d+)\s/m.exec(list.output)?.[1];
  if (!tap) throw new Error(`no tap for ${domain}:\n${list.output}`);
  const r = await site.exec('cat', [`/sys/class/net/${tap}/statistics/tx_packets`]);
  return Number(r.output.trim());
}

describe('a hostile guest on the appliance network', () => {
  let victim: Instance;
  let hostile: Instance;

  it("taking another guest's address, then its MAC, gets nothing from XML-RPC as it, and its frames never reach it", async () => {
    victim = await site.api.post<Instance>('/instances', { appliance: 'hello-web', version: '1.0.0', name: 'victim' });
    await console_(victim.id, /STORM-AGENT: applied/);
    // The victim's token, as a guest that stole it would hold it (read while the victim is off).
    await site.api.post(`/instances/${victim.id}/actions`, { action: 'stop' });
    const token = (await readInstanceFile(join(site.stormdData, 'instances', victim.id, 'writable', 'w0.qcow2'), 'upper/etc/storm/token'))
      .toString()
      .trim();
    await site.api.post(`/instances/${victim.id}/actions`, { action: 'start' });
    await console_(victim.id, /STORM-AGENT: applied[\s\S]*STORM-AGENT: applied/);

    hostile = await site.api.post<Instance>('/instances', {
      appliance: 'hostile-guest',
      version: '1.0.0',
      name: 'hostile',
      // The damage comes after the spoofing, for the next test.
      params: { attacks: 'spoof damage', victimIp: victim.ip, victimMac: victim.mac, victimToken: token },
    });
    await console_(hostile.id, /STORM-HOSTILE: spoofing in 8 s/);
    const before = await delivered(`storm-${victim.id}`);
    const text = await console_(hostile.id, /STORM-HOSTILE: spoofing done/);
    const after = await delivered(`storm-${victim.id}`);

    // Its own identity still works, and the stolen token alone is refused from its own address.
    expect(reported(text, 'own address')).toBe('answered as hostile');
    expect(reported(text, "own address, victim's token")).toMatch(/^answered with a fault: .*another address/);
    // As the victim: not even a TCP handshake.
    expect.soft(reported(text, "victim's address"), "as the victim, from the victim's address").toBe('nothing');
    expect.soft(reported(text, "victim's address and MAC"), "as the victim, from the victim's address and MAC").toBe('nothing');
    // 200 broadcast ARP frames claiming the victim's address were sent; the victim got none of them.
    expect(after - before, "frames delivered to the victim's tap while the hostile guest spoofed").toBeLessThan(40);
  }, 900_000);

  it('storm package of a guest that destroyed its own filesystem fails saying so; the host kernel mounts neither it nor a healthy one', async () => {
    await console_(hostile.id, /STORM-HOSTILE: damaged \/dev\/vd[a-z], powering off/);
    for (const until = Date.now() + 60_000; (await site.api.get<Instance>(`/instances/${hostile.id}`)).state !== 'stopped'; ) {
      if (Date.now() > until) throw new Error('the hostile guest never showed as stopped');
      await new Promise((r) => setTimeout(r, 250));
    }
    const storm = stormCli(site.apiUrl, join(site.dir.path, 'manager'));
    const healthy = await storm.run(['package', 'victim', 'victim-site@1.0.0'], { timeoutMs: 600_000 });
    expect(healthy.code, healthy.output).toBe(0);
    const damaged = await storm.run(['package', 'hostile', 'hostile-site@1.0.0'], { timeoutMs: 600_000 });
    expect(damaged.code).not.toBe(0);
    expect
      .soft(damaged.stderr)
      .toMatch(
        /STORMD_ERR_LAYER_DAMAGED: writable layer damaged: writable layer w0: its ext4 filesystem cannot be read or repaired \(e2fsck exit 8: .*\); the guest damaged it\. Roll the instance back to a checkpoint, or destroy it/,
      );
    // Whatever stormd ran: never an ext4 mount, never a loop device.
    const calls = (await readFile(toolLog, 'utf8')).split('\n').filter(Boolean);
    expect(
      calls.filter((c) => c.startsWith('mount') || /^losetup .*(--find|--show|-f )/.test(c)),
      'mount and losetup calls of stormd',
    ).toEqual([]);
  }, 900_000);
});
