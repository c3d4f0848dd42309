/**
 * `startStormd(config)`: everything `stormd` runs — the hypervisor driver, the layer store, the
 * instances service, the mutual-TLS API (listening), the heartbeat and certificate renewal — and
 * one `close()` that stops them in reverse. Refuses with STORMD_ERR_NOT_JOINED when the data
 * folder holds no join.
 *
 * @example
 * const stormd = await startStormd(config, { say: (l) => process.stdout.write(`stormd: ${l}\n`) });
 * stormd.url; // 'https://127.0.0.1:9443'
 * await stormd.close();
 */
import { chmod } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { resolve } from 'node:path';
import type { Writable } from 'node:stream';
import type { FastifyInstance } from 'fastify';
import { parseHostPort } from '../../common/config.js';
import { loggerOptions } from '../../common/log-format.js';
import type { HeartbeatRequest } from '../protocol.js';
import { buildStormdApp } from './api/app.js';
import type { StormdConfig } from './config.js';
import { CRL_PATH, CrlKeeper } from './heartbeat/crl-keeper.js';
import { Heartbeat, HEARTBEAT_PATH } from './heartbeat/heartbeat.js';
import { collectHostInfo } from './host/host-info.js';
import { resolveHypervisorUri } from './hypervisor/detect.js';
import { createDriver } from './hypervisor/registry.js';
import { loadHostIdentity } from './identity/host-identity.js';
import { CertificateRenewal, RENEW_PATH } from './identity/renewal.js';
import { InstancesService } from './instances/instances-service.js';
import { ManagerClient } from './net/manager-client.js';
import { LayerStore } from './store/layer-store.js';
import { StormdTls } from './tls/stormd-tls.js';

export interface StartOptions {
  /** Human lines (start, listening, stop); main.ts prefixes them with `stormd: `. */
  readonly say?: (line: string) => void;
  /** Where the log goes (default stdout), in the config's log format. */
  readonly logStream?: Writable;
  /** Heartbeat interval before the manager's first answer sets it. */
  readonly heartbeatIntervalMs?: number;
}

export interface StormdHandle {
  readonly url: string;
  readonly app: FastifyInstance;
  readonly tls: StormdTls;
  readonly heartbeat: Heartbeat;
  readonly store: LayerStore;
  readonly instances: InstancesService;
  close(): Promise<void>;
}

const MAX_CRL_BYTES = 4 * 1024 * 1024;

export async function startStormd(config: StormdConfig, opts: StartOptions = {}): Promise<StormdHandle> {
  const say = opts.say ?? (() => undefined);
  const dataDir = resolve(config.data);
  const listen = parseHostPort(config.listen, 'listen');
  const uri = await resolveHypervisorUri(config.hypervisor);
  const driver = createDriver(uri);
  await driver.connect();
  const undo: (() => Promise<unknown>)[] = [() => driver.close()];
  try {
    const node = await driver.info();
    say(`host ${node.hostname}: ${node.cpus} cpus, ${node.memoryMiB} MiB, hypervisor ${node.uri} (domain type ${node.domainType}), data ${dataDir}`);
    const identity = await loadHostIdentity(dataDir);
    const { record } = identity;
    // libvirt's qemu user must traverse into the layer store and instance folders.
    await chmod(dataDir, 0o755);

    const store = new LayerStore(dataDir);
    await store.init();
    const instances = new InstancesService({ dataDir, driver, store });
    await instances.init();
    store.setUseCheck((path) => instances.usesFile(path));

    const manager = new ManagerClient({ managerUrl: record.managerUrl, caPem: identity.caPem, certPem: identity.certPem, keyPem: identity.keyPem });
    const tls = new StormdTls({ ...identity, managerName: record.managerName });
    const hostInfo = () => collectHostInfo({ driver, store, instances, host: { hostId: record.hostId, name: record.name } });
    const app = await buildStormdApp({
      hostInfo,
      store,
      instances,
      layerSource: { check: (url) => void manager.resolve(url), fetch: (url, size) => manager.getStream(url, size) },
      tls,
      log: loggerOptions({ format: config.logFormat, level: config.logLevel, out: opts.logStream ?? process.stdout }),
    });
    undo.unshift(() => app.close());
    await app.listen({ host: listen.host, port: listen.port });
    const address = app.server.address() as AddressInfo;
    const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
    const url = `https://${host}:${address.port}`;

    const crl = new CrlKeeper({
      dataDir,
      caPem: identity.caPem,
      crlPem: identity.crlPem,
      fetchCrl: () => manager.getText(CRL_PATH, MAX_CRL_BYTES),
      onReload: (pem) => tls.reloadCrl(pem),
    });
    const heartbeat = new Heartbeat({
      send: (req) => manager.postJson(HEARTBEAT_PATH, req),
      collect: async (): Promise<HeartbeatRequest> => ({ info: await hostInfo(), instances: await instances.list() }),
      crl,
      log: app.log,
      ...(opts.heartbeatIntervalMs ? { defaultIntervalMs: opts.heartbeatIntervalMs } : {}),
    });
    heartbeat.start();
    undo.unshift(() => heartbeat.stop());
    const renewal = new CertificateRenewal({
      dataDir,
      caPem: identity.caPem,
      certPem: identity.certPem,
      hostName: record.name,
      renewBeforeDays: config.renewBeforeDays,
      send: (req) => manager.postJson(RENEW_PATH, req),
      apply: (pair) => {
        tls.reloadIdentity(pair);
        manager.setIdentity(pair);
      },
      log: app.log,
    });
    renewal.start();
    undo.unshift(() => renewal.stop());
    say(`listening on ${url} for ${record.managerName} (host ${record.name}, id ${record.hostId}, manager ${record.managerUrl})`);
    let closing: Promise<void> | undefined;
    return { url, app, tls, heartbeat, store, instances, close: () => (closing ??= runAll(undo)) };
  } catch (err) {
    await runAll(undo);
    throw err;
  }
}

/** Runs every step even when one fails; the first failure is rethrown at the end. */
async function runAll(steps: readonly (() => Promise<unknown>)[]): Promise<void> {
  let first: unknown;
  for (const step of steps) {
    try {
      await step();
    } catch (err) {
      first ??= err;
    }
  }
  if (first !== undefined) throw first;
}
