/**
 * The uplink end to end, all inside namespaces this test made: a STORM site (storm-network.ts) whose
 * manager runs with `--uplink nat`, and an "outside" namespace standing in for the world
 * (outside-world.ts) with an HTTP server behind the site's default route. One guest, booted once,
 * serves every assertion: the uplink-probe appliance (test/fixtures/uplink-probe on tiny-os) serves
 * pages on ports 80 and 81 and fetches the outside page itself at /cgi-bin/fetch.
 *
 * With nat the guest fetches the page, masqueraded; the outside cannot open a connection into the
 * guest until `storm network forward add TCP 8080 probe:80`, and then reaches port 80 only, only
 * through the forward; a manager restarted loads the forward again and a stopped one leaves no rule
 * and no forwarding behind; with `--uplink none` the guest cannot get out. The console's Network page
 * (Debian's chromium) shows the uplink and the forward.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildChannel, generatePublisherKey } from '../../channels/src/index.js';
import { launchChromium, screenshot } from './console-support.js';
import { connectOutside, type OutsideWorld } from '../harness/outside-world.js';
import { startStormNetwork, type StormNetwork } from '../harness/storm-network.js';
import type { Started } from '../harness/netns.js';
import { APPLIANCE_BUILD } from '../helpers/channel-fixture.js';
import { destroyAllInstances, GUEST_FAILED, type LaunchedInstance, waitForConsole } from '../helpers/instances.js';
import { type StormCli, stormCli } from '../helpers/storm-cli.js';

const PROBE_ROOTFS = resolve(import.meta.dirname, '../fixtures/uplink-probe/rootfs');
const PAGE = `hello from outside ${randomBytes(4).toString('hex')}`;
const PASSWORD = 'uplink e2e console password';

let work: string;
let site: StormNetwork;
let world: OutsideWorld;
let server: Started;
let storm: StormCli;
let probe: LaunchedInstance;
let NAT: string[];

/** A channel with one appliance: tiny-os and the probe's layer, for the site's channel server. */
async function publishProbeChannel(root: string): Promise<{ channelDir: string; publicKey: string }> {
  const keys = await generatePublisherKey(join(root, 'keys'));
  const src = join(root, 'src');
  await mkdir(join(src, 'uplink-probe-1.0.0'), { recursive: true });
  await writeFile(join(src, 'channel.json'), JSON.stringify({ title: 'uplink test', description: 'The uplink e2e probe.' }));
  const manifest = {
    name: 'uplink-probe',
    version: '1.0.0',
    title: 'Uplink probe',
    description: 'Pages on ports 80 and 81; /cgi-bin/fetch fetches http://TARGET/ from inside the guest.',
    released: '2026-01-01',
    memoryMiB: 128,
    vcpus: 1,
    layers: [
      {
        kind: 'os',
        file: join(APPLIANCE_BUILD, 'layers/tiny-os.squashfs'),
        kernel: join(APPLIANCE_BUILD, 'vmlinuz'),
        initrd: join(APPLIANCE_BUILD, 'initrd.img'),
      },
      { kind: 'appliance', dir: PROBE_ROOTFS },
    ],
    parameters: [{ name: 'target', type: 'string', pattern: '[0-9.]{7,15}:[0-9]{1,5}', description: 'HOST:PORT the guest fetches' }],
  };
  await writeFile(join(src, 'uplink-probe-1.0.0', 'manifest.json'), JSON.stringify(manifest));
  const channelDir = join(root, 'channel');
  await buildChannel({ src, out: channelDir, baseUrl: 'http://127.0.0.1:8090/', keyPath: keys.privateKeyPath });
  return { channelDir, publicKey: await readFile(keys.publicKeyPath, 'utf8') };
}

/** The console's Network page (Debian's chromium) shows the nat uplink, active, and the forward to the probe. */
async function consoleShowsForward(): Promise<void> {
  const browser = await launchChromium(site.apiUrl, site.caPem);
  try {
    const page = await browser.context.newPage();
    await page.goto(`${site.apiUrl}/network`);
    await page.getByLabel('Password').fill(PASSWORD);
    await page.getByRole('button', { name: 'Log in' }).click();
    await page.getByRole('heading', { level: 1, name: 'Network' }).waitFor();
    await page.locator('[data-uplink="nat"][data-uplink-state="active"]').getByText('table inet storm on br0', { exact: false }).waitFor();
    const row = page.locator('tr[data-forward="tcp-8080"]');
    expect(await row.locator('td').allTextContents()).toEqual(['TCP', '8080', 'probe', probe.ip, '80', 'yes', expect.any(String), 'Close']);
    await screenshot(page, 'network-uplink-nat');
  } finally {
    await browser.close();
  }
}

