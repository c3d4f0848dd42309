/**
 * The manager's client of one stormd: mutual TLS (the manager's client certificate; the host's
 * certificate must chain to our CA and name the host we dialled), JSON per `stormd/protocol.ts`.
 * Each call names what it asks the host to do, and its failures say which way it failed:
 * `MGR_ERR_HOST_UNREACHABLE` only when no connection opens (refused, or none within 10 s);
 * `MGR_ERR_HOST_TIMEOUT` when the host took the call and did not answer in time, with what it
 * said it was doing (`GET /v1/activity`); `MGR_ERR_HOST` for a refused TLS handshake, a dropped
 * connection, or stormd's own `{ code, message }` (its code kept in `details.hostCode`).
 *
 * @example
 * const host = new HostClient('https://10.0.0.5:9443', trust.dialOptions('10.0.0.5'), 'host-1');
 * const info = await host.info();
 * await host.defineDomain(id, req); // MGR_ERR_HOST_TIMEOUT: "host host-1 took longer than 30 s to define domain storm-i-…; it was …"
 */
import https from 'node:https';
import type { ConnectionOptions, TLSSocket } from 'node:tls';
import type {
  AttachVolumeRequest,
  AttachVolumeResponse,
  CreateVolumeRequest,
  CreateImageDiskRequest,
  SerialTail,
  CreateInstanceLayerRequest,
  DefineDomainRequest,
  HostActivity,
  HostInfo,
  InstanceActionRequest,
  InstanceActionResponse,
  InstanceFileEntry,
  InstanceFiles,
  IncomingInstanceRequest,
  IncomingInstanceResponse,
  InstanceStatus,
  MergeLayersRequest,
  MigrateInstanceRequest,
  MigrateInstanceResponse,
  NewWritableLayerRequest,
  PackageRequest,
  PackageResponse,
  StageLayerRequest,
  StageLayerResponse,
  WritableLayer,
  WritableLayers,
  VolumeStatus,
} from '../../../stormd/protocol.js';
import type { StormError } from '../../../common/errors.js';
import { parseAnswer } from '../../../common/wire-json.js';
import { MgrErr } from '../errors.js';
import { describeActivity } from './host-activity.js';
import { openHostSerial } from './host-serial.js';

const DEFAULT_TIMEOUT_MS = 30_000;
/** Staging fetches a whole layer from us; give it time proportional to big layers. */
const STAGE_TIMEOUT_MS = 30 * 60_000;
/** stormd's own bound of a live migration when the request sets none (`MigrateInstanceRequest.timeoutMs`). */
const MIGRATE_BOUND_MS = 10 * 60_000;
/** A host that opens no connection in this time does not answer at all. */
const CONNECT_TIMEOUT_MS = 10_000;
/** How long a host that timed out gets to say what it is doing. */
const ACTIVITY_TIMEOUT_MS = 3000;
/**
 * An idle kept-alive connection closes after this: under stormd's 5 s (node's keepAliveTimeout,
 * announced as `Keep-Alive: timeout=5`), so we never send on a socket the host is closing.
 */
const IDLE_SOCKET_MS = 4000;

export interface HostClientTimeouts {
  readonly connectMs?: number;
  /** Calls that answer at once (define, status, console): 30 s. */
  readonly defaultMs?: number;
  /** Calls that move whole layers (stage, merge, package): 30 min. */
  readonly stageMs?: number;
}

export class HostClient {
  private readonly base: URL;
  private readonly connectMs: number;
  private readonly defaultMs: number;
  private readonly stageMs: number;
  /** Kept-alive connections: a launch's calls share a TLS session instead of a handshake (and a key load) each. */
  private readonly agent: https.Agent;

