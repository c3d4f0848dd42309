/**
 * The `HypervisorDriver` over libvirt's node binding. It takes a URI, so `test:///default` and
 * `qemu:///system` run the same code; only the domain type differs (see `accel.ts`).
 *
 * The binding has no reboot: `reboot` is a bounded graceful `stop` (ACPI, forced after the
 * timeout) followed by `start`, which also picks up a redefined configuration.
 *
 * @example
 * const driver = new LibvirtDriver('qemu:///system');
 * await driver.connect();
 * await driver.define(spec);
 * await driver.start(spec.name);
 * await driver.stop(spec.name, 30_000); // 'graceful' | 'forced' | 'already-off'
 */
import { type Domain, DomainGetXMLDescFlags, DomainState as LvState, Hypervisor } from '@unraid/libvirt';
import { type Clock, systemClock, waitFor } from '../clock.js';
import { runTool } from '../exec.js';
import { StormdErr } from '../errors.js';
import { type DomainType, domainTypeFor } from './accel.js';
import { buildDomainXml, volumeDiskXml } from './domain-xml.js';
import type {
  DomainSpec,
  DomainState,
  DomainSummary,
  HypervisorDriver,
  HypervisorInfo,
  LiveMigrationOutcome,
  LiveMigrationTarget,
  StopOutcome,
  VolumeDiskSpec,
} from './driver.js';
import { completedDowntimeMs, migrationXml, virshMigrate, writableDisks } from './live-migration.js';
import { freeVolumeTarget, virshDevice, volumeDisk, withoutVolume, withVolume } from './volume-devices.js';
import { fromLibvirt, isNotRunning } from './libvirt-errors.js';

export interface LibvirtDriverOptions {
  /** Overrides accel detection (`kvm`, `qemu` for TCG, `test`). */
  readonly domainType?: DomainType;
  readonly clock?: Clock;
  /** How often stop polls the domain state. */
  readonly pollMs?: number;
  /** Default bound of a graceful stop before it is forced. */
  readonly stopTimeoutMs?: number;
}

const STATES: Readonly<Record<number, DomainState>> = {
  [LvState.NOSTATE]: 'unknown',
  [LvState.RUNNING]: 'running',
  [LvState.BLOCKED]: 'running', // blocked on I/O is still running
  [LvState.PAUSED]: 'paused',
  [LvState.SHUTDOWN]: 'shutting-down',
  [LvState.SHUTOFF]: 'shutoff',
  [LvState.CRASHED]: 'crashed',
  [LvState.PMSUSPENDED]: 'suspended',
};

/** States in which the domain has a live process (destroy has something to kill). */
const ACTIVE: ReadonlySet<DomainState> = new Set(['running', 'paused', 'shutting-down', 'suspended', 'unknown']);

export class LibvirtDriver implements HypervisorDriver {
  readonly uri: string;
  readonly domainType: DomainType;
  private hv: Hypervisor | undefined;
  private readonly clock: Clock;
  private readonly pollMs: number;
  private readonly stopTimeoutMs: number;

  constructor(uri: string, opts: LibvirtDriverOptions = {}) {
    this.uri = uri;
    this.domainType = opts.domainType ?? domainTypeFor(uri);
    this.clock = opts.clock ?? systemClock;
    this.pollMs = opts.pollMs ?? 250;
    this.stopTimeoutMs = opts.stopTimeoutMs ?? 60_000;
  }

  async connect(): Promise<void> {
    if (this.hv) return;
    const hv = new Hypervisor({ uri: this.uri });
    try {
      await hv.connectOpen();
    } catch (err) {
      throw StormdErr.STORMD_ERR_LIBVIRT(`cannot connect to ${this.uri}: ${err instanceof Error ? err.message : String(err)}`, {
        cause: err,
      });
    }
    this.hv = hv;
  }

  async close(): Promise<void> {
    const hv = this.hv;
    this.hv = undefined;
    if (hv) await hv.connectClose().catch(() => undefined); // closing a dead connection is not worth failing over
  }

