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
import type { AddressInfo } from 'node:net';
import { resolve } from 'node:path';
import type { Writable } from 'node:stream';
import type { FastifyInstance } from 'fastify';
import { parseHostPort } from '../../common/config.js';
import { errorMessage } from '../../common/errors.js';
import { loggerOptions } from '../../common/log-format.js';
import type { HealthCheck, HeartbeatRequest } from '../protocol.js';
import { Activity } from './activity.js';
import { buildStormdApp } from './api/app.js';
import { migrationOf, type StormdConfig } from './config.js';
import { CRL_PATH, CrlKeeper } from './heartbeat/crl-keeper.js';
import { runsSystemQemu } from './health/access-checks.js';
import { DefineWatch, WatchedDriver } from './health/define-watch.js';
import { HostChecks } from './health/host-checks.js';
import { resolveQemuUser } from './health/qemu-user.js';
import { Heartbeat, HEARTBEAT_PATH } from './heartbeat/heartbeat.js';
import { collectHostInfo } from './host/host-info.js';
import { resolveHypervisorUri } from '../../common/hypervisor-uri.js';
import { createDriver } from './hypervisor/registry.js';
import { HOST_FILES, loadHostIdentity } from './identity/host-identity.js';
import { CertificateRenewal, RENEW_PATH } from './identity/renewal.js';
import { InstancesService } from './instances/instances-service.js';
import { ManagerClient } from './net/manager-client.js';
import { LayerStore } from './store/layer-store.js';
import { secureDataFolder } from './store/store-access.js';
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
  readonly checks: HostChecks;
  close(): Promise<void>;
}

const MAX_CRL_BYTES = 4 * 1024 * 1024;

export async function startStormd(config: StormdConfig, opts: StartOptions = {}): Promise<StormdHandle> {
  const say = opts.say ?? (() => undefined);
  const dataDir = resolve(config.data);
  const listen = parseHostPort(config.listen, 'listen');
  const uri = await resolveHypervisorUri(config.hypervisor);
  const watch = new DefineWatch();
  const driver = new WatchedDriver(createDriver(uri), watch);
  // A libvirt that does not answer yet is a degraded host, not a dead daemon: the checks keep trying.
  const down = await driver.connect().then(
    () => undefined,
    (err: unknown) => errorMessage(err),
  );
  const undo: (() => Promise<unknown>)[] = [() => driver.close()];
  try {
    const node = down ? undefined : await driver.info();
    say(
      node
        ? `host ${node.hostname}: ${node.cpus} cpus, ${node.memoryMiB} MiB, hypervisor ${node.uri} (domain type ${node.domainType}), data ${dataDir}`
        : `hypervisor ${uri} does not answer (${down}); serving anyway, as a degraded host, data ${dataDir}`,
    );
    const identity = await loadHostIdentity(dataDir);
    const { record } = identity;
    const qemu = await resolveQemuUser();
    const root = process.getuid?.() === 0;
    if (!root)
      say(
        `stormd runs as uid ${process.getuid?.()}, not root: the store keeps its owner's group, and libvirt's qemu user must reach ${dataDir} some other way`,
      );
    else if (!qemu && runsSystemQemu(uri))
      say(`no libvirt qemu account found (qemu.conf's user, else libvirt-qemu): the store stays root's only`);
    await secureDataFolder(dataDir, { gid: root && qemu ? qemu.gid : null }, Object.values(HOST_FILES));

    const activity = new Activity();
    const store = new LayerStore(dataDir, { activity });
    await store.init();
    const instances = new InstancesService({ dataDir, driver, store, activity });
    await instances.init();
    store.setUseCheck((path) => instances.usesFile(path));
    const checks = new HostChecks({ driver, watch, dataDir, qemu });
    for (const c of (await checks.run()).health.checks)
      if (c.status === 'fail') say(`check ${c.name} failed: ${c.message}${c.fix ? `; fix: ${c.fix}` : ''}`);

    const manager = new ManagerClient({
      managerUrl: record.managerUrl,
      caPem: identity.caPem,
      certPem: identity.certPem,
      keyPem: identity.keyPem,
    });
    const tls = new StormdTls({ ...identity, ...(record.managerKey ? { managerKey: record.managerKey } : {}) });
    if (!record.managerKey)
      say(
        `${dataDir}/host.json pins no manager key (joined before keys were pinned): any certificate with the manager role is accepted; join again with --force to pin it`,
      );
    const hostInfo = () =>
      collectHostInfo({
        driver,
        store,
        instances,
        host: { hostId: record.hostId, name: record.name },
        migration: migrationOf(config),
      });
    const app = await buildStormdApp({
      hostInfo,
      store,
      instances,
      layerSource: { check: (url) => void manager.resolve(url), fetch: (url, size) => manager.getStream(url, size) },
      activity,
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
      collect: () => collectHeartbeat(checks, async () => ({ info: await hostInfo(), instances: await instances.list() }), app.log),
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
    say(
      `listening on ${url} for ${record.managerName}${record.managerKey ? ` (key ${record.managerKey})` : ''} (host ${record.name}, id ${record.hostId}, manager ${record.managerUrl})`,
    );
    let closing: Promise<void> | undefined;
    return { url, app, tls, heartbeat, store, instances, checks, close: () => (closing ??= runAll(undo)) };
  } catch (err) {
    await runAll(undo);
    throw err;
  }
}

/**
 * One heartbeat's body: the checks, then the figures and instance states when libvirt answers
 * (null otherwise: unknown, not zero). A check that starts or stops failing is logged once.
 */
async function collectHeartbeat(
  checks: HostChecks,
  figures: () => Promise<Pick<HeartbeatRequest, 'info' | 'instances'>>,
  log: { warn(obj: object, msg: string): void; info(obj: object, msg: string): void },
): Promise<HeartbeatRequest> {
  const before = new Map((checks.last?.checks ?? []).map((c) => [c.name, c.status]));
  const { health, libvirtUp } = await checks.run();
  for (const c of health.checks) logChange(log, before.get(c.name), c);
  if (!libvirtUp) return { info: null, instances: null, health };
  try {
    return { ...(await figures()), health };
  } catch (err) {
    log.warn({ reason: errorMessage(err) }, 'host figures unavailable for this heartbeat');
    return { info: null, instances: null, health };
  }
}

function logChange(
  log: { warn(obj: object, msg: string): void; info(obj: object, msg: string): void },
  before: HealthCheck['status'] | undefined,
  c: HealthCheck,
): void {
  if (c.status === 'fail' && before !== 'fail') log.warn({ check: c.name, fix: c.fix }, `host check failed: ${c.message}`);
  if (c.status !== 'fail' && before === 'fail') log.info({ check: c.name }, `host check passes again: ${c.message}`);
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
