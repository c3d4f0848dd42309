/**
 * postfix-mail's own files against STORM's own LDAP server, before any VM: inside a network
 * namespace the test made, the manager's LdapServer serves the test directory (alice, bob, … and
 * the service account mx1) on the namespace's loopback, and the union of the built debian-jeos and
 * postfix-mail layers runs the appliance's boot service (`services.d/50-postfix-mail`) in a build
 * stack there, with a directory seed as the manager writes it. Then python's smtplib: mail to
 * alice is accepted and lands in her Maildir; nobody is refused at RCPT. The launched appliance,
 * with STORM's DHCP, DNS and MX record, is test/e2e/debian.test.ts.
 */
import { mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runScript } from '../../appliances/src/builder/actions.js';
import { mountsUnder, runInStack } from '../../appliances/src/builder/stack.js';
import { createNetns, type Netns, type Started } from '../harness/netns.js';
import { pollUntil } from '../helpers/poll.js';
import { buildDebianAppliances } from '../helpers/debian-appliances.js';

const ROOT = resolve(import.meta.dirname, '../..');
const BUILD = join(ROOT, 'appliances/build');
const FQDN = 'mx1.storm.internal';

const SERVICE = [
  '/etc/storm/services.d/50-postfix-mail',
  'echo "lookup alice: $(postmap -q alice ldap:/run/postfix-mail/ldap-users.cf)"',
  'if postmap -q nobody ldap:/run/postfix-mail/ldap-users.cf; then echo "lookup nobody: found"; else echo "lookup nobody: none"; fi',
  'echo "waiting for the test"',
  // Postfix runs until the test has sent its mail and seen it delivered (bounded: 2 minutes).
  'i=0',
  'while [ ! -e /run/storm-build/src/done ] && [ "$i" -lt 600 ]; do sleep 0.2; i=$((i + 1)); done',
  'postfix stop || true',
];

const SMTP_CLIENT = `import json, smtplib, sys
out = {}
with smtplib.SMTP(sys.argv[1], 25, timeout=60) as s:
    out["ehlo"] = s.ehlo("client.example")[0]
    s.sendmail("bob@client.example", ["alice@${FQDN}"], "From: bob@client.example\\r\\nTo: alice@${FQDN}\\r\\nSubject: hello from STORM\\r\\n\\r\\nThrough postfix-mail and STORM's LDAP.\\r\\n")
    out["alice"] = "accepted"
    try:
        s.sendmail("bob@client.example", ["nobody@${FQDN}"], "Subject: x\\r\\n\\r\\nx\\r\\n")
        out["nobody"] = "accepted"
    except smtplib.SMTPRecipientsRefused as e:
        out["nobody"] = {r: [c, m.decode()] for r, (c, m) in e.recipients.items()}
print(json.dumps(out))
`;

const until = <T>(what: string, timeoutMs: number, probe: () => Promise<T | undefined>) => pollUntil(what, probe, { timeoutMs });

