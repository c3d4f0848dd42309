/**
 * The manager's Kerberos realm with real parts: a storm-manager process with `--kdc-listen` on
 * loopback, a stormd on libvirt test:///default, the `storm` CLI, MIT's clients (kinit, kvno, klist)
 * and python's xmlrpc.client. A user added or given a password with the CLI logs in with kinit
 * (and only with the current password); an instance gets host/<fqdn> and the services its
 * descriptor declares at launch, fetches exactly those keys over XML-RPC (another instance's are a
 * fault) and loses them when destroyed; a deleted user's principal goes; a user from before the
 * realm gets one at the next password change; the KDC killed is serving again within 5 s; nothing
 * under the realm's folder is readable by others; SIGTERM stops the KDC with the manager, and a manager
 * killed with SIGKILL leaves no KDC behind.
 */
import { execFile } from 'node:child_process';
import { cp, mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readInstanceFile } from '../../stormd/src/instances/instance-layer.js';
import { FIXTURE_CHANNEL_SRC, publishChannel, type PublishedChannel } from '../helpers/channel-fixture.js';
import { kerberosClient } from '../helpers/kerberos-clients.js';
import { type ManagerProcess, startManager } from '../helpers/manager-process.js';
import { pollUntil } from '../helpers/poll.js';
import { stopAllProcesses } from '../helpers/process.js';
import { type StormCli, stormCli } from '../helpers/storm-cli.js';
import { freePort, startStormd, type StormdProcess } from '../helpers/stormd-process.js';

const run = promisify(execFile);
let work: string;
let data: string;
let channel: PublishedChannel;
let manager: ManagerProcess;
let host: StormdProcess;
let cli: StormCli;
let kdcPort: number;

interface Realm {
  enabled: boolean;
  realm: string;
  kdc: { state: string; pid: number | null; restarts: number };
  users: { uid: string; principal: string | null; missing?: string }[];
  instances: { name: string; principals: string[] }[];
  usersWithoutPrincipal: string[];
}
interface Instance {
  id: string;
  name: string;
}

const krb5Conf = () => join(data, 'kerberos', 'krb5.conf');
const fresh = (name: string) => kerberosClient(krb5Conf(), work, name);
const realm = () => cli.json<Realm>('kerberos');
const managerArgs = () => ['--channel-allow', '127.0.0.0/8', '--heartbeat', '1', '--kdc-listen', `127.0.0.1:${kdcPort}`];

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'storm-kerberos-'));
  data = join(work, 'manager');
  kdcPort = await freePort();
  // The fixture channel plus an appliance whose descriptor declares an HTTP service principal.
  const src = join(work, 'channel-src');
  await cp(FIXTURE_CHANNEL_SRC, src, { recursive: true });
  const base = JSON.parse(await readFile(join(src, 'hello-web-1.0.0', 'manifest.json'), 'utf8')) as Record<string, unknown>;
  await mkdir(join(src, 'kdc-web-1.0.0'));
  const layers = (base['layers'] as { kind: string; dir: string }[]).map((l) =>
    l.kind === 'appliance' ? { ...l, dir: '../hello-web-1.0.0/rootfs' } : l,
  );
  await writeFile(
    join(src, 'kdc-web-1.0.0', 'manifest.json'),
    JSON.stringify({ ...base, name: 'kdc-web', title: 'Kerberized web', layers, principals: ['HTTP'] }),
  );
  channel = await publishChannel({ src });

  // A manager without a realm first: its user predates the KDC.
  manager = await startManager(data, ['--channel-allow', '127.0.0.0/8']);
  cli = stormCli(manager.url, data);
  const early = await cli.run(['user', 'add', 'early', '--surname', 'Bird'], { input: 'early-bird-2026\n' });
  expect(early.code, early.output).toBe(0);
  expect((await cli.json<{ enabled: boolean }>('kerberos')).enabled).toBe(false);
  expect((await manager.proc.stop('SIGTERM')).code).toBe(0);

  manager = await startManager(data, managerArgs());
  cli = stormCli(manager.url, data);
  await manager.api.post('/channels', { url: channel.feedUrl, publicKey: channel.publicKey });
  host = await startStormd(manager, { name: 'host-a', dir: work, hypervisor: 'test:///default' });
}, 180_000);

