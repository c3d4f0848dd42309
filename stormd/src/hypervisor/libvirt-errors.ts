/**
 * Maps libvirt failures to the stormd catalog. The node binding gives every LibvirtError code -1,
 * so the mapping reads libvirt's (stable, English) message prefixes instead.
 *
 * @example
 * try { await hv.domainLookupByName(name); } catch (err) { throw fromLibvirt(err, name); }
 */
import { StormError } from '../../../common/errors.js';
import { StormdErr } from '../errors.js';

const RULES: ReadonlyArray<readonly [RegExp, (subject: string, cause: unknown) => StormError]> = [
  [/^Domain not found/i, (s, cause) => StormdErr.STORMD_ERR_DOMAIN_NOT_FOUND(s, { cause })],
  [/already exists|already defined/i, (s, cause) => StormdErr.STORMD_ERR_DOMAIN_EXISTS(`${s}: ${messageOf(cause)}`, { cause })],
  [
    /is already running|domain is not running|Requested operation is not valid/i,
    (s, cause) => StormdErr.STORMD_ERR_DOMAIN_STATE(`${s}: ${messageOf(cause)}`, { cause }),
  ],
];

function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** The catalog error for a failure of a libvirt call about `subject` (usually a domain name). */
export function fromLibvirt(err: unknown, subject: string): StormError {
  if (err instanceof StormError) return err;
  const message = messageOf(err);
  for (const [pattern, make] of RULES) if (pattern.test(message)) return make(subject, err);
  return StormdErr.STORMD_ERR_LIBVIRT(`${subject}: ${message}`, { cause: err });
}

/** True when `err` says the domain is already off, which destroy and stop treat as success. */
export function isNotRunning(err: unknown): boolean {
  return /domain is not running|not active/i.test(messageOf(err));
}
