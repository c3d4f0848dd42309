/**
 * The manager's client of one stormd: mutual TLS (the manager's client certificate; the host's
 * certificate must chain to our CA and name the host we dialled), JSON per `stormd/protocol.ts`,
 * stormd's `{ code, message }` errors surfaced as `MGR_ERR_HOST` errors that keep the host's code.
 *
 * @example
 * const host = new HostClient('https://10.0.0.5:9443', trust.dialOptions('10.0.0.5'));
 * const info = await host.info();
 */
import https from 'node:https';
import type { ConnectionOptions } from 'node:tls';
import type {
  ConsoleTail,
  CreateInstanceLayerRequest,
  DefineDomainRequest,
  HostInfo,
  InstanceActionRequest,
  InstanceActionResponse,
  InstanceStatus,
  MergeLayersRequest,
  NewWritableLayerRequest,
  PackageRequest,
  PackageResponse,
  StageLayerRequest,
  StageLayerResponse,
  WritableLayer,
  WritableLayers,
} from '../../../stormd/protocol.js';
import { parseAnswer } from '../../../common/wire-json.js';
import { MgrErr } from '../errors.js';

const DEFAULT_TIMEOUT_MS = 30_000;
/** Staging fetches a whole layer from us; give it time proportional to big layers. */
const STAGE_TIMEOUT_MS = 30 * 60_000;

export class HostClient {
  private readonly base: URL;

  constructor(
    url: string,
    private readonly tls: ConnectionOptions,
    private readonly label = url,
  ) {
    this.base = new URL(url);
  }

  private call<T>(method: string, path: string, body?: unknown, timeoutMs = DEFAULT_TIMEOUT_MS): Promise<T> {
    const payload = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
    return new Promise<T>((resolve, reject) => {
      const req = https.request(new URL(`/v1${path}`, this.base), {
        method,
        ...this.tls,
        agent: false,
        headers: { accept: 'application/json', ...(payload ? { 'content-type': 'application/json', 'content-length': payload.length } : {}) },
        timeout: timeoutMs,
      });
      req.on('timeout', () => req.destroy(MgrErr.MGR_ERR_HOST_UNREACHABLE(`${this.label}: no answer to ${method} ${path} within ${timeoutMs} ms`)));
      req.on('error', (err) => reject(MgrErr.MGR_ERR_HOST_UNREACHABLE.is(err) ? err : MgrErr.MGR_ERR_HOST_UNREACHABLE(`${this.label}: ${err.message}`, { cause: err })));
      req.on('response', (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('error', reject);
        res.on('end', () => {
          const { json, error } = parseAnswer(res.statusCode ?? 0, Buffer.concat(chunks).toString('utf8'));
          if (error) return reject(MgrErr.MGR_ERR_HOST(`${this.label}: ${error.code ?? `HTTP ${error.status}`}: ${error.message}`, { details: { hostCode: error.code ?? null, hostStatus: error.status } }));
          resolve(json as T);
        });
      });
      req.end(payload);
    });
  }

  info(): Promise<HostInfo> {
    return this.call('GET', '/host');
  }

  stageLayer(sha256: string, req: StageLayerRequest): Promise<StageLayerResponse> {
    return this.call('PUT', `/layers/${sha256}`, req, STAGE_TIMEOUT_MS);
  }

  removeLayer(sha256: string): Promise<void> {
    return this.call('DELETE', `/layers/${sha256}`);
  }

  createInstanceLayer(id: string, req: CreateInstanceLayerRequest): Promise<InstanceStatus> {
    return this.call('PUT', `/instances/${id}/layer`, req);
  }

  defineDomain(id: string, req: DefineDomainRequest): Promise<InstanceStatus> {
    return this.call('PUT', `/instances/${id}/domain`, req);
  }

  undefineDomain(id: string): Promise<InstanceStatus> {
    return this.call('DELETE', `/instances/${id}/domain`);
  }

  action(id: string, req: InstanceActionRequest): Promise<InstanceActionResponse> {
    return this.call('POST', `/instances/${id}/actions`, req, (req.timeoutMs ?? 60_000) + 30_000);
  }

  instances(): Promise<InstanceStatus[]> {
    return this.call('GET', '/instances');
  }

  instance(id: string): Promise<InstanceStatus> {
    return this.call('GET', `/instances/${id}`);
  }

  console(id: string, bytes?: number): Promise<ConsoleTail> {
    return this.call('GET', `/instances/${id}/console${bytes ? `?bytes=${bytes}` : ''}`);
  }

  writableLayers(id: string): Promise<WritableLayers> {
    return this.call('GET', `/instances/${id}/writable-layers`);
  }

  /** A new, empty current writable layer (the previous one is frozen from now on). */
  newWritableLayer(id: string, req: NewWritableLayerRequest): Promise<WritableLayers> {
    return this.call('POST', `/instances/${id}/writable-layers`, req, 120_000);
  }

  removeWritableLayer(id: string, layerId: string): Promise<void> {
    return this.call('DELETE', `/instances/${id}/writable-layers/${layerId}`);
  }

  mergeLayers(id: string, req: MergeLayersRequest): Promise<WritableLayer> {
    return this.call('POST', `/instances/${id}/writable-layers/merge`, req, STAGE_TIMEOUT_MS);
  }

  buildPackage(id: string, req: PackageRequest): Promise<PackageResponse> {
    return this.call('POST', `/instances/${id}/packages`, req, STAGE_TIMEOUT_MS);
  }

  /** Streams a built package: resolves with the response body for the caller to consume. */
  packageStream(id: string, sha256: string): Promise<import('node:http').IncomingMessage> {
    return new Promise((resolve, reject) => {
      const req = https.request(new URL(`/v1/instances/${id}/packages/${sha256}`, this.base), { method: 'GET', ...this.tls, agent: false, timeout: STAGE_TIMEOUT_MS });
      req.on('error', (err) => reject(MgrErr.MGR_ERR_HOST_UNREACHABLE(`${this.label}: ${err.message}`, { cause: err })));
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

  removePackage(id: string, sha256: string): Promise<void> {
    return this.call('DELETE', `/instances/${id}/packages/${sha256}`);
  }

  /** Destroy, undefine and delete the instance's folder; idempotent. */
  removeInstance(id: string): Promise<void> {
    return this.call('DELETE', `/instances/${id}`, undefined, 120_000);
  }
}

/** True when a host error is stormd's own `code`. */
export function hostCode(err: unknown): string | null {
  return MgrErr.MGR_ERR_HOST.is(err) ? ((err.details?.['hostCode'] as string | null | undefined) ?? null) : null;
}
