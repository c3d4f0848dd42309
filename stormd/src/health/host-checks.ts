/**
 * The host's checks, run at start and for every heartbeat: `libvirt` (it answers; a lost
 * connection is dropped so the next round connects afresh), `store-access` and `kvm` (as libvirt's
 * qemu user, `access-checks.ts`), `define-time` (`define-watch.ts`), `fuse` (as nobody, `fuse-check.ts`). When no define has been
 * measured, or the last was slow, a probe define (`define-probe.ts`) runs in the background, at
 * most once a minute, and never while the kvm check fails: that cause is known, and each probe
 * would keep libvirt busy for tens of seconds.
 *
 * @example
 * const checks = new HostChecks({ driver, watch, dataDir, qemu });
 * const { health, libvirtUp } = await checks.run();
 * health.checks.filter((c) => c.status === 'fail'); // what makes the host degraded
 */
import { errorMessage } from '../../../common/errors.js';
import type { HealthCheck, HostHealth } from '../../protocol.js';
import { type Clock, systemClock } from '../clock.js';
import type { HypervisorDriver } from '../hypervisor/driver.js';
import { accessChecks } from './access-checks.js';
import { probeDefine } from './define-probe.js';
import { RememberedFuseCheck } from './fuse-check.js';
import type { DefineWatch } from './define-watch.js';
import type { QemuUser } from './qemu-user.js';

export interface HostChecksOptions {
  /** The driver stormd uses, wrapped by `WatchedDriver` so its defines reach `watch`. */
  readonly driver: HypervisorDriver;
  readonly watch: DefineWatch;
  readonly dataDir: string;
  readonly qemu: QemuUser | undefined;
  readonly clock?: Clock;
  readonly kvmDevice?: string;
  readonly fuseDevice?: string;
  /** stormd's uid (the checks as the qemu user need root). */
  readonly uid?: number;
  readonly libvirtTimeoutMs?: number;
  readonly probeEveryMs?: number;
  readonly log?: { warn(obj: object, msg: string): void };
}

export interface CheckRound {
  readonly health: HostHealth;
  /** libvirt answered: host figures and instance states can be collected. */
  readonly libvirtUp: boolean;
}

export class HostChecks {
  private probing: Promise<void> | undefined;
  private lastProbe = Number.NEGATIVE_INFINITY;
  private readonly clock: Clock;
  private readonly fuse: RememberedFuseCheck;
  /** The last round's result. */
  last: HostHealth | undefined;

  constructor(private readonly opts: HostChecksOptions) {
    this.clock = opts.clock ?? systemClock;
    this.fuse = new RememberedFuseCheck({
      ...(opts.fuseDevice ? { device: opts.fuseDevice } : {}),
      ...(opts.uid === undefined ? {} : { uid: opts.uid }),
    });
  }

  async run(): Promise<CheckRound> {
    // Stamped when the round starts: whatever changed before this time, this round saw.
    const checkedAt = new Date(this.clock.now()).toISOString();
    const libvirt = await this.libvirt();
    const fuse = this.fuse.run().catch(
      (err: unknown): HealthCheck => ({
        name: 'fuse',
        status: 'fail',
        message: `could not run the check as nobody: ${errorMessage(err)}`,
        fix: "see stormd's log",
      }),
    );
    const [store, kvm] = await accessChecks({
      dataDir: this.opts.dataDir,
      qemu: this.opts.qemu,
      uri: this.opts.driver.uri,
      ...(this.opts.kvmDevice ? { kvmDevice: this.opts.kvmDevice } : {}),
      ...(this.opts.uid === undefined ? {} : { uid: this.opts.uid }),
    }).catch((err: unknown): [HealthCheck, HealthCheck] => [
      {
        name: 'store-access',
        status: 'fail',
        message: `could not run the check as libvirt's qemu user: ${errorMessage(err)}`,
        fix: "see stormd's log",
      },
      { name: 'kvm', status: 'skip', message: 'not checked: the check as the qemu user could not run' },
    ]);
    if (libvirt.status === 'ok' && kvm.status !== 'fail') this.maybeProbe();
    const health: HostHealth = { checkedAt, checks: [libvirt, store, kvm, this.opts.watch.check(), await fuse] };
    this.last = health;
    return { health, libvirtUp: libvirt.status === 'ok' };
  }

  /** Resolves when no probe define is under way. */
  async idle(): Promise<void> {
    await this.probing;
  }

  private async libvirt(): Promise<HealthCheck> {
    const { driver } = this.opts;
    const timeoutMs = this.opts.libvirtTimeoutMs ?? 5000;
    try {
      await withTimeout(driver.connect(), timeoutMs, 'connecting');
      await withTimeout(driver.info(), timeoutMs, 'asking for the node figures');
      return { name: 'libvirt', status: 'ok', message: `libvirt at ${driver.uri} answers` };
    } catch (err) {
      // A connection libvirtd dropped stays dead: close it, and the next round connects afresh.
      await driver.close().catch(() => undefined);
      return {
        name: 'libvirt',
        status: 'fail',
        message: `libvirt at ${driver.uri} does not answer: ${errorMessage(err)}`,
        fix: `start libvirtd (systemctl start libvirtd) and check it answers: virsh -c ${driver.uri} version`,
      };
    }
  }

  private maybeProbe(): void {
    const { watch } = this.opts;
    if (this.probing || (watch.last && !watch.slow())) return;
    if (this.clock.now() - this.lastProbe < (this.opts.probeEveryMs ?? 60_000)) return;
    this.lastProbe = this.clock.now();
    this.probing = probeDefine(this.opts.driver, this.opts.dataDir)
      .catch((err: unknown) => this.opts.log?.warn({ reason: errorMessage(err) }, 'the probe define failed'))
      .finally(() => {
        this.probing = undefined;
      });
  }
}

function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms while ${what}`)), ms);
  });
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
}
