/**
 * Opens a stormd's serial-port WebSocket (`GET /v1/instances/:id/console/attach`, see
 * `stormd/protocol.ts`) over the same mutual TLS as every call to the host. A refusal before the
 * upgrade comes back as stormd's `{ code, message }`, kept in `details.hostCode`.
 *
 * @example
 * const ws = await openHostSerial(new URL('https://10.0.0.5:9443'), trust.dialOptions('10.0.0.5'), 'host-1', 'i-0123');
 * ws.on('message', (bytes) => process.stdout.write(bytes as Buffer));
 */
import type { ConnectionOptions } from 'node:tls';
import WebSocket, { type ClientOptions } from 'ws';
import { SERIAL_ATTACH_PATH } from '../../../stormd/protocol.js';
import { parseAnswer } from '../../../common/wire-json.js';
import { MgrErr } from '../errors.js';

/** Keystrokes in, a screenful at a time out: frames stay small. */
const MAX_FRAME = 1024 * 1024;

export function openHostSerial(base: URL, tls: ConnectionOptions, label: string, id: string, timeoutMs: number): Promise<WebSocket> {
  const url = new URL(`/v1${SERIAL_ATTACH_PATH(id)}`, base);
  url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
  // ws hands these options to tls.connect as they are; its types narrow checkServerIdentity to a boolean result.
  const options = { ...tls, handshakeTimeout: timeoutMs, maxPayload: MAX_FRAME, perMessageDeflate: false } as unknown as ClientOptions;
  const ws = new WebSocket(url, options);
  return new Promise((resolve, reject) => {
    const fail = (err: Error) => {
      ws.removeAllListeners('open');
      ws.terminate();
      reject(err);
    };
    ws.once('open', () => {
      ws.removeAllListeners('unexpected-response');
      resolve(ws);
    });
    ws.once('unexpected-response', (_req, res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const { error } = parseAnswer(res.statusCode ?? 0, Buffer.concat(chunks).toString('utf8'));
        const why = error ? `${error.code ?? `HTTP ${error.status}`}: ${error.message}` : `HTTP ${res.statusCode}`;
        fail(
          MgrErr.MGR_ERR_HOST(`${label} could not attach to the serial port of ${id}: ${why}`, {
            details: { hostCode: error?.code ?? null, hostStatus: res.statusCode ?? 0 },
          }),
        );
      });
      res.on('error', (err) =>
        fail(MgrErr.MGR_ERR_HOST(`host ${label} dropped its answer to the serial attach of ${id}: ${err.message}`, { cause: err })),
      );
    });
    ws.once('error', (err: NodeJS.ErrnoException) => {
      const why = err.code ? `${err.code}: ${err.message}` : err.message;
      fail(
        MgrErr.MGR_ERR_HOST_UNREACHABLE(`host ${label} does not answer at ${base.origin} for the serial port of ${id}: ${why}`, {
          cause: err,
        }),
      );
    });
  });
}
