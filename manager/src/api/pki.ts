/** Public trust material: `GET /api/v1/pki/ca` (a joining host pins it by fingerprint) and `GET /api/v1/pki/crl`. */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { TrustService } from '../trust/trust-service.js';

export const pkiRoutes: FastifyPluginAsyncTypebox<{ trust: TrustService }> = async (app, { trust }) => {
  app.get('/pki/ca', { schema: { produces: ['application/x-pem-file'] } }, async (_req, reply) =>
    reply.type('application/x-pem-file').header('x-storm-ca-fingerprint', trust.fingerprint).send(trust.caPem),
  );
  app.get('/pki/crl', { schema: { produces: ['application/x-pem-file'] } }, async (_req, reply) =>
    reply.type('application/x-pem-file').header('x-storm-crl-number', String(trust.crlNumber)).send(trust.crlPem),
  );
};