  constructor(
    url: string,
    private readonly tls: ConnectionOptions,
    private readonly label = url,
    timeouts: HostClientTimeouts = {},
  ) {
    this.base = new URL(url);
    this.connectMs = timeouts.connectMs ?? CONNECT_TIMEOUT_MS;
    this.defaultMs = timeouts.defaultMs ?? DEFAULT_TIMEOUT_MS;
    this.stageMs = timeouts.stageMs ?? STAGE_TIMEOUT_MS;
    this.agent = new https.Agent({ keepAlive: true, timeout: IDLE_SOCKET_MS });
  }

  /** `what` completes "host X took longer than N s to …" and "host X could not …". */
  private async call<T>(what: string, method: string, path: string, body?: unknown, timeoutMs = this.defaultMs): Promise<T> {
    try {
      return (await this.request(method, path, body, timeoutMs, what)) as T;
    } catch (err) {
      if (!(err instanceof TimedOut)) throw err;
      const doing = await this.activity().then(
        describeActivity,
        (e: unknown) => `it did not answer GET /v1/activity either (${e instanceof Error ? e.message : String(e)})`,
      );
      throw MgrErr.MGR_ERR_HOST_TIMEOUT(
        `host ${this.label} took longer than ${seconds(timeoutMs)} to ${what} (${method} ${path}); ${doing}`,
        { details: { call: `${method} ${path}` } },
      );
    }
  }

  /** What the host is doing now; its own short bound, never a TimedOut. */
  activity(): Promise<HostActivity> {
    return this.request('GET', '/activity', undefined, ACTIVITY_TIMEOUT_MS, 'say what it is doing').then(
      (v) => v as HostActivity,
      (err: unknown) => {
        throw err instanceof TimedOut ? new Error(`no answer within ${seconds(ACTIVITY_TIMEOUT_MS)}`) : err;
      },
    );
  }

  private request(method: string, path: string, body: unknown, timeoutMs: number, what: string): Promise<unknown> {
    const payload = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
    return new Promise<unknown>((resolve, reject) => {
      let phase: 'connecting' | 'handshake' | 'open' = 'connecting';
      const req = https.request(new URL(`/v1${path}`, this.base), {
        method,
        ...this.tls,
        agent: this.agent,
        headers: {
          accept: 'application/json',
          ...(payload ? { 'content-type': 'application/json', 'content-length': payload.length } : {}),
        },
      });
      const fail = (err: Error) => {
        clearTimeout(connectTimer);
        clearTimeout(answerTimer);
        req.destroy();
        reject(err);
      };
      const connectTimer = setTimeout(() => {
        if (phase === 'connecting') fail(this.unreachable(`no connection within ${seconds(this.connectMs)}`));
      }, this.connectMs);
      const answerTimer = setTimeout(() => {
        if (phase === 'open') fail(new TimedOut());
        else fail(this.unreachable(`${phase === 'connecting' ? 'no connection' : 'no TLS session'} within ${seconds(timeoutMs)}`));
      }, timeoutMs);
      req.on('socket', (socket: TLSSocket) => {
        // A kept-alive connection is past its handshake: the call is the host's from now on.
        if (req.reusedSocket) {
          phase = 'open';
          return;
        }
        socket.once('connect', () => (phase = 'handshake'));
        socket.once('secureConnect', () => (phase = 'open'));
      });
      req.on('error', (err: NodeJS.ErrnoException) => {
        const why = err.code ? `${err.code}: ${err.message}` : err.message;
        if (phase === 'connecting') fail(this.unreachable(why, err));
        else if (phase === 'handshake')
          fail(MgrErr.MGR_ERR_HOST(`host ${this.label} (${this.base.origin}) failed the TLS handshake: ${why}`, { cause: err }));
        else
          fail(
            MgrErr.MGR_ERR_HOST(`host ${this.label} dropped the connection while asked to ${what} (${method} ${path}): ${why}`, {
              cause: err,
            }),
          );
      });
      req.on('response', (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('error', (err) =>
          fail(MgrErr.MGR_ERR_HOST(`host ${this.label} dropped its answer to ${method} ${path}: ${err.message}`, { cause: err })),
        );
        res.on('end', () => {
          clearTimeout(connectTimer);
          clearTimeout(answerTimer);
          const { json, error } = parseAnswer(res.statusCode ?? 0, Buffer.concat(chunks).toString('utf8'));
          if (error)
            return reject(
              MgrErr.MGR_ERR_HOST(`${this.label} could not ${what}: ${error.code ?? `HTTP ${error.status}`}: ${error.message}`, {
                details: { hostCode: error.code ?? null, hostStatus: error.status },
              }),
            );
          resolve(json);
        });
      });
      req.end(payload);
    });
  }

