/**
 * `stormd join` against a fake manager (real HTTPS, real CA from the PKI library): a good join
 * writes the key and certificates; a CA whose fingerprint is not the token's gets nothing but the
 * CA request; a refused token is a clear error; a second join needs --force. The CLI is run as a
 * process too, and `stormd` refuses to serve an unjoined data folder.
 */
import { createPrivateKey, X509Certificate } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pkiFixture } from '../../trust/test-support/fixtures.js';
import { publicKeyPin } from '../../trust/roles.js';
import { StormdErr } from '../../stormd/src/errors.js';
import { joinManager } from '../../stormd/src/join/join.js';
import { startProcess, stopAllProcesses } from '../helpers/process.js';
import { type FakeManager, startFakeManager } from './stormd-fake-manager.js';

const ROOT = resolve(import.meta.dirname, '../..');
let manager: FakeManager;
let tmp: string;

beforeAll(async () => {
  manager = await startFakeManager();
  tmp = await mkdtemp(join(tmpdir(), 'stormd-join-'));
});
afterAll(async () => {
  await stopAllProcesses();
  await manager?.close();
  await rm(tmp, { recursive: true, force: true });
});

const joinOpts = (dataDir: string, token: string, force = false) => ({
  managerUrl: manager.url,
  token,
  dataDir,
  name: 'host-1',
  url: 'https://127.0.0.1:9443',
  force,
});
const posted = () => manager.requests.filter((r) => r.method !== 'GET');

describe('stormd join', () => {
  it('joins: key 0600, certificates, CRL and host.json; the certificate is for its key and from the CA', async () => {
    const data = join(tmp, 'good');
    const before = manager.requests.length;
    const record = await joinManager(joinOpts(data, manager.newToken()));
    expect(record).toEqual({
      hostId: expect.any(String),
      managerUrl: manager.url,
      managerName: 'storm-manager',
      managerKey: publicKeyPin(manager.client.certPem),
      name: 'host-1',
      url: 'https://127.0.0.1:9443',
    });
    expect(manager.requests.slice(before).map((r) => `${r.method} ${r.path}`)).toEqual(['GET /api/v1/pki/ca', 'POST /api/v1/hosts/join']);
    expect((await readdir(data)).sort()).toEqual(['ca.pem', 'cert.pem', 'crl.pem', 'host.json', 'key.pem']);
    expect((await stat(join(data, 'key.pem'))).mode & 0o777).toBe(0o600);
    expect((await stat(join(data, 'cert.pem'))).mode & 0o777).toBe(0o600);
    const cert = new X509Certificate(await readFile(join(data, 'cert.pem')));
    expect(cert.checkPrivateKey(createPrivateKey(await readFile(join(data, 'key.pem'))))).toBe(true);
    expect(cert.checkIssued(new X509Certificate(manager.ca.certPem))).toBe(true);
    expect(await readFile(join(data, 'ca.pem'), 'utf8')).toBe(manager.ca.certPem);
    expect(JSON.parse(await readFile(join(data, 'host.json'), 'utf8'))).toEqual(record);
  });

  it('makes a missing parent passable (0755) and the data folder 0700: stormd opens it to the qemu group when it serves', async () => {
    const parent = join(tmp, 'var-lib-storm');
    const data = join(parent, 'local-host');
    await joinManager(joinOpts(data, manager.newToken()));
    expect((await stat(parent)).mode & 0o777).toBe(0o755);
    expect((await stat(data)).mode & 0o777).toBe(0o700);
  });

  it('refuses to join twice unless forced', async () => {
    const data = join(tmp, 'twice');
    await joinManager(joinOpts(data, manager.newToken()));
    await expect(joinManager(joinOpts(data, manager.newToken()))).rejects.toSatisfy((e) => StormdErr.STORMD_ERR_ALREADY_JOINED.is(e));
    const again = await joinManager(joinOpts(data, manager.newToken(), true));
    expect(again.hostId).toBeTruthy();
  });

  it('sends nothing but the CA request to a manager whose CA is not the one the token names', async () => {
    const other = await pkiFixture(0);
    const data = join(tmp, 'mismatch');
    const posts = posted().length;
    const err = await joinManager(joinOpts(data, manager.newToken(other.ca.fingerprint))).catch((e: unknown) => e);
    expect(StormdErr.STORMD_ERR_FINGERPRINT_MISMATCH.is(err)).toBe(true);
    expect(String(err)).toContain(other.ca.fingerprint);
    expect(posted().length).toBe(posts);
    await expect(stat(data)).rejects.toThrow(); // nothing written
  });

  it('passes a refused token through as a clear error, and writes nothing', async () => {
    const data = join(tmp, 'refused');
    const token = manager.newToken();
    await joinManager(joinOpts(join(tmp, 'first-use'), token));
    const err = await joinManager(joinOpts(data, token)).catch((e: unknown) => e);
    expect(StormdErr.STORMD_ERR_JOIN_REFUSED.is(err)).toBe(true);
    expect(String((err as Error).message)).toMatch(/HTTP 403 MGR_ERR_TOKEN_REFUSED: the enrolment token is unknown, used or expired/);
    await expect(stat(join(data, 'host.json'))).rejects.toThrow();
  });

  it('refuses a malformed token before contacting anyone', async () => {
    const count = manager.requests.length;
    await expect(joinManager(joinOpts(join(tmp, 'malformed'), 'storm1.nope'))).rejects.toSatisfy((e) =>
      StormdErr.STORMD_ERR_BAD_INPUT.is(e),
    );
    expect(manager.requests.length).toBe(count);
  });

  it('works from the command line, and stormd refuses to serve a folder that never joined', async () => {
    const data = join(tmp, 'cli');
    const joined = startProcess(
      process.execPath,
      ['--import', 'tsx', 'stormd/src/main.ts', 'join', manager.url, '--data', data, '--name', 'host-cli'],
      {
        cwd: ROOT,
        env: { ...process.env, STORMD_JOIN_TOKEN: manager.newToken() },
      },
    );
    expect(await joined.exited()).toEqual({ code: 0, signal: null });
    expect(joined.output()).toMatch(/stormd: joined https:\/\/127\.0\.0\.1:\d+ as host-cli \(host id \S+\)/);

    const unjoined = startProcess(
      process.execPath,
      ['--import', 'tsx', 'stormd/src/main.ts', '--data', join(tmp, 'never'), '--hypervisor', 'test:///default', '--listen', '127.0.0.1:0'],
      { cwd: ROOT },
    );
    expect(await unjoined.exited()).toEqual({ code: 2, signal: null });
    expect(unjoined.output()).toMatch(/STORMD_ERR_NOT_JOINED: .*run `stormd join MANAGER_URL --token TOKEN --data /);

    const help = startProcess(process.execPath, ['--import', 'tsx', 'stormd/src/main.ts', 'join', '--help'], { cwd: ROOT });
    expect(await help.exited()).toEqual({ code: 0, signal: null });
    expect(help.output()).toMatch(/usage: stormd join MANAGER_URL --token TOKEN/);
  }, 60_000);
});
