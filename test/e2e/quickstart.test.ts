/**
 * The README's quick start, run as written (test/harness/readme-quickstart.ts reads its marked
 * blocks), in a fresh clone of HEAD under a 0700 folder, as root, inside a network namespace this
 * test makes. The start command runs in its own mount namespace where /run, libvirt's folders and
 * /var/lib/storm are private, so the libvirtd it starts (scripts/libvirtd.sh) and the local host's
 * store are this test's alone. Then a second terminal runs the quick start's steps in order: the
 * sample channel is served and subscribed, hello-web pulled and launched, its guest reports
 * `applied`, its console shows the agent's `applied` line, it is upgraded and removed; SIGTERM then
 * stops the manager with exit 0. Everything runs inside the namespace; its cleanup kills, by pid,
 * whatever is still inside (libvirtd, virtlogd, VMs, stormd, the channel server), and the clone goes.
 */
import { readFileSync } from 'node:fs';
import { mkdir, readdir, readFile, rmdir, stat } from 'node:fs/promises';
import { delimiter, dirname, join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freshClone, type FreshClone } from '../harness/fresh-clone.js';
import { createNetns, type Netns, type Started } from '../harness/netns.js';
import { inBackground, parseQuickStart, stormCommand, withoutComment } from '../harness/readme-quickstart.js';
import { type LineResult, type ShellSession, startShellSession } from '../harness/shell-session.js';

const ROOT = resolve(import.meta.dirname, '../..');
const README = readFileSync(join(ROOT, 'README.md'), 'utf8');
const quickStart = parseQuickStart(README);

// What the start command's libvirtd and local host write, private to its mount namespace.
const PRIVATE = ['/run', '/var/lib/libvirt', '/var/cache/libvirt', '/etc/libvirt/qemu', '/var/lib/storm'];
// How a background step says it is ready for the next one.
const READY: [RegExp, RegExp][] = [[/\bstorm-channel\.js serve\b/, /serving \S+ at http:\/\/\S+/]];
const SETUP_MS = 900_000; // a fresh clone compiles and checks its guest artifacts first
const APPLIED_MS = 240_000;

let clone: FreshClone;
let net: Netns;
let manager: Started;
let sh: ShellSession;
let madeVarLibStorm = false;
let failed: string | undefined;

/** A root shell's environment, in the clone's 0700 home; node where this one is. */
function newcomerEnv(home: string): NodeJS.ProcessEnv {
  const path = ['/usr/local/sbin', '/usr/local/bin', '/usr/sbin', '/usr/bin', '/sbin', '/bin'];
  if (!path.includes(dirname(process.execPath))) path.push(dirname(process.execPath));
  return { PATH: path.join(delimiter), HOME: home, LANG: 'C.UTF-8', USER: 'root', LOGNAME: 'root', SHELL: '/bin/bash' };
}

/** True when some process's mount namespace has a mount on `path`. */
async function mountedAnywhere(path: string): Promise<boolean> {
  for (const pid of (await readdir('/proc')).filter((e) => /^\d+$/.test(e))) {
    const table = await readFile(`/proc/${pid}/mountinfo`, 'utf8').catch(() => '');
    // Field 5 of each line is the mount point.
    if (table.split('\n').some((line) => line.split(' ')[4] === path)) return true;
  }
  return false;
}

/** The manager's last words, for a failure message. */
const managerTail = () => `\n--- start command, last output ---\n${manager?.output().slice(-3000) ?? ''}`;

beforeAll(async () => {
  clone = await freshClone(ROOT);
  const cloned = await readFile(join(clone.dir, 'README.md'), 'utf8');
  if (cloned !== README) throw new Error('README.md differs from HEAD: commit it first (the test runs a clone of HEAD)');
  net = await createNetns();
  madeVarLibStorm = !(await stat('/var/lib/storm').then(
    () => true,
    () => false,
  ));
  const mounts: string[] = [];
  for (const target of PRIVATE) {
    const source = join(clone.home, 'private', target.replaceAll('/', '_'));
    await mkdir(source, { recursive: true, mode: 0o755 });
    mounts.push(`mkdir -p ${target} && mount --bind ${source} ${target}`);
  }
  const env = newcomerEnv(clone.home);
  // `ip netns exec` gives the shell a mount namespace of its own: the binds stay in it. Then the README's
  // line, through exec all the way, so this pid is the manager's (asserted below).
  manager = net.start(net.name, 'sh', ['-c', `set -e\n${mounts.join('\n')}\nexec bash -c "$0"`, quickStart.start], { cwd: clone.dir, env });
  await manager.waitFor(/STORM manager listening on \S+[\s\S]*console login: .*\n/, SETUP_MS);
  sh = startShellSession(net, { cwd: clone.dir, env });
}, SETUP_MS + 60_000);

afterAll(async () => {
  await sh?.close();
  if (manager) await manager.stop('SIGKILL');
  await net?.cleanup();
  // Only the empty folder this test made, and not while another run still has its private one there.
  if (madeVarLibStorm && !(await mountedAnywhere('/var/lib/storm'))) await rmdir('/var/lib/storm').catch(() => undefined);
  await clone?.remove();
}, 120_000);

