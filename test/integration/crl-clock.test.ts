/**
 * A CRL that never expires under a running fleet: a real manager and a real stormd whose clocks
 * (Node's and OpenSSL's alike, through libfaketime) jump 60 days ahead together, as 60 days of a
 * running fleet would move them, past the 30-day nextUpdate of the CRL both hold. The manager
 * re-issues its CRL on a timer, the host gets it with a heartbeat answer, and it keeps heartbeating
 * and launching. A heartbeat posted with the host's certificate shows the answer itself carries the
 * CRL (through the route's answer schema), not only the number that makes stormd fetch it.
 */
import { access, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { get, request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readCrl } from '../../trust/crl-info.js';
import { publishChannel, type PublishedChannel } from '../helpers/channel-fixture.js';
import { startManager, type ManagerProcess } from '../helpers/manager-process.js';
import { pollUntil } from '../helpers/poll.js';
import { stopAllProcesses } from '../helpers/process.js';
import { startStormd, type StormdProcess } from '../helpers/stormd-process.js';

/** Debian's libfaketime (package faketime, scripts/setup.sh --test); the thread-safe build, for Node. */
const LIBFAKETIME = '/usr/lib/x86_64-linux-gnu/faketime/libfaketimeMT.so.1';
const DAY_MS = 86_400_000;

let tmp: string;
let clockFile: string;
let channel: PublishedChannel;
let manager: ManagerProcess;
let host: StormdProcess;

/** Every process started with these reads its offset from `clockFile` (at most a second late); monotonic time stays real, so timers run as usual. */
const fakeClock = (): Record<string, string> => ({
  LD_PRELOAD: LIBFAKETIME,
  FAKETIME_TIMESTAMP_FILE: clockFile,
  FAKETIME_CACHE_DURATION: '1',
  FAKETIME_DONT_FAKE_MONOTONIC: '1',
});

interface HostView {
  name: string;
  status: string;
  lastHeartbeat: string | null;
}

/** One heartbeat as host-a sends it (its client certificate), saying it holds CRL `crlNumber`: the answer's body. */
async function heartbeat(crlNumber: number): Promise<{ crlNumber: number; crl?: string }> {
  const [cert, key] = await Promise.all([readFile(join(host.data, 'cert.pem'), 'utf8'), readFile(join(host.data, 'key.pem'), 'utf8')]);
  const body = JSON.stringify({ info: null, instances: null, crlNumber });
  return new Promise((resolve, reject) => {
    const req = request(
      `${manager.url}/api/v1/hosts/heartbeat`,
      {
        method: 'POST',
        ca: manager.ca,
        cert,
        key,
        agent: false,
        headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) },
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (text += chunk));
        res.on('end', () =>
          res.statusCode === 200
            ? resolve(JSON.parse(text) as { crlNumber: number; crl?: string })
            : reject(new Error(`heartbeat answered ${res.statusCode}: ${text}`)),
        );
      },
    );
    req.on('error', reject);
    req.end(body);
  });
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
  host = await startStormd(manager, { name: 'host-a', dir: tmp, hypervisor: 'test:///default', wrap: ['env', ...env] });
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
    // The manager re-issues its CRL on its own (its timer looks every 10 s)...
    const after = await pollUntil(
      'the manager to re-issue its CRL',
      async () => {
        const now = await crl();
        return now.number > before.number ? now : undefined;
      },
      { timeoutMs: 60_000 },
    );
    expect(after.nextUpdate.getTime()).toBeGreaterThan(jumped + 29 * DAY_MS);
    // ...and the host beats after that (a heartbeat already under way right after the jump proves nothing).
    const reissued = Date.now() + 60 * DAY_MS;
    await pollUntil(
      'a heartbeat after the new CRL',
      async () => {
        const view = await manager.api.get<HostView>('/hosts/host-a');
        return view.status === 'ready' && view.lastHeartbeat && Date.parse(view.lastHeartbeat) > reissued ? view : undefined;
      },
      { timeoutMs: 60_000 },
    );
    // The launch dials the host anew: its listener checks the manager against the CRL the heartbeat brought.
    const web2 = await manager.api.post<{ state: string }>('/instances', { appliance: 'hello-web', version: '1.0.0', name: 'web2' });
    expect(web2.state).toBe('running');
  }, 120_000);

  it('the heartbeat answer itself carries the CRL to a host that holds an older one, and only then', async () => {
    const current = await crl();
    const behind = await heartbeat(current.number - 1);
    expect(behind.crlNumber).toBe(current.number);
    expect(readCrl(behind.crl ?? '', manager.ca, (why) => new Error(why)).crlNumber).toBe(current.number);
    expect(await heartbeat(current.number)).not.toHaveProperty('crl');
  });
});
