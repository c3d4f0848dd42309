/**
 * A CRL that never expires under a running fleet: a real manager and a real stormd whose clocks
 * (Node's and OpenSSL's alike, through libfaketime) jump 60 days ahead together, as 60 days of a
 * running fleet would move them, past the 30-day nextUpdate of the CRL both hold. The manager
 * re-issues its CRL on a timer, the host gets it with a heartbeat answer, and it keeps heartbeating
 * and launching.
 */
import { access, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { get } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readCrl } from '../../trust/crl-info.js';
import { publishChannel, type PublishedChannel } from '../helpers/channel-fixture.js';
import { startManager, type ManagerProcess } from '../helpers/manager-process.js';
import { pollUntil } from '../helpers/poll.js';
import { stopAllProcesses } from '../helpers/process.js';
import { startStormd } from '../helpers/stormd-process.js';

/** Debian's libfaketime (package faketime, scripts/setup.sh --test); the thread-safe build, for Node. */
const LIBFAKETIME = '/usr/lib/x86_64-linux-gnu/faketime/libfaketimeMT.so.1';
const DAY_MS = 86_400_000;

let tmp: string;
let clockFile: string;
let channel: PublishedChannel;
let manager: ManagerProcess;

/** Every process started with these reads its offset from `clockFile` (at most a second late); monotonic time stays real, so timers run as usual. */
const fakeClock = (): Record<string, string> => ({ LD_PRELOAD: LIBFAKETIME, FAKETIME_TIMESTAMP_FILE: clockFile, FAKETIME_CACHE_DURATION: '1', FAKETIME_DONT_FAKE_MONOTONIC: '1' });

interface HostView {
  name: string;
  status: string;
  lastHeartbeat: string | null;
}

/** The manager's current CRL, as `GET /api/v1/pki/crl` serves it. */
async function crl(): Promise<{ number: number; nextUpdate: Date }> {
  const pem = await new Promise<string>((resolve, reject) => {
    get(`${manager.url}/api/v1/pki/crl`, { ca: manager.ca }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (text += chunk));
      res.on('end', () => resolve(text));
    }).on('error', reject);
  });
  const info = readCrl(pem, manager.ca, (why) => new Error(why));
  return { number: info.crlNumber, nextUpdate: info.nextUpdate! };
}

beforeAll(async () => {
  await access(LIBFAKETIME).catch(() => {
    throw new Error(`${LIBFAKETIME} is missing: run bash scripts/setup.sh --test (it installs Debian's faketime)`);
  });
  tmp = await mkdtemp(join(tmpdir(), 'storm-crl-clock-'));
  clockFile = join(tmp, 'faketime');
  await writeFile(clockFile, '+0d\n');
  channel = await publishChannel();
  manager = await startManager(join(tmp, 'manager'), ['--channel-allow', '127.0.0.0/8', '--heartbeat', '1'], fakeClock());
  await manager.api.post('/channels', { url: channel.feedUrl, publicKey: channel.publicKey });
  const env = Object.entries(fakeClock()).map(([k, v]) => `${k}=${v}`);
  await startStormd(manager, { name: 'host-a', dir: tmp, hypervisor: 'test:///default', wrap: ['env', ...env] });
}, 180_000);

afterAll(async () => {
  await stopAllProcesses();
  await channel?.close();
  await rm(tmp, { recursive: true, force: true });
});

describe('60 days on, the fleet still runs', () => {
  it('launches before the jump', async () => {
    const web1 = await manager.api.post<{ state: string }>('/instances', { appliance: 'hello-web', version: '1.0.0', name: 'web1' });
    expect(web1.state).toBe('running');
  });

  it('after the clocks move 60 days ahead, the host heartbeats and a launch works', async () => {
    const before = await crl();
    await writeFile(clockFile, '+60d\n');
    const jumped = Date.now() + 60 * DAY_MS;
    expect(before.nextUpdate.getTime()).toBeLessThan(jumped); // the CRL both ends held has expired
    // The manager re-issued its CRL on its own, and the host beats again (with the new CRL in its answer).
    await pollUntil('a heartbeat after the jump', async () => {
      const host = await manager.api.get<HostView>('/hosts/host-a');
      return host.status === 'ready' && host.lastHeartbeat && Date.parse(host.lastHeartbeat) > jumped - 5000 ? host : undefined;
    }, { timeoutMs: 90_000 });
    const after = await crl();
    expect(after.number).toBeGreaterThan(before.number);
    expect(after.nextUpdate.getTime()).toBeGreaterThan(jumped + 29 * DAY_MS);
    const web2 = await manager.api.post<{ state: string }>('/instances', { appliance: 'hello-web', version: '1.0.0', name: 'web2' });
    expect(web2.state).toBe('running');
  }, 120_000);
});
