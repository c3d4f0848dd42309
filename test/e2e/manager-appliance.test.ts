/**
 * The manager as an appliance (issue 18), end to end inside a network namespace
 * (test/harness/storm-network.ts): an outer STORM (the harness's manager and stormd on a private
 * libvirtd) launches `storm-manager` from the test's channel (test/helpers/manager-versions-channel.ts:
 * the recipe's build, a 1.1.0 bump of it and hello-web, served on the bridge's address). It boots on
 * debian-jeos under qemu:///system with Debian's Node; at first boot it initialises its data folder,
 * takes the address the outer STORM's DHCP gave it and serves there: its health endpoint answers from
 * the namespace (with its own CA, not the outer one's), its DNS answers for its zone, and its serial
 * console, through the outer manager's attach WebSocket, takes a root login with the adminPassword
 * launch parameter. Then it is a manager: it subscribes to the channel, a stormd in a second namespace
 * (its own libvirtd, a veth into the outer appliance network) enrols with it and a hello-web launched
 * through its API runs there (without a NIC: the appliance's manager has no --bridge). Last the
 * lifecycle (issue 18, fourth acceptance line): the outer STORM upgrades the appliance to 1.1.0, and
 * the subscription and the instance are still there under the new manager version; rolled back to the
 * checkpoint taken before the upgrade, it is the old version with the data it had then.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { spawnSync } from 'node:child_process';
import { makeVmDir, type VmDir } from '../harness/libvirtd.js';
import { type PrivateLibvirtd, startPrivateLibvirtd } from '../harness/private-libvirtd.js';
import type { Started } from '../harness/netns.js';
import { SITE, startStormNetwork, type StormNetwork } from '../harness/storm-network.js';
import { destroyAllInstances, GUEST_FAILED, type LaunchedInstance, waitForConsole } from '../helpers/instances.js';
import { buildManagerAppliance } from '../helpers/debian-appliances.js';
import { buildManagerVersionsChannel, type ManagerVersionsChannel } from '../helpers/manager-versions-channel.js';

const ROOT = resolve(import.meta.dirname, '../..');
const BUILD = join(ROOT, 'appliances/build');
const PASSWORD = 'manager appliance e2e';
const NAME = 'mgr1';
/** The test's channel, served on the bridge's address: the outer manager and the guests reach it. */
const CHANNEL_URL = `http://${SITE.managerAddress}:8091/`;
let site: StormNetwork;
let mgr: LaunchedInstance;
let work: string;
let channel: ManagerVersionsChannel;
let rootVersion: string;
/** The inner manager's admin token, read on its serial console. */
let innerToken: string;
/** The second host: its own namespace and libvirtd, wired to the outer appliance network. */
let lv: PrivateLibvirtd | undefined;
let hostDir: VmDir | undefined;
let innerStormd: Started | undefined;
const INNER_HOST_ADDRESS = '10.77.0.250';
/** Seconds since the file started, on stderr, per phase: where the file's minutes go (its runtime is watched). */
const T0 = Date.now();
const phase = (what: string) => process.stderr.write(`[manager-appliance +${((Date.now() - T0) / 1000).toFixed(0)}s] ${what}\n`);

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'storm-mgrapp-'));
  rootVersion = (JSON.parse(await readFile(join(ROOT, 'package.json'), 'utf8')) as { version: string }).version;
  // The build (cached after the first time: its layers and channel manifest; the test publishes them itself)
  // and the outer STORM, which needs none of it, side by side: the build mostly waits on apt and squashfs.
  phase('building storm-manager beside the outer STORM');
  const built = (async () => {
    await buildManagerAppliance();
    phase('built; building the versions channel');
    channel = await buildManagerVersionsChannel({ build: BUILD, work, baseUrl: CHANNEL_URL });
    phase('channel built');
  })();
  const started = (async () => {
    site = await startStormNetwork({ channelDir: join(BUILD, 'channel'), publicKey: await readFile(join(BUILD, 'publisher.pub'), 'utf8') });
    phase('outer STORM up');
  })();
  // Both settled before either failure is thrown, so afterAll cleans up a site that did start.
  const [b, s] = await Promise.allSettled([built, started]);
  for (const r of [b, s]) if (r.status === 'rejected') throw r.reason;
  const server = site.net.start(site.ns, process.execPath, [
    join(ROOT, 'bin/storm-channel.js'),
    'serve',
    channel.channelDir,
    '--host',
    SITE.managerAddress,
    '--port',
    '8091',
  ]);
  await server.waitFor(/listening|serving/i, 20_000);
  await site.api.post('/channels', { url: `${CHANNEL_URL}channel.xml`, publicKey: channel.publicKey });
  phase('outer STORM up, subscribed');
}, 30 * 60_000);

