/**
 * The libvirt bundle: files and modes, what openssl and GnuTLS (libvirt's TLS library) say of it,
 * and a real libvirtd serving `test+tls://` with it — the same TLS transport as `qemu+tls://`.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { existsSync } from 'node:fs';
import { chown, cp, mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { connect, createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { X509Certificate } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CertificateAuthority } from './certificate-authority.js';
import { issueLibvirtBundle, LIBVIRT_CLIENT_COMMON_NAME, writeLibvirtBundle, type LibvirtBundle } from './libvirt-bundle.js';
import { generateKeyPair } from './keys.js';
import { pkiFixture, type PkiFixture } from './test-support/fixtures.js';
import { openssl } from './test-support/openssl.js';

const run = promisify(execFile);
let f: PkiFixture;
let tmp: string;
let bundle: LibvirtBundle;
let revokedClient: LibvirtBundle;
let dir: string;

beforeAll(async () => {
  f = await pkiFixture(0);
  tmp = await mkdtemp(join(tmpdir(), 'storm-libvirt-bundle-'));
  revokedClient = await issueLibvirtBundle(f.ca, { hostName: 'host-1.example' });
  const crl = f.ca.buildCrl([{ serial: revokedClient.issued.client.serial, revokedAt: new Date() }], 1);
  bundle = await issueLibvirtBundle(f.ca, { hostName: 'host-1.example', altNames: ['127.0.0.1'], crl });
  dir = join(tmp, 'bundle');
  await writeLibvirtBundle(dir, bundle);
});
afterAll(() => rm(tmp, { recursive: true, force: true }));

describe('writeLibvirtBundle', () => {
  it("writes libvirt's file names: keys 0600, certificates and CRL 0644, folder 0700", async () => {
    const modes: Record<string, number> = {};
    for (const name of ['cacert.pem', 'cacrl.pem', 'servercert.pem', 'serverkey.pem', 'clientcert.pem', 'clientkey.pem']) {
      modes[name] = (await stat(join(dir, name))).mode & 0o777;
    }
    expect(modes).toEqual({
      'cacert.pem': 0o644,
      'cacrl.pem': 0o644,
      'servercert.pem': 0o644,
      'serverkey.pem': 0o600,
      'clientcert.pem': 0o644,
      'clientkey.pem': 0o600,
    });
    expect((await stat(dir)).mode & 0o777).toBe(0o700);
    expect(await readFile(join(dir, 'cacert.pem'), 'utf8')).toBe(f.ca.certPem);
  });

  it('refuses to overwrite an existing bundle unless asked to', async () => {
    await expect(writeLibvirtBundle(dir, bundle)).rejects.toThrow(expect.objectContaining({ code: 'MGR_ERR_PKI_BUNDLE_EXISTS' }));
    const copy = join(tmp, 'overwrite');
    await writeLibvirtBundle(copy, revokedClient);
    await writeLibvirtBundle(copy, bundle, { overwrite: true });
    expect(await readFile(join(copy, 'serverkey.pem'), 'utf8')).toBe(bundle.serverkey);
    expect((await stat(join(copy, 'serverkey.pem'))).mode & 0o777).toBe(0o600);
  });
});

describe('issueLibvirtBundle', () => {
  it('issues a libvirtd server certificate for the host and a libvirt client certificate, each with its own fresh key', async () => {
    const server = new X509Certificate(bundle.servercert);
    expect(server.subjectAltName).toBe('DNS:host-1.example, IP Address:127.0.0.1');
    expect(server.keyUsage).toEqual(['1.3.6.1.5.5.7.3.1']);
    const client = new X509Certificate(bundle.clientcert);
    expect(client.subject).toBe(`O=STORM\nCN=${LIBVIRT_CLIENT_COMMON_NAME}`);
    expect(client.keyUsage).toEqual(['1.3.6.1.5.5.7.3.2']);
    expect(bundle.serverkey).not.toBe(bundle.clientkey);
    const files = { 'ca.pem': f.ca.certPem, 's.pem': bundle.servercert, 'c.pem': bundle.clientcert };
    expect((await openssl(['verify', '-purpose', 'sslserver', '-CAfile', '{ca.pem}', '{s.pem}'], files)).code).toBe(0);
    expect((await openssl(['verify', '-purpose', 'sslclient', '-CAfile', '{ca.pem}', '{c.pem}'], files)).code).toBe(0);
  });

  it.skipIf(!existsSync('/usr/bin/certtool'))('passes GnuTLS certtool verification with host name and purpose', async () => {
    const args = ['--verify', '--load-ca-certificate', join(dir, 'cacert.pem'), '--infile', join(dir, 'servercert.pem')];
    const { stdout } = await run('certtool', [...args, '--verify-hostname', 'host-1.example', '--verify-purpose', '1.3.6.1.5.5.7.3.1']);
    expect(stdout).toMatch(/Chain verification output: Verified/);
    const client = await run('certtool', [
      '--verify',
      '--load-ca-certificate',
      join(dir, 'cacert.pem'),
      '--infile',
      join(dir, 'clientcert.pem'),
      '--verify-purpose',
      '1.3.6.1.5.5.7.3.2',
    ]);
    expect(client.stdout).toMatch(/Chain verification output: Verified/);
  });
});

const haveLibvirt = existsSync('/usr/sbin/libvirtd') && existsSync('/usr/bin/virsh');

describe.skipIf(!haveLibvirt)('a real libvirtd over TLS with the bundle', () => {
  let daemon: ChildProcess | undefined;
  let port = 0;
  const output: string[] = [];

  /** virsh over test+tls:// with the client files in `pkipath`; resolves with exit code and output. */
  async function virsh(host: string, pkipath: string): Promise<{ code: number; output: string }> {
    try {
      const { stdout, stderr } = await run('virsh', ['-c', `test+tls://${host}:${port}/default?pkipath=${pkipath}`, 'hostname'], {
        timeout: 20_000,
      });
      return { code: 0, output: stdout + stderr };
    } catch (err) {
      const e = err as { code?: number; stdout?: string; stderr?: string };
      return { code: typeof e.code === 'number' ? e.code : -1, output: (e.stdout ?? '') + (e.stderr ?? '') };
    }
  }

  /** Waits for libvirtd's log to explain a refusal (it logs just after virsh gives up). */
  async function daemonSaid(reason: RegExp): Promise<void> {
    const deadline = Date.now() + 5_000;
    while (!reason.test(output.join('')) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    expect(output.join('')).toMatch(reason);
  }

  async function clientDir(name: string, files: { cacert: string; clientcert: string; clientkey: string }): Promise<string> {
    const path = join(tmp, name);
    await mkdir(path, { mode: 0o700 });
    for (const [file, text] of Object.entries(files)) await writeFile(join(path, `${file}.pem`), text, { mode: 0o600 });
    return path;
  }

  beforeAll(async () => {
    const probe = createServer().listen(0, '127.0.0.1');
    await once(probe, 'listening');
    port = (probe.address() as AddressInfo).port;
    await new Promise((r) => probe.close(r));
    // An unprivileged (session) libvirtd of our own: it shares no state with a system libvirtd.
    const home = join(tmp, 'libvirtd');
    await cp(dir, home, { recursive: true });
    const conf = join(home, 'libvirtd.conf');
    await writeFile(
      conf,
      [
        'listen_tls = 1',
        'listen_tcp = 0',
        'listen_addr = "127.0.0.1"',
        `tls_port = "${port}"`,
        `ca_file = "${join(home, 'cacert.pem')}"`,
        `crl_file = "${join(home, 'cacrl.pem')}"`,
        `cert_file = "${join(home, 'servercert.pem')}"`,
        `key_file = "${join(home, 'serverkey.pem')}"`,
        'auth_tls = "none"',
        // As docs/pki.md advises: only the bundle's client, not every clientAuth certificate of the CA.
        `tls_allowed_dn_list = ["O=STORM,CN=${LIBVIRT_CLIENT_COMMON_NAME}"]`,
        'log_outputs = "3:stderr"', // errors only: where libvirtd says why it refused a client
        '',
      ].join('\n'),
    );
    const root = process.getuid?.() === 0;
    const [uid, gid] = root ? [65534, 65534] : [process.getuid!(), process.getgid!()];
    if (root) {
      await chown(tmp, uid, gid);
      for (const p of [home, ...['cacert.pem', 'cacrl.pem', 'servercert.pem', 'serverkey.pem', 'libvirtd.conf'].map((n) => join(home, n))])
        await chown(p, uid, gid);
    }
    daemon = spawn('libvirtd', ['--listen', '-f', conf], {
      uid,
      gid,
      env: { PATH: process.env.PATH ?? '/usr/sbin:/usr/bin', HOME: home, XDG_RUNTIME_DIR: join(home, 'run') },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    daemon.stdout?.on('data', (b: Buffer) => output.push(b.toString()));
    daemon.stderr?.on('data', (b: Buffer) => output.push(b.toString()));
    const deadline = Date.now() + 20_000;
    while (!(await portAnswers(port))) {
      if (daemon.exitCode !== null || Date.now() > deadline) throw new Error(`libvirtd did not listen on ${port}: ${output.join('')}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  });

  afterAll(async () => {
    if (!daemon || daemon.exitCode !== null) return;
    const exited = once(daemon, 'exit');
    daemon.kill('SIGTERM'); // our own child, by its pid
    await exited;
  });

  it('accepts the bundle client and the client checks the server certificate names the host', async () => {
    const result = await virsh('127.0.0.1', dir);
    expect(result.code, result.output).toBe(0);
    expect(result.output.trim()).not.toBe('');
  });

  it('the client refuses the server when dialled by a name the certificate does not carry', async () => {
    const result = await virsh('localhost', dir);
    expect(result.code).not.toBe(0);
    expect(result.output).toMatch(/does not match the hostname localhost/);
  });

  it('libvirtd refuses a revoked client certificate (cacrl.pem)', async () => {
    const path = await clientDir('revoked-client', {
      cacert: f.ca.certPem,
      clientcert: revokedClient.clientcert,
      clientkey: revokedClient.clientkey,
    });
    const result = await virsh('127.0.0.1', path);
    expect(result.code).not.toBe(0);
    await daemonSaid(/Certificate failed validation: The certificate has been revoked/);
  });

  it("libvirtd refuses the CA's other clients (here the manager's certificate) by tls_allowed_dn_list", async () => {
    const manager = await generateKeyPair();
    const cert = f.ca.issueClientCertificate({ publicKeyPem: manager.publicKeyPem });
    const path = await clientDir('manager-client', { cacert: f.ca.certPem, clientcert: cert.certPem, clientkey: manager.privateKeyPem });
    const result = await virsh('127.0.0.1', path);
    expect(result.code).not.toBe(0);
    await daemonSaid(/Client's Distinguished Name is not on the list of allowed clients/);
  });

  it('libvirtd refuses a client certificate from another CA', async () => {
    const other = CertificateAuthority.fromPem(await CertificateAuthority.generate());
    const foreign = await issueLibvirtBundle(other, { hostName: 'host-1.example' });
    // Both CAs in the client's cacert.pem, so virsh itself accepts its certificate and libvirtd must judge it.
    const path = await clientDir('foreign-client', {
      cacert: f.ca.certPem + other.certPem,
      clientcert: foreign.clientcert,
      clientkey: foreign.clientkey,
    });
    const result = await virsh('127.0.0.1', path);
    expect(result.code).not.toBe(0);
    // GnuTLS keeps back a certificate whose issuer is not in the server's CA list, so libvirtd sees none.
    await daemonSaid(/Unable to verify TLS peer: No certificate was found|hasn't got a known issuer/);
  });
});

function portAnswers(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect(port, '127.0.0.1');
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}
