/**
 * The launch: resolve and pull the appliance, reserve (name, MAC, host by placement) in one
 * committed row, stage what the host lacks, create the instance layer, define, start, commit.
 * Every step that fails undoes the finished ones (the row goes too); a crash leaves the row in
 * `launching` with its last step, and reconcile finishes or undoes it.
 *
 * @example
 * const view = await launcher.launch({ appliance: 'hello-web', name: 'web1', params: { greeting: 'Hi' } });
 */
import { randomUUID } from 'node:crypto';
import type { DefineDomainRequest } from '../../../stormd/protocol.js';
import { errorMessage, StormError } from '../../../common/errors.js';
import type { Catalog, CatalogEntry } from '../catalog/catalog.js';
import type { Database, Queryable } from '../db/database.js';
import { MgrErr } from '../errors.js';
import type { EventBus } from '../events/bus.js';
import type { HostRegistry } from '../hosts/host-registry.js';
import { place, placementCandidates, type PlacementCandidate } from '../hosts/placement.js';
import { newId } from '../ids.js';
import type { PullService } from '../images/pull-service.js';
import { crashPoint, type LaunchStep, maybeCrash } from './faults.js';
import type { InstanceFile, InstanceStore } from './instance-store.js';
import { randomMac } from './mac.js';
import { resolveParams } from './params.js';
import { ipToInt } from '../network/ipv4.js';
import { nextFreeAddress, type NetworkSettings } from '../network/network-settings.js';
import { guestFiles } from '../guests/guest-files.js';
import type { GuestSpec } from '../guests/guest-spec.js';
import { newGuestToken } from '../guests/guest-token.js';
import type { InstancePrincipalSync } from '../kerberos/principal-sync.js';

export interface LaunchRequest {
  readonly appliance: string;
  readonly version?: string;
  readonly channel?: string;
  readonly name: string;
  readonly params?: Readonly<Record<string, unknown>>;
  /** Host id or name to pin the instance to. */
  readonly host?: string;
}

export interface LauncherOptions {
  readonly db: Database;
  readonly store: InstanceStore;
  readonly catalog: Catalog;
  readonly pulls: PullService;
  readonly hosts: HostRegistry;
  readonly bus: EventBus;
  /** The manager URL hosts fetch layers from (`<publicUrl>/api/v1/images/<sha256>/blob`). */
  readonly publicUrl: () => string;
  /** Host bridge the instances' NICs join; none: no NIC. */
  readonly bridge: string | null;
  /** The appliance network: each instance gets the lowest free address (null: no address). */
  readonly net: NetworkSettings | null;
  readonly domain: string;
  /** The XML-RPC URL written into the instance (`/etc/storm/manager.json`). */
  readonly guestUrl: () => string;
  /** The manager's CA, so a guest with curl can check whom it talks to. */
  readonly caPem: string;
  /** The directory, when LDAP runs: each instance gets a read-only service account, seeded into its layer. */
  readonly directory?: {
    seed(name: string, instanceId: string): Promise<Record<string, { contentBase64: string; mode?: number }>>;
    remove(name: string): Promise<void>;
  };
  /** The Kerberos realm, when the manager runs one: host/<fqdn> and the descriptor's services. */
  readonly principals?: InstancePrincipalSync;
}

export const INSTANCE_NAME = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;

export class Launcher {
  private readonly crashAt = crashPoint();
  /** Launches running in this process; reconcile leaves them alone. */
  private readonly active = new Set<string>();

  constructor(private readonly opts: LauncherOptions) {}

  isActive(id: string): boolean {
    return this.active.has(id);
  }

  async launch(req: LaunchRequest): Promise<string> {
    if (!INSTANCE_NAME.test(req.name)) throw MgrErr.MGR_ERR_VALIDATION(`instance name ${JSON.stringify(req.name)}: lower-case letters, digits and dashes, at most 63`);
    const entry = await this.opts.catalog.resolve(req.appliance, req.version, req.channel);
    const params = resolveParams(entry.descriptor.parameters, req.params ?? {});
    if (await this.opts.store.byName(req.name)) throw MgrErr.MGR_ERR_CONFLICT(`an instance named ${req.name} exists`);
    // A launch no host can take fails now, not after a pull of its layers (placement runs again at reserve).
    await this.placement(req, entry);
    if (!entry.cached) await this.opts.pulls.pull(entry);

    const id = newId('i');
    this.active.add(id);
    try {
      return await this.run(id, req, entry, params);
    } finally {
      this.active.delete(id);
    }
  }

