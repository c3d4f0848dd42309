/**
 * The one place stormd's errors become HTTP answers `{ code, message }`: catalog errors keep their
 * code and status; fastify's own (validation, body limit, content type) map to catalog codes;
 * anything else is a logged STORMD_ERR_INTERNAL.
 *
 * @example
 * installErrorHandlers(app); // after which `throw StormdErr.STORMD_ERR_LAYER_IN_USE(sha)` answers 409
 */
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { StormError } from '../../../common/errors.js';
import { StormdErr } from '../errors.js';

export function toStormError(err: FastifyError | StormError | Error): StormError {
  if (err instanceof StormError) return err;
  const fe = err as FastifyError;
  if (fe.validation) return StormdErr.STORMD_ERR_BAD_INPUT(fe.message);
  switch (fe.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return StormdErr.STORMD_ERR_PAYLOAD_TOO_LARGE();
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return StormdErr.STORMD_ERR_UNSUPPORTED_MEDIA_TYPE(fe.message);
  }
  if (typeof fe.statusCode === 'number' && fe.statusCode >= 400 && fe.statusCode < 500) return StormdErr.STORMD_ERR_BAD_INPUT(fe.message);
  return StormdErr.STORMD_ERR_INTERNAL(undefined, { cause: err });
}

export function installErrorHandlers(app: FastifyInstance): void {
  app.setErrorHandler(async (err: FastifyError | StormError, request, reply) => {
    const storm = toStormError(err);
    if (storm.statusCode >= 500) request.log.error({ err }, 'request failed');
    else request.log.info({ code: storm.code }, storm.message);
    // details (e.g. the missing layers) are part of the answer; the catalog decides what they hold
    return reply.status(storm.statusCode).send(storm.toJSON());
  });
  app.setNotFoundHandler(routeNotFound);
}

export async function routeNotFound(request: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> {
  const err = StormdErr.STORMD_ERR_ROUTE_NOT_FOUND(`${request.method} ${request.url.split('?')[0]}`);
  return reply.status(err.statusCode).send(err.toJSON());
}
