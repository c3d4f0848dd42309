/**
 * The host registry: enrolment (a single-use token spent in the same transaction that records the
 * host), heartbeats (capacity, layers held, instance states, the host's own checks: a failing one
 * makes it degraded), health (missed heartbeats make a host unreachable, never deleted),
 * certificate renewal, revocation, and a mutual-TLS client per host.
 *
 * @example
 * const join = await hosts.join({ token, csr, name: 'host-1', url: 'https://host-1:9443' });
 * hosts.startMonitor();
 * const client = await hosts.client(hostId);
 */
import { urlHost } from '../../../common/url-host.js';
import type {
  HeartbeatRequest,
  HeartbeatResponse,
  InstanceStatus,
  JoinRequest,
  JoinResponse,
  RenewRequest,
  RenewResponse,
} from '../../../stormd/protocol.js';
import type { HostView } from '../../protocol/index.js';
import type { Database } from '../db/database.js';
import { MgrErr } from '../errors.js';
import type { EventBus } from '../events/bus.js';
import { newId } from '../ids.js';
import type { TrustService } from '../trust/trust-service.js';
import { HostClient } from './host-client.js';
import { degradedReason, parseHealth, viewStatus } from './host-health.js';
import { type HostRow, HostStore } from './host-store.js';

export interface HostRegistryOptions {
  readonly db: Database;
  readonly trust: TrustService;
  readonly bus: EventBus;
  /** What hosts are told to use between heartbeats. */
  readonly heartbeatIntervalMs: number;
  /** Heartbeats a host may miss before it is unreachable. */
  readonly missedHeartbeats: number;
  /** Told about each heartbeat's instance states (the instance service syncs from them). */
  /** `receivedAt`: when the heartbeat arrived (ms), so that an action answered since wins over it. */
  readonly onInstances?: (hostId: string, instances: readonly InstanceStatus[], receivedAt: number) => Promise<void>;
  /** Told when hosts go silent (their instances become unknown). */
  readonly onUnreachable?: (hostIds: readonly string[]) => Promise<void>;
  /** Told when a host answers but cannot say what its instances do (its libvirt is down): they become unknown. */
  readonly onStatesUnknown?: (hostIds: readonly string[]) => Promise<void>;
  /**
   * Told, instead of `onInstances`, when a host declared dead heartbeats again: its domains are stale
   * (never synced, never brought back); the host-death service removes them.
   */
  readonly onDeadHostHeard?: (hostId: string, instances: readonly InstanceStatus[]) => void;
}

/** The API shape of a host. */
export function hostView(r: HostRow): HostView {
  return {
    id: r.id,
    name: r.name,
    url: r.url,
    status: viewStatus(r),
    lastHeartbeat: r.last_heartbeat,
    lastError: r.last_error ?? (r.status === 'ready' ? r.degraded : null),
    cpus: r.cpus,
    memoryMiB: r.memory_mib,
    freeMemoryMiB: r.free_memory_mib,
    allocatedMemoryMiB: r.allocated_memory_mib,
    hypervisor: { uri: r.hypervisor_uri, domainType: r.domain_type },
    migration: r.migration_uri ? { uri: r.migration_uri, memoryUri: r.migration_memory_uri, disksUri: r.migration_disks_uri } : null,
    certificate: { serial: r.cert_serial, notAfter: r.cert_not_after, renewalPending: r.next_cert_serial !== null },
    health: parseHealth(r.health),
    drained: r.drained_at !== null,
    drainedAt: r.drained_at,
    deadAt: r.dead_at,
    fence: fenceOf(r),
    createdAt: r.created_at,
  };
}

/** The host's fence command as stored (JSON argv and a timeout), or null. */
export function fenceOf(r: Pick<HostRow, 'fence_argv' | 'fence_timeout_s'>): { argv: string[]; timeoutSeconds: number } | null {
  if (!r.fence_argv) return null;
  return { argv: JSON.parse(r.fence_argv) as string[], timeoutSeconds: r.fence_timeout_s ?? 30 };
}

const HOST_NAME = /^[A-Za-z0-9]([A-Za-z0-9.-]{0,251}[A-Za-z0-9])?$/;

export class HostRegistry {
  readonly store: HostStore;
  private readonly clients = new Map<string, HostClient>();
  private monitor: NodeJS.Timeout | undefined;

