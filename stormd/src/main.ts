/**
 * `stormd`: the host daemon. `stormd join MANAGER_URL --token T` enrols the host; `stormd` serves
 * the mutual-TLS API to that manager and sends it heartbeats until SIGTERM or SIGINT (exit 0, even
 * during start-up).
 */
import { ConfigError } from '../../common/config.js';
import { StormError } from '../../common/errors.js';
import { GracefulStop } from '../../common/graceful-stop.js';
import { loadStormdConfig } from './config.js';
import { loadJoinConfig } from './join/join-config.js';
import { joinManager } from './join/join.js';
import { startStormd } from './serve.js';

const say = (msg: string) => process.stdout.write(`stormd: ${msg}\n`);

/** Exit 2 for bad usage or a host that cannot serve yet (not joined), 1 for everything else. */
function fail(err: unknown): never {
  if (err instanceof ConfigError) {
    process.stderr.write(`stormd: ${err.message}\n`);
    process.exit(2);
  }
  if (err instanceof StormError) {
    process.stderr.write(`stormd: ${err.code}: ${err.message}\n`);
    process.exit(err.code === 'STORMD_ERR_NOT_JOINED' || err.code === 'STORMD_ERR_BAD_INPUT' ? 2 : 1);
  }
  process.stderr.write(`stormd: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
}

async function join(argv: readonly string[]): Promise<void> {
  const loaded = loadJoinConfig(argv, process.env);
  if ('help' in loaded) {
    process.stdout.write(loaded.help);
    return;
  }
  const { config } = loaded;
  const record = await joinManager({
    managerUrl: config.managerUrl,
    token: config.token,
    dataDir: config.data,
    name: config.name,
    url: config.url,
    force: config.force,
    log: say,
  });
  say(`joined ${record.managerUrl} as ${record.name} (host id ${record.hostId}); start it with: stormd --data ${config.data}`);
}

async function serve(argv: readonly string[]): Promise<void> {
  const loaded = loadStormdConfig(argv, process.env);
  if ('help' in loaded) {
    process.stdout.write(loaded.help);
    return;
  }
  // Installed before start-up: a signal while it runs stops right after, with exit 0.
  const stopper = new GracefulStop(say);
  await stopper.step(() => startStormd(loaded.config, { say }), { name: 'stormd', close: (s) => s.close() });
  stopper.started();
}

const argv = process.argv.slice(2);
(argv[0] === 'join' ? join(argv.slice(1)) : serve(argv)).catch(fail);
