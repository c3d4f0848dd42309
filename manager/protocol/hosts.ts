/**
 * Hosts. Administrator: `POST /api/v1/hosts/tokens` (an enrolment token and the command to run on
 * the host; 201), `GET /api/v1/hosts/tokens`, `GET /api/v1/hosts`, `GET /api/v1/hosts/:id`,
 * `DELETE /api/v1/hosts/:id` (revoke), `POST /api/v1/hosts/:id/pki-bundle` (libvirt's TLS files),
 * `POST /api/v1/hosts/:id/drain`, `…/undrain`, `…/evacuate`, `…/declare-dead`, and `PUT`/`DELETE
 * /api/v1/hosts/:id/fence` (the command run before a declaration; docs/hosts.md).
 * stormd: `POST /api/v1/hosts/join` (the token is the credential), `POST /api/v1/hosts/heartbeat` and
 * `POST /api/v1/hosts/renew` (its client certificate is). The bodies stormd sends are
 * `stormd/protocol.ts`'s `JoinRequest`, `HeartbeatRequest` and `RenewRequest`; the manager checks at
 * compile time that these schemas say the same.
 */
import Type, { type Static } from 'typebox';
import { IsoTime, List, Nullable, OneOf, Sha256 } from './common.js';

/** One check stormd runs on its host (`libvirt`, `store-access`, `kvm`, `define-time`); any `fail` makes it degraded. */
export const HealthCheck = Type.Object({
  name: Type.String(),
  /** `skip`: does not apply here, or could not be checked; `message` says why. */
  status: OneOf(['ok', 'fail', 'skip']),
  message: Type.String(),
  /** What the administrator can do about a failure. */
  fix: Type.Optional(Type.String()),
});

/** The checks of one heartbeat. */
export const HostHealth = Type.Object({ checkedAt: IsoTime, checks: List(HealthCheck) });
export type HostHealth = Static<typeof HostHealth>;

export const HostView = Type.Object({
  id: Type.String(),
  name: Type.String(),
  url: Type.String(),
  /**
   * `degraded`: it heartbeats, but one of its checks fails (see `health`); it takes no launches.
   * `unreachable`: silent past the failure window; its instances are `unknown`, never started elsewhere.
   * `dead`: declared so by the administrator (`declare-dead`); it stays dead, and drained, until undrained.
   */
  status: OneOf(['new', 'ready', 'degraded', 'unreachable', 'dead', 'revoked']),
  /** Drained: placement never picks it (`storm host drain`, `evacuate`, `declare-dead`; `undrain` ends it). */
  drained: Type.Boolean(),
  drainedAt: Nullable(IsoTime),
  /** When it was declared dead; null when it is not dead. */
  deadAt: Nullable(IsoTime),
  /** The command the manager runs before declaring it dead; null without one. */
  fence: Nullable(Type.Object({ argv: List(Type.String()), timeoutSeconds: Type.Integer() })),
  lastHeartbeat: Nullable(IsoTime),
  /** Why it is not ready: no heartbeat (unreachable), or its failing checks (degraded). */
  lastError: Nullable(Type.String()),
  cpus: Nullable(Type.Integer()),
  memoryMiB: Nullable(Type.Number()),
  freeMemoryMiB: Nullable(Type.Number()),
  allocatedMemoryMiB: Nullable(Type.Number()),
  hypervisor: Type.Object({ uri: Nullable(Type.String()), domainType: Nullable(Type.String()) }),
  /** Where it takes live moves (`stormd --migration-uri`, and where its QEMU takes memory and disks); null: it takes none, instances move to it cold. */
  migration: Nullable(Type.Object({ uri: Type.String(), memoryUri: Nullable(Type.String()), disksUri: Nullable(Type.String()) })),
  /** The certificate in use: its expiry (null if it joined before that was recorded), and whether a renewed one awaits first use. */
  certificate: Type.Object({ serial: Type.String(), notAfter: Nullable(IsoTime), renewalPending: Type.Boolean() }),
  /** The checks of its last heartbeat; null before the first (or from a stormd without checks). */
  health: Nullable(HostHealth),
  createdAt: IsoTime,
});
export type HostView = Static<typeof HostView>;