  constructor(private readonly opts: HostRegistryOptions) {
    this.store = new HostStore(opts.db);
    // A new CRL changes the TLS options of every client we hold.
    opts.trust.onCrlChange(() => this.clients.clear());
  }

  async join(req: JoinRequest): Promise<JoinResponse> {
    if (!HOST_NAME.test(req.name)) throw MgrErr.MGR_ERR_VALIDATION(`host name ${JSON.stringify(req.name)}`);
    let url: URL;
    try {
      url = new URL(req.url);
    } catch {
      throw MgrErr.MGR_ERR_VALIDATION(`host url ${JSON.stringify(req.url)}`);
    }
    if (url.protocol !== 'https:' || url.pathname !== '/' || url.search || url.username)
      throw MgrErr.MGR_ERR_VALIDATION(`host url must be https://HOST:PORT, got ${req.url}`);
    const id = newId('host');
    const dialled = urlHost(url);
    const { trust } = this.opts;
    // A host named or reached like the manager would get a certificate with the manager's names.
    const local = trust.tokens.isLocal(req.token);
    for (const [what, value] of [
      ['name', req.name],
      ['address', dialled],
    ] as const) {
      const clash = trust.reserved.clash(value, { local });
      if (clash)
        throw MgrErr.MGR_ERR_FORBIDDEN(
          `host ${what} ${JSON.stringify(value)} is one the manager uses (${clash}); enrol the host under its own name and address`,
        );
    }
    const cert = await this.opts.db.transaction(async (tx) => {
      await trust.tokens.spend(tx, req.token, trust.fingerprint, id);
      const taken = await tx.get<{ id: string }>("SELECT id FROM hosts WHERE name = ? AND status != 'revoked'", [req.name]);
      if (taken) throw MgrErr.MGR_ERR_CONFLICT(`a host named ${req.name} is enrolled (${taken.id}); remove it first`);
      const issued = trust.issueHostCertificate(req.csr, req.name, [dialled]);
      await this.store.insert(tx, { id, name: req.name, url: url.origin, cert: issued });
      return issued;
    });
    this.opts.bus.publish('host.joined', { id, name: req.name, url: url.origin });
    return {
      hostId: id,
      certificate: cert.certPem,
      caCertificate: trust.caPem,
      crl: trust.crlPem,
      managerName: trust.managerName,
      managerCertificate: trust.identity.client.certPem,
    };
  }

  /** A heartbeat from the host whose client certificate has `serial` (already verified by TLS). */
  async heartbeat(serial: string, req: HeartbeatRequest): Promise<HeartbeatResponse> {
    const receivedAt = Date.now();
    const host = await this.store.bySerial(serial);
    if (!host || host.status === 'revoked') throw MgrErr.MGR_ERR_FORBIDDEN('not an enrolled host');
    await this.store.recordHeartbeat(host.id, req);
    const reason = degradedReason(req.health);
    const status = reason ? 'degraded' : 'ready';
    if (host.dead_at) {
      // A dead host that returns: its domains are stale, never the instances' (they may run elsewhere now).
      if (host.status !== 'ready') this.opts.bus.publish('host.returned', { id: host.id, name: host.name, deadAt: host.dead_at });
      if (req.instances) this.opts.onDeadHostHeard?.(host.id, req.instances);
    } else {
      if (viewStatus(host) !== status || (reason && reason !== host.degraded))
        this.opts.bus.publish('host.state', { id: host.id, name: host.name, status, ...(reason ? { reason } : {}) });
      await this.reportInstances(host.id, req.instances, receivedAt);
    }
    const { crlNumber, crlPem } = this.opts.trust;
    // The CRL itself goes to a host whose own is older (or that did not say): no separate fetch.
    const stale = req.crlNumber === undefined || req.crlNumber < crlNumber;
    return { intervalMs: this.opts.heartbeatIntervalMs, crlNumber, ...(stale ? { crl: crlPem } : {}) };
  }

  private async reportInstances(hostId: string, instances: readonly InstanceStatus[] | null, receivedAt: number): Promise<void> {
    if (instances) await this.opts.onInstances?.(hostId, instances, receivedAt);
    else await this.opts.onStatesUnknown?.([hostId]);
  }

