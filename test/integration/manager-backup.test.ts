/**
 * `storm-manager backup` and `restore` with the real binaries: a running manager with two stormd
 * hosts on libvirt test:///default and an instance on each is backed up while it runs; the old
 * manager is stopped, the backup restored into a fresh folder and started on the same URL. Both
 * hosts are ready again with their next heartbeat, `storm ls` shows the same instances, and a launch
 * works (its layers fetched again from the channel). A wrong passphrase, a changed byte in the
 * header, the middle or the last chunk, and a cut-short file are each refused and change nothing.
 */
import { spawn } from 'node:child_process';
import { mkdir, readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { get } from 'node:https';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readCrl } from '../../stormd/src/tls/crl-info.js';
import { type ManagerProcess, ROOT, startManager } from '../helpers/manager-process.js';
import { pollUntil } from '../helpers/poll.js';
import { startProcess } from '../helpers/process.js';
import { type StormCli, stormCli } from '../helpers/storm-cli.js';
import { joinStormd, startStormd, type StormdProcess } from '../helpers/stormd-process.js';
import { startSubscribedManager, type SubscribedManager } from '../helpers/subscribed-manager.js';

interface HostJson {
  name: string;
  status: string;
  lastHeartbeat: string | null;
}
interface InstanceJson {
  name: string;
  state: string;
  host: { name: string } | null;
  appliance: string;
}

let env: SubscribedManager;
let hosts: StormdProcess[];
let cli: StormCli;
let passFile: string;
let backupFile: string;
let instancesBefore: string[];

async function managerCommand(...args: string[]): Promise<{ code: number | null; output: string }> {
  const p = startProcess(process.execPath, [join(ROOT, 'bin/storm-manager.js'), ...args]);
  const { code } = await p.exited();
  return { code, output: p.output() };
}

/** The CRL number a manager publishes now. */
const managerCrlNumber = (m: Pick<ManagerProcess, 'url' | 'ca'>) =>
  new Promise<number>((resolve, reject) => {
    get(`${m.url}/api/v1/pki/crl`, { ca: m.ca }, (res) => {
      let body = '';
      res.on('data', (c: Buffer) => (body += c.toString()));
      res.on('end', () => resolve(readCrl(body, m.ca).crlNumber));
    }).on('error', reject);
  });
const hostCrlNumber = async (h: StormdProcess, ca: string) => readCrl(await readFile(join(h.data, 'crl.pem'), 'utf8'), ca).crlNumber;

const instanceLines = async (c: StormCli) =>
  (await c.json<InstanceJson[]>('ls')).map((i) => `${i.name} ${i.state} ${i.host?.name ?? '-'} ${i.appliance}`).sort();

beforeAll(async () => {
  env = await startSubscribedManager('storm-backup-');
  hosts = [];
  for (const name of ['host-a', 'host-b'])
    hosts.push(await startStormd(env.manager, { name, dir: env.dir, hypervisor: 'test:///default' }));
  cli = stormCli(env.manager.url, join(env.dir, 'manager'));
  for (const [name, host] of [
    ['web-a', 'host-a'],
    ['web-b', 'host-b'],
  ]) {
    const r = await cli.run(['launch', 'hello-web', name!, '--host', host!]);
    expect(r.code, r.output).toBe(0);
  }
  // A heartbeat collected just before a start may report the domain's earlier state once more.
  instancesBefore = await pollUntil(
    'both instances running',
    async () => {
      const lines = await instanceLines(cli);
      return lines.every((l) => l.includes(' running ')) ? lines : undefined;
    },
    { timeoutMs: 30_000 },
  );
  passFile = join(env.dir, 'passphrase');
  await writeFile(passFile, 'correct horse battery staple\n', { mode: 0o600 });
  backupFile = join(env.dir, 'manager.stormbak');
}, 180_000);
afterAll(() => env?.close());

