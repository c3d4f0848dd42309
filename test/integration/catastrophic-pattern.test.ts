/**
 * A publisher's pattern cannot stall the manager: a signed channel whose descriptor declares a
 * parameter pattern catastrophic for a backtracking engine (`(a+)+`) with a 64-character default
 * that does not match. Subscribing answers within 1 s (accepted or refused), and the manager's DNS
 * answers all along. The channel is built with a harmless pattern of the same length, then its
 * descriptor is swapped and the feed re-signed, since the builder checks defaults too. Loopback only.
 */
import { createHash } from 'node:crypto';
import { createSocket } from 'node:dgram';
import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadPrivateKey, signBytes } from '../../channels/src/build/keys.js';
import { descriptorPath, FEED_FILE, SIGNATURE_FILE } from '../../channels/src/index.js';
import { query } from '../../manager/src/protocols/dns/test-support/fixtures.js';
import { FIXTURE_CHANNEL_SRC, publishChannel, type PublishedChannel } from '../helpers/channel-fixture.js';
import { type ManagerProcess, startManager } from '../helpers/manager-process.js';
import { stopAllProcesses } from '../helpers/process.js';
import { freePort } from '../helpers/stormd-process.js';

const DEFAULT = `${'a'.repeat(63)}!`;
const HARMLESS = '[a!]+';
const EVIL = '(a+)+';

/** Swaps the descriptor's pattern and signs the feed again with the publisher's key. */
async function poison(channel: PublishedChannel): Promise<void> {
  const descriptor = join(channel.dir, descriptorPath('hello-web', '1.0.0'));
  const before = await readFile(descriptor);
  const after = Buffer.from(before.toString('utf8').replace(`pattern="${HARMLESS}"`, `pattern="${EVIL}"`));
  expect(after.length).toBe(before.length);
  await writeFile(descriptor, after);
  const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');
  const feed = Buffer.from((await readFile(join(channel.dir, FEED_FILE), 'utf8')).replace(sha(before), sha(after)));
  await writeFile(join(channel.dir, FEED_FILE), feed);
  await writeFile(join(channel.dir, SIGNATURE_FILE), signBytes(await loadPrivateKey(channel.keyPath), feed));
}

/** Asks DNS every 50 ms until stopped; the probes that got no answer within a second. */
function probeDns(port: number): { stop(): Promise<{ sent: number; unanswered: number }> } {
  const socket = createSocket('udp4');
  const waiting = new Map<number, NodeJS.Timeout>();
  let sent = 0;
  let unanswered = 0;
  socket.on('message', (m) => {
    clearTimeout(waiting.get(m.readUInt16BE(0)));
    waiting.delete(m.readUInt16BE(0));
  });
  const timer = setInterval(() => {
    const id = ++sent;
    waiting.set(
      id,
      setTimeout(() => {
        unanswered++;
        waiting.delete(id);
      }, 1000),
    );
    socket.send(query('storm.local', 'A', { id }), port, '127.0.0.1');
  }, 50);
  return {
    async stop() {
      clearInterval(timer);
      await new Promise((r) => setTimeout(r, 1100));
      socket.close();
      return { sent, unanswered };
    },
  };
}

describe('a descriptor with a catastrophic parameter pattern', () => {
  let dir: string;
  let channel: PublishedChannel;
  let m: ManagerProcess;
  let dnsPort: number;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'storm-evil-pattern-'));
    const src = join(dir, 'src');
    await cp(FIXTURE_CHANNEL_SRC, src, { recursive: true });
    const manifestPath = join(src, 'hello-web-1.0.0', 'manifest.json');
    const manifest = JSON.parse(await readFile(manifestPath, 'utf8')) as { parameters: Record<string, unknown>[] };
    manifest.parameters = [{ name: 'greeting', type: 'string', default: DEFAULT, pattern: HARMLESS, description: 'What the page says.' }];
    await writeFile(manifestPath, JSON.stringify(manifest));
    channel = await publishChannel({ src });
    await poison(channel);
    dnsPort = await freePort();
    m = await startManager(join(dir, 'manager'), [
      '--channel-allow',
      '127.0.0.0/8',
      '--network',
      '10.77.0.0/24',
      '--dns-listen',
      `127.0.0.1:${dnsPort}`,
    ]);
  }, 120_000);
  afterAll(async () => {
    await m?.proc.stop('SIGKILL');
    await stopAllProcesses();
    await channel?.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('is answered within 1 s when subscribed to, and DNS answers throughout', async () => {
    const dns = probeDns(dnsPort);
    const t0 = performance.now();
    const answer = await Promise.race([
      m.api.post('/channels', { url: channel.feedUrl, publicKey: channel.publicKey }).then(
        () => 'accepted',
        (err: Error) => `refused: ${err.message}`,
      ),
      new Promise<string>((r) => setTimeout(() => r('no answer in 10 s'), 10_000)),
    ]);
    const ms = performance.now() - t0;
    // A little longer: whatever the subscription left running must not stall DNS either.
    await new Promise((r) => setTimeout(r, 1000));
    const probes = await dns.stop();
    expect(answer).not.toBe('no answer in 10 s');
    expect(ms).toBeLessThan(1000);
    expect(probes.sent).toBeGreaterThan(20);
    expect(probes.unanswered).toBe(0);
    // The default does not match: the version is refused with the reason, never run for long.
    expect(answer).toMatch(/default: does not match pattern \(a\+\)\+/);
  }, 60_000);
});
