/**
 * Image import from the web console (issue 14's "and the same from the console"): Debian's chromium
 * (headless, through playwright-core) against a real manager. Log in, open the catalog, import a raw
 * image by upload: the form shows the hashing and upload progress, then the appliance is in the
 * catalog, in the local channel. A hostile image (a qcow2 whose backing file names a host file) is
 * refused with the manager's code and reason in the form, and nothing joins the catalog.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type ManagerProcess, startManager } from '../helpers/manager-process.js';
import { stopAllProcesses } from '../helpers/process.js';
import { type Browser, launchChromium, screenshot } from './console-support.js';

const run = promisify(execFile);
const PASSWORD = 'console import password';
let dir: string;
let manager: ManagerProcess;
let browser: Browser;
let page: Page;
const pageErrors: string[] = [];
// Browser-side code is strings: this file is type-checked without the DOM library.
const WATCH_PROGRESS = `(() => {
  window.__progress = [];
  new MutationObserver(() => {
    for (const el of document.querySelectorAll('.progress-text')) {
      const t = el.textContent;
      if (window.__progress.at(-1) !== t) window.__progress.push(t);
    }
  }).observe(document.body, { subtree: true, childList: true, characterData: true });
})()`;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'storm-console-import-'));
  await writeFile(join(dir, 'admin.pw'), `${PASSWORD}\n`, { mode: 0o600 });
  // 48 MiB of a repeating pattern: a dozen slices to hash, long enough to see the bar move.
  const block = Buffer.alloc(1 << 20);
  for (let i = 0; i < block.length; i++) block[i] = (i * 7) & 0xff;
  await writeFile(join(dir, 'appliance-disk.raw'), Buffer.concat(Array.from({ length: 48 }, () => block)));
  await run('qemu-img', ['create', '-f', 'qcow2', '-F', 'raw', '-b', '/etc/passwd', join(dir, 'hostile.qcow2'), '1M']);
  manager = await startManager(join(dir, 'manager'), ['--admin-password-file', join(dir, 'admin.pw')]);
  browser = await launchChromium(manager.url, manager.ca);
  page = await browser.context.newPage();
  page.on('pageerror', (e) => pageErrors.push(e.message));
}, 180_000);

afterAll(async () => {
  await browser?.close();
  await stopAllProcesses();
  if (dir) await rm(dir, { recursive: true, force: true });
}, 120_000);

afterEach(async (ctx) => {
  if (ctx.task.result?.state === 'fail' && page)
    await screenshot(page, `import-failed-${ctx.task.name.replace(/\W+/g, '-').slice(0, 60)}`).catch(() => undefined);
});

const catalogNames = async () =>
  (await manager.api.get<{ appliances: { name: string; version: string }[] }>('/appliances')).appliances.map(
    (a) => `${a.name}@${a.version}`,
  );

describe('web console: image import', () => {
  it('logs in and opens the import form on the catalog page', async () => {
    await page.goto(`${manager.url}/login`);
    await page.getByLabel('Password').fill(PASSWORD);
    await page.getByRole('button', { name: 'Log in' }).click();
    await page.getByRole('heading', { level: 1, name: 'Overview' }).waitFor();
    await page.getByRole('navigation', { name: 'Pages' }).getByRole('link', { name: 'Catalog', exact: true }).click();
    await page.getByRole('heading', { level: 1, name: 'Catalog' }).waitFor();
    await page.getByRole('button', { name: 'Import image' }).click();
    await page.getByRole('heading', { name: 'Import a disk image' }).waitFor();
  });

  it('imports a raw image by upload, with hashing and upload progress; it joins the catalog', async () => {
    await page.getByLabel('Image file').setInputFiles(join(dir, 'appliance-disk.raw'));
    // The name comes from the file's, the format from its first bytes.
    await expect.poll(() => page.getByLabel('Name').inputValue()).toBe('appliance-disk');
    expect(await page.getByLabel('Format').inputValue()).toBe('raw');
    await page.getByLabel('Version').fill('2.0.0');
    await page.evaluate(WATCH_PROGRESS);
    await page.getByRole('button', { name: 'Import', exact: true }).click();
    await page.getByRole('status').filter({ hasText: 'appliance-disk 2.0.0 imported (48 MiB)' }).waitFor({ timeout: 60_000 });
    const seen = (await page.evaluate('window.__progress')) as string[];
    // The bar moves while hashing: more than its first "0 B of 48 MiB".
    expect(seen.filter((t) => /^Hashing: .+ of 48 MiB$/.test(t)).length, seen.join(' | ')).toBeGreaterThan(2);
    expect(
      seen.some((t) => /^(Uploading: .+ of 48 MiB|The manager checks the image)/.test(t)),
      seen.join(' | '),
    ).toBe(true);
    await screenshot(page, 'import-01-imported');
    await page.locator('li[data-appliance="appliance-disk@2.0.0"]').waitFor({ timeout: 30_000 });
    expect(await catalogNames()).toContain('appliance-disk@2.0.0');
    expect(pageErrors).toEqual([]);
  }, 120_000);

  it('shows the manager refusing a qcow2 whose backing file names a host file; nothing joins the catalog', async () => {
    await page.getByLabel('Name').fill('hostile');
    await page.getByLabel('Image file').setInputFiles(join(dir, 'hostile.qcow2'));
    await expect.poll(() => page.getByLabel('Format').inputValue()).toBe('qcow2');
    await page.getByRole('button', { name: 'Import', exact: true }).click();
    const alert = page.getByRole('alert').filter({ hasText: 'MGR_ERR_IMAGE_REFUSED' });
    await alert.waitFor({ timeout: 60_000 });
    expect(await alert.textContent()).toMatch(/Not imported: MGR_ERR_IMAGE_REFUSED .*import of hostile [\d.]+: .*backing file/);
    await screenshot(page, 'import-02-refused');
    // The form is ready for another try, and the catalog holds only the first import.
    expect(await page.getByRole('button', { name: 'Import', exact: true }).isEnabled()).toBe(true);
    expect((await catalogNames()).filter((n) => n.startsWith('hostile'))).toEqual([]);
  }, 120_000);
});
