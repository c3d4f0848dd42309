/**
 * The web console end to end, as an administrator uses it: Debian's chromium (headless, through
 * playwright-core) against a real manager process and a stormd on libvirt's test:///default.
 * Log in (a wrong password first), subscribe to the sample channel, pull with a visible progress
 * bar, launch, see it running, open its console log, visit every page (the network's uplink among
 * them), destroy it. A screenshot of every page goes to test-artifacts/console/. Every request the
 * page makes goes to the manager. The refusals: wrong password, no session nor token (401), a
 * change without the CSRF token (403).
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { destroyAllInstances } from '../helpers/instances.js';
import { type ManagerProcess, startManager } from '../helpers/manager-process.js';
import { stopAllProcesses } from '../helpers/process.js';
import { startStormd } from '../helpers/stormd-process.js';
import { type Browser, launchChromium, publishSlowSampleChannel, rawRequest, screenshot, type SlowChannel } from './console-support.js';

const PASSWORD = 'console e2e password';
let dir: string;
let channel: SlowChannel;
let manager: ManagerProcess;
let browser: Browser;
let page: Page;
const requests: string[] = [];
const pageErrors: string[] = [];
// Browser-side expressions are strings: this file is type-checked without the DOM library.

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'storm-console-e2e-'));
  await writeFile(join(dir, 'admin.pw'), `${PASSWORD}\n`, { mode: 0o600 });
  // About 11 MiB of sample files at 3 MiB/s: the pull takes a few seconds to watch.
  channel = await publishSlowSampleChannel(3 * 1024 * 1024);
  manager = await startManager(join(dir, 'manager'), [
    '--channel-allow',
    '127.0.0.0/8',
    '--heartbeat',
    '2',
    '--admin-password-file',
    join(dir, 'admin.pw'),
  ]);
  await startStormd(manager, { name: 'test-host', dir, hypervisor: 'test:///default' });
  browser = await launchChromium(manager.url, manager.ca);
  browser.context.on('request', (r) => requests.push(r.url()));
  page = await browser.context.newPage();
  page.on('pageerror', (e) => pageErrors.push(e.message));
  page.on('console', (m) => {
    if (m.type() === 'error' && /Content Security Policy/i.test(m.text())) pageErrors.push(m.text());
  });
}, 180_000);

afterAll(async () => {
  await destroyAllInstances(manager?.api);
  await browser?.close();
  await stopAllProcesses();
  await channel?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
}, 120_000);

// A failed step leaves a picture of what the browser showed.
afterEach(async (ctx) => {
  if (ctx.task.result?.state === 'fail' && page)
    await screenshot(page, `failed-${ctx.task.name.replace(/\W+/g, '-').slice(0, 60)}`).catch(() => undefined);
});

const heading = (name: string) => page.getByRole('heading', { level: 1, name });
const nav = async (label: string, title: string) => {
  await page.getByRole('navigation', { name: 'Pages' }).getByRole('link', { name: label, exact: true }).click();
  await heading(title).waitFor();
};

describe('web console', () => {
  it('refuses a wrong password with the API code, then logs in', async () => {
    await page.goto(`${manager.url}/`);
    await page.getByRole('heading', { name: 'STORM' }).waitFor();
    expect(new URL(page.url()).pathname).toBe('/login');
    await screenshot(page, '01-login');
    await page.getByLabel('Password').fill('not the password');
    await page.getByRole('button', { name: 'Log in' }).click();
    await page.getByRole('alert').filter({ hasText: 'MGR_ERR_LOGIN_FAILED' }).waitFor();
    await screenshot(page, '02-login-refused');
    await page.getByLabel('Password').fill(PASSWORD);
    await page.getByRole('button', { name: 'Log in' }).click();
    await heading('Overview').waitFor();
    await page.getByText('live', { exact: true }).waitFor();
    await screenshot(page, '03-overview-empty');
  });

  it('reaches the pages by keyboard: skip link first, then the navigation', async () => {
    await page.reload();
    await heading('Overview').waitFor();
    await page.keyboard.press('Tab');
    expect(await page.evaluate('document.activeElement?.textContent')).toBe('Skip to content');
    await page.keyboard.press('Tab');
    await page.keyboard.press('Tab');
    expect(await page.evaluate('document.activeElement?.textContent')).toBe('Overview');
  });

  it('subscribes to the sample channel with its URL and publisher key', async () => {
    await nav('Channels', 'Channels');
    await page.getByLabel('Feed URL').fill(channel.feedUrl);
    await page.getByLabel('Publisher key').fill(channel.publicKey);
    await page.getByRole('button', { name: 'Subscribe', exact: true }).click();
    const row = page.locator('tr[data-channel]');
    await row.getByText('ok', { exact: true }).waitFor({ timeout: 30_000 });
    expect(await row.textContent()).toContain('STORM samples');
    await screenshot(page, '04-channels');
  });

  it('pulls hello-web 1.0.0 with a visible, moving progress bar', async () => {
    await nav('Catalog', 'Catalog');
    const version = page.locator('li[data-appliance="hello-web@1.0.0"]');
    await version.getByText('not cached').waitFor();
    await version.getByRole('button', { name: 'Pull hello-web 1.0.0' }).click();
    const bar = version.getByRole('progressbar', { name: 'Pull of hello-web 1.0.0' });
    await bar.waitFor();
    // While it runs: bytes of total, from pull.progress events.
    await version.getByText(/ of \d+(\.\d)? MiB/).waitFor({ timeout: 20_000 });
    const midway = Number(await bar.getAttribute('value'));
    await screenshot(page, '05-catalog-pulling');
    await version.getByText(/^Pulled /).waitFor({ timeout: 60_000 });
    expect(Number(await bar.getAttribute('value'))).toBe(100);
    expect(midway).toBeLessThan(100);
    await version.getByText('cached', { exact: true }).waitFor();
    await version.getByText(/files, /).click();
    await screenshot(page, '06-catalog-pulled');
  });

  let instanceUrl = '';
  it('launches from the declared parameters, checked before sending, and watches it reach running', async () => {
    await page.locator('li[data-appliance="hello-web@1.0.0"]').getByRole('link', { name: 'Launch hello-web 1.0.0' }).click();
    await heading('Launch').waitFor();
    expect(await page.getByLabel('Instance name').inputValue()).toBe('hello-web-1');
    const greeting = page.getByLabel('greeting', { exact: true });
    await greeting.fill('Hi <script>');
    await page.getByText(/greeting: must match/).waitFor();
    await screenshot(page, '07-launch-invalid');
    await greeting.fill('Hello from the console');
    await page.getByRole('button', { name: 'Launch hello-web 1.0.0' }).click();
    await page.waitForURL(/\/instances\/i-[0-9a-f]+$/, { timeout: 60_000 });
    instanceUrl = page.url();
    await heading('hello-web-1').waitFor();
    await page.locator('.facts').getByText('running', { exact: true }).waitFor({ timeout: 30_000 });
    expect(await page.locator('.facts').textContent()).toContain('test-host');
    expect(await page.locator('.facts').textContent()).toContain('"Hello from the console"');
    expect(await page.getByRole('list', { name: 'Layer stack, top first' }).textContent()).toMatch(/instance.*appliance.*os/);
    await screenshot(page, '08-instance-running');
  }, 90_000);

  it('opens the console log of the instance', async () => {
    const section = page.getByRole('region', { name: 'Console log' });
    await section.getByText(/^Last .* of /).waitFor({ timeout: 20_000 });
    await section.getByRole('button', { name: 'Refresh' }).click();
    expect(await section.getByRole('alert').count()).toBe(0);
    await section.scrollIntoViewIfNeeded();
    await screenshot(page, '09-instance-console');
  });

  it('records a checkpoint from the instance page and lists it, saying the instance restarts', async () => {
    const section = page.getByRole('region', { name: 'Checkpoints and versions' });
    await section.getByText(/No checkpoints yet/).waitFor({ timeout: 20_000 });
    await section.getByRole('button', { name: 'Checkpoint now' }).click();
    const dialog = page.getByRole('dialog', { name: 'Checkpoint hello-web-1?' });
    await dialog.waitFor();
    expect(await dialog.textContent()).toMatch(/is running: it is stopped for this and started again afterwards/);
    await dialog.getByRole('button', { name: 'Checkpoint' }).click();
    await section.getByRole('cell', { name: 'checkpoint', exact: true }).waitFor({ timeout: 60_000 });
    expect(await page.getByRole('list', { name: 'Layer stack, top first' }).textContent()).toMatch(/instance.*frozen.*appliance.*os/);
    await section.scrollIntoViewIfNeeded();
    await screenshot(page, '09b-instance-checkpoint');
  }, 90_000);

  it('shows every other page: instances, hosts with a token command, services, events, overview', async () => {
    await nav('Instances', 'Instances');
    await page.locator('tr[data-instance="hello-web-1"]').getByText('running').waitFor();
    await screenshot(page, '10-instances');

    await nav('Hosts', 'Hosts');
    await page.locator('[data-host="test-host"]').getByRole('meter', { name: 'Memory of test-host' }).waitFor();
    await page.getByRole('button', { name: 'Create enrolment token' }).click();
    await page
      .locator('#enrol-command')
      .getByText(/^stormd join https:\/\/127\.0\.0\.1:\d+ --token \S+/)
      .waitFor();
    await screenshot(page, '11-hosts');

    // DNS: an administrator's record added and removed through the page.
    await nav('DNS', 'DNS records');
    await page.getByLabel('Type').selectOption('TXT');
    await page.getByLabel('Name', { exact: true }).fill('console-test');
    await page.getByLabel('Value').fill('added from the console');
    await page.getByRole('button', { name: 'Add record' }).click();
    const record = page.locator('tr', { hasText: 'added from the console' });
    await record.waitFor();
    await screenshot(page, '12-dns');
    await record.getByRole('button', { name: /^Remove TXT console-test/ }).click();
    await page.getByRole('dialog').getByRole('button', { name: 'Remove' }).click();
    await record.waitFor({ state: 'detached' });

    // Network: this manager has no appliance network, so no uplink, and says how to open one.
    await nav('Network', 'Network');
    await page
      .locator('[data-uplink="none"]')
      .getByText(/No way out for guests: start the manager with --uplink nat/)
      .waitFor();
    await page.getByText('No forwards: nothing from outside reaches a guest.').waitFor();
    expect(await page.getByRole('form', { name: 'Open a forward' }).count()).toBe(0);
    await screenshot(page, '12b-network');

    await nav('DHCP', 'DHCP leases');
    // A list, or "no … yet": never an error.
    await page.locator('main table, main .empty').first().waitFor();
    expect(await page.locator('main [role=alert]').count()).toBe(0);
    await screenshot(page, '13-dhcp');

    // Directory: a user added through the form; the same name again is refused inside the form.
    await nav('Directory', 'Directory');
    const addUser = async () => {
      await page.getByLabel('User name').fill('carol');
      await page.getByLabel('Surname').fill('Console');
      await page.getByRole('button', { name: 'Add user' }).click();
    };
    await addUser();
    const user = page.locator('tr', { hasText: 'carol' });
    await user.waitFor();
    expect(await page.locator('main [role=alert]').count()).toBe(0);
    await addUser();
    await page
      .getByRole('form', { name: 'Add a user' })
      .getByRole('alert')
      .getByText(/^Not added/)
      .waitFor();
    await screenshot(page, '14-directory');
    await user.getByRole('button', { name: 'Delete carol' }).click();
    await page.getByRole('dialog').getByRole('button', { name: 'Delete' }).click();
    await user.waitFor({ state: 'detached' });

    await nav('Events', 'Events');
    await page.locator('.feed').getByText('pull.completed').first().waitFor();
    await page.locator('.feed').getByText('instance.state').first().waitFor();
    await screenshot(page, '15-events');

    await nav('Overview', 'Overview');
    await page.getByRole('article', { name: 'Host test-host' }).getByText('hello-web-1').waitFor();
    await screenshot(page, '16-overview');
  }, 60_000);

  it('is usable on a narrow screen', async () => {
    await page.setViewportSize({ width: 390, height: 844 });
    await screenshot(page, '17-narrow-overview');
    await nav('Catalog', 'Catalog');
    await screenshot(page, '18-narrow-catalog');
    await page.goto(instanceUrl);
    await heading('hello-web-1').waitFor();
    await screenshot(page, '19-narrow-instance');
    expect(await page.evaluate('document.documentElement.scrollWidth <= window.innerWidth + 1')).toBe(true);
    await page.setViewportSize({ width: 1280, height: 800 });
  });

  it('refuses a change made with the session cookie but without the CSRF token, and any call with neither session nor token', async () => {
    const cookie = (await browser.context.cookies(manager.url)).find((c) => c.name === 'storm_session');
    expect(cookie).toMatchObject({ httpOnly: true, secure: true, sameSite: 'Strict' });
    const withCookie = { cookie: `storm_session=${cookie!.value}` };
    const csrf = await rawRequest(manager.url, manager.ca, 'POST', '/api/v1/channels', withCookie, { url: channel.feedUrl });
    expect(csrf).toMatchObject({ status: 403, body: { code: 'MGR_ERR_CSRF' } });
    const destroy = await rawRequest(
      manager.url,
      manager.ca,
      'DELETE',
      new URL(instanceUrl).pathname.replace('/instances', '/api/v1/instances'),
      withCookie,
    );
    expect(destroy).toMatchObject({ status: 403, body: { code: 'MGR_ERR_CSRF' } });
    expect((await rawRequest(manager.url, manager.ca, 'GET', '/api/v1/instances', withCookie)).status).toBe(200);
    for (const path of ['/api/v1/instances', '/api/v1/channels', '/api/v1/events/recent', '/api/v1/session']) {
      expect(await rawRequest(manager.url, manager.ca, 'GET', path)).toMatchObject({ status: 401, body: { code: 'MGR_ERR_UNAUTHORIZED' } });
    }
    const wrong = await rawRequest(
      manager.url,
      manager.ca,
      'POST',
      '/api/v1/session',
      {},
      { username: 'admin', password: 'wrong password' },
    );
    expect(wrong).toMatchObject({ status: 401, body: { code: 'MGR_ERR_LOGIN_FAILED' } });
    // The CLI's API token keeps working.
    expect((await manager.api.get<{ principal: string }>('/whoami')).principal).toBe('admin');
  });

  it('destroys the instance after asking', async () => {
    await page.goto(instanceUrl);
    await heading('hello-web-1').waitFor();
    await page.getByRole('button', { name: 'Destroy', exact: true }).click();
    const dialog = page.getByRole('dialog', { name: 'Destroy hello-web-1?' });
    await dialog.waitFor();
    await screenshot(page, '20-destroy-confirm');
    await dialog.getByRole('button', { name: 'Cancel' }).click();
    expect((await manager.api.get<{ instances: unknown[] }>('/instances')).instances).toHaveLength(1);
    await page.getByRole('button', { name: 'Destroy', exact: true }).click();
    await page.getByRole('dialog').getByRole('button', { name: 'Destroy hello-web-1' }).click();
    await heading('Instances').waitFor();
    await page.getByText('Nothing runs yet.').waitFor({ timeout: 30_000 });
    expect((await manager.api.get<{ instances: unknown[] }>('/instances')).instances).toHaveLength(0);
    await screenshot(page, '21-instances-after-destroy');
  });

  it('logs out', async () => {
    await page.getByRole('button', { name: 'Log out' }).click();
    await page.getByRole('button', { name: 'Log in' }).waitFor();
    expect(await rawRequest(manager.url, manager.ca, 'GET', '/api/v1/session')).toMatchObject({ status: 401 });
  });

  it('made no request to any host but the manager, and hit no script error or CSP violation', () => {
    const origin = new URL(manager.url).origin;
    expect(requests.length).toBeGreaterThan(20);
    expect(requests.filter((u) => new URL(u).origin !== origin)).toEqual([]);
    expect(pageErrors).toEqual([]);
  });
});
