/**
 * The `storm` CLI (the built bin) against a real manager and a real stormd on libvirt
 * test:///default: `host token` → `stormd join` → `hosts` ready; `launch` with the fixture channel
 * (parameters checked first, a progress bar, each step); `ls`, `show`, `stop`, `start`, `reboot`,
 * `console`, `rm` (refused on a non-terminal without --yes); `host pki-bundle` (modes, openssl
 * verify, no overwrite); `events`; `--json` on each; usage and API errors with their exit statuses.
 */
import { spawnSync } from 'node:child_process';
import { appendFile, mkdtemp, readFile, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { publishChannel, type PublishedChannel } from '../helpers/channel-fixture.js';
import { type ManagerProcess, startManager } from '../helpers/manager-process.js';
import { pollUntil } from '../helpers/poll.js';
import { startProcess, stopAllProcesses } from '../helpers/process.js';
import { type StormCli, stormCli } from '../helpers/storm-cli.js';
import { freePort, joinStormd, serveStormd, type StormdProcess } from '../helpers/stormd-process.js';

let work: string;
let data: string;
let channel: PublishedChannel;
let manager: ManagerProcess;
let host: StormdProcess;
let cli: StormCli;

const cliArgs = (args: readonly string[]) => cli.args(args);
const storm = (...args: string[]) => cli.run(args);
const json = <T>(...args: string[]) => cli.json<T>(...args);

const waitFor = <T>(what: string, fn: () => Promise<T | undefined>, timeoutMs = 30_000) => pollUntil(what, fn, { timeoutMs, everyMs: 250 });

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'storm-cli-hosts-'));
  data = join(work, 'manager');
  channel = await publishChannel();
  manager = await startManager(data, ['--channel-allow', '127.0.0.0/8', '--heartbeat', '1']);
  cli = stormCli(manager.url, data);
  await writeFile(join(work, 'publisher.pub'), channel.publicKey);
  const add = await storm('channel', 'add', channel.feedUrl, '--key', join(work, 'publisher.pub'));
  expect(add.code, add.output).toBe(0);
}, 120_000);
afterAll(async () => {
  await stopAllProcesses();
  await channel?.close();
  await rm(work, { recursive: true, force: true });
});

describe('hosts', () => {
  it('host token prints the token and the exact command; stormd join with it; storm hosts shows it ready', async () => {
    const t = await storm('host', 'token', '--ttl', '600');
    expect(t.code, t.output).toBe(0);
    const token = /enrolment token.*\n\s+(\S+)/.exec(t.stdout)?.[1];
    expect(token).toBeDefined();
    expect(t.stdout).toContain(`stormd join ${manager.url} --token ${token}`);
    expect(t.stdout).toMatch(/expires in (9|10)m/);

    const port = await freePort();
    const dir = join(work, 'host-a');
    const joined = await joinStormd(manager, { name: 'host-a', data: dir, url: `https://127.0.0.1:${port}`, token: token! });
    expect(joined.code, joined.output).toBe(0);
    host = await serveStormd({ name: 'host-a', data: dir, listen: `127.0.0.1:${port}`, hypervisor: 'test:///default' });

    const table = await waitFor('host-a ready', async () => {
      const r = await storm('hosts');
      return /host-a\s+ready\s+\d+\s+[\d.]+ (MiB|GiB) free of [\d.]+ (MiB|GiB)\s+.*\s0\s+test:\/\/\/default\s+\d+s ago/.test(r.stdout)
        ? r.stdout
        : undefined;
    });
    expect(table).toMatch(/^NAME\s+STATUS\s+CPUS\s+MEMORY\s+ALLOCATED\s+INSTANCES\s+HYPERVISOR\s+HEARTBEAT$/m);
    const hosts = await json<{ name: string; status: string; hypervisor: { uri: string } }[]>('hosts');
    expect(hosts).toMatchObject([{ name: 'host-a', status: 'ready', hypervisor: { uri: 'test:///default' } }]);
    expect(await json<{ name: string; status: string }>('host', 'show', 'host-a')).toMatchObject({ name: 'host-a', status: 'ready' });
    const tokens = await json<{ usedByHost: string | null }[]>('host', 'tokens');
    expect(tokens.filter((x) => x.usedByHost !== null)).toHaveLength(1);
    const another = await json<{ token: string; command: string }>('host', 'token');
    expect(another.command).toContain(`--token ${another.token}`);
  }, 90_000);
});

