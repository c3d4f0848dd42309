/**
 * What OpenSSL cannot know: which client a server talks to. After `serverTlsOptions` has let a
 * certificate through (our CA, valid, unrevoked, clientAuth), `checkPeer` checks it names the
 * expected client, so another clientAuth certificate of the same CA (say a libvirt client's) is
 * refused. (Handshakes OpenSSL refused never get here: see tls-refusal.ts.)
 */
import type { TLSSocket } from 'node:tls';
import { PkiErr } from './errors.js';
import { certificateFingerprint } from './fingerprint.js';
import { normalizeSerial } from './serial.js';

const CLIENT_AUTH = '1.3.6.1.5.5.7.3.2';

export interface PeerIdentity {
  readonly commonName: string;
  /** Canonical serial, for revocation and logs. */
  readonly serial: string;
  readonly fingerprint: string;
  readonly validTo: Date;
}

/**
 * Accepts the peer of an established server socket only if TLS authorised it and its certificate
 * names `expectedCommonName` (exactly one CN) with clientAuth; throws `MGR_ERR_PKI_PEER_REJECTED`.
 *
 * @example
 * server.on('secureConnection', (socket) => {
 *   try { checkPeer(socket, { expectedCommonName: 'storm-manager' }); }
 *   catch (err) { log.warn({ err }, 'client refused'); socket.destroy(); return; }
 *   handle(socket);
 * });
 */
export function checkPeer(socket: TLSSocket, expected: { expectedCommonName: string }): PeerIdentity {
  // Belt and braces: a server built without rejectUnauthorized must still not pass an unverified peer.
  if (!socket.authorized) throw PkiErr.MGR_ERR_PKI_PEER_REJECTED(`not authorised by TLS: ${String(socket.authorizationError ?? 'no certificate')}`);
  const cert = socket.getPeerCertificate();
  if (!cert || !cert.raw) throw PkiErr.MGR_ERR_PKI_PEER_REJECTED('no peer certificate');
  const cn: unknown = cert.subject?.CN;
  if (cn !== expected.expectedCommonName) {
    throw PkiErr.MGR_ERR_PKI_PEER_REJECTED(`subject CN ${JSON.stringify(cn)}, expected ${JSON.stringify(expected.expectedCommonName)}`);
  }
  // OpenSSL allows a certificate with no extKeyUsage at all for any purpose; STORM's always carry one.
  if (!cert.ext_key_usage?.includes(CLIENT_AUTH)) throw PkiErr.MGR_ERR_PKI_PEER_REJECTED('certificate has no clientAuth extended key usage');
  return { commonName: cn, serial: normalizeSerial(cert.serialNumber), fingerprint: certificateFingerprint(cert.raw), validTo: new Date(cert.valid_to) };
}

// Kept here too for callers that imported it from this module before tls-refusal.ts existed.
export { tlsRefusal, type TlsRefusal } from './tls-refusal.js';
