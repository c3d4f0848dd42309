/**
 * stormd's wire types: the API it serves to the manager over mutual TLS (`/v1/...`), and the two
 * calls it makes to the manager (join, heartbeat). The manager imports these as types only.
 * Every error body is `{ code, message }` with a `STORMD_ERR_*` (or, from the manager, `MGR_ERR_*`) code.
 *
 * @example
 * const info: HostInfo = await (await fetchTls(`${hostUrl}/v1/host`)).json();
 */
import type { DomainState, StopOutcome } from './src/hypervisor/driver.js';

export type { DomainState, StopOutcome } from './src/hypervisor/driver.js';

export const STORMD_API_VERSION = 1;

/**
 * Most disks in one instance's stack: image layers + frozen writable layers + the current one. Each
 * is a virtio disk named vda…vdz; a define beyond this is refused (400 `STORMD_ERR_STACK_TOO_DEEP`):
 * merge frozen layers first.
 */
export const MAX_STACK_DEPTH = 26;

/** Lowercase hex sha256: how layers, kernels and initrds are named everywhere. */
export type Sha256 = string;

/** `GET /v1/host` */
export interface HostInfo {
  readonly hostId: string | null;
  readonly name: string;
  readonly version: string;
  readonly cpus: number;
  readonly memoryMiB: number;
  /** What the host could still give guests: physical free memory, or capacity minus allocations where the hypervisor has no real memory (test:///default). */
  readonly freeMemoryMiB: number;
  /** Sum of the memory of this host's running STORM domains. */
  readonly allocatedMemoryMiB: number;
  readonly hypervisor: { readonly uri: string; readonly domainType: string };
  /** Where this host takes live moves (`stormd --migration-uri`); absent: it takes none (instances move to it cold). */
  readonly migration?: HostMigration;
  /** Layer files (squashfs layers, kernels, initrds) held in the host's store. */
  readonly layers: readonly { readonly sha256: Sha256; readonly size: number }[];
  readonly instances: number;
}

/** How a source reaches this host for a live move: the fields of `MigrateInstanceRequest` that name the target. */
export interface HostMigration {
  /** This host's libvirtd as its peers' libvirtds reach it (`MigrateInstanceRequest.targetUri`). */
  readonly uri: string;
  /** `MigrateInstanceRequest.migrateUri`. */
  readonly memoryUri?: string;
  /** `MigrateInstanceRequest.disksUri`. */
  readonly disksUri?: string;
}

/** `PUT /v1/layers/:sha256`: fetch from the manager (over mutual TLS), check, store by hash. */
export interface StageLayerRequest {
  /** A manager URL, e.g. `https://manager:8443/api/v1/images/<sha256>/blob`. */
  readonly url: string;
  readonly size: number;
}

export interface StageLayerResponse {
  readonly sha256: Sha256;
  readonly size: number;
  /** False when the host already held the layer (nothing was fetched). */
  readonly staged: boolean;
}

/** A file seeded into the instance layer, by absolute guest path. */
export interface SeedFile {
  /** base64 of the file's bytes. */
  readonly contentBase64: string;
  readonly mode?: number;
}

/** `PUT /v1/instances/:id/layer`: create the instance's writable layer (409 when it exists). */
export interface CreateInstanceLayerRequest {
  readonly name: string;
  /** Extra guest files, e.g. `/etc/storm/token`; `/etc/storm/instance.json` is always written from id and name. */
  readonly files?: Readonly<Record<string, SeedFile>>;
  readonly sizeMiB?: number;
}

/** cloud-init NoCloud files, as cloud-init reads them (`cloud-seed.ts`). */
export interface CloudInitSeed {
  readonly metaData: string;
  readonly userData: string;
  /** Network configuration version 2. */
  readonly networkConfig?: string;
}

/**
 * `PUT /v1/instances/:id/disk`: a traditional instance's disk (201, answers `InstanceStatus`; 409
 * when it has one): a qcow2 overlay (w0, mode 0600) on the staged image `image` with its backing
 * format stated, grown to `sizeMiB`, and the cloud-init seed as an ISO 9660 disk labelled `cidata`.
 * The image must be staged (`PUT /v1/layers/:sha256`; 409 `STORMD_ERR_LAYER_NOT_STAGED`).
 */