afterAll(async () => {
  await stopAllProcesses();
  await channel?.close();
  await rm(work, { recursive: true, force: true });
});

describe('users: storm user add and passwd set the Kerberos password', () => {
  it('kinit takes the password storm user add gave, and refuses a wrong one', async () => {
    const add = await cli.run(['user', 'add', 'alice', '--name', 'Alice Liddell', '--surname', 'Liddell'], { input: 'wonderland-2026\n' });
    expect(add.code, add.output).toBe(0);
    const c = fresh('alice-1');
    const ok = await c.kinit('alice', 'wonderland-2026');
    expect(ok.code, ok.output).toBe(0);
    const wrong = await c.kinit('alice', 'looking-glass-1');
    expect(wrong.code).not.toBe(0);
    expect(wrong.output).toMatch(/Password incorrect|Preauthentication failed/);
  });

  it('after storm user passwd the new password works and the old one does not', async () => {
    const passwd = await cli.run(['user', 'passwd', 'alice'], { input: 'through-the-glass\n' });
    expect(passwd.code, passwd.output).toBe(0);
    const c = fresh('alice-2');
    expect((await c.kinit('alice', 'through-the-glass')).code).toBe(0);
    expect((await c.kinit('alice', 'wonderland-2026')).code).not.toBe(0);
  });

  it('refuses a password Kerberos cannot take before changing anything', async () => {
    const r = await manager.api.patch('/directory/users/alice', { password: 'x'.repeat(1023) }).then(
      () => 'accepted',
      (err: Error & { code?: string }) => `${err.code} ${err.message}`,
    );
    expect(r).toMatch(/MGR_ERR_VALIDATION.*at most 1022 bytes/);
    expect((await fresh('alice-3').kinit('alice', 'through-the-glass')).code).toBe(0);
  });

  it('a user from before the realm gets a principal at the next password change, as storm kerberos says', async () => {
    let r = await realm();
    expect(r.users.find((u) => u.uid === 'early')).toEqual({ uid: 'early', principal: null, missing: 'password-predates-realm' });
    expect(r.usersWithoutPrincipal).toEqual(['early']);
    const human = await cli.run(['kerberos']);
    expect(human.stdout).toMatch(/early\s+- \(at the next storm user passwd\)/);
    expect(human.stdout).toContain('1 user(s) have no principal yet: early');
    // storm doctor says so too, beside the KDC's health (its exit status is about every check, hosts too).
    const doctor = JSON.parse((await cli.run(['--json', 'doctor'])).stdout) as {
      checks: { scope: string; name: string; status: string; message: string }[];
    };
    const kerberosLines = doctor.checks.filter((c) => c.name.startsWith('kerberos-'));
    expect(kerberosLines.map((c) => `${c.scope} ${c.name} ${c.status}`)).toEqual([
      'manager kerberos-kdc ok',
      'manager kerberos-files ok',
      'manager kerberos-principals ok',
    ]);
    expect(kerberosLines[2]!.message).toMatch(
      /1 from before the realm have none yet \(early\): each gets one at the next storm user passwd/,
    );
    expect((await fresh('early-1').kinit('early', 'early-bird-2026')).code).not.toBe(0);
    expect((await cli.run(['user', 'passwd', 'early'], { input: 'early-bird-2027\n' })).code).toBe(0);
    expect((await fresh('early-2').kinit('early', 'early-bird-2027')).code).toBe(0);
    r = await realm();
    expect(r.users.find((u) => u.uid === 'early')?.principal).toBe('early@STORM.INTERNAL');
    expect(r.usersWithoutPrincipal).toEqual([]);
  });
});

