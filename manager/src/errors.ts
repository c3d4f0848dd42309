/** The manager's one error catalog; `http/error-handler.ts` maps every error to `{ code, message }`. */
import { defineErrors } from '../../common/errors.js';
import { PKI_ERRORS } from '../../trust/errors.js';
import { BACKUP_ERRORS } from './backup/errors.js';
import { UPLINK_ERRORS } from './network/uplink-errors.js';

export const MgrErr = defineErrors({
  MGR_ERR_UNAUTHORIZED: { status: 401, message: 'authentication required' },
  MGR_ERR_FORBIDDEN: { status: 403, message: 'forbidden' },
  MGR_ERR_LOGIN_FAILED: { status: 401, message: 'wrong username or password' },
  MGR_ERR_CSRF: { status: 403, message: 'missing or wrong CSRF token (send the x-csrf-token header from GET /api/v1/session)' },
  /** A WebSocket opened by a page of another site, which the browser would have sent the session cookie for. */
  MGR_ERR_ORIGIN: { status: 403, message: "cross-origin WebSocket refused: its Origin is not this manager's" },
  MGR_ERR_TOO_MANY_ATTEMPTS: { status: 429, message: 'too many failed logins; wait and try again' },
  MGR_ERR_NOT_FOUND: { status: 404, message: 'not found' },
  MGR_ERR_ROUTE_NOT_FOUND: { status: 404, message: 'no such route' },
  MGR_ERR_VALIDATION: { status: 400, message: 'invalid request' },
  MGR_ERR_CONFLICT: { status: 409, message: 'conflict' },
  MGR_ERR_RECORD_QUOTA: { status: 409, message: 'DNS record quota reached' },
  MGR_ERR_PAYLOAD_TOO_LARGE: { status: 413, message: 'request body too large' },
  MGR_ERR_UNSUPPORTED_MEDIA_TYPE: { status: 415, message: 'unsupported content type' },
  MGR_ERR_UNAVAILABLE: { status: 503, message: 'service unavailable' },
  MGR_ERR_FETCH_REFUSED: { status: 400, message: 'refused to fetch' },
  MGR_ERR_FETCH_FAILED: { status: 502, message: 'fetch failed' },
  MGR_ERR_FETCH_TOO_LARGE: { status: 502, message: 'response exceeds the size limit' },
  MGR_ERR_FETCH_TIMEOUT: { status: 504, message: 'fetch timed out' },
  MGR_ERR_CHANNEL_REFUSED: { status: 422, message: 'channel refused' },
  MGR_ERR_CHANNEL_FAILED: { status: 502, message: 'channel refresh failed' },
  MGR_ERR_HOST: { status: 502, message: 'the host refused' },
  /** Only for a host that does not answer at all: the connection was refused or never opened. */
  MGR_ERR_HOST_UNREACHABLE: { status: 503, message: 'host unreachable' },
  /** The host took the call but did not answer in time; the message says what it was doing. */
  MGR_ERR_HOST_TIMEOUT: { status: 504, message: 'the host took too long' },
  /** The host heartbeats but one of its own checks fails; the message is its reason. */
  MGR_ERR_HOST_DEGRADED: { status: 503, message: 'host degraded' },
  /** A launch or move pinned to a host the administrator drained (or declared dead); the message says how to undrain it. */
  MGR_ERR_HOST_DRAINED: { status: 409, message: 'host drained' },
  /** A host's fence command failed or timed out: the host was not declared dead; `details` has its exit code and output. */
  MGR_ERR_FENCE_FAILED: { status: 502, message: 'the fence command failed; the host was not declared dead' },
  MGR_ERR_NO_CAPACITY: { status: 409, message: 'no host can take the instance' },
  MGR_ERR_DNS_CONFIG: { status: 500, message: 'invalid DNS service configuration' },
  MGR_ERR_LDAP_CONFIG: { status: 500, message: 'invalid LDAP service configuration' },
  MGR_ERR_DHCP_CONFIG: { status: 500, message: 'invalid DHCP service configuration' },
  MGR_ERR_DHCP_INTERFACE: { status: 500, message: 'the DHCP interface is missing or does not carry the server address' },
  MGR_ERR_KDC: { status: 500, message: 'Kerberos KDC failure' },
  MGR_ERR_LAYER_CHECKSUM: { status: 502, message: 'layer failed its checksum' },
  MGR_ERR_LAYER_SIZE: { status: 502, message: 'layer size differs from its descriptor' },
  MGR_ERR_VOLUME_NOT_FOUND: { status: 404, message: 'no such volume' },
  MGR_ERR_VOLUME_EXISTS: { status: 409, message: 'a volume of that name exists' },
  MGR_ERR_VOLUME_ATTACHED: { status: 409, message: 'the volume is attached' },
  MGR_ERR_VOLUME_HOST: { status: 409, message: "the instance is not on the volume's host" },
  /** A move of a running instance without `--allow-restart` (live migration is another route). */
  MGR_ERR_INSTANCE_RUNNING: {
    status: 409,
    message: 'the instance is running: stop it first, or pass --allow-restart to stop it, move it and start it on the target',
  },
  /** A move this manager cannot make yet: an attached data volume, a traditional (disk-image) instance. */
  MGR_ERR_MOVE_UNSUPPORTED: { status: 409, message: 'this instance cannot be moved' },
  MGR_ERR_IMAGE_REFUSED: { status: 422, message: 'disk image refused' },
  MGR_ERR_INTERNAL: { status: 500, message: 'internal error' },
  ...PKI_ERRORS,
  ...BACKUP_ERRORS,
  ...UPLINK_ERRORS,
});

export type MgrErrCode = keyof typeof MgrErr;