export interface CreateImageDiskRequest {
  readonly name: string;
  readonly image: Sha256;
  readonly format: 'qcow2' | 'raw';
  /** Remembered with the disk: every define of the instance boots by it. Default bios. */
  readonly firmware?: 'bios' | 'uefi';
  readonly sizeMiB: number;
  readonly seed?: CloudInitSeed;
}

/** `PUT /v1/instances/:id/domain`: define (or redefine while off) the instance's domain. */
export interface DefineDomainRequest {
  readonly uuid: string;
  readonly memoryMiB: number;
  readonly vcpus: number;
  /** Staged kernel and initrd of the os layer; absent for a traditional instance (`image`). */
  readonly boot?: { readonly kernel: Sha256; readonly initrd: Sha256; readonly extraCmdline?: readonly string[] };
  /**
   * A traditional instance (its disk made by `PUT /disk`): firmware boots its current overlay, whose
   * backing chain holds its frozen overlays and the image; its seed ISO, if any, is a second disk.
   * `layers` and `frozen` are then empty.
   */
  readonly image?: { readonly firmware?: 'bios' | 'uefi' };
  /** Staged read-only layers, bottom (os) first; the instance's writable layers go on top. */
  readonly layers: readonly Sha256[];
  /**
   * Frozen writable layers of this instance (ids from `/writable-layers`), bottom first, attached
   * read-only above `layers`; the current writable layer is always the top disk. Absent: none.
   * Unknown ids: 404 `STORMD_ERR_WRITABLE_LAYER_NOT_FOUND` (`details.missing`); the current layer:
   * 409 `STORMD_ERR_LAYER_CURRENT`; `layers` + `frozen` + 1 above `MAX_STACK_DEPTH`: 400.
   */
  readonly frozen?: readonly string[];
  /**
   * Each NIC is pinned by libvirt's `clean-traffic` filter to its MAC and, when given, to `ip` (its
   * reserved address): frames with another source MAC or address never leave the guest's tap.
   */
  readonly nics: readonly { readonly mac: string; readonly bridge: string; readonly ip?: string }[];
  readonly metadata?: Readonly<Record<string, string>>;
}

// Live migration (docs/hosts.md "Live migration (host side)"): the manager stages the read-only
// layers on the target, `PUT /incoming` there, `POST /migrate` on the source with the XML the target
// answered; on failure `DELETE /v1/instances/:id` on the target removes what `/incoming` made.

/**
 * `PUT /v1/instances/:id/incoming` on the target: makes the instance folder and an empty current
 * writable layer of the source's id and virtual size (the migration fills it), checks the layers
 * and boot files are staged (404 `STORMD_ERR_LAYER_NOT_STAGED`, `details.missing`), and answers the
 * definition this host would write for `domain`. Only layered instances without frozen writable
 * layers (400). A folder with other writable layers, or a domain of that name: 409. Repeating the
 * same request answers the same. 200.
 */
export interface IncomingInstanceRequest {
  /** The instance's define, exactly as the source has it (`frozen` empty). */
  readonly domain: DefineDomainRequest;
  /** The source's current writable layer: id and virtual size (`GET /writable-layers`). */
  readonly writable: { readonly id: string; readonly virtualBytes: number };
}

export interface IncomingInstanceResponse {
  /** The target's persistent definition: the source passes it to `POST /migrate` unchanged. */
  readonly domainXml: string;
}

/**
 * `POST /v1/instances/:id/migrate` on the source: live-migrates the running domain peer to peer to
 * `targetUri` (the target's libvirtd as this host's libvirtd reaches it, e.g.
 * `qemu+tls://HOST/system`), copying only the writable disks; the guest keeps running throughout
 * but for the final pause (`downtimeMs`). On success the domain runs and is defined on the target
 * only, and this host's instance folder is gone. On failure (the guest still runs here): 502
 * `STORMD_ERR_LIBVIRT`/500 `STORMD_ERR_TOOL_FAILED` naming libvirt's reason. Not running: 409
 * `STORMD_ERR_DOMAIN_STATE`; data volumes attached: 409 `STORMD_ERR_VOLUME_IN_USE`.
 */
