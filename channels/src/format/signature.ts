/**
 * The channel signature: a detached raw 64-byte Ed25519 signature over the exact bytes of
 * `channel.xml`, checked against the publisher key the subscriber pinned (SPKI PEM).
 * Same check by hand: `openssl pkeyutl -verify -pubin -inkey publisher.pub -rawin -in channel.xml -sigfile channel.xml.sig`.
 *
 * @example
 * verifyFeedSignature(feedBytes, sigBytes, pinnedPem); // throws CHAN_ERR_SIGNATURE_INVALID
 * const feed = await parseFeed(feedBytes);
 */
import { createHash, createPublicKey, type KeyObject, verify } from 'node:crypto';
import { ChanErr } from '../errors.js';

export const SIGNATURE_BYTES = 64;

/** Throws CHAN_ERR_SIGNATURE_INVALID unless `sig` is the publisher's signature of exactly `feed`. */
export function verifyFeedSignature(feed: Uint8Array, sig: Uint8Array, publicKeyPem: string | KeyObject): void {
  const key = typeof publicKeyPem === 'string' ? readPublicKey(publicKeyPem) : publicKeyPem;
  if (key.type !== 'public' || key.asymmetricKeyType !== 'ed25519')
    throw ChanErr.CHAN_ERR_KEY_INVALID('the pinned key is not an Ed25519 public key');
  if (sig.byteLength !== SIGNATURE_BYTES)
    throw ChanErr.CHAN_ERR_SIGNATURE_INVALID(`signature is ${sig.byteLength} bytes, an Ed25519 signature is ${SIGNATURE_BYTES}`);
  if (!verify(null, feed, key, sig)) throw ChanErr.CHAN_ERR_SIGNATURE_INVALID(`not signed by the key ${publicKeyFingerprint(key)}`);
}

/** An Ed25519 public key from SPKI PEM; throws CHAN_ERR_KEY_INVALID for anything else. */
export function readPublicKey(pem: string): KeyObject {
  let key: KeyObject;
  try {
    key = createPublicKey({ key: pem, format: 'pem' });
  } catch (err) {
    throw ChanErr.CHAN_ERR_KEY_INVALID('cannot read the public key PEM', { cause: err });
  }
  if (key.asymmetricKeyType !== 'ed25519') throw ChanErr.CHAN_ERR_KEY_INVALID(`public key is ${key.asymmetricKeyType ?? 'unknown'}`);
  return key;
}

/** `sha256:<hex>` of the key's SPKI DER: what a subscriber compares when pinning out of band. */
export function publicKeyFingerprint(key: string | KeyObject): string {
  const k = typeof key === 'string' ? readPublicKey(key) : key;
  const der = k.export({ type: 'spki', format: 'der' });
  return `sha256:${createHash('sha256').update(der).digest('hex')}`;
}
