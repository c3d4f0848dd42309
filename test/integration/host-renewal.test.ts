/**
 * Host certificate renewal with the real binaries on libvirt test:///default. A stormd told to renew
 * far ahead of expiry (`--renew-before-days 400` against a 1-year certificate) renews at start: the
 * manager makes the new certificate current on its first use and revokes the old one; stormd serves
 * and calls with the new one without a restart, and after a restart from the files it wrote. A
 * renewal whose answer never reached the host leaves it on its working certificate.
 */
import { createPrivateKey, X509Certificate } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import { request } from 'node:https';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCsr, generateKeyPair } from '../../trust/index.js';
import { readCrl } from '../../stormd/src/tls/crl-info.js';
import type { ManagerProcess } from '../helpers/manager-process.js';
import { pollUntil } from '../helpers/poll.js';
import { startSubscribedManager, type SubscribedManager } from '../helpers/subscribed-manager.js';
import { freePort, joinStormd, serveStormd, type StormdProcess } from '../helpers/stormd-process.js';

interface HostView {
  id: string;
  name: string;
  status: string;
  lastHeartbeat: string | null;
  certificate: { serial: string; notAfter: string | null; renewalPending: boolean };
}

let dir: string;
let manager: ManagerProcess;

let env: SubscribedManager | undefined;
beforeAll(async () => {
  env = await startSubscribedManager('storm-renewal-');
  ({ dir, manager } = env);
}, 120_000);
afterAll(() => env?.close());

const host = async (name: string) => (await manager.api.get<{ hosts: HostView[] }>('/hosts')).hosts.find((h) => h.name === name)!;
const serialOf = (pem: string) => new X509Certificate(pem).serialNumber.toLowerCase().replace(/^0+/, '');
const revokedSerials = async () => readCrl(await (await fetchAs('GET', '/api/v1/pki/crl')).text, manager.ca).revokedSerials;

/** A request to the manager over TLS, presenting `identity` as the client certificate when given. */
function fetchAs(
  method: string,
  path: string,
  body?: unknown,
  identity?: { cert: string; key: string },
): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const req = request(
      new URL(path, manager.url),
      { method, ca: manager.ca, ...identity, headers: body ? { 'content-type': 'application/json' } : {} },
      (res) => {
        let text = '';
        res
          .setEncoding('utf8')
          .on('data', (c: string) => (text += c))
          .on('end', () => resolve({ status: res.statusCode ?? 0, text }));
      },
    );
    req.on('error', reject).end(body ? JSON.stringify(body) : undefined);
  });
}

/** Joins `name` and keeps a copy of the key and certificate the join gave it. */
async function join_(name: string): Promise<{ data: string; port: number; first: { cert: string; key: string } }> {
  const port = await freePort();
  const data = join(dir, name);
  const joined = await joinStormd(manager, { name, data, url: `https://127.0.0.1:${port}` });
  if (joined.code !== 0) throw new Error(`stormd join failed:\n${joined.output}`);
  return {
    data,
    port,
    first: { cert: await readFile(join(data, 'cert.pem'), 'utf8'), key: await readFile(join(data, 'key.pem'), 'utf8') },
  };
}

const heartbeatBody = (name: string) => ({
  info: {
    hostId: null,
    name,
    version: 'test',
    cpus: 1,
    memoryMiB: 1024,
    freeMemoryMiB: 1024,
    allocatedMemoryMiB: 0,
    hypervisor: { uri: 'test:///default', domainType: 'test' },
    layers: [],
    instances: 0,
  },
  instances: [],
});