  private unreachable(why: string, cause?: unknown): StormError {
    return MgrErr.MGR_ERR_HOST_UNREACHABLE(
      `host ${this.label} does not answer at ${this.base.origin}: ${why}`,
      cause === undefined ? {} : { cause },
    );
  }

  volumes(): Promise<VolumeStatus[]> {
    return this.call('list volumes', 'GET', '/volumes');
  }

  createVolume(name: string, req: CreateVolumeRequest): Promise<VolumeStatus> {
    return this.call(`create volume ${name}`, 'PUT', `/volumes/${encodeURIComponent(name)}`, req, this.stageMs);
  }

  removeVolume(name: string): Promise<void> {
    return this.call(`remove volume ${name}`, 'DELETE', `/volumes/${encodeURIComponent(name)}`);
  }

  attachVolume(id: string, name: string, req: AttachVolumeRequest): Promise<AttachVolumeResponse> {
    return this.call(
      `attach volume ${name} to storm-${id}`,
      'PUT',
      `/instances/${encodeURIComponent(id)}/volumes/${encodeURIComponent(name)}`,
      req,
    );
  }

  detachVolume(id: string, name: string): Promise<void> {
    return this.call(
      `detach volume ${name} from storm-${id}`,
      'DELETE',
      `/instances/${encodeURIComponent(id)}/volumes/${encodeURIComponent(name)}`,
    );
  }

  info(): Promise<HostInfo> {
    return this.call('report its figures', 'GET', '/host');
  }

  stageLayer(sha256: string, req: StageLayerRequest): Promise<StageLayerResponse> {
    return this.call(`stage layer ${sha256.slice(0, 12)}`, 'PUT', `/layers/${sha256}`, req, this.stageMs);
  }

  removeLayer(sha256: string): Promise<void> {
    return this.call(`remove layer ${sha256.slice(0, 12)}`, 'DELETE', `/layers/${sha256}`);
  }

  createInstanceLayer(id: string, req: CreateInstanceLayerRequest): Promise<InstanceStatus> {
    return this.call(`create the writable layer of ${id}`, 'PUT', `/instances/${id}/layer`, req);
  }

  createImageDisk(id: string, req: CreateImageDiskRequest): Promise<InstanceStatus> {
    return this.call(`make the disk of ${id}`, 'PUT', `/instances/${id}/disk`, req);
  }

  defineDomain(id: string, req: DefineDomainRequest): Promise<InstanceStatus> {
    return this.call(`define domain storm-${id}`, 'PUT', `/instances/${id}/domain`, req);
  }

  undefineDomain(id: string): Promise<InstanceStatus> {
    return this.call(`undefine domain storm-${id}`, 'DELETE', `/instances/${id}/domain`);
  }

  action(id: string, req: InstanceActionRequest): Promise<InstanceActionResponse> {
    return this.call(`${req.action} domain storm-${id}`, 'POST', `/instances/${id}/actions`, req, (req.timeoutMs ?? 60_000) + 30_000);
  }

  instances(): Promise<InstanceStatus[]> {
    return this.call('list its instances', 'GET', '/instances');
  }

  instance(id: string): Promise<InstanceStatus> {
    return this.call(`report instance ${id}`, 'GET', `/instances/${id}`);
  }