afterAll(async () => {
  await innerStormd?.stop();
  await lv?.close();
  await hostDir?.remove();
  await destroyAllInstances(site?.api);
  await site?.cleanup();
  if (work) await rm(work, { recursive: true, force: true });
}, 120_000);

/** Output of the instance's serial console through the outer manager's attach route, and a way to type. */
async function attachConsole(): Promise<{
  until(pattern: RegExp, timeoutMs?: number): Promise<string>;
  type(text: string): void;
  close(): void;
}> {
  const token = (await readFile(join(site.managerData, 'admin.token'), 'utf8')).trim();
  const url = `${site.apiUrl.replace(/^https/, 'wss')}/api/v1/instances/${NAME}/console/attach`;
  const ws = new WebSocket(url, ['storm.serial.v1'], { headers: { authorization: `Bearer ${token}` }, ca: site.caPem });
  await new Promise<void>((ok, fail) => {
    ws.once('open', () => ok());
    ws.once('error', fail);
  });
  let out = '';
  ws.on('message', (data: Buffer, binary: boolean) => {
    if (binary) out += data.toString('utf8');
  });
  return {
    async until(pattern, timeoutMs = 60_000) {
      const deadline = Date.now() + timeoutMs;
      while (!pattern.test(out)) {
        if (Date.now() > deadline) throw new Error(`console never showed ${pattern}: ${JSON.stringify(out.slice(-1500))}`);
        await new Promise((r) => setTimeout(r, 100));
      }
      const text = out;
      out = '';
      return text;
    },
    type: (text) => ws.send(Buffer.from(text), { binary: true }),
    close: () => ws.close(),
  };
}

/** Logs in as root on the serial console, runs `command` and answers what it printed. */
async function runOnConsole(command: string): Promise<string> {
  const con = await attachConsole();
  try {
    con.type('\r');
    await con.until(/login: $/m, 60_000);
    con.type('root\r');
    await con.until(/Password: ?$/m, 30_000);
    con.type(`${PASSWORD}\r`);
    await con.until(/# ?$/m, 60_000);
    // Markers the shell computes, so the echoed command line never matches them.
    con.type(`echo BEGIN-$((1+1)); ${command}; echo END-$((2+2))\r`);
    const text = await con.until(/END-4\r?\n/, 60_000);
    con.type('exit\r');
    await con.until(/login: $/m, 30_000);
    return text.slice(text.indexOf('BEGIN-2') + 'BEGIN-2'.length, text.lastIndexOf('END-4')).trim();
  } finally {
    con.close();
  }
}

/** The inner manager's API, from the namespace (curl -k: its CA is inside the guest; the first case checks the issuer). */
async function inner<T>(token: string, method: string, path: string, body?: unknown, timeoutS = 60): Promise<{ status: number; body: T }> {
  const args = ['-sSk', '--max-time', String(timeoutS), '-X', method, '-H', `authorization: Bearer ${token}`, '-w', '\n%{http_code}'];
  if (body !== undefined) args.push('-H', 'content-type: application/json', '--data', JSON.stringify(body));
  const r = await site.exec('curl', [...args, `https://${mgr.ip}:8443/api/v1${path}`], (timeoutS + 10) * 1000);
  if (r.code !== 0) throw new Error(`${method} ${path} on the inner manager: curl exit ${r.code}: ${r.output}`);
  const cut = r.output.lastIndexOf('\n');
  const text = r.output.slice(0, cut);
  return { status: Number(r.output.slice(cut + 1)), body: (text ? JSON.parse(text) : undefined) as T };
}

/** The inner manager's admin token, read once as root on its serial console. */
async function innerAdminToken(): Promise<string> {
  innerToken ??= (await runOnConsole('cat /var/lib/storm-manager/admin.token')).trim();
  expect(innerToken).toMatch(/^\S{20,}$/);
  return innerToken;
}

async function until(what: string, timeoutMs: number, check: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((res) => setTimeout(res, 2000));
  }
}

