/**
 * The interactive serial console end to end, on qemu:///system with one booted hello-web guest
 * (tiny-os runs a root shell on its serial port) shared by every step:
 * - the manager's WebSocket refuses no credentials, another site's Origin and a session without
 *   its CSRF token; one writer at a time (a reader's keystrokes never reach the guest) and a
 *   takeover is announced to the old writer and the readers (real `ws` clients);
 * - `storm console NAME --attach` on a pseudo-terminal: a command sent, its output read, the
 *   guest's control sequences passed through raw, Ctrl-] detaches and restores the terminal, the
 *   guest keeps running; `storm console NAME` (tail mode) shows those sequences escaped, and the
 *   log kept everything;
 * - Debian's chromium: log in, open the instance's terminal, type `echo hello-<random>` and see
 *   the guest's answer; a second viewer sees it and takes over; the log view is escaped; every
 *   request went to the manager;
 * - stopping the instance ends every attached session (the page's too) with the reason, and
 *   attaching is refused while it is off.
 */
import { randomBytes } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import type { SerialNotice } from '../../common/serial-attach.js';
import { ensureLibvirtd, type LibvirtdHandle, makeVmDir, type VmDir } from '../harness/libvirtd.js';
import { publishSampleChannelForTest, type PublishedChannel } from '../helpers/channel-fixture.js';
import { destroyAllInstances, GUEST_FAILED, waitForConsole } from '../helpers/instances.js';
import { type ManagerProcess, startManager } from '../helpers/manager-process.js';
import { stopAllProcesses } from '../helpers/process.js';
import { startPtySession } from '../helpers/pty-session.js';
import { stormCli } from '../helpers/storm-cli.js';
import { startStormd } from '../helpers/stormd-process.js';
import { type Browser, launchChromium, screenshot } from './console-support.js';

const PASSWORD = 'serial console e2e password';
const NAME = 'term1';
const tag = () => randomBytes(4).toString('hex');
let libvirtd: LibvirtdHandle;
let dir: VmDir;
let channel: PublishedChannel;
let manager: ManagerProcess;
let id: string;
let browser: Browser | undefined;
let page: Page | undefined;

beforeAll(async () => {
  libvirtd = await ensureLibvirtd();
  dir = await makeVmDir('storm-e2e-serial-');
  await writeFile(join(dir.path, 'admin.pw'), `${PASSWORD}\n`, { mode: 0o600 });
  channel = await publishSampleChannelForTest();
  manager = await startManager(join(dir.path, 'manager'), [
    '--channel-allow',
    '127.0.0.0/8',
    '--heartbeat',
    '2',
    '--admin-password-file',
    join(dir.path, 'admin.pw'),
  ]);
  await startStormd(manager, { name: 'qemu-host', dir: dir.path, hypervisor: libvirtd.uri });
  await manager.api.post('/channels', { url: channel.feedUrl, publicKey: channel.publicKey });
  id = (await manager.api.post<{ id: string }>('/instances', { appliance: 'hello-web', version: '1.0.0', name: NAME })).id;
  await waitForConsole(manager.api, id, /STORM-OS: ready/, { timeoutMs: 150_000, failOn: GUEST_FAILED });
}, 300_000);

afterAll(async () => {
  await browser?.close();
  await destroyAllInstances(manager?.api);
  await stopAllProcesses();
  await channel?.close();
  await dir?.remove();
  await libvirtd?.stop();
}, 120_000);

afterEach(async (ctx) => {
  if (ctx.task.result?.state === 'fail' && page)
    await screenshot(page, `failed-serial-${ctx.task.name.replace(/\W+/g, '-').slice(0, 50)}`).catch(() => undefined);
});

const attachUrl = (query = '') => `${manager.url.replace(/^https/, 'wss')}/api/v1/instances/${NAME}/console/attach${query}`;

/** A `ws` client of the attach route; resolves once open, or with the manager's refusal. */
function connect(headers: Record<string, string>, protocols: string[] = [], query = ''): Promise<Viewer> {
  const ws = new WebSocket(attachUrl(query), protocols, { headers, ca: manager.ca });
  return new Promise((resolve, reject) => {
    ws.once('open', () => resolve(viewer(ws)));
    ws.once('unexpected-response', (_req, res) => {
      let body = '';
      res.on('data', (c: Buffer) => (body += c.toString()));
      res.on('end', () =>
        reject(
          Object.assign(new Error(`HTTP ${res.statusCode}`), { status: res.statusCode, code: (JSON.parse(body) as { code: string }).code }),
        ),
      );
    });
    ws.once('error', reject);
  });
}

