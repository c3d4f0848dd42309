/**
 * Instances: `POST /api/v1/instances` (launch; 201), `GET /api/v1/instances[?limit=N&cursor=C]`, `GET /api/v1/instances/:id`
 * (by id or name, like every `:id` here), `DELETE /api/v1/instances/:id` (204),
 * `POST /api/v1/instances/:id/actions` (power, and the lifecycle operations of docs/lifecycle.md),
 * `POST /api/v1/instances/:id/move` (a cold move to another host; docs/move.md),
 * `GET /api/v1/instances/:id/checkpoints`, `DELETE /api/v1/instances/:id/checkpoints/:checkpoint` (204),
 * `GET /api/v1/instances/:id/console[?bytes=N]` (the end of its serial console),
 * `GET /api/v1/instances/:id/console/attach[?takeover=true]` (its serial port as a WebSocket; the
 * frames are in `common/serial-attach.ts`).
 */
import Type, { type Static } from 'typebox';
import { ReplicaBody } from './replication.js';
import { ApplianceName, ApplianceVersion, IsoTime, List, NextCursor, Nullable, OneOf, ParamValue, ParamValues, Sha256 } from './common.js';

export const INSTANCE_STATES = [
  'launching',
  'running',
  'stopped',
  'paused',
  'stopping',
  'crashed',
  'unknown',
  'lost',
  'failed',
  'destroying',
] as const;
export const InstanceState = OneOf(INSTANCE_STATES);
export type InstanceState = Static<typeof InstanceState>;

/** One disk of the stack: an image layer, a writable layer frozen by a checkpoint (`frozen`, by `id`), or the current one (`instance`). */
export const StackLayer = Type.Object({
  kind: Type.String(),
  sha256: Nullable(Sha256),
  size: Nullable(Type.Integer()),
  writable: Type.Boolean(),
  id: Type.Optional(Type.String()),
});

export const InstanceView = Type.Object({
  id: Type.String(),
  name: Type.String(),
  appliance: Type.String(),
  version: Type.String(),
  channelId: Nullable(Type.String()),
  host: Nullable(Type.Object({ id: Type.String(), name: Type.String() })),
  state: InstanceState,
  desired: OneOf(['running', 'stopped']),
  mac: Type.String(),
  ip: Nullable(Type.String()),
  fqdn: Nullable(Type.String()),
  memoryMiB: Type.Integer(),
  vcpus: Type.Integer(),
  params: Type.Record(Type.String(), ParamValue),
  /** Bottom to top: the read-only layers, then the instance's writable layer. */
  layers: List(StackLayer),
  boot: Type.Object({ kernel: Nullable(Sha256), initrd: Nullable(Sha256) }),
  /** What the guest last reported with `storm.reportStatus` (`{ phase, details, at }`), or null. */
  guestStatus: Type.Unknown(),
  lastError: Nullable(Type.String()),
  createdAt: IsoTime,
  updatedAt: IsoTime,
});
export type InstanceView = Static<typeof InstanceView>;

/** Oldest first; with `?limit`, one page and the cursor of the next (`PageQuery`). */
export const InstanceList = Type.Object({ instances: List(InstanceView), next: NextCursor });
export type InstanceList = Static<typeof InstanceList>;

/** An instance by id or name. */
export const InstanceParams = Type.Object({ id: Type.String({ minLength: 1, maxLength: 63 }) });

/** One OpenSSH public key line: `type base64 [comment]`. */
export const SshPublicKey = Type.String({
  minLength: 16,
  maxLength: 16384,
  pattern: '^(ssh-[a-z0-9-]+|ecdsa-sha2-nistp[0-9]+|sk-[a-z0-9@.-]+) [A-Za-z0-9+/=]+( [^\\u0000-\\u001f]*)?$',
});

/** `GET` and `PUT /api/v1/account/ssh-keys`: the caller's own SSH public keys, installed in every traditional instance they launch. */
export const AccountSshKeys = Type.Object({ keys: Type.Array(SshPublicKey, { maxItems: 32 }) }, { additionalProperties: false });
export type AccountSshKeys = Static<typeof AccountSshKeys>;

export const LaunchBody = Type.Object(
  {
    appliance: ApplianceName,
    /** The newest unless named. */
    version: Type.Optional(ApplianceVersion),
    channel: Type.Optional(Type.String({ maxLength: 20 })),
    name: Type.String({ minLength: 1, maxLength: 63 }),
    /** Checked against the descriptor's types, patterns and bounds. */
    params: Type.Optional(ParamValues),
    /** A host's id or name to pin the instance to; placement chooses otherwise. */
    host: Type.Optional(Type.String({ maxLength: 253 })),
    /** A traditional appliance's disk in MiB: at least its minimum, which is the default. */
    diskMiB: Type.Optional(Type.Integer({ minimum: 1, maximum: 67_108_864 })),
    /** SSH public keys cloud-init installs in a traditional appliance, besides the administrator's own (`/account/ssh-keys`). */
    sshKeys: Type.Optional(Type.Array(SshPublicKey, { maxItems: 32 })),
    /** Replicate it from the start (`PUT …/replica`'s body): placement keeps it off that host. */
    replicate: Type.Optional(ReplicaBody),
  },
  { additionalProperties: false },
);
export type LaunchBody = Static<typeof LaunchBody>;