/** Waits until the inner manager answers its health with `version` (after a restart of the appliance). */
async function waitForInnerVersion(version: string, timeoutMs = 900_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = '';
  for (;;) {
    const r = await site.exec('curl', ['-sSk', '--max-time', '10', `https://${mgr.ip}:8443/api/v1/health`]);
    last = r.output;
    if (r.code === 0 && (JSON.parse(r.output) as { version: string }).version === version) return;
    if (Date.now() > deadline) throw new Error(`the inner manager never answered version ${version}; last: ${last}`);
    await new Promise((res) => setTimeout(res, 2000));
  }
}

describe('the storm-manager appliance', () => {
  it('boots from the sample channel, initialises itself and serves its API on its address', async () => {
    mgr = await site.api.post<LaunchedInstance>('/instances', {
      appliance: 'storm-manager',
      version: '1.0.0',
      name: NAME,
      params: { adminPassword: PASSWORD, domain: 'inner.test' },
    });
    phase('launched mgr1; waiting for storm-manager: serving');
    const text = await waitForConsole(site.api, mgr.id, /storm-manager: (serving|exited)/, { timeoutMs: 900_000, failOn: GUEST_FAILED });
    phase('serving');
    process.stderr.write(
      `${text
        .split('\n')
        .filter((l) => /storm-manager:|STORM-|Run \/init|login:/.test(l))
        .join('\n')}\n`,
    );
    expect(text).toContain('STORM-OS: layers present: debian-jeos storm-manager');
    expect(text).toContain('storm-manager: first boot, initialising /var/lib/storm-manager');
    expect(text).toContain(`storm-manager: serving https://${mgr.ip}:8443/`);

    // From the namespace; the certificate is the inner manager's own (curl -k: its CA is inside the guest).
    const health = await site.exec('curl', ['-sSk', '--max-time', '20', `https://${mgr.ip}:8443/api/v1/health`]);
    expect(JSON.parse(health.output)).toMatchObject({ status: 'ok', hypervisor: null });
    const issuer = await site.exec('sh', [
      '-c',
      `curl -sSkv --max-time 20 -o /dev/null https://${mgr.ip}:8443/api/v1/health 2>&1 | grep -i 'issuer:'`,
    ]);
    const outerCa = await site.exec('sh', ['-c', `openssl x509 -noout -subject -in ${join(site.managerData, 'pki', 'ca.pem')}`]);
    expect(issuer.output).toMatch(/issuer:/i);
    expect(issuer.output.replace(/\s+/g, '')).not.toContain(outerCa.output.replace(/^subject=/, '').replace(/\s+/g, ''));
  }, 1_000_000);

  it('answers DNS for its own zone on its address', async () => {
    const soa = await site.exec('dig', ['+short', '+time=5', '+tries=2', `@${mgr.ip}`, 'SOA', 'inner.test']);
    expect(soa.output.trim()).toMatch(/inner\.test\./);
    // The outer manager serves its own zone, where the appliance has its name, and not the inner one's.
    const outer = await site.exec('dig', ['+short', `@${SITE.managerAddress}`, `${NAME}.${SITE.domain}`]);
    expect(outer.output.trim()).toBe(mgr.ip);
  }, 60_000);

  it('takes a root login on its serial console with the adminPassword parameter', async () => {
    const con = await attachConsole();
    try {
      con.type('\r');
      await con.until(/login: $/m, 60_000);
      con.type('root\r');
      await con.until(/Password: ?$/m, 30_000);
      con.type(`${PASSWORD}\r`);
      await con.until(/# ?$/m, 60_000);
      con.type('echo logged-in-as-$(id -un)-on-$(hostname)-$((6*7)); cat /run/storm-manager.pid\r');
      // The answer, not the echoed command line (which has no "root"), then the manager's pid.
      await con.until(/logged-in-as-root-on-mgr1-42\r?\n\d+\r?\n/, 30_000);
      con.type('exit\r');
      await con.until(/login: $/m, 30_000);
      // A wrong password is refused.
      con.type('root\r');
      await con.until(/Password: ?$/m, 30_000);
      con.type('not the password\r');
      await con.until(/Login incorrect/, 30_000);
    } finally {
      con.close();
    }
  }, 300_000);

  it('enrols a stormd from another namespace, and launches hello-web on it through its API', async () => {
    const token = await innerAdminToken();
    const feed = `${CHANNEL_URL}channel.xml`;
    const sub = await inner<{ id: string }>(token, 'POST', '/channels', { url: feed, publicKey: channel.publicKey });
    expect(sub.status).toBe(201);
    const apps = await inner<{ appliances: { name: string }[] }>(token, 'GET', '/appliances');
    expect(apps.body.appliances.map((a) => a.name)).toContain('hello-web');

    // The second host: its own namespace and libvirtd, on the outer appliance network by a veth into its bridge.
    phase('subscribed inner; starting the second host');
    lv = await startPrivateLibvirtd();
    hostDir = await makeVmDir('storm-inner-host-');
    const tag = (process.pid % 10_000).toString(36);
    for (const args of [
      ['link', 'add', `mia${tag}`, 'type', 'veth', 'peer', 'name', `mib${tag}`],
      ['link', 'set', `mia${tag}`, 'netns', site.ns],
      ['link', 'set', `mib${tag}`, 'netns', lv.ns],
    ]) {
      const r = spawnSync('ip', args, { encoding: 'utf8' });
      if (r.status !== 0) throw new Error(`ip ${args.join(' ')}: ${r.stderr}`);
    }
    expect((await site.exec('ip', ['link', 'set', `mia${tag}`, 'master', site.net.bridge, 'up'])).code).toBe(0);
    const up = await site.net.exec(lv.ns, 'sh', [
      '-c',
      `ip link set lo up && ip addr add ${INNER_HOST_ADDRESS}/24 dev mib${tag} && ip link set mib${tag} up`,
    ]);
    expect(up.code, up.output).toBe(0);

    const { body: enrol } = await inner<{ token: string }>(token, 'POST', '/hosts/tokens', {});
    const data = join(hostDir.path, 'stormd');
    const joined = await site.net.exec(
      lv.ns,
      process.execPath,
      [
        join(ROOT, 'bin/stormd.js'),
        'join',
        `https://${mgr.ip}:8443`,
        '--token',
        enrol.token,
        '--data',
        data,
        '--name',
        'inner-host',
        '--url',
        `https://${INNER_HOST_ADDRESS}:9443`,
      ],
      { timeoutMs: 120_000 },
    );
    expect(joined.code, joined.output).toBe(0);
    innerStormd = site.net.start(lv.ns, process.execPath, [
      join(ROOT, 'bin/stormd.js'),
      '--data',
      data,
      '--listen',
      `${INNER_HOST_ADDRESS}:9443`,
      '--hypervisor',
      lv.uri,
      '--log-level',
      'warn',
    ]);
    await innerStormd.waitFor(/stormd: listening on/, 60_000);
    await until('inner-host ready in the inner manager', 180_000, async () => {
      const { body } = await inner<{ hosts: { name: string; status: string }[] }>(token, 'GET', '/hosts');
      return body.hosts.some((h) => h.name === 'inner-host' && h.status === 'ready');
    });

    phase('inner-host ready; launching web1');
    // The launch answers once the guest runs: pull, stage on the host, define, start (minutes under TCG and load).
    const launched = await inner<{ id: string; host: { name: string } | null }>(
      token,
      'POST',
      '/instances',
      {
        appliance: 'hello-web',
        version: '1.0.0',
        name: 'web1',
      },
      900,
    );
    expect(launched.status, JSON.stringify(launched.body)).toBe(201);
    expect(launched.body.host?.name).toBe('inner-host');
    // It runs on the second host's libvirtd, and boots its layers there.
    const domains = await site.net.exec(lv.ns, 'virsh', ['-c', lv.uri, 'list', '--name', '--state-running']);
    expect(domains.output).toContain(launched.body.id);
    phase('web1 launched');
    await until('web1 to boot its layers', 300_000, async () => {
      const { body } = await inner<{ text: string }>(token, 'GET', `/instances/${launched.body.id}/console`);
      return /STORM-OS: layers present: hello-web tiny-os/.test(body.text);
    });
    phase('web1 booted its layers');
    const { body: listed } = await inner<{ instances: { name: string; state: string }[] }>(token, 'GET', '/instances');
    expect(listed.instances).toMatchObject([{ name: 'web1', state: 'running' }]);
  }, 1_800_000);

  it('keeps its channels and instances through an upgrade, and a rollback returns the old version with its old data', async () => {
    const token = await innerAdminToken();
    const feed = `${CHANNEL_URL}channel.xml`;
    // The subscription the previous case made (made here when that case failed before it).
    const listed = (await inner<{ channels: { id: string; url: string }[] }>(token, 'GET', '/channels')).body.channels;
    const subId =
      listed.find((c) => c.url === feed)?.id ??
      (await inner<{ id: string }>(token, 'POST', '/channels', { url: feed, publicKey: channel.publicKey })).body.id;
    const instancesOf = async () =>
      (await inner<{ instances: { name: string }[] }>(token, 'GET', '/instances')).body.instances.map((i) => i.name);
    const instancesBefore = await instancesOf();
    const channelsOf = async () =>
      (await inner<{ channels: { url: string }[] }>(token, 'GET', '/channels')).body.channels.map((c) => c.url);

    phase('upgrading');
    await site.api.post(`/instances/${mgr.id}/actions`, { action: 'upgrade', version: '1.1.0' });
    phase('upgrade answered; waiting for the new version');
    expect((await site.api.get<{ version: string }>(`/instances/${mgr.id}`)).version).toBe('1.1.0');
    await waitForInnerVersion(channel.nextManagerVersion);
    phase('new version serving');
    // The same data folder: the same admin token, the subscription, the instances it launched.
    expect(await channelsOf()).toContain(feed);
    expect(await instancesOf()).toEqual(instancesBefore);
    // A change made by the new version, which the rollback must undo.
    expect((await inner(token, 'DELETE', `/channels/${subId}`)).status).toBe(204);
    expect(await channelsOf()).not.toContain(feed);

    const { checkpoints } = await site.api.get<{ checkpoints: { id: string; reason: string; version: string }[] }>(
      `/instances/${mgr.id}/checkpoints`,
    );
    const before = checkpoints.find((c) => c.reason === 'before upgrade to 1.1.0');
    expect(before?.version).toBe('1.0.0');
    phase('rolling back');
    await site.api.post(`/instances/${mgr.id}/actions`, { action: 'rollback', checkpoint: before?.id });
    phase('rollback answered; waiting for the old version');
    expect((await site.api.get<{ version: string }>(`/instances/${mgr.id}`)).version).toBe('1.0.0');
    await waitForInnerVersion(rootVersion);
    phase('old version serving');
    expect(await channelsOf()).toContain(feed);
    expect(await instancesOf()).toEqual(instancesBefore);
  }, 2_400_000);
});
