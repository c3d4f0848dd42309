/**
 * The PKI's entries of the manager's one catalog: `manager/src/errors.ts` spreads `PKI_ERRORS` into
 * `MgrErr`; `PkiErr` builds the same codes for this module, which stormd and the CLI share.
 *
 * @example
 * throw PkiErr.MGR_ERR_PKI_CSR_INVALID('signature does not verify');
 */
import { defineErrors } from '../common/errors.js';

export const PKI_ERRORS = {
  /** ca.pem / ca.key unreadable, not a CA, incomplete or too open; never silently replaced. */
  MGR_ERR_PKI_CA_INVALID: { status: 500, message: 'the certificate authority files are invalid' },
  MGR_ERR_PKI_CA_KEY_MISMATCH: { status: 500, message: 'ca.key does not match ca.pem' },
  MGR_ERR_PKI_CSR_INVALID: { status: 400, message: 'invalid certificate signing request' },
  MGR_ERR_PKI_NAME_INVALID: { status: 400, message: 'invalid certificate name' },
  MGR_ERR_PKI_SERIAL_INVALID: { status: 400, message: 'invalid certificate serial number' },
  MGR_ERR_PKI_TOKEN_MALFORMED: { status: 400, message: 'malformed enrolment token' },
  MGR_ERR_PKI_FINGERPRINT_INVALID: { status: 400, message: 'invalid certificate fingerprint' },
  /** A joining host reached a manager whose CA is not the one its token names. */
  MGR_ERR_PKI_FINGERPRINT_MISMATCH: { status: 502, message: "the manager's CA does not match the enrolment token" },
  MGR_ERR_PKI_DISCOVERY_FAILED: { status: 502, message: "could not read the manager's CA" },
  /** A peer passed TLS but is not who this end talks to (for example a client certificate for another name). */
  MGR_ERR_PKI_PEER_REJECTED: { status: 403, message: 'peer certificate refused' },
  MGR_ERR_PKI_BUNDLE_EXISTS: { status: 409, message: 'the bundle folder already holds PKI files' },
  /** A CRL that is not PEM, not signed by the CA, or without a CRL number. */
  MGR_ERR_PKI_CRL_INVALID: { status: 500, message: 'the CRL is invalid' },
} as const;

export const PkiErr = defineErrors(PKI_ERRORS);

export type PkiErrCode = keyof typeof PkiErr;
