/**
 * The manager's errors as HTTP answers: the shared mechanism (common/http-errors.ts) with the
 * manager's catalog.
 */
import { httpErrorHandlers } from '../../../common/http-errors.js';
import { MgrErr } from '../errors.js';

export const { installErrorHandlers, routeNotFound } = httpErrorHandlers({
  badInput: (message) => MgrErr.MGR_ERR_VALIDATION(message),
  payloadTooLarge: () => MgrErr.MGR_ERR_PAYLOAD_TOO_LARGE(),
  unsupportedMediaType: (message) => MgrErr.MGR_ERR_UNSUPPORTED_MEDIA_TYPE(message),
  internal: (cause) => MgrErr.MGR_ERR_INTERNAL(undefined, { cause }),
  routeNotFound: (what) => MgrErr.MGR_ERR_ROUTE_NOT_FOUND(what),
});
