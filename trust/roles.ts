/**
 * Roles: what a STORM certificate is for, as a certificate policy (RFC 5280 §4.2.1.4) the CA
 * writes. The manager's certificates carry the manager role; a host's certificate carries the host
 * role, and the CA never writes the manager role from a CSR. Peers check the role, never a name:
 * Node reads it here (`rolesOf`), OpenSSL clients with `-policy OID -explicit_policy`.
 *
 * @example
 * extensions.push(roleExtension('manager'));
 * hasRole(socket.getPeerCertificate().raw, 'manager'); // true for the manager's certificates only
 */
import { createHash, X509Certificate } from 'node:crypto';
import forge from 'node-forge';
import type { ForgeExtension } from './profiles.js';

/** STORM's own OID arc: 2.25 + a UUID (ITU-T X.667), so no registration is needed. */
export const STORM_OID_ARC = '2.25.331794161947910748371970409338139862725';
export const ROLE_OIDS = { manager: `${STORM_OID_ARC}.1.1`, host: `${STORM_OID_ARC}.1.2` } as const;
export type Role = keyof typeof ROLE_OIDS;

const CERTIFICATE_POLICIES = '2.5.29.32';
const asn1 = forge.asn1;

/** An OID's DER contents (a forge binary string); forge's own stops at 32-bit arcs and 2.25 needs 128. */
export function oidToDer(oid: string): string {
  const arcs = oid.split('.').map((a) => BigInt(a));
  const bytes: number[] = [];
  for (const arc of [arcs[0]! * 40n + arcs[1]!, ...arcs.slice(2)]) {
    const group = [Number(arc & 0x7fn)];
    for (let rest = arc >> 7n; rest > 0n; rest >>= 7n) group.unshift(Number(rest & 0x7fn) | 0x80);
    bytes.push(...group);
  }
  return String.fromCharCode(...bytes);
}

/** The dotted form of an OID's DER contents. */
export function derToOid(der: string): string {
  const arcs: bigint[] = [];
  let value = 0n;
  for (let i = 0; i < der.length; i++) {
    const byte = der.charCodeAt(i);
    value = (value << 7n) | BigInt(byte & 0x7f);
    if (byte & 0x80) continue;
    arcs.push(value);
    value = 0n;
  }
  const first = arcs.shift() ?? 0n;
  const top = first < 80n ? first / 40n : 2n;
  return [top, first - top * 40n, ...arcs].join('.');
}

/**
 * The certificatePolicies extension naming `role` (non-critical: other TLS stacks need not know it).
 *
 * @example
 * buildCertificate({ ..., extensions: [...clientExtensions(aki), roleExtension('manager')] });
 */
export function roleExtension(role: Role): ForgeExtension {
  const policy = asn1.create(asn1.Class.UNIVERSAL, asn1.Type.SEQUENCE, true, [
    asn1.create(asn1.Class.UNIVERSAL, asn1.Type.OID, false, oidToDer(ROLE_OIDS[role])),
  ]);
  return {
    id: CERTIFICATE_POLICIES,
    name: 'certificatePolicies',
    value: asn1.create(asn1.Class.UNIVERSAL, asn1.Type.SEQUENCE, true, [policy]),
  };
}

/** The children of a constructed ASN.1 value ([] for a primitive one). */
function children(node: forge.asn1.Asn1 | undefined): forge.asn1.Asn1[] {
  return node && Array.isArray(node.value) ? node.value : [];
}

/**
 * The policy OIDs of a certificate (DER or PEM). Read with forge's ASN.1 reader, not its
 * certificate parser, so ECDSA certificates (the guests' listener) read too. Throws on bad DER.
 *
 * @example
 * certificatePolicies(cert.raw); // ['2.25.3317….1.1']
 */
export function certificatePolicies(cert: Buffer | string): string[] {
  const der = typeof cert === 'string' ? new X509Certificate(cert).raw : cert;
  const root = asn1.fromDer(forge.util.createBuffer(der.toString('binary')), true);
  const tbs = children(root)[0];
  // extensions are [3] EXPLICIT in the TBSCertificate.
  const wrapper = children(tbs).find((n) => n.tagClass === asn1.Class.CONTEXT_SPECIFIC && n.type === 3);
  for (const ext of children(children(wrapper)[0])) {
    const parts = children(ext);
    if (derToOid(parts[0]!.value as string) !== CERTIFICATE_POLICIES) continue;
    const value = parts[parts.length - 1]!.value as string;
    const policies = asn1.fromDer(forge.util.createBuffer(value), true);
    return children(policies).map((info) => derToOid(children(info)[0]!.value as string));
  }
  return [];
}

/**
 * The STORM roles a certificate carries; [] for none, or for bytes that do not parse.
 *
 * @example
 * rolesOf(hostCertPem); // ['host']
 */
export function rolesOf(cert: Buffer | string): Role[] {
  let oids: string[];
  try {
    oids = certificatePolicies(cert);
  } catch {
    return [];
  }
  return (Object.keys(ROLE_OIDS) as Role[]).filter((role) => oids.includes(ROLE_OIDS[role]));
}

export function hasRole(cert: Buffer | string, role: Role): boolean {
  return rolesOf(cert).includes(role);
}

/**
 * `sha256:<hex>` of a certificate's SubjectPublicKeyInfo: what stormd pins of the manager's key,
 * which survives the manager renewing its certificate for the same key.
 *
 * @example
 * publicKeyPin(managerClientCertPem); // 'sha256:9a0c…'
 */
export function publicKeyPin(cert: Buffer | string): string {
  const spki = new X509Certificate(cert).publicKey.export({ type: 'spki', format: 'der' });
  return `sha256:${createHash('sha256').update(spki).digest('hex')}`;
}
