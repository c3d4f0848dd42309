/**
 * LDAPv3 on the wire (RFC 4511), as far as this server speaks it: the protocol-op tags, result
 * codes and OIDs, and the typed requests the decoder produces and responses the encoder takes.
 * Nothing here depends on ldapjs.
 */
import type { Filter } from './filter.js';

/** [APPLICATION n] tags of the protocol ops. */
export const Op = {
  bindRequest: 0x60,
  bindResponse: 0x61,
  unbindRequest: 0x42,
  searchRequest: 0x63,
  searchResultEntry: 0x64,
  searchResultDone: 0x65,
  modifyRequest: 0x66,
  modifyResponse: 0x67,
  addRequest: 0x68,
  addResponse: 0x69,
  delRequest: 0x4a,
  delResponse: 0x6b,
  modDnRequest: 0x6c,
  modDnResponse: 0x6d,
  compareRequest: 0x6e,
  compareResponse: 0x6f,
  abandonRequest: 0x50,
  extendedRequest: 0x77,
  extendedResponse: 0x78,
} as const;

export const ResultCode = {
  success: 0,
  operationsError: 1,
  protocolError: 2,
  timeLimitExceeded: 3,
  sizeLimitExceeded: 4,
  compareFalse: 5,
  compareTrue: 6,
  authMethodNotSupported: 7,
  adminLimitExceeded: 11,
  unavailableCriticalExtension: 12,
  confidentialityRequired: 13,
  noSuchAttribute: 16,
  undefinedAttributeType: 17,
  noSuchObject: 32,
  invalidDNSyntax: 34,
  inappropriateAuthentication: 48,
  invalidCredentials: 49,
  insufficientAccessRights: 50,
  busy: 51,
  unavailable: 52,
  unwillingToPerform: 53,
  other: 80,
} as const;
export type ResultCode = (typeof ResultCode)[keyof typeof ResultCode];

export const Oid = {
  /** RFC 4532 "Who am I?" — what `ldapwhoami` asks after binding. */
  whoAmI: '1.3.6.1.4.1.4203.1.11.3',
  /** RFC 3062 password modify (`ldappasswd`): refused, the directory is written through the API. */
  passwordModify: '1.3.6.1.4.1.4203.1.11.1',
  /** RFC 4511 §4.14: the connection continues in TLS after the success answer. */
  startTls: '1.3.6.1.4.1.1466.20037',
  /** RFC 4511 §4.4.1: the unsolicited notice sent before the server drops a connection. */
  noticeOfDisconnection: '1.3.6.1.4.1.1466.20036',
  /** ManageDsaIT (RFC 3296): we hold no referrals, so honouring it changes nothing. */
  manageDsaIT: '2.16.840.1.113730.3.4.2',
} as const;

export interface Control {
  readonly type: string;
  readonly critical: boolean;
  readonly value: Buffer | undefined;
}

interface RequestBase {
  readonly id: number;
  readonly controls: readonly Control[];
}

export type BindAuth =
  | { readonly kind: 'simple'; readonly password: Buffer }
  | { readonly kind: 'sasl'; readonly mechanism: string }
  | { readonly kind: 'other'; readonly tag: number };

export interface BindRequest extends RequestBase {
  readonly op: 'bind';
  readonly version: number;
  readonly name: string;
  readonly auth: BindAuth;
}

export type Scope = 'base' | 'one' | 'sub' | 'children';

export interface SearchRequest extends RequestBase {
  readonly op: 'search';
  readonly base: string;
  readonly scope: Scope;
  readonly sizeLimit: number;
  readonly timeLimit: number;
  readonly typesOnly: boolean;
  /** null when the filter was well-formed but past the complexity limits (answered adminLimitExceeded). */
  readonly filter: Filter | null;
  readonly attributes: readonly string[];
}

export interface CompareRequest extends RequestBase {
  readonly op: 'compare';
  readonly entry: string;
  readonly attribute: string;
  readonly value: Buffer;
}

export interface ExtendedRequest extends RequestBase {
  readonly op: 'extended';
  readonly name: string;
  readonly value: Buffer | undefined;
}

/** add, modify, delete, modifyDN: refused; only the op matters for the answer. */
export interface WriteRequest extends RequestBase {
  readonly op: 'write';
  readonly responseOp: number;
}

export type LdapRequest =
  | BindRequest
  | SearchRequest
  | CompareRequest
  | ExtendedRequest
  | WriteRequest
  | { readonly op: 'unbind'; readonly id: number; readonly controls: readonly Control[] }
  | { readonly op: 'abandon'; readonly id: number; readonly controls: readonly Control[]; readonly target: number };

export interface EntryAttribute {
  readonly type: string;
  readonly values: readonly string[];
}

export type LdapResponse =
  | {
      readonly kind: 'result';
      readonly id: number;
      readonly op: number;
      readonly code: ResultCode;
      readonly message?: string;
      readonly matchedDn?: string;
    }
  | { readonly kind: 'entry'; readonly id: number; readonly dn: string; readonly attributes: readonly EntryAttribute[] }
  | {
      readonly kind: 'extended';
      readonly id: number;
      readonly code: ResultCode;
      readonly message?: string;
      readonly name?: string;
      readonly value?: string;
    };