  async info(): Promise<HypervisorInfo> {
    const hv = this.conn();
    try {
      const [node, hostname] = await Promise.all([hv.nodeGetInfo(), hv.connectGetHostname()]);
      return { uri: this.uri, domainType: this.domainType, cpus: node.cpus, memoryMiB: Math.floor(node.memory / 1024), hostname };
    } catch (err) {
      throw fromLibvirt(err, this.uri);
    }
  }

  async define(spec: DomainSpec): Promise<void> {
    const xml = buildDomainXml(spec, this.domainType);
    const existing = await this.find(spec.name);
    // libvirt would accept this and change the config under a live guest; we refuse instead.
    if (existing && ACTIVE.has(await this.stateOf(existing, spec.name))) {
      throw StormdErr.STORMD_ERR_DOMAIN_EXISTS(`${spec.name} is running; stop it before redefining`);
    }
    try {
      await this.conn().domainDefineXML(xml);
    } catch (err) {
      throw fromLibvirt(err, spec.name);
    }
  }

  async start(name: string): Promise<void> {
    const dom = await this.lookup(name);
    if (ACTIVE.has(await this.stateOf(dom, name))) {
      throw StormdErr.STORMD_ERR_DOMAIN_STATE(`${name} is already running`);
    }
    await this.call(name, () => dom.create());
  }

  async stop(name: string, timeoutMs = this.stopTimeoutMs): Promise<StopOutcome> {
    const dom = await this.lookup(name);
    if (!ACTIVE.has(await this.stateOf(dom, name))) return 'already-off';
    try {
      await dom.shutdown();
    } catch (err) {
      if (isNotRunning(err)) return 'already-off'; // it went off between the check and the request
      throw fromLibvirt(err, name);
    }
    const off = await waitFor(async () => !ACTIVE.has(await this.stateOf(dom, name)), {
      timeoutMs,
      intervalMs: this.pollMs,
      clock: this.clock,
    });
    if (off) return 'graceful';
    await this.destroy(name);
    return 'forced';
  }

  async destroy(name: string): Promise<void> {
    const dom = await this.lookup(name);
    if (!ACTIVE.has(await this.stateOf(dom, name))) return;
    try {
      await dom.destroy();
    } catch (err) {
      if (!isNotRunning(err)) throw fromLibvirt(err, name);
    }
  }

  async reboot(name: string, timeoutMs = this.stopTimeoutMs): Promise<void> {
    await this.stop(name, timeoutMs);
    await this.start(name);
  }

  async undefine(name: string): Promise<void> {
    const dom = await this.lookup(name);
    // libvirt would leave a running domain behind as a transient one; the seam says "must be off".
    if (ACTIVE.has(await this.stateOf(dom, name))) throw StormdErr.STORMD_ERR_DOMAIN_STATE(`${name} is running; stop it before undefining`);
    // A UEFI domain's variable store is the instance's own file (removed with its folder): libvirt
    // refuses a plain undefine while it exists, and the binding's undefine takes no flags.
    const config = await this.call(name, () => dom.getXMLDesc(DomainGetXMLDescFlags.INACTIVE));
    if (/<nvram[\s>]/.test(config)) await runTool('virsh', ['-q', '-c', this.uri, 'undefine', '--keep-nvram', name], 60_000);
    else await this.call(name, () => dom.undefine());
  }

  async state(name: string): Promise<DomainState> {
    return this.stateOf(await this.lookup(name), name);
  }

  async list(): Promise<DomainSummary[]> {
    const domains = await this.call(this.uri, () => this.conn().connectListAllDomains());
    const out: DomainSummary[] = [];
    for (const dom of domains) {
      try {
        const [name, uuid, info] = await Promise.all([dom.getName(), dom.getUUIDString(), dom.getInfo()]);
        out.push({ name, uuid, state: STATES[info.state] ?? 'unknown', memoryMiB: Math.floor(info.memory / 1024) });
      } catch (err) {
        // A domain undefined while we listed is simply gone; anything else is a real failure.
        if (!StormdErr.STORMD_ERR_DOMAIN_NOT_FOUND.is(fromLibvirt(err, 'list'))) throw fromLibvirt(err, 'list');
      }
    }
    return out.sort((a, b) => a.name.localeCompare(b.name));
  }

