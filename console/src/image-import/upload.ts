/**
 * A disk image from the administrator's machine into the manager's local channel, as
 * `storm image import` does it: read once to hash (the API asks for the sha256 and size first and
 * checks the bytes against them), then sent as the request body with upload progress. The file is
 * read in slices, never whole, so a multi-gigabyte image does not fill the browser's memory.
 *
 * @example
 * const answer = await importImage(file, { name: 'my-os', version: '1.0.0', format: 'raw' }, (p) => show(p));
 */
import type { ImageImportAnswer } from '../../../manager/protocol/index.js';
import { ApiError, currentCsrfToken } from '../api/client.js';
import { Sha256 } from './sha256.js';

export type ImageFormat = 'qcow2' | 'raw';

export interface ImportOptions {
  readonly name: string;
  readonly version: string;
  readonly format: ImageFormat;
  readonly firmware?: 'bios' | 'uefi';
  readonly memoryMiB?: number;
  readonly vcpus?: number;
}

export interface ImportProgress {
  readonly phase: 'hashing' | 'uploading' | 'checking';
  readonly done: number;
  readonly total: number;
}

const SLICE = 4 << 20;

/** qcow2 files open with "QFI\xfb"; anything else is offered as raw (the manager checks either way). */
export async function guessFormat(file: Blob): Promise<ImageFormat> {
  const head = new Uint8Array(await file.slice(0, 4).arrayBuffer());
  return head[0] === 0x51 && head[1] === 0x46 && head[2] === 0x49 && head[3] === 0xfb ? 'qcow2' : 'raw';
}

export async function hashFile(file: Blob, onProgress: (done: number) => void, signal?: AbortSignal): Promise<string> {
  const h = new Sha256();
  for (let at = 0; at < file.size; at += SLICE) {
    if (signal?.aborted) throw new ApiError(0, 'CONSOLE_ERR_CANCELLED', 'the import was cancelled');
    h.update(new Uint8Array(await file.slice(at, at + SLICE).arrayBuffer()));
    onProgress(Math.min(file.size, at + SLICE));
  }
  return h.hex();
}

/** POST the bytes with XMLHttpRequest: fetch cannot report how much of a request body went out. */
function upload(path: string, file: Blob, onProgress: (sent: number) => void, signal?: AbortSignal): Promise<ImageImportAnswer> {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open('POST', `/api/v1${path}`);
    xhr.setRequestHeader('content-type', 'application/octet-stream');
    xhr.setRequestHeader('accept', 'application/json');
    const csrf = currentCsrfToken();
    if (csrf) xhr.setRequestHeader('x-csrf-token', csrf);
    xhr.upload.onprogress = (e) => onProgress(e.loaded);
    xhr.onerror = () => reject(new ApiError(0, 'CONSOLE_ERR_NETWORK', 'the upload broke off before the manager answered'));
    xhr.onabort = () => reject(new ApiError(0, 'CONSOLE_ERR_CANCELLED', 'the import was cancelled'));
    xhr.onload = () => {
      let body: unknown;
      try {
        body = xhr.responseText ? JSON.parse(xhr.responseText) : undefined;
      } catch {
        body = undefined;
      }
      if (xhr.status === 201) return resolve(body as ImageImportAnswer);
      const e = body as { code?: unknown; message?: unknown } | undefined;
      reject(
        typeof e?.code === 'string' && typeof e.message === 'string'
          ? new ApiError(xhr.status, e.code, e.message)
          : new ApiError(xhr.status, `HTTP_${xhr.status}`, xhr.responseText.slice(0, 300) || xhr.statusText),
      );
    };
    signal?.addEventListener('abort', () => xhr.abort(), { once: true });
    xhr.send(file);
  });
}

export async function importImage(
  file: Blob,
  opts: ImportOptions,
  onProgress: (p: ImportProgress) => void,
  signal?: AbortSignal,
): Promise<ImageImportAnswer> {
  if (file.size === 0) throw new ApiError(0, 'CONSOLE_ERR_EMPTY_FILE', 'the file is empty');
  const total = file.size;
  onProgress({ phase: 'hashing', done: 0, total });
  const sha256 = await hashFile(file, (done) => onProgress({ phase: 'hashing', done, total }), signal);
  const query = new URLSearchParams({ name: opts.name, version: opts.version, format: opts.format, sha256, size: String(total) });
  if (opts.firmware) query.set('firmware', opts.firmware);
  if (opts.memoryMiB !== undefined) query.set('memoryMiB', String(opts.memoryMiB));
  if (opts.vcpus !== undefined) query.set('vcpus', String(opts.vcpus));
  onProgress({ phase: 'uploading', done: 0, total });
  // Once every byte is out, the manager still checks the image with qemu-img before it answers.
  return upload(
    `/images/import?${query}`,
    file,
    (sent) => onProgress(sent >= total ? { phase: 'checking', done: total, total } : { phase: 'uploading', done: sent, total }),
    signal,
  );
}
