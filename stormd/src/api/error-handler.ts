/**
 * stormd's errors as HTTP answers: the shared mechanism (common/http-errors.ts) with stormd's
 * catalog.
 *
 * @example
 * installErrorHandlers(app); // after which `throw StormdErr.STORMD_ERR_LAYER_IN_USE(sha)` answers 409
 */
import { httpErrorHandlers } from '../../../common/http-errors.js';
import { StormdErr } from '../errors.js';

export const { installErrorHandlers, routeNotFound } = httpErrorHandlers({
  badInput: (message) => StormdErr.STORMD_ERR_BAD_INPUT(message),
  payloadTooLarge: () => StormdErr.STORMD_ERR_PAYLOAD_TOO_LARGE(),
  unsupportedMediaType: (message) => StormdErr.STORMD_ERR_UNSUPPORTED_MEDIA_TYPE(message),
  internal: (cause) => StormdErr.STORMD_ERR_INTERNAL(undefined, { cause }),
  routeNotFound: (what) => StormdErr.STORMD_ERR_ROUTE_NOT_FOUND(what),
});
