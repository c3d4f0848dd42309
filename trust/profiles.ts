/**
 * What each kind of STORM certificate says: its extensions and lifetime. One place, so the docs
 * (docs/pki.md) and the tests check one set of rules.
 */
import type { AltName } from './names.js';
import { toForgeAltNames } from './names.js';

/** node-forge's extension descriptor (`cert.setExtensions`); forge fills `value` from the named fields. */
export interface ForgeExtension {
  readonly name: string;
  readonly critical?: boolean;
  readonly [field: string]: unknown;
}

export const CA_VALIDITY_DAYS = 3650;
export const LEAF_VALIDITY_DAYS = 365;
/** notBefore (and a CRL's thisUpdate) sit this far in the past, so a peer whose clock lags still accepts them. */
export const CLOCK_SKEW_MS = 5 * 60_000;
/** The subject CN of the manager's client certificate, which stormd requires. */
export const MANAGER_COMMON_NAME = 'storm-manager';
export const ORGANIZATION = 'STORM';

const DAY_MS = 86_400_000;

/**
 * notBefore/notAfter for a certificate issued at `now`, never outliving `limit` (the CA's own notAfter).
 *
 * @example
 * validityWindow(new Date(), LEAF_VALIDITY_DAYS, ca.notAfter);
 */
export function validityWindow(now: Date, days: number, limit?: Date): { notBefore: Date; notAfter: Date } {
  const notBefore = wholeSeconds(now.getTime() - CLOCK_SKEW_MS);
  const end = wholeSeconds(now.getTime() + days * DAY_MS);
  return { notBefore, notAfter: limit && limit < end ? limit : end };
}

/** X.509 times have whole seconds; round here so what we return is what the certificate says. */
function wholeSeconds(ms: number): Date {
  return new Date(Math.floor(ms / 1000) * 1000);
}

/** A root: may sign certificates and CRLs, nothing else; no pathLen so a later intermediate stays possible. */
export function caExtensions(): ForgeExtension[] {
  return [
    { name: 'basicConstraints', cA: true, critical: true },
    { name: 'keyUsage', keyCertSign: true, cRLSign: true, critical: true },
    { name: 'subjectKeyIdentifier' },
  ];
}

/** Leaf key usage for RSA: signatures (TLS 1.3, ECDHE) plus key encipherment, which libvirt's GnuTLS checks require. */
function leafBase(authorityKeyId: string): ForgeExtension[] {
  return [
    { name: 'basicConstraints', cA: false, critical: true },
    { name: 'keyUsage', digitalSignature: true, keyEncipherment: true, critical: true },
    { name: 'subjectKeyIdentifier' },
    { name: 'authorityKeyIdentifier', keyIdentifier: authorityKeyId },
  ];
}

/** A TLS client (the manager towards stormd, or a libvirt client): clientAuth only. */
export function clientExtensions(authorityKeyId: string): ForgeExtension[] {
  return [...leafBase(authorityKeyId), { name: 'extKeyUsage', clientAuth: true }];
}

/** A TLS server (stormd, libvirtd, the manager's HTTPS): serverAuth only, its names in the SAN. */
export function serverExtensions(authorityKeyId: string, names: readonly AltName[]): ForgeExtension[] {
  return [
    ...leafBase(authorityKeyId),
    { name: 'extKeyUsage', serverAuth: true },
    { name: 'subjectAltName', altNames: toForgeAltNames(names) },
  ];
}

/**
 * A host (stormd): serves the manager (serverAuth) and calls it back for heartbeats, layers and the
 * CRL (clientAuth); stormd still refuses it as a client, since its subject is not the manager's.
 */
export function hostExtensions(authorityKeyId: string, names: readonly AltName[]): ForgeExtension[] {
  return [
    ...leafBase(authorityKeyId),
    { name: 'extKeyUsage', serverAuth: true, clientAuth: true },
    { name: 'subjectAltName', altNames: toForgeAltNames(names) },
  ];
}
