/**
 * stormd reads a CRL (its number, validity and the CA's signature) with the trust module's parser;
 * one that does not check is STORMD_ERR_IDENTITY_INVALID.
 *
 * @example
 * const info = readCrl(crlPem, caPem); // { crlNumber: 7, thisUpdate, nextUpdate, revokedSerials: ['ab01'] }
 */
import { type CrlInfo, readCrl as parseCrl } from '../../../trust/crl-info.js';
import { StormdErr } from '../errors.js';

export type { CrlInfo };

export function readCrl(crlPem: string, caPem: string): CrlInfo {
  return parseCrl(crlPem, caPem, (why, cause) =>
    StormdErr.STORMD_ERR_IDENTITY_INVALID(`CRL: ${why}`, cause === undefined ? undefined : { cause }),
  );
}
