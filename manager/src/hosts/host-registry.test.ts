import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCsr } from '../../../trust/csr.js';
import { generateKeyPair } from '../../../trust/keys.js';
import { publicKeyPin, rolesOf } from '../../../trust/roles.js';
import { Database } from '../db/database.js';
import { migrate } from '../db/migrations.js';
import { EventBus } from '../events/bus.js';
import { TrustService } from '../trust/trust-service.js';
import { HostRegistry } from './host-registry.js';

let dir: string;
let db: Database;
let trust: TrustService;
let hosts: HostRegistry;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'storm-registry-'));
  db = await Database.open(join(dir, 'storm.db'));
  await migrate(db);
  trust = await TrustService.open({ dir: join(dir, 'pki'), db, serverNames: ['manager.example'] });
  hosts = new HostRegistry({ db, trust, bus: new EventBus(), heartbeatIntervalMs: 1000, missedHeartbeats: 3 });
}, 60_000);
afterAll(async () => {
  await db.close();
  await rm(dir, { recursive: true, force: true });
});

async function join1(name: string): Promise<{ serial: string; managerCertificate: string }> {
  const { token } = await trust.tokens.create(trust.fingerprint, 60);
  const key = await generateKeyPair();
  const answer = await hosts.join({ token, csr: createCsr(key.privateKeyPem, name), name, url: 'https://127.0.0.1:9443' });
  return { serial: TrustService.serialOf(answer.certificate), managerCertificate: answer.managerCertificate };
}

describe('the host registry', () => {
  it("answers a join with the manager's client certificate, whose key the host pins", async () => {
    const { managerCertificate } = await join1('h1');
    expect(rolesOf(managerCertificate)).toEqual(['manager']);
    expect(publicKeyPin(managerCertificate)).toBe(publicKeyPin(trust.identity.client.certPem));
  });

  it('carries the CRL in the heartbeat answer to a host whose own is older, and only then', async () => {
    const { serial } = await join1('h2');
    const stale = await hosts.heartbeat(serial, { info: null, instances: null, crlNumber: trust.crlNumber - 1 });
    expect(stale).toMatchObject({ crlNumber: trust.crlNumber, crl: trust.crlPem });
    const unsaid = await hosts.heartbeat(serial, { info: null, instances: null });
    expect(unsaid.crl).toBe(trust.crlPem);
    const current = await hosts.heartbeat(serial, { info: null, instances: null, crlNumber: trust.crlNumber });
    expect(current).toEqual({ intervalMs: 1000, crlNumber: trust.crlNumber });
  });

  it("refuses a join under the manager's names, and keeps the token for a good one", async () => {
    const { token } = await trust.tokens.create(trust.fingerprint, 60);
    const key = await generateKeyPair();
    const csr = createCsr(key.privateKeyPem, 'x');
    await expect(hosts.join({ token, csr, name: 'manager.example', url: 'https://127.0.0.1:9443' })).rejects.toMatchObject({
      code: 'MGR_ERR_FORBIDDEN',
    });
    await expect(hosts.join({ token, csr, name: 'h3', url: 'https://storm.local:9443' })).rejects.toThrow(
      /host address "storm.local" is one the manager uses/,
    );
    expect((await hosts.join({ token, csr, name: 'h3', url: 'https://127.0.0.1:9443' })).hostId).toMatch(/^host-/);
  });
});
