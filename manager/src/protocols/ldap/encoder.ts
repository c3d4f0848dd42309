/**
 * The seam between the server and the library that writes LDAP's BER: one method, typed by
 * protocol.ts. `LdapjsEncoder` implements it today; another library (or 60 lines of BER writer)
 * can replace it without touching the server.
 *
 * @example
 * const bytes = encoder.encode({ kind: 'result', id: 1, op: Op.bindResponse, code: ResultCode.success });
 */
import type { LdapResponse } from './protocol.js';

export interface LdapEncoder {
  /** The whole LDAPMessage; throws when the response cannot be encoded. */
  encode(response: LdapResponse): Buffer;
}
