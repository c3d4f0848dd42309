/**
 * Instances' addresses on the appliance network: the network module's to give and take back. An
 * instance gets the lowest address of the network no instance and no dynamic lease holds, outside
 * the DHCP pool (`nextFreeAddress`), in the transaction that records the step; `instances.ip` is
 * unique, so two instances can never share one. The records are their owners' (`AddressHolders`);
 * the choice is made here. Without a network there is nothing to give.
 *
 * @example
 * const addresses = new AddressBook({ db, net, instances: store, leased: leasedAddresses, forgetLease: (mac) => network.forget(mac) });
 * if (addresses.enabled) await op.commit(addresses.allocate, { instanceId: id, mac });
 * await op.run(addresses.release, { instanceId: id, mac }); // destroy: the lease goes
 */
import type { Queryable } from '../db/database.js';
import { MgrErr } from '../errors.js';
import type { Step, TxStep } from '../operations/step.js';
import { ipToInt } from './ipv4.js';
import { nextFreeAddress, type NetworkSettings } from './network-settings.js';

export interface AddressIntent {
  readonly instanceId: string;
  readonly mac: string;
}

/** Where addresses are recorded: the instances' own (their store), and the dynamic leases. */
export interface AddressHolders {
  /** The appliance network; null: none, nothing to give. */
  readonly net: NetworkSettings | null;
  readonly instances: {
    addresses(q: Queryable): Promise<string[]>;
    setAddress(q: Queryable, instanceId: string, ip: string | null): Promise<void>;
  };
  /** Every address a dynamic lease holds. */
  leased(q: Queryable): Promise<string[]>;
  /** Drops the DHCP lease of `mac` (the server's memory and its table). */
  forgetLease(mac: string): Promise<void>;
  /** The database, for an undo (it runs outside any transaction). */
  readonly db: Queryable;
}

export class AddressBook {
  /** The address, set on the instance's row; undo: the row has none, its lease is forgotten. */
  readonly allocate: TxStep<AddressIntent, string>;
  /** An instance that goes: its lease is forgotten (its address goes with its row). No undo. */
  readonly release: Step<AddressIntent>;

  constructor(private readonly holders: AddressHolders) {
    this.allocate = {
      name: 'network.address',
      runInTx: (tx, { instanceId }) => this.assign(tx, instanceId),
      undo: async ({ instanceId, mac }) => {
        await holders.instances.setAddress(holders.db, instanceId, null);
        await holders.forgetLease(mac);
      },
    };
    this.release = { name: 'network.release', run: ({ mac }) => holders.forgetLease(mac) };
  }

  /** True when there is an appliance network to give addresses on. */
  get enabled(): boolean {
    return this.holders.net !== null;
  }

  private async assign(tx: Queryable, instanceId: string): Promise<string> {
    const { net, instances, leased } = this.holders;
    if (!net) throw MgrErr.MGR_ERR_CONFLICT('there is no appliance network (--network) to give an address on');
    // Addresses a dynamic lease holds are not free either.
    const taken = new Set([...(await instances.addresses(tx)), ...(await leased(tx))].map(ipToInt));
    const ip = nextFreeAddress(net, taken);
    if (!ip) throw MgrErr.MGR_ERR_NO_CAPACITY(`no free address left in ${net.cidrText}`);
    await instances.setAddress(tx, instanceId, ip);
    return ip;
  }
}
