/** The publisher's Ed25519 key pair: PEM files that openssl reads as they are. */
import { createPrivateKey, createPublicKey, generateKeyPairSync, type KeyObject, sign } from 'node:crypto';
import { mkdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { ChanErr } from '../errors.js';
import { publicKeyFingerprint } from '../format/signature.js';
import { writeFileAtomic } from './store.js';

export const PRIVATE_KEY_FILE = 'publisher.key';
export const PUBLIC_KEY_FILE = 'publisher.pub';

export interface PublisherKeyFiles {
  readonly privateKeyPath: string;
  readonly publicKeyPath: string;
  /** `sha256:<hex>` of the public key's SPKI DER. */
  readonly fingerprint: string;
}

/**
 * Writes `publisher.key` (PKCS#8 PEM, mode 0600) and `publisher.pub` (SPKI PEM) into `outDir`.
 * Refuses (CHAN_ERR_KEY_EXISTS) when either exists, unless `force`.
 */
export async function generatePublisherKey(outDir: string, opts: { force?: boolean } = {}): Promise<PublisherKeyFiles> {
  const privateKeyPath = join(outDir, PRIVATE_KEY_FILE);
  const publicKeyPath = join(outDir, PUBLIC_KEY_FILE);
  if (!opts.force) {
    for (const p of [privateKeyPath, publicKeyPath]) {
      if (
        await stat(p).then(
          () => true,
          () => false,
        )
      )
        throw ChanErr.CHAN_ERR_KEY_EXISTS(p);
    }
  }
  await mkdir(outDir, { recursive: true, mode: 0o700 });
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  const pub = publicKey.export({ type: 'spki', format: 'pem' }).toString();
  await writeFileAtomic(privateKeyPath, Buffer.from(privateKey.export({ type: 'pkcs8', format: 'pem' }).toString()), 0o600);
  await writeFileAtomic(publicKeyPath, Buffer.from(pub), 0o644);
  return { privateKeyPath, publicKeyPath, fingerprint: publicKeyFingerprint(pub) };
}

/** Reads an Ed25519 private key PEM; CHAN_ERR_KEY_INVALID for anything else. */
export async function loadPrivateKey(path: string): Promise<KeyObject> {
  let pem: Buffer;
  try {
    pem = await readFile(path);
  } catch (err) {
    throw ChanErr.CHAN_ERR_KEY_INVALID(`cannot read ${path}: ${(err as Error).message}`, { cause: err });
  }
  let key: KeyObject;
  try {
    key = createPrivateKey({ key: pem, format: 'pem' });
  } catch (err) {
    throw ChanErr.CHAN_ERR_KEY_INVALID(`${path} is not a private key PEM`, { cause: err });
  }
  if (key.asymmetricKeyType !== 'ed25519') throw ChanErr.CHAN_ERR_KEY_INVALID(`${path} holds a ${key.asymmetricKeyType ?? 'unknown'} key`);
  return key;
}

/** Raw 64-byte Ed25519 signature, what `openssl pkeyutl -verify -rawin` checks. */
export const signBytes = (key: KeyObject, data: Uint8Array): Buffer => sign(null, data, key);

export const fingerprintOf = (privateKey: KeyObject): string => publicKeyFingerprint(createPublicKey(privateKey));
