/**
 * The uplink's entries of the manager's one catalog: `manager/src/errors.ts` spreads
 * `UPLINK_ERRORS` into `MgrErr`.
 *
 * @example
 * throw UplinkErr.MGR_ERR_UPLINK_OFF('forward tcp 8080');
 */
import { defineErrors } from '../../../common/errors.js';

export const UPLINK_ERRORS = {
  /** A forward asked of a manager whose appliance network has no way out (`--uplink none`). */
  MGR_ERR_UPLINK_OFF: { status: 409, message: 'the appliance network has no uplink (start storm-manager with --uplink nat)' },
  /** nft or the forwarding switch failed: the message has nft's own words and what to do. */
  MGR_ERR_UPLINK: { status: 500, message: "the uplink's firewall rules could not be applied" },
} as const;

export const UplinkErr = defineErrors(UPLINK_ERRORS);
