/**
 * The manager's services, wired once from the config: database, trust, event bus, channels,
 * catalog and layer cache, hosts, instances and reconcile. `buildApp` puts HTTP in front of them;
 * `main.ts` starts their background work.
 *
 * @example
 * const ctx = await createContext(config, { localHypervisor: 'test:///default' });
 * await ctx.reconciler.run();
 * await ctx.close();
 */
import { mkdir } from 'node:fs/promises';
import { hostname } from 'node:os';
import { isIP } from 'node:net';
import { join, resolve } from 'node:path';
import { parseHostPort } from '../../common/config.js';
import { errorMessage } from '../../common/errors.js';
import { urlHost } from '../../common/url-host.js';
import { ApiTokens, ensureAdminToken } from './auth/api-tokens.js';
import { Catalog } from './catalog/catalog.js';
import { ChannelService } from './channels/channel-service.js';
import { ChannelStore } from './channels/channel-store.js';
import type { ManagerConfig } from './config.js';
import { Database } from './db/database.js';
import { migrate } from './db/migrations.js';
import { EventBus } from './events/bus.js';
import { HostRegistry } from './hosts/host-registry.js';
import { LayerCache } from './images/layer-cache.js';
import { PullService } from './images/pull-service.js';
import { InstanceService } from './instances/instance-service.js';
import { InstanceStore } from './instances/instance-store.js';
import { Launcher } from './instances/launcher.js';
import { launchPlans } from './instances/launch-parts.js';
import { ImageInstanceStore } from './cloud-images/image-instance-store.js';
import { imageParts } from './cloud-images/image-parts.js';
import { imageSteps } from './cloud-images/image-steps.js';
import { ImageImport } from './cloud-images/image-import.js';
import { ImageStore } from './images/image-store.js';
import { leasedAddresses } from './protocols/dhcp/sqlite-lease-store.js';
import { Comebacks } from './instances/comeback.js';
import { Reconciler } from './instances/reconcile.js';
import { DomainRequests } from './instances/domain-request.js';
import { hostSteps } from './instances/host-steps.js';
import { instanceSteps } from './instances/instance-steps.js';
import { Staging } from './instances/staging.js';
import { MoveService } from './instances/move-service.js';
import { liveMoveSteps } from './instances/live-move-steps.js';
import { ReplicaSchedule } from './instances/replication-schedule.js';
import { Replication } from './instances/replication-service.js';
import { replicationSteps } from './instances/replication-steps.js';
import { ReplicaStore } from './instances/replication-store.js';
import { moveSteps } from './instances/move-steps.js';
import { Placement } from './hosts/placement.js';
import { Evacuation } from './hosts/evacuation.js';
import { HostFencing } from './hosts/host-fencing.js';
import { AddressBook } from './network/address-book.js';
import { forwardSteps } from './network/forward-steps.js';
import { Journal } from './operations/journal.js';
import { VolumeService } from './volumes/volume-service.js';
import { VolumeStore } from './volumes/volume-store.js';
import { volumeSteps } from './volumes/volume-steps.js';
import { principalSteps } from './kerberos/principal-steps.js';
import { accountSteps } from './directory/account-steps.js';
import { restackSteps } from './lifecycle/restack-steps.js';
import { AddressPolicy } from './outbound/address-policy.js';
import { TrustService } from './trust/trust-service.js';
import { NetworkServices } from './protocols/network-services.js';
import { networkSettings, type NetworkSettings } from './network/network-settings.js';
import { RecordStore } from './network/record-store.js';
import { ForwardStore } from './network/forward-store.js';
import { HostFirewall } from './network/host-firewall.js';
import { Uplink } from './network/uplink.js';
import { GuestApi } from './guests/guest-api.js';
import { CheckpointStore } from './lifecycle/checkpoint-store.js';
import { LifecycleService } from './lifecycle/lifecycle-service.js';
import { LocalChannel } from './lifecycle/local-channel.js';
import { Packager } from './lifecycle/packager.js';
import { DirectoryStore } from './directory/store.js';
import { guestDirectoryInfo } from './directory/seed.js';
import { directoryBaseDn as directoryBaseDn_ } from './protocols/ldap/config.js';
import { KerberosService } from './kerberos/kerberos-service.js';

export interface ContextOptions {
  /** The libvirt URI of the local host's hypervisor, once resolved (health reports it). */
  readonly localHypervisor?: string | null;
}