  private async run(id: string, req: LaunchRequest, entry: CatalogEntry, params: Record<string, unknown>): Promise<string> {
    const files = entry.files.map((f): InstanceFile => ({ position: f.position, role: f.role, kind: f.kind, sha256: f.sha256, size: f.size }));
    // The guest's credential: only its hash is stored; the token itself goes into the instance layer.
    const { token, hash } = newGuestToken();
    const hostId = await this.reserve(id, req, entry, params, files, hash);
    const emit = (step: LaunchStep) => {
      this.opts.bus.publish('instance.launch', { id, name: req.name, step });
      maybeCrash(step, this.crashAt);
    };
    emit('reserved');
    const client = await this.opts.hosts.client(hostId);
    let hostHasInstance = false;
    try {
      // Keys before the guest can boot and ask for them (storm.getKeytab); undone with the launch.
      await this.opts.principals?.instanceAdded({ name: req.name, services: entry.descriptor.principals ?? [] });
      await this.stage(hostId, files);
      await this.opts.store.setStep(id, 'staged');
      emit('staged');

      hostHasInstance = true;
      const directoryFiles = (await this.opts.directory?.seed(req.name, id)) ?? {};
      const guest = guestFiles(token, { guestUrl: this.opts.guestUrl(), domain: this.opts.domain, ...(this.opts.net ? { managerAddress: this.opts.net.managerAddress } : {}), caPem: this.opts.caPem });
      await client.createInstanceLayer(id, { name: req.name, files: { ...guest, ...directoryFiles } });
      await this.opts.store.setStep(id, 'layer');
      emit('layer');

      const { mac, uuid, ip } = (await this.opts.store.get(id))!;
      await client.defineDomain(id, this.domainRequest({ id, name: req.name, mac, uuid, ip }, entry, files));
      await this.opts.store.setStep(id, 'defined');
      emit('defined');

      await client.action(id, { action: 'start' });
      emit('started');
      await this.opts.store.setState(id, 'running', { step: null, error: null });
      this.opts.bus.publish('instance.state', { id, name: req.name, state: 'running' });
      return id;
    } catch (err) {
      await this.undo(id, req.name, hostHasInstance, err);
      throw err;
    }
  }

  /** Name, MAC and host in one committed row: what reconcile finds if we die from here on. */
  private async reserve(id: string, req: LaunchRequest, entry: CatalogEntry, params: Record<string, unknown>, files: readonly InstanceFile[], tokenSha: string): Promise<string> {
    for (let attempt = 0; ; attempt++) {
      try {
        const spec: GuestSpec = { config: entry.descriptor.config, records: entry.descriptor.records, ...(entry.descriptor.principals?.length ? { principals: entry.descriptor.principals } : {}) };
        return await this.opts.db.transaction(async (tx) => {
          // In the transaction: every launch reserved before this one counts (no two fill the same room).
          const chosen = await this.placement(req, entry, tx);
          let ip: string | null = null;
          if (this.opts.net) {
            const taken = new Set((await tx.all<{ ip: string }>('SELECT ip FROM instances WHERE ip IS NOT NULL')).map((r) => ipToInt(r.ip)));
            // Addresses a dynamic lease holds are not free either.
            for (const l of await tx.all<{ ip: string }>('SELECT ip FROM dhcp_leases')) taken.add(ipToInt(l.ip));
            ip = nextFreeAddress(this.opts.net, taken) ?? null;
            if (!ip) throw MgrErr.MGR_ERR_NO_CAPACITY(`no free address left in ${this.opts.net.cidrText}`);
          }
          await this.opts.store.insert(
            tx,
            { id, name: req.name, uuid: randomUUID(), channel_id: entry.channelId, appliance: entry.name, version: entry.version, host_id: chosen.id, mac: randomMac(), ip, memory_mib: entry.memoryMiB, vcpus: entry.vcpus, params: JSON.stringify(params), token_hash: tokenSha, guest_spec: JSON.stringify(spec) },
            files,
          );
          return chosen.id;
        });
      } catch (err) {
        const msg = errorMessage(err);
        if (/instances\.name/.test(msg)) throw MgrErr.MGR_ERR_CONFLICT(`an instance named ${req.name} exists`);
        // A MAC collision (1 in 16 million per pair) just draws again.
        if (!/instances\.mac/.test(msg) || attempt > 5) throw err;
      }
    }
  }

