/**
 * The usual start of a hosts test: a temp folder, the fixture channel served, a manager process
 * (heartbeats every second) subscribed to it. `close` stops every process the test started.
 *
 * @example
 * let env: SubscribedManager;
 * beforeAll(async () => (env = await startSubscribedManager('storm-hosts-')), 120_000);
 * afterAll(() => env?.close());
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { publishChannel, type PublishedChannel } from './channel-fixture.js';
import { type ManagerProcess, startManager } from './manager-process.js';
import { stopAllProcesses } from './process.js';

export interface SubscribedManager {
  /** The test's temp folder; the manager's data is `<dir>/manager`. */
  readonly dir: string;
  readonly manager: ManagerProcess;
  readonly channel: PublishedChannel;
  close(): Promise<void>;
}

export async function startSubscribedManager(prefix: string, extraArgs: readonly string[] = []): Promise<SubscribedManager> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  const channel = await publishChannel();
  const manager = await startManager(join(dir, 'manager'), ['--channel-allow', '127.0.0.0/8', '--heartbeat', '1', ...extraArgs]);
  await manager.api.post('/channels', { url: channel.feedUrl, publicKey: channel.publicKey });
  return {
    dir,
    manager,
    channel,
    close: async () => {
      await stopAllProcesses();
      await channel.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}
