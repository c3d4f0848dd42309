/**
 * SIGTERM at any moment of the manager's start-up: sent as soon as health first answers, while the
 * local host is still being enrolled, it exits 0; the next start finds the local host enrolled or
 * not, never half (a host the manager knows whose folder holds no join, or the other way round).
 */
import { readFile, mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Agent, request } from 'node:https';
import { type AddressInfo, createServer } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { managerClient, ROOT } from '../helpers/manager-process.js';
import { pollUntil } from '../helpers/poll.js';
import { startProcess, stopAllProcesses, type TestProcess } from '../helpers/process.js';

let root: string;

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'storm-signals-'));
});
afterAll(async () => {
  await stopAllProcesses();
  await rm(root, { recursive: true, force: true });
});

/** A port free now; the host's join records both URLs, so a round keeps its ports across restarts. */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

function startManager(data: string, hostData: string, ports: { manager: number; host: number }): TestProcess {
  return startProcess(
    process.execPath,
    [
      join(ROOT, 'bin/storm-manager.js'),
      '--data',
      data,
      '--listen',
      `127.0.0.1:${ports.manager}`,
      '--local-host',
      '--hypervisor',
      'test:///default',
      '--local-host-data',
      hostData,
      '--local-host-listen',
      `127.0.0.1:${ports.host}`,
      '--channel-poll',
      '0',
      '--heartbeat',
      '1',
    ],
    { cwd: ROOT },
  );
}

/** GET /api/v1/health without verifying the certificate (the CA may not be on disk yet): true on 200. */
function healthAnswers(url: string): Promise<boolean> {
  return new Promise((resolve) => {
    const req = request(`${url}/api/v1/health`, { agent: new Agent({ rejectUnauthorized: false }), timeout: 1000 }, (res) => {
      res.resume();
      resolve(res.statusCode === 200);
    });
    req.on('error', () => resolve(false));
    req.end();
  });
}

const joined = (dir: string) =>
  stat(join(dir, 'host.json')).then(
    () => true,
    () => false,
  );

describe('the manager under SIGTERM during start-up', () => {
  it('exits 0 when signalled as soon as health answers, and never leaves the local host half enrolled', async () => {
    for (let round = 0; round < 3; round += 1) {
      const data = join(root, `data-${round}`);
      const hostData = join(root, `host-${round}`);
      const ports = { manager: await freePort(), host: await freePort() };
      const first = startManager(data, hostData, ports);
      const [, url] = await first.waitForLine(/Server listening at (https:\S+)/, 60_000);
      await pollUntil('health', async () => ((await healthAnswers(url!)) ? true : undefined), { timeoutMs: 30_000, everyMs: 5 });
      expect(await first.stop('SIGTERM')).toEqual({ code: 0, signal: null });

      // The next start settles the local host: enrolled once, ready, and its folder holds that join.
      const second = startManager(data, hostData, ports);
      const [, url2] = await second.waitForLine(/STORM manager listening on (\S+)/, 60_000);
      const { api } = await managerClient(url2!, data);
      const ready = await pollUntil(
        'the local host ready',
        async () => {
          const { hosts } = await api.get<{ hosts: { id: string; status: string }[] }>('/hosts');
          const live = hosts.filter((h) => h.status !== 'revoked');
          return live.length === 1 && live[0]!.status === 'ready' ? live[0] : undefined;
        },
        { timeoutMs: 30_000, everyMs: 100 },
      );
      expect(await joined(hostData)).toBe(true);
      const record = JSON.parse(await readFile(join(hostData, 'host.json'), 'utf8')) as { hostId: string };
      expect(record.hostId).toBe(ready.id);
      expect(await second.stop('SIGTERM')).toEqual({ code: 0, signal: null });
    }
  }, 300_000);

  it('refuses a local host folder joined to another manager, saying what to do', async () => {
    const hostData = join(root, 'host-0'); // joined to the first round's manager
    const other = startManager(join(root, 'data-other'), hostData, { manager: await freePort(), host: await freePort() });
    const exit = await other.exited();
    expect(exit.code).not.toBe(0);
    expect(other.output()).toMatch(/joined to another manager .*--local-host-data/);
  }, 60_000);
});
