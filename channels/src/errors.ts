/** The one error catalog of `storm-channel` and of the channel-format reader the manager imports. */
import { defineErrors } from '../../common/errors.js';

export const ChanErr = defineErrors({
  CHAN_ERR_USAGE: { status: 400, message: 'invalid arguments' },
  CHAN_ERR_KEY_EXISTS: { status: 409, message: 'publisher key already exists (use --force to replace it)' },
  CHAN_ERR_KEY_INVALID: { status: 400, message: 'not an Ed25519 key' },
  CHAN_ERR_SOURCE_INVALID: { status: 400, message: 'invalid channel source' },
  CHAN_ERR_MANIFEST_INVALID: { status: 400, message: 'invalid manifest' },
  CHAN_ERR_DUPLICATE_VERSION: { status: 409, message: 'appliance version declared twice' },
  CHAN_ERR_LAYER_SOURCE: { status: 400, message: 'layer source unusable' },
  CHAN_ERR_SQUASHFS: { status: 500, message: 'mksquashfs failed' },
  CHAN_ERR_BASE_URL_INVALID: { status: 400, message: 'base URL must be an absolute http(s) URL' },
  CHAN_ERR_PUBLISHED_INVALID: { status: 400, message: 'invalid publication time' },
  CHAN_ERR_IO: { status: 500, message: 'file operation failed' },
  CHAN_ERR_TOO_LARGE: { status: 413, message: 'document too large' },
  CHAN_ERR_XML_FORBIDDEN: { status: 400, message: 'forbidden XML construct' },
  CHAN_ERR_XML_MALFORMED: { status: 400, message: 'malformed XML' },
  CHAN_ERR_FEED_INVALID: { status: 400, message: 'invalid channel feed' },
  CHAN_ERR_DESCRIPTOR_INVALID: { status: 400, message: 'invalid appliance descriptor' },
  CHAN_ERR_SIGNATURE_INVALID: { status: 400, message: 'channel signature does not verify' },
  CHAN_ERR_SERVE_DIR: { status: 400, message: 'cannot serve directory' },
});

export type ChanErrCode = keyof typeof ChanErr;
