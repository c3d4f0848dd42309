/**
 * The realm against MIT's own clients, with no manager around it: KerberosService creates the
 * database under a data folder, runs krb5kdc as its child, and sets principals through kadmin.local;
 * kinit, kvno and klist (krb5-user) talk to that KDC on loopback. Covers passwords set and changed,
 * instance principals and keytabs, removal, the KDC killed and restarted within 5 s, a restart of
 * the service keeping the realm, a changed domain refused, and private modes on every file.
 */
import { chmod, mkdtemp, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { kerberosChecks } from '../../manager/src/kerberos/kerberos-checks.js';
import { KerberosService } from '../../manager/src/kerberos/kerberos-service.js';
import { kerberosClient, type KerberosClient } from '../helpers/kerberos-clients.js';
import { pollUntil } from '../helpers/poll.js';
import { freePort } from '../helpers/stormd-process.js';

let dir: string;
let port: number;
let realm: KerberosService;
let client: KerberosClient;
const logged: string[] = [];

const service = (domain = 'storm.internal') =>
  new KerberosService({
    dataDir: join(dir, 'data'),
    domain,
    listen: `127.0.0.1:${port}`,
    log: (level, msg) => logged.push(`${level} ${msg}`),
    restartDelayMs: 100,
  });

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'storm-kdc-'));
  port = await freePort();
  realm = service();
  await realm.start();
  client = kerberosClient(realm.files.krb5Conf, dir);
}, 30_000);

afterAll(async () => {
  await realm?.close();
  await rm(dir, { recursive: true, force: true });
});

