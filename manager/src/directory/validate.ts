/**
 * What the directory accepts: the patterns and limits of its wire types (`manager/protocol/directory.ts`),
 * checked again here for callers that bypass HTTP.
 *
 * @example
 * checkUid('alice');            // 'alice'
 * checkUid('Alice');            // throws MGR_ERR_VALIDATION
 * checkMail('a@storm.internal'); // 'a@storm.internal'
 */
import { MgrErr } from '../errors.js';

import {
  ID_MAX,
  ID_MIN,
  MAIL_MAX,
  MAIL_PATTERN,
  NAME_PATTERN,
  PASSWORD_MAX,
  PASSWORD_MIN,
  PATH_PATTERN,
  SERVICE_NAME_PATTERN,
  TEXT_MAX,
  TEXT_PATTERN,
} from '../../protocol/directory.js';

export {
  ID_MAX,
  ID_MIN,
  MAIL_MAX,
  MAIL_PATTERN,
  NAME_PATTERN,
  PASSWORD_MAX,
  PASSWORD_MIN,
  PATH_PATTERN,
  SERVICE_NAME_PATTERN,
  TEXT_MAX,
  TEXT_PATTERN,
};

const name = new RegExp(NAME_PATTERN);
const serviceName = new RegExp(SERVICE_NAME_PATTERN);
const mail = new RegExp(MAIL_PATTERN);
const path = new RegExp(PATH_PATTERN);
const text = new RegExp(TEXT_PATTERN);

function invalid(detail: string): never {
  throw MgrErr.MGR_ERR_VALIDATION(detail);
}

export function checkUid(value: string): string {
  return name.test(value)
    ? value
    : invalid(`uid ${JSON.stringify(value)}: a lower-case letter, then letters, digits, '.', '_' or '-', at most 32`);
}

export function checkGroupName(value: string): string {
  return name.test(value)
    ? value
    : invalid(`group name ${JSON.stringify(value)}: a lower-case letter, then letters, digits, '.', '_' or '-', at most 32`);
}

export function checkServiceName(value: string): string {
  return serviceName.test(value)
    ? value
    : invalid(`service account name ${JSON.stringify(value)}: lower-case letters, digits and dashes, at most 63`);
}

export function checkMail(value: string): string {
  return value.length <= MAIL_MAX && mail.test(value)
    ? value
    : invalid(`mail ${JSON.stringify(value)}: not an address this directory accepts`);
}

export function checkPath(value: string, what: string): string {
  return path.test(value) ? value : invalid(`${what} ${JSON.stringify(value)}: an absolute path without control characters, at most 255`);
}

export function checkText(value: string, what: string): string {
  return value.length <= TEXT_MAX && text.test(value) ? value : invalid(`${what}: 1 to ${TEXT_MAX} characters without control characters`);
}

export function checkId(value: number, what: string): number {
  return Number.isInteger(value) && value >= ID_MIN && value <= ID_MAX
    ? value
    : invalid(`${what} ${value}: an integer from ${ID_MIN} to ${ID_MAX}`);
}

/** A primary group may be a guest's own (e.g. 100, users), so gidNumber of a user starts at 0. */
export function checkPrimaryGid(value: number): number {
  return Number.isInteger(value) && value >= 0 && value <= ID_MAX ? value : invalid(`gidNumber ${value}: an integer from 0 to ${ID_MAX}`);
}

export function checkPassword(value: string): string {
  return value.length >= PASSWORD_MIN && value.length <= PASSWORD_MAX
    ? value
    : invalid(`password: ${PASSWORD_MIN} to ${PASSWORD_MAX} characters`);
}
