import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../app.js';
import { managerConfig } from '../config.js';
import { RECORD_QUOTA } from './guest-api.js';
import { FAULT } from './guest-fault.js';
import { newGuestToken } from './guest-token.js';

let dir: string;
let app: FastifyInstance;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'storm-record-quota-'));
  app = await buildApp(managerConfig({ data: dir, logLevel: 'silent', network: '10.77.0.0/24' }));
});
afterAll(async () => {
  await app.close();
  await rm(dir, { recursive: true, force: true });
});

/** An instance row at `ip` with a fresh token, as a launch leaves it. */
async function instance(name: string, ip: string): Promise<string> {
  const { token, hash } = newGuestToken();
  await app.storm.db.run(
    `INSERT INTO instances (id, name, uuid, appliance, version, state, desired, mac, ip, memory_mib, vcpus, params, token_hash) VALUES (?, ?, ?, 'hello-web', '1.0.0', 'running', 'running', ?, ?, 128, 1, '{}', ?)`,
    [`i-${name}`, name, randomUUID(), `52:54:00:00:00:${ip.split('.')[3]!.padStart(2, '0')}`, ip, hash],
  );
  return token;
}

/** `storm.registerRecord(type, name, value)` over XML-RPC from `ip`: the fault code and text, or the answer. */
async function register(token: string, ip: string, type: string, name: string, value: string): Promise<{ fault?: number; text: string }> {
  const param = (v: string) => `<param><value><string>${v}</string></value></param>`;
  const res = await app.inject({
    method: 'POST',
    url: '/RPC2',
    remoteAddress: ip,
    headers: { authorization: `Bearer ${token}`, 'content-type': 'text/xml' },
    payload: `<?xml version="1.0"?><methodCall><methodName>storm.registerRecord</methodName><params>${param(type)}${param(name)}${param(value)}</params></methodCall>`,
  });
  const fault = /<name>faultCode<\/name><value><int>(\d+)<\/int>/.exec(res.body)?.[1];
  return {
    ...(fault ? { fault: Number(fault) } : {}),
    text: /<name>faultString<\/name><value><string>([^<]*)</.exec(res.body)?.[1] ?? res.body,
  };
}

describe('storm.registerRecord quota', () => {
  it(`refuses an instance's record past ${RECORD_QUOTA.records} records, with a clear fault; others are unaffected`, async () => {
    const token = await instance('many', '10.77.0.20');
    for (let i = 0; i < RECORD_QUOTA.records; i++) expect((await register(token, '10.77.0.20', 'TXT', '@', `r${i}`)).fault).toBeUndefined();
    // The same record again is no new record.
    expect((await register(token, '10.77.0.20', 'TXT', '@', 'r0')).fault).toBeUndefined();
    const refused = await register(token, '10.77.0.20', 'TXT', '@', 'one more');
    expect(refused).toEqual({
      fault: FAULT.quota,
      text: expect.stringMatching(
        /record quota reached: the instance already holds 64 records, the most it may register; an administrator can remove some \(storm dns rm ID\)/,
      ),
    });
    const other = await instance('other', '10.77.0.21');
    expect((await register(other, '10.77.0.21', 'TXT', '@', 'fine')).fault).toBeUndefined();
  });

  it(`refuses an instance's record past ${RECORD_QUOTA.bytes} bytes of names and values`, async () => {
    const token = await instance('big', '10.77.0.22');
    const kib = 'x'.repeat(1000);
    let n = 0;
    for (; n < 64; n++) if ((await register(token, '10.77.0.22', 'TXT', '@', `${n}${kib}`)).fault !== undefined) break;
    // 16 records of about 1,020 bytes (name and value) fit in 16 KiB; the 17th does not.
    expect(n).toBe(16);
    expect(await register(token, '10.77.0.22', 'TXT', '@', `${n}${kib}`)).toEqual({
      fault: FAULT.quota,
      text: expect.stringMatching(/would take the instance's records to \d+ bytes, past the 16384 it may hold/),
    });
    const held = (await app.storm.records.list()).filter((r) => r.instance_id === 'i-big');
    expect(held.length).toBe(16);
  });

  it('answers a CNAME clash with a fault that says why, not an internal error', async () => {
    const token = await instance('clash', '10.77.0.23');
    expect((await register(token, '10.77.0.23', 'TXT', 'www', 'x')).fault).toBeUndefined();
    expect(await register(token, '10.77.0.23', 'CNAME', 'www', 'clash')).toEqual({
      fault: FAULT.forbidden,
      text: expect.stringMatching(/has other records; a CNAME must stand alone/),
    });
  });
});