describe('a host renewing at start', () => {
  let stormd: StormdProcess;
  let first: { cert: string; key: string };
  let data: string;
  let port: number;
  let renewed: HostView;

  it('swaps to the new certificate; the manager makes it current on first use and revokes the old', async () => {
    ({ data, port, first } = await join_('host-r'));
    const joinSerial = serialOf(first.cert);
    expect((await host('host-r')).certificate).toMatchObject({ serial: joinSerial, renewalPending: false });
    stormd = await serveStormd({
      name: 'host-r',
      data,
      listen: `127.0.0.1:${port}`,
      hypervisor: 'test:///default',
      args: ['--renew-before-days', '400'],
    });
    renewed = await pollUntil('host-r on a renewed certificate', async () => {
      const h = await host('host-r');
      return h.status === 'ready' && h.certificate.serial !== joinSerial && !h.certificate.renewalPending ? h : undefined;
    });
    const onDisk = await readFile(join(data, 'cert.pem'), 'utf8');
    expect(serialOf(onDisk)).toBe(renewed.certificate.serial);
    expect(new X509Certificate(onDisk).checkPrivateKey(createPrivateKey(await readFile(join(data, 'key.pem'), 'utf8')))).toBe(true);
    expect(new Date(renewed.certificate.notAfter!).getTime()).toBeGreaterThan(new Date(new X509Certificate(first.cert).validTo).getTime());
    expect(await readdir(data)).not.toContain('renewal');
    expect(await revokedSerials()).toContain(joinSerial);
  });

  it('refuses the old certificate from then on', async () => {
    const beat = await fetchAs('POST', '/api/v1/hosts/heartbeat', heartbeatBody('host-r'), first);
    expect(beat.status).toBe(401);
  });

  it('is still reached by the manager: a launch pinned to it runs', async () => {
    const launched = await manager.api.post<{ state: string; host: { name: string } }>('/instances', {
      appliance: 'hello-web',
      version: '1.0.0',
      name: 'renewed-web',
      host: 'host-r',
    });
    expect(launched).toMatchObject({ state: 'running', host: { name: 'host-r' } });
  });

  it('restarts from the files it wrote and keeps beating with the renewed certificate', async () => {
    await stormd.proc.stop('SIGTERM');
    const stoppedAt = new Date().toISOString();
    stormd = await serveStormd({ name: 'host-r', data, listen: `127.0.0.1:${port}`, hypervisor: 'test:///default' });
    const back = await pollUntil('a heartbeat after the restart', async () => {
      const h = await host('host-r');
      return h.lastHeartbeat && h.lastHeartbeat > stoppedAt && h.status === 'ready' ? h : undefined;
    });
    expect(back.certificate).toEqual(renewed.certificate);
  });
});

describe('a renewal answer that never reached the host', () => {
  let kept: { cert: string; key: string };

  it('leaves the current certificate working; a second renewal replaces and revokes the unused one', async () => {
    const { first } = await join_('host-l');
    const joinSerial = serialOf(first.cert);
    const renew = async () => {
      const { privateKeyPem } = await generateKeyPair();
      const res = await fetchAs('POST', '/api/v1/hosts/renew', { csr: createCsr(privateKeyPem, 'host-l') }, first);
      expect(res.status).toBe(200);
      return { cert: (JSON.parse(res.text) as { certificate: string }).certificate, key: privateKeyPem };
    };
    const lost = await renew();
    expect((await host('host-l')).certificate).toMatchObject({ serial: joinSerial, renewalPending: true });
    expect((await fetchAs('POST', '/api/v1/hosts/heartbeat', heartbeatBody('host-l'), first)).status).toBe(200);

    kept = await renew();
    expect(await revokedSerials()).toContain(serialOf(lost.cert));
    expect((await fetchAs('POST', '/api/v1/hosts/heartbeat', heartbeatBody('host-l'), lost)).status).toBe(401);

    expect((await fetchAs('POST', '/api/v1/hosts/heartbeat', heartbeatBody('host-l'), kept)).status).toBe(200);
    expect((await host('host-l')).certificate).toMatchObject({ serial: serialOf(kept.cert), renewalPending: false });
    expect(await revokedSerials()).toContain(joinSerial);
  });

  it('refuses a renewal without a host certificate, or with a CSR that does not parse, changing nothing', async () => {
    const before = (await host('host-l')).certificate;
    expect((await fetchAs('POST', '/api/v1/hosts/renew', { csr: 'x' })).status).toBe(401);
    const bad = await fetchAs('POST', '/api/v1/hosts/renew', { csr: 'not a CSR' }, kept);
    expect(bad.status).toBe(400);
    expect(JSON.parse(bad.text)).toMatchObject({ code: expect.stringMatching(/^MGR_ERR_/) });
    expect((await host('host-l')).certificate).toEqual(before);
  });
});
