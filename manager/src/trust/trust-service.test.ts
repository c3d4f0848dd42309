import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readCrl } from '../../../trust/crl-info.js';
import { Database } from '../db/database.js';
import { migrate } from '../db/migrations.js';
import { CRL_REISSUE_AFTER_MS, TrustService } from './trust-service.js';

const DAY_MS = 86_400_000;
let dir: string;
let db: Database;
let now: number;
let trust: TrustService;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'storm-trust-'));
  db = await Database.open(join(dir, 'storm.db'));
  await migrate(db);
  now = Date.now();
  trust = await TrustService.open({ dir: join(dir, 'pki'), db, serverNames: ['127.0.0.1'], clock: () => new Date(now) });
}, 60_000);
afterAll(async () => {
  await db.close();
  await rm(dir, { recursive: true, force: true });
});

const info = () => readCrl(trust.crlPem, trust.caPem, (why) => new Error(why));

describe('the CRL under a running manager', () => {
  it('is re-issued once a day, with a new number, so its nextUpdate stays 29 days or more ahead', async () => {
    const first = info();
    expect(await trust.refreshCrl()).toBe(false);
    now += CRL_REISSUE_AFTER_MS - 1000;
    expect(await trust.refreshCrl()).toBe(false);
    for (let day = 0; day < 60; day++) {
      now += DAY_MS;
      expect(await trust.refreshCrl()).toBe(true);
      expect(info().nextUpdate!.getTime() - now).toBeGreaterThan(29 * DAY_MS);
    }
    expect(info().crlNumber).toBe(first.crlNumber + 60);
  });

  it('follows a clock that jumps: 60 days ahead, or back behind its thisUpdate', async () => {
    const seen: string[] = [];
    trust.onCrlChange((pem) => seen.push(pem));
    now += 60 * DAY_MS;
    expect(await trust.refreshCrl()).toBe(true);
    expect(info().nextUpdate!.getTime()).toBeGreaterThan(now);
    now -= 2 * DAY_MS;
    expect(await trust.refreshCrl()).toBe(true);
    expect(info().thisUpdate.getTime()).toBeLessThanOrEqual(now);
    expect(seen).toHaveLength(2);
  });
});
