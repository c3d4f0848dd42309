/**
 * A launch is a list of parts, one list per kind of appliance (`LAUNCH_PLANS`). Each part runs one
 * or two journal steps from the module that owns what they change, and names those steps so the
 * journal can undo them after a restart. A layered appliance: the record and its address, the
 * realm's principals, staging, the directory account, the instance layer (seeded with the guest's
 * files), the data volume it declares, define, start. Another kind of appliance takes the parts it shares and brings its own
 * (a disk and a cloud-init seed instead of the instance layer, say): add its kind to
 * `ApplianceKind`, its list to `launchPlans`, and how to tell it to `applianceKind`.
 *
 * @example
 * const plans = launchPlans(services);
 * for (const part of plans[applianceKind(entry)]) await part.run(run);
 */
import { randomUUID } from 'node:crypto';
import { applianceKindOf } from '../../../channels/src/format/index.js';
import { errorMessage } from '../../../common/errors.js';
import type { CatalogEntry } from '../catalog/catalog.js';
import type { AccountSteps } from '../directory/account-steps.js';
import { MgrErr } from '../errors.js';
import { guestFiles, type GuestFilesInput, type LayerFiles } from '../guests/guest-files.js';
import { guestSpecFor } from '../guests/guest-spec.js';
import type { PlacementRequest } from '../hosts/placement.js';
import type { PrincipalSteps } from '../kerberos/principal-steps.js';
import type { AddressBook } from '../network/address-book.js';
import type { Operation } from '../operations/journal.js';
import type { Undoable } from '../operations/step.js';
import type { DomainRequests } from './domain-request.js';
import type { HostSteps } from './host-steps.js';
import type { InstanceFile, NewInstance } from './instance-store.js';
import type { InstanceSteps } from './instance-steps.js';
import { randomMac } from './mac.js';
import type { Staging } from './staging.js';
import { dataVolumeName, serialFor } from '../volumes/volume-store.js';
import type { VolumeSteps } from '../volumes/volume-steps.js';

/** The launch events' steps (`instance.launch`), as the CLI and the console show them. */
export type LaunchStep = 'reserved' | 'staged' | 'layer' | 'defined' | 'started';

/** The record as reserved: on the host placement chose, with its address once the network gave one. */
export type ReservedInstance = NewInstance & { readonly host_id: string; readonly ip?: string | null };

/** One launch as its parts see it; `row` and `guestFiles` are filled in by the parts as they go. */
export interface LaunchRun {
  readonly op: Operation;
  readonly id: string;
  readonly name: string;
  /** Where it may go: placement chooses the host as the record is made (a pin names it). */
  readonly place: PlacementRequest;
  readonly entry: CatalogEntry;
  readonly params: Readonly<Record<string, unknown>>;
  readonly files: readonly InstanceFile[];
  /** The guest's credential: only `tokenHash` is recorded; the token goes into the guest's files. */
  readonly token: string;
  readonly tokenHash: string;
  /** The record, once the `record` part made it (its host chosen). */
  row?: ReservedInstance;
  /** Files parts add to the guest's own (the directory account's seed). */
  readonly guestFiles: LayerFiles;
  /** A traditional appliance's disk size (default its minimum) and the SSH public keys its seed installs. */
  readonly diskMiB?: number;
  readonly sshKeys?: readonly string[];
}

export interface LaunchPart {
  readonly name: string;
  /** The journal steps it may take: defined in the journal, so their undo is found after a restart. */
  readonly steps: readonly Undoable[];
  /** The `instance.launch` event published once it is done. */
  readonly event?: LaunchStep;
  run(run: LaunchRun): Promise<void>;
}

/** What the parts are made of: each module's steps, and what every guest is told. */
export interface LaunchServices {
  readonly instanceSteps: InstanceSteps;
  readonly hostSteps: HostSteps;
  readonly addresses: AddressBook;
  readonly staging: Staging;
  readonly principals: PrincipalSteps;
  readonly accounts: AccountSteps;
  readonly requests: DomainRequests;
  /** What every guest is told besides its token (`guestFiles`): how to reach the manager, its CA. */
  readonly guest: () => GuestFilesInput;
  /** A traditional appliance's own parts (`cloud-images/image-parts.ts`): its disk and seed instead of the instance layer. */
  readonly imageParts?: (s: LaunchServices) => readonly LaunchPart[];
  /** The volume operations' steps, for the data volume an appliance declares. */
  readonly volumes: VolumeSteps;
}

/** The kinds of appliance a launch knows; each has its list of parts. */
export type ApplianceKind = 'layered' | 'image';

export function applianceKind(entry: CatalogEntry): ApplianceKind {
  return applianceKindOf(entry.descriptor);
}

export function launchPlans(s: LaunchServices): Readonly<Record<ApplianceKind, readonly LaunchPart[]>> {
  return {
    layered: [record(s), principals(s), stage(s), account(s), instanceLayer(s), dataVolume(s), define(s), start(s)],
    image: [record(s), principals(s), stage(s), account(s), ...(s.imageParts?.(s) ?? []), define(s), start(s)],
  };
}

/** The record, with the host placement chose; the parts after `record` act on it. */
export function reserved(run: LaunchRun): ReservedInstance {
  if (!run.row) throw new Error(`launch of ${run.name}: no record yet (the record part comes first)`);
  return run.row;
}

export const hostOf = (run: LaunchRun) => reserved(run).host_id;