describe('launch and instances', () => {
  it('refuses an invalid --param before any request changes anything', async () => {
    const bad = await storm('launch', 'hello-web', 'web0', '--param', 'greeting=<script>');
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/greeting: must match/);
    expect(bad.stderr).toMatch(/greeting\s+string\s+"Hello"/);
    const unknown = await storm('launch', 'hello-web@1.1.0', 'web0', '--param', 'colour=red', '--param', 'port=70000');
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/colour: not a parameter of this appliance; port: must be at most 65535/);
    expect((await storm('launch', 'hello-web', 'web0', '--param', 'greeting')).code).toBe(2);
    // Nothing was pulled, reserved or launched.
    expect(await json<unknown[]>('ls')).toEqual([]);
    expect((await json<{ cached: boolean }[]>('appliances')).filter((a) => a.cached)).toEqual([]);
    expect(await json<unknown[]>('events', '--recent', '100', '--type', 'instance', '--type', 'pull')).toEqual([]);
  });

  it('launches with a progress bar while the layers pull, then each step, and ends with state, host and address', async () => {
    const r = await storm('launch', 'hello-web', 'web1', '--param', 'greeting=Hi');
    expect(r.code, r.output).toBe(0);
    expect(r.stderr).toMatch(/hello-web 1\.1\.0 \[#*\.*\] \d+% [\d.]+ (B|KiB)\/12\.\d KiB/);
    expect(r.stderr).toMatch(/hello-web 1\.1\.0: pulled [\d.]+ KiB, verified/);
    const steps = [...r.stderr.matchAll(/web1: \[(\d)\/5\] (.*)/g)].map((m) => `${m[1]} ${m[2]}`);
    expect(steps).toEqual([
      '1 reserved the name, a MAC address and a host',
      '2 layers staged on the host',
      '3 instance layer created',
      '4 domain defined',
      '5 started',
    ]);
    // The address is the lease's IP and the DNS name, as far as this manager's network services give them.
    const { ip, fqdn } = await json<{ ip: string | null; fqdn: string | null }>('show', 'web1');
    const address = ip && fqdn ? `${ip} (${fqdn})` : (ip ?? fqdn ?? 'not assigned yet');
    expect(r.stdout).toBe(`web1: running on host-a, address ${address}\n`);
  }, 60_000);

  it('ls and show: state, host, parameters, the layer stack bottom to top, guest status', async () => {
    const ls = await storm('ls');
    expect(ls.stdout).toMatch(
      /^NAME\s+STATE\s+HOST\s+ADDRESS\s+APPLIANCE\s+MEMORY\s+CREATED\nweb1\s+running\s+host-a\s+\S+\s+hello-web 1\.1\.0\s+128 MiB\s+\d+s ago\n$/,
    );
    const list = await json<{ name: string; state: string }[]>('ls');
    expect(list).toMatchObject([{ name: 'web1', state: 'running' }]);

    const show = await storm('show', 'web1');
    expect(show.code, show.output).toBe(0);
    expect(show.stdout).toMatch(/^name\s+web1 \(i-[0-9a-f]+\)$/m);
    expect(show.stdout).toMatch(/^host\s+host-a \(host-[0-9a-f]+\)$/m);
    expect(show.stdout).toMatch(/^parameters\s+greeting=Hi, port=80$/m);
    const layers = [...show.stdout.matchAll(/^(\d)\s+(os|appliance|deployment|instance)\s+\S+\s+.*\s(ro|rw)$/gm)].map(
      (m) => `${m[1]} ${m[2]} ${m[3]}`,
    );
    expect(layers).toEqual(['1 os ro', '2 appliance ro', '3 deployment ro', '4 instance rw']);
    expect(show.stdout).toMatch(/guest status: not reported yet/);
    const view = await json<{ layers: { kind: string }[]; params: Record<string, unknown>; host: { name: string } }>('show', 'web1');
    expect(view.layers.map((l) => l.kind)).toEqual(['os', 'appliance', 'deployment', 'instance']);
    expect(view).toMatchObject({ params: { greeting: 'Hi', port: 80 }, host: { name: 'host-a' } });
  });

  it('stop, start and reboot print the state that follows; the live feed shows the changes', async () => {
    const feed = startProcess(process.execPath, cliArgs(['--json', 'events', '--type', 'instance.state', '--type', 'reconcile.done']));
    // Live once the manager has subscribed it: a reconcile pass it reports proves that.
    await waitFor('the feed to be live', async () => {
      await storm('reconcile');
      return feed.output().includes('"reconcile.done"') ? true : undefined;
    });
    const stop = await storm('stop', 'web1');
    expect(stop.stdout).toBe('web1: stopped on host-a\n');
    expect(await json<{ state: string }>('start', 'web1')).toMatchObject({ state: 'running' });
    expect((await storm('reboot', 'web1')).stdout).toBe('web1: running on host-a\n');
    await feed.waitForLine(/"state":"running","from":"stopped"/, 10_000);
    expect(await feed.stop('SIGINT')).toEqual({ code: 0, signal: null });
    const lines = feed
      .output()
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { type: string; data: { name: string; state: string } })
      .filter((e) => e.type === 'instance.state');
    expect(lines.map((e) => `${e.type} ${e.data.name} ${e.data.state}`)).toEqual([
      'instance.state web1 stopped',
      'instance.state web1 running',
    ]);
    const recent = await storm('events', '--recent', '5', '--type', 'instance');
    expect(recent.stdout).toMatch(/^\d\d:\d\d:\d\d instance\.state id=i-[0-9a-f]+ name=web1 state=stopped from=running$/m);
  }, 60_000);

  it('console prints the tail of the serial log; --follow prints what is written next until Ctrl-C', async () => {
    const { id } = await json<{ id: string }>('show', 'web1');
    // test:///default runs no guest: write what a guest would to the log stormd keeps for it.
    const log = join(host.data, 'instances', id, 'console.log');
    await appendFile(log, 'STORM: layers ok\nlogin: ');
    const tail = await storm('console', 'web1');
    expect(tail.stdout).toBe('STORM: layers ok\nlogin: ');
    expect(await json<{ text: string; size: number }>('console', 'web1', '--bytes', '7')).toEqual({
      text: 'login: ',
      size: 24,
      offset: 17,
    });

    const follow = startProcess(process.execPath, cliArgs(['console', 'web1', '--follow', '--bytes', '7']));
    await follow.waitForLine(/login: /, 10_000);
    await appendFile(log, 'root\nhello, wörld\n');
    await follow.waitForLine(/hello, wörld\n/, 10_000);
    expect(await follow.stop('SIGINT')).toEqual({ code: 0, signal: null });
    expect(follow.output()).toBe('login: root\nhello, wörld\n');
  }, 30_000);

  it('rm needs --yes when stdin is not a terminal, and removes nothing without it', async () => {
    const refused = await storm('rm', 'web1');
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(/needs confirmation and stdin is not a terminal: pass --yes/);
    expect((await json<{ name: string }[]>('ls')).map((i) => i.name)).toEqual(['web1']);

    const removed = await storm('rm', 'web1', '--yes');
    expect(removed.code, removed.output).toBe(0);
    expect(removed.stdout).toBe('destroyed web1\n');
    expect(await json<unknown[]>('ls')).toEqual([]);
    expect(await readdir(join(host.data, 'instances'))).toEqual([]);

    // --json on launch and rm: a cached appliance now, so no pull; the instance view, then the removal.
    const launched = await json<{ name: string; state: string; version: string }>('launch', 'hello-web@1.0.0', 'web2', '--host', 'host-a');
    expect(launched).toMatchObject({ name: 'web2', state: 'running', version: '1.0.0' });
    expect(await json<{ name: string; destroyed: boolean }>('rm', 'web2', '-y')).toMatchObject({ name: 'web2', destroyed: true });
  }, 60_000);

  it('images and reconcile, with --json', async () => {
    const images = await storm('images');
    expect(images.stdout).toMatch(
      /^[0-9a-f]{12}\s+os\s+[\d.]+ KiB\s+\d+s ago\s+hello-web 1\.0\.0, hello-web 1\.1\.0, mail-relay 0\.1\.0$/m,
    );
    expect(images.stdout).toMatch(/^6 files, [\d.]+ KiB$/m);
    expect(await json<{ sha256: string }[]>('images')).toHaveLength(6);
    expect((await storm('reconcile')).stdout).toBe('checked 1 host (host-a)\nnothing to repair\n');
    expect(await json<{ hostsChecked: string[]; errors: string[] }>('reconcile')).toMatchObject({ hostsChecked: ['host-a'], errors: [] });
  });
});

