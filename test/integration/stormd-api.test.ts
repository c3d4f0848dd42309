/**
 * A real stormd (`startStormd`: the mutual-TLS listener on a real port, libvirt test:///default),
 * joined to a fake manager, driven by a client holding the manager's certificate: host info,
 * staging over mutual TLS (once per host; corrupt bytes leave nothing), the instance lifecycle,
 * heartbeats, a CRL reloaded without restart, and the mutual-TLS matrix — every bad client is
 * refused before the HTTP layer sees a request, and the refusal is logged with its reason.
 */
import { randomUUID } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { Agent, request } from 'node:https';
import type { Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CertificateAuthority } from '../../trust/certificate-authority.js';
import { buildCertificate, signerFromPem } from '../../trust/certificate-builder.js';
import { clientTlsOptions, LIBVIRT_CLIENT_COMMON_NAME, MANAGER_COMMON_NAME } from '../../trust/index.js';
import { clientExtensions, validityWindow } from '../../trust/profiles.js';
import { roleExtension } from '../../trust/roles.js';
import { DAY_MS } from '../../trust/test-support/fixtures.js';
import type { HostInfo, InstanceStatus } from '../../stormd/protocol.js';
import { waitFor } from '../../stormd/src/clock.js';
import { joinManager } from '../../stormd/src/join/join.js';
import { startStormd, type StormdHandle } from '../../stormd/src/serve.js';
import { callStormd, type FakeManager, startFakeManager, type StormdAnswer } from './stormd-fake-manager.js';

let manager: FakeManager;
let stormd: StormdHandle;
let data: string;
const logLines: Record<string, unknown>[] = [];
/** HTTP requests the stormd server saw: the count that must not move for refused clients. */
let httpRequests = 0;
const id = `it-${randomUUID().slice(0, 8)}`;

beforeAll(async () => {
  manager = await startFakeManager({ intervalMs: 200 });
  data = await mkdtemp(join(tmpdir(), 'stormd-api-'));
  await joinManager({ managerUrl: manager.url, token: manager.newToken(), dataDir: data, name: 'host-a', url: 'https://127.0.0.1:9443' });
  const logStream = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const line of chunk.toString().split('\n').filter(Boolean)) logLines.push(JSON.parse(line) as Record<string, unknown>);
      done();
    },
  });
  stormd = await startStormd(
    { data, listen: '127.0.0.1:0', hypervisor: 'test:///default', renewBeforeDays: 30, logLevel: 'info', logFormat: 'json' },
    { logStream, heartbeatIntervalMs: 200 },
  );
  stormd.app.server.on('request', () => {
    httpRequests += 1;
  });
});

afterAll(async () => {
  await stormd?.instances.remove(id).catch(() => undefined);
  await stormd?.close();
  await manager?.close();
  await rm(data, { recursive: true, force: true });
});

/** A request to this stormd as the manager (or as `client`, for the refusal matrix). */
function call(method: string, path: string, body?: unknown, client?: { cert?: string; key?: string }): Promise<StormdAnswer> {
  return callStormd(manager, stormd.url, method, path, body, client);
}

const blobUrl = (sha: string) => `${manager.url}/api/v1/images/${sha}/blob`;
const fetchesOf = (sha: string) => manager.blobFetches.get(`host-a ${sha}`) ?? 0;