export interface ManagerContext {
  readonly config: ManagerConfig;
  readonly dataDir: string;
  readonly db: Database;
  readonly bus: EventBus;
  readonly tokens: ApiTokens;
  readonly adminTokenPath: string;
  /** True when this start created the admin token. */
  readonly adminTokenCreated: boolean;
  readonly trust: TrustService;
  readonly cache: LayerCache;
  readonly channels: ChannelService;
  readonly catalog: Catalog;
  readonly pulls: PullService;
  readonly hosts: HostRegistry;
  /** Drain, undrain, the fence command, declare-dead, and a dead host's stale domains. */
  readonly hostFencing: HostFencing;
  /** `storm host evacuate`: drain, then every instance moved off through the move service. */
  readonly evacuation: Evacuation;
  readonly instances: InstanceService;
  readonly launcher: Launcher;
  /** Cold moves between hosts (`move(name, to, { allowRestart })`), journaled; what evacuation calls. */
  readonly moves: MoveService;
  /** Per-instance replicas on a second host, and restarts from them when a host is declared dead. */
  readonly replication: Replication;
  /** Traditional instances' firmware, disk and SSH keys; administrators' own SSH keys. */
  readonly imageInstances: ImageInstanceStore;
  /** `storm image import`: disk images into the local channel. */
  readonly imageImports: ImageImport;
  /** The operation journal: every launch, lifecycle operation and destroy, step by step. */
  readonly journal: Journal;
  readonly reconciler: Reconciler;
  readonly net: NetworkSettings | null;
  readonly records: RecordStore;
  readonly network: NetworkServices;
  /** The appliance network's way out (`--uplink`) and the administrator's forwards. */
  readonly uplink: Uplink;
  readonly guests: GuestApi;
  readonly directory: DirectoryStore;
  readonly directoryBaseDn: string;
  /** The Kerberos realm and its KDC (`--kdc-listen`); null without one. */
  readonly kerberos: KerberosService | null;
  readonly checkpoints: CheckpointStore;
  readonly lifecycle: LifecycleService;
  /** Data volumes: disks apart from the layer stack that outlive their instances. */
  readonly volumes: VolumeService;
  readonly local: LocalChannel;
  readonly localHypervisor: string | null;
  /** The URL hosts and appliances reach the manager at; set from the listener when not configured. */
  publicUrl(): string;
  setListenAddress(host: string, port: number): void;
  /** Binds the network services the config asks for (LDAP, DNS, DHCP, the guests' listener, the KDC) and loads the uplink's rules. */
  startServices(): Promise<void>;
  /** Channel polling, host health, an immediate and then periodic reconcile. */
  startBackground(): void;
  close(): Promise<void>;
}

/** Names the manager's HTTPS certificate carries: the configured ones, the listener's, this machine's. */
export function serverNames(config: ManagerConfig): string[] {
  const { host } = parseHostPort(config.listen, 'listen');
  const names = new Set<string>(['localhost', '127.0.0.1', ...config.tlsNames]);
  if (host && host !== '0.0.0.0' && host !== '::') names.add(host);
  if (/^[A-Za-z0-9.-]+$/.test(hostname())) names.add(hostname());
  if (config.publicUrl) names.add(urlHost(config.publicUrl));
  // Guests reach the manager as storm.local (always in the certificate) at its appliance-network address.
  const net = networkSettings(config);
  if (net) names.add(net.managerAddress);
  return [...names];
}

/** The specific addresses the manager's other listeners bind (not wildcards): no host may claim them. */
export function listenerHosts(config: ManagerConfig): string[] {
  const listens = [config.dnsListen, config.ldapListen, config.kdcListen, config.guestListen].filter(Boolean);
  return listens.map((l) => parseHostPort(l, 'listen').host).filter((h) => h && h !== '0.0.0.0' && h !== '::');
}