describe('pki-bundle', () => {
  it('writes the libvirt files with their modes; openssl verifies them against the CA; refuses to overwrite without --force', async () => {
    const out = join(work, 'bundle');
    const r = await storm('host', 'pki-bundle', 'host-a', '--out', out);
    expect(r.code, r.output).toBe(0);
    expect((await stat(out)).mode & 0o777).toBe(0o700);
    const modes = Object.fromEntries(
      await Promise.all((await readdir(out)).sort().map(async (f) => [f, ((await stat(join(out, f))).mode & 0o777).toString(8)] as const)),
    );
    expect(modes).toEqual({
      'cacert.pem': '644',
      'cacrl.pem': '644',
      'clientcert.pem': '644',
      'clientkey.pem': '600',
      'servercert.pem': '644',
      'serverkey.pem': '600',
    });
    for (const cert of ['servercert.pem', 'clientcert.pem']) {
      const v = spawnSync('openssl', ['verify', '-CAfile', 'cacert.pem', cert], { cwd: out, encoding: 'utf8' });
      expect(v.status, v.stderr).toBe(0);
      expect(v.stdout).toBe(`${cert}: OK\n`);
    }

    const before = await readFile(join(out, 'serverkey.pem'), 'utf8');
    const again = await storm('host', 'pki-bundle', 'host-a', '--out', out);
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(/^storm: CLI_ERR_EXISTS: .*cacert\.pem.* already exist; pass --force to replace them$/m);
    expect(await readFile(join(out, 'serverkey.pem'), 'utf8')).toBe(before);

    const forced = await json<{ files: { path: string; mode: string }[]; issued: { server: { serial: string } } }>(
      'host',
      'pki-bundle',
      'host-a',
      '--out',
      out,
      '--force',
    );
    expect(forced.files.map((f) => f.mode)).toEqual(['0644', '0644', '0644', '0600', '0644', '0600']);
    expect(forced.issued.server.serial).toMatch(/^[0-9a-f]+$/);
    expect(JSON.stringify(forced)).not.toMatch(/PRIVATE KEY/);
    expect(await readFile(join(out, 'serverkey.pem'), 'utf8')).not.toBe(before);
  }, 60_000);
});