  /**
   * The enrolled, non-revoked host presenting the certificate with `serial`, or undefined. The first
   * use of a renewed certificate makes it current and revokes the one it replaces.
   */
  async authenticate(serial: string): Promise<HostRow | undefined> {
    const host = await this.store.bySerial(serial);
    if (!host || host.status === 'revoked' || (await this.opts.trust.revocations.isRevoked(serial))) return undefined;
    if (host.next_cert_serial !== serial) return host;
    const replaced = await this.store.promoteNextCertificate(host.id, serial);
    if (replaced) {
      await this.opts.trust.revoke(replaced, `host ${host.name}: replaced by a renewed certificate`);
      this.opts.bus.publish('host.certificate', { id: host.id, name: host.name, serial, notAfter: host.next_cert_not_after });
    }
    return this.store.get(host.id);
  }

  /**
   * A certificate for the host's new key, with the names of its first one. It stays "next" until the
   * host presents it; a later renewal before that replaces (and revokes) it, since the host never took it.
   */
  async renew(host: HostRow, req: RenewRequest): Promise<RenewResponse> {
    const issued = this.opts.trust.issueHostCertificate(req.csr, host.name, [urlHost(host.url)]);
    const abandoned = await this.store.setNextCertificate(host.id, issued);
    if (abandoned) await this.opts.trust.revoke(abandoned, `host ${host.name}: a later renewal replaced it before use`);
    this.opts.bus.publish('host.renewal', { id: host.id, name: host.name, serial: issued.serial, notAfter: issued.notAfter.toISOString() });
    return { certificate: issued.certPem };
  }

  async list(): Promise<HostView[]> {
    return (await this.store.list()).map(hostView);
  }

  async get(idOrName: string): Promise<HostRow> {
    const host = (await this.store.get(idOrName)) ?? (await this.store.byName(idOrName));
    if (!host) throw MgrErr.MGR_ERR_NOT_FOUND(`host ${idOrName}`);
    return host;
  }

  /** The mutual-TLS client of a host (its URL's host name must be in its certificate). */
  async client(hostId: string): Promise<HostClient> {
    let c = this.clients.get(hostId);
    if (!c) {
      const host = await this.get(hostId);
      if (host.status === 'revoked') throw MgrErr.MGR_ERR_CONFLICT(`host ${host.name} is revoked`);
      c = new HostClient(host.url, this.opts.trust.dialOptions(urlHost(host.url)), host.name);
      this.clients.set(hostId, c);
    }
    return c;
  }

  /** Revokes the host's certificate (the CRL goes to every host) and keeps its record as revoked. */
  async revoke(idOrName: string): Promise<HostRow> {
    const host = await this.get(idOrName);
    if (host.status === 'revoked') return host;
    if (host.next_cert_serial) await this.opts.trust.revocations.revoke(host.next_cert_serial, new Date(), `host ${host.name} removed`);
    await this.opts.trust.revoke(host.cert_serial, `host ${host.name} removed`);
    await this.store.setStatus(host.id, 'revoked', 'removed by the administrator');
    this.clients.delete(host.id);
    this.opts.bus.publish('host.state', { id: host.id, name: host.name, status: 'revoked' });
    return this.get(host.id);
  }

  /** Checks for silent hosts every heartbeat interval. */
  startMonitor(): void {
    if (this.monitor) return;
    this.monitor = setInterval(() => void this.checkHealth().catch(() => undefined), this.opts.heartbeatIntervalMs);
    this.monitor.unref();
  }

  stopMonitor(): void {
    if (this.monitor) clearInterval(this.monitor);
    this.monitor = undefined;
  }

  async checkHealth(now = new Date()): Promise<string[]> {
    const silentFor = this.opts.heartbeatIntervalMs * this.opts.missedHeartbeats;
    const ids = await this.store.markSilent(new Date(now.getTime() - silentFor), `no heartbeat for ${Math.round(silentFor / 1000)} s`);
    for (const id of ids) this.opts.bus.publish('host.state', { id, status: 'unreachable' });
    // A dead host's instances were settled by its declaration (lost): silence says nothing new of them.
    const dead = new Set((await this.store.list()).filter((h) => h.dead_at).map((h) => h.id));
    const alive = ids.filter((id) => !dead.has(id));
    if (alive.length) await this.opts.onUnreachable?.(alive);
    return ids;
  }
}
