/**
 * Roles, not names: a real manager and real stormd processes. Whoever holds an enrolment token
 * cannot enrol under a name or address the manager uses, and the certificate a host does get is
 * never taken for the manager: another host's stormd refuses it as a client (and logs why), and a
 * stormd whose manager URL leads to a server presenting it refuses that server before sending a byte.
 */
import { readFile, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, request, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { clientTlsOptions } from '../../trust/index.js';
import { startManager, type ManagerProcess } from '../helpers/manager-process.js';
import { pollUntil } from '../helpers/poll.js';
import { stopAllProcesses } from '../helpers/process.js';
import { joinStormd, serveStormd, startStormd, type StormdProcess } from '../helpers/stormd-process.js';

let tmp: string;
let manager: ManagerProcess;
let hostA: StormdProcess;
let hostB: StormdProcess;

beforeAll(async () => {
  tmp = await mkdtemp(join(tmpdir(), 'storm-roles-'));
  manager = await startManager(join(tmp, 'manager'), ['--tls-name', 'manager.storm.test', '--tls-name', '10.99.0.1', '--heartbeat', '1']);
  [hostA, hostB] = await Promise.all([
    startStormd(manager, { name: 'host-a', dir: tmp, hypervisor: 'test:///default' }),
    startStormd(manager, { name: 'host-b', dir: tmp, hypervisor: 'test:///default' }),
  ]);
}, 180_000);

afterAll(async () => {
  await stopAllProcesses();
  await rm(tmp, { recursive: true, force: true });
});

/** One request to a stormd presenting `client`; resolves with the status, or rejects when the connection dies. */
function callStormd(url: string, client: { cert: string; key: string }): Promise<number> {
  const target = new URL('/v1/host', url);
  return new Promise((resolve, reject) => {
    const req = request(
      {
        ...clientTlsOptions({ ca: manager.ca, servername: target.hostname, ...client }),
        host: target.hostname,
        port: target.port,
        path: target.pathname,
        agent: false,
      },
      (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      },
    );
    req.setTimeout(20_000, () => req.destroy(new Error('timed out')));
    req.on('error', reject);
    req.end();
  });
}

describe('enrolment refuses what the manager is called and reached by', () => {
  const cases: [string, { name: string; url?: string }, RegExp][] = [
    ["the manager's client CN", { name: 'storm-manager' }, /host name "storm-manager" is one the manager uses/],
    ['storm.local, which guests dial', { name: 'STORM.local' }, /host name "STORM.local" is one the manager uses \(storm\.local\)/],
    [
      "the libvirt client bundle's CN (libvirtd's tls_allowed_dn_list)",
      { name: 'storm-libvirt-client' },
      /is one the manager uses \(storm-libvirt-client\)/,
    ],
    ['a name in the manager certificate (--tls-name)', { name: 'manager.storm.test' }, /is one the manager uses \(manager\.storm\.test\)/],
    [
      "an address of the manager's (--tls-name)",
      { name: 'host-c', url: 'https://10.99.0.1:9443' },
      /host address "10\.99\.0\.1" is one the manager uses/,
    ],
  ];
  for (const [what, host, message] of cases) {
    it(`refuses ${what}, with a clear error, and issues nothing`, async () => {
      const joined = await joinStormd(manager, {
        name: host.name,
        data: join(tmp, `refused-${host.name}`),
        url: host.url ?? 'https://127.0.0.1:9',
      });
      expect(joined.code).not.toBe(0);
      expect(joined.output).toMatch(/STORMD_ERR_JOIN_REFUSED/);
      expect(joined.output).toMatch(message);
    }, 60_000);
  }

  it('keeps the refused names out of the host list', async () => {
    const { hosts } = await manager.api.get<{ hosts: { name: string }[] }>('/hosts');
    expect(hosts.map((h) => h.name).sort()).toEqual(['host-a', 'host-b']);
  });
});

describe("a host's certificate is never the manager's", () => {
  it("another host's stormd refuses it as a client at the handshake, before any request, and logs why", async () => {
    const a = { cert: await readFile(join(hostA.data, 'cert.pem'), 'utf8'), key: await readFile(join(hostA.data, 'key.pem'), 'utf8') };
    await expect(callStormd(hostB.url, a)).rejects.toThrow();
    await pollUntil(
      'host-b to log the refusal',
      async () => (/client certificate refused.*has role host, not manager/.test(hostB.proc.output()) ? true : undefined),
      { timeoutMs: 10_000 },
    );
    expect(hostB.proc.output()).toMatch(
      /WARN {2}client certificate refused remoteAddress=127\.0\.0\.1 .*certificate of \\"host-a\\" \(serial [0-9a-f]+\) has role host, not manager/,
    );
  });

  it('the manager itself still drives both hosts', async () => {
    const pass = await manager.api.post<{ hostsChecked: string[]; hostsUnreachable: string[]; errors: string[] }>('/reconcile', {});
    expect(pass).toMatchObject({ hostsUnreachable: [], errors: [] });
    expect([...pass.hostsChecked].sort()).toEqual(['host-a', 'host-b']);
  });

  it('a stormd whose manager URL leads to a server with a host certificate sends it nothing', async () => {
    // host-a's certificate names 127.0.0.1, the address host-b dials its manager at: only the role tells them apart.
    const seen: string[] = [];
    const rogue: Server = createServer(
      { cert: await readFile(join(hostA.data, 'cert.pem'), 'utf8'), key: await readFile(join(hostA.data, 'key.pem'), 'utf8') },
      (req, res) => {
        seen.push(`${req.method} ${req.url}`);
        res.writeHead(200, { 'content-type': 'application/json' }).end('{"intervalMs":500,"crlNumber":0}');
      },
    );
    await new Promise<void>((resolve) => rogue.listen(0, '127.0.0.1', resolve));
    try {
      await hostB.proc.stop('SIGTERM');
      const record = JSON.parse(await readFile(join(hostB.data, 'host.json'), 'utf8')) as { managerUrl: string };
      await writeFile(
        join(hostB.data, 'host.json'),
        JSON.stringify({ ...record, managerUrl: `https://127.0.0.1:${(rogue.address() as AddressInfo).port}` }),
      );
      const port = new URL(hostB.url).port;
      const moved = await serveStormd({ name: 'host-b', data: hostB.data, listen: `127.0.0.1:${port}`, hypervisor: 'test:///default' });
      await pollUntil(
        'host-b to refuse the rogue manager',
        async () => (/heartbeat failed.*role host, not manager/.test(moved.proc.output()) ? true : undefined),
        { timeoutMs: 30_000 },
      );
      expect(seen).toEqual([]);
      await moved.proc.stop('SIGTERM');
      await writeFile(join(hostB.data, 'host.json'), JSON.stringify(record));
    } finally {
      await new Promise<void>((resolve) => rogue.close(() => resolve()));
    }
  }, 60_000);
});
