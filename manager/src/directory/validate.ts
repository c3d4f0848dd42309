/**
 * What the directory accepts, in one place: the REST schemas use these patterns and limits, and
 * the store checks them again for callers that bypass HTTP.
 *
 * @example
 * checkUid('alice');            // 'alice'
 * checkUid('Alice');            // throws MGR_ERR_VALIDATION
 * checkMail('a@storm.internal'); // 'a@storm.internal'
 */
import { MgrErr } from '../errors.js';

/** POSIX-portable login and group names (Debian's NAME_REGEX, lower case, at most 32). */
export const NAME_PATTERN = '^[a-z][a-z0-9._-]{0,31}$';
/** Service accounts are named after instances: a DNS label. */
export const SERVICE_NAME_PATTERN = '^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$';
/** A practical ASCII address: no spaces, quotes, brackets or separators a filter or header would trip on. */
export const MAIL_PATTERN = '^[A-Za-z0-9.!#$%&\'*+/=?^_`{|}~-]{1,64}@[A-Za-z0-9]([A-Za-z0-9-]{0,62})(\\.[A-Za-z0-9]([A-Za-z0-9-]{0,62}))*$';
/** Absolute paths without control characters (home directories, shells). */
export const PATH_PATTERN = '^/[^\\u0000-\\u001f\\u007f]{0,254}$';
/** Display text (cn, sn, givenName, descriptions): no control characters. */
export const TEXT_PATTERN = '^[^\\u0000-\\u001f\\u007f]+$';
export const TEXT_MAX = 256;
export const MAIL_MAX = 254;
export const PASSWORD_MIN = 8;
/** Bounds the work one bind can ask of the hash function. */
export const PASSWORD_MAX = 1024;
/** uidNumber and gidNumber are 31-bit; below 1000 belongs to the guests' own system accounts. */
export const ID_MIN = 1000;
export const ID_MAX = 2_147_483_647;

const name = new RegExp(NAME_PATTERN);
const serviceName = new RegExp(SERVICE_NAME_PATTERN);
const mail = new RegExp(MAIL_PATTERN);
const path = new RegExp(PATH_PATTERN);
const text = new RegExp(TEXT_PATTERN);

function invalid(detail: string): never {
  throw MgrErr.MGR_ERR_VALIDATION(detail);
}

export function checkUid(value: string): string {
  return name.test(value) ? value : invalid(`uid ${JSON.stringify(value)}: a lower-case letter, then letters, digits, '.', '_' or '-', at most 32`);
}

export function checkGroupName(value: string): string {
  return name.test(value) ? value : invalid(`group name ${JSON.stringify(value)}: a lower-case letter, then letters, digits, '.', '_' or '-', at most 32`);
}

export function checkServiceName(value: string): string {
  return serviceName.test(value) ? value : invalid(`service account name ${JSON.stringify(value)}: lower-case letters, digits and dashes, at most 63`);
}

export function checkMail(value: string): string {
  return value.length <= MAIL_MAX && mail.test(value) ? value : invalid(`mail ${JSON.stringify(value)}: not an address this directory accepts`);
}

export function checkPath(value: string, what: string): string {
  return path.test(value) ? value : invalid(`${what} ${JSON.stringify(value)}: an absolute path without control characters, at most 255`);
}

export function checkText(value: string, what: string): string {
  return value.length <= TEXT_MAX && text.test(value) ? value : invalid(`${what}: 1 to ${TEXT_MAX} characters without control characters`);
}

export function checkId(value: number, what: string): number {
  return Number.isInteger(value) && value >= ID_MIN && value <= ID_MAX ? value : invalid(`${what} ${value}: an integer from ${ID_MIN} to ${ID_MAX}`);
}

/** A primary group may be a guest's own (e.g. 100, users), so gidNumber of a user starts at 0. */
export function checkPrimaryGid(value: number): number {
  return Number.isInteger(value) && value >= 0 && value <= ID_MAX ? value : invalid(`gidNumber ${value}: an integer from 0 to ${ID_MAX}`);
}

export function checkPassword(value: string): string {
  return value.length >= PASSWORD_MIN && value.length <= PASSWORD_MAX ? value : invalid(`password: ${PASSWORD_MIN} to ${PASSWORD_MAX} characters`);
}
