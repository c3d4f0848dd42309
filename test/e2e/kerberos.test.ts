/**
 * Kerberos end to end, inside a network namespace (test/harness/storm-network.ts) whose manager runs
 * the realm's KDC (`--kdc-listen 10.77.0.1:88`): the ssh-kerberos appliance (`build:appliances
 * --debian`) boots on debian-jeos under qemu:///system; its guest agent fetches its keytab with
 * storm.getKeytab and writes /etc/krb5.keytab and krb5.conf; inside the guest `klist -k` shows
 * host/<fqdn> and `kinit -k` with it gets a ticket; STORM's DNS serves the realm's SRV and TXT
 * records; from the namespace, a directory user's `kinit` and then `ssh -o GSSAPIAuthentication=yes`
 * logs in with no password (and fails without a ticket); destroying the instance removes its
 * principals. One guest, shared by every assertion.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SITE, startStormNetwork, type StormNetwork } from '../harness/storm-network.js';
import { destroyAllInstances, GUEST_FAILED, type LaunchedInstance as Instance, waitForConsole } from '../helpers/instances.js';
import { buildDebianAppliances } from '../helpers/debian-appliances.js';

const ROOT = resolve(import.meta.dirname, '../..');
const BUILD = join(ROOT, 'appliances/build');
const REALM = 'STORM.INTERNAL';
const FQDN = `ssh1.${SITE.domain}`;
let site: StormNetwork;
let ssh: Instance;
let krb5Conf: string;

beforeAll(async () => {
  await buildDebianAppliances();
  site = await startStormNetwork({
    channelDir: join(BUILD, 'channel'),
    publicKey: await readFile(join(BUILD, 'publisher.pub'), 'utf8'),
    managerArgs: ['--kdc-listen', `${SITE.managerAddress}:88`],
  });
  await site.api.post('/channels', { url: site.feedUrl, publicKey: site.publicKey });
  await site.api.post('/directory/users', { uid: 'alice', sn: 'Liddell', cn: 'Alice Liddell', password: 'wonderland-2026' });
  // The namespace's own client profile: the realm's KDC on the manager's address, names as given.
  krb5Conf = join(site.dir.path, 'krb5.conf');
  await writeFile(
    krb5Conf,
    `[libdefaults]\n default_realm = ${REALM}\n rdns = false\n dns_canonicalize_hostname = false\n[realms]\n ${REALM} = {\n  kdc = ${SITE.managerAddress}:88\n }\n[domain_realm]\n .${SITE.domain} = ${REALM}\n`,
  );
}, 30 * 60_000);

afterAll(async () => {
  await destroyAllInstances(site?.api);
  await site?.cleanup();
}, 120_000);

/** A shell line inside the namespace with the realm's profile and a private ticket cache. */
const inSite = (line: string, cache = 'alice') =>
  site.exec(
    'sh',
    ['-c', `KRB5_CONFIG=${krb5Conf} KRB5CCNAME=FILE:${join(site.dir.path, `cc-${cache}`)}; export KRB5_CONFIG KRB5CCNAME; ${line}`],
    60_000,
  );
const SSH = `ssh -o GSSAPIAuthentication=yes -o PreferredAuthentications=gssapi-with-mic -o BatchMode=yes -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o ConnectTimeout=20 alice@${FQDN}`;

describe('Kerberos in a Debian appliance', () => {
  it('the guest gets its keytab at boot: klist -k shows host/<fqdn>, kinit -k with it works', async () => {
    ssh = await site.api.post<Instance>('/instances', { appliance: 'ssh-kerberos', version: '1.0.0', name: 'ssh1' });
    const text = await waitForConsole(site.api, ssh.id, /ssh-kerberos: sshd listening on :22/, {
      timeoutMs: 600_000,
      failOn: new RegExp(`${GUEST_FAILED.source}|ssh-kerberos: .*failed`),
    });
    expect(text).toContain(`STORM-AGENT: kerberos keytab for host/${FQDN}@${REALM}`);
    expect(text).toContain(`ssh-kerberos: keytab holds host/${FQDN}@${REALM}`);
    expect(text).toContain(`ssh-kerberos: kinit -k host/${FQDN} ok`);
    expect((await site.api.get<Instance>(`/instances/${ssh.id}`)).guestStatus).toMatchObject({
      phase: 'applied',
      details: expect.stringContaining(`keytab=${REALM}`),
    });
  }, 900_000);

  it("serves the realm's _kerberos SRV and TXT records", async () => {
    for (const proto of ['udp', 'tcp']) {
      const srv = await site.exec('dig', ['+short', `@${SITE.managerAddress}`, 'SRV', `_kerberos._${proto}.${SITE.domain}`]);
      expect(srv.output.trim()).toBe('0 0 88 storm.local.');
    }
    const txt = await site.exec('dig', ['+short', `@${SITE.managerAddress}`, 'TXT', `_kerberos.${SITE.domain}`]);
    expect(txt.output.trim()).toBe(`"${REALM}"`);
  }, 60_000);

  it('a directory user logs in over SSH with her Kerberos ticket and no password', async () => {
    const none = await inSite(`${SSH} id -un`, 'nobody');
    expect(none.code, none.output).not.toBe(0);
    const kinit = await inSite("printf '%s\\n' wonderland-2026 | kinit alice");
    expect(kinit.code, kinit.output).toBe(0);
    const login = await inSite(`${SSH} 'echo "logged in as $(id -un) uid $(id -u)"'`);
    expect(login.code, login.output).toBe(0);
    expect(login.output).toMatch(/logged in as alice uid 10000/);
    // The ticket the login used was for the appliance's host principal.
    expect((await inSite('klist')).output).toContain(`host/${FQDN}@${REALM}`);
  }, 120_000);

  it('destroying the instance removes its principals', async () => {
    await site.api.delete(`/instances/${ssh.id}`);
    const realm = await site.api.get<{ instances: { name: string }[] }>('/kerberos');
    expect(realm.instances.map((i) => i.name)).not.toContain('ssh1');
    const kvno = await inSite(`printf '%s\\n' wonderland-2026 | kinit alice && kvno host/${FQDN}`, 'after');
    expect(kvno.output).toMatch(/not found in Kerberos database/);
  }, 120_000);
});