interface Viewer {
  readonly ws: WebSocket;
  readonly notices: SerialNotice[];
  output(): string;
  until(pattern: RegExp, timeoutMs?: number): Promise<void>;
  noticeWhere(test: (n: SerialNotice) => boolean, timeoutMs?: number): Promise<SerialNotice>;
}

function viewer(ws: WebSocket): Viewer {
  const notices: SerialNotice[] = [];
  let out = '';
  ws.on('message', (data: Buffer, binary: boolean) => {
    if (binary) out += data.toString('utf8');
    else notices.push(JSON.parse(data.toString('utf8')) as SerialNotice);
  });
  const poll = async (ok: () => boolean, what: string, timeoutMs: number) => {
    const deadline = Date.now() + timeoutMs;
    while (!ok()) {
      if (Date.now() > deadline)
        throw new Error(`never saw ${what}; output: ${JSON.stringify(out.slice(-1500))}; notices: ${JSON.stringify(notices)}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  };
  return {
    ws,
    notices,
    output: () => out,
    until: (pattern, timeoutMs = 30_000) => poll(() => pattern.test(out), String(pattern), timeoutMs),
    async noticeWhere(test, timeoutMs = 10_000) {
      await poll(() => notices.some(test), 'the notice', timeoutMs);
      return notices.find(test)!;
    },
  };
}

const closed = (v: Viewer) =>
  new Promise<void>((resolve) => (v.ws.readyState === WebSocket.CLOSED ? resolve() : v.ws.once('close', () => resolve())));

describe('interactive serial console', () => {
  it('refuses a WebSocket without credentials, from another origin, and a session cookie without its CSRF token', async () => {
    const origin = new URL(manager.url).origin;
    await expect(connect({})).rejects.toMatchObject({ status: 401, code: 'MGR_ERR_UNAUTHORIZED' });
    await expect(connect({ authorization: `Bearer ${manager.token}`, origin: 'https://evil.example' })).rejects.toMatchObject({
      status: 403,
      code: 'MGR_ERR_ORIGIN',
    });
    const login = await rawRequestWithCookie();
    const cookie = login.cookie;
    await expect(connect({ cookie, origin }, ['storm.serial.v1'])).rejects.toMatchObject({ status: 403, code: 'MGR_ERR_CSRF' });
    await expect(connect({ cookie, origin }, ['storm.serial.v1', 'storm.csrf.wrong'])).rejects.toMatchObject({
      status: 403,
      code: 'MGR_ERR_CSRF',
    });
    await expect(
      connect({ cookie, origin: 'https://evil.example' }, ['storm.serial.v1', `storm.csrf.${login.csrfToken}`]),
    ).rejects.toMatchObject({ status: 403, code: 'MGR_ERR_ORIGIN' });
    await expect(connect({ cookie }, ['storm.serial.v1', `storm.csrf.${login.csrfToken}`])).rejects.toMatchObject({
      status: 403,
      code: 'MGR_ERR_ORIGIN',
    });
    // The same session from the manager's own origin with its token is let in.
    const ok = await connect({ cookie, origin }, ['storm.serial.v1', `storm.csrf.${login.csrfToken}`]);
    expect(ok.ws.protocol).toBe('storm.serial.v1');
    expect(await ok.noticeWhere((n) => n.type === 'attached')).toMatchObject({
      role: 'writer',
      you: { principal: 'admin', via: 'console' },
    });
    ok.ws.close();
    await closed(ok);
  }, 60_000);

  it('keeps what a client types the moment it connects, before its attached notice', async () => {
    const v = await connect({ authorization: `Bearer ${manager.token}` });
    try {
      const early = tag();
      v.ws.send(Buffer.from(`echo early-${early}\r`), { binary: true });
      await v.until(new RegExp(`\\r\\nearly-${early}\\r\\n`));
    } finally {
      // Left open, it would stay the writer for the cases after it.
      v.ws.close();
      await closed(v);
    }
  }, 60_000);

  it('lets one writer type: a reader is ignored until it takes over, which the old writer and the readers are told', async () => {
    const auth = { authorization: `Bearer ${manager.token}` };
    const a = await connect(auth);
    expect(await a.noticeWhere((n) => n.type === 'attached')).toMatchObject({ role: 'writer' });
    const b = await connect(auth);
    const c = await connect(auth);
    expect(await b.noticeWhere((n) => n.type === 'attached')).toMatchObject({ role: 'reader', writer: { client: 1 } });
    const ignored = tag();
    b.ws.send(Buffer.from(`echo ignored-${ignored}\r`), { binary: true });
    const typed = tag();
    a.ws.send(Buffer.from(`echo typed-${typed}\r`), { binary: true });
    // Every viewer sees the guest's answer (its own line, after the echoed command).
    for (const v of [a, b, c]) await v.until(new RegExp(`\\r\\ntyped-${typed}\\r\\n`));
    expect(a.output()).not.toContain(`ignored-${ignored}`);
    c.ws.send(JSON.stringify({ type: 'takeover' }));
    for (const v of [a, b])
      expect(await v.noticeWhere((n) => n.type === 'writer')).toMatchObject({
        type: 'writer',
        role: 'reader',
        reason: 'takeover',
        writer: { client: 3 },
        previous: { client: 1 },
      });
    expect(await c.noticeWhere((n) => n.type === 'writer')).toMatchObject({ role: 'writer', reason: 'takeover' });
    const after = tag();
    a.ws.send(Buffer.from(`echo old-writer-${after}\r`), { binary: true });
    c.ws.send(Buffer.from(`echo new-writer-${after}\r`), { binary: true });
    await a.until(new RegExp(`\\r\\nnew-writer-${after}\\r\\n`));
    expect(a.output()).not.toContain(`old-writer-${after}`);
    for (const v of [a, b, c]) v.ws.close();
    await Promise.all([a, b, c].map(closed));
  }, 90_000);

  it('storm console --attach: a raw terminal on a pty, Ctrl-] detaches and restores it; the tail shows the guest control sequences escaped', async () => {
    const t = tag();
    const storm = stormCli(manager.url, join(dir.path, 'manager'));
    const pty = startPtySession(process.execPath, storm.args(['console', NAME, '--attach']));
    try {
      await pty.waitFor(/escape character is \^\]/);
      await pty.waitFor(/you write/);
      pty.write(`echo cli-${t}\r`);
      // The guest's answer on its own line (the terminal's output processing may add a CR).
      await pty.waitFor(new RegExp(`\\n\\r*cli-${t}\\r+\\n`));
      pty.write(`printf '\\033[31mRED-%s\\033[0m\\n' ${t}\r`);
      // Raw: the escape sequence arrives as the guest printed it.
      await pty.waitFor(new RegExp(`\\x1b\\[31mRED-${t}\\x1b\\[0m`));
      pty.write('\x1d');
      expect(await pty.finished()).toEqual({ code: 0, termiosRestored: true });
    } finally {
      await pty.process.stop();
    }
    expect(pty.output()).toContain(`detached from ${NAME}; it keeps running`);
    expect((await manager.api.get<{ state: string }>(`/instances/${NAME}`)).state).toBe('running');

    const tail = await storm.run(['console', NAME]);
    expect(tail.code).toBe(0);
    expect(tail.stdout).toContain(`cli-${t}`);
    expect(tail.stdout).toContain(`^[[31mRED-${t}^[[0m`);
    expect(tail.stdout).not.toMatch(/[\x00-\x08\x0b-\x1f\x7f]/);
    // --json keeps the bytes (JSON escapes them itself).
    expect(JSON.parse((await storm.run(['--json', 'console', NAME])).stdout).text).toContain(`\x1b[31mRED-${t}`);
  }, 90_000);

  it('Chromium: types into the terminal and sees the guest echo; a second viewer sees it and takes over', async () => {
    browser = await launchChromium(manager.url, manager.ca);
    const requests: string[] = [];
    const pageErrors: string[] = [];
    const sockets: string[] = [];
    browser.context.on('request', (r) => requests.push(r.url()));
    browser.context.on('page', (p) => p.on('websocket', (w) => sockets.push(w.url())));
    const first = await browser.context.newPage();
    page = first;
    first.on('pageerror', (e) => pageErrors.push(e.message));
    watchCsp(first, pageErrors);
    await first.goto(`${manager.url}/login`);
    await first.getByLabel('Password').fill(PASSWORD);
    await first.getByRole('button', { name: 'Log in' }).click();
    await first.getByRole('heading', { level: 1, name: 'Overview' }).waitFor();

    const term1 = await openTerminal(first);
    await term1.status.filter({ hasText: 'you write' }).waitFor();
    const hello = `hello-${tag()}`;
    await first.locator('.serial-screen .xterm').click();
    await first.keyboard.type(`echo ${hello}`);
    await first.keyboard.press('Enter');
    await termLine(first, hello);
    await screenshot(first, 'serial-terminal');

    const second = await browser.context.newPage();
    second.on('pageerror', (e) => pageErrors.push(e.message));
    watchCsp(second, pageErrors);
    const term2 = await openTerminal(second);
    await term2.status.filter({ hasText: 'read only' }).waitFor();
    const again = `again-${tag()}`;
    // A page in the background draws nothing (no animation frames): bring each to the front to look at it.
    await first.bringToFront();
    await first.locator('.serial-screen .xterm').click();
    await first.keyboard.type(`echo ${again}`);
    await first.keyboard.press('Enter');
    await second.bringToFront();
    await termLine(second, again);

    await term2.section.getByRole('button', { name: 'Take over' }).click();
    await term2.status.filter({ hasText: 'You took over' }).waitFor();
    await first.bringToFront();
    await term1.status.filter({ hasText: /took over from admin \(console #1\); read only now/ }).waitFor();
    await second.bringToFront();
    const third = `third-${tag()}`;
    await second.locator('.serial-screen .xterm').click();
    await second.keyboard.type(`echo ${third}`);
    await second.keyboard.press('Enter');
    await termLine(second, third);
    await first.bringToFront();
    await termLine(first, third);
    await screenshot(second, 'serial-terminal-second-viewer');

    // The log view escapes what the guest printed (the previous step's colour codes).
    const log = await first.getByRole('region', { name: 'Console log' }).locator('pre.console').textContent();
    expect(log).toContain('^[[31mRED-');
    expect(log).not.toContain('\x1b');
    expect(pageErrors).toEqual([]);
    expect(requests.filter((u) => !u.startsWith(`${manager.url}/`))).toEqual([]);
    expect(sockets).toEqual([attachUrl(), attachUrl()].map((u) => u.replace(NAME, id)));
    await second.close();
  }, 120_000);

  it('stopping the instance ends every attached session with the reason; attaching is refused while it is off', async () => {
    const auth = { authorization: `Bearer ${manager.token}` };
    const v = await connect(auth);
    await v.noticeWhere((n) => n.type === 'attached');
    const closeCode = new Promise<number>((resolve) => v.ws.once('close', (code: number) => resolve(code)));
    expect((await manager.api.post<{ state: string }>(`/instances/${id}/actions`, { action: 'stop' })).state).toBe('stopped');
    expect(await v.noticeWhere((n) => n.type === 'ended', 30_000)).toMatchObject({ reason: expect.stringMatching(/serial port closed/) });
    expect(await closeCode).toBe(4000);
    // The page still attached from the previous step says so too.
    if (page)
      await page
        .getByRole('region', { name: 'Terminal' })
        .getByRole('status')
        .filter({ hasText: /^Closed: .*serial port closed/ })
        .waitFor();
    await expect(connect(auth)).rejects.toMatchObject({ status: 409, code: 'MGR_ERR_CONFLICT' });
  }, 90_000);
});

/** Every Content-Security-Policy violation the page reports (xterm.js styles itself inline unless told otherwise). */
function watchCsp(p: Page, errors: string[]): void {
  p.on('console', (m) => {
    if (m.type() === 'error' && /Content Security Policy/i.test(m.text())) errors.push(m.text());
  });
}

/** Logs in over HTTPS: the session cookie and CSRF token, as a browser would hold them. */
async function rawRequestWithCookie(): Promise<{ cookie: string; csrfToken: string }> {
  const { request } = await import('node:https');
  return new Promise((resolve, reject) => {
    const req = request(
      new URL('/api/v1/session', manager.url),
      { method: 'POST', ca: manager.ca, headers: { 'content-type': 'application/json' } },
      (res) => {
        let body = '';
        res.on('data', (c: Buffer) => (body += c.toString()));
        res.on('end', () => {
          const cookie = String(res.headers['set-cookie']?.[0] ?? '').split(';')[0] ?? '';
          resolve({ cookie, csrfToken: (JSON.parse(body) as { csrfToken: string }).csrfToken });
        });
      },
    );
    req.once('error', reject);
    req.end(JSON.stringify({ username: 'admin', password: PASSWORD }));
  });
}

async function openTerminal(p: Page) {
  await p.goto(`${manager.url}/instances/${id}`);
  const section = p.getByRole('region', { name: 'Terminal' });
  await section.getByRole('button', { name: 'Open terminal' }).click();
  return { section, status: section.getByRole('status') };
}

/** Waits until a row of the xterm screen is exactly `text` (the guest's answer, not the echoed command); xterm draws only what is in view. */
async function termLine(p: Page, text: string): Promise<void> {
  await p.locator('.serial-screen').scrollIntoViewIfNeeded();
  await p
    .locator('.serial-screen .xterm-rows > div', { hasText: new RegExp(`^\\s*${text}\\s*$`) })
    .first()
    .waitFor({ timeout: 30_000 });
}
