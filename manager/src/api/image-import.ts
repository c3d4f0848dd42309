/** `POST /api/v1/images/import`: a disk image's bytes become a traditional appliance of the local channel (`storm image import`). */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { ImageImportAnswer, ImageImportQuery } from '../../protocol/index.js';
import type { ImageImport } from '../cloud-images/image-import.js';

export const imageImportRoutes: FastifyPluginAsyncTypebox<{ imports: ImageImport }> = async (app, { imports }) => {
  // The body is streamed into the cache as it comes, never buffered: the route reads the raw request.
  app.addContentTypeParser('application/octet-stream', (_request, _payload, done) => done(null));
  app.post('/images/import', { schema: { querystring: ImageImportQuery, response: { 201: ImageImportAnswer } } }, async (request, reply) =>
    reply.status(201).send(await imports.import(request.query, request.raw)),
  );
};
