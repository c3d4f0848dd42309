/**
 * Host authentication on the manager's listener: the TLS layer already verified the client
 * certificate against our CA and CRL (`socket.authorized`); here it must also belong to an enrolled,
 * unrevoked host. Sets `request.enrolledHost`.
 */
import type { TLSSocket } from 'node:tls';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { MgrErr } from '../errors.js';
import type { HostRegistry } from '../hosts/host-registry.js';
import type { HostRow } from '../hosts/host-store.js';
import { bearerToken } from './require-auth.js';
import type { ApiTokens } from './api-tokens.js';

declare module 'fastify' {
  interface FastifyRequest {
    /** The enrolled host that made the request, when it authenticated with its certificate. */
    enrolledHost?: HostRow;
  }
}

/** The verified client certificate's serial (lowercase hex), or undefined. */
export function peerSerial(request: FastifyRequest): string | undefined {
  const socket = request.raw.socket as Partial<TLSSocket>;
  if (!socket.authorized || typeof socket.getPeerCertificate !== 'function') return undefined;
  const cert = socket.getPeerCertificate();
  return cert?.serialNumber ? cert.serialNumber.toLowerCase().replace(/^0+/, '') : undefined;
}

export function requireHost(hosts: HostRegistry) {
  return async function checkHost(request: FastifyRequest, _reply: FastifyReply): Promise<void> {
    const serial = peerSerial(request);
    const host = serial ? await hosts.authenticate(serial) : undefined;
    if (!host) throw MgrErr.MGR_ERR_UNAUTHORIZED('this route needs the client certificate of an enrolled host');
    request.enrolledHost = host;
  };
}

/** A host certificate or an API token (layer blobs: hosts stage them, administrators may fetch them). */
export function requireHostOrToken(hosts: HostRegistry, tokens: ApiTokens) {
  const host = requireHost(hosts);
  return async function checkHostOrToken(request: FastifyRequest, reply: FastifyReply): Promise<void> {
    const token = bearerToken(request.headers.authorization);
    if (token && (request.principal = await tokens.verify(token))) return;
    await host(request, reply);
  };
}
