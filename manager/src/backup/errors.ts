/**
 * Backup and restore's entries of the manager's one catalog: `manager/src/errors.ts` spreads
 * `BACKUP_ERRORS` into `MgrErr`. The statuses only keep the catalog uniform: these are command errors.
 *
 * @example
 * throw BackupErr.MGR_ERR_BACKUP_DAMAGED('chunk 3 of 9 fails authentication');
 */
import { defineErrors } from '../../../common/errors.js';

export const BACKUP_ERRORS = {
  /** Not a STORM manager backup at all, or a format version this manager cannot read. */
  MGR_ERR_BACKUP_FORMAT: { status: 400, message: 'not a STORM manager backup this version can read' },
  /** The header's MAC fails: the passphrase is wrong, or the header (salt, parameters, length) was changed. */
  MGR_ERR_BACKUP_PASSPHRASE: { status: 401, message: "wrong passphrase, or the backup's header is damaged" },
  /** A chunk fails authentication, or the contents do not match their manifest. */
  MGR_ERR_BACKUP_DAMAGED: { status: 400, message: 'the backup is damaged' },
  MGR_ERR_BACKUP_TRUNCATED: { status: 400, message: 'the backup is cut short' },
  /** No passphrase could be read, or a new one is too short or typed differently twice. */
  MGR_ERR_BACKUP_NO_PASSPHRASE: { status: 400, message: 'no usable passphrase' },
  /** The folder to back up is not a manager's data folder, or changed while being read. */
  MGR_ERR_BACKUP_SOURCE: { status: 400, message: 'cannot back up this data folder' },
  /** restore's target folder holds files and --force was not given. */
  MGR_ERR_BACKUP_TARGET_NOT_EMPTY: { status: 409, message: 'the target folder is not empty' },
  /** The backup is intact but cannot be restored here (for example a newer schema). */
  MGR_ERR_BACKUP_INCOMPATIBLE: { status: 409, message: 'this backup cannot be restored by this storm-manager' },
} as const;

export const BackupErr = defineErrors(BACKUP_ERRORS);