describe("postfix-mail against STORM's LDAP server", () => {
  let dir: string;
  let net: Netns;
  let ldap: Started;
  let mx1Password: string;

  beforeAll(async () => {
    await buildDebianAppliances();
    dir = await mkdtemp(join(tmpdir(), 'storm-postfix-ldap-'));
    net = await createNetns();
    ldap = net.start(
      net.name,
      process.execPath,
      ['--import', 'tsx', join(ROOT, 'test/helpers/ldap-directory-server.ts'), '127.0.0.1:389'],
      { cwd: ROOT },
    );
    const ready = await ldap.waitFor(/^ready (\d+) (\S+)$/m, 60_000);
    mx1Password = ready[2] ?? '';
  }, 30 * 60_000);

  afterAll(async () => {
    await ldap?.stop();
    await net?.cleanup();
    if (dir && !(await mountsUnder(dir)).length) await rm(dir, { recursive: true, force: true });
  });

  it(
    'accepts and delivers mail for alice, refuses nobody',
    async () => {
      const upper = join(dir, 'upper');
      const src = join(dir, 'src');
      await mkdir(join(upper, 'etc/storm'), { recursive: true });
      await mkdir(src);
      // The seeds the manager writes at launch, and what the guest agent writes from storm.getConfig.
      const seed = {
        uri: 'ldap://127.0.0.1:389',
        base: 'dc=storm,dc=internal',
        people: 'ou=people,dc=storm,dc=internal',
        groups: 'ou=groups,dc=storm,dc=internal',
        bindDn: 'cn=mx1,ou=services,dc=storm,dc=internal',
        bindPassword: mx1Password,
      };
      await writeFile(join(upper, 'etc/storm/ldap.json'), JSON.stringify(seed), { mode: 0o600 });
      await writeFile(join(upper, 'etc/storm/config.env'), `STORM_INSTANCE_FQDN='${FQDN}'\nSTORM_SERVICE_DOMAIN='storm.internal'\n`);
      const logFile = join(dir, 'stack.log');
      const spec = {
        dir: join(dir, 'stack'),
        lowers: [join(BUILD, 'layers/debian-jeos.squashfs'), join(BUILD, 'layers/postfix-mail.squashfs')],
        upper,
        epoch: 1,
        busybox: '/bin/busybox',
        logFile,
        netns: net.name,
      };
      await mkdir(spec.dir);
      const postfix = runInStack(spec, {
        label: 'postfix-mail with LDAP',
        shell: 'layer',
        script: runScript(SERVICE),
        src,
        timeoutMs: 5 * 60_000,
      });
      let failed: unknown;
      postfix.catch((e: unknown) => (failed = e));
      try {
        await until('the appliance service', 120_000, async () => {
          if (failed) throw failed;
          return (await readFile(logFile, 'utf8').catch(() => '')).includes('waiting for the test') ? true : undefined;
        });
        await writeFile(join(dir, 'smtp.py'), SMTP_CLIENT);
        const py = await net.exec(net.name, 'python3', [join(dir, 'smtp.py'), '127.0.0.1'], { timeoutMs: 120_000 });
        expect(py.code, py.output).toBe(0);
        expect(JSON.parse(py.output.trim().split('\n').at(-1) ?? '{}')).toEqual({
          ehlo: 250,
          alice: 'accepted',
          nobody: {
            [`nobody@${FQDN}`]: [
              550,
              expect.stringMatching(
                /5\.1\.1 <nobody@mx1\.storm\.internal>: Recipient address rejected: User unknown in virtual mailbox table/,
              ),
            ],
          },
        });
        const maildir = join(upper, 'var/mail/vhosts/alice/new');
        const delivered = await until('the Maildir file', 60_000, async () => (await readdir(maildir).catch(() => [] as string[]))[0]);
        const message = await readFile(join(maildir, delivered), 'utf8');
        expect(message).toContain(`Delivered-To: alice@${FQDN}`);
        expect(message).toContain('Subject: hello from STORM');
        expect((await stat(join(maildir, delivered))).uid).toBe(8); // the mail user, virtual_uid_maps
      } finally {
        await writeFile(join(src, 'done'), '');
        await postfix.catch(() => undefined);
      }
      if (failed) throw failed;
      const log = await readFile(logFile, 'utf8');
      expect(log).toContain(`postfix-mail: smtpd listening on :25 for ${FQDN}`);
      expect(log).toContain('lookup alice: alice/');
      expect(log).toContain('lookup nobody: none');
      expect(await readFile(join(upper, 'var/log/postfix.log'), 'utf8')).toMatch(
        /to=<alice@mx1\.storm\.internal>, relay=virtual.*status=sent \(delivered to maildir\)/,
      );
      expect(await mountsUnder(dir)).toEqual([]);
    },
    10 * 60_000,
  );
});