export interface MigrateInstanceRequest {
  /** `qemu+tls://`, `qemu+tcp://` or `qemu+unix://` of `/system`, parameters `socket` and `pkipath` only (400 otherwise). */
  readonly targetUri: string;
  /** `IncomingInstanceResponse.domainXml` from the target. */
  readonly domainXml: string;
  /** Where the target's QEMU takes the memory stream (`tcp://ADDR:PORT`, `unix:///path`); default: libvirt's choice (the target's hostname). */
  readonly migrateUri?: string;
  /** Where the target's NBD server takes the disks (`tcp://ADDR:PORT`, `unix:///path`); default: libvirt's choice. */
  readonly disksUri?: string;
  /** Bound of the whole migration (default 10 min); past it the job is aborted and the guest runs on here. */
  readonly timeoutMs?: number;
}

export interface MigrateInstanceResponse {
  /** The writable disks copied (target devs). */
  readonly copiedDisks: readonly string[];
  /** Paused on the source → resumed on the target, as libvirt measured it; null when the target would not say. */
  readonly downtimeMs: number | null;
  /** The whole migration, as this host timed it. */
  readonly totalMs: number;
}

export type InstanceAction = 'start' | 'stop' | 'reboot' | 'destroy';

/** `POST /v1/instances/:id/actions` */
export interface InstanceActionRequest {
  readonly action: InstanceAction;
  /** For stop and reboot: how long the guest gets to power off before it is forced. */
  readonly timeoutMs?: number;
}

export interface InstanceActionResponse {
  readonly state: DomainState;
  readonly outcome?: StopOutcome;
}

/**
 * `GET /v1/instances`, `GET /v1/instances/:id`: what the host holds for an instance. The list holds
 * every instance with a folder (layer) or a `storm-*` domain, so a layer without a domain and a
 * domain without a layer both show (the manager's reconcile sees drift).
 * `PUT /v1/instances/:id/layer` (201) and `PUT /v1/instances/:id/domain` (200) answer this too;
 * `DELETE /v1/instances/:id/domain` undefines (409 while running) and answers it;
 * `DELETE /v1/instances/:id` removes everything (destroy, undefine, delete the folder), idempotent, 204.
 */
export interface InstanceStatus {
  readonly id: string;
  readonly domain: string;
  /** `absent` when no domain is defined. */
  readonly state: DomainState | 'absent';
  /** The instance has a current writable layer (w0 from `PUT /layer`, or a later one). */
  readonly hasLayer: boolean;
  /** Bytes all its writable layers take on the host's disk (allocated, not virtual). */
  readonly layerBytes: number;
}

/** `GET /v1/instances/:id/console?bytes=N`: the end of the serial console log (N default 64 KiB, at most 1 MiB). */
export interface SerialTail {
  /** The last bytes as UTF-8; a character cut at the start shows as U+FFFD. Empty before the guest wrote anything. */
  readonly text: string;
  /** The whole log's size in bytes. */
  readonly size: number;
  /** Where `text` starts in the log. */
  readonly offset: number;
}

/**
 * `GET /v1/instances/:id/console/attach`, a WebSocket (the upgrade passes the same mutual-TLS
 * gate as every route): the running instance's serial port. Binary frames carry raw bytes both
 * ways, the guest's output out and keystrokes in; text frames are ignored. Before the upgrade a
 * refusal is an ordinary `{ code, message }` answer (404 unknown instance, 409
 * `STORMD_ERR_SERIAL_UNAVAILABLE` when not running or without a pty). Every attachment sees all
 * output; the manager decides who may write. stormd closes with `SERIAL_CLOSE_ENDED` and the
 * reason when the port goes (the domain stopped, stormd stops).
 */
export const SERIAL_ATTACH_PATH = (id: string) => `/instances/${id}/console/attach`;
/** Close code: the serial port ended; the reason says why. */
export const SERIAL_CLOSE_ENDED = 4000;
/** Close code: the port could not be attached after the upgrade (it went away meanwhile). */
export const SERIAL_CLOSE_UNAVAILABLE = 4009;

