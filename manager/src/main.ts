/** `storm-manager`: loads the config, builds the app, listens, supervises the local host, stops cleanly on SIGTERM. */
import { join, resolve } from 'node:path';
import { ConfigError, parseHostPort } from '../../common/config.js';
import { resolveHypervisorUri } from '../../stormd/src/hypervisor/detect.js';
import { buildApp } from './app.js';
import { loadManagerConfig } from './config.js';
import { LocalHostSupervisor } from './local-host/supervisor.js';

async function main(): Promise<void> {
  let loaded: ReturnType<typeof loadManagerConfig>;
  try {
    loaded = loadManagerConfig(process.argv.slice(2), process.env);
  } catch (err) {
    process.stderr.write(`storm-manager: ${err instanceof ConfigError ? err.message : String(err)}\n`);
    process.exit(2);
  }
  if ('help' in loaded) {
    process.stdout.write(loaded.help);
    return;
  }
  const { config } = loaded;
  const localHypervisor = config.localHost ? await resolveHypervisorUri(config.hypervisor) : null;
  const app = await buildApp(config, { localHypervisor });
  const { host, port } = parseHostPort(config.listen, 'listen');
  await app.listen({ host, port });
  app.storm.startBackground();

  let supervisor: LocalHostSupervisor | undefined;
  if (localHypervisor) {
    supervisor = new LocalHostSupervisor({ dataDir: join(resolve(config.data), 'hosts', 'local'), hypervisor: localHypervisor, log: app.log });
    supervisor.start();
  }

  const address = app.server.address();
  const shown = typeof address === 'object' && address ? `${address.family === 'IPv6' ? `[${address.address}]` : address.address}:${address.port}` : config.listen;
  process.stdout.write(
    [
      `STORM manager listening on http://${shown}`,
      `admin API token: ${app.storm.adminTokenPath}${app.storm.adminTokenCreated ? ' (created now)' : ''}`,
      `local host: ${localHypervisor ?? 'none'}`,
      '',
    ].join('\n'),
  );

  let stopping = false;
  const stop = async (signal: string): Promise<void> => {
    if (stopping) return;
    stopping = true;
    app.log.info(`${signal}: shutting down`);
    await supervisor?.stop();
    await app.close();
    process.exit(0);
  };
  process.on('SIGTERM', () => void stop('SIGTERM'));
  process.on('SIGINT', () => void stop('SIGINT'));
}

main().catch((err: unknown) => {
  process.stderr.write(`storm-manager: ${err instanceof Error ? err.stack ?? err.message : String(err)}\n`);
  process.exit(1);
});
