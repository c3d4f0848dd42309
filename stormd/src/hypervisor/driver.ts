/**
 * The hypervisor seam of stormd. Every method naming a domain that does not exist throws
 * STORMD_ERR_DOMAIN_NOT_FOUND naming it. Every driver runs the same conformance suite
 * (`driver.conformance.ts`); the libvirt driver takes a URI, so `test:///default` and
 * `qemu:///system` run the same code.
 *
 * @example
 * const driver = createDriver('test:///default');
 * await driver.connect();
 * await driver.define(spec);
 * await driver.start(spec.name);
 * await driver.state(spec.name); // 'running'
 */

/** One disk of the layer stack, in stack order (bottom first). */
export interface DiskSpec {
  /** Absolute path on the host. */
  readonly path: string;
  /** Always stated, never probed. */
  readonly format: 'raw' | 'qcow2';
  readonly readonly: boolean;
}

/**
 * A data volume (stormd/src/volumes/): a writable qcow2 attached after the layer stack, found by
 * the guest by its serial (virtio-blk keeps at most 20 bytes of it).
 */
export interface VolumeDiskSpec {
  /** Absolute path on the host. */
  readonly path: string;
  readonly serial: string;
}

/**
 * A network interface; `bridge` names a host bridge the tap joins. libvirt's `clean-traffic` filter
 * holds it to `mac` and to `ip` (the reserved address; learned from the first packet when absent).
 */
export interface NicSpec {
  readonly mac: string;
  readonly bridge: string;
  readonly ip?: string;
}

/** Direct kernel boot: how layered appliances start. */
export interface DirectBoot {
  readonly kernel: string;
  readonly initrd: string;
  /** Full kernel command line (the caller adds `storm.layers=` and `console=ttyS0`). */
  readonly cmdline: string;
}

/** Everything needed to define one appliance domain. */
export interface DomainSpec {
  /** libvirt domain name, unique on the host. */
  readonly name: string;
  readonly uuid: string;
  readonly memoryMiB: number;
  readonly vcpus: number;
  /** Absent: firmware boots the first disk (traditional single-image appliances). */
  readonly boot?: DirectBoot;
  /** The firmware that boots the first disk when `boot` is absent: BIOS unless `uefi` (OVMF). */
  readonly firmware?: 'bios' | 'uefi';
  /** UEFI only: the instance's own variable store (made from OVMF's template at first start), so it lives, moves and goes with the instance. */
  readonly nvram?: string;
  readonly disks: readonly DiskSpec[];
  /** Data volumes, after the stack: targets vdaa, vdab, … so the stack's order never changes. */
  readonly volumes?: readonly VolumeDiskSpec[];
  readonly nics: readonly NicSpec[];
  /** Host file the serial console is written to. */
  readonly consoleLog: string;
  /** Key/value pairs kept in the domain's `<metadata>` (namespace `urn:storm:domain:1`). */
  readonly metadata?: Readonly<Record<string, string>>;
}

export type DomainState = 'running' | 'paused' | 'shutting-down' | 'shutoff' | 'crashed' | 'suspended' | 'unknown';

export interface DomainSummary {
  readonly name: string;
  readonly uuid: string;
  readonly state: DomainState;
  /** Current memory (the balloon's target, or the configured memory when off). */
  readonly memoryMiB: number;
}

export interface HypervisorInfo {
  readonly uri: string;
  /** `kvm`, `qemu` (TCG) or `test`. */
  readonly domainType: string;
  readonly cpus: number;
  readonly memoryMiB: number;
  readonly hostname: string;
}

/** How `stop` ended: the guest powered off when asked, was forced after the timeout, or was off already. */
export type StopOutcome = 'graceful' | 'forced' | 'already-off';

export interface HypervisorDriver {
  readonly uri: string;
  connect(): Promise<void>;
  close(): Promise<void>;
  info(): Promise<HypervisorInfo>;
  /** Defines (or redefines, when shut off) a persistent domain; never starts it. A running domain of that name is STORMD_ERR_DOMAIN_EXISTS. */
  define(spec: DomainSpec): Promise<void>;
  /** Starts a defined domain; starting a running one is a STORMD_ERR_DOMAIN_STATE error. */
  start(name: string): Promise<void>;
  /** Asks the guest to power off (ACPI), then forces it after `timeoutMs`; says which happened. */
  stop(name: string, timeoutMs?: number): Promise<StopOutcome>;
  /** Hard power-off; a domain already off is not an error. */
  destroy(name: string): Promise<void>;
  /** Power cycle: stop (graceful, bounded) then start. */
  reboot(name: string, timeoutMs?: number): Promise<void>;
  /** Removes the definition; the domain must be off (STORMD_ERR_DOMAIN_STATE otherwise). */
  undefine(name: string): Promise<void>;
  state(name: string): Promise<DomainState>;
  list(): Promise<DomainSummary[]>;
  /** The domain XML libvirt holds, for diagnostics and tests. */
  xml(name: string): Promise<string>;
  /** Adds a volume to the domain's config and, with `live`, to the running guest (hot-plug); a serial already there is left alone. */
  attachVolume(name: string, volume: VolumeDiskSpec, live: boolean): Promise<void>;
  /** Removes the volume with `serial` from the config and, with `live`, from the running guest; absent is not an error. */
  detachVolume(name: string, serial: string, live: boolean): Promise<void>;
  /** The XML `define(spec)` would write, for a host that receives the domain by live migration. */
  domainXml(spec: DomainSpec): string;
  /**
   * Moves the running domain to another host's libvirtd (see `live-migration.ts`): it runs there
   * under this XML with the target's paths, defined as `targetXml`, and is no longer defined here.
   */
  migrate(name: string, target: LiveMigrationTarget): Promise<LiveMigrationOutcome>;
}

/** Where and how a running domain moves (`migrate`). */
export interface LiveMigrationTarget {
  readonly targetUri: string;
  /** The target's persistent definition of the domain (its `domainXml`). */
  readonly targetXml: string;
  readonly migrateUri?: string;
  readonly disksUri?: string;
  readonly timeoutMs: number;
}

export interface LiveMigrationOutcome {
  /** The writable disks whose content was copied (target devs). */
  readonly copiedDisks: readonly string[];
  /** Guest paused on the source → resumed on the target, as libvirt measured it; undefined when the target would not say. */
  readonly downtimeMs: number | undefined;
}
