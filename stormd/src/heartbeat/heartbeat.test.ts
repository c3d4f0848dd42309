import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pkiFixture, type PkiFixture } from '../../../trust/test-support/fixtures.js';
import type { HeartbeatRequest } from '../../protocol.js';
import { waitFor } from '../clock.js';
import { CrlKeeper } from './crl-keeper.js';
import { backoffDelay, Heartbeat } from './heartbeat.js';

describe('heartbeat backoff', () => {
  it('doubles per failure from the interval and stops at the cap', () => {
    expect([1, 2, 3].map((n) => backoffDelay(n, 1000))).toEqual([2000, 4000, 8000]);
    // A host must find a manager back from an outage within 30 s, however long the outage was.
    expect([1, 2, 30].map((n) => backoffDelay(n, 10_000))).toEqual([20_000, 30_000, 30_000]);
    expect(backoffDelay(5, 100, 1000)).toBe(1000);
  });
});

describe('Heartbeat and CrlKeeper', () => {
  let f: PkiFixture;
  let dir: string;
  beforeAll(async () => {
    f = await pkiFixture(0);
    dir = await mkdtemp(join(tmpdir(), 'stormd-hb-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  // What the loop sends is opaque to it; a stand-in keeps the test about the loop.
  const request = { info: {}, instances: [] } as unknown as HeartbeatRequest;
  const warnings: object[] = [];
  const log = { info: () => undefined, debug: () => undefined, warn: (o: object) => void warnings.push(o) };

  it('keeps beating through failures, then loads the newer CRL the manager announces', async () => {
    let crlNumber = 1;
    let remote = f.ca.buildCrl([], 1);
    const loaded: string[] = [];
    const crl = new CrlKeeper({
      dataDir: dir,
      caPem: f.ca.certPem,
      crlPem: remote,
      fetchCrl: async () => remote,
      onReload: (pem) => void loaded.push(pem),
    });
    let calls = 0;
    // The manager answers on the third try; the loop must survive the first two.
    const hb = new Heartbeat({
      send: async () => {
        calls += 1;
        if (calls <= 2) throw new Error('ECONNREFUSED');
        return { intervalMs: 100, crlNumber };
      },
      collect: async () => request,
      crl,
      log,
      defaultIntervalMs: 10,
    });
    hb.start();
    try {
      expect(await waitFor(async () => hb.beats >= 1, { timeoutMs: 5000, intervalMs: 10 })).toBe(true);
      expect(warnings.map((w) => (w as { failures: number }).failures)).toEqual([1, 2]);
      crlNumber = 2;
      remote = f.ca.buildCrl([{ serial: 'ab01', revokedAt: new Date() }], 2);
      expect(await waitFor(async () => loaded.length === 1, { timeoutMs: 5000, intervalMs: 10 })).toBe(true);
      expect(crl.crlNumber).toBe(2);
      expect(await readFile(join(dir, 'crl.pem'), 'utf8')).toBe(remote);
    } finally {
      await hb.stop();
    }
  });

  it('refuses a CRL the CA did not sign, or an older one, and keeps its own', async () => {
    const other = await pkiFixture(0);
    let served = other.ca.buildCrl([], 9);
    const loaded: string[] = [];
    const crl = new CrlKeeper({
      dataDir: dir,
      caPem: f.ca.certPem,
      crlPem: f.ca.buildCrl([], 5),
      fetchCrl: async () => served,
      onReload: (pem) => void loaded.push(pem),
    });
    await expect(crl.update(9)).rejects.toThrow(/not signed by the CA/);
    served = f.ca.buildCrl([], 4);
    expect(await crl.update(9)).toBe(false); // the manager said 9 but served 4: never go back
    expect(await crl.update(5)).toBe(false); // not newer: no fetch
    expect(crl.crlNumber).toBe(5);
    expect(loaded).toEqual([]);
  });

  it('says which CRL it holds, and loads the one the answer carries without fetching', async () => {
    let fetches = 0;
    const loaded: string[] = [];
    const crl = new CrlKeeper({
      dataDir: dir,
      caPem: f.ca.certPem,
      crlPem: f.ca.buildCrl([], 3),
      fetchCrl: async () => {
        fetches++;
        return f.ca.buildCrl([], 99);
      },
      onReload: (pem) => void loaded.push(pem),
    });
    const sent: HeartbeatRequest[] = [];
    const carried = f.ca.buildCrl([{ serial: 'cd02', revokedAt: new Date() }], 4);
    const hb = new Heartbeat({
      send: async (req) => {
        sent.push(req);
        return { intervalMs: 100, crlNumber: 4, crl: carried };
      },
      collect: async () => request,
      crl,
      log,
    });
    await hb.beat();
    expect(sent[0]).toMatchObject({ crlNumber: 3 });
    expect(loaded).toEqual([carried]);
    expect(fetches).toBe(0);
    await hb.beat();
    expect(sent[1]).toMatchObject({ crlNumber: 4 });
    expect(loaded).toHaveLength(1);
  });
});