export async function createContext(config: ManagerConfig, options: ContextOptions = {}): Promise<ManagerContext> {
  const dataDir = resolve(config.data);
  await mkdir(dataDir, { recursive: true, mode: 0o700 });
  const db = await Database.open(join(dataDir, 'storm.db'));
  try {
    await migrate(db);
    const tokens = new ApiTokens(db);
    const admin = await ensureAdminToken(tokens, dataDir);
    const trust = await TrustService.open({
      dir: join(dataDir, 'pki'),
      db,
      serverNames: serverNames(config),
      reservedNames: listenerHosts(config),
      machineNames: [hostname()],
    });
    const bus = new EventBus();
    const policy = new AddressPolicy({ allow: config.channelAllow, deny: config.channelDeny });
    const timeoutMs = config.fetchTimeoutSeconds * 1000;
    const cache = new LayerCache(join(dataDir, 'images'), { policy, timeoutMs });
    await cache.init();
    let listenUrl = config.publicUrl.replace(/\/$/, '');
    const publicUrl = () => listenUrl || `https://${config.listen}`;
    const local = new LocalChannel({ dir: join(dataDir, 'local-channel'), publicUrl, cache, db });
    await local.init();
    const channels = new ChannelService({
      store: new ChannelStore(db),
      bus,
      fetch: { policy, timeoutMs },
      allowUnsigned: config.allowUnsignedChannels,
      pollIntervalMs: config.channelPollSeconds * 1000,
      local: {
        get feedUrl() {
          return local.feedUrl;
        },
        fetcher: local.fetcher,
        publicKey: () => local.publicKey(),
      },
    });
    const catalog = new Catalog(db, cache);
    const pulls = new PullService(db, cache, bus);
    const store = new InstanceStore(db);
    const imageInstances = new ImageInstanceStore(db);
    // Guests use their own listener when there is one, else the main one; always by the name storm.local.
    const guestPort = () =>
      config.guestListen ? String(parseHostPort(config.guestListen, 'guest-listen').port) : new URL(publicUrl()).port || '443';
    const guestUrl = () => config.guestUrl || `https://storm.local${guestPort() === '443' ? '' : `:${guestPort()}`}/RPC2`;
    const net = networkSettings(config);
    const records = new RecordStore(db);
    const kerberos = config.kdcListen
      ? new KerberosService({
          dataDir,
          domain: config.domain,
          listen: config.kdcListen,
          // The KDC's per-request lines only when the manager logs at debug: they would crowd the bus's ring.
          log: (level, msg) =>
            (level !== 'debug' || config.logLevel === 'debug' || config.logLevel === 'trace') &&
            bus.publish('kerberos.log', { level, msg }),
          onState: (status) => bus.publish('kerberos.kdc', { ...status }),
        })
      : null;
    // The database exists before anyone sets a password; the KDC itself starts with the other services.
    await kerberos?.prepare();
    const directory = new DirectoryStore(db, kerberos ? { principals: kerberos } : {});
    const directoryBaseDn = directoryBaseDn_(config.ldapBaseDn || undefined, config.domain);
    // Guests reach the directory by the manager's name, like everything else it serves them.
    const ldapUri = config.ldapListen ? `ldap://storm.local:${parseHostPort(config.ldapListen, 'ldap-listen').port}` : null;
    // What every guest is told besides its token, and the network a traditional instance's seed configures.
    const guestInput = () => ({
      guestUrl: guestUrl(),
      domain: config.domain,
      ...(net ? { managerAddress: net.managerAddress } : {}),
      caPem: trust.caPem,
    });
    const seedNetwork = () => (net ? { prefix: net.cidr.prefix, gateway: net.router, dns: net.managerAddress } : undefined);
    const guests = new GuestApi({
      store,
      records,
      bus,
      net,
      domain: config.domain,
      guestUrl,
      ...(ldapUri
        ? { directory: async (inst: { name: string }) => guestDirectoryInfo(inst.name, { uri: ldapUri, baseDn: directoryBaseDn }) }
        : {}),
      ...(kerberos
        ? {
            kerberos: {
              info: () => kerberos.guestInfo(),
              keytab: (name: string, services: readonly string[]) => kerberos.keytabFor(name, services),
            },
          }
        : {}),
    });
    const network = new NetworkServices({
      config,
      db,
      net,
      records,
      directory,
      ldapBaseDn: directoryBaseDn,
      ldapTls: trust.directoryTlsOptions(),
      guestApp: {
        tls: () => trust.guestTlsOptions(),
        guests,
        logLevel: config.logLevel,
        logFormat: config.logFormat,
        nocloud: { store, images: imageInstances, domain: () => config.domain, guest: guestInput, network: seedNetwork },
      },
      log: (msg) => bus.publish('network.log', { msg }),
      kerberos,
    });
    const uplink = new Uplink({
      mode: config.uplink,
      bridge: config.bridge,
      net,
      store: new ForwardStore(db),
      firewall: new HostFirewall(),
      bus,
      reservedTcpPorts: new Map([[parseHostPort(config.listen, 'listen').port, "the manager's API and console"]]),
    });
    // The registry and the instance service call each other through these late-bound closures.
    let instances: InstanceService | undefined;
    let comebacks: Comebacks | undefined;
    let hostFencing: HostFencing | undefined;
    const hosts = new HostRegistry({
      db,
      trust,
      bus,
      heartbeatIntervalMs: config.heartbeatSeconds * 1000,
      missedHeartbeats: config.missedHeartbeats,
      onInstances: async (hostId, statuses, receivedAt) => {
        // One read of the host's rows serves both: the comebacks decide on the rows the sync left.
        const rows = await instances!.syncFromHost(hostId, statuses, receivedAt);
        comebacks!.heard(hostId, statuses, receivedAt, rows);
      },
      onUnreachable: (ids) => instances!.markUnknown(ids),
      onStatesUnknown: (ids) => instances!.markUnknown(ids),
      onDeadHostHeard: (hostId) => hostFencing!.heard(hostId),
    });
    // The operation journal and the steps each module gives it: every multi-step change goes through it.
    // Its commits skip the fsync (db.relaxed()): what an OS crash could roll back, reconcile repairs from the hosts.
    const journal = new Journal(db.relaxed());
    const requests = new DomainRequests(config.bridge || null);
    const onHost = hostSteps(hosts, requests);
    const placement = new Placement(hosts.store, store);
    const rowSteps = instanceSteps(store, placement);
    const staging = new Staging(hosts, publicUrl);
    const addresses = new AddressBook({ db, net, instances: store, leased: leasedAddresses, forgetLease: (mac) => network.forget(mac) });
    const principals = principalSteps(kerberos ?? undefined);
    const accounts = accountSteps(directory, ldapUri ? { uri: ldapUri, baseDn: directoryBaseDn } : null);
    instances = new InstanceService({
      store,
      hosts,
      bus,
      domain: () => config.domain,
      journal,
      instanceSteps: rowSteps,
      hostSteps: onHost,
      cleanup: [forwardSteps(uplink).removeForwards, addresses.release, accounts.removeAccount, principals.removePrincipals],
    });
    const onImages = imageSteps(hosts, imageInstances);
    const volumeStore = new VolumeStore(db);
    const onVolumes = volumeSteps(volumeStore, hosts);
    const launcher = new Launcher({
      journal,
      store,
      catalog,
      pulls,
      hosts,
      bus,
      placement,
      instanceSteps: rowSteps,
      plans: launchPlans({
        instanceSteps: rowSteps,
        hostSteps: onHost,
        addresses,
        staging,
        principals,
        accounts,
        requests,
        guest: guestInput,
        imageParts: (s) => imageParts(s, { steps: onImages, domain: () => config.domain, network: seedNetwork }),
        volumes: onVolumes,
      }),
    });
    // Instances whose desired state is running and whose domain a restart left off start again (heartbeat-driven).
    comebacks = new Comebacks({
      store,
      hosts,
      journal,
      bus,
      hostSteps: onHost,
      instanceSteps: rowSteps,
      requests,
      quiet: (id, at) => instances!.quiet(id, at),
      retryMs: config.heartbeatSeconds * 1000,
    });
    const checkpoints = new CheckpointStore(db);
    const lifecycle = new LifecycleService({
      journal,
      store,
      instances,
      hosts,
      catalog,
      pulls,
      cache,
      checkpoints,
      bus,
      staging,
      requests,
      hostSteps: onHost,
      restackSteps: restackSteps(db, hosts, store, checkpoints),
      packager: new Packager({ db, hosts, cache, images: new ImageStore(db), local, channels }),
    });
    const volumes = new VolumeService({ store: volumeStore, hosts, instances, journal, steps: onVolumes });
    const moves = new MoveService({
      journal,
      store,
      hosts,
      placement,
      instances,
      volumes: volumeStore,
      staging,
      hostSteps: onHost,
      moveSteps: moveSteps(hosts, store),
      liveSteps: liveMoveSteps(hosts, store),
      requests,
      bus,
    });
    const replicas = new ReplicaStore(db);
    const replication = new Replication({
      store,
      replicas,
      hosts,
      instances,
      checkpoints,
      journal,
      staging,
      hostSteps: onHost,
      steps: replicationSteps(store, replicas),
      requests,
      bus,
    });
    const replicaSchedule = new ReplicaSchedule({ replicas, store, lifecycle });
    hostFencing = new HostFencing({
      hosts,
      bus,
      instances: { byHost: (id) => store.byHost(id), setState: (row, state, extra) => instances!.setState(row, state, extra) },
      held: async () => new Set((await journal.store.listOpen()).flatMap((op) => (op.instanceId ? [op.instanceId] : []))),
      survey: {
        checkpoints: async (id) => (await checkpoints.list(id)).length,
        volumes: async (id) => (await volumeStore.byInstance(id)).map((v) => ({ name: v.name, sizeMiB: v.size_mib })),
        loose: async (hostId) => (await volumeStore.list()).filter((v) => v.hostId === hostId && !v.instanceId).map((v) => v.name),
      },
      // An instance replicated to a live host is restarted there from its last copied checkpoint; the rest are lost.
      copies: replication.copies,
      recover: (host, recoverable) => replication.recover(host, recoverable),
    });
    const evacuation = new Evacuation({
      hosts,
      fencing: hostFencing,
      instances: store,
      busy: (id) => journal.isActive(id),
      mover: { move: async (name, to, opts) => void (await moves.move(name, to, opts)) },
      bus,
    });
    const reconciler = new Reconciler({ store, hosts, instances, journal, bus, removeStale: (id) => hostFencing!.removeStale(id) });
    // Service accounts of instances that no longer exist go after each reconcile pass.
    bus.subscribe((e) => {
      if (e.type !== 'reconcile.done') return;
      void store
        .list()
        .then((rows) => directory.pruneServiceAccounts(rows.map((r) => r.id)))
        .catch(() => undefined);
      // Principals whose user or instance is gone (a removal that failed, a launch undone by reconcile).
      void kerberos
        ?.prune({
          users: async () => (await directory.listUsers()).map((u) => u.uid),
          instances: async () => (await store.list()).map((r) => r.name),
        })
        .then(
          (stale) =>
            stale.length &&
            bus.publish('kerberos.log', { level: 'info', msg: `Kerberos: removed ${stale.join(', ')} (their user or instance is gone)` }),
        )
        .catch((err: unknown) =>
          bus.publish('kerberos.log', { level: 'warn', msg: `Kerberos prune: ${err instanceof Error ? err.message : String(err)}` }),
        );
    });
    return {
      config,
      dataDir,
      db,
      bus,
      tokens,
      adminTokenPath: admin.path,
      adminTokenCreated: admin.created,
      trust,
      cache,
      channels,
      catalog,
      pulls,
      hosts,
      hostFencing,
      evacuation,
      instances,
      launcher,
      moves,
      replication,
      imageInstances,
      imageImports: new ImageImport({ db, cache, images: new ImageStore(db), local, channels }),
      journal,
      reconciler,
      net,
      records,
      network,
      uplink,
      guests,
      directory,
      directoryBaseDn,
      kerberos,
      checkpoints,
      lifecycle,
      volumes,
      local,
      localHypervisor: options.localHypervisor ?? null,
      publicUrl,
      setListenAddress(host, port) {
        if (config.publicUrl) return;
        const shown = !host || host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host;
        listenUrl = `https://${isIP(shown) === 6 ? `[${shown}]` : shown}:${port}`;
      },
      async startServices() {
        await network.start();
        await uplink.start();
      },
      startBackground() {
        channels.startPolling();
        // The local channel's URLs name this listener: republish it when there are packages.
        void db
          .get('SELECT 1 FROM packages LIMIT 1')
          .then(async (any) => {
            if (any) {
              await local.rebuild();
              await channels.refreshLocal();
            }
          })
          .catch(() => undefined);
        hosts.startMonitor();
        trust.startCrlTimer((err) => bus.publish('pki.crl', { error: errorMessage(err) }));
        void reconciler.run().catch(() => undefined);
        reconciler.start(config.reconcileSeconds * 1000);
        replicaSchedule.start();
      },
      async close() {
        channels.stopPolling();
        hosts.stopMonitor();
        trust.stopCrlTimer();
        reconciler.stop();
        replicaSchedule.stop();
        await Promise.all([channels.idle(), reconciler.idle(), comebacks!.idle(), replicaSchedule.idle()]);
        await network.close();
        try {
          await uplink.close();
        } finally {
          await db.close();
        }
      },
    };
  } catch (err) {
    await db.close().catch(() => undefined);
    throw err;
  }
}
