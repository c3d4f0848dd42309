/**
 * Host health with real parts: a manager (a heartbeat every second); host vm-a on a libvirtd of
 * the test's own (qemu:///system; its checks open files as libvirt-qemu for real); host vm-b on
 * test:///default. vm-a made unusable on purpose — first the folder above its data closed to the
 * qemu user, then its libvirtd stopped — is degraded, with the reason, from the first heartbeat
 * whose checks ran after the change; `storm hosts`, `storm host show`, the console's host card and
 * `storm doctor` name it (doctor exits 1); a launch pinned there fails within 2 s with that reason
 * while vm-b still takes launches; after each repair vm-a is ready again on its next heartbeat.
 */
import { chmod, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { HostView } from '../../cli/src/views.js';
import { launchChromium, screenshot } from '../e2e/console-support.js';
import { type PrivateLibvirtd, startPrivateLibvirtd } from '../harness/private-libvirtd.js';
import { pollUntil } from '../helpers/poll.js';
import { type StormCli, stormCli } from '../helpers/storm-cli.js';
import { startStormd } from '../helpers/stormd-process.js';
import { startSubscribedManager, type SubscribedManager } from '../helpers/subscribed-manager.js';

const PASSWORD = 'host health console password';
let env: SubscribedManager;
let lv: PrivateLibvirtd | undefined;
let pwDir: string;
let storm: StormCli;
let home: string;

const host = async (name: string) => (await env.manager.api.get<{ hosts: HostView[] }>('/hosts')).hosts.find((h) => h.name === name)!;

/** vm-a as of its first heartbeat whose checks ran after `since`, and how long that took to show. */
async function firstBeatAfter(since: number): Promise<{ view: HostView; ms: number }> {
  const view = await pollUntil(
    'a heartbeat of vm-a checked after the change',
    async () => {
      const h = await host('vm-a');
      return h.health && Date.parse(h.health.checkedAt) > since ? h : undefined;
    },
    { timeoutMs: 15_000, everyMs: 50 },
  );
  return { view, ms: Date.now() - since };
}

beforeAll(async () => {
  pwDir = await mkdtemp(join(tmpdir(), 'storm-health-pw-'));
  await writeFile(join(pwDir, 'admin.pw'), `${PASSWORD}\n`, { mode: 0o600 });
  env = await startSubscribedManager('storm-health-', ['--admin-password-file', join(pwDir, 'admin.pw')]);
  // The qemu user must get through the test's folders to vm-a's data, until the test closes one.
  await chmod(env.dir, 0o711);
  home = join(env.dir, 'home');
  await mkdir(home, { mode: 0o711 });
  lv = await startPrivateLibvirtd();
  await startStormd(env.manager, { name: 'vm-a', dir: home, hypervisor: lv.uri, wrap: lv.enter });
  await startStormd(env.manager, { name: 'vm-b', dir: env.dir, hypervisor: 'test:///default' });
  storm = stormCli(env.manager.url, join(env.dir, 'manager'));
}, 180_000);

afterAll(async () => {
  await env?.close();
  await lv?.close();
  if (pwDir) await rm(pwDir, { recursive: true, force: true });
});

describe('a host made unusable on purpose', () => {
  it('starts healthy: its checks pass as libvirt-qemu, and a probe define measured libvirt', async () => {
    const a = await pollUntil(
      'vm-a to have measured a define',
      async () => {
        const h = await host('vm-a');
        return h.health?.checks.find((c) => c.name === 'define-time')?.status === 'ok' ? h : undefined;
      },
      { timeoutMs: 60_000 },
    );
    expect(a.status).toBe('ready');
    expect(a.health!.checks.map((c) => [c.name, c.status])).toEqual([
      ['libvirt', 'ok'],
      ['store-access', 'ok'],
      ['kvm', lv!.kvm ? 'ok' : 'skip'],
      ['define-time', 'ok'],
      ['fuse', 'ok'],
    ]);
    expect((await host('vm-b')).status).toBe('ready');
  });

  it('is degraded from the first heartbeat after its store became unreachable for QEMU, with the reason', async () => {
    const since = Date.now();
    await chmod(home, 0o700);
    const { view, ms } = await firstBeatAfter(since);
    console.log(`vm-a degraded ${ms} ms after its data folder's parent was closed`);
    expect(view.status).toBe('degraded');
    expect(view.lastError).toMatch(
      new RegExp(
        `^store-access: libvirt's qemu user libvirt-qemu \\(uid \\d+\\) cannot reach ${home}/vm-a/layers: it cannot pass ${home} \\(drwx------ root:root\\)`,
      ),
    );

    const show = await storm.run(['host', 'show', 'vm-a']);
    expect(show.stdout).toMatch(/^status\s+degraded$/m);
    expect(show.stdout).toMatch(/^ {2}fail {2}store-access {2}libvirt's qemu user libvirt-qemu/m);
    expect(show.stdout).toMatch(/^ {2}ok {4}libvirt\s+libvirt at qemu:\/\/\/system\?socket=/m);

    const hosts = await storm.run(['hosts']);
    expect(hosts.code).toBe(0);
    expect(hosts.stdout).toMatch(/^vm-a\s+degraded\s/m);
    expect(hosts.stdout).toContain(`vm-a is degraded: store-access: libvirt's qemu user libvirt-qemu`);

    // The console's card of vm-a: degraded, and the failing check with its fix.
    const browser = await launchChromium(env.manager.url, env.manager.ca);
    try {
      const page = await browser.context.newPage();
      page.setDefaultTimeout(20_000);
      await page.goto(`${env.manager.url}/hosts`);
      await page.getByLabel('Password').fill(PASSWORD);
      await page.getByRole('button', { name: 'Log in' }).click();
      await page.getByRole('heading', { level: 1, name: 'Hosts' }).waitFor(); // the login returns to the page asked for
      const card = page.locator('[data-host="vm-a"]');
      await card.getByText('degraded', { exact: true }).waitFor();
      const check = card.locator('[data-check="store-access"]');
      await check.waitFor();
      expect(await check.textContent()).toMatch(
        new RegExp(`^store-access: libvirt's qemu user libvirt-qemu .* it cannot pass ${home} .* — let it through: chmod o\\+x ${home}`),
      );
      await screenshot(page, 'host-degraded');
    } catch (err) {
      const page = browser.context.pages()[0];
      if (page) await screenshot(page, 'host-degraded-failed');
      throw err;
    } finally {
      await browser.close();
    }

    const doctor = await storm.run(['doctor']);
    expect(doctor.code).toBe(1);
    expect(doctor.stdout).toMatch(new RegExp(`^fail\\s+host vm-a\\s+store-access\\s+libvirt's qemu user .* it cannot pass ${home} `, 'm'));
    expect(doctor.stdout).toContain(`→ let it through: chmod o+x ${home}`);
    expect(doctor.stdout).toMatch(/^ok\s+host vm-b\s+libvirt\s/m);
    expect(doctor.stdout).toMatch(/^ok\s+manager\s+database\s/m);
    expect(doctor.stdout).toMatch(/1 check failed\n$/);
  }, 90_000);

  it('refuses a launch pinned to it within 2 s, with the reason, while the healthy host still takes one', async () => {
    const t0 = Date.now();
    const refused = await env.manager.api.post('/instances', { appliance: 'hello-web', name: 'pinned', host: 'vm-a' }).then(
      () => undefined,
      (err: unknown) => err,
    );
    const ms = Date.now() - t0;
    console.log(`launch pinned to degraded vm-a refused in ${ms} ms`);
    expect(ms).toBeLessThan(2000);
    expect(refused).toMatchObject({
      status: 503,
      code: 'MGR_ERR_HOST_DEGRADED',
      message: expect.stringContaining("host vm-a is degraded: store-access: libvirt's qemu user"),
    });

    const cli = await storm.run(['launch', 'hello-web', 'pinned', '--host', 'vm-a']);
    expect(cli.code).toBe(1);
    expect(cli.stderr).toContain('storm: MGR_ERR_HOST_DEGRADED: host degraded: host vm-a is degraded: store-access: ');

    const placed = await env.manager.api.post<{ name: string; state: string; host: { name: string } }>('/instances', {
      appliance: 'hello-web',
      name: 'placed',
    });
    expect(placed).toMatchObject({ state: 'running', host: { name: 'vm-b' } });
    await env.manager.api.delete('/instances/placed');
  });

  it('is ready again on the next heartbeat once the folder lets the qemu user through', async () => {
    const since = Date.now();
    await chmod(home, 0o711);
    const { view } = await firstBeatAfter(since);
    expect(view).toMatchObject({ status: 'ready', lastError: null });
  });

  it('is degraded from the first heartbeat after its libvirtd stopped, and ready again once it is back', async () => {
    const stopped = Date.now();
    await lv!.stop();
    const down = await firstBeatAfter(stopped);
    console.log(`vm-a degraded ${down.ms} ms after its libvirtd stopped`);
    expect(down.view.status).toBe('degraded');
    expect(down.view.lastError).toMatch(new RegExp(`^libvirt: libvirt at ${lv!.uri.replace(/[?]/g, '\\?')} does not answer: `));
    const doctor = await storm.run(['doctor']);
    expect(doctor.code).toBe(1);
    expect(doctor.stdout).toMatch(/^fail\s+host vm-a\s+libvirt\s+libvirt at .* does not answer/m);
    expect(doctor.stdout).toContain('→ start libvirtd (systemctl start libvirtd)');
    // It answers, so a reconcile pass reports its error but does not call it unreachable.
    const report = await env.manager.api.post<{ hostsUnreachable: string[]; errors: string[] }>('/reconcile');
    expect(report.hostsUnreachable).toEqual([]);
    expect(report.errors).toEqual([expect.stringMatching(/^vm-a: the host refused: vm-a could not list its instances: STORMD_ERR_/)]);
    expect((await host('vm-a')).status).toBe('degraded');

    await lv!.start();
    const back = await firstBeatAfter(Date.now());
    expect(back.view).toMatchObject({ status: 'ready', lastError: null });
  });
});
