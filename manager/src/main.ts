/** `storm-manager`: loads the config, builds the app, listens over HTTPS, enrols and supervises the local host, stops cleanly on SIGTERM. */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ConfigError, parseHostPort } from '../../common/config.js';
import { resolveHypervisorUri } from '../../stormd/src/hypervisor/detect.js';
import { buildApp } from './app.js';
import { buildGuestApp } from './services/xmlrpc/guest-app.js';
import { adminNotice } from './auth/session-auth.js';
import { loadManagerConfig } from './config.js';
import { enrolLocalHost } from './local-host/enrol.js';
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
  const ctx = app.storm;
  const { host, port } = parseHostPort(config.listen, 'listen');
  await app.listen({ host, port });
  const address = app.server.address();
  ctx.setListenAddress(host, typeof address === 'object' && address ? address.port : port);
  // The CLI on this machine finds the manager through its data folder.
  await writeFile(join(ctx.dataDir, 'manager.url'), `${ctx.publicUrl()}\n`);
  await ctx.startServices();
  let guestApp: Awaited<ReturnType<typeof buildGuestApp>> | undefined;
  if (config.guestListen) {
    guestApp = await buildGuestApp(ctx);
    const g = parseHostPort(config.guestListen, 'guest-listen');
    await guestApp.listen({ host: g.host, port: g.port });
  }

  let supervisor: LocalHostSupervisor | undefined;
  if (localHypervisor) {
    const dataDir = join(ctx.dataDir, 'hosts', 'local');
    const joined = await enrolLocalHost(ctx, { dataDir, listen: config.localHostListen });
    app.log.info(`local host ${joined === 'joined' ? 'enrolled' : 'already enrolled'} (${dataDir})`);
    supervisor = new LocalHostSupervisor({ dataDir, hypervisor: localHypervisor, log: app.log, extraArgs: ['--listen', config.localHostListen] });
    supervisor.start();
  }
  ctx.startBackground();

  process.stdout.write(
    [
      `STORM manager listening on ${ctx.publicUrl()}`,
      `admin API token: ${ctx.adminTokenPath}${ctx.adminTokenCreated ? ' (created now)' : ''}`,
      adminNotice(app.consoleAdmin),
      `CA certificate: ${join(ctx.dataDir, 'pki', 'ca.pem')} (fingerprint ${ctx.trust.fingerprint})`,
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
    await guestApp?.close();
    await app.close();
    process.exit(0);
  };
  process.on('SIGTERM', () => void stop('SIGTERM'));
  process.on('SIGINT', () => void stop('SIGINT'));
}

main().catch((err: unknown) => {
  process.stderr.write(`storm-manager: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