// ---- the instance's writable layers (checkpoint, rollback, upgrade, package) ----
// Layer 0 is made by `PUT /v1/instances/:id/layer`. Every later one starts empty; the one made last is
// the instance's current writable layer, every other is frozen: attached read-only, never written again.
// A merge result is frozen from birth and never becomes current. Ids are never reused, even after a delete.
// Unknown instance: 404 `STORMD_ERR_INSTANCE_NOT_FOUND`; unknown layer ids: 404
// `STORMD_ERR_WRITABLE_LAYER_NOT_FOUND` with `details.missing`; an id twice: 400.

/** One writable layer of an instance, `w0`, `w1`, …, in creation order. */
export interface WritableLayer {
  readonly id: string;
  /** Bytes it takes on the host's disk (allocated). */
  readonly bytes: number;
  /** Its size as the guest sees it (what a live migration's target creates it with). */
  readonly virtualBytes: number;
  readonly current: boolean;
}

/** `GET /v1/instances/:id/writable-layers`. */
export interface WritableLayers {
  readonly layers: readonly WritableLayer[];
}

/**
 * `POST /v1/instances/:id/writable-layers`: a new, empty writable layer becomes current (the previous
 * one is frozen from now on). The domain must be off (409 `STORMD_ERR_DOMAIN_STATE`). `files` seed it,
 * as at launch (a reprovision needs the instance's identity again); `sizeMiB` defaults to the current
 * layer's virtual size. Answers the new list (201).
 */
export interface NewWritableLayerRequest {
  readonly files?: Readonly<Record<string, SeedFile>>;
  /**
   * Absolute guest paths copied into the new layer from the instance's writable layers as they stand
   * (the newest layer holding each wins): a reprovision keeps the instance's identity this way.
   * "As they stand" is the defined domain's stack, top first (every layer, newest first, when no
   * domain is defined), read as its union would show it: a whiteout hides older versions, a
   * directory comes merged. Paths no layer holds are skipped; `files` are written on top.
   */
  readonly copyPaths?: readonly string[];
  readonly sizeMiB?: number;
  /**
   * A traditional instance (`PUT /disk`): the new layer is a qcow2 overlay on this layer (default the
   * current one: a checkpoint; an older frozen one: a rollback to it); `files`, `copyPaths` and
   * `sizeMiB` do not apply.
   */
  readonly on?: string;
}

// `DELETE /v1/instances/:id/writable-layers/:layerId`: removes a layer the defined domain does not use
// (409 STORMD_ERR_LAYER_IN_USE otherwise; the current one can go only when an older one becomes current
// again — the newest remaining layer is current). 204, also when absent.

/**
 * `POST /v1/instances/:id/writable-layers/merge`: several frozen layers (bottom first, contiguous in
 * the stack they are used in) become one new frozen layer with the same union, whiteouts and opaque
 * directories kept. The current layer is refused (409 `STORMD_ERR_LAYER_CURRENT`); so is a layer a
 * domain that is not off writes to (409 `STORMD_ERR_DOMAIN_STATE`), while frozen layers of a running
 * domain merge fine (nothing writes them). Answers the new layer (201); the old ones stay until deleted.
 */
export interface MergeLayersRequest {
  readonly layers: readonly string[];
}

/**
 * `POST /v1/instances/:id/packages`: the given writable layers (bottom first), merged, as one
 * reproducible squashfs layer, whiteouts and opaque directories kept, without the paths in `exclude`
 * (the instance's identity: token, instance.json, …). Answers where to fetch it (201); the manager
 * fetches `GET /v1/instances/:id/packages/:sha256` over mutual TLS (`application/octet-stream`;
 * 404 `STORMD_ERR_PACKAGE_NOT_FOUND`) and may then `DELETE` it (204, also when absent). A layer a
 * domain that is not off writes to is refused (409 `STORMD_ERR_DOMAIN_STATE`): stop it first.
 * A traditional instance (`PUT /disk`): the last of `layers` is flattened with its overlay chain
 * into one standalone qcow2 image, `exclude` scrubbed from its ext2/3/4 root in user space and
 * /etc/machine-id emptied (`image-scrub.ts`); a root e2fsck cannot repair is 422
 * `STORMD_ERR_LAYER_DAMAGED`, a disk with none 422 `STORMD_ERR_LAYER_UNSUPPORTED`.
 */