describe('instances: principals at launch, keytabs over XML-RPC, gone when destroyed', () => {
  let web1: Instance;

  it('gives each instance host/<fqdn> and its declared services; kvno gets tickets for them', async () => {
    web1 = await manager.api.post<Instance>('/instances', { appliance: 'kdc-web', name: 'web1' });
    await manager.api.post<Instance>('/instances', { appliance: 'hello-web', version: '1.0.0', name: 'web2' });
    const r = await realm();
    expect(r.instances).toEqual(
      expect.arrayContaining([
        { name: 'web1', principals: ['HTTP/web1.storm.internal@STORM.INTERNAL', 'host/web1.storm.internal@STORM.INTERNAL'] },
        { name: 'web2', principals: ['host/web2.storm.internal@STORM.INTERNAL'] },
      ]),
    );
    const c = fresh('kvno-1');
    expect((await c.kinit('alice', 'through-the-glass')).code).toBe(0);
    for (const p of ['host/web1.storm.internal', 'HTTP/web1.storm.internal', 'host/web2.storm.internal']) {
      const k = await c.kvno(p);
      expect(k.code, k.output).toBe(0);
      expect(k.output).toContain(`${p}@STORM.INTERNAL: kvno = 1`);
    }
    const human = await cli.run(['kerberos']);
    expect(human.stdout).toMatch(/web1\s+HTTP\/web1\.storm\.internal@STORM\.INTERNAL host\/web1\.storm\.internal@STORM\.INTERNAL/);
  });

  it("storm.getKeytab gives an instance its own keys; asking for another's is a fault", async () => {
    const token = async (i: Instance) =>
      (await readInstanceFile(join(host.data, 'instances', i.id, 'writable', 'w0.qcow2'), 'upper/etc/storm/token')).toString().trim();
    const ca = join(work, 'ca.pem');
    await writeFile(ca, manager.ca);
    const keytab = join(work, 'web1.keytab');
    const script = join(work, 'keytab.py');
    await writeFile(
      script,
      `import json, ssl, sys, xmlrpc.client
url, ca, mine, out_file = sys.argv[1:5]
ctx = ssl.create_default_context(cafile=ca)
proxy = xmlrpc.client.ServerProxy(url, context=ctx, headers=[("Authorization", "Bearer " + mine)])
out = {}
config = proxy.storm.getConfig()
out["kerberos"] = config["services"]["kerberos"]
got = proxy.storm.getKeytab()
open(out_file, "wb").write(got["keytab"].data)
out["own"] = {"realm": got["realm"], "principals": got["principals"]}
out["byName"] = proxy.storm.getKeytab("web1")["principals"]
for whose in ["web2", "web2.storm.internal", "host/web2.storm.internal@STORM.INTERNAL"]:
    try:
        proxy.storm.getKeytab(whose)
        out[whose] = "answered"
    except xmlrpc.client.Fault as f:
        out[whose] = {"fault": f.faultCode, "message": f.faultString}
print(json.dumps(out))
`,
    );
    const py = await run('python3', [script, `${manager.url}/RPC2`, ca, await token(web1), keytab]).catch(
      (err: { stdout?: string; stderr?: string }) => ({ stdout: `${err.stdout ?? ''}${err.stderr ?? ''}` }),
    );
    const out = JSON.parse(py.stdout.trim().split('\n').at(-1) ?? '{}') as Record<string, unknown>;
    expect(out['kerberos']).toEqual({ realm: 'STORM.INTERNAL', kdc: `storm.local:${kdcPort}` });
    expect(out['own']).toEqual({
      realm: 'STORM.INTERNAL',
      principals: ['host/web1.storm.internal@STORM.INTERNAL', 'HTTP/web1.storm.internal@STORM.INTERNAL'],
    });
    expect(out['byName']).toEqual(['host/web1.storm.internal@STORM.INTERNAL', 'HTTP/web1.storm.internal@STORM.INTERNAL']);
    for (const whose of ['web2', 'web2.storm.internal', 'host/web2.storm.internal@STORM.INTERNAL'])
      expect(out[whose], whose).toEqual({ fault: 5, message: expect.stringMatching(/only its own keytab \(web1\)/) });
    // The keys are the KDC's: klist lists exactly web1's, and kinit -k gets a ticket with them.
    const c = fresh('host-web1');
    const listed = await c.klistKeytab(keytab);
    expect(listed.output).toContain('host/web1.storm.internal@STORM.INTERNAL');
    expect(listed.output).toContain('HTTP/web1.storm.internal@STORM.INTERNAL');
    expect(listed.output).not.toContain('web2');
    const k = await c.kinitKeytab(keytab, 'host/web1.storm.internal');
    expect(k.code, k.output).toBe(0);
  });

  it('destroying an instance removes its principals', async () => {
    const rm1 = await cli.run(['rm', 'web1', '--yes']);
    expect(rm1.code, rm1.output).toBe(0);
    expect((await realm()).instances.map((i) => i.name)).toEqual(['web2']);
    const c = fresh('kvno-2');
    expect((await c.kinit('alice', 'through-the-glass')).code).toBe(0);
    for (const p of ['host/web1.storm.internal', 'HTTP/web1.storm.internal'])
      expect((await c.kvno(p)).output).toMatch(/not found in Kerberos database/);
    expect((await c.kvno('host/web2.storm.internal')).code).toBe(0);
  });
});