export const HostList = Type.Object({ hosts: List(HostView) });
export type HostList = Static<typeof HostList>;

/** A host by id or name. */
export const HostParams = Type.Object({ id: Type.String({ minLength: 1, maxLength: 253 }) });

/** The fence command: argv (no shell unless it is the argv's own), run by the manager with a timeout. */
export const FenceBody = Type.Object(
  {
    argv: List(Type.String({ minLength: 1, maxLength: 4096 }), { maxItems: 64 }),
    /** How long it may run before it is killed and counts as failed: 30 s unless said. */
    timeoutSeconds: Type.Optional(Type.Integer({ minimum: 1, maximum: 600 })),
  },
  { additionalProperties: false },
);
export type FenceBody = Static<typeof FenceBody>;

export const EvacuateBody = Type.Object(
  {
    /** A running instance that cannot move live may be stopped, moved cold and started again. */
    allowRestart: Type.Optional(Type.Boolean()),
  },
  { additionalProperties: false },
);

/** What an evacuation did, instance by instance, in the order it went. */
export const EvacuationReport = Type.Object({
  host: HostView,
  moved: List(Type.Object({ name: Type.String(), to: Type.String() })),
  failed: List(Type.Object({ name: Type.String(), error: Type.String() })),
  /** Left where they are, and why (mid-operation, lost): evacuate again once they settled. */
  skipped: List(Type.Object({ name: Type.String(), reason: Type.String() })),
});
export type EvacuationReport = Static<typeof EvacuationReport>;

/** An instance of a dead host and what it lost with it. */
export const LostInstance = Type.Object({
  id: Type.String(),
  name: Type.String(),
  /** Its state before the declaration (`unknown`, mostly). */
  was: Type.String(),
  /** What lived only on the dead host: its writable layers, its checkpoints' layers, its volumes. */
  lost: List(Type.String()),
});

/** What declaring a host dead did. */
export const DeathReport = Type.Object({
  host: HostView,
  /** The fence command's run, or null when the host has none. */
  fence: Nullable(Type.Object({ argv: List(Type.String()), exitCode: Type.Integer(), output: Type.String() })),
  /** Instances with a copy on another host (a replica), restarted there from it; `restarted` says whether, `error` why not. */
  recoverable: List(
    Type.Object({
      id: Type.String(),
      name: Type.String(),
      copyOn: Type.String(),
      restarted: Type.Optional(Type.Boolean()),
      error: Type.Optional(Type.String()),
    }),
  ),
  /** Instances now `lost`, with what was lost. */
  lost: List(LostInstance),
  /** Volumes of the host attached to no instance: lost too. */
  volumesLost: List(Type.String()),
});
export type DeathReport = Static<typeof DeathReport>;

/** Undrain: the host, and for a dead one that came back the stale domains removed from it first. */
export const UndrainAnswer = Type.Object({ host: HostView, staleRemoved: List(Type.String()) });
export type UndrainAnswer = Static<typeof UndrainAnswer>;

/** How long the token stays valid: an hour unless said. */
export const TokenBody = Type.Object(
  { ttlSeconds: Type.Optional(Type.Integer({ minimum: 1, maximum: 7 * 86_400 })) },
  { additionalProperties: false },
);

/** A new enrolment token: shown once, single-use; `command` is what to run on the host. */
export const TokenCreated = Type.Object({
  id: Type.String(),
  token: Type.String(),
  expiresAt: IsoTime,
  /** The CA's fingerprint, also inside the token: the joining host trusts only this manager. */
  caFingerprint: Type.String(),
  command: Type.String(),
});
export type TokenCreated = Static<typeof TokenCreated>;

export const TokenView = Type.Object({
  id: Type.String(),
  createdAt: IsoTime,
  expiresAt: IsoTime,
  usedAt: Nullable(IsoTime),
  usedByHost: Nullable(Type.String()),
});
export type TokenView = Static<typeof TokenView>;

export const TokenList = Type.Object({ tokens: List(TokenView) });

