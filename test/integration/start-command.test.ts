/**
 * The README's start command (`bash scripts/start.sh`) on an empty data folder: the manager comes up
 * with a local host (ready: every check of its own passes), health answers with the hypervisor URI
 * and schema version, /api/v1 without the token is 401, and SIGTERM stops it cleanly with exit 0.
 */
import { chmod, mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SCHEMA_VERSION } from '../../manager/src/db/migrations.js';
import { ensureLibvirtd, type LibvirtdHandle } from '../harness/libvirtd.js';
import { ManagerClient } from '../../cli/src/client.js';
import { managerClient } from '../helpers/manager-process.js';
import { startProcess, stopAllProcesses } from '../helpers/process.js';

const ROOT = resolve(import.meta.dirname, '../..');
let dataDir: string;
let libvirtd: LibvirtdHandle;

beforeAll(async () => {
  const dir = await mkdtemp(join(tmpdir(), 'storm-start-'));
  // mkdtemp makes 0700: libvirt's qemu user must pass it to the local host's store below (the manager's data stays 0700 itself).
  await chmod(dir, 0o711);
  dataDir = join(dir, 'data');
  // The start command finds this libvirtd (or starts none itself); the harness stops what it started.
  libvirtd = await ensureLibvirtd();
});
afterAll(async () => {
  await stopAllProcesses();
  await libvirtd?.stop();
  await rm(join(dataDir, '..'), { recursive: true, force: true });
});

describe('scripts/start.sh', () => {
  it('starts on an empty data folder, answers health and 401, stops on SIGTERM with exit 0', async () => {
    const proc = startProcess('bash', ['scripts/start.sh'], {
      cwd: ROOT,
      // The appliance bridge stays off here: its DHCP would hear the host's own network (the e2e tests run it in a namespace).
      env: {
        ...process.env,
        STORM_DATA: dataDir,
        STORM_LOCAL_HOST_DATA: join(dataDir, '..', 'local-host'),
        STORM_LISTEN: '127.0.0.1:0',
        STORM_NETWORK_SERVICES: 'off',
      },
    });
    const [, url] = await proc.waitForLine(/STORM manager listening on (\S+)/, 600_000);
    const tokenLine = await proc.waitForLine(/admin API token: (\S+)/, 5_000);
    expect(tokenLine[1]).toBe(join(dataDir, 'admin.token'));
    expect((await stat(join(dataDir, 'admin.token'))).mode & 0o777).toBe(0o600);

    expect(url).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
    const { api, ca } = await managerClient(url!, dataDir);
    expect(await api.get('/health')).toMatchObject({ status: 'ok', hypervisor: libvirtd.uri, schemaVersion: SCHEMA_VERSION });

    const anonymous = new ManagerClient({ url: url!, token: 'not-a-token', ca });
    await expect(anonymous.get('/whoami')).rejects.toMatchObject({ status: 401, code: 'MGR_ERR_UNAUTHORIZED' });
    expect(await api.get('/whoami')).toEqual({ principal: 'admin' });

    // The local stormd enrolled itself and reports in.
    await proc.waitForLine(/stormd: host .* hypervisor qemu:\/\/\/system/, 60_000);
    const deadline = Date.now() + 60_000;
    let hosts: { status: string; lastError: string | null; hypervisor: { uri: string } }[] = [];
    while (Date.now() < deadline) {
      hosts = (await api.get<{ hosts: typeof hosts }>('/hosts')).hosts;
      if (hosts[0]?.status === 'ready') break;
      await new Promise((r) => setTimeout(r, 500));
    }
    expect(hosts).toHaveLength(1);
    expect(hosts[0]).toMatchObject({ status: 'ready', lastError: null, hypervisor: { uri: 'qemu:///system' } });
    expect(await proc.stop('SIGTERM')).toEqual({ code: 0, signal: null });
  }, 900_000);
});
