/**
 * What stormd checks of a host certificate the manager hands it (at join and at renewal) before it
 * stores it: issued by the CA, for this host's key, usable to serve (serverAuth).
 *
 * @example
 * const { cert, clientAuth } = checkHostCertificate(answer.certificate, ca, keyPem, (why) => new Error(why));
 */
import { createPrivateKey, X509Certificate } from 'node:crypto';

const CLIENT_AUTH = '1.3.6.1.5.5.7.3.2';
const SERVER_AUTH = '1.3.6.1.5.5.7.3.1';

export interface CheckedCertificate {
  readonly cert: X509Certificate;
  /** Without it the host could serve but not call the manager (heartbeats, layers, renewal). */
  readonly clientAuth: boolean;
}

/** Throws `bad(why)` unless `certPem` parses, was issued by `ca`, is for `keyPem` and has serverAuth. */
export function checkHostCertificate(
  certPem: string,
  ca: X509Certificate,
  keyPem: string,
  bad: (why: string) => Error,
): CheckedCertificate {
  let cert: X509Certificate;
  try {
    cert = new X509Certificate(certPem);
  } catch {
    throw bad('the certificate does not parse');
  }
  if (!cert.checkIssued(ca) || !cert.verify(ca.publicKey)) throw bad('the certificate was not issued by the CA');
  if (!cert.checkPrivateKey(createPrivateKey(keyPem))) throw bad("the certificate is not for this host's key");
  const usages = cert.keyUsage ?? [];
  if (!usages.includes(SERVER_AUTH)) throw bad('the certificate has no serverAuth: stormd could not serve with it');
  return { cert, clientAuth: usages.includes(CLIENT_AUTH) };
}