describe('the KDC process', () => {
  it('deleting a user removes their principal', async () => {
    expect((await cli.run(['user', 'add', 'bob', '--surname', 'Builder'], { input: 'can-we-fix-it\n' })).code).toBe(0);
    expect((await fresh('bob-1').kinit('bob', 'can-we-fix-it')).code).toBe(0);
    expect((await cli.run(['user', 'rm', 'bob', '--yes'])).code).toBe(0);
    const gone = await fresh('bob-2').kinit('bob', 'can-we-fix-it');
    expect(gone.code).not.toBe(0);
    expect(gone.output).toMatch(/not found in Kerberos database/);
    expect((await realm()).users.map((u) => u.uid)).not.toContain('bob');
  });

  it('killed, it is started again by the manager and kinit works within 5 s', async () => {
    const before = (await realm()).kdc;
    expect(before.state).toBe('running');
    const killedAt = Date.now();
    process.kill(before.pid!, 'SIGKILL');
    const c = fresh('after-kill');
    await pollUntil(
      'kinit after the KDC was killed',
      async () => ((await c.kinit('alice', 'through-the-glass')).code === 0 ? true : undefined),
      { timeoutMs: 5000, everyMs: 100 },
    );
    const tookMs = Date.now() - killedAt;
    expect(tookMs).toBeLessThan(5000);
    const after = (await realm()).kdc;
    expect(after).toMatchObject({ state: 'running', restarts: before.restarts + 1 });
    expect(after.pid).not.toBe(before.pid);
    expect(manager.proc.output()).toMatch(/krb5kdc exited \(SIGKILL\); starting it again/);
  });

  it('nothing of the realm is readable by anyone but the manager', async () => {
    expect((await stat(data)).mode & 0o077).toBe(0);
    const dir = join(data, 'kerberos');
    const walk = async (d: string): Promise<string[]> =>
      (
        await Promise.all(
          (await readdir(d, { withFileTypes: true })).map((e) => (e.isDirectory() ? walk(join(d, e.name)) : [join(d, e.name)])),
        )
      ).flat();
    const files = await walk(dir);
    expect(files.map((f) => f.slice(dir.length + 1))).toEqual(expect.arrayContaining(['stash', 'principal', 'kdc.conf', 'krb5.conf']));
    for (const f of [dir, ...files]) expect((await stat(f)).mode & 0o077, f).toBe(0);
    // The kdc.conf the KDC runs with names only the data folder: never /etc/krb5kdc.
    expect(await readFile(join(dir, 'kdc.conf'), 'utf8')).not.toMatch(/\/etc\//);
  });

  it('stops with the manager on SIGTERM', async () => {
    const pid = (await realm()).kdc.pid!;
    expect((await manager.proc.stop('SIGTERM')).code).toBe(0);
    expect(() => process.kill(pid, 0)).toThrow(/ESRCH/);
  });

  it('does not outlive a manager killed with SIGKILL, so the next start has its port', async () => {
    manager = await startManager(data, managerArgs());
    cli = stormCli(manager.url, data);
    const pid = (await pollUntil('the KDC running', async () => ((await realm()).kdc.state === 'running' ? await realm() : undefined))).kdc
      .pid!;
    expect((await manager.proc.stop('SIGKILL')).signal).toBe('SIGKILL');
    await pollUntil('the orphaned KDC gone', async () => (isGone(pid) ? true : undefined), { timeoutMs: 5000, everyMs: 50 });
    manager = await startManager(data, managerArgs());
    cli = stormCli(manager.url, data);
    await pollUntil('kinit against the restarted manager', async () =>
      (await fresh('alice-after-kill').kinit('alice', 'through-the-glass')).code === 0 ? true : undefined,
    );
    expect((await manager.proc.stop('SIGTERM')).code).toBe(0);
  }, 120_000);
});

function isGone(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return false;
  } catch {
    return true;
  }
}