/** The guest fetching the outside page itself (asked through its own page, from the site). */
const guestFetch = async () => (await site.exec('curl', ['-sS', '--max-time', '20', `http://${probe.ip}/cgi-bin/fetch`])).output;
/** A connection opened from the outside: exit 0 with the page, 7 refused, 28 no answer (dropped). */
const fromOutside = (url: string) => world.exec('curl', ['-sS', '--connect-timeout', '3', '--max-time', '6', url]);
const siteTables = async () => (await site.exec('nft', ['list', 'tables'])).output;
const siteForwarding = async () => (await site.exec('cat', ['/proc/sys/net/ipv4/ip_forward'])).output.trim();

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'storm-uplink-e2e-'));
  const channel = await publishProbeChannel(work);
  await writeFile(join(work, 'admin.pw'), `${PASSWORD}\n`, { mode: 0o600 });
  NAT = ['--uplink', 'nat', '--admin-password-file', join(work, 'admin.pw')];
  site = await startStormNetwork({ ...channel, managerArgs: NAT });
  world = await connectOutside(site);
  server = await world.serve(PAGE);
  storm = stormCli(site.apiUrl, site.managerData);
  await site.api.post('/channels', { url: site.feedUrl, publicKey: site.publicKey });
  const t0 = Date.now();
  probe = await site.api.post<LaunchedInstance>('/instances', {
    appliance: 'uplink-probe',
    version: '1.0.0',
    name: 'probe',
    params: { target: `${world.serverAddress}:${world.serverPort}` },
  });
  const text = await waitForConsole(site.api, probe.id, /STORM-AGENT: applied/, { failOn: GUEST_FAILED });
  expect(text).toContain('uplink-probe: listening on :80 and :81');
  console.log(`uplink e2e: the probe guest was up in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
}, 300_000);

afterAll(async () => {
  await destroyAllInstances(site?.api);
  await world?.cleanup();
  await site?.cleanup();
  if (work) await rm(work, { recursive: true, force: true });
}, 120_000);

describe('the uplink, with an outside namespace for the world', () => {
  it('with --uplink nat, the guest fetches a page from outside, leaving as the site’s address', async () => {
    expect(await guestFetch()).toBe(`fetched: ${PAGE}\n`);
    // Masqueraded: the world saw the site, never the appliance network.
    expect(server.output()).toMatch(/^198\.51\.100\.1 - - .*"GET \/ HTTP\/1\.1" 200/m);
    expect(server.output()).not.toContain('10.77.0.');
    const shown = await storm.run(['network']);
    expect(shown.stdout).toMatch(
      /^uplink {4}nat: active, masquerading 10\.77\.0\.0\/24 out through the host's route \(table inet storm on br0\)$/m,
    );
    expect(shown.stdout).toContain('router 10.77.0.1');
  }, 60_000);

  it('the outside cannot open a connection into the guest while no forward names it', async () => {
    const [direct, viaSite] = await Promise.all([fromOutside(`http://${probe.ip}/`), fromOutside(`http://${world.siteAddress}:8080/`)]);
    expect(direct.code, direct.output).toBe(28);
    expect(viaSite.code, viaSite.output).toBe(7);
  }, 30_000);

  it('a forward opens exactly its port, only through the host, and comes back with the manager', async () => {
    const add = await storm.run(['network', 'forward', 'add', 'TCP', '8080', 'probe:80']);
    expect(add.code, add.output).toBe(0);
    expect(add.stdout).toBe(`forwarding tcp 8080 to probe:80 (${probe.ip})\n`);
    expect((await fromOutside(`http://${world.siteAddress}:8080/`)).output).toBe('uplink-probe port 80\n');
    const [direct80, direct81, other] = await Promise.all([
      fromOutside(`http://${probe.ip}/`),
      fromOutside(`http://${probe.ip}:81/`),
      fromOutside(`http://${world.siteAddress}:8081/`),
    ]);
    expect([direct80.code, direct81.code, other.code]).toEqual([28, 28, 7]);
    expect((await storm.run(['network', 'forward', 'ls'])).stdout).toMatch(
      /^PROTOCOL\s+PORT\s+INSTANCE\s+ADDRESS\s+TARGET PORT\s+ACTIVE\ntcp\s+8080\s+probe\s+10\.77\.0\.\d+\s+80\s+yes\n$/,
    );
    await consoleShowsForward();

    // Stopped, the manager leaves no rule and no forwarding; started again, it loads the forward from its database.
    await site.stopManager();
    expect(await siteTables()).not.toContain('inet storm');
    expect(await siteForwarding()).toBe('0');
    expect((await fromOutside(`http://${world.siteAddress}:8080/`)).code).toBe(7);
    await site.startManager(NAT);
    expect(await siteTables()).toContain('inet storm');
    expect((await fromOutside(`http://${world.siteAddress}:8080/`)).output).toBe('uplink-probe port 80\n');

    const rm_ = await storm.run(['network', 'forward', 'rm', 'tcp', '8080']);
    expect(rm_.stdout).toBe('removed the forward of tcp 8080\n');
    expect((await fromOutside(`http://${world.siteAddress}:8080/`)).code).toBe(7);
  }, 120_000);

  it('with --uplink none, the same guest cannot get out', async () => {
    await site.stopManager();
    await site.startManager([]);
    expect((await storm.run(['network'])).stdout).toMatch(/^uplink {4}none: guests have no way out/m);
    expect(await siteTables()).not.toContain('inet storm');
    // The guest still has its route through the manager from its nat lease: the way out itself is closed.
    expect(await guestFetch()).toMatch(/^fetch failed/);
  }, 120_000);
});
