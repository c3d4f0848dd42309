/**
 * The wire of `GET /api/v1/instances/:name/console/attach`, the manager's WebSocket onto an
 * instance's serial port, shared by the manager, the CLI and the web console. Binary frames carry
 * raw bytes: the guest's output to everyone attached, keystrokes from the writer (a reader's are
 * dropped). Text frames carry JSON: `SerialNotice` from the manager, `SerialRequest` to it.
 * One writer at a time: a newcomer writes when nobody does, else reads until it takes over
 * (`?takeover=1`, or a `takeover` request), which is announced to the old writer and the readers.
 *
 * A console session (cookie) must offer its CSRF token as a second subprotocol, since a browser
 * cannot set headers on a WebSocket: `new WebSocket(url, [SERIAL_PROTOCOL, csrfProtocol(token)])`.
 *
 * @example
 * ws.send(JSON.stringify({ type: 'takeover' } satisfies SerialRequest));
 * const n = JSON.parse(text) as SerialNotice; // { type: 'writer', role: 'reader', writer: { principal: 'admin', via: 'console', client: 2 }, reason: 'takeover' }
 */

/** The subprotocol the manager selects. */
export const SERIAL_PROTOCOL = 'storm.serial.v1';
const CSRF_PREFIX = 'storm.csrf.';

/** The subprotocol that carries a console session's CSRF token (base64url, so a valid token). */
export function csrfProtocol(token: string): string {
  return `${CSRF_PREFIX}${token}`;
}

/** The CSRF token offered among `Sec-WebSocket-Protocol`'s values, if any. */
export function csrfFromProtocols(header: string | undefined): string | undefined {
  for (const p of (header ?? '').split(',')) {
    const v = p.trim();
    if (v.startsWith(CSRF_PREFIX)) return v.slice(CSRF_PREFIX.length);
  }
  return undefined;
}

/** Close code: the serial port ended (the domain stopped, the host went away); the reason says why. */
export const SERIAL_CLOSE_ENDED = 4000;

export type SerialRole = 'writer' | 'reader';

/** Who is attached: the API token's name or the console user, how, and a number within the session. */
export interface SerialPeer {
  readonly principal: string;
  readonly via: 'token' | 'console';
  readonly client: number;
}

export type SerialNotice =
  /** First message: your role, who writes. */
  | {
      readonly type: 'attached';
      readonly instance: string;
      readonly you: SerialPeer;
      readonly role: SerialRole;
      readonly writer: SerialPeer | null;
    }
  /** The writer changed: a takeover (`previous` lost it), the writer left, or a newcomer took the free seat. */
  | {
      readonly type: 'writer';
      readonly role: SerialRole;
      readonly writer: SerialPeer | null;
      readonly previous: SerialPeer | null;
      readonly reason: 'takeover' | 'left' | 'joined';
    }
  /** The serial port ended; the connection closes next with SERIAL_CLOSE_ENDED. */
  | { readonly type: 'ended'; readonly reason: string };

export type SerialRequest = { readonly type: 'takeover' };

/** A WebSocket close reason holds at most 123 bytes: longer ones are cut, on a character. */
export function closeReason(text: string): string {
  const bytes = (t: string) => new TextEncoder().encode(t).length;
  if (bytes(text) <= 123) return text;
  let out = '';
  for (const ch of text) {
    if (bytes(`${out}${ch}...`) > 123) break;
    out += ch;
  }
  return `${out}...`;
}

/** "admin (console #2)": how notices name a peer. */
export function peerLabel(p: SerialPeer): string {
  return `${p.principal} (${p.via} #${p.client})`;
}
