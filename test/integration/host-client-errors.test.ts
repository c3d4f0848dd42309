/**
 * The manager's host client against a real stormd (test:///default, joined to the fake manager):
 * each failure says which way it failed and what was asked. Unreachable only when no connection
 * (or no TLS session) opens; a call the host took but did not answer in time is a timeout that
 * names the call and what the host said it was doing (`GET /v1/activity`); a refusal keeps
 * stormd's code and names the call.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HostClient } from '../../manager/src/hosts/host-client.js';
import { clientTlsOptions } from '../../trust/index.js';
import { joinManager } from '../../stormd/src/join/join.js';
import { startStormd, type StormdHandle } from '../../stormd/src/serve.js';
import { type FakeManager, startFakeManager } from './stormd-fake-manager.js';

let manager: FakeManager;
let stormd: StormdHandle;
let data: string;

const tls = (host = '127.0.0.1') =>
  clientTlsOptions({ ca: manager.ca.certPem, cert: manager.client.certPem, key: manager.client.keyPem, servername: host });
const caught = (p: Promise<unknown>) =>
  p.then(
    () => undefined,
    (err: unknown) => err as { code: string; message: string },
  );

beforeAll(async () => {
  manager = await startFakeManager();
  data = await mkdtemp(join(tmpdir(), 'storm-host-client-'));
  await joinManager({ managerUrl: manager.url, token: manager.newToken(), dataDir: data, name: 'host-a', url: 'https://127.0.0.1:9443' });
  stormd = await startStormd(
    { data, listen: '127.0.0.1:0', hypervisor: 'test:///default', renewBeforeDays: 30, logLevel: 'error', logFormat: 'json' },
    { heartbeatIntervalMs: 200 },
  );
});

afterAll(async () => {
  await stormd?.close();
  await manager?.close();
  await rm(data, { recursive: true, force: true });
});

describe('host calls that fail say how', () => {
  it('unreachable: nothing listens on the port', async () => {
    const port = await closedPort();
    const err = await caught(new HostClient(`https://127.0.0.1:${port}`, tls(), 'host-z').info());
    expect(err).toMatchObject({
      code: 'MGR_ERR_HOST_UNREACHABLE',
      message: `host unreachable: host host-z does not answer at https://127.0.0.1:${port}: ECONNREFUSED: connect ECONNREFUSED 127.0.0.1:${port}`,
    });
  });

  it('unreachable: a port that takes the connection but never speaks TLS', async () => {
    const held: Socket[] = [];
    const silent = await listening(createServer((s) => held.push(s)));
    try {
      const port = (silent.address() as { port: number }).port;
      const err = await caught(new HostClient(`https://127.0.0.1:${port}`, tls(), 'host-s', { defaultMs: 300 }).info());
      expect(err).toMatchObject({
        code: 'MGR_ERR_HOST_UNREACHABLE',
        message: `host unreachable: host host-s does not answer at https://127.0.0.1:${port}: no TLS session within 0.3 s`,
      });
    } finally {
      for (const s of held) s.destroy();
      silent.close();
    }
  });

  it('slow: names the call and what the host was doing, and the host goes on', async () => {
    const bytes = Buffer.alloc(4096, 1);
    const sha = manager.addBlob(bytes);
    const release = manager.stallBlob(sha);
    const client = new HostClient(stormd.url, tls(), 'host-a', { stageMs: 800 });
    const err = await caught(client.stageLayer(sha, { url: `${manager.url}/api/v1/images/${sha}/blob`, size: bytes.length }));
    release();
    expect(err).toMatchObject({ code: 'MGR_ERR_HOST_TIMEOUT' });
    expect(err!.message).toMatch(
      new RegExp(
        `^the host took too long: host host-a took longer than 0\\.8 s to stage layer ${sha.slice(0, 12)} \\(PUT /layers/${sha}\\); it was fetching layer ${sha.slice(0, 12)} from the manager: 0 of 4096 bytes, for 0\\.\\d s$`,
      ),
    );
    // The host finished the stage on its own; asking again finds it held.
    await expect
      .poll(async () => (await client.stageLayer(sha, { url: `${manager.url}/api/v1/images/${sha}/blob`, size: bytes.length })).staged, {
        timeout: 10_000,
      })
      .toBe(false);
  });

  it("refused: keeps stormd's code and names the call", async () => {
    const err = await caught(
      new HostClient(stormd.url, tls(), 'host-a').defineDomain('i-nope', {
        uuid: '6f9f1c52-0b1e-4d43-9d5f-0d3c9d1f0a11',
        memoryMiB: 64,
        vcpus: 1,
        boot: { kernel: 'a'.repeat(64), initrd: 'b'.repeat(64) },
        layers: ['c'.repeat(64)],
        nics: [],
      }),
    );
    expect(err).toMatchObject({
      code: 'MGR_ERR_HOST',
      message: expect.stringMatching(/^the host refused: host-a could not define domain storm-i-nope: STORMD_ERR_INSTANCE_NOT_FOUND: /),
    });
  });
});

function listening(server: Server): Promise<Server> {
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));
}

async function closedPort(): Promise<number> {
  const s = await listening(createServer());
  const port = (s.address() as { port: number }).port;
  await new Promise((r) => s.close(r));
  return port;
}