/** The record (name, MAC, host by placement, token hash, stack) and its address: what undo and reconcile find from here on. */
export function record(s: LaunchServices): LaunchPart {
  return {
    name: 'record',
    steps: [s.instanceSteps.reserve, s.addresses.allocate],
    event: 'reserved',
    run: async (run) => {
      run.row = await reserve(s, run);
      if (s.addresses.enabled)
        run.row = { ...run.row, ip: await run.op.commit(s.addresses.allocate, { instanceId: run.id, mac: run.row.mac }) };
    },
  };
}

/** A MAC collision (1 in 16 million per pair) just draws again; a name taken meanwhile is a conflict. */
async function reserve(s: LaunchServices, run: LaunchRun): Promise<ReservedInstance> {
  const d = run.entry.descriptor;
  const volume = d.dataVolume && { serial: serialFor(dataVolumeName(run.name)), mountPoint: d.dataVolume.mountPoint };
  const spec = guestSpecFor(d, volume || undefined);
  for (let attempt = 0; ; attempt++) {
    const row: Omit<NewInstance, 'host_id'> = {
      id: run.id,
      name: run.name,
      uuid: randomUUID(),
      channel_id: run.entry.channelId,
      appliance: run.entry.name,
      version: run.entry.version,
      mac: randomMac(),
      memory_mib: run.entry.memoryMiB,
      vcpus: run.entry.vcpus,
      params: JSON.stringify(run.params),
      token_hash: run.tokenHash,
      guest_spec: JSON.stringify(spec),
    };
    try {
      const hostId = await run.op.commit(
        s.instanceSteps.reserve,
        { instanceId: run.id, name: run.name },
        { row, files: run.files, place: run.place },
      );
      return { ...row, host_id: hostId };
    } catch (err) {
      const msg = errorMessage(err);
      if (/instances\.name/.test(msg)) throw MgrErr.MGR_ERR_CONFLICT(`an instance named ${run.name} exists`);
      if (!/instances\.mac/.test(msg) || attempt > 5) throw err;
    }
  }
}

/** With a realm: `host/<fqdn>` and the descriptor's services, before the guest can boot and ask for their keys. */
export function principals(s: LaunchServices): LaunchPart {
  return {
    name: 'principals',
    steps: [s.principals.principals],
    run: async (run) => {
      if (s.principals.enabled)
        await run.op.run(s.principals.principals, { name: run.name, services: run.entry.descriptor.principals ?? [] });
    },
  };
}

/** The files of the stack the host lacks, fetched by the host from the manager. */
export function stage(s: LaunchServices): LaunchPart {
  return {
    name: 'stage',
    steps: [s.staging.step],
    event: 'staged',
    run: async (run) => void (await run.op.run(s.staging.step, { hostId: hostOf(run), files: run.files })),
  };
}

/** With LDAP: a read-only service account, its seed among the guest's files (its password nowhere else). */
export function account(s: LaunchServices): LaunchPart {
  return {
    name: 'account',
    steps: [s.accounts.account],
    run: async (run) => {
      if (s.accounts.enabled) Object.assign(run.guestFiles, await run.op.run(s.accounts.account, { name: run.name, owner: run.id }));
    },
  };
}

/** The instance's first writable layer, seeded with its token, how to reach the manager, and what parts added. */
export function instanceLayer(s: LaunchServices): LaunchPart {
  return {
    name: 'instance layer',
    steps: [s.hostSteps.instanceLayer],
    event: 'layer',
    run: async (run) => {
      const files = { ...guestFiles(run.token, s.guest()), ...run.guestFiles };
      await run.op.run(s.hostSteps.instanceLayer, { hostId: hostOf(run), instanceId: run.id, name: run.name }, { name: run.name, files });
    },
  };
}

/**
 * The data volume the descriptor declares: `<instance>-data` made on the instance's host and
 * attached before the first define, by the volume operations' own steps, so a failed launch undoes
 * them (the attachment ends, the file and the row go). A name taken is `MGR_ERR_VOLUME_EXISTS`.
 */
export function dataVolume(s: LaunchServices): LaunchPart {
  const v = s.volumes;
  return {
    name: 'data volume',
    steps: [v.record, v.createOnHost, v.attachRecord, v.attachOnHost],
    run: async (run) => {
      const want = run.entry.descriptor.dataVolume;
      if (!want) return;
      const volume = { name: dataVolumeName(run.name), hostId: hostOf(run) };
      const serial = serialFor(volume.name);
      await run.op.commit(v.record, { ...volume, sizeMiB: want.minSizeMiB, serial });
      await run.op.run(v.createOnHost, { ...volume, sizeMiB: want.minSizeMiB });
      await run.op.commit(v.attachRecord, { ...volume, instanceId: run.id, serial });
      await run.op.run(v.attachOnHost, { ...volume, instanceId: run.id, serial });
    },
  };
}

/** The domain, from the record's identity and the appliance's stack. */
export function define(s: LaunchServices): LaunchPart {
  return {
    name: 'define',
    steps: [s.hostSteps.define],
    event: 'defined',
    run: async (run) => {
      const { entry } = run;
      const stack = {
        appliance: entry.name,
        version: entry.version,
        memoryMiB: entry.memoryMiB,
        vcpus: entry.vcpus,
        files: run.files,
        frozen: [],
      };
      await run.op.run(s.hostSteps.define, { hostId: hostOf(run), instanceId: run.id }, s.requests.build(reserved(run), stack));
    },
  };
}

export function start(s: LaunchServices): LaunchPart {
  return {
    name: 'start',
    steps: [s.hostSteps.start],
    event: 'started',
    run: async (run) => void (await run.op.run(s.hostSteps.start, { hostId: hostOf(run), instanceId: run.id })),
  };
}
