/**
 * `storm-manager`: loads the config, builds the app, listens over HTTPS, enrols and supervises the local
 * host. SIGTERM or SIGINT at any moment, start-up included, stops it cleanly with exit 0.
 * `storm-manager backup …` and `restore …` are commands of their own (backup/command.ts).
 */
import { writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { ConfigError, parseHostPort } from '../../common/config.js';
import { GracefulStop } from '../../common/graceful-stop.js';
import { buildApp } from './app.js';
import { adminNotice } from './auth/session-auth.js';
import { loadManagerConfig } from './config.js';
import { runBackupCommand } from './backup/command.js';
import { enrolLocalHost, localHostName } from './local-host/enrol.js';
import { waitForFirstHeartbeat } from './local-host/first-heartbeat.js';
import { LocalHostSupervisor } from './local-host/supervisor.js';

/** How long start-up waits for the local stormd's first heartbeat before it says ready anyway. */
const FIRST_HEARTBEAT_MS = 60_000;

async function main(): Promise<void> {
  const [command, ...rest] = process.argv.slice(2);
  // backup and restore run beside (or instead of) a manager: no listener, no start-up steps.
  if (command === 'backup' || command === 'restore') {
    // A command whose work never settles must not pass for a success.
    process.exitCode = 1;
    process.exitCode = await runBackupCommand(command, rest);
    return;
  }
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
  // Installed before the first step: a signal at any moment of start-up stops cleanly (exit 0).
  let log: { info(msg: string): void } = { info: (msg) => process.stdout.write(`${msg}\n`) };
  const stopper = new GracefulStop((line) => log.info(line));
  // libvirt's binding only with --local-host: the manager appliance (appliances/recipes/storm-manager) has no libvirt.
  const localHypervisor = config.localHost
    ? await stopper.step(async () => (await import('../../common/hypervisor-uri.js')).resolveHypervisorUri(config.hypervisor))
    : null;
  const app = await stopper.step(() => buildApp(config, { localHypervisor }), { name: 'the API and services', close: (a) => a.close() });
  log = app.log;
  const ctx = app.storm;
  const { host, port } = parseHostPort(config.listen, 'listen');
  await stopper.step(() => app.listen({ host, port }));
  const address = app.server.address();
  ctx.setListenAddress(host, typeof address === 'object' && address ? address.port : port);
  // The CLI on this machine finds the manager through its data folder.
  await stopper.step(() => writeFile(join(ctx.dataDir, 'manager.url'), `${ctx.publicUrl()}\n`));
  // LDAP, DNS, DHCP and the guests' listener; app.close() closes them.
  await stopper.step(() => ctx.startServices());

  if (localHypervisor) {
    const dataDir = resolve(config.localHostData);
    const joined = await stopper.step(() => enrolLocalHost(ctx, { dataDir, listen: config.localHostListen }));
    app.log.info(
      `local host ${joined === 'already' ? 'already enrolled' : joined === 'rejoined' ? 'enrolled again' : 'enrolled'} (${dataDir})`,
    );
    const supervisor = new LocalHostSupervisor({
      dataDir,
      hypervisor: localHypervisor,
      log: app.log,
      extraArgs: ['--listen', config.localHostListen],
    });
    supervisor.start();
    stopper.add('the local stormd', () => supervisor.stop());
  }
  ctx.startBackground();
  // The banner means "ready": with a local host, that includes the host taking launches.
  if (localHypervisor && !(await stopper.step(() => waitForFirstHeartbeat(ctx, localHostName(), FIRST_HEARTBEAT_MS)))) {
    app.log.warn(
      `the local host has sent no heartbeat in ${FIRST_HEARTBEAT_MS / 1000} s: launches fail until it does; the local stormd's lines above and \`storm doctor\` say why`,
    );
  }

  process.stdout.write(
    [
      `STORM manager listening on ${ctx.publicUrl()}`,
      `admin API token: ${ctx.adminTokenPath}${ctx.adminTokenCreated ? ' (created now)' : ''}`,
      adminNotice(app.consoleAdmin),
      `CA certificate: ${join(ctx.dataDir, 'pki', 'ca.pem')} (fingerprint ${ctx.trust.fingerprint})`,
      `local host: ${localHypervisor ? `${localHypervisor}, data ${resolve(config.localHostData)}` : 'none'}`,
      '',
    ].join('\n'),
  );
  stopper.started();
}

main().catch((err: unknown) => {
  process.stderr.write(`storm-manager: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