  /** The host placement picks for the launch now (degraded hosts never; see placement.ts). */
  private async placement(req: LaunchRequest, entry: CatalogEntry, q?: Queryable): Promise<PlacementCandidate> {
    const [hosts, load] = [await this.opts.hosts.store.list(q), await this.opts.store.hostLoad(q)];
    return place({ memoryMiB: entry.memoryMiB, ...(req.host ? { pin: req.host } : {}) }, placementCandidates(hosts, load));
  }

  /** Stages every file the host does not hold yet, each at most once per host. */
  async stage(hostId: string, files: readonly InstanceFile[]): Promise<void> {
    const held = await this.opts.hosts.store.layers(hostId);
    const client = await this.opts.hosts.client(hostId);
    for (const f of new Map(files.map((x) => [x.sha256, x])).values()) {
      if (held.has(f.sha256)) continue;
      const r = await client.stageLayer(f.sha256, { url: `${this.opts.publicUrl()}/api/v1/images/${f.sha256}/blob`, size: f.size });
      await this.opts.hosts.store.addLayer(hostId, r.sha256);
    }
  }

  domainRequest(
    inst: { id: string; name: string; mac: string; uuid: string; ip: string | null },
    entry: { name: string; version: string; memoryMiB: number; vcpus: number },
    files: readonly InstanceFile[],
    frozen: readonly string[] = [],
  ): DefineDomainRequest {
    const { id, name } = inst;
    const kernel = files.find((f) => f.role === 'kernel');
    const initrd = files.find((f) => f.role === 'initrd');
    if (!kernel || !initrd) throw MgrErr.MGR_ERR_VALIDATION(`${entry.name} ${entry.version} has no boot kernel and initrd`);
    return {
      // The instance's own UUID: a redefinition must match the domain libvirt already knows.
      uuid: inst.uuid,
      memoryMiB: entry.memoryMiB,
      vcpus: entry.vcpus,
      boot: { kernel: kernel.sha256, initrd: initrd.sha256 },
      layers: files.filter((f) => f.role === 'layer').map((f) => f.sha256),
      nics: this.opts.bridge ? [{ mac: inst.mac, bridge: this.opts.bridge, ...(inst.ip ? { ip: inst.ip } : {}) }] : [],
      metadata: { instance: id, name, appliance: entry.name, version: entry.version },
      ...(frozen.length ? { frozen } : {}),
    };
  }

  /** Undoes a failed launch: the host's instance (domain, layer) and then the row. */
  private async undo(id: string, name: string, onHost: boolean, cause: unknown): Promise<void> {
    const reason = cause instanceof StormError ? `${cause.code}: ${cause.message}` : errorMessage(cause);
    const row = await this.opts.store.get(id);
    if (onHost && row?.host_id) {
      try {
        await (await this.opts.hosts.client(row.host_id)).removeInstance(id);
      } catch (err) {
        // The host could not clean up: keep the row (failed) so reconcile retries, never an orphan.
        await this.opts.store.setState(id, 'failed', { error: `launch failed (${reason}); cleanup on the host failed: ${errorMessage(err)}` });
        this.opts.bus.publish('instance.state', { id, name, state: 'failed', error: reason });
        return;
      }
    }
    await this.opts.directory?.remove(name).catch(() => undefined);
    await this.opts.principals?.instanceRemoved(name);
    await this.opts.store.remove(id);
    this.opts.bus.publish('instance.launch-failed', { id, name, error: reason });
  }
}