export const PowerAction = Type.Object(
  { action: Type.Union([Type.Literal('start'), Type.Literal('stop'), Type.Literal('reboot')]) },
  { additionalProperties: false },
);
export type PowerAction = Static<typeof PowerAction>;

/** The lifecycle operations (docs/lifecycle.md). */
export const LifecycleBody = Type.Union([
  Type.Object(
    { action: Type.Literal('checkpoint'), label: Type.Optional(Type.String({ maxLength: 200 })) },
    { additionalProperties: false },
  ),
  Type.Object(
    { action: Type.Literal('rollback'), checkpoint: Type.String({ minLength: 1, maxLength: 40 }) },
    { additionalProperties: false },
  ),
  Type.Object({ action: Type.Literal('upgrade'), version: ApplianceVersion }, { additionalProperties: false }),
  Type.Object(
    {
      action: Type.Literal('reprovision'),
      appliance: ApplianceName,
      version: Type.Optional(ApplianceVersion),
      params: Type.Optional(ParamValues),
    },
    { additionalProperties: false },
  ),
  Type.Object({ action: Type.Literal('package'), name: ApplianceName, version: ApplianceVersion }, { additionalProperties: false }),
  Type.Object({ action: Type.Literal('flatten') }, { additionalProperties: false }),
]);
export type LifecycleBody = Static<typeof LifecycleBody>;

export const ActionBody = Type.Union([PowerAction, ...LifecycleBody.anyOf]);
export type ActionBody = Static<typeof ActionBody>;

/** What a lifecycle operation did. */
export const OperationView = Type.Object({
  action: Type.String(),
  /** The checkpoint recorded before the change (null for flatten). */
  checkpoint: Nullable(Type.String()),
  /** The instance was running: it was stopped for the change and started again. */
  restarted: Type.Boolean(),
  package: Type.Optional(Type.Object({ name: Type.String(), version: Type.String(), sha256: Sha256, size: Type.Integer() })),
});
export type OperationView = Static<typeof OperationView>;

/** A power action answers the instance; a lifecycle operation the instance as it now is, plus `operation`. */
export const ActionAnswer = Type.Object({ ...InstanceView.properties, operation: Type.Optional(OperationView) });
export type ActionAnswer = Static<typeof ActionAnswer>;

/** `ActionAnswer` of a lifecycle operation, which always says what it did. */
export const LifecycleAnswer = Type.Object({ ...InstanceView.properties, operation: OperationView });
export type LifecycleAnswer = Static<typeof LifecycleAnswer>;

export const CheckpointView = Type.Object({
  id: Type.String(),
  seq: Type.Integer(),
  reason: Type.String(),
  appliance: Type.String(),
  version: Type.String(),
  /** The stack, bottom to top: image layers, then frozen writable layers. */
  layers: List(Type.Object({ kind: Type.String(), sha256: Type.Optional(Sha256), id: Type.Optional(Type.String()) })),
  createdAt: IsoTime,
});
export type CheckpointView = Static<typeof CheckpointView>;

export const CheckpointList = Type.Object({ checkpoints: List(CheckpointView) });

export const CheckpointParams = Type.Object({ id: InstanceParams.properties.id, checkpoint: Type.String({ minLength: 1, maxLength: 40 }) });

export const SerialQuery = Type.Object(
  { bytes: Type.Optional(Type.Integer({ minimum: 1, maximum: 1024 * 1024 })) },
  { additionalProperties: false },
);

/** The end of the serial console log, as the host has it. */
export const SerialTail = Type.Object({
  /** The last bytes as UTF-8; a character cut at the start shows as U+FFFD. */
  text: Type.String(),
  /** The whole log's size in bytes. */
  size: Type.Integer(),
  /** Where `text` starts in the log. */
  offset: Type.Integer(),
});
export type SerialTail = Static<typeof SerialTail>;

/** Attaching to the serial port: `takeover` writes at once, the current writer becoming a reader. */
export const SerialAttachQuery = Type.Object({ takeover: Type.Optional(Type.Boolean()) }, { additionalProperties: false });

/** `POST /api/v1/instances/:id/move`: to the host named `to` (a name or an id); a running instance needs `allowRestart`. */
export const MoveBody = Type.Object(
  {
    to: Type.String({ minLength: 1, maxLength: 128 }),
    /** Stop it, move it cold, start it on the target (without it, a running instance is refused: MGR_ERR_INSTANCE_RUNNING). */
    allowRestart: Type.Optional(Type.Boolean()),
  },
  { additionalProperties: false },
);
export type MoveBody = Static<typeof MoveBody>;

/** The instance on its new host, and what the move did. */
export const MoveAnswer = Type.Object({
  instance: InstanceView,
  /** The hosts' names. */
  from: Type.String(),
  to: Type.String(),
  /** Bytes of the instance's own files (its writable layers) copied host to host. */
  bytes: Type.Integer(),
  /** It ran: it was stopped for the move and started on the target. */
  restarted: Type.Boolean(),
  /** It ran and moved live: memory and writable layer migrated by libvirt, never stopped (`bytes` is then 0: libvirt copied the layer). */
  live: Type.Boolean(),
  /** A live move's pause (paused on the source → resumed on the target), as libvirt measured it; null for a cold move or when the target would not say. */
  downtimeMs: Nullable(Type.Number()),
});
export type MoveAnswer = Static<typeof MoveAnswer>;
