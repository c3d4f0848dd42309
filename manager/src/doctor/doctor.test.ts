import { chmod, mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { buildApp } from '../app.js';
import { managerConfig } from '../config.js';
import type { HostRow } from '../hosts/host-store.js';
import { runDoctor } from './doctor.js';
import { hostChecks } from './host-checks.js';

let dir: string;
let app: FastifyInstance;
const line = (report: Awaited<ReturnType<typeof runDoctor>>, scope: string, name: string) =>
  report.checks.find((c) => c.scope === scope && c.name === name);

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'storm-doctor-'));
  app = await buildApp(managerConfig({ data: dir, logLevel: 'silent' }), { localHypervisor: 'test:///default' });
});
afterAll(async () => {
  await app.close();
  await rm(dir, { recursive: true, force: true });
});

describe("the manager's checks", () => {
  it('pass on a fresh data folder; a local host that never enrolled and no host at all fail', async () => {
    const report = await runDoctor(app.storm);
    expect(report.checks.map((c) => `${c.status} ${c.scope} ${c.name}`)).toEqual([
      'ok manager data-folder',
      'ok manager database',
      'ok manager ca',
      'ok manager crl',
      'skip manager services',
      'fail manager local-host',
      'fail hosts enrolled',
    ]);
    expect(report.ok).toBe(false);
    expect(line(report, 'hosts', 'enrolled')?.fix).toMatch(/storm host token/);
  });

  it('name a secret others can read, with the chmod that fixes it', async () => {
    await chmod(join(dir, 'admin.token'), 0o644);
    try {
      const c = line(await runDoctor(app.storm), 'manager', 'data-folder');
      expect(c).toEqual({
        scope: 'manager',
        name: 'data-folder',
        status: 'fail',
        message: `group or others can read ${join(dir, 'admin.token')} (0644)`,
        fix: `chmod go-rwx ${join(dir, 'admin.token')}`,
      });
    } finally {
      await chmod(join(dir, 'admin.token'), 0o600);
    }
  });

  it('fail for a CA near its end and a CRL past its nextUpdate', async () => {
    const later = new Date(app.storm.trust.ca.notAfter.getTime() - 3 * 86_400_000);
    const report = await runDoctor(app.storm, later);
    expect(line(report, 'manager', 'ca')).toMatchObject({
      status: 'fail',
      message: expect.stringMatching(/^the CA \(.*ca\.pem\) expires in [23] days$/),
    });
    expect(line(report, 'manager', 'crl')).toMatchObject({
      status: 'fail',
      message: expect.stringMatching(/^CRL \d+ expired at /),
      fix: expect.stringContaining('restart the manager'),
    });
  });

  it('connect to each network service the config asks for', async () => {
    const ldapDir = await mkdtemp(join(tmpdir(), 'storm-doctor-ldap-'));
    const port = await freePort();
    const withLdap = await buildApp(managerConfig({ data: ldapDir, logLevel: 'silent', ldapListen: `127.0.0.1:${port}` }));
    try {
      expect(line(await runDoctor(withLdap.storm), 'manager', 'ldap')).toMatchObject({
        status: 'fail',
        message: `LDAP on 127.0.0.1:${port}: it is not running`,
      });
      await withLdap.storm.startServices();
      expect(line(await runDoctor(withLdap.storm), 'manager', 'ldap')).toEqual({
        scope: 'manager',
        name: 'ldap',
        status: 'ok',
        message: `LDAP accepts connections on 127.0.0.1:${port}`,
      });
    } finally {
      await withLdap.close();
      await rm(ldapDir, { recursive: true, force: true });
    }
  });

  it('answer GET /api/v1/doctor to the administrator only', async () => {
    expect((await app.inject({ method: 'GET', url: '/api/v1/doctor' })).statusCode).toBe(401);
    const { readFile } = await import('node:fs/promises');
    const token = (await readFile(join(dir, 'admin.token'), 'utf8')).trim();
    const res = await app.inject({ method: 'GET', url: '/api/v1/doctor', headers: { authorization: `Bearer ${token}` } });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({
      ok: false,
      checks: expect.arrayContaining([expect.objectContaining({ scope: 'manager', name: 'database', status: 'ok' })]),
    });
  });
});

