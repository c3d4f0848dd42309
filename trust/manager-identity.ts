/**
 * The manager's own two certificates, kept beside the CA: its client certificate towards stormd
 * (`manager-client.pem`/`.key`) and its HTTPS certificate (`manager-https.pem`/`.key`), both with
 * the manager role. Reused while valid for this CA, this role and these names; reissued otherwise
 * (including 30 days before expiry) for the same key, so the manager renews them just by restarting
 * and hosts, which pin the client key at join, keep accepting it. A key is made only when none is
 * readable.
 */
import { createPrivateKey, X509Certificate } from 'node:crypto';
import { promises as fs } from 'node:fs';
import { isIP } from 'node:net';
import { join } from 'node:path';
import type { CertificateAuthority } from './certificate-authority.js';
import { syncDir, writeFileDurably } from './files.js';
import { generateKeyPair, publicKeyOf } from './keys.js';
import { MANAGER_COMMON_NAME } from './profiles.js';
import { hasRole } from './roles.js';

/** Always among the HTTPS names: guests reach the manager as storm.local through STORM's DNS. */
export const STORM_LOCAL_NAME = 'storm.local';
const RENEW_BEFORE_MS = 30 * 86_400_000;

export interface KeyAndCertificate {
  readonly certPem: string;
  readonly keyPem: string;
}

export interface ManagerIdentity {
  readonly client: KeyAndCertificate;
  readonly https: KeyAndCertificate;
}

/** The stored key and certificate; either is '' when missing or unreadable. */
async function readPair(dir: string, base: string): Promise<KeyAndCertificate> {
  const read = (file: string) => fs.readFile(join(dir, file), 'utf8').catch(() => '');
  const [certPem, keyPem] = await Promise.all([read(`${base}.pem`), read(`${base}.key`)]);
  return { certPem, keyPem };
}

/** The stored key when it is a usable RSA private key (kept across reissues), else a new one. */
async function keyFor(pair: KeyAndCertificate): Promise<{ privateKeyPem: string; publicKeyPem: string }> {
  try {
    if (createPrivateKey(pair.keyPem).asymmetricKeyType === 'rsa')
      return { privateKeyPem: pair.keyPem, publicKeyPem: publicKeyOf(pair.keyPem) };
  } catch {
    // unreadable or damaged: a new key (hosts that pinned the old one must join again)
  }
  return generateKeyPair();
}

/** Still good: issued by this CA, matching key, the manager role, not near expiry, right CN or every wanted name. */
function stillGood(
  pair: KeyAndCertificate,
  ca: CertificateAuthority,
  now: Date,
  want: { commonName?: string; names?: readonly string[] },
): boolean {
  try {
    const cert = new X509Certificate(pair.certPem);
    const caCert = new X509Certificate(ca.certPem);
    if (!cert.checkIssued(caCert) || !cert.verify(caCert.publicKey) || !cert.checkPrivateKey(createPrivateKey(pair.keyPem))) return false;
    if (!hasRole(pair.certPem, 'manager')) return false;
    if (new Date(cert.validTo).getTime() - now.getTime() < RENEW_BEFORE_MS) return false;
    if (want.commonName && !cert.subject.split('\n').includes(`CN=${want.commonName}`)) return false;
    return (want.names ?? []).every((name) => (isIP(name) ? cert.checkIP(name) : cert.checkHost(name, { wildcards: false })) !== undefined);
  } catch {
    return false;
  }
}

async function writePair(dir: string, base: string, pair: KeyAndCertificate): Promise<void> {
  await writeFileDurably(join(dir, `${base}.key`), pair.keyPem, { mode: 0o600, replace: true });
  await writeFileDurably(join(dir, `${base}.pem`), pair.certPem, { mode: 0o644, replace: true });
}

/**
 * Loads or (re)issues the manager's client and HTTPS certificates in `dir`.
 *
 * @example
 * const ca = await CertificateAuthority.loadOrCreate(pkiDir);
 * const { client, https } = await loadOrIssueManagerIdentity(pkiDir, ca, { serverNames: ['manager.example', '10.0.0.1'] });
 * const app = fastify({ https: httpsServerOptions({ cert: https.certPem, key: https.keyPem, caCert: ca.certPem }) });
 */
export async function loadOrIssueManagerIdentity(
  dir: string,
  ca: CertificateAuthority,
  options: { name?: string; serverNames?: readonly string[]; now?: Date },
): Promise<ManagerIdentity> {
  const now = options.now ?? new Date();
  const commonName = options.name ?? MANAGER_COMMON_NAME;
  const names = [...new Set([...(options.serverNames ?? []), STORM_LOCAL_NAME])];
  let client = await readPair(dir, 'manager-client');
  let https = await readPair(dir, 'manager-https');
  if (!stillGood(client, ca, now, { commonName })) {
    const key = await keyFor(client);
    client = {
      certPem: ca.issueClientCertificate({ publicKeyPem: key.publicKeyPem, commonName, role: 'manager' }).certPem,
      keyPem: key.privateKeyPem,
    };
    await writePair(dir, 'manager-client', client);
  }
  if (!stillGood(https, ca, now, { names })) {
    const key = await keyFor(https);
    https = {
      certPem: ca.issueServerCertificate({ publicKeyPem: key.publicKeyPem, names, role: 'manager' }).certPem,
      keyPem: key.privateKeyPem,
    };
    await writePair(dir, 'manager-https', https);
  }
  await syncDir(dir);
  return { client, https };
}
