/**
 * A guest's identity: a random token written into its instance layer at launch; the manager keeps
 * only its SHA-256 (`instances.token_hash`).
 *
 * @example
 * const { token, hash } = newGuestToken(); // token into /etc/storm/token, hash into the row
 */
import { createHash, randomBytes } from 'node:crypto';

export const tokenHash = (token: string) => createHash('sha256').update(token, 'utf8').digest('hex');

export function newGuestToken(): { token: string; hash: string } {
  const token = randomBytes(32).toString('base64url');
  return { token, hash: tokenHash(token) };
}
