/**
 * The one mechanism by which a server's errors become HTTP answers `{ code, message }`: catalog
 * errors keep their code and status; fastify's own (validation, body limit, content type) map to
 * the program's catalog codes; anything else is a logged internal error. Each program passes the
 * entries of its own catalog, so codes stay `MGR_ERR_*` in the manager and `STORMD_ERR_*` in stormd.
 *
 * @example
 * const { installErrorHandlers, routeNotFound } = httpErrorHandlers({
 *   badInput: (m) => Err.MGR_ERR_VALIDATION(m), payloadTooLarge: () => Err.MGR_ERR_PAYLOAD_TOO_LARGE(),
 *   unsupportedMediaType: (m) => Err.MGR_ERR_UNSUPPORTED_MEDIA_TYPE(m),
 *   internal: (cause) => Err.MGR_ERR_INTERNAL(undefined, { cause }), routeNotFound: (w) => Err.MGR_ERR_ROUTE_NOT_FOUND(w),
 * });
 */
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { StormError } from './errors.js';

/** The catalog entries a server answers fastify's own errors with. */
export interface HttpErrorCatalog {
  badInput(message: string): StormError;
  payloadTooLarge(): StormError;
  unsupportedMediaType(message: string): StormError;
  internal(cause: unknown): StormError;
  routeNotFound(what: string): StormError;
}

export interface HttpErrorHandlers {
  toStormError(err: FastifyError | StormError | Error): StormError;
  installErrorHandlers(app: FastifyInstance): void;
  routeNotFound(request: FastifyRequest, reply: FastifyReply): Promise<FastifyReply>;
}

export function httpErrorHandlers(catalog: HttpErrorCatalog): HttpErrorHandlers {
  const toStormError = (err: FastifyError | StormError | Error): StormError => {
    if (err instanceof StormError) return err;
    const fe = err as FastifyError;
    if (fe.validation) return catalog.badInput(fe.message);
    if (fe.code === 'FST_ERR_CTP_BODY_TOO_LARGE') return catalog.payloadTooLarge();
    if (fe.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE') return catalog.unsupportedMediaType(fe.message);
    // Fastify's other 4xx (an empty JSON body, a bad Content-Length, …) are the client's input.
    if (typeof fe.statusCode === 'number' && fe.statusCode >= 400 && fe.statusCode < 500) return catalog.badInput(fe.message);
    return catalog.internal(err);
  };
  const routeNotFound = async (request: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> => {
    const err = catalog.routeNotFound(`${request.method} ${request.url.split('?')[0]}`);
    return reply.status(err.statusCode).send(err.toJSON());
  };
  const installErrorHandlers = (app: FastifyInstance): void => {
    app.setErrorHandler(async (err: FastifyError | StormError, request, reply) => {
      const storm = toStormError(err);
      if (storm.statusCode >= 500) request.log.error({ err }, 'request failed');
      else request.log.info({ code: storm.code }, storm.message);
      // details (e.g. the missing layers) are part of the answer; the catalog decides what they hold
      return reply.status(storm.statusCode).send(storm.toJSON());
    });
    app.setNotFoundHandler(routeNotFound);
  };
  return { toStormError, installErrorHandlers, routeNotFound };
}
