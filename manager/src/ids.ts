/** Short random ids with a type prefix (`ch-1a2b3c4d`): readable in logs, safe in domain and file names. */
import { randomBytes } from 'node:crypto';

export type IdPrefix = 'ch' | 'host' | 'i' | 'tok' | 'ev' | 'cp' | 'op';

export function newId(prefix: IdPrefix, bytes = 5): string {
  return `${prefix}-${randomBytes(bytes).toString('hex')}`;
}
