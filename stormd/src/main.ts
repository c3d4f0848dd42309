/**
 * `stormd`: the host daemon. For now it connects its hypervisor driver, reports the host, and runs
 * until SIGTERM; the mutual-TLS API (stage layers, define and run instances) lands with the hosts work.
 */
import { mkdir } from 'node:fs/promises';
import { resolve } from 'node:path';
import { ConfigError } from '../../common/config.js';
import { loadStormdConfig } from './config.js';
import { resolveHypervisorUri } from './hypervisor/detect.js';
import { createDriver } from './hypervisor/registry.js';

const log = (msg: string) => process.stdout.write(`stormd: ${msg}\n`);

async function main(): Promise<void> {
  let loaded: ReturnType<typeof loadStormdConfig>;
  try {
    loaded = loadStormdConfig(process.argv.slice(2), process.env);
  } catch (err) {
    process.stderr.write(`stormd: ${err instanceof ConfigError ? err.message : String(err)}\n`);
    process.exit(2);
  }
  if ('help' in loaded) {
    process.stdout.write(loaded.help);
    return;
  }
  const { config } = loaded;
  const dataDir = resolve(config.data);
  // libvirt's qemu user must traverse into the layer store and instance folders.
  await mkdir(dataDir, { recursive: true, mode: 0o755 });
  const uri = await resolveHypervisorUri(config.hypervisor);
  const driver = createDriver(uri);
  await driver.connect();
  const info = await driver.info();
  log(`host ${info.hostname}: ${info.cpus} cpus, ${info.memoryMiB} MiB, hypervisor ${info.uri} (domain type ${info.domainType}), data ${dataDir}`);

  const stop = async (signal: string) => {
    log(`${signal}: stopping`);
    await driver.close().catch(() => undefined);
    process.exit(0);
  };
  process.on('SIGTERM', () => void stop('SIGTERM'));
  process.on('SIGINT', () => void stop('SIGINT'));
  // Keep the process alive until a signal arrives.
  setInterval(() => undefined, 1 << 30);
}

main().catch((err: unknown) => {
  process.stderr.write(`stormd: ${err instanceof Error ? err.stack ?? err.message : String(err)}\n`);
  process.exit(1);
});
