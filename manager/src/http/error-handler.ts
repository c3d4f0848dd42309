/**
 * The one place errors become HTTP answers: catalog errors keep their code and status, fastify's own
 * errors (validation, body limits, content type) map to catalog codes, anything else is a logged 500.
 */
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { StormError } from '../../../common/errors.js';
import { MgrErr } from '../errors.js';

function toStormError(err: FastifyError | StormError | Error): StormError {
  if (err instanceof StormError) return err;
  const fe = err as FastifyError;
  if (fe.validation) return MgrErr.MGR_ERR_VALIDATION(fe.message);
  switch (fe.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return MgrErr.MGR_ERR_PAYLOAD_TOO_LARGE();
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return MgrErr.MGR_ERR_UNSUPPORTED_MEDIA_TYPE(fe.message);
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
    case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
      return MgrErr.MGR_ERR_VALIDATION(fe.message);
  }
  if (typeof fe.statusCode === 'number' && fe.statusCode >= 400 && fe.statusCode < 500) return MgrErr.MGR_ERR_VALIDATION(fe.message);
  return MgrErr.MGR_ERR_INTERNAL(undefined, { cause: err });
}

export function installErrorHandlers(app: FastifyInstance): void {
  app.setErrorHandler(async (err: FastifyError | StormError, request, reply) => {
    const storm = toStormError(err);
    if (storm.statusCode >= 500) request.log.error({ err }, 'request failed');
    else request.log.info({ code: storm.code }, storm.message);
    return reply.status(storm.statusCode).send(storm.toJSON());
  });
  app.setNotFoundHandler(routeNotFound);
}

export async function routeNotFound(request: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> {
  const err = MgrErr.MGR_ERR_ROUTE_NOT_FOUND(`${request.method} ${request.url.split('?')[0]}`);
  return reply.status(err.statusCode).send(err.toJSON());
}
