/**
 * `LdapEncoder` on ldapjs's message classes (`@ldapjs/messages`, through the `ldapjs` package).
 * ldapjs is unmaintained and loosely typed, so this is the only file that imports it, with the
 * little it uses declared here; the server never holds an ldapjs object.
 *
 * @example
 * new LdapjsEncoder().encode({ kind: 'entry', id: 2, dn: 'uid=alice,ou=people,dc=storm,dc=internal', attributes: [{ type: 'uid', values: ['alice'] }] });
 */
import ldapjs from 'ldapjs';
import type { LdapEncoder } from './encoder.js';
import type { LdapResponse } from './protocol.js';

interface Encodable {
  toBer(): { readonly buffer: Buffer };
}

/** The constructors we use, as ldapjs 3 takes them (the published types describe ldapjs 2). */
interface LdapjsMessages {
  LDAPResult: new (o: { messageId: number; protocolOp: number; status: number; matchedDN: string; diagnosticMessage: string }) => Encodable;
  SearchEntry: new (o: { messageId: number; objectName: string; attributes: { type: string; values: string[] }[] }) => Encodable;
  ExtendedResponse: new (o: {
    messageId: number;
    status: number;
    diagnosticMessage: string;
    responseName?: string;
    responseValue?: string;
  }) => Encodable;
}

// Its published types describe ldapjs 2: the module object seen through ldapjs 3's constructors above.
const lib = ldapjs as unknown as LdapjsMessages;

export class LdapjsEncoder implements LdapEncoder {
  encode(response: LdapResponse): Buffer {
    switch (response.kind) {
      case 'result':
        return Buffer.from(
          new lib.LDAPResult({
            messageId: response.id,
            protocolOp: response.op,
            status: response.code,
            matchedDN: response.matchedDn ?? '',
            diagnosticMessage: response.message ?? '',
          }).toBer().buffer,
        );
      case 'entry':
        return Buffer.from(
          new lib.SearchEntry({
            messageId: response.id,
            objectName: response.dn,
            attributes: response.attributes.map((a) => ({ type: a.type, values: [...a.values] })),
          }).toBer().buffer,
        );
      case 'extended':
        return Buffer.from(
          new lib.ExtendedResponse({
            messageId: response.id,
            status: response.code,
            diagnosticMessage: response.message ?? '',
            ...(response.name === undefined ? {} : { responseName: response.name }),
            ...(response.value === undefined ? {} : { responseValue: response.value }),
          }).toBer().buffer,
        );
    }
  }
}