export interface PackageRequest {
  readonly layers: readonly string[];
  /** Absolute guest paths left out of the package (a traditional instance's: a last segment ending in `*` is a prefix). */
  readonly exclude?: readonly string[];
}

export interface PackageResponse {
  readonly sha256: Sha256;
  readonly size: number;
}

/** `DELETE /v1/layers/:sha256`: 204 (also when absent); 409 `STORMD_ERR_LAYER_IN_USE` while a defined domain uses it. */
export type RemoveLayerResponse = undefined;

// ---- volumes: data disks apart from the layer stack (stormd/src/volumes/) ----
// A volume is `<data>/volumes/<name>.qcow2`, ext4 on the whole disk from birth (formatted on the host
// while it is a fresh blank file, so no guest needs mkfs). It outlives every instance: removing an
// instance only ends its attachments. An instance's attachments are kept in its folder, and every
// define of its domain (launch, each lifecycle operation, a comeback) adds them as virtio disks after
// the layer stack with `<serial>` set, so the guest finds one at `/sys/block/vd*/serial`
// (`/dev/disk/by-id/virtio-<serial>` where udev runs). Names: `^[a-z0-9][a-z0-9-]{0,31}$`.

/** Most volumes attached to one instance (targets vdaa…vdaz, after the stack's vda…vdz). */
export const MAX_VOLUMES_PER_INSTANCE = 26;

/** `PUT /v1/volumes/:name`: a new volume (201); 409 `STORMD_ERR_VOLUME_EXISTS` when the file exists. */
export interface CreateVolumeRequest {
  readonly sizeMiB: number;
}

/** `GET /v1/volumes` (a list of these), `PUT /v1/volumes/:name`. */
export interface VolumeStatus {
  readonly name: string;
  /** Virtual size. */
  readonly sizeMiB: number;
  /** Bytes it takes on the host's disk (allocated). */
  readonly bytes: number;
  /** Instances on this host that list it as attached. */
  readonly attachedTo: readonly string[];
}

// `DELETE /v1/volumes/:name`: 204, also when absent; 409 `STORMD_ERR_VOLUME_IN_USE` while an instance lists it.

/**
 * `PUT /v1/instances/:id/volumes/:name`: attach (idempotent). Recorded in the instance's folder
 * first; then, when its domain is defined, added to its config, and while it runs hot-plugged too
 * (`live: true` in the answer; a guest that refuses the hot-plug gets it at its next start, `live: false`). Unknown volume 404 `STORMD_ERR_VOLUME_NOT_FOUND`; attached to
 * another instance 409 `STORMD_ERR_VOLUME_IN_USE`; more than `MAX_VOLUMES_PER_INSTANCE` 400.
 * `DELETE /v1/instances/:id/volumes/:name`: detach (hot-unplug while running), 204, also when not attached.
 */
export interface AttachVolumeRequest {
  /** What the guest sees as the disk's serial: at most 20 characters of `[A-Za-z0-9_.-]` (virtio-blk's limit). */
  readonly serial: string;
}

export interface AttachVolumeResponse {
  readonly name: string;
  readonly serial: string;
  /** True when the running guest got it now; false: it gets it at its next start. */
  readonly live: boolean;
}

// ---- calls stormd makes to the manager ----
// `GET <manager>/api/v1/pki/ca` answers the CA certificate as PEM; a joining host reads it before
// it trusts anything and compares its sha256 with the token's fingerprint.
// `GET <manager>/api/v1/pki/crl` answers the current CRL as PEM (over TLS verified against the CA; it must
// not need a client certificate, so a host with a stale CRL can always fetch a fresh one).

/** `POST <manager>/api/v1/hosts/join` (over TLS verified against the CA whose fingerprint the token carries). */
export interface JoinRequest {
  readonly token: string;
  /** PEM PKCS#10 request for the host's key. */
  readonly csr: string;
  /** The host's name: its certificate's SAN and the name the manager dials. */
  readonly name: string;
  /** The URL the manager reaches stormd at, e.g. `https://host1:9443`. */
  readonly url: string;
}

