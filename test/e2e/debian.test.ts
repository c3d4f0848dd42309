/**
 * The Debian appliances end to end, inside a network namespace (test/harness/storm-network.ts):
 * nginx-web and postfix-mail are launched from the sample channel (`build:appliances --debian`,
 * which this suite runs first) and boot on debian-jeos under qemu:///system; their guest agents get
 * addresses from STORM's DHCP, configuration over XML-RPC and report `applied`; nginx answers by
 * name with the page; STORM's DNS serves the MX record the mail appliance registered; the host's
 * layer store holds the Debian OS layer once for both. The site's manager also serves its directory
 * over LDAP on storm.local; the mail appliance reads the bind account seeded at launch
 * (/etc/storm/ldap.json) and binds over StartTLS (the site requires it), and mail over SMTP (python's smtplib, to the host the MX record names) to
 * a user of the directory lands in that user's Maildir while one to an unknown user is refused.
 */
import { execFile } from 'node:child_process';
import { readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readInstanceFile } from '../../stormd/src/instances/instance-layer.js';
import { SITE, startStormNetwork, type StormNetwork } from '../harness/storm-network.js';
import { destroyAllInstances, GUEST_FAILED, type LaunchedInstance as Instance, waitForConsole } from '../helpers/instances.js';
import { buildDebianAppliances } from '../helpers/debian-appliances.js';

const run = promisify(execFile);
const ROOT = resolve(import.meta.dirname, '../..');
const BUILD = join(ROOT, 'appliances/build');
let site: StormNetwork;

beforeAll(async () => {
  // Cached after the first time; the sample channel then carries nginx-web and postfix-mail.
  await buildDebianAppliances();
  site = await startStormNetwork({ channelDir: join(BUILD, 'channel'), publicKey: await readFile(join(BUILD, 'publisher.pub'), 'utf8') });
  await site.api.post('/channels', { url: site.feedUrl, publicKey: site.publicKey });
  // A user of STORM's directory, before the mail appliance looks anyone up.
  await site.api.post('/directory/users', {
    uid: 'alice',
    sn: 'Liddell',
    cn: 'Alice Liddell',
    mail: 'alice@mx1.storm.internal',
    password: 'wonderland-2026',
  });
}, 30 * 60_000);

afterAll(async () => {
  await destroyAllInstances(site?.api);
  await site?.cleanup();
}, 120_000);

const consoleUntil = (id: string, pattern: RegExp) => waitForConsole(site.api, id, pattern, { timeoutMs: 300_000, failOn: GUEST_FAILED });

/** The writable layer of a launched instance (writable/w0.qcow2; instance.qcow2 on older hosts). */
async function writableLayer(id: string): Promise<string> {
  const w0 = join(site.stormdData, 'instances', id, 'writable', 'w0.qcow2');
  return (await stat(w0).then(
    () => true,
    () => false,
  ))
    ? w0
    : join(site.stormdData, 'instances', id, 'instance.qcow2');
}

/** Runs `debugfs -R cmd` on a raw copy of a stopped instance's layer. */
async function debugfs(id: string, cmd: string): Promise<string> {
  const raw = join(site.dir.path, `${id}.raw`);
  await run('qemu-img', ['convert', '-f', 'qcow2', '-O', 'raw', await writableLayer(id), raw]);
  try {
    return (await run('debugfs', ['-R', cmd, raw], { maxBuffer: 16 << 20 })).stdout;
  } finally {
    await rm(raw, { force: true });
  }
}