describe("the README's quick start, as written, from a fresh clone", () => {
  it('the start command prints the URL, the token path and the password, and the manager is what it runs', async () => {
    const out = manager.output();
    expect(out).toMatch(/STORM manager listening on https:\/\/127\.0\.0\.1:8443\n/);
    const token = join(clone.dir, 'data', 'admin.token');
    expect(out).toContain(`admin API token: ${token}`);
    expect((await stat(token)).mode & 0o777).toBe(0o600);
    const password = /console login: admin \/ (\S+)/.exec(out)?.[1];
    expect(password, out).toBeTruthy();
    const login = await net.exec(net.name, 'curl', [
      '-sS',
      '-o',
      '/dev/null',
      '-w',
      '%{http_code}',
      '--cacert',
      join(clone.dir, 'data/pki/ca.pem'),
      '-H',
      'content-type: application/json',
      '-d',
      JSON.stringify({ username: 'admin', password }),
      'https://127.0.0.1:8443/api/v1/session',
    ]);
    expect(login.output).toBe('201');
    // SIGTERM below goes to the manager itself, not to a shell in front of it.
    expect(await readFile(`/proc/${manager.pid}/cmdline`, 'utf8')).toContain('bin/storm-manager.js');
  });

  for (const step of quickStart.steps) {
    it(
      `runs: ${withoutComment(step)}`,
      async () => {
        if (failed) throw new Error(`not run: an earlier step failed (${failed})`);
        try {
          await runStep(step);
        } catch (err) {
          failed = withoutComment(step);
          throw err instanceof Error ? Object.assign(err, { message: `${err.message}${managerTail()}` }) : err;
        }
      },
      APPLIED_MS + 60_000,
    );
  }

  it('SIGTERM stops the manager with exit 0', async () => {
    manager.child.kill('SIGTERM');
    const code = await Promise.race([manager.exited, new Promise<string>((r) => setTimeout(() => r('still running after 60 s'), 60_000))]);
    expect(code, managerTail()).toBe(0);
  }, 90_000);
});

async function runStep(step: string): Promise<void> {
  const command = stormCommand(step);
  if (command === 'show') return again(step, /^\s*phase\s+applied\s*$/m, APPLIED_MS, 'phase applied in its guest status');
  // The agent reports `applied` a moment before it writes the line on the console.
  if (command === 'console') return again(step, /STORM-AGENT: applied\b/, 15_000, 'STORM-AGENT: applied on its console');
  const from = sh.output().length;
  const r = await sh.run(step, { timeoutMs: APPLIED_MS });
  expect(r.code, r.output).toBe(0);
  if (inBackground(step)) return backgroundReady(step, r, from);
  if (/\bcurl\b.*\/health\b/.test(step)) expect(body(r.output)).toMatchObject({ status: 'ok', hypervisor: 'qemu:///system' });
  if (/\bcurl\b.*\/whoami\b/.test(step)) expect(body(r.output)).toEqual({ principal: 'admin' });
  if (command === 'rm') {
    const name = /\brm\s+(\S+)/.exec(step)![1]!;
    expect(r.output).toContain(`destroyed ${name}`);
    const ls = await sh.run('node bin/storm.js --json ls');
    expect(ls.code, ls.output).toBe(0);
    expect((JSON.parse(ls.output) as { name: string }[]).map((i) => i.name)).not.toContain(name);
  }
}

/** The JSON curl printed; its progress meter (stderr, shown when stdout is no terminal) around it. */
function body(output: string): unknown {
  const json = /\{.*\}/.exec(output)?.[0];
  if (!json) throw new Error(`no JSON in:\n${output}`);
  return JSON.parse(json);
}

/** A `… &` step: wait until it says it is ready, as whoever typed it would before the next line. */
async function backgroundReady(step: string, r: LineResult, from: number): Promise<void> {
  expect(r.background, 'a background step gives its pid').toBeTypeOf('number');
  const ready = READY.find(([line]) => line.test(step))?.[1];
  if (!ready) throw new Error(`the quick start puts \`${step}\` in the background; add to READY how it says it is ready`);
  const deadline = Date.now() + 30_000;
  while (!ready.test(sh.output().slice(from))) {
    if (Date.now() > deadline) throw new Error(`\`${step}\` did not print ${ready} within 30 s:\n${sh.output().slice(from)}`);
    await new Promise((res) => setTimeout(res, 100));
  }
}

/** A step run again until its output shows `want`, as a person would look again; fails at once on a failed guest. */
async function again(step: string, want: RegExp, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const r = await sh.run(step);
    expect(r.code, r.output).toBe(0);
    if (want.test(r.output)) return;
    if (/^state\s+error\b|^\s*phase\s+failed\b|STORM-AGENT: failed|STORM-INIT: error/m.test(r.output))
      throw new Error(`the guest failed:\n${r.output}`);
    if (Date.now() > deadline) throw new Error(`${what} did not show within ${timeoutMs} ms; the last output:\n${r.output}`);
    await new Promise((res) => setTimeout(res, 2000));
  }
}
