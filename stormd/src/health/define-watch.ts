/**
 * Times every domain define: a healthy libvirt defines in milliseconds (the first define after it
 * starts takes a few seconds while it probes QEMU); one that takes longer than `slowMs` means
 * something is wrong, e.g. libvirt probing QEMU again on every define because its qemu user cannot
 * open /dev/kvm. `WatchedDriver` wraps a driver so every define is timed; a define still running
 * past `slowMs` counts as slow already.
 *
 * @example
 * const watch = new DefineWatch();
 * const driver = new WatchedDriver(createDriver(uri), watch);
 * await driver.define(spec);
 * watch.check(); // { name: 'define-time', status: 'ok', message: 'the last define (storm-i-1) took 12 ms' }
 */
import type { HealthCheck } from '../../protocol.js';
import { type Clock, systemClock } from '../clock.js';
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
} from '../hypervisor/driver.js';

/** A define slower than this marks the host degraded. */
export const DEFINE_SLOW_MS = 10_000;

export interface DefineTiming {
  readonly name: string;
  readonly ms: number;
  /** When it finished (clock ms). */
  readonly at: number;
}

export class DefineWatch {
  private readonly running = new Map<number, { readonly name: string; readonly since: number }>();
  private next = 0;
  /** The last define that finished (whether it succeeded or not). */
  last: DefineTiming | undefined;

  constructor(
    private readonly clock: Clock = systemClock,
    readonly slowMs = DEFINE_SLOW_MS,
  ) {}

  async time<T>(name: string, fn: () => Promise<T>): Promise<T> {
    const id = this.next++;
    const since = this.clock.now();
    this.running.set(id, { name, since });
    try {
      return await fn();
    } finally {
      this.running.delete(id);
      const at = this.clock.now();
      this.last = { name, ms: at - since, at };
    }
  }

  /** The longest define under way now, if any. */
  longestRunning(): { name: string; forMs: number } | undefined {
    let out: { name: string; forMs: number } | undefined;
    for (const r of this.running.values()) {
      const forMs = this.clock.now() - r.since;
      if (!out || forMs > out.forMs) out = { name: r.name, forMs };
    }
    return out;
  }

  /** True when the last define, or one under way, took longer than `slowMs`. */
  slow(): boolean {
    return (this.longestRunning()?.forMs ?? 0) > this.slowMs || (this.last?.ms ?? 0) > this.slowMs;
  }

  check(): HealthCheck {
    const name = 'define-time';
    const limit = seconds(this.slowMs);
    const fix =
      'defines should take milliseconds: see the kvm check, and libvirtd\'s log (log_filters="1:qemu" in libvirtd.conf) for what libvirt does meanwhile';
    const running = this.longestRunning();
    if (running && running.forMs > this.slowMs) {
      return {
        name,
        status: 'fail',
        message: `a define of ${running.name} has been running for ${seconds(running.forMs)} (more than ${limit})`,
        fix,
      };
    }
    if (!this.last) return { name, status: 'skip', message: 'no define measured yet' };
    const took = `the last define (${this.last.name}) took ${this.last.ms < 1000 ? `${this.last.ms} ms` : seconds(this.last.ms)}`;
    if (this.last.ms > this.slowMs) return { name, status: 'fail', message: `${took}, more than ${limit}`, fix };
    return { name, status: 'ok', message: took };
  }
}

function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(ms < 10_000 ? 1 : 0)} s`;
}

/** A driver whose defines are timed by `watch`; every other call goes straight through. */
export class WatchedDriver implements HypervisorDriver {
  constructor(
    private readonly inner: HypervisorDriver,
    private readonly watch: DefineWatch,
  ) {}

  get uri(): string {
    return this.inner.uri;
  }

  connect(): Promise<void> {
    return this.inner.connect();
  }

  close(): Promise<void> {
    return this.inner.close();
  }

  info(): Promise<HypervisorInfo> {
    return this.inner.info();
  }

  define(spec: DomainSpec): Promise<void> {
    return this.watch.time(spec.name, () => this.inner.define(spec));
  }

  start(name: string): Promise<void> {
    return this.inner.start(name);
  }

  stop(name: string, timeoutMs?: number): Promise<StopOutcome> {
    return this.inner.stop(name, timeoutMs);
  }

  destroy(name: string): Promise<void> {
    return this.inner.destroy(name);
  }

  reboot(name: string, timeoutMs?: number): Promise<void> {
    return this.inner.reboot(name, timeoutMs);
  }

  attachVolume(name: string, volume: VolumeDiskSpec, live: boolean): Promise<void> {
    return this.inner.attachVolume(name, volume, live);
  }

  detachVolume(name: string, serial: string, live: boolean): Promise<void> {
    return this.inner.detachVolume(name, serial, live);
  }

  undefine(name: string): Promise<void> {
    return this.inner.undefine(name);
  }

  state(name: string): Promise<DomainState> {
    return this.inner.state(name);
  }

  list(): Promise<DomainSummary[]> {
    return this.inner.list();
  }

  xml(name: string): Promise<string> {
    return this.inner.xml(name);
  }

  domainXml(spec: DomainSpec): string {
    return this.inner.domainXml(spec);
  }

  migrate(name: string, target: LiveMigrationTarget): Promise<LiveMigrationOutcome> {
    return this.inner.migrate(name, target);
  }
}