describe('stormd over mutual TLS (test:///default)', () => {
  let kernel: string;
  let initrd: string;
  let os: string;

  it('answers host info to the manager', async () => {
    const res = await call('GET', '/v1/host');
    expect(res.status).toBe(200);
    const info = res.body as HostInfo;
    expect(info).toMatchObject({ name: 'host-a', hypervisor: { uri: 'test:///default', domainType: 'test' }, layers: [], instances: 0 });
    expect(info.hostId).toMatch(/^host-/);
    expect(info.memoryMiB).toBeGreaterThan(0);
  });

  it('stages a layer from the manager over mutual TLS, and a second stage fetches nothing', async () => {
    kernel = manager.addBlob(Buffer.from('vmlinuz bytes'));
    initrd = manager.addBlob(Buffer.from('initrd bytes'));
    os = manager.addBlob(Buffer.alloc(300_000, 7));
    for (const sha of [kernel, initrd, os]) {
      const size = sha === os ? 300_000 : sha === kernel ? 13 : 12;
      const res = await call('PUT', `/v1/layers/${sha}`, { url: blobUrl(sha), size });
      expect(res).toEqual({ status: 200, body: { sha256: sha, size, staged: true } });
    }
    expect(fetchesOf(os)).toBe(1);
    expect(await call('PUT', `/v1/layers/${os}`, { url: blobUrl(os), size: 300_000 })).toEqual({
      status: 200,
      body: { sha256: os, size: 300_000, staged: false },
    });
    expect(fetchesOf(os)).toBe(1);
    expect((await stat(join(data, 'layers', os))).mode & 0o777).toBe(0o640);
  });

  it('refuses a corrupted layer and leaves nothing; refuses URLs off the manager origin', async () => {
    const sha = manager.addBlob(Buffer.from('the real layer'));
    manager.corruptBlob(sha, Buffer.from('a tampered one'));
    const res = await call('PUT', `/v1/layers/${sha}`, { url: blobUrl(sha), size: 14 });
    expect(res.status).toBe(502);
    expect(res.body).toMatchObject({ code: 'STORMD_ERR_LAYER_MISMATCH' });
    expect((await readdir(join(data, 'layers'))).sort()).toEqual([kernel, initrd, os].sort());

    const off = await call('PUT', `/v1/layers/${sha}`, { url: `https://127.0.0.2:1/api/v1/images/${sha}/blob`, size: 14 });
    expect(off).toMatchObject({ status: 400, body: { code: 'STORMD_ERR_URL_REFUSED' } });
  });

  it('creates the instance layer, defines, starts, reports state and tails the console', async () => {
    const layer = await call('PUT', `/v1/instances/${id}/layer`, {
      name: 'web1',
      sizeMiB: 16,
      files: { '/etc/storm/token': { contentBase64: Buffer.from('t0k3n').toString('base64'), mode: 0o600 } },
    });
    expect(layer).toMatchObject({ status: 201, body: { id, state: 'absent', hasLayer: true } });
    const define = await call('PUT', `/v1/instances/${id}/domain`, {
      uuid: randomUUID(),
      memoryMiB: 128,
      vcpus: 1,
      boot: { kernel, initrd },
      layers: [os],
      nics: [],
    });
    expect(define).toMatchObject({ status: 200, body: { state: 'shutoff' } });
    expect(await call('POST', `/v1/instances/${id}/actions`, { action: 'start' })).toEqual({ status: 200, body: { state: 'running' } });
    expect((await call('GET', `/v1/instances/${id}`)).body).toMatchObject({ id, domain: `storm-${id}`, state: 'running', hasLayer: true });
    expect(((await call('GET', '/v1/host')).body as HostInfo).allocatedMemoryMiB).toBe(128);

    // The test driver runs no guest, so write what the serial port would have.
    await writeFile(join(data, 'instances', id, 'console.log'), 'SeaBIOS\nLinux version\nstorm login: ');
    expect(await call('GET', `/v1/instances/${id}/console?bytes=13`)).toEqual({
      status: 200,
      body: { text: 'storm login: ', size: 35, offset: 22 },
    });
    expect((await call('GET', `/v1/instances/${id}/console?bytes=14`)).body).toMatchObject({ text: '\nstorm login: ' });
  });

  it('stops, refuses to delete a layer in use, then destroy/remove leaves no domain and no folder', async () => {
    expect(await call('POST', `/v1/instances/${id}/actions`, { action: 'stop', timeoutMs: 5000 })).toEqual({
      status: 200,
      body: { state: 'shutoff', outcome: 'graceful' },
    });
    expect(await call('DELETE', `/v1/layers/${os}`)).toMatchObject({ status: 409, body: { code: 'STORMD_ERR_LAYER_IN_USE' } });
    expect(await call('POST', `/v1/instances/${id}/actions`, { action: 'start' })).toMatchObject({ status: 200 });
    expect(await call('POST', `/v1/instances/${id}/actions`, { action: 'destroy' })).toEqual({ status: 200, body: { state: 'shutoff' } });
    expect(await call('DELETE', `/v1/instances/${id}`)).toEqual({ status: 204, body: undefined });
    expect((await call('GET', '/v1/instances')).body as InstanceStatus[]).toEqual([]);
    expect(await call('GET', `/v1/instances/${id}`)).toMatchObject({ status: 404, body: { code: 'STORMD_ERR_INSTANCE_NOT_FOUND' } });
    await expect(stat(join(data, 'instances', id))).rejects.toThrow();
    expect(await call('DELETE', `/v1/layers/${os}`)).toEqual({ status: 204, body: undefined });
  });

  it('sends heartbeats with its host info and instances over mutual TLS', async () => {
    expect(await waitFor(async () => manager.heartbeats.length >= 2, { timeoutMs: 10_000, intervalMs: 50 })).toBe(true);
    const last = manager.heartbeats.at(-1)!;
    expect(last.clientCn).toBe('host-a');
    expect(last.body.info).toMatchObject({ name: 'host-a', hypervisor: { uri: 'test:///default' } });
    expect(Array.isArray(last.body.instances)).toBe(true);
  });

  describe('mutual-TLS matrix: refused before any request is handled, and logged with the reason', () => {
    const f = () => manager.pki;
    const managerKey = () => manager.client.keyPem;
    const forgeClient = (spec: Partial<Parameters<typeof buildCertificate>[0]> = {}) =>
      buildCertificate({
        commonName: MANAGER_COMMON_NAME,
        publicKeyPem: f().keys[1]!.publicKeyPem,
        issuer: f().caSigner,
        ...validityWindow(new Date(), 30),
        extensions: [...clientExtensions(f().caSigner.keyIdentifier), roleExtension('manager')],
        ...spec,
      }).certPem;

    /** [what, client certificate chain (undefined: none), what the log line must name] */
    const cases: [string, () => Promise<string | { cert: string; key: string } | undefined>, RegExp][] = [
      [
        'a client certificate from another CA',
        async () =>
          CertificateAuthority.fromPem(await CertificateAuthority.generate({ commonName: 'STORM CA test' })).issueClientCertificate({
            publicKeyPem: f().keys[1]!.publicKeyPem,
            role: 'manager',
          }).certPem,
        /UNABLE_TO_VERIFY_LEAF_SIGNATURE|UNABLE_TO_GET_ISSUER_CERT/,
      ],
      [
        'an expired certificate',
        async () =>
          manager.ca
            .withClock(() => new Date(Date.now() - 400 * DAY_MS))
            .issueClientCertificate({ publicKeyPem: f().keys[1]!.publicKeyPem, role: 'manager' }).certPem,
        /CERT_HAS_EXPIRED/,
      ],
      [
        'a certificate not yet valid',
        async () =>
          manager.ca
            .withClock(() => new Date(Date.now() + DAY_MS))
            .issueClientCertificate({ publicKeyPem: f().keys[1]!.publicKeyPem, role: 'manager' }).certPem,
        /CERT_NOT_YET_VALID/,
      ],
      [
        'a certificate issued by a leaf without CA basicConstraints',
        async () => {
          const leaf = forgeClient({
            commonName: 'not-a-ca',
            publicKeyPem: f().keys[2]!.publicKeyPem,
            extensions: [
              { name: 'keyUsage', keyCertSign: true, digitalSignature: true, critical: true },
              { name: 'subjectKeyIdentifier' },
              { name: 'authorityKeyIdentifier', keyIdentifier: f().caSigner.keyIdentifier },
            ],
          });
          const rogue = signerFromPem(leaf, f().keys[2]!.privateKeyPem);
          // The client names the rogue leaf as its issuer (name and key id), so OpenSSL builds client → leaf → CA.
          return forgeClient({ issuer: rogue, extensions: [...clientExtensions(rogue.keyIdentifier), roleExtension('manager')] }) + leaf;
        },
        // With a CRL loaded (CRL_CHECK_ALL) OpenSSL names the rogue "CA"'s missing CRL; without one, INVALID_CA.
        /INVALID_CA|UNABLE_TO_GET_CRL|KEYUSAGE_NO_CERTSIGN/,
      ],
      [
        'a serverAuth-only certificate with the manager role',
        async () =>
          manager.ca.issueServerCertificate({ publicKeyPem: f().keys[1]!.publicKeyPem, names: [MANAGER_COMMON_NAME], role: 'manager' })
            .certPem,
        /INVALID_PURPOSE/,
      ],
      ['no certificate at all', async () => undefined, /PEER_DID_NOT_RETURN_A_CERTIFICATE/],
      [
        'a clientAuth certificate of our CA without the manager role (the libvirt client)',
        async () =>
          manager.ca.issueClientCertificate({ publicKeyPem: f().keys[1]!.publicKeyPem, commonName: LIBVIRT_CLIENT_COMMON_NAME }).certPem,
        /certificate of "storm-libvirt-client" \(serial [0-9a-f]+\) has role none, not manager/,
      ],
      [
        'a certificate with the manager role for another key than the one pinned at join',
        async () => ({
          cert: manager.ca.issueClientCertificate({ publicKeyPem: f().keys[2]!.publicKeyPem, role: 'manager' }).certPem,
          key: f().keys[2]!.privateKeyPem,
        }),
        /is for key sha256:[0-9a-f]+, not the pinned sha256:/,
      ],
    ];

    for (const [what, chain, reason] of cases) {
      it(`refuses ${what}`, async () => {
        const cert = await chain();
        const before = { requests: httpRequests, logs: logLines.length };
        await expect(
          call('GET', '/v1/host', undefined, typeof cert === 'string' ? { cert, key: managerKey() } : (cert ?? {})),
        ).rejects.toThrow();
        const refusal = await waitFor(async () => logLines.slice(before.logs).some((l) => reason.test(String(l['reason']))), {
          timeoutMs: 5000,
          intervalMs: 20,
        });
        expect(refusal, `no refusal naming ${reason} in ${JSON.stringify(logLines.slice(before.logs))}`).toBe(true);
        expect(logLines.slice(before.logs).find((l) => reason.test(String(l['reason'])))).toMatchObject({ remoteAddress: '127.0.0.1' });
        expect(httpRequests).toBe(before.requests);
      });
    }

    it('refuses a revoked certificate once the heartbeat brought the newer CRL (no restart), and closes its open connection', async () => {
      const cert = manager.ca.issueClientCertificate({ publicKeyPem: f().keys[1]!.publicKeyPem, role: 'manager' });
      expect((await call('GET', '/v1/host', undefined, { cert: cert.certPem, key: managerKey() })).status).toBe(200);
      // A keep-alive connection made before the revocation must not outlive it.
      const agent = new Agent({
        keepAlive: true,
        ...clientTlsOptions({ ca: manager.ca.certPem, servername: '127.0.0.1', cert: cert.certPem, key: managerKey() }),
      });
      const kept = await new Promise<Socket>((resolve, reject) => {
        const req = request({ agent, host: '127.0.0.1', port: new URL(stormd.url).port, path: '/v1/host' }, (res) => {
          const socket = res.socket;
          res.resume();
          res.on('end', () => resolve(socket));
        });
        req.on('error', reject);
        req.end();
      });
      const keptClosed = new Promise<void>((resolve) => kept.once('close', () => resolve()));
      manager.revoke(cert.serial);
      const loaded = await waitFor(
        async () => logLines.some((l) => l['msg'] === 'loaded a newer CRL' && l['crlNumber'] === manager.crlNumber),
        { timeoutMs: 10_000, intervalMs: 50 },
      );
      expect(loaded).toBe(true);
      const before = { requests: httpRequests, logs: logLines.length };
      await expect(call('GET', '/v1/host', undefined, { cert: cert.certPem, key: managerKey() })).rejects.toThrow();
      expect(
        await waitFor(async () => logLines.slice(before.logs).some((l) => String(l['reason']) === 'CERT_REVOKED'), {
          timeoutMs: 5000,
          intervalMs: 20,
        }),
      ).toBe(true);
      expect(httpRequests).toBe(before.requests);
      await keptClosed;
      expect(logLines.some((l) => l['msg'] === 'closing a connection whose certificate was revoked' && l['serial'] === cert.serial)).toBe(
        true,
      );
      agent.destroy();
      // The manager's own certificate still works, and the new CRL is on disk for the next start.
      expect((await call('GET', '/v1/host')).status).toBe(200);
      expect(await readFile(join(data, 'crl.pem'), 'utf8')).toContain('BEGIN X509 CRL');
    });
  });
});
