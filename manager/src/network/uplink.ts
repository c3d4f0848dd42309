/**
 * The appliance network's uplink (`--uplink nat|none`). With nat, `start()` loads the manager's own
 * nftables table (uplink-rules.ts) and turns IPv4 forwarding on; the administrator's forwards live in
 * the database and are loaded again at every start; every instance event re-renders the rules, so a
 * forward follows its instance's reserved address; `close()` takes it all away again. With none it
 * touches nothing and refuses forwards.
 *
 * @example
 * const uplink = new Uplink({ mode: 'nat', bridge: 'stormbr0', net, store, firewall: new HostFirewall(), bus });
 * await uplink.start();
 * await uplink.add({ protocol: 'tcp', port: 8080, instance: 'web1', targetPort: 80 });
 * await uplink.close();
 */
import type { ForwardProtocol, ForwardView, UplinkView } from '../../protocol/index.js';
import type { EventBus } from '../events/bus.js';
import { MgrErr } from '../errors.js';
import type { ForwardRow, ForwardStore } from './forward-store.js';
import type { HostFirewall } from './host-firewall.js';
import type { NetworkSettings } from './network-settings.js';
import { UplinkErr } from './uplink-errors.js';
import { type RenderedForward, UPLINK_FAMILY, UPLINK_TABLE, uplinkRuleset } from './uplink-rules.js';

export type UplinkMode = UplinkView['mode'];
type UplinkState = UplinkView['state'];

export interface UplinkOptions {
  readonly mode: UplinkMode;
  /** The bridge the appliance network is on (`--bridge`). */
  readonly bridge: string;
  readonly net: NetworkSettings | null;
  readonly store: ForwardStore;
  readonly firewall: HostFirewall;
  readonly bus: EventBus;
  /** TCP ports of the host no forward may take (the manager's own listener), with what they are. */
  readonly reservedTcpPorts?: ReadonlyMap<number, string>;
}

/** One line of `storm doctor` (the doctor's check shape). */
export interface UplinkCheck {
  readonly name: 'uplink';
  readonly status: 'ok' | 'fail';
  readonly message: string;
  readonly fix?: string;
}

export interface ForwardRequest {
  readonly protocol: ForwardProtocol;
  readonly port: number;
  readonly instance: string;
  readonly targetPort: number;
}

export class Uplink {
  private state: UplinkState = 'off';
  private error: string | null = null;
  /** The script last loaded: an unchanged ruleset is not loaded again. */
  private loaded: string | null = null;
  private forwardingTurnedOn = false;
  /** Loads and removals one at a time, in order. */
  private queue: Promise<unknown> = Promise.resolve();
  private unsubscribe: (() => void) | undefined;

  constructor(private readonly opts: UplinkOptions) {}

  private get nat(): { bridge: string; cidr: string } | null {
    return this.opts.mode === 'nat' && this.opts.net ? { bridge: this.opts.bridge, cidr: this.opts.net.cidrText } : null;
  }

  private serial<T>(fn: () => Promise<T>): Promise<T> {
    const result = this.queue.then(fn, fn);
    this.queue = result.catch(() => undefined);
    return result;
  }

  /** With nat: the rules (forwards from the database included), then forwarding on. Throws when nft cannot. */
  async start(): Promise<void> {
    if (!this.nat) return;
    await this.serial(() => this.load());
    if (!(await this.opts.firewall.forwarding())) {
      await this.opts.firewall.setForwarding(true);
      this.forwardingTurnedOn = true;
    }
    // Any instance change may move an address a forward leads to; an unchanged ruleset costs one query.
    this.unsubscribe = this.opts.bus.subscribe((e) => {
      if (e.type.startsWith('instance.') || e.type === 'reconcile.done') void this.refresh();
    });
  }

  /** Forwarding back as it was found, then the table gone. */
  async close(): Promise<void> {
    this.unsubscribe?.();
    this.unsubscribe = undefined;
    if (!this.nat) return;
    await this.serial(async () => {
      if (this.forwardingTurnedOn) await this.opts.firewall.setForwarding(false);
      this.forwardingTurnedOn = false;
      // Only a table this manager loaded: a start that failed before any left nothing to take away.
      if (this.loaded !== null) await this.opts.firewall.removeTable(UPLINK_FAMILY, UPLINK_TABLE);
      this.loaded = null;
      this.setState('off', null);
    });
  }

  /** Re-renders the rules from the database; a failure is kept in the status (and its event), not thrown. */
  async refresh(): Promise<void> {
    if (!this.nat || this.unsubscribe === undefined) return;
    await this.serial(() => this.load()).catch(() => undefined);
  }

  async status(): Promise<UplinkView> {
    const nat = this.nat;
    return {
      mode: this.opts.mode,
      state: this.state,
      error: this.error,
      bridge: nat?.bridge ?? null,
      network: nat?.cidr ?? null,
      table: nat ? `${UPLINK_FAMILY} ${UPLINK_TABLE}` : null,
      forwards: await this.list(),
    };
  }