  async xml(name: string): Promise<string> {
    const dom = await this.lookup(name);
    return this.call(name, () => dom.getXMLDesc());
  }

  async attachVolume(name: string, volume: VolumeDiskSpec, live: boolean): Promise<void> {
    const dom = await this.lookup(name);
    const config = await this.call(name, () => dom.getXMLDesc(DomainGetXMLDescFlags.INACTIVE));
    const running = live ? await this.call(name, () => dom.getXMLDesc()) : '';
    const inConfig = volumeDisk(config, volume.serial) !== undefined;
    const inGuest = !live || volumeDisk(running, volume.serial) !== undefined;
    if (inConfig && inGuest) return;
    const disk = volumeDiskXml(volume, freeVolumeTarget([config, running]));
    // The guest first: a hot-plug the guest refused leaves the config as it was.
    if (!inGuest) await virshDevice(this.uri, 'attach-device', name, disk);
    if (!inConfig) await this.call(name, () => this.conn().domainDefineXML(withVolume(config, disk)));
  }

  async detachVolume(name: string, serial: string, live: boolean): Promise<void> {
    const dom = await this.lookup(name);
    const config = await this.call(name, () => dom.getXMLDesc(DomainGetXMLDescFlags.INACTIVE));
    if (volumeDisk(config, serial)) await this.call(name, () => this.conn().domainDefineXML(withoutVolume(config, serial)));
    if (!live) return;
    const plugged = volumeDisk(await this.call(name, () => dom.getXMLDesc()), serial);
    if (plugged) await virshDevice(this.uri, 'detach-device', name, plugged);
  }

  domainXml(spec: DomainSpec): string {
    return buildDomainXml(spec, this.domainType);
  }

  async migrate(name: string, target: LiveMigrationTarget): Promise<LiveMigrationOutcome> {
    const dom = await this.lookup(name);
    if ((await this.stateOf(dom, name)) !== 'running')
      throw StormdErr.STORMD_ERR_DOMAIN_STATE(`${name} is not running; only a running guest migrates live`);
    const live = await this.call(name, () => dom.getXMLDesc(DomainGetXMLDescFlags.MIGRATABLE));
    const disks = writableDisks(live);
    await virshMigrate(this.uri, name, {
      targetUri: target.targetUri,
      xml: migrationXml(live, target.targetXml),
      targetXml: target.targetXml,
      disks,
      timeoutMs: target.timeoutMs,
      ...(target.migrateUri ? { migrateUri: target.migrateUri } : {}),
      ...(target.disksUri ? { disksUri: target.disksUri } : {}),
    });
    // The target finished the job, so it holds the measured downtime; a target we cannot ask still has the guest.
    const downtimeMs = await completedDowntimeMs(target.targetUri, name).catch(() => undefined);
    return { copiedDisks: disks, downtimeMs };
  }

  private conn(): Hypervisor {
    if (!this.hv) throw StormdErr.STORMD_ERR_NOT_CONNECTED(`${this.uri}: call connect() first`);
    return this.hv;
  }

  private async call<T>(subject: string, fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (err) {
      throw fromLibvirt(err, subject);
    }
  }

  private async lookup(name: string): Promise<Domain> {
    return this.call(name, () => this.conn().domainLookupByName(name));
  }

  /** The domain, or undefined when no domain has that name. */
  private async find(name: string): Promise<Domain | undefined> {
    try {
      return await this.lookup(name);
    } catch (err) {
      if (StormdErr.STORMD_ERR_DOMAIN_NOT_FOUND.is(err)) return undefined;
      throw err;
    }
  }

  private async stateOf(dom: Domain, name: string): Promise<DomainState> {
    const info = await this.call(name, () => dom.getInfo());
    return STATES[info.state] ?? 'unknown';
  }
}
