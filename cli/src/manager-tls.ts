/**
 * How the CLI checks the manager when it was given STORM's CA (`--ca`, `--data`): the name dialled,
 * as Node does, and the manager role (docs/pki.md, Roles). A host's certificate comes from the same
 * CA and may name the same address (127.0.0.1, the CLI's default), so only the role tells them apart.
 *
 * @example
 * https.request(url, { ...managerTlsOptions(ca) });
 */
import { checkServerIdentity, type ConnectionOptions, type PeerCertificate } from 'node:tls';
import { rolesOf } from '../../trust/roles.js';

/** Node reads an Error returned here as a refused handshake: nothing (not even the token) is sent. */
export class NotTheManagerError extends Error {
  override name = 'NotTheManagerError';
}

export function managerTlsOptions(ca: string): ConnectionOptions {
  return {
    ca,
    checkServerIdentity: (host: string, cert: PeerCertificate) => checkServerIdentity(host, cert) ?? refuseOtherRoles(cert),
  };
}

function refuseOtherRoles(cert: PeerCertificate): Error | undefined {
  const roles = rolesOf(cert.raw);
  if (roles.includes('manager')) return undefined;
  return new NotTheManagerError(
    `its certificate (CN ${String(cert.subject?.CN)}) is from STORM's CA but has role ${roles.join(', ') || 'none'}, not manager`,
  );
}
