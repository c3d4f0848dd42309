import type { ApplianceDescriptor } from '../../../channels/src/format/index.js';

/** What the guest is configured from, snapshotted into the instance at launch (`instances.guest_spec`). */
export interface GuestSpec {
  readonly config: readonly { key: string; value: string; description?: string }[];
  readonly records: readonly {
    type: string;
    name: string;
    value: string;
    ttl?: number;
    priority?: number;
    weight?: number;
    port?: number;
  }[];
  /** Kerberos services besides host/ the instance has principals for (the descriptor's `principals`). */
  readonly principals?: readonly string[];
  /** The declared data volume's disk (by serial) and where the guest mounts it. */
  readonly dataVolume?: { readonly serial: string; readonly mountPoint: string };
}

/**
 * The guest spec an instance takes from its appliance's descriptor: at launch, and again at each
 * upgrade or reprovision (the new version's config, records and principals), keeping the data
 * volume made at launch, which stays attached through every change.
 */
export function guestSpecFor(descriptor: ApplianceDescriptor, dataVolume?: GuestSpec['dataVolume']): GuestSpec {
  return {
    config: descriptor.config,
    records: descriptor.records,
    ...(descriptor.principals?.length ? { principals: descriptor.principals } : {}),
    ...(dataVolume ? { dataVolume } : {}),
  };
}
