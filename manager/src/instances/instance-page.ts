/**
 * One page of the instance list: `limit` rows (DEFAULT_PAGE when the caller names none) after the
 * cursor, and the cursor of the next page when more follow. Never the whole site at once.
 *
 * @example
 * const { rows, next } = await readPage(store, { limit: 100 });
 */
import { DEFAULT_PAGE, type PageQuery } from '../../protocol/index.js';
import type { InstanceRow, InstanceStore } from './instance-store.js';
import { makeCursor, parseCursor } from './list-cursor.js';

export async function readPage(store: InstanceStore, page: PageQuery): Promise<{ rows: InstanceRow[]; next?: string }> {
  const limit = page.limit ?? DEFAULT_PAGE;
  // One row more than asked tells whether another page follows.
  const rows = await store.page(limit + 1, page.cursor === undefined ? undefined : parseCursor(page.cursor));
  if (rows.length <= limit) return { rows };
  rows.pop();
  const last = rows.at(-1)!;
  return { rows, next: makeCursor(last.created_at, last.id) };
}