export interface JoinResponse {
  readonly hostId: string;
  readonly certificate: string;
  readonly caCertificate: string;
  readonly crl: string;
  /** The manager's name, for logs: stormd accepts the manager by its role and key, never by name. */
  readonly managerName: string;
  /** The manager's client certificate (PEM, manager role): stormd pins its key (`publicKeyPin`). */
  readonly managerCertificate: string;
}

/**
 * `POST <manager>/api/v1/hosts/renew` (with the host's current client certificate): a certificate
 * for a new key, same names. The current one keeps working until the host first presents the new
 * one; then the manager revokes the old.
 */
export interface RenewRequest {
  /** PEM PKCS#10 request for the host's new key. */
  readonly csr: string;
}

export interface RenewResponse {
  readonly certificate: string;
}

/** `POST <manager>/api/v1/hosts/heartbeat` (with the host's client certificate). */
export interface HeartbeatRequest {
  /** Null while libvirt does not answer: the manager keeps the figures it had. */
  readonly info: HostInfo | null;
  /** Null while libvirt does not answer: the states are unknown, not gone. */
  readonly instances: readonly InstanceStatus[] | null;
  /** The host's checks, run for this heartbeat; absent from a stormd older than them. */
  readonly health?: HostHealth;
  /** The number of the CRL the host holds; the answer carries the manager's CRL when it is newer. */
  readonly crlNumber?: number;
}

/**
 * One check stormd runs on its host (`stormd/src/health/`): `libvirt` (the hypervisor answers),
 * `store-access` (libvirt's qemu user opens files in the store), `kvm` (that user opens /dev/kvm),
 * `define-time` (defines take milliseconds, not tens of seconds). Any `fail` makes the host degraded.
 */
export interface HealthCheck {
  readonly name: string;
  /** `skip`: does not apply here (e.g. no QEMU under test:///default), or could not be checked; said why in `message`. */
  readonly status: 'ok' | 'fail' | 'skip';
  /** What was found, naming the path, account or call. */
  readonly message: string;
  /** What the administrator can do about a failure. */
  readonly fix?: string;
}

export interface HostHealth {
  /** ISO time the checks started: a change made before it is in them. */
  readonly checkedAt: string;
  readonly checks: readonly HealthCheck[];
}

/** `GET /v1/activity`: what the host is doing now, longest first (the manager asks when a call runs long). */
export interface HostActivity {
  readonly tasks: readonly { readonly what: string; readonly forMs: number }[];
}

export interface HeartbeatResponse {
  /** When to send the next one. */
  readonly intervalMs: number;
  /** The manager's current CRL number. */
  readonly crlNumber: number;
  /** The manager's current CRL (PEM), when the request's `crlNumber` was older or absent; stormd checks and loads it (else fetches `/api/v1/pki/crl`). */
  readonly crl?: string;
}

export interface ErrorBody {
  readonly code: string;
  readonly message: string;
}

/**
 * `GET /v1/instances/:id/files`: the files that carry an instance's own state (its writable layers
 * `writable/w<N>.qcow2` and `writable/w<N>.merged.qcow2`, `writable/next-id`, a legacy
 * `instance.qcow2`), each with its size and sha256 read from the disk: what a cold move copies
 * (`GET /v1/instances/:id/file?path=…` streams one, `PUT` the same URL with `sha256` and `size`
 * receives one, verified before it takes its place). The instance must be off while it is read.
 */
export interface InstanceFileEntry {
  /** Relative to the instance's folder: `writable/w0.qcow2`, `writable/next-id`, `instance.qcow2`. */
  readonly path: string;
  readonly size: number;
  readonly sha256: string;
}

export interface InstanceFiles {
  readonly files: readonly InstanceFileEntry[];
}

/** `PUT /v1/instances/:id/file?path=…&sha256=…&size=…` (body: the bytes, application/octet-stream): 201 once they matched and took their place. */
export interface ReceiveFileQuery {
  readonly path: string;
  readonly sha256: string;
  readonly size: number;
}
