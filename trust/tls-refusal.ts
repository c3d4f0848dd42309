/**
 * Logging the handshakes OpenSSL refuses. Node destroys such a socket before 'secureConnection'
 * and reports it as 'tlsClientError'; the verify code (`CERT_REVOKED`, `INVALID_PURPOSE`…) is
 * left on the TLS socket, but its peer address is gone by then.
 */
import type { Socket } from 'node:net';
import type { Server, TLSSocket } from 'node:tls';

export interface TlsRefusal {
  readonly remoteAddress: string | undefined;
  readonly remotePort: number | undefined;
  /** OpenSSL's verify code, or the handshake error's code (e.g. `ERR_SSL_PEER_DID_NOT_RETURN_A_CERTIFICATE`). */
  readonly reason: string;
}

/**
 * One loggable record from a server's `tlsClientError`.
 *
 * @example
 * server.on('tlsClientError', (err, socket) => log.warn(tlsRefusal(err, socket), 'TLS client refused'));
 */
export function tlsRefusal(err: Error, socket: TLSSocket | Socket): TlsRefusal {
  const authorizationError = 'authorizationError' in socket ? socket.authorizationError : undefined;
  const reason = authorizationError ? String(authorizationError) : ((err as NodeJS.ErrnoException).code ?? err.message);
  // The TCP socket under a server's TLS socket is Node's (undocumented) `_parent`; see onTlsRefusal.
  const tcp = (socket as { _parent?: Socket })._parent;
  return { remoteAddress: socket.remoteAddress ?? tcp?.remoteAddress, remotePort: socket.remotePort ?? tcp?.remotePort, reason };
}

/**
 * Calls `listener` for every refused handshake, with the peer's address: it reads each TCP
 * socket's address as it arrives, which Node then remembers past the socket's destruction.
 *
 * @example
 * onTlsRefusal(server, (refusal) => log.warn(refusal, 'TLS client refused'));
 */
export function onTlsRefusal(server: Server, listener: (refusal: TlsRefusal, err: Error) => void): void {
  server.on('connection', (tcp: Socket) => void tcp.remoteAddress);
  server.on('tlsClientError', (err, socket) => listener(tlsRefusal(err, socket), err));
}