  serial(id: string, bytes?: number): Promise<SerialTail> {
    return this.call(`read the console of ${id}`, 'GET', `/instances/${id}/console${bytes ? `?bytes=${bytes}` : ''}`);
  }

  /** The instance's serial port as an open WebSocket (raw bytes both ways; see `host-serial.ts`). */
  attachSerial(id: string): Promise<import('ws').WebSocket> {
    return openHostSerial(this.base, this.tls, this.label, id, this.connectMs);
  }

  /** On a live move's target: the instance's folder and empty writable layer made, the definition it will take answered. */
  prepareIncoming(id: string, req: IncomingInstanceRequest): Promise<IncomingInstanceResponse> {
    return this.call(`ready ${id} for a live move here`, 'PUT', `/instances/${id}/incoming`, req, 120_000);
  }

  /** On a live move's source: the running domain migrated to the target; waits past the host's own bound of the migration. */
  migrateInstance(id: string, req: MigrateInstanceRequest): Promise<MigrateInstanceResponse> {
    return this.call(
      `live-move ${id} to ${req.targetUri}`,
      'POST',
      `/instances/${id}/migrate`,
      req,
      (req.timeoutMs ?? MIGRATE_BOUND_MS) + 60_000,
    );
  }

  writableLayers(id: string): Promise<WritableLayers> {
    return this.call(`list the writable layers of ${id}`, 'GET', `/instances/${id}/writable-layers`);
  }

  /** A new, empty current writable layer (the previous one is frozen from now on). */
  newWritableLayer(id: string, req: NewWritableLayerRequest): Promise<WritableLayers> {
    return this.call(`add a writable layer to ${id}`, 'POST', `/instances/${id}/writable-layers`, req, 120_000);
  }

  removeWritableLayer(id: string, layerId: string): Promise<void> {
    return this.call(`remove writable layer ${layerId} of ${id}`, 'DELETE', `/instances/${id}/writable-layers/${layerId}`);
  }

  mergeLayers(id: string, req: MergeLayersRequest): Promise<WritableLayer> {
    return this.call(`merge writable layers of ${id}`, 'POST', `/instances/${id}/writable-layers/merge`, req, this.stageMs);
  }

  buildPackage(id: string, req: PackageRequest): Promise<PackageResponse> {
    return this.call(`package writable layers of ${id}`, 'POST', `/instances/${id}/packages`, req, this.stageMs);
  }

  /** Streams a built package: resolves with the response body for the caller to consume. */
  packageStream(id: string, sha256: string): Promise<import('node:http').IncomingMessage> {
    return new Promise((resolve, reject) => {
      const req = https.request(new URL(`/v1/instances/${id}/packages/${sha256}`, this.base), {
        method: 'GET',
        ...this.tls,
        agent: false,
        timeout: STAGE_TIMEOUT_MS,
      });
      req.on('error', (err) =>
        reject(
          MgrErr.MGR_ERR_HOST(`host ${this.label} could not send package ${sha256.slice(0, 12)} of ${id}: ${err.message}`, { cause: err }),
        ),
      );
      req.on('response', (res) => {
        if ((res.statusCode ?? 0) !== 200) {
          res.resume();
          return reject(MgrErr.MGR_ERR_HOST(`${this.label}: package ${sha256} answered ${res.statusCode}`));
        }
        resolve(res);
      });
      req.end();
    });
  }

  /** The instance's own files (writable layers, their mark), with sizes and sha256: what a cold move copies. */
  instanceFiles(id: string): Promise<InstanceFiles> {
    return this.call(`list the files of ${id}`, 'GET', `/instances/${id}/files`, undefined, this.stageMs);
  }

  /** The instance's frozen writable layers only, also while it runs: what a replica copies. */
  frozenInstanceFiles(id: string): Promise<InstanceFiles> {
    return this.call(`list the frozen layers of ${id}`, 'GET', `/instances/${id}/frozen-files`, undefined, this.stageMs);
  }

