/**
 * Names in the realm: the realm from the appliance domain, and the principals STORM manages there —
 * `uid@REALM` for each directory user, `host/<fqdn>@REALM` and `<service>/<fqdn>@REALM` for each
 * instance.
 *
 * @example
 * realmOf('storm.internal');                       // 'STORM.INTERNAL'
 * instancePrincipals('web1.storm.internal', ['HTTP']); // ['host/web1.storm.internal', 'HTTP/web1.storm.internal']
 */
import { KERBEROS_SERVICE_PATTERN, RESERVED_KERBEROS_SERVICES } from '../../../channels/src/format/rules.js';
import { MgrErr } from '../errors.js';

/** A service a descriptor may declare (`HTTP`, `smtp`, …), as the channel format has it. */
const SERVICE_NAME = new RegExp(KERBEROS_SERVICE_PATTERN);
const RESERVED_SERVICES = new Set<string>(RESERVED_KERBEROS_SERVICES);

/** The realm is the appliance domain in upper case, as Kerberos convention has it. */
export function realmOf(domain: string): string {
  return domain.toUpperCase();
}

/** Checks one declared service name; `host` is refused because every instance has it already. */
export function checkServiceName(name: string): string {
  if (!SERVICE_NAME.test(name))
    throw MgrErr.MGR_ERR_VALIDATION(`Kerberos service ${JSON.stringify(name)}: a letter, then letters, digits or '-', at most 32`);
  if (RESERVED_SERVICES.has(name.toLowerCase()))
    throw MgrErr.MGR_ERR_VALIDATION(
      `Kerberos service ${JSON.stringify(name)} is reserved (every instance has host/; krbtgt, kadmin and K belong to the KDC)`,
    );
  return name;
}

/** The principals (without the realm) an instance holds: its host principal first, then its services. */
export function instancePrincipals(fqdn: string, services: readonly string[] = []): string[] {
  return [`host/${fqdn}`, ...[...new Set(services)].map((s) => `${checkServiceName(s)}/${fqdn}`)];
}

export type PrincipalKind = { kind: 'user'; uid: string } | { kind: 'instance'; service: string; fqdn: string } | { kind: 'kdc' };

/** What a principal name (with or without its realm) is to STORM. */
export function classifyPrincipal(principal: string): PrincipalKind {
  const name = principal.replace(/@[^@]*$/, '');
  const slash = name.indexOf('/');
  if (name === 'K/M' || name.startsWith('krbtgt/') || name.startsWith('kadmin/')) return { kind: 'kdc' };
  if (slash < 0) return { kind: 'user', uid: name };
  return { kind: 'instance', service: name.slice(0, slash), fqdn: name.slice(slash + 1) };
}
