/**
 * `POST /RPC2` on the manager's listener: the guests' XML-RPC endpoint. A body limit, the fixed method
 * table of `methods.ts`, faults for every refusal, each call logged.
 */
import type { FastifyPluginAsync, FastifyRequest } from 'fastify';
import type { GuestApi } from '../../guests/guest-api.js';
import { FAULT, GuestFault } from '../../guests/guest-fault.js';
import { encodeFault, encodeResponse, parseMethodCall, XmlRpcParseError } from './codec.js';
import { callGuestMethod } from './methods.js';

export const XMLRPC_BODY_LIMIT = 1024 * 1024;

/** The instance token from `Authorization: Bearer T`, or Basic with T as the password. */
export function guestToken(req: FastifyRequest): string | undefined {
  const h = req.headers.authorization ?? '';
  const bearer = /^Bearer\s+(\S+)$/i.exec(h);
  if (bearer) return bearer[1];
  const basic = /^Basic\s+(\S+)$/i.exec(h);
  if (basic) {
    const decoded = Buffer.from(basic[1]!, 'base64').toString('utf8');
    const i = decoded.indexOf(':');
    return i >= 0 ? decoded.slice(i + 1) : undefined;
  }
  return undefined;
}

export const xmlRpcRoutes: FastifyPluginAsync<{ guests: GuestApi }> = async (app, { guests }) => {
  const raw = (_req: FastifyRequest, body: Buffer, done: (err: Error | null, body?: Buffer) => void) => done(null, body);
  app.addContentTypeParser(['text/xml', 'application/xml'], { parseAs: 'buffer', bodyLimit: XMLRPC_BODY_LIMIT }, raw);
  // The parser above hands the body over as bytes; outside /api/v1, so not in the API document.
  app.post<{ Body: Buffer }>('/RPC2', { bodyLimit: XMLRPC_BODY_LIMIT, schema: { hide: true } }, async (request, reply) => {
    reply.type('text/xml; charset=utf-8');
    let method = '?';
    try {
      const call = parseMethodCall(request.body);
      method = call.method;
      const inst = await guests.authenticate(guestToken(request), request.ip);
      const result = await callGuestMethod(guests, inst, call.method, call.params);
      request.log.info({ instance: inst.name, method }, 'xml-rpc call');
      return encodeResponse(result);
    } catch (err) {
      const fault =
        err instanceof GuestFault
          ? err
          : err instanceof XmlRpcParseError
            ? new GuestFault(FAULT.parse, `not an XML-RPC call: ${err.message}`)
            : new GuestFault(FAULT.internal, 'internal error');
      if (fault.code === FAULT.internal) request.log.error({ err, method }, 'xml-rpc call failed');
      else request.log.info({ method, fault: fault.code, source: request.ip }, fault.message);
      return encodeFault(fault.code, fault.message);
    }
  });
};
