/**
 * The instance list's cursor: the last row's place in the list's order (created_at, id), opaque
 * to clients (base64url of JSON). A cursor this manager did not make is refused, never guessed at.
 *
 * @example
 * const next = makeCursor(row.created_at, row.id);
 * store.page(100, parseCursor(next));
 */
import { MgrErr } from '../errors.js';

export function makeCursor(createdAt: string, id: string): string {
  return Buffer.from(JSON.stringify([createdAt, id])).toString('base64url');
}

export function parseCursor(cursor: string): { createdAt: string; id: string } {
  try {
    const value: unknown = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    if (Array.isArray(value) && value.length === 2 && typeof value[0] === 'string' && typeof value[1] === 'string')
      return { createdAt: value[0], id: value[1] };
  } catch {
    // not JSON: refused below like any other cursor we did not make
  }
  throw MgrErr.MGR_ERR_VALIDATION(
    `cursor ${JSON.stringify(cursor)} is not one this manager gave: pass the \`next\` of the previous page, or none for the first`,
  );
}