  /** `storm doctor`'s line with nat: the rules loaded and still in the kernel, forwarding still on; null with none. */
  async check(): Promise<UplinkCheck | null> {
    const nat = this.nat;
    if (!nat) return null;
    const table = `${UPLINK_FAMILY} ${UPLINK_TABLE}`;
    const fail = (message: string, fix: string): UplinkCheck => ({ name: 'uplink', status: 'fail', message, fix });
    try {
      if (this.state !== 'active')
        return fail(
          `the uplink's rules are not loaded: ${this.error ?? this.state}`,
          "install Debian's nftables, run the manager as root, then restart it (docs/network.md)",
        );
      if (!(await this.opts.firewall.hasTable(UPLINK_FAMILY, UPLINK_TABLE)))
        return fail(
          `the table ${table} is gone: another program removed it (nftables.service or nft flush ruleset?)`,
          'restart the manager: it loads the table again',
        );
      if (!(await this.opts.firewall.forwarding()))
        return fail(
          'IPv4 forwarding (net.ipv4.ip_forward) is off: guests cannot get out',
          'sysctl -w net.ipv4.ip_forward=1, or restart the manager',
        );
    } catch (err) {
      return fail(
        `the uplink could not be checked: ${err instanceof Error ? err.message : String(err)}`,
        "install Debian's nftables and run the manager as root",
      );
    }
    const n = (await this.opts.store.list()).length;
    return {
      name: 'uplink',
      status: 'ok',
      message: `nat: ${nat.cidr} masqueraded out, table ${table} loaded on ${nat.bridge}, forwarding on, ${n} forward${n === 1 ? '' : 's'}`,
    };
  }

  async list(): Promise<ForwardView[]> {
    return (await this.opts.store.list()).map((r) => this.view(r));
  }

  async add(req: ForwardRequest): Promise<ForwardView> {
    if (!this.nat) throw UplinkErr.MGR_ERR_UPLINK_OFF(`cannot forward ${req.protocol} ${req.port}`);
    const reserved = req.protocol === 'tcp' ? this.opts.reservedTcpPorts?.get(req.port) : undefined;
    if (reserved) throw MgrErr.MGR_ERR_CONFLICT(`tcp ${req.port} is ${reserved}: forward another port`);
    const inst = await this.opts.store.instance(req.instance);
    if (!inst) throw MgrErr.MGR_ERR_NOT_FOUND(`instance ${req.instance}`);
    if (!inst.ip) throw MgrErr.MGR_ERR_CONFLICT(`instance ${inst.name} has no address on the appliance network`);
    return this.serial(async () => {
      const taken = await this.opts.store.get(req.protocol, req.port);
      if (
        taken ||
        !(await this.opts.store.add({ protocol: req.protocol, port: req.port, instanceId: inst.id, targetPort: req.targetPort }))
      ) {
        throw MgrErr.MGR_ERR_CONFLICT(
          `${req.protocol} ${req.port} is already forwarded${taken ? ` to ${taken.instanceName}:${taken.targetPort}` : ''} (storm network forward rm ${req.protocol} ${req.port} first)`,
        );
      }
      try {
        await this.load();
      } catch (err) {
        // The forward exists only if its rules could be loaded.
        await this.opts.store.remove(req.protocol, req.port);
        await this.load().catch(() => undefined);
        throw err;
      }
      const row = (await this.opts.store.get(req.protocol, req.port))!;
      this.opts.bus.publish('uplink.forward', {
        action: 'added',
        protocol: row.protocol,
        port: row.port,
        instance: row.instanceName,
        instanceId: row.instanceId,
        targetPort: row.targetPort,
      });
      return this.view(row);
    });
  }

  /** Removes a forward; allowed whatever the mode, so leftovers of an earlier nat can go. */
  async remove(protocol: ForwardProtocol, port: number): Promise<void> {
    await this.serial(async () => {
      const row = await this.opts.store.get(protocol, port);
      if (!row || !(await this.opts.store.remove(protocol, port))) throw MgrErr.MGR_ERR_NOT_FOUND(`no forward of ${protocol} ${port}`);
      if (this.nat && this.state !== 'off') await this.load();
      this.opts.bus.publish('uplink.forward', {
        action: 'removed',
        protocol,
        port,
        instance: row.instanceName,
        instanceId: row.instanceId,
        targetPort: row.targetPort,
      });
    });
  }

  /** An instance is being removed: its forwards go with it (each announced), and their rules. */
  async instanceRemoved(instanceId: string): Promise<void> {
    await this.serial(async () => {
      const rows = await this.opts.store.byInstance(instanceId);
      if (!rows.length) return;
      await this.opts.store.removeInstance(instanceId);
      for (const row of rows) {
        this.opts.bus.publish('uplink.forward', {
          action: 'removed',
          reason: `instance ${row.instanceName} removed`,
          protocol: row.protocol,
          port: row.port,
          instance: row.instanceName,
          instanceId,
          targetPort: row.targetPort,
        });
      }
      if (this.nat && this.state !== 'off') await this.load().catch(() => undefined);
    });
  }

  /** Renders the ruleset from the database and loads it when it changed. Call inside `serial`. */
  private async load(): Promise<void> {
    const nat = this.nat!;
    const forwards: RenderedForward[] = [];
    for (const r of await this.opts.store.list()) {
      if (r.address)
        forwards.push({ protocol: r.protocol, port: r.port, address: r.address, targetPort: r.targetPort, label: r.instanceName });
    }
    const script = uplinkRuleset({ bridge: nat.bridge, cidr: nat.cidr, forwards });
    if (script === this.loaded && this.state === 'active') return;
    try {
      await this.opts.firewall.load(script);
    } catch (err) {
      this.setState('failed', err instanceof Error ? err.message : String(err));
      throw err;
    }
    this.loaded = script;
    this.setState('active', null);
  }

  private setState(state: UplinkState, error: string | null): void {
    if (state === this.state && error === this.error) return;
    this.state = state;
    this.error = error;
    this.opts.bus.publish('uplink.state', { mode: this.opts.mode, state, ...(error ? { error } : {}) });
  }

  private view(r: ForwardRow): ForwardView {
    return {
      protocol: r.protocol,
      port: r.port,
      instance: r.instanceName,
      instanceId: r.instanceId,
      address: r.address,
      targetPort: r.targetPort,
      active: this.state === 'active' && r.address !== null,
      createdAt: r.createdAt,
    };
  }
}
