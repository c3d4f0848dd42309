/**
 * The Kerberos realm in `storm-manager backup` and `restore`: a manager's data folder with a realm
 * (made by createContext with --kdc-listen, real kdb5_util) is backed up beside it; the backup holds
 * the stash, the realm's name and a dump of its database (never the live database files), all 0600;
 * restored into a new folder, the manager's next start loads the dump and the KDC takes the same
 * passwords and serves the same instance principals (MIT's kinit and kvno).
 */
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createBackup } from '../../manager/src/backup/backup.js';
import { restoreBackup } from '../../manager/src/backup/restore.js';
import { managerConfig } from '../../manager/src/config.js';
import { createContext } from '../../manager/src/context.js';
import { kerberosClient } from '../helpers/kerberos-clients.js';
import { freePort } from '../helpers/stormd-process.js';

let work: string;
const KDF = { log2N: 10, r: 8, p: 1 };
const PASS = 'a passphrase long enough';

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'storm-kerberos-backup-'));
});
afterAll(() => rm(work, { recursive: true, force: true }));

describe('the realm in a backup', () => {
  it('is backed up as stash, name and dump, and a restored manager serves the same principals', async () => {
    const port = await freePort();
    const config = (data: string) => managerConfig({ data, logLevel: 'silent', kdcListen: `127.0.0.1:${port}` });
    const ctx = await createContext(config(join(work, 'old')));
    await ctx.directory.createUser({ uid: 'alice', sn: 'Liddell', password: 'wonderland-2026' });
    await ctx.kerberos!.instanceAdded({ name: 'web1', services: ['HTTP'] });
    await ctx.close();

    const { manifest } = await createBackup({ dataDir: join(work, 'old'), to: join(work, 'm.stormbak'), passphrase: PASS, kdf: KDF });
    const realmFiles = manifest.files.filter((f) => f.kind === 'kerberos');
    expect(realmFiles.map((f) => `${f.path} ${f.mode.toString(8)}`).sort()).toEqual([
      'kerberos/principal.dump 600',
      'kerberos/realm 600',
      'kerberos/stash 600',
    ]);
    const omitted = Object.fromEntries(manifest.omitted.map((o) => [o.path, o.reason]));
    expect(omitted['kerberos/principal*']).toMatch(/live database: in the backup as its dump/);
    expect(omitted['kerberos/kdc.conf, krb5.conf, kadm5.acl']).toMatch(/written again at every start/);
    expect(Object.keys(omitted).filter((p) => /not recognised/.test(omitted[p] ?? ''))).toEqual([]);

    const restored = join(work, 'new');
    await restoreBackup({ from: join(work, 'm.stormbak'), dataDir: restored, passphrase: async () => PASS, force: false });
    expect((await stat(join(restored, 'kerberos', 'stash'))).mode & 0o777).toBe(0o600);
    const again = await createContext(config(restored));
    try {
      await again.startServices();
      expect(again.kerberos!.status().kdc.state).toBe('running');
      // The dump was loaded and is gone; the realm's files are private again.
      await expect(stat(join(restored, 'kerberos', 'principal.dump'))).rejects.toThrow(/ENOENT/);
      const c = kerberosClient(join(restored, 'kerberos', 'krb5.conf'), work);
      expect((await c.kinit('alice', 'wonderland-2026')).code).toBe(0);
      expect((await c.kvno('HTTP/web1.storm.internal')).output).toContain('HTTP/web1.storm.internal@STORM.INTERNAL: kvno = 1');
    } finally {
      await again.close();
    }
  }, 60_000);
});
