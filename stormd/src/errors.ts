/**
 * The stormd error catalog: every error stormd raises or answers carries one of these codes.
 *
 * @example
 * throw StormdErr.STORMD_ERR_DOMAIN_NOT_FOUND('storm-web1'); // 404, "unknown domain: storm-web1"
 */
import { defineErrors } from '../../common/errors.js';

export const StormdErr = defineErrors({
  STORMD_ERR_BAD_INPUT: { status: 400, message: 'bad input' },
  STORMD_ERR_DOMAIN_NOT_FOUND: { status: 404, message: 'unknown domain' },
  STORMD_ERR_DOMAIN_EXISTS: { status: 409, message: 'domain exists' },
  STORMD_ERR_DOMAIN_STATE: { status: 409, message: 'domain is in the wrong state' },
  STORMD_ERR_DOMAIN_TIMEOUT: { status: 504, message: 'domain did not reach the expected state in time' },
  STORMD_ERR_UNKNOWN_DRIVER: { status: 400, message: 'no hypervisor driver for URI' },
  STORMD_ERR_NOT_CONNECTED: { status: 503, message: 'hypervisor not connected' },
  STORMD_ERR_LIBVIRT: { status: 502, message: 'libvirt failure' },
  STORMD_ERR_TOOL_FAILED: { status: 500, message: 'host tool failed' },
  STORMD_ERR_LAYER_EXISTS: { status: 409, message: 'instance layer exists' },
  STORMD_ERR_LAYER_FILE_NOT_FOUND: { status: 404, message: 'no such file in the instance layer' },
});

export type StormdErrorCode = keyof typeof StormdErr;