describe('backup of a running manager', () => {
  it('writes an encrypted backup while the manager serves heartbeats, and --list checks and shows it', async () => {
    expect(instancesBefore).toEqual(['web-a running host-a hello-web', 'web-b running host-b hello-web']);
    const made = await managerCommand('backup', '--to', backupFile, '--data', join(env.dir, 'manager'), '--passphrase-file', passFile);
    expect(made.code, made.output).toBe(0);
    expect(made.output).toMatch(
      /^backup written to \S+manager\.stormbak \([\d.]+ KiB, \d+ files\): 2 hosts, 2 instances, 1 channel, 0 packages, 1 API token$/m,
    );
    expect(made.output).toMatch(
      /left out images\/ \(\d+ files, [\d.]+ KiB\): the layer cache: layers are fetched again from their channels/,
    );
    expect((await stat(backupFile)).mode & 0o777).toBe(0o600);
    // Only ciphertext: not even the CA's subject appears in the file.
    expect((await readFile(backupFile)).includes(Buffer.from('BEGIN'))).toBe(false);

    const list = await managerCommand('backup', '--list', backupFile, '--passphrase-file', passFile);
    expect(list.code, list.output).toBe(0);
    expect(list.output).toMatch(/intact \(every chunk and every file's sha256 checked\)/);
    expect(list.output).toMatch(/holds\s+2 hosts, 2 instances, 1 channel, 0 packages, 1 API token/);
    expect(list.output).toMatch(/format\s+version 1: scrypt N=2\^17 r=8 p=1, AES-256-GCM in \d+ chunks of 64\.0 KiB/);
    const row = (mode: string, path: string) => new RegExp(`^${mode}\\s+[\\d.]+ K?i?B\\s+${path.replace(/\./g, '\\.')}\\s`, 'm');
    for (const path of ['storm.db', 'pki/ca.key', 'admin.token', 'local-channel/publisher.key', 'pki/manager-https.key'])
      expect(list.output).toMatch(row('0600', path));
    for (const path of ['pki/ca.pem', 'local-channel/publisher.pub']) expect(list.output).toMatch(row('0644', path));
    expect(list.output).toMatch(/^0600\s+\S+ KiB\s+storm\.db\s+database snapshot \(VACUUM INTO\)$/m);
    // Everything a running manager with hosts and instances writes is classified: nothing unrecognised.
    expect(list.output).not.toMatch(/not recognised/);
  }, 60_000);
});

describe('after the backup, the old manager goes on', () => {
  it('revokes two hosts that joined after the backup: every host holds a CRL numbered past the backup', async () => {
    for (const name of ['late-1', 'late-2']) {
      const joined = await joinStormd(env.manager, { name, data: join(env.dir, name), url: 'https://127.0.0.1:9' });
      expect(joined.code, joined.output).toBe(0);
      const { hosts: list } = await env.manager.api.get<{ hosts: { id: string; name: string }[] }>('/hosts');
      await env.manager.api.delete(`/hosts/${list.find((h) => h.name === name)!.id}`);
    }
    const latest = await managerCrlNumber(env.manager);
    for (const h of hosts)
      await pollUntil(
        `${h.name} to load CRL ${latest}`,
        async () => ((await hostCrlNumber(h, env.manager.ca)) === latest ? true : undefined),
        { timeoutMs: 20_000 },
      );
  }, 60_000);
});

describe('restore on a fresh data folder', () => {
  let restored: ManagerProcess;

  it('the restored manager, on the old URL, takes its hosts back with their next heartbeat and keeps the instances', async () => {
    const target = join(env.dir, 'restored');
    const port = new URL(env.manager.url).port;
    expect(await env.manager.proc.stop('SIGTERM')).toEqual({ code: 0, signal: null });

    const r = await managerCommand('restore', '--from', backupFile, '--data', target, '--passphrase-file', passFile);
    expect(r.code, r.output).toBe(0);
    expect(r.output).toMatch(/restored into \S+restored: 2 hosts, 2 instances/);
    expect(r.output).toContain(`its hosts reach it at ${env.manager.url}`);
    expect((await stat(target)).mode & 0o777).toBe(0o700);
    expect((await stat(join(target, 'pki'))).mode & 0o777).toBe(0o700);
    for (const f of ['pki/ca.key', 'admin.token', 'storm.db', 'local-channel/publisher.key'])
      expect((await stat(join(target, f))).mode & 0o777, f).toBe(0o600);
    expect(await readFile(join(target, 'pki/ca.pem'), 'utf8')).toBe(env.manager.ca);

    restored = await startManager(target, ['--listen', `127.0.0.1:${port}`, '--channel-allow', '127.0.0.0/8', '--heartbeat', '1']);
    expect(restored.url).toBe(env.manager.url);
    const started = Date.now();
    const logged = hosts.map((h) => h.proc.output().length);
    const newCli = stormCli(restored.url, target);
    await pollUntil(
      'both hosts to heartbeat the restored manager',
      async () => {
        const list = await newCli.json<HostJson[]>('hosts');
        const fresh = list.filter((h) => h.status === 'ready' && h.lastHeartbeat !== null && Date.parse(h.lastHeartbeat) >= started - 1000);
        return fresh.length === 2 ? true : undefined;
      },
      { timeoutMs: 60_000, everyMs: 250 },
    );
    const tookMs = Date.now() - started;
    // Within two heartbeats: at most one attempt (one racing the start) failed once the manager listened.
    hosts.forEach((h, i) => {
      const failedSince =
        h.proc
          .output()
          .slice(logged[i])
          .match(/heartbeat failed/g)?.length ?? 0;
      expect(failedSince, `${h.name} heartbeats failed after the restored manager listened`).toBeLessThanOrEqual(1);
    });
    console.log(`backup test: both hosts ready ${tookMs} ms after the restored manager listened`);
    const table = await newCli.run(['hosts']);
    expect(table.stdout).toMatch(/^host-a\s+ready\s/m);
    expect(table.stdout).toMatch(/^host-b\s+ready\s/m);
    expect(await instanceLines(newCli)).toEqual(instancesBefore);
    // The restored manager's CRLs reach the hosts although the old one numbered on after the backup.
    const crl = await managerCrlNumber(restored);
    for (const h of hosts)
      await pollUntil(
        `${h.name} to load the restored manager's CRL`,
        async () => ((await hostCrlNumber(h, restored.ca)) === crl ? true : undefined),
        { timeoutMs: 20_000 },
      );
    const ls = await newCli.run(['ls']);
    expect(ls.stdout).toMatch(/^web-a\s+running\s+host-a\s/m);
    expect(ls.stdout).toMatch(/^web-b\s+running\s+host-b\s/m);
    cli = newCli;
  }, 120_000);

  it('a launch works: the layers, left out of the backup, are fetched again from the channel', async () => {
    const r = await cli.run(['launch', 'hello-web', 'web-c']);
    expect(r.code, r.output).toBe(0);
    expect(r.stderr).toMatch(/hello-web 1\.1\.0: pulled [\d.]+ KiB, verified/);
    expect(r.stdout).toMatch(/^web-c: running on host-[ab]/);
    expect((await instanceLines(cli)).filter((l) => l.startsWith('web-c'))).toHaveLength(1);
    // And the hosts still answer the restored manager for their old instances.
    expect((await cli.run(['stop', 'web-a'])).stdout).toBe('web-a: stopped on host-a\n');
  }, 90_000);
});

describe('a damaged or wrongly unlocked backup changes nothing', () => {
  const cases: { name: string; damage: (b: Buffer) => Buffer; passphrase?: string; error: RegExp }[] = [
    {
      name: 'a wrong passphrase',
      damage: (b) => b,
      passphrase: 'correct horse battery stapler',
      error: /MGR_ERR_BACKUP_PASSPHRASE: wrong passphrase, or the backup's header is damaged/,
    },
    {
      name: 'a changed byte in the header (the salt)',
      damage: (b) => flip(b, 20),
      error: /MGR_ERR_BACKUP_PASSPHRASE: wrong passphrase, or the backup's header is damaged/,
    },
    {
      name: 'a changed byte in the middle',
      damage: (b) => flip(b, b.length >> 1),
      error: /MGR_ERR_BACKUP_DAMAGED: the backup is damaged: chunk \d+ of \d+ fails authentication/,
    },
    {
      name: 'a changed byte in the last chunk',
      damage: (b) => flip(b, b.length - 20),
      error: /MGR_ERR_BACKUP_DAMAGED: the backup is damaged: chunk (\d+) of \1 fails authentication/,
    },
    {
      name: 'a file cut short',
      damage: (b) => b.subarray(0, Math.floor((b.length * 2) / 3)),
      error: /MGR_ERR_BACKUP_TRUNCATED: the backup is cut short: \S+ holds \d+ of its \d+ bytes/,
    },
  ];

  for (const c of cases) {
    it(`refuses ${c.name}`, async () => {
      const bad = join(env.dir, 'damaged.stormbak');
      await writeFile(bad, c.damage(await readFile(backupFile)));
      const pass = join(env.dir, 'try-passphrase');
      await writeFile(pass, `${c.passphrase ?? 'correct horse battery staple'}\n`);
      // An existing empty folder (kept empty, not even touched) and a missing one (still missing).
      const empty = join(env.dir, 'empty-target');
      await mkdir(empty, { recursive: true });
      const emptyBefore = await stat(empty);
      const entriesBefore = (await readdir(env.dir)).sort();
      for (const target of [empty, join(env.dir, 'missing-target')]) {
        const r = await managerCommand('restore', '--from', bad, '--data', target, '--passphrase-file', pass);
        expect(r.code, r.output).toBe(1);
        expect(r.output).toMatch(c.error);
        expect(r.output).toContain(`(${target} was not changed)`);
      }
      expect(await readdir(empty)).toEqual([]);
      expect((await stat(empty)).mtimeMs).toBe(emptyBefore.mtimeMs);
      expect((await readdir(env.dir)).sort()).toEqual(entriesBefore);
    }, 60_000);
  }

  it('refuses a folder that holds files unless --force, before asking for a passphrase', async () => {
    const r = await managerCommand('restore', '--from', backupFile, '--data', join(env.dir, 'manager'));
    expect(r.code).toBe(1);
    expect(r.output).toMatch(/MGR_ERR_BACKUP_TARGET_NOT_EMPTY: .* holds \d+ entries; restore into a new or empty folder, or pass --force/);
  });
});

/** Runs storm-manager on a pseudo-terminal (util-linux `script`), typing each answer once its prompt shows. */
function onTerminal(
  args: readonly string[],
  answers: readonly { after: RegExp; type: string }[],
): Promise<{ code: number | null; output: string }> {
  const command = [process.execPath, join(ROOT, 'bin/storm-manager.js'), ...args].map((a) => `'${a.replace(/'/g, "'\\''")}'`).join(' ');
  const child = spawn('script', ['-qec', command, '/dev/null'], { stdio: ['pipe', 'pipe', 'pipe'] });
  let output = '';
  let next = 0;
  const onData = (b: Buffer) => {
    output += b.toString();
    const a = answers[next];
    if (a?.after.test(output)) {
      next += 1;
      child.stdin.write(`${a.type}\r`);
    }
  };
  child.stdout.on('data', onData);
  child.stderr.on('data', onData);
  return new Promise((resolve) => child.on('close', (code) => resolve({ code, output })));
}

describe('the passphrase typed on a terminal', () => {
  it('is asked twice for a new backup, never echoed, and must match; --list asks once', async () => {
    const pass = 'typed on the terminal, not echoed';
    const to = join(env.dir, 'typed.stormbak');
    const typed = await onTerminal(
      ['backup', '--to', to, '--data', join(env.dir, 'restored')],
      [
        { after: /Backup passphrase: /, type: pass },
        { after: /Again: /, type: pass },
      ],
    );
    expect(typed.code, typed.output).toBe(0);
    expect(typed.output).toMatch(/backup written to/);
    expect(typed.output).not.toContain(pass);
    const differ = await onTerminal(
      ['backup', '--to', join(env.dir, 'differ.stormbak'), '--data', join(env.dir, 'restored')],
      [
        { after: /Backup passphrase: /, type: pass },
        { after: /Again: /, type: `${pass}!` },
      ],
    );
    expect(differ.code).toBe(1);
    expect(differ.output).toMatch(/MGR_ERR_BACKUP_NO_PASSPHRASE: no usable passphrase: the two entries differ; nothing was written/);
    await expect(stat(join(env.dir, 'differ.stormbak'))).rejects.toThrow(/ENOENT/);
    const listed = await onTerminal(['backup', '--list', to], [{ after: /Backup passphrase: /, type: pass }]);
    expect(listed.code, listed.output).toBe(0);
    expect(listed.output).toMatch(/intact/);
    expect(listed.output.match(/passphrase: /g)).toHaveLength(1);
  }, 60_000);
});

describe('help and usage', () => {
  it('storm-manager --help names both commands; each has its own --help; bad usage exits 2', async () => {
    const top = await managerCommand('--help');
    expect(top.code).toBe(0);
    expect(top.output).toMatch(/storm-manager backup --to FILE \| --list FILE/);
    expect(top.output).toMatch(/storm-manager restore --from FILE --data DIR/);
    const b = await managerCommand('backup', '--help');
    expect(b.output).toMatch(/^usage: storm-manager backup --to FILE/);
    expect(b.output).toMatch(/--passphrase-file FILE/);
    const r = await managerCommand('restore', '--help');
    expect(r.output).toMatch(/^usage: storm-manager restore --from FILE --data DIR .*--force/);
    const neither = await managerCommand('backup', '--data', join(env.dir, 'manager'));
    expect(neither.code).toBe(2);
    expect(neither.output).toMatch(/give exactly one of --to FILE .* and --list FILE/);
    const noData = await managerCommand('restore', '--from', backupFile);
    expect(noData.code).toBe(2);
    expect(noData.output).toMatch(/--data is required/);
  }, 30_000);
});

function flip(b: Buffer, at: number): Buffer {
  const out = Buffer.from(b);
  out[at] = out[at]! ^ 0x01;
  return out;
}
