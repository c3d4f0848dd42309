/**
 * TLS options for STORM's three kinds of connection. Node's `tls` (OpenSSL) does every check:
 * chain to our CA only, validity, CA basicConstraints, key purpose, revocation, host name.
 */
import { checkServerIdentity, type ConnectionOptions, type PeerCertificate, type TlsOptions } from 'node:tls';
import { isIP } from 'node:net';
import { constants } from 'node:crypto';
import { PkiErr } from './errors.js';
import { rolesOf, type Role } from './roles.js';

export interface ServerTlsInput {
  readonly cert: string;
  readonly key: string;
  /** The STORM CA certificate: the only issuer whose clients are accepted. */
  readonly ca: string;
  /** The CA's current CRL (PEM); with it, OpenSSL refuses revoked clients and an expired CRL. */
  readonly crl?: string;
}

/**
 * For stormd: TLS 1.3 with a required client certificate chaining to the STORM CA. OpenSSL refuses
 * before the connection is handed to any handler: unknown issuer, expiry, a leaf acting as CA,
 * a certificate without clientAuth ("ssl_client" purpose), revocation, or no certificate at all.
 * Session tickets are off so a connection never skips that check by resuming an older session.
 * After the handshake, `checkPeer` checks who the client is.
 *
 * @example
 * const server = tls.createServer(serverTlsOptions({ cert, key, ca: caPem, crl: crlPem }));
 * // on CRL change: server.setSecureContext(serverTlsOptions({ cert, key, ca: caPem, crl: newCrlPem }));
 */
export function serverTlsOptions(input: ServerTlsInput): TlsOptions {
  return {
    cert: input.cert,
    key: input.key,
    ca: input.ca,
    ...(input.crl === undefined ? {} : { crl: input.crl }),
    requestCert: true,
    rejectUnauthorized: true,
    minVersion: 'TLSv1.3',
    // No tickets; Node keeps no server session cache either, so nothing resumes past a new CRL.
    secureOptions: constants.SSL_OP_NO_TICKET,
  };
}

export interface ClientTlsInput {
  /** The STORM CA certificate: the only issuer trusted for the server. */
  readonly ca: string;
  /** Our client certificate and key (the manager's, clientAuth), when the server asks for one. */
  readonly cert?: string;
  readonly key?: string;
  /** The host name or IP address we dialled; the server's certificate must name it in its SAN. */
  readonly servername: string;
  /** The CA's CRL, so a revoked host certificate is refused too. */
  readonly crl?: string;
  /** A role the server's certificate must carry too (stormd dialling the manager: `manager`). */
  readonly role?: Role;
}

/**
 * For the manager dialling a stormd (or a host checking the manager): the server must chain to the
 * STORM CA and name the host we dialled, DNS or IP, in its subjectAltName; with `role`, carry it.
 *
 * @example
 * const socket = tls.connect({ host: '10.0.0.5', port: 8443, ...clientTlsOptions({ ca, cert, key, servername: 'host-1.example' }) });
 */
export function clientTlsOptions(input: ClientTlsInput): ConnectionOptions {
  const dialled = input.servername;
  return {
    ca: input.ca,
    ...(input.cert === undefined ? {} : { cert: input.cert }),
    ...(input.key === undefined ? {} : { key: input.key }),
    ...(input.crl === undefined ? {} : { crl: input.crl }),
    // SNI carries DNS names only (RFC 6066); an address is still checked below, against IP SANs.
    ...(isIP(dialled) ? {} : { servername: dialled }),
    rejectUnauthorized: true,
    minVersion: 'TLSv1.3',
    checkServerIdentity: (_host: string, cert: PeerCertificate) => checkServerIdentity(dialled, cert) ?? checkRole(cert, input.role),
  };
}

/** Node treats an Error returned from checkServerIdentity as a refused handshake, before a byte is written. */
function checkRole(cert: PeerCertificate, role: Role | undefined): Error | undefined {
  if (!role) return undefined;
  const roles = rolesOf(cert.raw);
  if (roles.includes(role)) return undefined;
  return PkiErr.MGR_ERR_PKI_PEER_REJECTED(
    `the server's certificate (CN ${String(cert.subject?.CN)}) has role ${roles.join(', ') || 'none'}, not ${role}`,
  );
}

export interface HttpsServerInput {
  /** The manager's HTTPS certificate (serverAuth, names incl. storm.local). */
  readonly cert: string;
  readonly key: string;
  /** Sent after the leaf so a joining host can find and pin the CA during the handshake. */
  readonly caCert: string;
}

/**
 * For the manager's own listener (API, console, enrolment): HTTPS without client certificates
 * (administrators use API tokens), presenting leaf + CA.
 *
 * @example
 * const app = fastify({ https: httpsServerOptions({ cert, key, caCert: ca.certPem }) });
 */
export function httpsServerOptions(input: HttpsServerInput): TlsOptions {
  return { cert: `${input.cert.trimEnd()}\n${input.caCert.trimEnd()}\n`, key: input.key, minVersion: 'TLSv1.2' };
}
