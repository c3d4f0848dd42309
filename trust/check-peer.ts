/**
 * What OpenSSL cannot know: which client a server talks to. After `serverTlsOptions` has let a
 * certificate through (our CA, valid, unrevoked, clientAuth), `checkPeer` checks it carries the
 * expected role (a certificate policy only the manager's certificates get; see roles.ts) and, when
 * pinned, the expected key. Names play no part: a host may call itself anything. (Handshakes
 * OpenSSL refused never get here: see tls-refusal.ts.)
 */
import type { TLSSocket } from 'node:tls';
import { PkiErr } from './errors.js';
import { certificateFingerprint } from './fingerprint.js';
import { publicKeyPin, rolesOf, type Role } from './roles.js';
import { normalizeSerial } from './serial.js';

const CLIENT_AUTH = '1.3.6.1.5.5.7.3.2';

export interface PeerIdentity {
  /** For logs only: never used to decide. */
  readonly commonName: string;
  /** Canonical serial, for revocation and logs. */
  readonly serial: string;
  readonly fingerprint: string;
  /** `sha256:<hex>` of its public key (see `publicKeyPin`). */
  readonly keyPin: string;
  readonly validTo: Date;
}

export interface PeerExpectation {
  /** The role the client's certificate must carry. */
  readonly role: Role;
  /** `sha256:<hex>` of the only public key accepted (`publicKeyPin`); absent: any key of that role. */
  readonly keyPin?: string;
}

/**
 * Accepts the peer of an established server socket only if TLS authorised it and its certificate
 * carries the expected role (and key, when pinned) with clientAuth; throws `MGR_ERR_PKI_PEER_REJECTED`.
 *
 * @example
 * server.on('secureConnection', (socket) => {
 *   try { checkPeer(socket, { role: 'manager', keyPin: record.managerKey }); }
 *   catch (err) { log.warn({ err }, 'client refused'); socket.destroy(); return; }
 *   handle(socket);
 * });
 */
export function checkPeer(socket: TLSSocket, expected: PeerExpectation): PeerIdentity {
  // Belt and braces: a server built without rejectUnauthorized must still not pass an unverified peer.
  if (!socket.authorized)
    throw PkiErr.MGR_ERR_PKI_PEER_REJECTED(`not authorised by TLS: ${String(socket.authorizationError ?? 'no certificate')}`);
  const cert = socket.getPeerCertificate();
  if (!cert?.raw) throw PkiErr.MGR_ERR_PKI_PEER_REJECTED('no peer certificate');
  const cn: unknown = cert.subject?.CN;
  const who = `${JSON.stringify(typeof cn === 'string' ? cn : null)} (serial ${normalizeSerial(cert.serialNumber)})`;
  const roles = rolesOf(cert.raw);
  if (!roles.includes(expected.role)) {
    throw PkiErr.MGR_ERR_PKI_PEER_REJECTED(`certificate of ${who} has role ${roles.join(', ') || 'none'}, not ${expected.role}`);
  }
  // OpenSSL allows a certificate with no extKeyUsage at all for any purpose; STORM's always carry one.
  if (!cert.ext_key_usage?.includes(CLIENT_AUTH))
    throw PkiErr.MGR_ERR_PKI_PEER_REJECTED(`certificate of ${who} has no clientAuth extended key usage`);
  const keyPin = publicKeyPin(cert.raw);
  if (expected.keyPin !== undefined && keyPin !== expected.keyPin) {
    throw PkiErr.MGR_ERR_PKI_PEER_REJECTED(`certificate of ${who} is for key ${keyPin}, not the pinned ${expected.keyPin}`);
  }
  return {
    commonName: typeof cn === 'string' ? cn : '',
    serial: normalizeSerial(cert.serialNumber),
    fingerprint: certificateFingerprint(cert.raw),
    keyPin,
    validTo: new Date(cert.valid_to),
  };
}

// Kept here too for callers that imported it from this module before tls-refusal.ts existed.
export { tlsRefusal, type TlsRefusal } from './tls-refusal.js';
