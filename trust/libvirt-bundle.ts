/**
 * A PKI bundle for libvirt's `qemu+tls://` transport in libvirt's file names: the host's libvirtd
 * gets cacert + servercert/serverkey, the connecting side cacert + clientcert/clientkey (see
 * docs/pki.md for where each goes). Both keys are made here, fresh, for this bundle only: they
 * leave the manager, so they are never stormd's or the manager's own.
 */
import { promises as fs } from 'node:fs';
import { join } from 'node:path';
import type { CertificateAuthority } from './certificate-authority.js';
import type { IssuedCertificate } from './certificate-builder.js';
import { PkiErr } from './errors.js';
import { syncDir, writeFileDurably } from './files.js';
import { generateKeyPair } from './keys.js';

/** The libvirt client's CN: a clientAuth certificate without the manager role, which stormd's `checkPeer` refuses. Reserved: no host may enrol under it. */
export const LIBVIRT_CLIENT_COMMON_NAME = 'storm-libvirt-client';

/** libvirt's file names and the modes they get: private keys 0600, the rest 0644. */
export const LIBVIRT_BUNDLE_FILES = {
  cacert: { file: 'cacert.pem', mode: 0o644 },
  cacrl: { file: 'cacrl.pem', mode: 0o644 },
  servercert: { file: 'servercert.pem', mode: 0o644 },
  serverkey: { file: 'serverkey.pem', mode: 0o600 },
  clientcert: { file: 'clientcert.pem', mode: 0o644 },
  clientkey: { file: 'clientkey.pem', mode: 0o600 },
} as const;

export interface LibvirtBundle {
  readonly cacert: string;
  /** Optional: libvirtd checks /etc/pki/CA/cacrl.pem when it exists. */
  readonly cacrl?: string;
  readonly servercert: string;
  readonly serverkey: string;
  readonly clientcert: string;
  readonly clientkey: string;
  /** What was issued, for the caller to record (and later revoke). */
  readonly issued: { readonly server: IssuedCertificate; readonly client: IssuedCertificate };
}

/**
 * Issues libvirtd's server certificate for a host (its name and addresses as SANs) and a libvirt
 * client certificate, each with a fresh key.
 *
 * @example
 * const bundle = await issueLibvirtBundle(ca, { hostName: 'host-1.example', altNames: ['10.0.0.5'], crl: crlPem });
 */
export async function issueLibvirtBundle(
  ca: CertificateAuthority,
  host: { hostName: string; altNames?: readonly string[]; crl?: string },
): Promise<LibvirtBundle> {
  const [serverKey, clientKey] = await Promise.all([generateKeyPair(), generateKeyPair()]);
  const server = ca.issueServerCertificate({
    publicKeyPem: serverKey.publicKeyPem,
    names: [host.hostName, ...(host.altNames ?? [])],
    role: 'host',
  });
  const client = ca.issueClientCertificate({ publicKeyPem: clientKey.publicKeyPem, commonName: LIBVIRT_CLIENT_COMMON_NAME });
  return {
    cacert: ca.certPem,
    ...(host.crl === undefined ? {} : { cacrl: host.crl }),
    servercert: server.certPem,
    serverkey: serverKey.privateKeyPem,
    clientcert: client.certPem,
    clientkey: clientKey.privateKeyPem,
    issued: { server, client },
  };
}

/**
 * Writes a bundle into `dir` (made 0700): keys 0600, certificates 0644. Refuses to overwrite any
 * bundle file unless `overwrite` is set. Returns the paths written.
 *
 * @example
 * await writeLibvirtBundle('./host-1-pki', bundle); // storm host pki-bundle host-1 --out ./host-1-pki
 */
export async function writeLibvirtBundle(dir: string, bundle: LibvirtBundle, options: { overwrite?: boolean } = {}): Promise<string[]> {
  await fs.mkdir(dir, { recursive: true, mode: 0o700 });
  const entries = (Object.keys(LIBVIRT_BUNDLE_FILES) as (keyof typeof LIBVIRT_BUNDLE_FILES)[])
    .filter((name) => bundle[name] !== undefined)
    .map((name) => ({ path: join(dir, LIBVIRT_BUNDLE_FILES[name].file), mode: LIBVIRT_BUNDLE_FILES[name].mode, data: bundle[name]! }));
  if (!options.overwrite) {
    const existing = (
      await Promise.all(
        entries.map(({ path }) =>
          fs.access(path).then(
            () => path,
            () => undefined,
          ),
        ),
      )
    ).filter(Boolean);
    if (existing.length) throw PkiErr.MGR_ERR_PKI_BUNDLE_EXISTS(existing.join(', '));
  }
  for (const { path, mode, data } of entries) await writeFileDurably(path, data, { mode, replace: options.overwrite === true });
  await syncDir(dir);
  return entries.map(({ path }) => path);
}
