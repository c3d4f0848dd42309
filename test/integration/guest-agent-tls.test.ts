/**
 * Guests verify the manager: the real tiny-os layer (its busybox, its openssl and libraries, its
 * storm-agent), unpacked and run with chroot in a UTS namespace of its own, against XML-RPC
 * listeners on loopback presenting various certificates. With the manager's certificate (STORM's
 * CA, storm.local, the manager role) the agent gets its configuration and reports `applied`; with a
 * certificate from another CA, or a host's certificate of the right CA and name, it refuses the
 * handshake: the listener never sees a request, and the agent says why.
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { access, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeResponse, parseMethodCall } from '../../manager/src/protocols/xmlrpc/codec.js';
import { CertificateAuthority } from '../../trust/certificate-authority.js';
import { createCsr } from '../../trust/csr.js';
import { generateKeyPair } from '../../trust/keys.js';
import { APPLIANCE_BUILD } from '../helpers/channel-fixture.js';

const LAYER = join(APPLIANCE_BUILD, 'layers', 'tiny-os.squashfs');
/** A loopback address of this test's own, so its DNS on port 53 meets no other. */
const ADDRESS = `127.${77 + (process.pid % 100)}.${(process.pid >> 8) % 250}.${2 + (process.pid % 250)}`;

let tmp: string;
let ca: CertificateAuthority;
let dns: ChildProcess;

beforeAll(async () => {
  await access(LAYER).catch(() => {
    throw new Error(`${LAYER} is missing: run \`npm run build:appliances\` first`);
  });
  tmp = await mkdtemp(join(tmpdir(), 'storm-guest-tls-'));
  ca = await CertificateAuthority.loadOrCreate(join(tmp, 'pki'));
  // storm.local through DNS, as the manager answers it on the appliance network.
  dns = spawn(
    'dnsmasq',
    [
      '--keep-in-foreground',
      '--no-resolv',
      '--no-hosts',
      '--conf-file=/dev/null',
      '--pid-file=',
      '--user=root',
      '--group=root',
      `--listen-address=${ADDRESS}`,
      '--bind-interfaces',
      '--port=53',
      `--host-record=storm.local,${ADDRESS}`,
    ],
    { stdio: 'ignore' },
  );
  await new Promise((r) => setTimeout(r, 300));
}, 60_000);

afterAll(async () => {
  if (dns?.pid && dns.exitCode === null) dns.kill('SIGTERM');
  await rm(tmp, { recursive: true, force: true });
});

/** An XML-RPC listener presenting `cert`; it answers like the manager and records each method called. */
async function listener(cert: { certPem: string; keyPem: string }): Promise<{ server: Server; port: number; calls: string[] }> {
  const calls: string[] = [];
  const server = createServer({ cert: `${cert.certPem.trimEnd()}\n${ca.certPem}`, key: cert.keyPem }, (req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      const call = parseMethodCall(body);
      calls.push(`${call.method} ${call.params.map(String).join(' ')}`.trim());
      const answer =
        call.method === 'storm.getConfig' ? { instance: { name: 'web1', fqdn: 'web1.storm.internal' }, parameters: {}, config: {} } : true;
      res.writeHead(200, { 'content-type': 'text/xml' }).end(encodeResponse(answer));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, ADDRESS, resolve));
  return { server, port: (server.address() as AddressInfo).port, calls };
}

/** Unpacks tiny-os, seeds it as a launch would, and runs its agent; answers its console lines. */
async function runAgent(name: string, port: number): Promise<string> {
  const root = join(tmp, name);
  execFileSync('unsquashfs', ['-q', '-n', '-d', root, LAYER]);
  await mkdir(join(root, 'etc/storm'), { recursive: true });
  await writeFile(join(root, 'etc/storm/token'), 'a-guest-token\n');
  await writeFile(
    join(root, 'etc/storm/manager.json'),
    JSON.stringify({ xmlrpc: `https://storm.local:${port}/RPC2`, managerName: 'storm.local' }),
  );
  await writeFile(join(root, 'etc/storm/ca.pem'), ca.certPem);
  await writeFile(join(root, 'run/resolv.conf'), `nameserver ${ADDRESS}\n`);
  // No console device: `say` cannot write /dev/console (a folder here) and prints to stdout instead.
  await mkdir(join(root, 'dev/console'), { recursive: true });
  // A UTS namespace of its own: the agent sets the host name.
  const child = spawn('unshare', ['--uts', 'chroot', root, '/bin/sh', '/usr/sbin/storm-agent'], {
    env: { PATH: '/usr/sbin:/usr/bin:/sbin:/bin', STORM_AGENT_WAIT: '5' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout?.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (output += d.toString()));
  await new Promise<void>((resolve) => child.once('close', () => resolve()));
  return output;
}

describe('the tiny-os agent checks the manager', () => {
  it("reaches applied against the manager's certificate: STORM's CA, storm.local, the manager role", async () => {
    const ok = await listener(ca.issueEcServerCertificate(['storm.local', ADDRESS], { role: 'manager' }));
    try {
      const console = await runAgent('manager', ok.port);
      expect(console).toMatch(/STORM-AGENT: applied hostname=web1/);
      expect(ok.calls).toEqual([
        'storm.getConfig',
        'storm.reportStatus applying configuration fetched',
        'storm.reportStatus applied hostname=web1',
      ]);
    } finally {
      ok.server.close();
    }
  }, 90_000);

  // The agent retries for 20 s before it gives up: the two refusals run side by side.
  it.concurrent('refuses a listener whose certificate comes from another CA, and the listener sees no request', async () => {
    const other = CertificateAuthority.fromPem(await CertificateAuthority.generate({ commonName: 'STORM CA other' }));
    const rogue = await listener(other.issueEcServerCertificate(['storm.local', ADDRESS], { role: 'manager' }));
    try {
      const console = await runAgent('other-ca', rogue.port);
      expect(console).toMatch(/STORM-AGENT: failed storm.getConfig: verify error:num=20:unable to get local issuer certificate/);
      expect(console).not.toMatch(/applied/);
      expect(rogue.calls).toEqual([]);
    } finally {
      rogue.server.close();
    }
  }, 90_000);

  it.concurrent("refuses a host's certificate of STORM's CA even when it names storm.local: the role decides", async () => {
    const key = await generateKeyPair();
    const host = ca.issueHostCertificate(createCsr(key.privateKeyPem, 'storm.local'), { hostName: 'storm.local', altNames: [ADDRESS] });
    const rogue = await listener({ certPem: host.certPem, keyPem: key.privateKeyPem });
    try {
      const console = await runAgent('host-role', rogue.port);
      expect(console).toMatch(/STORM-AGENT: failed storm.getConfig: verify error:num=43:no explicit policy/);
      expect(rogue.calls).toEqual([]);
    } finally {
      rogue.server.close();
    }
  }, 90_000);
});