describe('usage and errors', () => {
  it('help for every command; usage errors exit 2; API errors print the code and exit 1', async () => {
    const help = await storm('help', 'launch');
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/^usage: storm launch APPLIANCE\[@VERSION\] NAME \[--param KEY=VALUE\]\.\.\. \[--host HOST\]/);
    expect((await storm('host', '--help')).stdout).toMatch(/storm host pki-bundle HOST --out DIR \[--force\]/);
    expect((await storm('--help')).stdout).toMatch(/^\s+reconcile\s+/m);
    expect((await storm('bogus')).code).toBe(2);
    expect((await storm('launch', 'hello-web')).code).toBe(2);
    expect((await storm('ls', '--bogus')).code).toBe(2);
    expect((await storm('host', 'token', '--ttl', '0')).code).toBe(2);

    const missing = await storm('show', 'nope');
    expect(missing.code).toBe(1);
    expect(missing.stderr).toBe('storm: MGR_ERR_NOT_FOUND: not found: instance nope\n');
    const noAppliance = await storm('launch', 'no-such', 'x1');
    expect(noAppliance.code).toBe(1);
    expect(noAppliance.stderr).toMatch(/^storm: CLI_ERR_NOT_FOUND: no appliance no-such/);
  });

  it('host rm asks like rm, then revokes', async () => {
    expect((await storm('host', 'rm', 'host-a')).code).toBe(2);
    expect((await json<{ status: string }>('host', 'show', 'host-a')).status).toBe('ready');
    const revoked = await storm('host', 'rm', 'host-a', '--yes');
    expect(revoked.stdout).toBe('revoked host-a\n');
    expect((await storm('hosts')).stdout).toMatch(/host-a\s+revoked/);
  });
});