describe("each host's lines", () => {
  const now = new Date('2026-06-01T12:00:00Z');
  const row = (over: Partial<HostRow>): HostRow => ({
    id: 'host-1',
    name: 'vm',
    url: 'https://vm:9443',
    cert_serial: 'ab',
    cert_not_after: '2027-01-01T00:00:00Z',
    next_cert_serial: null,
    next_cert_not_after: null,
    status: 'ready',
    last_heartbeat: '2026-06-01T11:59:58Z',
    last_error: null,
    cpus: 2,
    memory_mib: 1024,
    free_memory_mib: 512,
    allocated_memory_mib: 0,
    hypervisor_uri: 'qemu:///system',
    domain_type: 'kvm',
    migration_uri: null,
    migration_memory_uri: null,
    migration_disks_uri: null,
    health: null,
    degraded: null,
    drained_at: null,
    dead_at: null,
    fence_argv: null,
    fence_timeout_s: null,
    created_at: '2026-01-01T00:00:00Z',
    ...over,
  });

  it('give the heartbeat, then the checks the host sent, then its certificate', () => {
    const health = {
      checkedAt: '2026-06-01T11:59:58Z',
      checks: [
        { name: 'libvirt', status: 'ok' as const, message: 'answers' },
        { name: 'kvm', status: 'fail' as const, message: '/dev/kvm is 0600', fix: 'chgrp kvm /dev/kvm' },
      ],
    };
    expect(
      hostChecks([row({ health: JSON.stringify(health), degraded: 'kvm: /dev/kvm is 0600' })], { now, silentAfterMs: 30_000 }),
    ).toEqual([
      { scope: 'host vm', name: 'heartbeat', status: 'ok', message: 'last heartbeat 2 s ago' },
      { scope: 'host vm', name: 'libvirt', status: 'ok', message: 'answers' },
      { scope: 'host vm', name: 'kvm', status: 'fail', message: '/dev/kvm is 0600', fix: 'chgrp kvm /dev/kvm' },
      { scope: 'host vm', name: 'certificate', status: 'ok', message: 'certificate valid for 213 more days' },
    ]);
  });

  it('fail a host that is unreachable, never beat, or does not renew; skip revoked ones; a dead one is a skip', () => {
    const lines = hostChecks(
      [
        row({ name: 'gone', status: 'unreachable', last_error: 'no heartbeat for 30 s', last_heartbeat: '2026-06-01T11:58:00Z' }),
        row({ name: 'mute', status: 'new', last_heartbeat: null }),
        row({ name: 'old', cert_not_after: '2026-06-05T00:00:00Z' }),
        row({ name: 'out', status: 'revoked' }),
        row({ name: 'fenced', status: 'unreachable', dead_at: '2026-06-01T11:00:00Z', drained_at: '2026-06-01T11:00:00Z' }),
      ],
      { now, silentAfterMs: 30_000 },
    );
    expect(lines.map((l) => `${l.status} ${l.scope} ${l.name}: ${l.message}`)).toEqual([
      'fail host gone heartbeat: unreachable: no heartbeat for 30 s (last 120 s ago)',
      'fail host mute heartbeat: enrolled 2026-01-01T00:00:00Z but has never sent a heartbeat',
      'ok host old heartbeat: last heartbeat 2 s ago',
      'skip host old checks: its stormd sends no checks (older than this manager)',
      'fail host old certificate: its certificate expires in 3 days and it has not renewed it',
      'skip host fenced heartbeat: declared dead at 2026-06-01T11:00:00Z; storm host undrain fenced once it is back, or storm host rm fenced',
    ]);
  });
});

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}