describe('the KDC the manager runs', () => {
  it('is MIT krb5kdc, a child of ours, for the realm of the domain', () => {
    const s = realm.status();
    expect(s.realm).toBe('STORM.INTERNAL');
    expect(s.kdc.state).toBe('running');
    expect(s.kdc.pid).toBeGreaterThan(0);
  });

  it('takes kinit with the password a user was given, and nothing else', async () => {
    await realm.userPasswordSet('alice', 'wonderland-2026');
    expect((await client.kinit('alice', 'wonderland-2026')).code).toBe(0);
    const wrong = await client.kinit('alice', 'looking-glass');
    expect(wrong.code).not.toBe(0);
    expect(wrong.output).toMatch(/Password incorrect|Preauthentication failed/);
    expect((await client.kinit('nobody', 'wonderland-2026')).code).not.toBe(0);
  });

  it('changes the keys with the password: the new one works, the old one no longer does', async () => {
    await realm.userPasswordSet('alice', 'through-the-glass');
    expect((await client.kinit('alice', 'through-the-glass')).code).toBe(0);
    expect((await client.kinit('alice', 'wonderland-2026')).code).not.toBe(0);
  });

  it('takes passwords exactly as given: spaces, quotes and non-ASCII; refuses what kadmin would cut', async () => {
    const odd = ' a "quoted" pässwörd with \\ and \' ';
    await realm.userPasswordSet('bob', odd);
    expect((await client.kinit('bob', odd)).code).toBe(0);
    expect((await client.kinit('bob', odd.trim())).code).not.toBe(0);
    await expect(realm.userPasswordSet('bob', 'two\nlines')).rejects.toThrow(/line breaks/);
    await expect(realm.userPasswordSet('bob', 'x'.repeat(1023))).rejects.toThrow(/at most 1022 bytes/);
    const longest = 'y'.repeat(1022);
    await realm.userPasswordSet('bob', longest);
    expect((await client.kinit('bob', longest)).code).toBe(0);
  });

  it('gives an instance host/<fqdn> and its services; kvno gets a ticket for them', async () => {
    expect(await realm.instanceAdded({ name: 'web1', services: ['HTTP'] })).toEqual([
      'host/web1.storm.internal@STORM.INTERNAL',
      'HTTP/web1.storm.internal@STORM.INTERNAL',
    ]);
    expect((await client.kinit('alice', 'through-the-glass')).code).toBe(0);
    const kvno = await client.kvno('host/web1.storm.internal');
    expect(kvno.code, kvno.output).toBe(0);
    expect(kvno.output).toContain('host/web1.storm.internal@STORM.INTERNAL: kvno = 1');
    expect((await client.kvno('HTTP/web1.storm.internal')).code).toBe(0);
    expect((await client.kvno('host/web2.storm.internal')).code).not.toBe(0);
  });

  it("exports an instance's keytab without changing its keys; kinit -k works with it", async () => {
    const issued = await realm.keytabFor('web1', ['HTTP']);
    const file = join(dir, 'web1.keytab');
    await writeFile(file, issued.keytab, { mode: 0o600 });
    const listed = await client.klistKeytab(file);
    expect(listed.output).toContain('host/web1.storm.internal@STORM.INTERNAL');
    expect(listed.output).toContain('HTTP/web1.storm.internal@STORM.INTERNAL');
    expect(listed.output).not.toContain('alice');
    const k = kerberosClient(realm.files.krb5Conf, dir, 'host-cc');
    expect((await k.kinitKeytab(file, 'host/web1.storm.internal')).code).toBe(0);
    // A second export is the same keys: the guest may fetch it at every boot and the first still works.
    await realm.keytabFor('web1', ['HTTP']);
    expect((await k.kinitKeytab(file, 'host/web1.storm.internal')).code).toBe(0);
    const again = kerberosClient(realm.files.krb5Conf, dir, 'again-cc');
    expect((await again.kinit('alice', 'through-the-glass')).code).toBe(0);
    expect((await again.kvno('host/web1.storm.internal')).output).toContain('kvno = 1');
    // A relaunch under the same name gets new keys: the old keytab stops working.
    await realm.instanceAdded({ name: 'web1', services: ['HTTP'] });
    expect((await k.kinitKeytab(file, 'host/web1.storm.internal')).code).not.toBe(0);
  });

  it("removes an instance's principals and a user's", async () => {
    await realm.instanceRemoved('web1');
    expect((await realm.principals()).instances['web1']).toBeUndefined();
    // A fresh cache: kvno would otherwise answer from the ticket it got before.
    const fresh = kerberosClient(realm.files.krb5Conf, dir, 'fresh-cc');
    expect((await fresh.kinit('alice', 'through-the-glass')).code).toBe(0);
    const kvno = await fresh.kvno('host/web1.storm.internal');
    expect(kvno.code).not.toBe(0);
    expect(kvno.output).toMatch(/not found in Kerberos database/);
    await realm.userRemoved('bob');
    expect((await client.kinit('bob', 'y'.repeat(1022))).code).not.toBe(0);
    // Removing what is gone is no error.
    await realm.userRemoved('bob');
    await realm.instanceRemoved('web1');
  });

  it('takes two requests for the same new principal at once (the second changes what the first made)', async () => {
    await Promise.all([realm.userPasswordSet('dora', 'explorer-1'), realm.userPasswordSet('dora', 'explorer-2')]);
    expect((await client.kinit('dora', 'explorer-2')).code).toBe(0);
    await Promise.all([realm.instanceAdded({ name: 'race', services: [] }), realm.instanceAdded({ name: 'race', services: [] })]);
    expect((await realm.principals()).instances['race']).toEqual(['host/race.storm.internal@STORM.INTERNAL']);
    await realm.userRemoved('dora');
    await realm.instanceRemoved('race');
  });

  it('prunes principals whose user or instance no longer exists', async () => {
    await realm.instanceAdded({ name: 'gone', services: [] });
    await realm.instanceAdded({ name: 'kept', services: [] });
    await realm.userPasswordSet('carol', 'carol-pass-1');
    const stale = await realm.prune({ users: async () => ['alice'], instances: async () => ['kept'] });
    expect(stale.sort()).toEqual(['carol@STORM.INTERNAL', 'host/gone.storm.internal@STORM.INTERNAL']);
    const left = await realm.principals();
    expect(left.users).toEqual(['alice@STORM.INTERNAL']);
    expect(Object.keys(left.instances)).toEqual(['kept']);
    expect(left.other).toEqual(expect.arrayContaining(['K/M@STORM.INTERNAL', 'krbtgt/STORM.INTERNAL@STORM.INTERNAL']));
  });

  it('is started again when it dies, and kinit works within 5 s', async () => {
    const before = realm.status().kdc;
    const killedAt = Date.now();
    process.kill(before.pid!, 'SIGKILL');
    await pollUntil(
      'kinit after the KDC was killed',
      async () => ((await client.kinit('alice', 'through-the-glass')).code === 0 ? true : undefined),
      { timeoutMs: 5000, everyMs: 100 },
    );
    const tookMs = Date.now() - killedAt;
    expect(tookMs).toBeLessThan(5000);
    const after = realm.status().kdc;
    expect(after.pid).not.toBe(before.pid);
    expect(after.restarts).toBe(before.restarts + 1);
    expect(after.lastExit).toMatchObject({ signal: 'SIGKILL' });
    expect(logged.join('\n')).toMatch(/krb5kdc exited \(SIGKILL\); starting it again/);
  });

  it('a KDC stopped by a signal alone (a terminal Ctrl-C) is restarted too, its error logged only if the manager is not stopping by then', async () => {
    const before = realm.status().kdc;
    const loggedBefore = logged.length;
    process.kill(before.pid!, 'SIGINT');
    await pollUntil('the KDC exited on SIGINT', async () => (realm.status().kdc.pid !== before.pid ? true : undefined), {
      timeoutMs: 5000,
      everyMs: 20,
    });
    expect(realm.status().kdc.lastExit).toMatchObject({ code: 0, signal: null });
    expect(logged.slice(loggedBefore).join('\n')).not.toMatch(/^error krb5kdc exited/m);
    await pollUntil(
      'kinit after the KDC was interrupted',
      async () => ((await client.kinit('alice', 'through-the-glass')).code === 0 ? true : undefined),
      { timeoutMs: 5000, everyMs: 100 },
    );
    expect(logged.slice(loggedBefore).join('\n')).toMatch(
      /^error krb5kdc exited \(code 0\) \d+ ms ago and the manager is not stopping; starting it again/m,
    );
  });

  it('keeps the realm across a restart of the service; a changed domain is refused', async () => {
    await realm.close();
    expect(realm.status().kdc.state).toBe('stopped');
    realm = service();
    await realm.start();
    expect((await client.kinit('alice', 'through-the-glass')).code).toBe(0);
    await expect(service('lab.example').start()).rejects.toThrow(/holds the realm STORM\.INTERNAL, but --domain gives LAB\.EXAMPLE/);
    // The refused start changed nothing: the realm's profiles still name STORM.INTERNAL.
    expect((await realm.principals()).users).toContain('alice@STORM.INTERNAL');
    expect((await client.kinit('alice', 'through-the-glass')).code).toBe(0);
  });

  it('gives storm doctor its lines: the KDC serving, the files private, users waiting for a principal', async () => {
    const users = [
      { uid: 'alice', hasPassword: true },
      { uid: 'early', hasPassword: true },
      { uid: 'nopass', hasPassword: false },
    ];
    let lines = await kerberosChecks(realm, users);
    expect(lines.map((l) => [l.name, l.status])).toEqual([
      ['kerberos-kdc', 'ok'],
      ['kerberos-files', 'ok'],
      ['kerberos-principals', 'ok'],
    ]);
    expect(lines[0]!.message).toMatch(new RegExp(`serves on 127\\.0\\.0\\.1:${port} \\(pid \\d+`));
    expect(lines[2]!.message).toBe(
      '1 user(s) have their principal; 1 from before the realm have none yet (early): each gets one at the next storm user passwd',
    );
    await chmod(realm.files.stash, 0o644);
    lines = await kerberosChecks(realm, users);
    expect(lines[1]).toMatchObject({
      status: 'fail',
      message: expect.stringContaining(`${realm.files.stash} (0644)`),
      fix: `chmod -R go-rwx ${realm.files.dir}`,
    });
    await chmod(realm.files.stash, 0o600);
    await realm.kdc.stop();
    expect((await kerberosChecks(realm, users))[0]).toMatchObject({
      name: 'kerberos-kdc',
      status: 'fail',
      message: expect.stringContaining('is stopped'),
    });
    await realm.kdc.start();
  });

  it('leaves no file of the realm readable by anyone but its owner', async () => {
    const root = realm.files.dir;
    expect((await stat(root)).mode & 0o777).toBe(0o700);
    const walk = async (d: string): Promise<string[]> =>
      (
        await Promise.all(
          (await readdir(d, { withFileTypes: true })).map((e) => (e.isDirectory() ? walk(join(d, e.name)) : [join(d, e.name)])),
        )
      ).flat();
    const files = await walk(root);
    expect(files).toEqual(expect.arrayContaining([realm.files.stash, realm.files.database]));
    for (const f of files) expect((await stat(f)).mode & 0o077, f).toBe(0);
  });
});