describe('Debian appliances launched from a channel', () => {
  let web: Instance;
  let mail: Instance;

  it('boots nginx-web and postfix-mail on debian-jeos; both agents report applied', async () => {
    web = await site.api.post<Instance>('/instances', {
      appliance: 'nginx-web',
      version: '1.0.0',
      name: 'web1',
      params: { serverName: 'www.example.test' },
    });
    mail = await site.api.post<Instance>('/instances', { appliance: 'postfix-mail', version: '1.0.0', name: 'mx1' });
    const webText = await consoleUntil(web.id, /nginx-web: nginx serving/);
    expect(webText).toContain('STORM-OS: layers present: debian-jeos nginx-web');
    expect(webText).toContain(`STORM-OS: network eth0 ${web.ip}`);
    expect(webText).toContain('STORM-AGENT: applied');
    expect(webText).toContain('nginx-web: nginx serving www.example.test web1.storm.internal web1 on :80');
    const mailText = await consoleUntil(mail.id, /postfix-mail: smtpd listening on :25/);
    expect(mailText).toContain('STORM-OS: layers present: debian-jeos postfix-mail');
    expect(mailText).toMatch(/STORM-AGENT: registered MX mx1\.storm\.internal 10 mx1\.storm\.internal/);
    expect(mailText).toContain('postfix-mail: smtpd listening on :25 for mx1.storm.internal');
    for (const i of [web, mail])
      expect((await site.api.get<Instance>(`/instances/${i.id}`)).guestStatus).toMatchObject({ phase: 'applied' });
  }, 900_000);

  it('serves the page by name from inside the namespace', async () => {
    const byInstance = await site.exec('curl', ['-sS', '--max-time', '10', 'http://web1.storm.internal/']);
    expect(byInstance.output).toContain('Hello from nginx-web');
    const byServerName = await site.exec('curl', [
      '-sS',
      '--max-time',
      '10',
      '-H',
      'Host: www.example.test',
      'http://web1.storm.internal/',
    ]);
    expect(byServerName.output).toContain('Hello from nginx-web');
    const other = await site.exec('curl', [
      '-sS',
      '--max-time',
      '10',
      '-o',
      '/dev/null',
      '-w',
      '%{http_code}',
      '-H',
      'Host: elsewhere.example',
      'http://web1.storm.internal/',
    ]);
    expect(other.output.trim()).toBe('404');
  }, 60_000);

  it("serves the mail appliance's MX record from STORM's DNS", async () => {
    const mx = await site.exec('dig', ['+short', `@${SITE.managerAddress}`, 'MX', 'mx1.storm.internal']);
    expect(mx.output.trim()).toBe('10 mx1.storm.internal.');
    const a = await site.exec('dig', ['+short', `@${SITE.managerAddress}`, 'mx1.storm.internal']);
    expect(a.output.trim()).toBe(mail.ip);
  }, 60_000);

  it('stores the Debian OS layer once on the host for both appliances', async () => {
    const record = (name: string) =>
      readFile(join(BUILD, 'layers', `${name}.json`), 'utf8').then((t) => JSON.parse(t) as { sha256: string });
    const [os, nginx, postfix] = await Promise.all([record('debian-jeos'), record('nginx-web'), record('postfix-mail')]);
    const stored = await readdir(join(site.stormdData, 'layers'));
    expect(stored.filter((f) => f === os.sha256)).toHaveLength(1);
    expect(stored).toEqual(expect.arrayContaining([os.sha256, nginx.sha256, postfix.sha256]));
    // Both domains attach that one file as their bottom layer.
    const sources: string[] = [];
    for (const i of [web, mail]) {
      const xml = await site.exec('virsh', ['-c', site.libvirtUri, 'dumpxml', `storm-${i.id}`]);
      // The disk whose target is vda, wherever libvirt puts <source> within it.
      const disk = xml.output.split('</disk>').find((d) => d.includes("<target dev='vda'"));
      const vda = disk ? /<source file='([^']+)'/.exec(disk) : null;
      sources.push(vda?.[1] ?? `no vda in ${xml.output}`);
    }
    expect(sources[0]).toBe(join(site.stormdData, 'layers', os.sha256));
    expect(sources[1]).toBe(sources[0]);
  }, 60_000);

  it("delivers mail for a user of STORM's LDAP into the Maildir and refuses an unknown user", async () => {
    const script = join(site.dir.path, 'smtp.py');
    await writeFile(
      script,
      `import json, smtplib, subprocess, sys
mx = subprocess.run(["dig", "+short", "MX", sys.argv[1]], capture_output=True, text=True).stdout.split()[1].rstrip(".")
out = {"mx": mx}
with smtplib.SMTP(mx, 25, timeout=60) as s:
    out["ehlo"] = s.ehlo("client.example")[0]
    try:
        s.sendmail("bob@client.example", ["alice@" + sys.argv[1]], "From: bob@client.example\\r\\nTo: alice@" + sys.argv[1] + "\\r\\nSubject: hello from STORM\\r\\n\\r\\nDelivered through the postfix-mail appliance.\\r\\n")
        out["alice"] = "accepted"
    except smtplib.SMTPException as e:
        out["alice"] = repr(e)
    try:
        s.sendmail("bob@client.example", ["nobody@" + sys.argv[1]], "Subject: x\\r\\n\\r\\nx\\r\\n")
        out["nobody"] = "accepted"
    except smtplib.SMTPRecipientsRefused as e:
        out["nobody"] = {r: [c, m.decode()] for r, (c, m) in e.recipients.items()}
print(json.dumps(out))
`,
    );
    const py = await site.exec('python3', [script, 'mx1.storm.internal'], 120_000);
    expect(py.code, py.output).toBe(0);
    const out = JSON.parse(py.output.trim().split('\n').at(-1) ?? '{}') as Record<string, unknown>;
    expect(out).toMatchObject({ mx: 'mx1.storm.internal', ehlo: 250, alice: 'accepted' });
    expect(out['nobody']).toEqual({ 'nobody@mx1.storm.internal': [550, expect.stringMatching(/User unknown/)] });
    // The manager requires StartTLS for binds (--ldap-require-tls): Postfix's lookups went over TLS.
    const { services } = await site.api.get<{
      services: { ldap: { tlsStarted: number; bindsSucceeded: number; bindsInClearRefused: number } };
    }>('/network');
    expect(services.ldap.tlsStarted).toBeGreaterThan(0);
    expect(services.ldap.bindsSucceeded).toBeGreaterThan(0);
    expect(services.ldap.bindsInClearRefused).toBe(0);
    // Delivery takes a moment; then stop the VM and read the Maildir from its instance layer.
    await new Promise((r) => setTimeout(r, 5000));
    await site.api.post(`/instances/${mail.id}/actions`, { action: 'stop' });
    // The bind account the manager seeded at launch, which the appliance used.
    const seed = JSON.parse((await readInstanceFile(await writableLayer(mail.id), 'upper/etc/storm/ldap.json')).toString()) as Record<
      string,
      string
    >;
    expect(seed).toMatchObject({ uri: expect.stringMatching(/^ldap:\/\/storm\.local/), bindDn: 'cn=mx1,ou=services,dc=storm,dc=internal' });
    const listing = await debugfs(mail.id, 'ls -p /upper/var/mail/vhosts/alice/new');
    // `ls -p` lines are /inode/mode/uid/gid/name/size/; skip . and ..
    const file = listing
      .split('\n')
      .map((l) => l.split('/')[5])
      .find((n) => n && n !== '.' && n !== '..');
    expect(file, listing).toBeTruthy();
    const message = await debugfs(mail.id, `cat /upper/var/mail/vhosts/alice/new/${file}`);
    expect(message).toContain('Subject: hello from STORM');
    expect(message).toContain('Delivered-To: alice@mx1.storm.internal');
    expect(await debugfs(mail.id, 'cat /upper/var/log/postfix.log')).toMatch(
      /to=<alice@mx1\.storm\.internal>.*status=sent \(delivered to maildir\)/,
    );
  }, 300_000);
});