  /** One of the instance's files as a stream (the response body, for the caller to consume). */
  openInstanceFile(id: string, path: string): Promise<import('node:http').IncomingMessage> {
    return new Promise((resolve, reject) => {
      const req = https.request(new URL(`/v1/instances/${id}/file?path=${encodeURIComponent(path)}`, this.base), {
        method: 'GET',
        ...this.tls,
        agent: false,
        timeout: this.stageMs,
      });
      req.on('error', (err) =>
        reject(MgrErr.MGR_ERR_HOST(`host ${this.label} could not send ${path} of ${id}: ${err.message}`, { cause: err })),
      );
      req.on('response', (res) => {
        if ((res.statusCode ?? 0) === 200) return resolve(res);
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const { error } = parseAnswer(res.statusCode ?? 0, Buffer.concat(chunks).toString('utf8'));
          reject(
            MgrErr.MGR_ERR_HOST(
              `${this.label} could not send ${path} of ${id}: ${error?.code ?? `HTTP ${res.statusCode}`}: ${error?.message ?? ''}`,
              {
                details: { hostCode: error?.code ?? null, hostStatus: res.statusCode ?? 0 },
              },
            ),
          );
        });
      });
      req.end();
    });
  }

  /** Streams `body` into the instance's file `want.path`; the host keeps it only when its size and sha256 are `want`'s. */
  receiveInstanceFile(id: string, want: InstanceFileEntry, body: NodeJS.ReadableStream): Promise<InstanceFileEntry> {
    const q = new URLSearchParams({ path: want.path, sha256: want.sha256, size: String(want.size) });
    return new Promise((resolve, reject) => {
      const req = https.request(new URL(`/v1/instances/${id}/file?${q}`, this.base), {
        method: 'PUT',
        ...this.tls,
        agent: false,
        timeout: this.stageMs,
        headers: { 'content-type': 'application/octet-stream', 'content-length': want.size },
      });
      const fail = (err: Error) => {
        req.destroy();
        reject(MgrErr.MGR_ERR_HOST(`host ${this.label} could not receive ${want.path} of ${id}: ${err.message}`, { cause: err }));
      };
      req.on('error', fail);
      body.on('error', fail);
      req.on('response', (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const { json, error } = parseAnswer(res.statusCode ?? 0, Buffer.concat(chunks).toString('utf8'));
          if (!error) return resolve(json as InstanceFileEntry);
          reject(
            MgrErr.MGR_ERR_HOST(
              `${this.label} could not receive ${want.path} of ${id}: ${error.code ?? `HTTP ${error.status}`}: ${error.message}`,
              {
                details: { hostCode: error.code ?? null, hostStatus: error.status },
              },
            ),
          );
        });
      });
      body.pipe(req);
    });
  }

  removePackage(id: string, sha256: string): Promise<void> {
    return this.call(`remove package ${sha256.slice(0, 12)} of ${id}`, 'DELETE', `/instances/${id}/packages/${sha256}`);
  }

  /** Every package of the instance (a build whose answer was lost included); idempotent. */
  removePackages(id: string): Promise<void> {
    return this.call(`remove the packages of ${id}`, 'DELETE', `/instances/${id}/packages`);
  }

  /** Destroy, undefine and delete the instance's folder; idempotent. */
  removeInstance(id: string): Promise<void> {
    return this.call(`remove instance ${id}`, 'DELETE', `/instances/${id}`, undefined, 120_000);
  }
}

/** Marks a call the host took but did not answer in time (turned into MGR_ERR_HOST_TIMEOUT by `call`). */
class TimedOut extends Error {}

function seconds(ms: number): string {
  return `${Math.round(ms / 100) / 10} s`;
}

/** True when a host error is stormd's own `code`. */
export function hostCode(err: unknown): string | null {
  return MgrErr.MGR_ERR_HOST.is(err) ? ((err.details?.['hostCode'] as string | null | undefined) ?? null) : null;
}