/** A certificate the manager issued, for the caller to record (and later revoke). */
export const IssuedCertificate = Type.Object({
  certPem: Type.String(),
  serial: Type.String(),
  notBefore: IsoTime,
  notAfter: IsoTime,
  /** `sha256:<hex>` of the DER. */
  fingerprint: Type.String(),
});
export type IssuedCertificate = Static<typeof IssuedCertificate>;

/** libvirtd's TLS files for a host (fresh keys), in PEM; `storm host pki-bundle` writes them. */
export const LibvirtBundle = Type.Object({
  cacert: Type.String(),
  cacrl: Type.Optional(Type.String()),
  servercert: Type.String(),
  serverkey: Type.String(),
  clientcert: Type.String(),
  clientkey: Type.String(),
  issued: Type.Object({ server: IssuedCertificate, client: IssuedCertificate }),
});
export type LibvirtBundle = Static<typeof LibvirtBundle>;

// ---- what stormd sends ----

export const JoinBody = Type.Object(
  {
    token: Type.String({ maxLength: 200 }),
    /** PEM PKCS#10 request for the host's key. */
    csr: Type.String({ maxLength: 16 * 1024 }),
    name: Type.String({ maxLength: 253 }),
    url: Type.String({ maxLength: 300 }),
  },
  { additionalProperties: false },
);

export const JoinAnswer = Type.Object({
  hostId: Type.String(),
  certificate: Type.String(),
  caCertificate: Type.String(),
  crl: Type.String(),
  /** The manager's name, for logs: stormd accepts the manager by its role and key, never by name. */
  managerName: Type.String(),
  /** The manager's client certificate (PEM, manager role): stormd pins its key. */
  managerCertificate: Type.String(),
});

export const RenewBody = Type.Object({ csr: Type.String({ maxLength: 16 * 1024 }) }, { additionalProperties: false });
export const RenewAnswer = Type.Object({ certificate: Type.String() });

const DomainState = OneOf(['running', 'paused', 'shutting-down', 'shutoff', 'crashed', 'suspended', 'unknown']);

/** What a host holds (stormd's `HostInfo`); fields a newer stormd adds are let through. */
export const HeartbeatHostInfo = Type.Object({
  hostId: Nullable(Type.String()),
  name: Type.String(),
  version: Type.String(),
  cpus: Type.Number(),
  memoryMiB: Type.Number(),
  freeMemoryMiB: Type.Number(),
  allocatedMemoryMiB: Type.Number(),
  hypervisor: Type.Object({ uri: Type.String(), domainType: Type.String() }),
  migration: Type.Optional(
    Type.Object({ uri: Type.String(), memoryUri: Type.Optional(Type.String()), disksUri: Type.Optional(Type.String()) }),
  ),
  layers: List(Type.Object({ sha256: Sha256, size: Type.Number() })),
  instances: Type.Number(),
});

/** One instance as a host sees it (stormd's `InstanceStatus`). */
export const HeartbeatInstance = Type.Object({
  id: Type.String(),
  domain: Type.String(),
  state: Type.Union([DomainState, Type.Literal('absent')]),
  hasLayer: Type.Boolean(),
  layerBytes: Type.Number(),
});

/** Null `info` or `instances`: libvirt did not answer, so the manager keeps what it knew. */
export const HeartbeatBody = Type.Object({
  info: Nullable(HeartbeatHostInfo),
  instances: Nullable(List(HeartbeatInstance)),
  /** Absent from a stormd older than the checks. */
  health: Type.Optional(HostHealth),
  /** The number of the CRL the host holds; absent from a stormd older than CRLs in heartbeat answers. */
  crlNumber: Type.Optional(Type.Integer({ minimum: 0 })),
});

export const HeartbeatAnswer = Type.Object({
  /** When to send the next one. */
  intervalMs: Type.Integer(),
  /** The manager's current CRL number. */
  crlNumber: Type.Integer(),
  /** The manager's current CRL (PEM), when the host's was older or unknown; else stormd fetches `/api/v1/pki/crl` if the number is newer. */
  crl: Type.Optional(Type.String()),
});
