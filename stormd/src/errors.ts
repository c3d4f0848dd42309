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
  STORMD_ERR_LAYER_NOT_STAGED: { status: 404, message: 'layer not staged on this host' },
  STORMD_ERR_LAYER_MISMATCH: { status: 502, message: 'fetched layer does not match its size or sha256' },
  STORMD_ERR_LAYER_IN_USE: { status: 409, message: 'layer is used by a defined domain' },
  STORMD_ERR_WRITABLE_LAYER_NOT_FOUND: { status: 404, message: 'no such writable layer' },
  /** The current writable layer is where the guest writes; merging it or freezing it in the same stack would not be. */
  STORMD_ERR_LAYER_CURRENT: { status: 409, message: 'the current writable layer cannot be used here' },
  /** One virtio disk per layer, vda…vdz: deeper stacks must be flattened (merge) first. */
  STORMD_ERR_STACK_TOO_DEEP: { status: 400, message: 'layer stack too deep' },
  /** A file in a layer that stormd cannot carry over exactly (e.g. a name that is not UTF-8). */
  STORMD_ERR_LAYER_UNSUPPORTED: { status: 422, message: 'layer content not supported' },
  /** A writable layer whose filesystem the guest left unreadable: nothing is built from it. */
  STORMD_ERR_LAYER_DAMAGED: { status: 422, message: 'writable layer damaged' },
  STORMD_ERR_PACKAGE_NOT_FOUND: { status: 404, message: 'no such package' },
  /** Attaching needs a running domain whose serial port is a pty (a domain defined before, or the test driver's, has none). */
  STORMD_ERR_SERIAL_UNAVAILABLE: { status: 409, message: 'the serial port cannot be attached' },
  STORMD_ERR_FETCH_FAILED: { status: 502, message: 'could not fetch from the manager' },
  STORMD_ERR_URL_REFUSED: { status: 400, message: "URL is not on the manager's origin" },
  STORMD_ERR_INSTANCE_NOT_FOUND: { status: 404, message: 'unknown instance' },
  STORMD_ERR_VOLUME_NOT_FOUND: { status: 404, message: 'no such volume' },
  STORMD_ERR_VOLUME_EXISTS: { status: 409, message: 'volume exists' },
  STORMD_ERR_VOLUME_IN_USE: { status: 409, message: 'volume is attached to an instance' },
  STORMD_ERR_ROUTE_NOT_FOUND: { status: 404, message: 'no such route' },
  STORMD_ERR_PAYLOAD_TOO_LARGE: { status: 413, message: 'request body too large' },
  STORMD_ERR_UNSUPPORTED_MEDIA_TYPE: { status: 415, message: 'unsupported content type' },
  STORMD_ERR_INTERNAL: { status: 500, message: 'internal error' },
  /** Serving needs the files `stormd join` writes. */
  STORMD_ERR_NOT_JOINED: { status: 500, message: 'this host has not joined a manager' },
  STORMD_ERR_IDENTITY_INVALID: { status: 500, message: "the host's join files are invalid" },
  STORMD_ERR_ALREADY_JOINED: { status: 409, message: 'this host has already joined a manager' },
  /** The manager's CA is not the one the enrolment token names: nothing was sent to it. */
  STORMD_ERR_FINGERPRINT_MISMATCH: { status: 502, message: "the manager's CA does not match the enrolment token" },
  STORMD_ERR_JOIN_REFUSED: { status: 403, message: 'the manager refused the join' },
  STORMD_ERR_MANAGER_RESPONSE: { status: 502, message: 'unexpected answer from the manager' },
});

export type StormdErrorCode = keyof typeof StormdErr;
